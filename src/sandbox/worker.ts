/**
 * Entry of the process's sandbox thread (`startSandbox` with `thread: 'worker'`, thread.ts): starts
 * and stops sandboxes on this thread as the caller asks, each with the options of its `start`
 * message, and posts what each emits and its accounts to the caller, tagged with its id.
 *
 * A start-up failure is posted as data (the caller rebuilds the same `CrosspipeError`); the thread
 * stays up for the next start. A message the protocol does not know is a bug and is thrown, which
 * the caller hears as the worker's `error` event.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { CrosspipeError } from '../model/errors.js'
import type { IoMessage } from '../model/io.js'
import { startSandboxHere, type RunningSandbox } from './index.js'
import {
  IO_HANDOFF_MS,
  type FromWorker,
  type ToWorker,
  type WorkerError,
  type WorkerInput,
} from './thread.js'

if (!parentPort) throw new Error('src/sandbox/worker.ts runs on a worker thread (startSandbox)')
const port = parentPort
const post = (m: FromWorker): void => port.postMessage(m)
/** [0]: the sequence number of the last I/O message the caller has delivered (thread.ts). */
const delivered = new Int32Array((workerData as { readonly delivered: SharedArrayBuffer }).delivered)
let sequence = 0

/**
 * Hands a message to the caller's I/O host and waits until the caller has delivered it, so that
 * what a request emits (a corrupt object, a full disk) reaches the host before that request's
 * response can: the caller's thread sees the message before the bytes written after it. Messages
 * are rare (start, stop, warnings, errors), so the wait costs nothing on the request path; it gives
 * up after {@link IO_HANDOFF_MS} when the caller's thread does not run its event loop (a
 * synchronous call of its own), and the message is then delivered when it does. Data that cannot
 * be cloned is left out.
 */
function forward(id: number, message: IoMessage): void {
  const seq = ++sequence
  try {
    post({ id, kind: 'io', message, seq })
  } catch {
    post({ id, kind: 'io', message: { ...message, data: undefined }, seq })
  }
  const deadline = Date.now() + IO_HANDOFF_MS
  for (;;) {
    const seen = Atomics.load(delivered, 0)
    const left = deadline - Date.now()
    if (seen >= seq || left <= 0) return
    Atomics.wait(delivered, 0, seen, left)
  }
}

function describe(e: unknown): WorkerError {
  if (e instanceof CrosspipeError)
    return { name: e.name, message: e.message, code: e.code, crosspipe: true, problems: e.problems }
  const err = e instanceof Error ? e : new Error(String(e))
  const code = (err as { code?: unknown }).code
  return {
    name: err.name,
    message: err.message,
    ...(err.stack !== undefined ? { stack: err.stack } : {}),
    ...(typeof code === 'string' ? { code } : {}),
    crosspipe: false,
  }
}

/** The sandboxes this thread runs, by the caller's id; a stop asked before the start finished waits for it. */
const sandboxes = new Map<number, Promise<RunningSandbox | undefined>>()

async function start(id: number, input: WorkerInput): Promise<RunningSandbox | undefined> {
  let sandbox: RunningSandbox
  try {
    sandbox = await startSandboxHere(
      {
        ...input.options,
        thread: 'main',
        ...(input.forwardIo ? { io: { notify: (m: IoMessage) => forward(id, m) } } : {}),
      },
      { onAccounts: (accounts) => post({ id, kind: 'accounts', accounts }) },
    )
  } catch (e) {
    sandboxes.delete(id)
    post({ id, kind: 'failed', error: describe(e) })
    return undefined
  }
  post({
    id,
    kind: 'started',
    sandbox: {
      endpoint: sandbox.endpoint,
      port: sandbox.port,
      region: sandbox.region,
      stateDir: sandbox.stateDir,
      accounts: sandbox.accounts,
      credentialsFile: sandbox.credentialsFile,
      configFile: sandbox.configFile,
      ...(sandbox.httpsEndpoint !== undefined ? { httpsEndpoint: sandbox.httpsEndpoint } : {}),
      ...(sandbox.caFile !== undefined ? { caFile: sandbox.caFile } : {}),
    },
  })
  return sandbox
}

async function stop(id: number): Promise<void> {
  const sandbox = await sandboxes.get(id)
  sandboxes.delete(id)
  if (!sandbox) return
  try {
    await sandbox.stop()
    post({ id, kind: 'stopped' })
  } catch (e) {
    post({ id, kind: 'failed', error: describe(e) })
  }
}

port.on('message', (m: ToWorker) => {
  switch (m.kind) {
    case 'start':
      sandboxes.set(m.id, start(m.id, m.input))
      break
    case 'stop':
      void stop(m.id)
      break
    default:
      throw new Error(`sandbox worker: unknown message ${JSON.stringify(m)}`)
  }
})
