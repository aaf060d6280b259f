/**
 * Entry of a sandbox on a worker thread (`startSandbox` with `thread: 'worker'`, thread.ts): starts
 * the sandbox on this thread with the options in `workerData`, posts what it emits and its
 * accounts to the caller, and stops when asked, then ends the thread.
 *
 * A start-up failure is posted as data (the caller rebuilds the same `CrosspipeError`) and the
 * thread ends with code 2; a message the protocol does not know is a bug and is thrown, which the
 * caller hears as the worker's `error` event.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { CrosspipeError } from '../model/errors.js'
import type { IoMessage } from '../model/io.js'
import { startSandboxHere, type RunningSandbox } from './index.js'
import type { FromWorker, ToWorker, WorkerError, WorkerInput } from './thread.js'

if (!parentPort) throw new Error('src/sandbox/worker.ts runs on a worker thread (startSandbox)')
const port = parentPort
const input = workerData as WorkerInput
const post = (m: FromWorker): void => port.postMessage(m)

/** Posts a message for the caller's I/O host; data that cannot be cloned is left out. */
function forward(message: IoMessage): void {
  try {
    post({ kind: 'io', message })
  } catch {
    post({ kind: 'io', message: { ...message, data: undefined } })
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

let sandbox: RunningSandbox
try {
  sandbox = await startSandboxHere(
    { ...input.options, thread: 'main', ...(input.forwardIo ? { io: { notify: forward } } : {}) },
    { onAccounts: (accounts) => post({ kind: 'accounts', accounts }) },
  )
} catch (e) {
  post({ kind: 'failed', error: describe(e) })
  process.exit(2)
}
post({
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
port.on('message', (m: ToWorker) => {
  if (m.kind !== 'stop') throw new Error(`sandbox worker: unknown message ${JSON.stringify(m)}`)
  // Then the thread ends, even if something (a timer, a socket) still holds its loop.
  sandbox.stop().then(
    () => {
      post({ kind: 'stopped' })
      process.exit(0)
    },
    (e: unknown) => {
      post({ kind: 'failed', error: describe(e) })
      process.exit(1)
    },
  )
})
