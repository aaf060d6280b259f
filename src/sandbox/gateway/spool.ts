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
import type { ChunkedDecoder } from './chunked.js'
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
  /** The trailing headers of an aws-chunked body (verified when signed); empty otherwise. */
  readonly trailers: ReadonlyMap<string, string>
  /** Moves the file into the body store unchanged; returns its id. */
  commit(): Promise<string>
  /** Removes the file unless committed. */
  discard(): Promise<void>
}

/** The client went away before sending the whole body: not an error of the sandbox. */
export class ClientGoneError extends Error {
  override readonly name = 'ClientGoneError'
}

/** Bytes gathered before they are written (per upload; one batch more may be being written). */
const WRITE_BATCH_BYTES = 512 * 1024

/** The algorithms whose checksums a request asks for (headers, trailer list, SDK algorithm). */
export function requestedChecksums(headers: ReadonlyMap<string, readonly string[]>): ChecksumAlgorithm[] {
  const out = new Set<ChecksumAlgorithm>()
  for (const name of headers.keys()) {
    const alg = algorithmOfHeader(name)
    if (alg) out.add(alg)
  }
  // An aws-chunked body names its trailing checksum in x-amz-trailer
  // (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html).
  for (const v of headers.get('x-amz-trailer') ?? [])
    for (const name of v.split(',')) {
      const alg = algorithmOfHeader(name.trim())
      if (alg) out.add(alg)
    }
  const sdk = headers.get('x-amz-sdk-checksum-algorithm')?.[0]?.toLowerCase()
  if (sdk && CHECKSUM_ALGORITHMS.includes(sdk as ChecksumAlgorithm)) out.add(sdk as ChecksumAlgorithm)
  return [...out]
}

/**
 * Streams a request body into the body store, hashing as it goes. Rejects with
 * {@link ClientGoneError} when the connection closes before the body ends. With `decoder`, the
 * body is aws-chunked: what is stored and hashed is the decoded data, and the decoder's errors
 * ({@link ChunkedError}: a bad chunk signature, a malformed chunk, too many bytes) reject at once,
 * the socket left open so that the error can be answered.
 */
export async function spoolBody(
  req: IncomingMessage,
  blobs: BlobStore,
  algorithms: readonly ChecksumAlgorithm[],
  decoder?: ChunkedDecoder,
): Promise<SpooledBody> {
  const writer: BlobWriter = await blobs.writer()
  const md5 = createHash('md5')
  const hashers = new Map<ChecksumAlgorithm, ChecksumHasher>(algorithms.map((a) => [a, checksumHasher(a)]))
  let trailers: ReadonlyMap<string, string> = new Map()
  // Socket reads are gathered into batches written with one writev each, one batch written while
  // the next is read (a write per 64 KiB read costs more than the hashing of it).
  let batch: Buffer[] = []
  let batched = 0
  let writing: Promise<void> = Promise.resolve()
  const flush = async (): Promise<void> => {
    await writing
    if (batch.length === 0) return
    const pieces = batch
    batch = []
    batched = 0
    writing = writer.writev(pieces)
    // Awaited by the next flush or at the end; this only keeps a failure from being unhandled.
    writing.catch(() => undefined)
  }
  const take = async (chunk: Buffer): Promise<void> => {
    md5.update(chunk)
    for (const h of hashers.values()) h.update(chunk)
    batch.push(chunk)
    batched += chunk.length
    if (batched >= WRITE_BATCH_BYTES) await flush()
  }
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
      // One read at a time: the socket is paused while a chunk is written (backpressure). An error
      // of ours (a bad chunk signature, a full disk) stops reading without destroying the request,
      // so the answer can still be sent; node:http discards the rest of the body after it.
      void (async () => {
        try {
          for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
            if (!decoder) await take(chunk)
            else for (const piece of decoder.push(chunk)) await take(piece)
          }
          if (!req.complete) throw new ClientGoneError('the client closed the connection mid-body')
          if (decoder) trailers = decoder.end()
          await flush()
          await writing
          finish()
        } catch (e) {
          finish(e)
        }
      })()
    })
  } catch (e) {
    // Reading stopped early (a bad chunk, a full disk): the rest of the body is read and dropped,
    // as node:http does for a body no handler read, so the client gets the answer and the
    // connection stays usable.
    if (!req.complete && !req.destroyed) req.resume()
    await writing.catch(() => undefined)
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
    trailers,
    async commit() {
      committed = true
      return writer.commit()
    },
    async discard() {
      if (!committed) await writer.abort()
    },
  }
}
