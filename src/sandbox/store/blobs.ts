/**
 * Large object bodies as files (S3 keeps bodies up to 64 KiB in their row instead: see s3/store.ts). A body is written to a temporary file, fsynced, renamed into place and
 * its directory fsynced — all before the metadata row that names it commits. So a row never
 * names a missing or partial file, even after a power loss, and a write the sandbox acknowledged
 * is on disk. A body whose row never committed (killed in between) is an orphan, moved aside by
 * {@link BlobStore.sweep} at start (never deleted: a database that does not match its bodies must
 * not cost the bodies).
 *
 * A body's id carries a checksum of its bytes (`<uuid>.<checksum>`), so the row that names a body
 * also stores its checksum, and reads verify the file against it: a flipped byte or a truncated
 * file is a {@link CorruptBodyError}, never wrong bytes served as good ones. The size is checked
 * on every read; the checksum on the first read and again whenever the file's inode, size, mtime or
 * ctime changed since it was last verified (any write to the file changes its ctime), so a body
 * read again and again is not hashed again and again. Files are
 * private to the sandbox's user (0600, directories 0700).
 *
 * The checksum is a CRC32 (`<uuid>.<8 hex digits>`, zlib's, which Node computes natively at about
 * a sixth of SHA-256's cost). The uuid already makes the id unique; the checksum only has to catch
 * damage, which a CRC32 does as well as a cryptographic hash here: every error confined to 32
 * consecutive bits (a flipped byte) is detected, any other with a probability of 1 − 2⁻³², and a
 * truncated or extended file by the size, checked on its own. A cryptographic hash would add
 * nothing against a deliberate change: whoever can rewrite a body file can rewrite the row that
 * names it. Bodies written by earlier sandboxes are named by their SHA-256 (`<uuid>.<64 hex
 * digits>`), and still read and verified by it — as are new bodies on a Node without
 * `zlib.crc32` (before 20.15) — and the oldest ids carry no checksum (`<uuid>`).
 *
 * Streamed request bodies are written and hashed on worker threads ({@link BlobStore.spool},
 * body-workers.ts); other bodies on the main thread.
 */
import { createHash, randomUUID } from 'node:crypto'
import {
  closeSync,
  createReadStream,
  existsSync,
  fstatSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
} from 'node:fs'
import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import * as zlib from 'node:zlib'
import { BodyWorkers, type BodyDigests } from './body-workers.js'
import { mkdirPrivate } from './state-dir.js'

const FILE_MODE = 0o600

/** A body file that does not match the checksum (or size) its row stores. */
export class CorruptBodyError extends Error {
  override readonly name = 'CorruptBodyError'
  /** The object whose body this is (`s3://bucket/key`), set by the service that read it. */
  object?: string
  constructor(
    readonly blobId: string,
    readonly path: string,
    readonly reason: string,
  ) {
    super(`body ${path} is corrupt: ${reason}`)
  }
}

type Crc32 = (data: Uint8Array, value?: number) => number
/** zlib's CRC32 (Node 20.15 and later). */
const nativeCrc32 = (zlib as unknown as { crc32?: Crc32 }).crc32

/** The 256-entry table of a reflected 32-bit CRC with polynomial `poly` (CRC32: 0xedb88320). */
export function crcTable(poly: number): Uint32Array {
  const t = new Uint32Array(256)
  for (let i = 0; i < 256; i++) {
    let c = i
    for (let k = 0; k < 8; k++) c = c & 1 ? poly ^ (c >>> 1) : c >>> 1
    t[i] = c >>> 0
  }
  return t
}

/**
 * A reflected 32-bit CRC of `data` by its table (init and xorout all ones), chained as zlib.crc32
 * chains it (`value`: the CRC of the bytes before).
 */
export function crcWithTable(table: Uint32Array, data: Uint8Array, value = 0): number {
  let c = ~value >>> 0
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]!) & 0xff]! ^ (c >>> 8)
  return ~c >>> 0
}

const CRC32_TABLE = crcTable(0xedb88320)

/**
 * CRC32 (IEEE) chained as zlib.crc32 chains it (`value`: the CRC32 of the bytes before): zlib's where
 * this Node has it, else a table in JavaScript.
 */
export const crc32: Crc32 = nativeCrc32 ?? ((data, value = 0) => crcWithTable(CRC32_TABLE, data, value))

/** The checksums a body id may carry. */
export type IdChecksum = 'crc32' | 'sha256'

/**
 * Whether this Node computes CRC32 natively: then new bodies are named by it, and the body workers
 * compute it for every streamed body.
 */
export const NATIVE_CRC32 = nativeCrc32 !== undefined

/** The checksum new bodies are named by: CRC32 where Node computes it natively. */
const ID_CHECKSUM: IdChecksum = NATIVE_CRC32 ? 'crc32' : 'sha256'

const CHECKSUM_NAMES: Record<IdChecksum, string> = { crc32: 'CRC32', sha256: 'SHA-256' }

/**
 * The checksum a body id records (by its length: 8 hex digits a CRC32, 64 a SHA-256), or
 * undefined for ids written before ids carried one.
 */
export function checksumOfId(
  id: string,
): { readonly algorithm: IdChecksum; readonly hex: string } | undefined {
  const i = id.indexOf('.')
  if (i < 0) return undefined
  const hex = id.slice(i + 1)
  return { algorithm: hex.length === 8 ? 'crc32' : 'sha256', hex }
}

/** An incremental checksum of a body, as its id records it. */
interface IdHash {
  update(data: Uint8Array): void
  hex(): string
}

function idHash(algorithm: IdChecksum): IdHash {
  if (algorithm === 'sha256') {
    const h = createHash('sha256')
    return { update: (d) => void h.update(d), hex: () => h.digest('hex') }
  }
  let c = 0
  return { update: (d) => void (c = crc32(d, c)), hex: () => crc32Hex(c) }
}

function crc32Hex(c: number): string {
  return (c >>> 0).toString(16).padStart(8, '0')
}

/** A body being written piece by piece (a streamed request body); nothing is visible until {@link BlobWriter.commit}. */
export interface BlobWriter {
  /** Appends bytes (in order; awaits the write). */
  write(data: Uint8Array): Promise<void>
  /** Appends several pieces with one system call where the OS allows (writev). */
  writev(data: readonly Uint8Array[]): Promise<void>
  /** Overwrites bytes already written at an offset (an authentication tag placed before the data). */
  writeAt(data: Uint8Array, position: number): Promise<void>
  /** Bytes written so far. */
  readonly size: number
  /** The temporary file (readable once written; gone after commit or abort). */
  readonly path: string
  /** Fsyncs, names the file by the checksum of its bytes and moves it into place; returns its id. */
  commit(): Promise<string>
  /** Removes the temporary file. */
  abort(): Promise<void>
}

/**
 * A streamed body written and hashed by a worker thread (body-workers.ts); nothing is visible
 * until {@link BlobSpool.commit}.
 */
export interface BlobSpool {
  /** The temporary file (readable once {@link BlobSpool.end} has resolved). */
  readonly path: string
  /**
   * Appends bytes; the buffer is given away (it may be detached). When it returns a promise, await
   * it before pushing more (the worker is behind); it rejects if writing failed.
   */
  push(chunk: Buffer): Promise<void> | undefined
  /** Ends the body: its size and digests (MD5 always; SHA-256 and SHA-1 when asked for). */
  end(): Promise<BodyDigests>
  /** Fsyncs, moves the file into place named by its checksum (after {@link BlobSpool.end}); returns its id. */
  commit(): Promise<string>
  /** Removes the temporary file. */
  abort(): Promise<void>
}

/** Content-addressed-by-id file storage for large values. */
export class BlobStore {
  private readonly tmp: string
  /** Shard directories known to exist (creating one is a syscall per write otherwise). */
  private readonly shards = new Set<string>()
  /** Bodies verified since they last changed on disk: id → stat signature. */
  private readonly verified = new Map<string, string>()
  /** The workers streamed bodies are written by, started with the first. */
  private workers?: BodyWorkers

  constructor(private readonly dir: string) {
    this.tmp = join(dir, 'tmp')
    mkdirPrivate(dir)
    mkdirPrivate(this.tmp)
    // Anything left in tmp/ was never renamed, so never acknowledged.
    for (const f of readdirSync(this.tmp)) void unlink(join(this.tmp, f)).catch(() => undefined)
  }

  /** The file of a body. */
  pathOf(id: string): string {
    return join(this.dir, id.slice(0, 2), id)
  }

  private shard(id: string): string {
    const shard = join(this.dir, id.slice(0, 2))
    if (!this.shards.has(shard)) {
      mkdirPrivate(shard)
      this.shards.add(shard)
    }
    return shard
  }

  private async place(tmpPath: string, uuid: string, digest: string): Promise<string> {
    const id = `${uuid}.${digest}`
    const shard = this.shard(id)
    await rename(tmpPath, this.pathOf(id))
    // The rename is durable only once the directory entry is.
    const dh = await open(shard, 'r')
    try {
      await dh.sync()
    } finally {
      await dh.close()
    }
    return id
  }

  /** Writes a body durably and returns its id. */
  async write(data: Uint8Array): Promise<string> {
    const w = await this.writer()
    try {
      await w.write(data)
      return await w.commit()
    } catch (e) {
      await w.abort()
      throw e
    }
  }

  /** Starts a body written piece by piece, on this thread. */
  async writer(): Promise<BlobWriter> {
    const uuid = randomUUID().replace(/-/g, '')
    const tmpPath = join(this.tmp, uuid)
    const fh: FileHandle = await open(tmpPath, 'w', FILE_MODE)
    let size = 0
    /** The running checksum; undefined once bytes were overwritten (hashed from the file at commit). */
    let hash: IdHash | undefined = idHash(ID_CHECKSUM)
    let committing = false
    let closed = false
    const close = async (): Promise<void> => {
      if (closed) return
      closed = true
      await fh.close()
    }
    return {
      get size() {
        return size
      },
      path: tmpPath,
      write: async (data) => {
        if (committing) throw new Error('BlobWriter: write after commit()')
        hash?.update(data)
        let off = 0
        while (off < data.length) {
          const { bytesWritten } = await fh.write(data, off, data.length - off, size + off)
          off += bytesWritten
        }
        size += data.length
      },
      writev: async (pieces) => {
        if (committing) throw new Error('BlobWriter: write after commit()')
        let total = 0
        for (const p of pieces) {
          hash?.update(p)
          total += p.length
        }
        const { bytesWritten } = await fh.writev(pieces as Uint8Array[], size)
        // A short write (rare for regular files): the rest piece by piece.
        let pos = size + bytesWritten
        let skip = bytesWritten
        for (const p of pieces) {
          if (skip >= p.length) {
            skip -= p.length
            continue
          }
          let off = skip
          skip = 0
          while (off < p.length) {
            const r = await fh.write(p, off, p.length - off, pos)
            off += r.bytesWritten
            pos += r.bytesWritten
          }
        }
        size += total
      },
      writeAt: async (data, position) => {
        // The running checksum no longer describes the file: compute it again at commit.
        hash = undefined
        await fh.write(data, 0, data.length, position)
      },
      commit: async () => {
        committing = true
        await fh.sync()
        await close()
        return this.place(tmpPath, uuid, hash ? hash.hex() : await this.hashFile(tmpPath, ID_CHECKSUM))
      },
      abort: async () => {
        await close().catch(() => undefined)
        await unlink(tmpPath).catch(() => undefined)
      },
    }
  }

  /**
   * Starts a streamed body, written and hashed by a worker thread as it is pushed (`sha256`,
   * `sha1`: compute those too — a signed payload's hash, a requested checksum).
   */
  spool(opts: { readonly sha256?: boolean; readonly sha1?: boolean } = {}): BlobSpool {
    const uuid = randomUUID().replace(/-/g, '')
    const tmpPath = join(this.tmp, uuid)
    const job = (this.workers ??= new BodyWorkers()).start(tmpPath, {
      sha256: opts.sha256 === true || ID_CHECKSUM === 'sha256',
      sha1: opts.sha1,
    })
    let digests: BodyDigests | undefined
    return {
      path: tmpPath,
      push: (chunk) => job.push(chunk),
      end: async () => (digests = await job.end()),
      commit: async () => {
        if (!digests) throw new Error('BlobSpool: commit before end()')
        const id = `${uuid}.${ID_CHECKSUM === 'crc32' ? crc32Hex(digests.crc32!) : digests.sha256!}`
        await job.commit(this.pathOf(id), this.shard(id))
        return id
      },
      abort: async () => {
        await job.abort().catch(() => undefined)
        // A worker that died cannot have removed it.
        await unlink(tmpPath).catch(() => undefined)
      },
    }
  }

  /** Stops the workers of streamed bodies (the sandbox is stopping). */
  close(): void {
    this.workers?.close()
  }

  private hashFile(path: string, algorithm: IdChecksum): Promise<string> {
    return new Promise((resolve, reject) => {
      const h = idHash(algorithm)
      createReadStream(path, { highWaterMark: 1024 * 1024 })
        .on('data', (c) => h.update(c as Buffer))
        .on('end', () => resolve(h.hex()))
        .on('error', reject)
    })
  }

  /** Throws unless `data` has the checksum `id` records. */
  private checkSum(id: string, data: Uint8Array): void {
    const want = checksumOfId(id)
    if (want === undefined) return
    const h = idHash(want.algorithm)
    h.update(data)
    if (h.hex() !== want.hex)
      throw new CorruptBodyError(
        id,
        this.pathOf(id),
        `its ${CHECKSUM_NAMES[want.algorithm]} differs from the one recorded`,
      )
  }

  private signature(s: { ino: number; size: number; mtimeMs: number; ctimeMs: number }): string {
    return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`
  }

  private check(
    id: string,
    data: Buffer,
    size: number | undefined,
    st: { ino: number; size: number; mtimeMs: number; ctimeMs: number },
  ): void {
    if (size !== undefined && Number.isFinite(size) && data.length !== size)
      throw new CorruptBodyError(id, this.pathOf(id), `${data.length} bytes on disk, ${size} recorded`)
    const sig = this.signature(st)
    if (this.verified.get(id) === sig) return
    this.checkSum(id, data)
    this.remember(id, sig)
  }

  private remember(id: string, sig: string): void {
    if (this.verified.size > 10_000) this.verified.clear()
    this.verified.set(id, sig)
  }

  private missing(id: string, e: unknown): never {
    if (e instanceof CorruptBodyError) throw e
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new CorruptBodyError(id, this.pathOf(id), 'the file is missing')
    throw e
  }

  /**
   * Reads a whole body, verified against its checksum. Small bodies are read synchronously: from
   * the page cache that costs microseconds, less than the four thread-pool round trips of an
   * asynchronous read. `size` is the size its row records (a truncated file is corrupt).
   */
  async read(id: string, size?: number): Promise<Buffer> {
    const path = this.pathOf(id)
    try {
      if (size !== undefined && size <= 1024 * 1024) {
        const fd = openSync(path, 'r')
        try {
          const st = fstatSync(fd)
          const data = readFileSync(fd)
          this.check(id, data, size, st)
          return data
        } finally {
          closeSync(fd)
        }
      }
      const fh = await open(path, 'r')
      try {
        const st = await fh.stat()
        const data = await fh.readFile()
        this.check(id, data, size, st)
        return data
      } finally {
        await fh.close()
      }
    } catch (e) {
      this.missing(id, e)
    }
  }

  /**
   * Verifies a body on disk without holding it in memory (hashing it in 1 MiB reads), unless it
   * was verified since it last changed. Returns its size.
   */
  async verify(id: string, size?: number): Promise<number> {
    const path = this.pathOf(id)
    let st
    try {
      st = await stat(path)
    } catch (e) {
      this.missing(id, e)
    }
    if (size !== undefined && st.size !== size)
      throw new CorruptBodyError(id, path, `${st.size} bytes on disk, ${size} recorded`)
    const sig = this.signature(st)
    if (this.verified.get(id) === sig) return st.size
    const want = checksumOfId(id)
    if (want !== undefined && (await this.hashFile(path, want.algorithm)) !== want.hex)
      throw new CorruptBodyError(
        id,
        path,
        `its ${CHECKSUM_NAMES[want.algorithm]} differs from the one recorded`,
      )
    this.remember(id, sig)
    return st.size
  }

  /** Reads bytes [start, end] inclusive of a verified body. */
  async readRange(id: string, start: number, end: number, size?: number): Promise<Buffer> {
    await this.verify(id, size)
    const fh = await open(this.pathOf(id), 'r')
    try {
      const buf = Buffer.alloc(end - start + 1)
      const { bytesRead } = await fh.read(buf, 0, buf.length, start)
      if (bytesRead !== buf.length)
        throw new CorruptBodyError(id, this.pathOf(id), 'the file is shorter than recorded')
      return buf
    } finally {
      await fh.close()
    }
  }

  /** Removes a body whose row is gone; a missing file is not an error. */
  async remove(id: string): Promise<void> {
    this.verified.delete(id)
    await unlink(this.pathOf(id)).catch(() => undefined)
  }

  /** Ids of bodies on disk (every shard). */
  ids(): string[] {
    const out: string[] = []
    for (const shard of readdirSync(this.dir)) {
      if (shard === 'tmp' || shard.length !== 2) continue
      for (const f of readdirSync(join(this.dir, shard))) out.push(f)
    }
    return out
  }

  /** True when a body file exists. */
  has(id: string): boolean {
    return existsSync(this.pathOf(id))
  }

  /**
   * Moves every body not in `live` (orphans of writes whose row never committed) to
   * `objects/orphans/`, where the user may inspect or delete them. Returns how many.
   */
  sweep(live: ReadonlySet<string>): number {
    let moved = 0
    const aside = join(this.dir, 'orphans')
    for (const id of this.ids()) {
      if (live.has(id)) continue
      if (moved === 0) mkdirPrivate(aside)
      renameSync(this.pathOf(id), join(aside, id))
      moved++
    }
    return moved
  }

  /** The size of a body file (for tests and checks). */
  sizeOf(id: string): number {
    return statSync(this.pathOf(id)).size
  }
}
