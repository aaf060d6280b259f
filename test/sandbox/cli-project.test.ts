// The built CLI's sandbox commands as a user runs them from a project (issue 12, item 6):
// `repo add` takes the definition's account and region, `--detach` on a port in use says which
// port and what to do (no stack trace in sandbox.log either), `--https-port` chooses the HTTPS
// port, `status` of a stopped sandbox says it is not running.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const CLI = fileURLToPath(new URL('../../bin/crosspipe.js', import.meta.url))

function cli(cwd: string, ...args: string[]): Promise<{ status: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 60_000 }, (e, out, err) =>
      resolve({ status: e ? (typeof e.code === 'number' ? e.code : null) : 0, out, err }),
    )
  })
}

async function freePort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const port = (s.address() as AddressInfo).port
  await new Promise((r) => s.close(r))
  return port
}

test('sandbox from a project: repo add uses the definition, --https-port, a port in use, status after stop', async () => {
  const project = mkdtempSync(join(tmpdir(), 'crosspipe-project-'))
  const state = join(project, '.crosspipe', 'sandbox')
  const busy = createServer()
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r))
  const busyPort = (busy.address() as AddressInfo).port
  try {
    assert.equal((await cli(project, 'init')).status, 0)
    spawnSync('git', ['init', '-q', project])

    // A port in use: which port, what to do; one line, and no stack trace in the log.
    const inUse = await cli(project, 'sandbox', '--detach', '--port', String(busyPort))
    assert.equal(inUse.status, 2, inUse.err)
    assert.match(inUse.err, new RegExp(`Port ${busyPort} on 127\\.0\\.0\\.1 is in use .*--port`))
    assert.doesNotMatch(inUse.err, /\n\s+at /)
    const log = readFileSync(join(state, 'sandbox.log'), 'utf8')
    assert.doesNotMatch(log, /\n\s+at |EADDRINUSE.*\n.*node:net/)

    // The HTTPS port is the one asked for (when openssl makes a certificate).
    const httpsPort = await freePort()
    const up = await cli(
      project,
      'sandbox',
      '--detach',
      '--port',
      '0',
      '--https-port',
      String(httpsPort),
      '--accounts',
      'ci=111111111111,dev=222222222222,prod=333333333333',
      '--json',
    )
    assert.equal(up.status, 0, up.err)
    const s = JSON.parse(up.out) as { httpsEndpoint?: string; pid: number }
    const hasOpenssl = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0
    if (hasOpenssl) assert.equal(s.httpsEndpoint, `https://127.0.0.1:${httpsPort}`)

    // repo add from the project: the definition's CI account and region (eu-west-1), not us-east-1.
    const added = await cli(project, 'sandbox', 'repo', 'add', 'my-app', '.', '--json')
    assert.equal(added.status, 0, added.err)
    const rec = JSON.parse(added.out) as { account: string; region: string; path: string }
    assert.deepEqual([rec.account, rec.region], ['111111111111', 'eu-west-1'])
    // Explicit options still win.
    const other = await cli(
      project,
      'sandbox',
      'repo',
      'add',
      'other',
      '.',
      '--region',
      'us-west-2',
      '--json',
    )
    assert.equal(other.status, 0, other.err)
    assert.equal((JSON.parse(other.out) as { region: string }).region, 'us-west-2')

    assert.equal((await cli(project, 'sandbox', 'status')).status, 0)
    assert.equal((await cli(project, 'sandbox', 'stop')).status, 0)
    const after = await cli(project, 'sandbox', 'status')
    assert.equal(after.status, 1)
    assert.match(after.out, /no sandbox is running/)
  } finally {
    await new Promise((r) => busy.close(r))
    spawnSync(process.execPath, [CLI, 'sandbox', 'stop', '--state', state])
    rmSync(project, { recursive: true, force: true })
  }
})
