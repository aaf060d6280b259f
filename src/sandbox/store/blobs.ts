/**
 * Large object bodies as files (S3 keeps bodies up to 64 KiB in their row instead: see s3/store.ts). A body is written to a temporary file, fsynced, renamed into place and
 * its directory fsynced — all before the metadata row that names it commits. So a row never
 * names a missing or partial file, even after a power loss, and a write the sandbox acknowledged
 * is on disk. A body whose row never committed (killed in between) is an orphan, removed by
 * {@link BlobStore.sweep} at start.
 */
import { randomUUID } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs'
import { open, readFile, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'

/** Content-addressed-by-id file storage for large values. */
export class BlobStore {
  private readonly tmp: string
  /** Shard directories known to exist (creating one is a syscall per write otherwise). */
  private readonly shards = new Set<string>()

  constructor(private readonly dir: string) {
    this.tmp = join(dir, 'tmp')
    // Anything left in tmp/ was never renamed, so never acknowledged.
    rmSync(this.tmp, { recursive: true, force: true })
    mkdirSync(this.tmp, { recursive: true })
  }

  private pathOf(id: string): string {
    return join(this.dir, id.slice(0, 2), id)
  }

  /** Writes a body durably and returns its id. */
  async write(data: Uint8Array): Promise<string> {
    const id = randomUUID().replace(/-/g, '')
    const tmpPath = join(this.tmp, id)
    const fh = await open(tmpPath, 'w')
    try {
      await fh.writeFile(data)
      await fh.sync()
    } finally {
      await fh.close()
    }
    const shard = join(this.dir, id.slice(0, 2))
    if (!this.shards.has(shard)) {
      mkdirSync(shard, { recursive: true })
      this.shards.add(shard)
    }
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
   * Reads a whole body. Small bodies are read synchronously: from the page cache that costs
   * microseconds, less than the four thread-pool round trips of an asynchronous read.
   */
  async read(id: string, size = Infinity): Promise<Buffer> {
    if (size <= 1024 * 1024) return readFileSync(this.pathOf(id))
    return readFile(this.pathOf(id))
  }

  /** Reads bytes [start, end] inclusive. */
  async readRange(id: string, start: number, end: number): Promise<Buffer> {
    const fh = await open(this.pathOf(id), 'r')
    try {
      const buf = Buffer.alloc(end - start + 1)
      const { bytesRead } = await fh.read(buf, 0, buf.length, start)
      return buf.subarray(0, bytesRead)
    } finally {
      await fh.close()
    }
  }

  /** Removes a body whose row is gone; a missing file is not an error. */
  async remove(id: string): Promise<void> {
    await unlink(this.pathOf(id)).catch(() => undefined)
  }

  /** Deletes every body not in `live` (orphans of writes whose row never committed). */
  sweep(live: ReadonlySet<string>): number {
    let removed = 0
    for (const shard of readdirSync(this.dir)) {
      if (shard === 'tmp' || shard.length !== 2) continue
      for (const f of readdirSync(join(this.dir, shard))) {
        if (!live.has(f)) {
          unlinkSync(join(this.dir, shard, f))
          removed++
        }
      }
    }
    return removed
  }
}
