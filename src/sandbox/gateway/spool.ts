/**
 * Request bodies streamed to disk: an S3 PutObject or UploadPart body goes straight into a
 * temporary file of the body store while its MD5 (the ETag, `Content-MD5`), the SHA-256 of a
 * signed payload (compared with x-amz-content-sha256) and any flexible checksum the request names
 * are computed, so memory held per upload is a few socket reads, whatever the object's size. The
 * writing and hashing happen on a worker thread (store/body-workers.ts) as the bytes arrive, so
 * the event loop only moves them along. Nothing is committed until the request is verified and
 * the service commits the file; {@link SpooledBody.discard} removes it otherwise.
 */
import type { IncomingMessage } from 'node:http'
import { NATIVE_CRC32, type BlobSpool, type BlobStore } from '../store/blobs.js'
import type { ChunkedDecoder } from './chunked.js'
import {
  algorithmOfHeader,
  CHECKSUM_ALGORITHMS,
  checksumHasher,
  u32Base64,
  type ChecksumAlgorithm,
  type ChecksumHasher,
} from './checksums.js'

/** A request body on disk, with the digests computed while it arrived. */
export interface SpooledBody {
  readonly size: number
  /** SHA-256 of the body, hex, when it was asked for (compare with `x-amz-content-sha256`). */
  readonly sha256?: string
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
 * Flexible checksums the body worker computes (CRC32 always, where Node has zlib.crc32; SHA-256
 * and SHA-1 on request); the others are computed here.
 */
const WORKER_ALGORITHMS: readonly ChecksumAlgorithm[] = NATIVE_CRC32
  ? ['crc32', 'sha256', 'sha1']
  : ['sha256', 'sha1']

/**
 * Streams a request body into the body store, hashing as it goes (`sha256`: compute the body's
 * SHA-256, for a signed payload hash). Rejects with {@link ClientGoneError} when the connection
 * closes before the body ends. With `decoder`, the body is aws-chunked: what is stored and hashed
 * is the decoded data, and the decoder's errors ({@link ChunkedError}: a bad chunk signature, a
 * malformed chunk, too many bytes) reject at once, the socket left open so that the error can be
 * answered.
 */
export async function spoolBody(
  req: IncomingMessage,
  blobs: BlobStore,
  algorithms: readonly ChecksumAlgorithm[],
  decoder: ChunkedDecoder | undefined,
  sha256: boolean,
): Promise<SpooledBody> {
  const spool: BlobSpool = blobs.spool({
    sha256: sha256 || algorithms.includes('sha256'),
    sha1: algorithms.includes('sha1'),
  })
  // CRC32C and CRC64NVME are computed here, before a piece is given to the worker.
  const hashers = new Map<ChecksumAlgorithm, ChecksumHasher>(
    algorithms.filter((a) => !WORKER_ALGORITHMS.includes(a)).map((a) => [a, checksumHasher(a)]),
  )
  let trailers: ReadonlyMap<string, string> = new Map()
  const take = (chunk: Buffer): Promise<void> | undefined => {
    for (const h of hashers.values()) h.update(chunk)
    return spool.push(chunk)
  }
  let digests
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
      // One read at a time; the socket is paused while the worker is behind (backpressure). An
      // error of ours (a bad chunk signature, a full disk) stops reading without destroying the
      // request, so the answer can still be sent; node:http discards the rest of the body after it.
      void (async () => {
        try {
          for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
            if (!decoder) {
              const wait = take(chunk)
              if (wait) await wait
            } else
              for (const piece of decoder.push(chunk)) {
                const wait = take(piece)
                if (wait) await wait
              }
          }
          if (!req.complete) throw new ClientGoneError('the client closed the connection mid-body')
          if (decoder) trailers = decoder.end()
          finish()
        } catch (e) {
          finish(e)
        }
      })()
    })
    digests = await spool.end()
  } catch (e) {
    // Reading stopped early (a bad chunk, a full disk): the rest of the body is read and dropped,
    // as node:http does for a body no handler read, so the client gets the answer and the
    // connection stays usable.
    if (!req.complete && !req.destroyed) req.resume()
    await spool.abort()
    throw e
  }
  let committed = false
  const checksums: Partial<Record<ChecksumAlgorithm, string>> = {}
  for (const [a, h] of hashers) checksums[a] = h.digest()
  if (algorithms.includes('crc32') && digests.crc32 !== undefined) checksums.crc32 = u32Base64(digests.crc32)
  if (algorithms.includes('sha256')) checksums.sha256 = Buffer.from(digests.sha256!, 'hex').toString('base64')
  if (algorithms.includes('sha1')) checksums.sha1 = digests.sha1
  return {
    size: digests.size,
    sha256: digests.sha256,
    md5: digests.md5,
    checksums,
    path: spool.path,
    trailers,
    async commit() {
      committed = true
      return spool.commit()
    },
    async discard() {
      if (!committed) await spool.abort()
    },
  }
}
