/**
 * Starts moto (`python3 -m moto.server`, installed on this machine image) on a free loopback port
 * for tests that need a CloudFormation/S3/STS endpoint. Returns undefined when moto is missing, so
 * the test can skip visibly. The server runs under `timeout`, so it stops by itself even if the
 * test process dies before killing it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'

export interface Moto {
  /** `http://localhost:<port>`: moto resolves TemplateURLs only when they contain "localhost". */
  readonly endpoint: string
  stop(): void
}

/** Why moto is unavailable, or undefined when it is available. */
export function motoMissing(): string | undefined {
  const r = spawnSync('python3', ['-c', 'import moto.server'], { stdio: 'ignore' })
  return r.status === 0 ? undefined : 'needs moto (python3 -m moto.server), which is not installed here'
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      const port = typeof a === 'object' && a ? a.port : 0
      s.close(() => resolve(port))
    })
  })
}

// MOTO_ACCOUNT_ID would pin every request to one account and disable account selection by
// assumed-role credentials, which the multi-account tests rely on.
function withoutMotoAccount(): NodeJS.ProcessEnv {
  const env = { ...process.env }
  delete env.MOTO_ACCOUNT_ID
  return env
}

export async function startMoto(lifetimeSeconds = 300): Promise<Moto> {
  const port = await freePort()
  const child: ChildProcess = spawn(
    'timeout',
    [String(lifetimeSeconds), 'python3', '-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)],
    { stdio: 'ignore', env: withoutMotoAccount() },
  )
  const endpoint = `http://localhost:${port}`
  const deadline = Date.now() + 20_000
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/moto-api/`)
      if (r.status < 500) break
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      child.kill()
      throw new Error('moto did not start within 20 s')
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  return { endpoint, stop: () => void child.kill() }
}
