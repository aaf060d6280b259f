/**
 * The caller's half of a sandbox on a worker thread ({@link StartSandboxOptions.thread}): starts
 * the sandbox on the process's sandbox thread (worker.ts), forwards what it emits to the caller's
 * I/O host, rebuilds a start-up failure as the error the sandbox threw, and stops it.
 *
 * Why a thread at all: in one process, every call a client makes to the sandbox is signed, sent,
 * verified, authorized and answered on one thread (about 1.75 ms of CPU per call, most of it the
 * SDK's side), so `deploy()` into an in-process sandbox was CPU-bound on one core. On a worker the
 * sandbox's half runs on another core.
 *
 * One thread serves every sandbox of the process, one after another or side by side (as the main
 * thread did), and outlives them: a sandbox's stop() resolves once its server is closed, its
 * database closed and its lock released, and the thread then waits, unreferenced (it keeps no
 * process alive), for the next start. A fresh thread per sandbox would load the sandbox's modules
 * again (about 0.3 s), its first CloudFormation call would load the resource specification again
 * (about 0.4 s of CPU) and its code would run unoptimized again — a process that starts several
 * sandboxes (tests, benchmarks) would pay that each time, where the main thread paid it once.
 * A thread that dies (an uncaught error, terminated) takes its sandboxes with it: each one's I/O
 * host hears it, their stop() resolves, and the next start gets a new thread.
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
import { emit, type IoHost, type IoMessage } from '../model/io.js'
import type { RunningSandbox, SandboxAccount, SandboxState, StartSandboxOptions } from './index.js'

/** What the worker gets for one sandbox: the options that can cross threads, and whether anyone listens to messages. */
export interface WorkerInput {
  readonly options: Omit<StartSandboxOptions, 'io' | 'thread'>
  readonly forwardIo: boolean
}

/** A start-up (or stop) error, as it crosses the thread boundary. */
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

/** Worker → caller, about the sandbox `id`. */
export type FromWorker = { readonly id: number } & (
  | { readonly kind: 'io'; readonly message: IoMessage; readonly seq: number }
  | { readonly kind: 'started'; readonly sandbox: WorkerSandbox }
  | { readonly kind: 'accounts'; readonly accounts: readonly SandboxAccount[] }
  | { readonly kind: 'failed'; readonly error: WorkerError }
  | { readonly kind: 'stopped' }
)

/** Caller → worker. */
export type ToWorker =
  | { readonly kind: 'start'; readonly id: number; readonly input: WorkerInput }
  | { readonly kind: 'stop'; readonly id: number }

/** How long the worker waits for this side to deliver an I/O message before it goes on (worker.ts). */
export const IO_HANDOFF_MS = 1_000

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

/** The error the worker's sandbox threw, rebuilt on this side. */
function rebuild(e: WorkerError): Error {
  if (e.crosspipe) return new CrosspipeError(e.code as ErrorCode, e.message, e.problems ?? [])
  const err = new Error(e.message) as Error & { code?: string }
  err.name = e.name
  if (e.stack !== undefined) err.stack = e.stack
  if (e.code !== undefined) err.code = e.code
  return err
}

/** One sandbox on the thread, as this side follows it. */
interface Tracked {
  readonly io: IoHost | undefined
  readonly stateDir: string
  /** Settles the start: a message from the worker, or the worker's death. */
  onStarted(s: WorkerSandbox): void
  onFailed(e: Error): void
  onAccounts(a: readonly SandboxAccount[]): void
  onStopped(e?: Error): void
  /** The worker died (after `crash` when it threw). */
  onDeath(code: number, crash: Error | undefined): void
}

/** The process's sandbox thread and the sandboxes it runs. */
interface Host {
  readonly worker: Worker
  readonly sandboxes: Map<number, Tracked>
  /** [0]: the sequence number of the last I/O message delivered here, which the worker waits for. */
  readonly delivered: Int32Array
  dead: boolean
  crash?: Error
}

let current: Host | undefined
let nextId = 1

/** Referenced while it runs (or starts) a sandbox, as a server on the main thread would be; not otherwise. */
function holdProcess(h: Host): void {
  if (h.sandboxes.size > 0) h.worker.ref()
  else h.worker.unref()
}

function host(): Host {
  if (current && !current.dead) return current
  const entry = workerEntry()
  const delivered = new SharedArrayBuffer(4)
  const worker = new Worker(entry.script, {
    eval: entry.eval,
    name: 'crosspipe sandbox',
    workerData: { delivered },
    // The sandbox reads the environment as it runs (the builds it starts inherit it): the process's, live.
    env: SHARE_ENV,
    ...(entry.eval ? { execArgv: [] } : {}),
    // Its own stdout/stderr are the process's (a build's output, a bug's stack), not buffered here.
    stdout: false,
    stderr: false,
  })
  const h: Host = { worker, sandboxes: new Map(), delivered: new Int32Array(delivered), dead: false }
  worker.on('message', (m: FromWorker) => {
    const t = h.sandboxes.get(m.id)
    if (m.kind === 'io') {
      try {
        t?.io?.notify(m.message)
      } finally {
        // The worker waits for this before it goes on (worker.ts forward()).
        Atomics.store(h.delivered, 0, m.seq)
        Atomics.notify(h.delivered, 0)
      }
      return
    }
    if (!t) return
    switch (m.kind) {
      case 'accounts':
        t.onAccounts(m.accounts)
        break
      case 'started':
        t.onStarted(m.sandbox)
        break
      case 'failed':
        h.sandboxes.delete(m.id)
        t.onFailed(rebuild(m.error))
        holdProcess(h)
        break
      case 'stopped':
        h.sandboxes.delete(m.id)
        t.onStopped()
        holdProcess(h)
        break
    }
  })
  // An uncaught exception in the worker: the worker exits after this.
  worker.on('error', (e) => (h.crash = e))
  worker.on('exit', (code) => {
    h.dead = true
    if (current === h) current = undefined
    const all = [...h.sandboxes.values()]
    h.sandboxes.clear()
    for (const t of all) t.onDeath(code, h.crash)
  })
  current = h
  return h
}

/** Starts a sandbox on the process's sandbox thread (see the module comment). */
export function startOnWorker(options: StartSandboxOptions): Promise<RunningSandbox> {
  const { io, thread: _thread, ...rest } = options
  const stateDir = resolve(options.stateDir)
  const input: WorkerInput = { options: { ...rest, stateDir }, forwardIo: io !== undefined }
  const h = host()
  const id = nextId++
  return new Promise<RunningSandbox>((resolveStart, rejectStart) => {
    let started: WorkerSandbox | undefined
    let accounts: readonly SandboxAccount[] = []
    let stopping: Promise<void> | undefined
    let stopped: { resolve(): void; reject(e: Error): void } | undefined
    let gone = false
    const stopSettled = new Promise<void>((res, rej) => (stopped = { resolve: res, reject: rej }))
    // Observed here so that a stop failure nobody awaits is not an unhandled rejection.
    stopSettled.catch(() => undefined)
    h.sandboxes.set(id, {
      io,
      stateDir,
      onStarted(s) {
        started = s
        accounts = s.accounts
        resolveStart(running(s))
      },
      onFailed(e) {
        gone = true
        if (started) stopped!.reject(e)
        else rejectStart(e)
      },
      onAccounts(a) {
        accounts = a
      },
      onStopped() {
        gone = true
        stopped!.resolve()
      },
      onDeath(code, crash) {
        gone = true
        if (!started) {
          rejectStart(
            crash ??
              new Error(`sandbox: the worker thread exited with code ${code} before the sandbox started`),
          )
          return
        }
        if (!stopping)
          emit(
            io,
            'error',
            'sandbox.crashed',
            crash
              ? `sandbox: the worker thread running the sandbox on ${started.endpoint} stopped on an unexpected error: ${crash.stack ?? crash.message}`
              : `sandbox: the worker thread running the sandbox on ${started.endpoint} exited with code ${code}`,
          )
        // What the dead sandbox left is cleaned here, so that this process does not report a
        // sandbox running from the directory (readSandboxState trusts its own pid).
        removeOwnState(stateDir)
        stopped!.resolve()
      },
    })
    holdProcess(h)
    h.worker.postMessage({ kind: 'start', id, input } satisfies ToWorker)

    const running = (s: WorkerSandbox): RunningSandbox & { readonly [SANDBOX_WORKER]: Worker } => ({
      [SANDBOX_WORKER]: h.worker,
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
        if (!stopping) {
          if (!gone) h.worker.postMessage({ kind: 'stop', id } satisfies ToWorker)
          stopping = stopSettled
        }
        return stopping
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
