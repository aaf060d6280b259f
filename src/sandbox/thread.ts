/**
 * The caller's half of a sandbox on a worker thread ({@link StartSandboxOptions.thread}): starts
 * the worker (worker.ts), forwards what the sandbox emits to the caller's I/O host, rebuilds a
 * start-up failure as the error the sandbox threw, and stops the worker.
 *
 * Why a thread at all: in one process, every call a client makes to the sandbox is signed, sent,
 * verified, authorized and answered on one thread (about 1.75 ms of CPU per call, two thirds of it
 * the SDK's side), so `deploy()` into an in-process sandbox was CPU-bound on one core. On a worker
 * the sandbox's half runs on another core.
 *
 * The worker entry is a file beside this one: `worker.ts` under tsx (tests, benchmarks), where it
 * is loaded through tsx's API because a Worker in Node 20 does not inherit the `--import tsx`
 * loader, and `worker.js` in the per-file build (dist/src/sandbox) and in the CLI bundle
 * (dist/cli, an entry of its own in scripts/build.mjs), as `detachSandbox` finds process.ts.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { SHARE_ENV, Worker } from 'node:worker_threads'
import { CrosspipeError, type ErrorCode, type InputProblem } from '../model/errors.js'
import { emit, type IoMessage } from '../model/io.js'
import type { RunningSandbox, SandboxAccount, SandboxState, StartSandboxOptions } from './index.js'

/** What the worker gets: the options that can cross threads, and whether anyone listens to messages. */
export interface WorkerInput {
  readonly options: Omit<StartSandboxOptions, 'io' | 'thread'>
  readonly forwardIo: boolean
}

/** A start-up error, as it crosses the thread boundary. */
export interface WorkerError {
  readonly name: string
  readonly message: string
  readonly stack?: string
  /** `CrosspipeError`'s code, or a Node/SQLite error's `code`. */
  readonly code?: string
  readonly crosspipe: boolean
  readonly problems?: readonly InputProblem[]
}

/** The fields of a started sandbox that cross the thread boundary. */
export type WorkerSandbox = Omit<RunningSandbox, 'stop' | 'accounts'> & {
  readonly accounts: readonly SandboxAccount[]
}

/** Worker → caller. */
export type FromWorker =
  | { readonly kind: 'io'; readonly message: IoMessage }
  | { readonly kind: 'started'; readonly sandbox: WorkerSandbox }
  | { readonly kind: 'accounts'; readonly accounts: readonly SandboxAccount[] }
  | { readonly kind: 'failed'; readonly error: WorkerError }
  | { readonly kind: 'stopped' }

/** Caller → worker. */
export type ToWorker = { readonly kind: 'stop' }

/**
 * The Worker behind a sandbox started on one, under this symbol (not part of the public API): the
 * tests use it to make the worker die and check that the caller is not left hanging.
 */
export const SANDBOX_WORKER = Symbol('crosspipe.sandboxWorker')

/** The worker entry, and how to load it. */
function workerEntry(): { readonly script: string | URL; readonly eval: boolean } {
  const here = fileURLToPath(import.meta.url)
  if (!here.endsWith('.ts')) return { script: pathToFileURL(join(dirname(here), 'worker.js')), eval: false }
  const entry = pathToFileURL(join(dirname(here), 'worker.ts')).href
  // tsx's register() before the import: the .ts entry and everything it imports go through tsx.
  const api = import.meta.resolve('tsx/esm/api')
  return {
    script: `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}) })`,
    eval: true,
  }
}

/** The error the worker's sandbox threw at start, rebuilt on this side. */
function rebuild(e: WorkerError): Error {
  if (e.crosspipe) return new CrosspipeError(e.code as ErrorCode, e.message, e.problems ?? [])
  const err = new Error(e.message) as Error & { code?: string }
  err.name = e.name
  if (e.stack !== undefined) err.stack = e.stack
  if (e.code !== undefined) err.code = e.code
  return err
}

/** Starts a sandbox on a worker thread of this process (see the module comment). */
export function startOnWorker(options: StartSandboxOptions): Promise<RunningSandbox> {
  const { io, thread: _thread, ...rest } = options
  const stateDir = resolve(options.stateDir)
  const entry = workerEntry()
  const input: WorkerInput = { options: { ...rest, stateDir }, forwardIo: io !== undefined }
  const worker = new Worker(entry.script, {
    name: 'crosspipe sandbox',
    eval: entry.eval,
    workerData: input,
    // The sandbox reads the environment as it runs (the builds it starts inherit it): the process's, live.
    env: SHARE_ENV,
    ...(entry.eval ? { execArgv: [] } : {}),
    // Its own stdout/stderr are the process's (a build's output, a bug's stack), not buffered here.
    stdout: false,
    stderr: false,
  })
  return new Promise<RunningSandbox>((resolveStart, rejectStart) => {
    let started: WorkerSandbox | undefined
    let accounts: readonly SandboxAccount[] = []
    let failure: Error | undefined
    let stopping: Promise<void> | undefined
    let exited = false
    let crash: Error | undefined
    const exit = new Promise<number>((done) =>
      worker.once('exit', (code) => {
        exited = true
        done(code)
      }),
    )
    worker.on('message', (m: FromWorker) => {
      switch (m.kind) {
        case 'io':
          io?.notify(m.message)
          break
        case 'accounts':
          accounts = m.accounts
          break
        case 'started':
          started = m.sandbox
          accounts = m.sandbox.accounts
          resolveStart(running(m.sandbox))
          break
        case 'failed':
          // At start or at stop; either rejects once the worker has exited (its lock and
          // database are closed by then).
          failure = rebuild(m.error)
          break
        case 'stopped':
          break
      }
    })
    // An uncaught exception in the worker: the worker exits after this.
    worker.on('error', (e) => {
      crash = e
      if (started)
        emit(
          io,
          'error',
          'sandbox.crashed',
          `sandbox: the worker thread running the sandbox on ${started.endpoint} stopped on an unexpected error: ${e.stack ?? e.message}`,
        )
    })
    void exit.then((code) => {
      if (!started) {
        rejectStart(
          failure ??
            crash ??
            new Error(`sandbox: the worker thread exited with code ${code} before the sandbox started`),
        )
        return
      }
      if (stopping) return
      // Died without being asked: what it left is cleaned here, so that this process does not
      // report a sandbox running from the directory (readSandboxState trusts its own pid).
      if (!crash)
        emit(
          io,
          'error',
          'sandbox.crashed',
          `sandbox: the worker thread running the sandbox on ${started.endpoint} exited with code ${code}`,
        )
      removeOwnState(stateDir)
    })

    const running = (s: WorkerSandbox): RunningSandbox & { readonly [SANDBOX_WORKER]: Worker } => ({
      [SANDBOX_WORKER]: worker,
      endpoint: s.endpoint,
      port: s.port,
      region: s.region,
      stateDir: s.stateDir,
      // Accounts added through the admin API appear here too, when the worker's message arrives.
      get accounts() {
        return [...accounts]
      },
      credentialsFile: s.credentialsFile,
      configFile: s.configFile,
      ...(s.httpsEndpoint !== undefined ? { httpsEndpoint: s.httpsEndpoint } : {}),
      ...(s.caFile !== undefined ? { caFile: s.caFile } : {}),
      stop() {
        return (stopping ??= (async () => {
          if (!exited) worker.postMessage({ kind: 'stop' } satisfies ToWorker)
          await exit
          if (failure) throw failure
        })())
      },
    })
  })
}

/** Removes the state file of a sandbox of this process whose worker died (its lock went with it). */
function removeOwnState(stateDir: string): void {
  const file = join(stateDir, 'sandbox.json')
  if (!existsSync(file)) return
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as SandboxState
    if (s.pid === process.pid) rmSync(file, { force: true })
  } catch {
    // Unreadable: not ours to judge.
  }
}
