/**
 * Large object bodies as files (S3 keeps bodies up to 64 KiB in their row instead: see s3/store.ts). A body is written to a temporary file, fsynced, renamed into place and
 * its directory fsynced — all before the metadata row that names it commits. So a row never
 * names a missing or partial file, even after a power loss, and a write the sandbox acknowledged
 * is on disk. A body whose row never committed (killed in between) is an orphan, moved aside by
 * {@link BlobStore.sweep} at start (never deleted: a database that does not match its bodies must
 * not cost the bodies).
 *
 * A body's id carries the SHA-256 of its bytes (`<uuid>.<sha256>`), so the row that names a body
 * also stores its checksum, and reads verify the file against it: a flipped byte or a truncated
 * file is a {@link CorruptBodyError}, never wrong bytes served as good ones. The size is checked
 * on every read; the hash on the first read and again whenever the file's inode, size, mtime or
 * ctime changed since it was last verified (any write to the file changes its ctime), so a body
 * read again and again is not hashed again and again. Files are
 * private to the sandbox's user (0600, directories 0700).
 */
import { createHash, randomUUID, type Hash } from 'node:crypto'
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

/** The SHA-256 (hex) a body id records, or undefined for ids written before ids carried one. */
export function digestOfId(id: string): string | undefined {
  const i = id.indexOf('.')
  return i < 0 ? undefined : id.slice(i + 1)
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
  /** The SHA-256 (hex) of the bytes appended; ends the appending. Undefined after {@link BlobWriter.writeAt}. */
  sha256(): string | undefined
  /**
   * Fsyncs, names the file by the checksum of its bytes on disk (`sha256` when the caller knows it)
   * and moves it into place; returns its id.
   */
  commit(sha256?: string): Promise<string>
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

  /**
   * Writes a body durably and returns its id. `sha256` (hex), when the caller already computed it
   * over exactly these bytes (the gateway verified a signed payload hash), is used for the id
   * instead of hashing the body a second time.
   */
  async write(data: Uint8Array, sha256?: string): Promise<string> {
    const w = await this.writer(sha256 === undefined)
    try {
      await w.write(data)
      return await w.commit(sha256)
    } catch (e) {
      await w.abort()
      throw e
    }
  }

  /** Starts a body written piece by piece (`hashing`: computing its SHA-256 as it is appended). */
  async writer(hashing = true): Promise<BlobWriter> {
    const uuid = randomUUID().replace(/-/g, '')
    const tmpPath = join(this.tmp, uuid)
    const fh: FileHandle = await open(tmpPath, 'w', FILE_MODE)
    let size = 0
    let hash: Hash | undefined = hashing ? createHash('sha256') : undefined
    let digest: string | undefined
    let closed = false
    const sha256 = (): string | undefined => {
      if (digest === undefined && hash) digest = hash.digest('hex')
      return digest
    }
    const close = async (): Promise<void> => {
      if (closed) return
      closed = true
      await fh.close()
    }
    return {
      get size() {
        return size
      },
      sha256,
      path: tmpPath,
      write: async (data) => {
        if (digest !== undefined) throw new Error('BlobWriter: write after sha256()')
        hash?.update(data)
        let off = 0
        while (off < data.length) {
          const { bytesWritten } = await fh.write(data, off, data.length - off, size + off)
          off += bytesWritten
        }
        size += data.length
      },
      writev: async (pieces) => {
        if (digest !== undefined) throw new Error('BlobWriter: write after sha256()')
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
        // The running hash no longer describes the file: compute it again at commit.
        hash = undefined
        digest = undefined
        await fh.write(data, 0, data.length, position)
      },
      commit: async (known?: string) => {
        await fh.sync()
        await close()
        return this.place(tmpPath, uuid, known ?? sha256() ?? (await this.hashFile(tmpPath)))
      },
      abort: async () => {
        await close().catch(() => undefined)
        await unlink(tmpPath).catch(() => undefined)
      },
    }
  }

  private hashFile(path: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const h = createHash('sha256')
      createReadStream(path, { highWaterMark: 1024 * 1024 })
        .on('data', (c) => h.update(c))
        .on('end', () => resolve(h.digest('hex')))
        .on('error', reject)
    })
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
    const want = digestOfId(id)
    if (want !== undefined && createHash('sha256').update(data).digest('hex') !== want)
      throw new CorruptBodyError(id, this.pathOf(id), 'its SHA-256 differs from the one recorded')
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
    const want = digestOfId(id)
    if (want !== undefined && (await this.hashFile(path)) !== want)
      throw new CorruptBodyError(id, path, 'its SHA-256 differs from the one recorded')
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
