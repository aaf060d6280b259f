/**
 * Moves SQLite's WAL checkpoints off the event loop.
 *
 * In WAL mode a commit appends to the `-wal` file; now and then the pages must be copied back into
 * the database file (a checkpoint), which with `synchronous=NORMAL` is where the fsyncs happen
 * (https://www.sqlite.org/wal.html#checkpointing). By default SQLite runs one inside whichever
 * commit pushes the WAL over 1,000 pages, so that one request pays for it: measured under the
 * sandbox benchmark's writes (8 clients, PutObject and AssumeRole), about one statement in 150
 * took over 3 ms and the slowest over 100 ms on a busy disk — the whole tail of the write
 * latencies, while reads stayed fast.
 *
 * So the sandbox's connection turns automatic checkpoints off and a worker thread, with its own
 * connection to the same file, runs a PASSIVE checkpoint a few times a second when something was
 * committed. PASSIVE never waits for and never blocks the writer (it copies what no reader still
 * needs and leaves the rest for the next round), and the worker's fsyncs block only the worker.
 * Durability is unchanged: a commit is in the WAL before the request is answered, as before; a
 * checkpoint only moves it. What a crash leaves in the WAL, SQLite replays at the next open.
 *
 * The worker is inline JavaScript (`eval`) rather than a file beside this one, so the same code
 * runs from the TypeScript sources (tests), the per-file build and the bundled CLI; it loads
 * better-sqlite3 by the absolute path this module resolves.
 */
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import type { Db } from './db.js'

/** How often the worker looks for new commits (ms). */
const INTERVAL_MS = 200

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.module)
const db = new Database(workerData.path, { fileMustExist: true })
const done = new Int32Array(workerData.done)
let version = -1
let closed = false
const close = () => {
  if (closed) return
  closed = true
  clearInterval(timer)
  try { db.close() } finally { Atomics.store(done, 0, 1); Atomics.notify(done, 0) }
}
const timer = setInterval(() => {
  try {
    // data_version changes when another connection commits (sqlite.org/pragma.html#pragma_data_version).
    const v = db.pragma('data_version', { simple: true })
    if (v === version) return
    version = v
    db.pragma('wal_checkpoint(PASSIVE)')
  } catch (e) {
    parentPort.postMessage({ error: String(e && e.message || e) })
  }
}, workerData.interval)
parentPort.on('message', (m) => { if (m === 'stop') close() })
`

/** A running checkpointer; {@link Checkpointer.stop} before the main connection closes. */
export interface Checkpointer {
  /**
   * Closes the worker's connection and waits (briefly, synchronously) until it has, so that the
   * main connection is the last one and its close checkpoints the WAL away.
   */
  stop(): void
}

/**
 * Starts the checkpoint worker for an open database (WAL mode) and turns the connection's own
 * automatic checkpoints off. `onError` hears a checkpoint that failed (the WAL then keeps growing
 * until one succeeds; nothing is lost).
 */
export function startCheckpointer(db: Db, onError: (message: string) => void = () => {}): Checkpointer {
  const done = new SharedArrayBuffer(4)
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      module: createRequire(import.meta.url).resolve('better-sqlite3'),
      path: db.name,
      done,
      interval: INTERVAL_MS,
    },
    // The worker inherits no loader flags (tsx) it does not need: it is plain CommonJS.
    execArgv: [],
    env: {},
  })
  worker.on('message', (m: { error?: string }) => {
    if (m.error) onError(m.error)
  })
  let dead = false
  worker.on('error', (e) => onError(e.message))
  worker.on('exit', () => (dead = true))
  // The sandbox's life is the gateway's; the checkpointer never keeps a process alive by itself.
  // (After the listeners: adding a 'message' listener refs the worker again.)
  worker.unref()
  db.pragma('wal_autocheckpoint = 0')
  let stopped = false
  return {
    stop() {
      if (stopped || dead) return
      stopped = true
      const flag = new Int32Array(done)
      worker.postMessage('stop')
      // The worker answers between two checkpoints; one takes milliseconds. A worker that has not
      // started yet (or died) cannot answer: then terminating it closes its connection as well.
      Atomics.wait(flag, 0, 0, 2_000)
      void worker.terminate()
    },
  }
}
