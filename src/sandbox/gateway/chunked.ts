/**
 * Decoding of `aws-chunked` bodies, with chunk signatures and trailing checksums:
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html and
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html.
 *
 * Format: `hex-size[;chunk-signature=sig]\r\n<data>\r\n` repeated, a zero-size chunk, then
 * optional trailer lines `name:value\r\n` (for signed trailers also
 * `x-amz-trailer-signature:sig\r\n`), then `\r\n`.
 */
import { EMPTY_SHA256, sameSignature, sha256Hex, signString } from './sigv4.js'

/** What signature chaining needs: the seed signature and signing material. */
export interface ChunkSigning {
  readonly key: Buffer
  readonly amzDate: string
  readonly scope: string
  readonly seedSignature: string
}

/** A decoded body, or why it could not be decoded. */
export type ChunkedResult =
  | { readonly ok: true; readonly body: Buffer; readonly trailers: ReadonlyMap<string, string> }
  | {
      readonly ok: false
      readonly reason: 'malformed' | 'signature'
      readonly message: string
      /** S3's error code, when it is not the gateway's default for the reason. */
      readonly code?: 'MalformedTrailerError'
    }

function indexOfCrlf(buf: Buffer, from: number): number {
  return buf.indexOf('\r\n', from, 'latin1')
}

/**
 * Decodes an aws-chunked body. With `signing`, every chunk signature (and the trailer signature
 * when `signedTrailer`) is verified in order, each chained to the previous one; with `signing` and
 * not `signedTrailer`, a trailer is refused (`MalformedTrailerError`).
 */
export function decodeChunked(
  raw: Buffer,
  signing: ChunkSigning | undefined,
  signedTrailer: boolean,
): ChunkedResult {
  const parts: Buffer[] = []
  let pos = 0
  let prev = signing?.seedSignature ?? ''
  for (;;) {
    const eol = indexOfCrlf(raw, pos)
    if (eol < 0) return { ok: false, reason: 'malformed', message: 'Incomplete chunk header.' }
    const header = raw.toString('latin1', pos, eol)
    const [sizeHex, ...exts] = header.split(';')
    if (!sizeHex || !/^[0-9a-fA-F]+$/.test(sizeHex))
      return { ok: false, reason: 'malformed', message: 'Invalid chunk size.' }
    const size = parseInt(sizeHex, 16)
    const start = eol + 2
    const end = start + size
    if (end > raw.length)
      return { ok: false, reason: 'malformed', message: 'Chunk is shorter than its size.' }
    const data = raw.subarray(start, end)
    if (signing) {
      const sig = exts.map((e) => e.split('=')).find(([k]) => k === 'chunk-signature')?.[1]
      if (!sig) return { ok: false, reason: 'signature', message: 'Missing chunk signature.' }
      const sts = [
        'AWS4-HMAC-SHA256-PAYLOAD',
        signing.amzDate,
        signing.scope,
        prev,
        EMPTY_SHA256,
        sha256Hex(data),
      ].join('\n')
      const expected = signString(signing.key, sts)
      if (!sameSignature(expected, sig))
        return {
          ok: false,
          reason: 'signature',
          message: 'The request signature we calculated does not match the signature you provided.',
        }
      prev = sig
    }
    if (size === 0) {
      pos = start
      break
    }
    parts.push(data)
    if (raw.toString('latin1', end, end + 2) !== '\r\n')
      return { ok: false, reason: 'malformed', message: 'Chunk data is not followed by CRLF.' }
    pos = end + 2
  }
  // Trailers: lines until an empty line (or the end of the body).
  const trailers = new Map<string, string>()
  const trailerLines: string[] = []
  let trailerSig: string | undefined
  while (pos < raw.length) {
    const eol = indexOfCrlf(raw, pos)
    const line = raw.toString('latin1', pos, eol < 0 ? raw.length : eol)
    pos = eol < 0 ? raw.length : eol + 2
    if (line === '') continue
    const i = line.indexOf(':')
    if (i <= 0) return { ok: false, reason: 'malformed', message: 'Malformed trailer.' }
    const name = line.slice(0, i).trim().toLowerCase()
    const value = line.slice(i + 1).trim()
    if (name === 'x-amz-trailer-signature') trailerSig = value
    else {
      trailers.set(name, value)
      trailerLines.push(`${name}:${value}\n`)
    }
  }
  // `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` ends with its signed final chunk: a trailer after it would
  // be covered by no signature, so it is refused rather than ignored or used
  // (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html; a trailer needs
  // `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER` and its own signature:
  // https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html).
  if (signing && !signedTrailer && (trailers.size > 0 || trailerSig !== undefined))
    return {
      ok: false,
      reason: 'malformed',
      code: 'MalformedTrailerError',
      message:
        'The request contained trailing data that was not well-formed or did not conform to our published schema.',
    }
  if (signing && signedTrailer) {
    if (!trailerSig) return { ok: false, reason: 'signature', message: 'Missing trailer signature.' }
    const sts = [
      'AWS4-HMAC-SHA256-TRAILER',
      signing.amzDate,
      signing.scope,
      prev,
      sha256Hex(trailerLines.join('')),
    ].join('\n')
    if (!sameSignature(signString(signing.key, sts), trailerSig))
      return {
        ok: false,
        reason: 'signature',
        message: 'The request signature we calculated does not match the signature you provided.',
      }
  }
  return { ok: true, body: parts.length === 1 ? parts[0]! : Buffer.concat(parts), trailers }
}
