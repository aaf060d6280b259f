/**
 * Decoding of `aws-chunked` bodies, with chunk signatures and trailing checksums:
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html and
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html.
 *
 * Format: `hex-size[;chunk-signature=sig]\r\n<data>\r\n` repeated, a zero-size chunk, then
 * optional trailer lines `name:value\r\n` (for signed trailers also
 * `x-amz-trailer-signature:sig\r\n`), then `\r\n`.
 *
 * {@link ChunkedDecoder} is incremental: it takes the body in whatever pieces the socket delivers,
 * gives back the decoded data as it goes (slices of the input, never copies of chunk data) and
 * verifies each chunk signature as soon as its chunk ends, so a streamed upload holds one socket
 * read plus at most one chunk header or the trailer section ({@link MAX_LINE},
 * {@link MAX_TRAILER}) whatever its size. {@link decodeChunked} runs it over a whole buffer.
 */
import { createHash, type Hash } from 'node:crypto'
import { EMPTY_SHA256, sameSignature, signString } from './sigv4.js'

/** What signature chaining needs: the seed signature and signing material. */
export interface ChunkSigning {
  readonly key: Buffer
  readonly amzDate: string
  readonly scope: string
  readonly seedSignature: string
}

/** Why a body could not be decoded. */
export type ChunkedFailure = {
  readonly reason: 'malformed' | 'signature' | 'length'
  readonly message: string
  /** S3's error code, when it is not the gateway's default for the reason. */
  readonly code?: 'MalformedTrailerError'
}

/** A decoded body, or why it could not be decoded. */
export type ChunkedResult =
  | { readonly ok: true; readonly body: Buffer; readonly trailers: ReadonlyMap<string, string> }
  | ({ readonly ok: false } & ChunkedFailure)

/** Thrown by {@link ChunkedDecoder} when the body is not a valid (or validly signed) aws-chunked body. */
export class ChunkedError extends Error implements ChunkedFailure {
  override readonly name = 'ChunkedError'
  constructor(
    readonly reason: ChunkedFailure['reason'],
    message: string,
    readonly code?: 'MalformedTrailerError',
  ) {
    super(message)
  }
}

/** Longest chunk header line (size, `;chunk-signature=` and 64 hex digits need 90 bytes). */
const MAX_LINE = 4096
/** Largest trailer section (a few `name:value` lines and the trailer signature). */
const MAX_TRAILER = 16 * 1024

const SIGNATURE_MISMATCH = 'The request signature we calculated does not match the signature you provided.'

type State = 'header' | 'data' | 'data-crlf' | 'trailer'

/**
 * An incremental aws-chunked decoder. With `signing`, every chunk signature (and the trailer
 * signature when `signedTrailer`) is verified in order, each chained to the previous one; with
 * `signing` and not `signedTrailer`, a trailer is refused (`MalformedTrailerError`). With
 * `maxDecoded`, more decoded bytes than that fail at once (reason `length`).
 */
export class ChunkedDecoder {
  private state: State = 'header'
  /** Bytes of a line (or the chunk's closing CRLF, or the trailer section) split across reads. */
  private carry: Buffer[] = []
  private carried = 0
  private remaining = 0
  private chunkHash: Hash | undefined
  private chunkSig = ''
  private prev: string
  private decodedBytes = 0

  constructor(
    private readonly signing: ChunkSigning | undefined,
    private readonly signedTrailer: boolean,
    private readonly maxDecoded = Number.MAX_SAFE_INTEGER,
  ) {
    this.prev = signing?.seedSignature ?? ''
  }

  /** Decoded bytes so far. */
  get decoded(): number {
    return this.decodedBytes
  }

  /**
   * Takes the next piece of the encoded body; returns the decoded data in it (views of `buf`).
   * Throws {@link ChunkedError}.
   */
  push(buf: Buffer): Buffer[] {
    const out: Buffer[] = []
    let pos = 0
    while (pos < buf.length) {
      switch (this.state) {
        case 'header': {
          const nl = buf.indexOf(10, pos)
          if (nl < 0) {
            this.hold(buf.subarray(pos), MAX_LINE, 'Chunk header is too long.')
            pos = buf.length
            break
          }
          const line = this.take(buf.subarray(pos, nl + 1), MAX_LINE, 'Chunk header is too long.')
          pos = nl + 1
          if (line.length < 2 || line[line.length - 2] !== 13)
            throw new ChunkedError('malformed', 'Chunk header is not terminated by CRLF.')
          this.header(line.toString('latin1', 0, line.length - 2))
          break
        }
        case 'data': {
          const n = Math.min(this.remaining, buf.length - pos)
          const piece = buf.subarray(pos, pos + n)
          pos += n
          this.remaining -= n
          this.decodedBytes += n
          if (this.decodedBytes > this.maxDecoded)
            throw new ChunkedError('length', 'The body is longer than x-amz-decoded-content-length.')
          this.chunkHash?.update(piece)
          out.push(piece)
          if (this.remaining === 0) {
            this.verifyChunk(this.chunkHash ? this.chunkHash.digest('hex') : '')
            this.state = 'data-crlf'
          }
          break
        }
        case 'data-crlf': {
          const n = Math.min(2 - this.carried, buf.length - pos)
          this.hold(buf.subarray(pos, pos + n), 2, '')
          pos += n
          if (this.carried === 2) {
            const crlf = this.take(Buffer.alloc(0), 2, '')
            if (crlf[0] !== 13 || crlf[1] !== 10)
              throw new ChunkedError('malformed', 'Chunk data is not followed by CRLF.')
            this.state = 'header'
          }
          break
        }
        case 'trailer':
          // Parsed whole at the end: it is small, and only the end says where it stops.
          this.hold(buf.subarray(pos), MAX_TRAILER, 'The trailer is too long.')
          pos = buf.length
          break
      }
    }
    return out
  }

  /** Ends the body: checks it was complete and returns its trailers (verified when signed). */
  end(): ReadonlyMap<string, string> {
    if (this.state !== 'trailer')
      throw new ChunkedError(
        'malformed',
        this.state === 'data' ? 'Chunk is shorter than its size.' : 'Incomplete chunk header.',
      )
    return this.trailers(this.take(Buffer.alloc(0), MAX_TRAILER, ''))
  }

  private hold(piece: Buffer, max: number, tooLong: string): void {
    if (this.carried + piece.length > max) throw new ChunkedError('malformed', tooLong)
    if (piece.length === 0) return
    this.carry.push(piece)
    this.carried += piece.length
  }

  /** The carried bytes followed by `rest`, and an empty carry. */
  private take(rest: Buffer, max: number, tooLong: string): Buffer {
    if (this.carried + rest.length > max) throw new ChunkedError('malformed', tooLong)
    const all = this.carried === 0 ? rest : Buffer.concat([...this.carry, rest])
    this.carry = []
    this.carried = 0
    return all
  }

  private header(header: string): void {
    const [sizeHex, ...exts] = header.split(';')
    if (!sizeHex || !/^[0-9a-fA-F]{1,13}$/.test(sizeHex))
      throw new ChunkedError('malformed', 'Invalid chunk size.')
    const size = parseInt(sizeHex, 16)
    if (this.signing) {
      const sig = exts.map((e) => e.split('=')).find(([k]) => k === 'chunk-signature')?.[1]
      if (!sig) throw new ChunkedError('signature', 'Missing chunk signature.')
      this.chunkSig = sig
    }
    if (size === 0) {
      this.verifyChunk(EMPTY_SHA256)
      this.state = 'trailer'
      return
    }
    this.remaining = size
    this.chunkHash = this.signing ? createHash('sha256') : undefined
    this.state = 'data'
  }

  private verifyChunk(dataSha256: string): void {
    const s = this.signing
    if (!s) return
    const sts = ['AWS4-HMAC-SHA256-PAYLOAD', s.amzDate, s.scope, this.prev, EMPTY_SHA256, dataSha256].join(
      '\n',
    )
    if (!sameSignature(signString(s.key, sts), this.chunkSig))
      throw new ChunkedError('signature', SIGNATURE_MISMATCH)
    this.prev = this.chunkSig
  }

  private trailers(raw: Buffer): ReadonlyMap<string, string> {
    // Trailers: lines until an empty line (or the end of the body).
    const trailers = new Map<string, string>()
    const trailerLines: string[] = []
    let trailerSig: string | undefined
    let pos = 0
    while (pos < raw.length) {
      const eol = raw.indexOf('\r\n', pos, 'latin1')
      const line = raw.toString('latin1', pos, eol < 0 ? raw.length : eol)
      pos = eol < 0 ? raw.length : eol + 2
      if (line === '') continue
      const i = line.indexOf(':')
      if (i <= 0) throw new ChunkedError('malformed', 'Malformed trailer.')
      const name = line.slice(0, i).trim().toLowerCase()
      const value = line.slice(i + 1).trim()
      if (name === 'x-amz-trailer-signature') trailerSig = value
      else {
        trailers.set(name, value)
        trailerLines.push(`${name}:${value}\n`)
      }
    }
    const s = this.signing
    // `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` ends with its signed final chunk: a trailer after it would
    // be covered by no signature, so it is refused rather than ignored or used
    // (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html; a trailer needs
    // `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER` and its own signature:
    // https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html).
    if (s && !this.signedTrailer && (trailers.size > 0 || trailerSig !== undefined))
      throw new ChunkedError(
        'malformed',
        'The request contained trailing data that was not well-formed or did not conform to our published schema.',
        'MalformedTrailerError',
      )
    if (s && this.signedTrailer) {
      if (!trailerSig) throw new ChunkedError('signature', 'Missing trailer signature.')
      const sts = [
        'AWS4-HMAC-SHA256-TRAILER',
        s.amzDate,
        s.scope,
        this.prev,
        createHash('sha256').update(trailerLines.join('')).digest('hex'),
      ].join('\n')
      if (!sameSignature(signString(s.key, sts), trailerSig))
        throw new ChunkedError('signature', SIGNATURE_MISMATCH)
    }
    return trailers
  }
}

/** Decodes a whole aws-chunked body held in memory (see {@link ChunkedDecoder}). */
export function decodeChunked(
  raw: Buffer,
  signing: ChunkSigning | undefined,
  signedTrailer: boolean,
): ChunkedResult {
  const d = new ChunkedDecoder(signing, signedTrailer)
  try {
    const parts = d.push(raw)
    const trailers = d.end()
    return { ok: true, body: parts.length === 1 ? parts[0]! : Buffer.concat(parts), trailers }
  } catch (e) {
    if (!(e instanceof ChunkedError)) throw e
    return e.code
      ? { ok: false, reason: e.reason, message: e.message, code: e.code }
      : { ok: false, reason: e.reason, message: e.message }
  }
}
