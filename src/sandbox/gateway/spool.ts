/**
 * Request bodies streamed to disk: an S3 PutObject or UploadPart body goes straight into a
 * temporary file of the body store while its SHA-256 (the SigV4 payload hash), MD5 (the ETag,
 * `Content-MD5`) and any flexible checksum the request names are computed, so memory held per
 * upload is one socket read, whatever the object's size. Nothing is committed until the request is
 * verified and the service commits the file; {@link SpooledBody.discard} removes it otherwise.
 */
import { createHash } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { BlobStore, BlobWriter } from '../store/blobs.js'
import {
  algorithmOfHeader,
  CHECKSUM_ALGORITHMS,
  checksumHasher,
  type ChecksumAlgorithm,
  type ChecksumHasher,
} from './checksums.js'

/** A request body on disk, with the digests computed while it arrived. */
export interface SpooledBody {
  readonly size: number
  /** SHA-256 of the body, hex (compare with `x-amz-content-sha256`). */
  readonly sha256: string
  /** MD5 of the body (the ETag of a simple upload; `Content-MD5`). */
  readonly md5: Buffer
  /** Flexible checksums (base64) of the algorithms the request named. */
  readonly checksums: Partial<Record<ChecksumAlgorithm, string>>
  /** The temporary file, for a service that stores a transformed copy (SSE-KMS). */
  readonly path: string
  /** Moves the file into the body store unchanged; returns its id. */
  commit(): Promise<string>
  /** Removes the file unless committed. */
  discard(): Promise<void>
}

/** The client went away before sending the whole body: not an error of the sandbox. */
export class ClientGoneError extends Error {
  override readonly name = 'ClientGoneError'
}

/** The algorithms whose checksums a request asks for (headers, trailer list, SDK algorithm). */
export function requestedChecksums(headers: ReadonlyMap<string, readonly string[]>): ChecksumAlgorithm[] {
  const out = new Set<ChecksumAlgorithm>()
  for (const name of headers.keys()) {
    const alg = algorithmOfHeader(name)
    if (alg) out.add(alg)
  }
  const sdk = headers.get('x-amz-sdk-checksum-algorithm')?.[0]?.toLowerCase()
  if (sdk && CHECKSUM_ALGORITHMS.includes(sdk as ChecksumAlgorithm)) out.add(sdk as ChecksumAlgorithm)
  return [...out]
}

/**
 * Streams a request body into the body store, hashing as it goes. Rejects with
 * {@link ClientGoneError} when the connection closes before the body ends.
 */
export async function spoolBody(
  req: IncomingMessage,
  blobs: BlobStore,
  algorithms: readonly ChecksumAlgorithm[],
): Promise<SpooledBody> {
  const writer: BlobWriter = await blobs.writer()
  const md5 = createHash('md5')
  const hashers = new Map<ChecksumAlgorithm, ChecksumHasher>(algorithms.map((a) => [a, checksumHasher(a)]))
  try {
    await new Promise<void>((resolve, reject) => {
      let done = false
      const finish = (e?: unknown): void => {
        if (done) return
        done = true
        if (e) reject(e instanceof Error ? e : new Error('request body failed'))
        else resolve()
      }
      req.on('aborted', () => finish(new ClientGoneError('the client closed the connection mid-body')))
      req.on('error', (e) =>
        finish((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? new ClientGoneError(e.message) : e),
      )
      req.on('close', () => {
        if (!req.complete) finish(new ClientGoneError('the client closed the connection mid-body'))
      })
      // One read at a time: the socket is paused while a chunk is written (backpressure).
      void (async () => {
        try {
          for await (const chunk of req as AsyncIterable<Buffer>) {
            md5.update(chunk)
            for (const h of hashers.values()) h.update(chunk)
            await writer.write(chunk)
          }
          if (!req.complete) throw new ClientGoneError('the client closed the connection mid-body')
          finish()
        } catch (e) {
          finish(e)
        }
      })()
    })
  } catch (e) {
    await writer.abort()
    throw e
  }
  let committed = false
  const checksums: Partial<Record<ChecksumAlgorithm, string>> = {}
  for (const [a, h] of hashers) checksums[a] = h.digest()
  return {
    size: writer.size,
    sha256: writer.sha256()!,
    md5: md5.digest(),
    checksums,
    path: writer.path,
    async commit() {
      committed = true
      return writer.commit()
    },
    async discard() {
      if (!committed) await writer.abort()
    },
  }
}
