/**
 * Writing and hashing streamed request bodies on worker threads, so the event loop is free for
 * other requests while a body arrives.
 *
 * A 1 MiB S3 PutObject costs its MD5 (the ETag S3 answers for a single PUT: about 1.2 ms a MiB on
 * the machine the benchmark runs on), the checksum its file is named by, the SHA-256 of a signed
 * payload (0.6 ms) and the writes of its bytes. On the sandbox's one thread that was most of the
 * CPU of such a request, and it serialized every upload behind every other. Here the bytes read
 * from the socket are handed to a worker as they arrive, in batches, by transfer (no copy: node:http
 * gives each body chunk an ArrayBuffer of its own); the worker appends them to the body's
 * temporary file and hashes them, in order, while the main thread goes on reading the socket and
 * answering other requests. When the body has ended the worker reports its digests; on commit it
 * fsyncs the file, renames it into place and fsyncs the directory, and only then answers, so the
 * durability of a body (blobs.ts) is exactly what it was: the row that names it commits after all
 * of that.
 *
 * Handing the buffers over also takes them off the main thread's heap, whose collections are
 * costly (it holds the service models and every store): measured under 1 MiB PutObjects (8
 * clients, a loaded 2-core machine), copying each chunk into a buffer shared with the worker and
 * letting it go on the main thread cost 4.1 to 4.4 ms of CPU a request, most of the difference in
 * garbage collection, against 2.7 to 2.9 ms handed over. But the worker allocates almost nothing on its own heap, so
 * V8 would collect the buffers it received only every few dozen MiB (three parallel uploads of
 * 320 MiB grew the process by over 100 MiB so). So the worker frees each batch as soon as it is
 * written and hashed: it transfers the buffers into a port whose other end is closed, where a
 * message is dropped at once with what it carries (the HTML standard's "message port post
 * message steps", https://html.spec.whatwg.org/multipage/web-messaging.html#message-port-post-message-steps,
 * which node:worker_threads follows). Memory stays bounded too: the main thread stops reading a
 * body's socket while more than {@link MAX_IN_FLIGHT} of its bytes are with the worker and not yet
 * written (backpressure), so a 100 MiB upload holds about that much, not 100 MiB.
 *
 * The worker is inline JavaScript (`eval`), as the checkpointer's is (checkpointer.ts), so the
 * same code runs from the TypeScript sources (tests), the per-file build and the bundled CLI.
 * Workers start on the first body and never keep the process alive by themselves: a worker is
 * referenced only while the main thread awaits an answer from it.
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'

/**
 * Bytes gathered before they are posted to the worker (one message, one writev). Each message
 * costs the main thread a wake-up of the worker, so a 1 MiB body goes in two: the first also
 * opens the file, the last also ends the body.
 */
const BATCH_BYTES = 512 * 1024
/** A body's bytes with its worker and not yet written, above which its socket is not read. */
const MAX_IN_FLIGHT = 1024 * 1024

const WORKER_SOURCE = `
const { parentPort, MessageChannel } = require('node:worker_threads')
const fs = require('node:fs')
const { createHash } = require('node:crypto')
const crc32 = require('node:zlib').crc32
const jobs = new Map()
// Buffers posted here are freed at once: the other end is closed, so the message is dropped.
const drop = new MessageChannel()
drop.port2.close()
drop.port1.unref()
const errorOf = (e) => ({ code: e && e.code, message: String((e && e.message) || e) })
function writeAll(fd, chunks, position) {
  let list = chunks.filter((c) => c.length > 0)
  while (list.length > 0) {
    let n = fs.writevSync(fd, list, position)
    if (n <= 0) throw new Error('a write of a body made no progress')
    position += n
    let i = 0
    while (i < list.length && n >= list[i].length) n -= list[i++].length
    list = list.slice(i)
    if (n > 0) list[0] = list[0].subarray(n)
  }
}
function cleanup(j, also) {
  if (j.fd !== undefined) {
    try { fs.closeSync(j.fd) } catch {}
    j.fd = undefined
  }
  for (const p of [j.path, also]) if (p) try { fs.unlinkSync(p) } catch {}
}
function open(o) {
  const job = {
    path: o.path, fd: undefined, size: 0, error: undefined, reported: false,
    md5: createHash('md5'), crc: crc32 ? 0 : undefined,
    sha256: o.sha256 ? createHash('sha256') : undefined,
    sha1: o.sha1 ? createHash('sha1') : undefined,
  }
  try { job.fd = fs.openSync(o.path, 'w', 0o600) } catch (e) { job.error = errorOf(e) }
  return job
}
function append(j, chunks) {
  if (j && !j.error) {
    try {
      writeAll(j.fd, chunks, j.size)
      for (const c of chunks) {
        j.md5.update(c)
        if (j.crc !== undefined) j.crc = crc32(c, j.crc)
        if (j.sha256) j.sha256.update(c)
        if (j.sha1) j.sha1.update(c)
        j.size += c.length
      }
    } catch (e) { j.error = errorOf(e) }
  }
  try { drop.port1.postMessage(null, chunks.map((c) => c.buffer)) } catch {}
}
// A message opens a body (its first message), appends bytes, and may end, commit or abort it.
parentPort.on('message', (m) => {
  if (m.open) jobs.set(m.job, open(m.open))
  const j = jobs.get(m.job)
  if (m.chunks) {
    append(j, m.chunks)
    // An ack only when asked for (the main thread nears its limit of bytes in flight), and at
    // once on a failure, so that the main thread stops reading the body.
    const failed = j && j.error && !j.reported
    if (m.ack || failed) {
      if (failed) j.reported = true
      parentPort.postMessage({ t: 'ack', job: m.job, asked: m.ack === true, written: j ? j.size : 0, error: j ? j.error : undefined })
    }
  }
  switch (m.t) {
    case 'end': {
      if (!j || j.error) return parentPort.postMessage({ t: 'reply', rid: m.rid, error: j ? j.error : { message: 'no such body' } })
      parentPort.postMessage({
        t: 'reply', rid: m.rid, size: j.size, md5: j.md5.digest('hex'), crc32: j.crc,
        sha256: j.sha256 ? j.sha256.digest('hex') : undefined,
        sha1: j.sha1 ? j.sha1.digest('base64') : undefined,
      })
      return
    }
    case 'commit': {
      // fsync the file, rename it into place, fsync the directory (the rename is durable only
      // once the directory entry is). The fsyncs run on the thread pool: the worker goes on with
      // other bodies while the disk works.
      let renamed = false
      const failed = (e) => {
        cleanup(j, renamed ? m.final : undefined)
        jobs.delete(m.job)
        parentPort.postMessage({ t: 'reply', rid: m.rid, error: errorOf(e) })
      }
      if (!j || j.error) return failed(j ? j.error : { message: 'no such body' })
      fs.fsync(j.fd, (e) => {
        if (e) return failed(e)
        let dir
        try {
          fs.closeSync(j.fd)
          j.fd = undefined
          fs.renameSync(j.path, m.final)
          renamed = true
          dir = fs.openSync(m.dir, 'r')
        } catch (e) { return failed(e) }
        fs.fsync(dir, (e) => {
          try { fs.closeSync(dir) } catch {}
          if (e) return failed(e)
          jobs.delete(m.job)
          parentPort.postMessage({ t: 'reply', rid: m.rid })
        })
      })
      return
    }
    case 'abort': {
      if (j) cleanup(j)
      jobs.delete(m.job)
      parentPort.postMessage({ t: 'reply', rid: m.rid })
      return
    }
  }
})
`

/** What the worker computed over a body's bytes. */
export interface BodyDigests {
  readonly size: number
  /** MD5 (16 bytes). */
  readonly md5: Buffer
  /** CRC32 (IEEE, as zlib computes it); undefined where this Node has no `zlib.crc32`. */
  readonly crc32?: number
  /** SHA-256, hex, when asked for. */
  readonly sha256?: string
  /** SHA-1, base64, when asked for. */
  readonly sha1?: string
}

/** A body being written and hashed by a worker. */
export interface BodyJob {
  /** The temporary file the worker writes. */
  readonly path: string
  /**
   * Appends bytes. The buffer is given away (it may be detached, so that the worker gets it
   * without a copy): do not use it afterwards. When it returns a promise (the worker is behind),
   * await it before pushing more; it rejects if writing failed (a full disk).
   */
  push(chunk: Buffer): Promise<void> | undefined
  /** Ends the appending; the digests once every byte is written and hashed. */
  end(): Promise<BodyDigests>
  /** Fsyncs the file, renames it to `final` and fsyncs `dir` (final's directory). */
  commit(final: string, dir: string): Promise<void>
  /** Closes and removes the temporary file. */
  abort(): Promise<void>
}

/** An error the worker met (a full disk is ENOSPC, as from node:fs). */
function errorFrom(e: { code?: string; message: string }): Error {
  return Object.assign(new Error(e.message), e.code !== undefined ? { code: e.code } : {})
}

interface Pending {
  resolve(v: Record<string, unknown>): void
  reject(e: Error): void
}

interface JobState {
  /** Bytes posted to the worker. */
  posted: number
  /** Bytes the worker said it had written and hashed (acks are sent when asked for). */
  written: number
  error?: Error
  /** Woken when the worker has taken bytes (or failed). */
  wake?: () => void
}

/** One worker and what the main thread awaits from it. */
class Slot {
  readonly worker: Worker
  readonly replies = new Map<number, Pending>()
  readonly jobs = new Map<number, JobState>()
  /** Messages awaiting an answer (asked-for acks, replies); the worker is referenced while there are any. */
  private awaited = 0
  dead = false

  constructor(private readonly onDead: (s: Slot) => void) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], env: {} })
    this.worker.on('message', (m: Record<string, unknown>) => this.message(m))
    this.worker.on('error', (e) => this.die(e))
    this.worker.on('exit', (code) => this.die(new Error(`the body worker exited (code ${code})`)))
    // After the listeners: adding a 'message' listener refs the worker again.
    this.worker.unref()
  }

  expect(): void {
    if (this.awaited++ === 0) this.worker.ref()
  }

  private answered(): void {
    if (--this.awaited === 0) this.worker.unref()
  }

  post(m: Record<string, unknown>, transfer?: ArrayBuffer[]): void {
    if (this.dead) throw new Error('the body worker is gone')
    this.worker.postMessage(m, transfer)
  }

  request(
    m: Record<string, unknown>,
    rid: number,
    transfer?: ArrayBuffer[],
  ): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      this.replies.set(rid, { resolve, reject })
      this.expect()
      try {
        this.post({ ...m, rid }, transfer)
      } catch (e) {
        this.replies.delete(rid)
        this.answered()
        reject(e instanceof Error ? e : new Error(String(e)))
      }
    })
  }

  private message(m: Record<string, unknown>): void {
    if (m['t'] === 'ack') {
      if (m['asked']) this.answered()
      const j = this.jobs.get(m['job'] as number)
      if (!j) return
      j.written = Math.max(j.written, m['written'] as number)
      if (m['error'] && !j.error) j.error = errorFrom(m['error'] as { code?: string; message: string })
      j.wake?.()
      return
    }
    const p = this.replies.get(m['rid'] as number)
    if (!p) return
    this.replies.delete(m['rid'] as number)
    this.answered()
    if (m['error']) p.reject(errorFrom(m['error'] as { code?: string; message: string }))
    else p.resolve(m)
  }

  /** Fails everything awaited from this worker (it died, or the pool closed). */
  die(e: Error): void {
    if (this.dead) return
    this.dead = true
    this.onDead(this)
    for (const p of this.replies.values()) p.reject(e)
    this.replies.clear()
    for (const j of this.jobs.values()) {
      j.error ??= e
      j.wake?.()
    }
    this.jobs.clear()
    this.worker.unref()
  }
}

/**
 * The pool: bodies are spread over up to one worker per core, at most four, each new body to the
 * worker with the fewest. One per core rather than one per core but one: a worker's MD5 is most
 * of a body's CPU, and the main thread's share (about a third) leaves it idle much of the time, so
 * on two cores a single worker would cap the rate while a core waits. Each body stays on its
 * worker, so its bytes are written and hashed in the order they came.
 */
export class BodyWorkers {
  private readonly slots: Slot[] = []
  private nextJob = 1
  private nextRid = 1
  private closed = false
  private readonly size: number

  constructor(size = Math.max(1, Math.min(4, availableParallelism()))) {
    this.size = size
  }

  private slot(): Slot {
    if (this.closed) throw new Error('the sandbox is stopping')
    if (this.slots.length < this.size) {
      const s = new Slot((dead) => {
        const i = this.slots.indexOf(dead)
        if (i >= 0) this.slots.splice(i, 1)
      })
      this.slots.push(s)
      return s
    }
    return this.slots.reduce((a, b) => (b.jobs.size < a.jobs.size ? b : a))
  }

  /** Starts writing a body to `path` (created 0600); `sha256` and `sha1` computed when asked for. */
  start(path: string, opts: { readonly sha256?: boolean; readonly sha1?: boolean } = {}): BodyJob {
    const slot = this.slot()
    const id = this.nextJob++
    const state: JobState = { posted: 0, written: 0 }
    slot.jobs.set(id, state)
    /** Sent with the first message, which opens the file. */
    let open: Record<string, unknown> | undefined = {
      path,
      sha256: opts.sha256 === true,
      sha1: opts.sha1 === true,
    }
    let batch: Uint8Array[] = []
    let batched = 0
    let ended = false
    /** A message for the worker, with the bytes gathered so far. */
    const message = (m: Record<string, unknown>): [Record<string, unknown>, ArrayBuffer[]] => {
      const out: Record<string, unknown> = { ...m, job: id }
      if (open) out['open'] = open
      open = undefined
      const transfer = batch.map((c) => c.buffer as ArrayBuffer)
      if (batch.length > 0) out['chunks'] = batch
      state.posted += batched
      batch = []
      batched = 0
      return [out, transfer]
    }
    const flush = (): void => {
      if (batch.length === 0) return
      // Past half the limit, the worker is asked to say how far it has got.
      const ack = state.posted + batched - state.written > MAX_IN_FLIGHT / 2
      if (ack) slot.expect()
      try {
        slot.post(...message({ ack }))
      } catch (e) {
        state.error ??= e as Error
      }
    }
    /** Resolves once the worker has caught up (or failed). */
    const caughtUp = (): Promise<void> =>
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (state.error) {
            state.wake = undefined
            reject(state.error)
          } else if (state.posted - state.written <= MAX_IN_FLIGHT) {
            state.wake = undefined
            resolve()
          }
        }
        state.wake = check
        check()
      })
    const request = (m: Record<string, unknown>): Promise<Record<string, unknown>> => {
      const [out, transfer] = message(m)
      return slot.request(out, this.nextRid++, transfer)
    }
    return {
      path,
      push(chunk) {
        if (ended) throw new Error('BodyJob: push after end()')
        if (state.error) return Promise.reject(state.error)
        // A buffer that is its whole ArrayBuffer is transferred; a view into a larger one (a
        // pooled buffer, a piece of a decoded aws-chunked body) is copied into one of its own.
        let own: Uint8Array = chunk
        if (
          chunk.byteOffset !== 0 ||
          chunk.byteLength !== chunk.buffer.byteLength ||
          !(chunk.buffer instanceof ArrayBuffer)
        ) {
          own = new Uint8Array(chunk.length)
          own.set(chunk)
        }
        batch.push(own)
        batched += own.length
        if (batched < BATCH_BYTES) return undefined
        flush()
        return state.posted - state.written <= MAX_IN_FLIGHT ? undefined : caughtUp()
      },
      async end() {
        ended = true
        const r = await request({ t: 'end' })
        if (state.error) throw state.error
        return {
          size: r['size'] as number,
          md5: Buffer.from(r['md5'] as string, 'hex'),
          crc32: r['crc32'] as number | undefined,
          sha256: r['sha256'] as string | undefined,
          sha1: r['sha1'] as string | undefined,
        }
      },
      async commit(final, dir) {
        try {
          await request({ t: 'commit', final, dir })
        } finally {
          slot.jobs.delete(id)
        }
      },
      async abort() {
        ended = true
        batch = []
        batched = 0
        try {
          // Nothing was sent: the worker never opened the file.
          if (!slot.dead && !open) await request({ t: 'abort' })
        } finally {
          slot.jobs.delete(id)
        }
      },
    }
  }

  /** Stops every worker; what was awaited from them fails. */
  close(): void {
    if (this.closed) return
    this.closed = true
    for (const s of [...this.slots]) {
      s.die(new Error('the sandbox is stopping'))
      void s.worker.terminate()
    }
  }
}
