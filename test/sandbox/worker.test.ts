// The sandbox on a worker thread (startSandbox's default in-process): the same RunningSandbox as on
// the caller's thread, messages forwarded to the caller's I/O host, start-up errors unchanged, one
// thread reused by the process's sandboxes, a worker that dies does not leave the caller hanging,
// and nothing keeps the process alive after stop.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Worker } from 'node:worker_threads'
import { CreateBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3'
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { CrosspipeError } from '../../src/model/errors.js'
import { recordingIo } from '../../src/model/io.js'
import {
  readSandboxState,
  startSandbox,
  type RunningSandbox,
  type StartSandboxOptions,
} from '../../src/sandbox/index.js'
import { stateDirLocked } from '../../src/sandbox/store/state-dir.js'
import { SANDBOX_WORKER } from '../../src/sandbox/thread.js'

const ACCOUNTS = { ci: '111111111111', dev: '222222222222' }
const tmp = () => mkdtempSync(join(tmpdir(), 'crosspipe-worker-'))

function s3(sb: RunningSandbox): S3Client {
  const a = sb.accounts[0]!
  return new S3Client({
    endpoint: sb.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: a.accessKeyId, secretAccessKey: a.secretAccessKey },
    forcePathStyle: true,
    maxAttempts: 1,
  })
}

function workerOf(sb: RunningSandbox): Worker {
  const w = (sb as RunningSandbox & { [SANDBOX_WORKER]?: Worker })[SANDBOX_WORKER]
  assert.ok(w, 'the sandbox runs on a worker')
  return w
}

/** The rejection of a start, as `CrosspipeError` code and message. */
async function startFailure(options: StartSandboxOptions): Promise<{ code: string; message: string }> {
  try {
    const sb = await startSandbox(options)
    await sb.stop()
  } catch (e) {
    assert.ok(e instanceof CrosspipeError, `a CrosspipeError, not ${String(e)}`)
    return { code: e.code, message: e.message }
  }
  throw new Error('expected the start to fail')
}

test('on a worker: serves the accounts, forwards messages, stops (lock released, state file gone)', async () => {
  const dir = tmp()
  const io = recordingIo()
  try {
    const sb = await startSandbox({ stateDir: dir, port: 0, accounts: ACCOUNTS, io })
    workerOf(sb)
    assert.match(sb.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.deepEqual(
      sb.accounts.map((a) => `${a.name}=${a.id}`),
      ['ci=111111111111', 'dev=222222222222'],
    )
    assert.equal(readSandboxState(dir)?.endpoint, sb.endpoint)
    assert.equal(readSandboxState(dir)?.pid, process.pid)
    assert.match(readFileSync(sb.credentialsFile, 'utf8'), /^\[dev\]$/m)
    assert.ok(stateDirLocked(dir), 'the worker holds the lock')
    const dev = sb.accounts[1]!
    const sts = new STSClient({
      endpoint: sb.endpoint,
      region: 'eu-west-1',
      credentials: { accessKeyId: dev.accessKeyId, secretAccessKey: dev.secretAccessKey },
    })
    assert.equal((await sts.send(new GetCallerIdentityCommand({}))).Account, dev.id)
    sts.destroy()
    const started = io.messages.find((m) => m.code === 'sandbox.started')
    assert.ok(started, 'sandbox.started reached the caller')
    assert.ok(started.time instanceof Date)
    assert.equal((started.data as { endpoint: string }).endpoint, sb.endpoint)

    await sb.stop()
    assert.ok(
      io.messages.some((m) => m.code === 'sandbox.stopped'),
      'sandbox.stopped arrives before stop resolves',
    )
    assert.equal(stateDirLocked(dir), false, 'the lock is released when stop resolves')
    assert.equal(existsSync(join(dir, 'sandbox.json')), false)
    await assert.rejects(fetch(`${sb.endpoint}/_crosspipe/accounts`), 'nothing listens any more')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('on a worker: state survives a restart, on a worker and then on the main thread', async () => {
  const dir = tmp()
  try {
    const a = await startSandbox({ stateDir: dir, port: 0, accounts: { ci: '111111111111' } })
    const key = a.accounts[0]!.accessKeyId
    const c = s3(a)
    await c.send(new CreateBucketCommand({ Bucket: 'kept' }))
    c.destroy()
    await a.stop()
    for (const thread of ['worker', 'main'] as const) {
      const b = await startSandbox({ stateDir: dir, port: 0, thread })
      try {
        if (thread === 'worker') assert.equal(workerOf(b), workerOf(a), 'the next sandbox reuses the thread')
        assert.equal(b.accounts[0]!.accessKeyId, key, 'root credentials are kept')
        const c2 = s3(b)
        const names = (await c2.send(new ListBucketsCommand({}))).Buckets?.map((x) => x.Name)
        c2.destroy()
        assert.deepEqual(names, ['kept'], `the bucket is there (${thread})`)
      } finally {
        await b.stop()
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('on a worker: start-up errors are the same CrosspipeErrors as on the main thread', async () => {
  const dir = tmp()
  let busy: Server | undefined
  try {
    // Bad accounts.
    const bad = { stateDir: dir, port: 0, accounts: { ci: '12' } }
    const onWorker = await startFailure({ ...bad, thread: 'worker' })
    assert.deepEqual(onWorker, await startFailure({ ...bad, thread: 'main' }))
    assert.equal(onWorker.code, 'usage')
    assert.match(onWorker.message, /12 digits/)

    // A port in use.
    busy = createServer()
    await new Promise<void>((r) => busy!.listen(0, '127.0.0.1', r))
    const port = (busy.address() as { port: number }).port
    const inUse = await startFailure({ stateDir: dir, port, thread: 'worker' })
    assert.deepEqual(inUse, await startFailure({ stateDir: dir, port, thread: 'main' }))
    assert.equal(inUse.code, 'sandbox')
    assert.match(inUse.message, new RegExp(`Port ${port} on 127\\.0\\.0\\.1 is in use`))
    assert.equal(stateDirLocked(dir), false, 'a failed start leaves the directory unlocked')

    // A state directory in use (by a sandbox on a worker; refused the same way on either thread).
    const holder = await startSandbox({ stateDir: dir, port: 0 })
    try {
      const locked = await startFailure({ stateDir: dir, port: 0, thread: 'worker' })
      assert.deepEqual(locked, await startFailure({ stateDir: dir, port: 0, thread: 'main' }))
      assert.equal(locked.code, 'sandbox')
      assert.match(locked.message, new RegExp(`already running from .*\\(pid ${process.pid}\\)`))
      // The refused starts changed nothing: the holder still serves.
      const c = s3(holder)
      await c.send(new CreateBucketCommand({ Bucket: 'still-serving' }))
      c.destroy()
    } finally {
      await holder.stop()
    }
  } finally {
    busy?.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('concurrent stop() calls wait for the same close, on either thread', async () => {
  for (const thread of ['worker', 'main'] as const) {
    const dir = tmp()
    try {
      const sb = await startSandbox({ stateDir: dir, port: 0, thread })
      const [a, b] = [sb.stop(), sb.stop()]
      let firstDone = false
      await Promise.all([
        a.then(() => (firstDone = true)),
        b.then(() => assert.ok(stateDirLocked(dir) === false, `${thread}: closed when the second resolves`)),
      ])
      assert.ok(firstDone)
      assert.equal(existsSync(join(dir, 'sandbox.json')), false)
      await sb.stop()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
})

test('a worker that dies: the error is reported, stop() resolves, the directory can be used again', async () => {
  const dir = tmp()
  try {
    // An uncaught error in the worker (a message its protocol does not know is a bug: it throws).
    const io = recordingIo()
    const sb = await startSandbox({ stateDir: dir, port: 0, accounts: ACCOUNTS, io })
    const w = workerOf(sb)
    const exited = new Promise((r) => w.once('exit', r))
    w.postMessage({ kind: 'no such message' })
    await exited
    const crashed = io.messages.find((m) => m.code === 'sandbox.crashed')
    assert.ok(crashed, 'the crash is reported to the I/O host')
    assert.equal(crashed.level, 'error')
    assert.match(crashed.message, /unknown message/)
    await sb.stop()
    assert.equal(readSandboxState(dir), undefined, 'a dead worker is not reported as a running sandbox')
    assert.equal(stateDirLocked(dir), false, "the dead worker's lock is gone")

    // A worker terminated from outside: reported with its exit code; stop() still resolves.
    const io2 = recordingIo()
    const again = await startSandbox({ stateDir: dir, port: 0, io: io2 })
    assert.notEqual(workerOf(again), w, 'a dead thread is replaced')
    await workerOf(again).terminate()
    await again.stop()
    assert.ok(io2.messages.some((m) => m.code === 'sandbox.crashed' && /exited with code 1/.test(m.message)))
    const third = await startSandbox({ stateDir: dir, port: 0 })
    assert.equal(third.accounts.length, 2, 'the state is intact')
    await third.stop()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a process that starts and stops a sandbox on a worker exits by itself (no handle left)', () => {
  const dir = tmp()
  try {
    const script = `
      import { startSandbox } from ${JSON.stringify(new URL('../../src/sandbox/index.ts', import.meta.url).href)}
      const sb = await startSandbox({ stateDir: ${JSON.stringify(dir)}, port: 0 })
      const r = await fetch(sb.endpoint + '/_crosspipe/accounts')
      await sb.stop()
      console.log('stopped', r.status)
    `
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 60_000,
      cwd: new URL('../..', import.meta.url).pathname,
    })
    assert.equal(r.signal, null, `the process did not exit by itself: ${r.stderr}`)
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /^stopped 403$/m)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
