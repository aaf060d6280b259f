/**
 * AWS Signature Version 4 verification, for requests as they arrive on the wire.
 *
 * Follows https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html (canonical
 * request, string to sign, signing key) and, for S3, the `Authorization` header, presigned query
 * and `x-amz-content-sha256` rules of
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html.
 * The canonical request is rebuilt from the raw request (raw path, raw query, raw headers), not
 * from a parsed form, so that what is verified is exactly what the client signed.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { MAX_CLOCK_SKEW_MS } from '../config.js'

/** The parts of an HTTP request that signing covers. */
export interface RawRequest {
  readonly method: string
  /** Path exactly as received (percent-encoded), without the query. */
  readonly rawPath: string
  /** Query exactly as received, without the `?`. */
  readonly rawQuery: string
  /** Node's `rawHeaders`: name, value, name, value… */
  readonly rawHeaders: readonly string[]
}

/** What the Authorization header or presigned query says. */
export interface SignatureClaim {
  readonly presigned: boolean
  readonly accessKeyId: string
  /** `yyyymmdd` of the credential scope. */
  readonly scopeDate: string
  readonly region: string
  readonly service: string
  readonly signedHeaders: readonly string[]
  readonly signature: string
  /** `X-Amz-Date` (basic ISO 8601, `yyyymmddThhmmssZ`). */
  readonly amzDate: string
  /** Presigned URLs: validity in seconds. */
  readonly expires?: number
  /** The session token sent, if any (header or query). */
  readonly securityToken?: string
}

/** Why a claim could not even be parsed, in AWS's terms. */
export type ClaimProblem =
  | { readonly kind: 'missing' }
  | { readonly kind: 'malformed'; readonly message: string }
  | { readonly kind: 'sigv2'; readonly presigned: boolean }

/** The empty string's SHA-256, which chunk signatures use for the unused "previous headers" line. */
export const EMPTY_SHA256 = createHash('sha256').update('').digest('hex')

/** SHA-256 hex of a buffer or string. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest()
}

const signingKeyCache = new Map<string, Buffer>()

/** The SigV4 signing key for a secret, date, region and service (cached: it changes daily). */
export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const id = `${secret}\n${date}\n${region}\n${service}`
  let k = signingKeyCache.get(id)
  if (!k) {
    k = hmac(hmac(hmac(hmac('AWS4' + secret, date), region), service), 'aws4_request')
    if (signingKeyCache.size > 10_000) signingKeyCache.clear()
    signingKeyCache.set(id, k)
  }
  return k
}

/** Hex HMAC-SHA256 with a signing key. */
export function signString(key: Buffer, stringToSign: string): string {
  return createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex')
}

/** Constant-time comparison of two hex signatures. */
export function sameSignature(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

/** RFC 3986 encoding as SigV4 wants it: everything but unreserved characters is %XX, upper-case hex. */
export function uriEncode(s: string, keepSlash = false): string {
  let out = ''
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte)
    if (/[A-Za-z0-9\-._~]/.test(c) || (keepSlash && c === '/')) out += c
    else out += '%' + byte.toString(16).toUpperCase().padStart(2, '0')
  }
  return out
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

/** Parses a raw query into decoded pairs, keeping order and duplicates. `+` stays a plus (SigV4 clients encode spaces as %20). */
export function parseRawQuery(rawQuery: string): [string, string][] {
  if (!rawQuery) return []
  return rawQuery
    .split('&')
    .filter((p) => p.length > 0)
    .map((p) => {
      const i = p.indexOf('=')
      return i < 0 ? [safeDecode(p), ''] : [safeDecode(p.slice(0, i)), safeDecode(p.slice(i + 1))]
    })
}

/** The canonical query string: pairs re-encoded strictly, sorted by key then value. */
export function canonicalQuery(pairs: readonly (readonly [string, string])[], omit?: string): string {
  return pairs
    .filter(([k]) => k !== omit)
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&')
}

/**
 * The canonical URI. S3 signs the path as sent (encoded once); every other service signs the
 * normalized path encoded a second time.
 */
export function canonicalUri(rawPath: string, service: string): string {
  const path = rawPath || '/'
  if (service === 's3') return path
  const segments = path.split('/').map((seg) => uriEncode(safeDecode(seg)))
  // Normalization (RFC 3986 section 5.2.4) drops '.' and resolves '..' for non-S3 services.
  const out: string[] = []
  for (const seg of segments.slice(1)) {
    if (seg === '.') continue
    if (seg === '..') out.pop()
    else out.push(seg)
  }
  return '/' + out.join('/')
}

/** Lower-cased header name → values, from Node's rawHeaders. */
export function headerMap(rawHeaders: readonly string[]): Map<string, string[]> {
  const m = new Map<string, string[]>()
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const k = rawHeaders[i]!.toLowerCase()
    const list = m.get(k)
    if (list) list.push(rawHeaders[i + 1]!)
    else m.set(k, [rawHeaders[i + 1]!])
  }
  return m
}

function canonicalHeaders(headers: Map<string, string[]>, signed: readonly string[]): string {
  return signed
    .map((h) => `${h}:${(headers.get(h) ?? []).map((v) => v.trim().replace(/\s+/g, ' ')).join(',')}\n`)
    .join('')
}

const CREDENTIAL_RE = /^([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request$/

function parseCredential(
  value: string,
): { accessKeyId: string; date: string; region: string; service: string } | undefined {
  const m = CREDENTIAL_RE.exec(value)
  if (!m) return undefined
  return { accessKeyId: m[1]!, date: m[2]!, region: m[3]!, service: m[4]! }
}

/**
 * Reads the signature claim of a request: the `Authorization` header or the presigned query.
 * Returns a problem when the request is unsigned or its signature elements are malformed.
 */
export function readClaim(
  headers: Map<string, string[]>,
  query: readonly (readonly [string, string])[],
): SignatureClaim | ClaimProblem {
  const auth = headers.get('authorization')?.[0]
  const q = (k: string): string | undefined => query.find(([n]) => n === k)?.[1]
  // Signature Version 2: `Authorization: AWS AKID:signature`, or a presigned URL with
  // AWSAccessKeyId/Signature/Expires, or awsQuery's SignatureVersion=2 (the AWS CLI v1 and boto3
  // presign S3 URLs this way by default). https://docs.aws.amazon.com/AmazonS3/latest/API/sigv2-auth.html
  if (
    (auth !== undefined && /^AWS [^:\s]+:/.test(auth)) ||
    (auth === undefined && q('AWSAccessKeyId') !== undefined && q('Signature') !== undefined) ||
    (auth === undefined && q('SignatureVersion') === '2')
  )
    return { kind: 'sigv2', presigned: auth === undefined }
  if (auth !== undefined) {
    if (!auth.startsWith('AWS4-HMAC-SHA256 '))
      return { kind: 'malformed', message: `Unsupported authorization type: ${auth.split(' ')[0] ?? ''}` }
    const parts = new Map<string, string>()
    for (const p of auth.slice('AWS4-HMAC-SHA256 '.length).split(',')) {
      const i = p.indexOf('=')
      if (i > 0) parts.set(p.slice(0, i).trim(), p.slice(i + 1).trim())
    }
    const cred = parseCredential(parts.get('Credential') ?? '')
    const signedHeaders = parts.get('SignedHeaders')
    const signature = parts.get('Signature')
    const amzDate = headers.get('x-amz-date')?.[0] ?? ''
    if (!cred || !signedHeaders || !signature)
      return {
        kind: 'malformed',
        message: `Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters. Authorization=${auth}`,
      }
    return {
      presigned: false,
      accessKeyId: cred.accessKeyId,
      scopeDate: cred.date,
      region: cred.region,
      service: cred.service,
      signedHeaders: signedHeaders.split(';'),
      signature,
      amzDate,
      securityToken: headers.get('x-amz-security-token')?.[0],
    }
  }
  const alg = q('X-Amz-Algorithm')
  if (alg === undefined) return { kind: 'missing' }
  if (alg !== 'AWS4-HMAC-SHA256')
    return { kind: 'malformed', message: 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"' }
  const cred = parseCredential(q('X-Amz-Credential') ?? '')
  const signedHeaders = q('X-Amz-SignedHeaders')
  const signature = q('X-Amz-Signature')
  const amzDate = q('X-Amz-Date')
  const expires = Number(q('X-Amz-Expires') ?? 'NaN')
  if (!cred || !signedHeaders || !signature || !amzDate || !Number.isInteger(expires))
    return {
      kind: 'malformed',
      message:
        'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
    }
  return {
    presigned: true,
    accessKeyId: cred.accessKeyId,
    scopeDate: cred.date,
    region: cred.region,
    service: cred.service,
    signedHeaders: signedHeaders.split(';'),
    signature,
    amzDate,
    expires,
    securityToken: q('X-Amz-Security-Token'),
  }
}

/**
 * The longest a presigned URL may be valid: seven days, because a signing key is valid for seven days
 * at most. https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
 */
export const MAX_PRESIGNED_EXPIRES_SECONDS = 604_800

/** A signing rule that a claim breaks, found before its signature is computed. */
export type SigningRuleProblem =
  | { readonly kind: 'host-not-signed' }
  | { readonly kind: 'headers-not-signed'; readonly headers: readonly string[] }
  | { readonly kind: 'bad-expires'; readonly expires: number }

// "because the x-amz-content-sha256 header value is already part of the HashedPayload, you are not
// required to include the x-amz-content-sha256 header as a canonical header"
// (https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html).
const COVERED_WITHOUT_LISTING = new Set(['x-amz-content-sha256'])

/**
 * The rules of what must be signed (gateway SPEC.md, "What must be signed"):
 * - `host` is always a signed header
 *   (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html#create-canonical-request);
 * - every `x-amz-*` header present in the request is a signed header, so that none can be added to a
 *   captured request (https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html,
 *   https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html);
 * - a presigned URL is valid for 604800 seconds at most, and never for a negative time.
 */
export function signingRuleProblem(
  claim: SignatureClaim,
  headers: ReadonlyMap<string, readonly string[]>,
): SigningRuleProblem | undefined {
  const expires = claim.expires ?? 0
  if (claim.presigned && (expires > MAX_PRESIGNED_EXPIRES_SECONDS || expires < 0))
    return { kind: 'bad-expires', expires }
  const signed = new Set(claim.signedHeaders)
  if (!signed.has('host')) return { kind: 'host-not-signed' }
  const unsigned = [...headers.keys()]
    .filter((k) => k.startsWith('x-amz-') && !signed.has(k) && !COVERED_WITHOUT_LISTING.has(k))
    .sort()
  return unsigned.length > 0 ? { kind: 'headers-not-signed', headers: unsigned } : undefined
}

/** Parses `yyyymmddThhmmssZ`; undefined when malformed. */
export function parseAmzDate(s: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s)
  if (!m) return undefined
  const d = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!))
  return Number.isNaN(d.getTime()) ? undefined : d
}

/** Formats a Date as `yyyymmddThhmmssZ`. */
export function formatAmzDate(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')
}

/** The outcome of checking a claim's time against the server clock. */
export type TimeProblem =
  | { readonly kind: 'bad-date' }
  | { readonly kind: 'skewed'; readonly requestTime: Date }
  | { readonly kind: 'expired'; readonly requestTime: Date; readonly expiresAt: Date }
  | { readonly kind: 'not-yet-valid'; readonly requestTime: Date }

/** Checks the signing time: within 15 minutes for header auth, within X-Amz-Expires for presigned URLs. */
export function checkTime(claim: SignatureClaim, now: Date): TimeProblem | undefined {
  const t = parseAmzDate(claim.amzDate)
  if (!t || claim.amzDate.slice(0, 8) !== claim.scopeDate) return { kind: 'bad-date' }
  if (claim.presigned) {
    const expiresAt = new Date(t.getTime() + (claim.expires ?? 0) * 1000)
    if (t.getTime() - now.getTime() > MAX_CLOCK_SKEW_MS) return { kind: 'not-yet-valid', requestTime: t }
    if (now.getTime() > expiresAt.getTime()) return { kind: 'expired', requestTime: t, expiresAt }
    return undefined
  }
  if (Math.abs(now.getTime() - t.getTime()) > MAX_CLOCK_SKEW_MS) return { kind: 'skewed', requestTime: t }
  return undefined
}

/** Inputs to {@link computeSignature}. */
export interface SignatureInput {
  readonly request: RawRequest
  readonly headers: Map<string, string[]>
  readonly query: readonly (readonly [string, string])[]
  readonly claim: SignatureClaim
  /** The hashed-payload line: a hex SHA-256, `UNSIGNED-PAYLOAD` or a `STREAMING-…` literal. */
  readonly payloadHash: string
  readonly secret: string
}

/** The canonical request, string to sign and signature the server expects for a claim. */
export function computeSignature(input: SignatureInput): {
  canonicalRequest: string
  stringToSign: string
  signature: string
  key: Buffer
} {
  const { request, claim } = input
  const canonicalRequest = [
    request.method,
    canonicalUri(request.rawPath, claim.service),
    canonicalQuery(input.query, claim.presigned ? 'X-Amz-Signature' : undefined),
    canonicalHeaders(input.headers, claim.signedHeaders),
    claim.signedHeaders.join(';'),
    input.payloadHash,
  ].join('\n')
  const scope = `${claim.scopeDate}/${claim.region}/${claim.service}/aws4_request`
  const stringToSign = ['AWS4-HMAC-SHA256', claim.amzDate, scope, sha256Hex(canonicalRequest)].join('\n')
  const key = signingKey(input.secret, claim.scopeDate, claim.region, claim.service)
  return { canonicalRequest, stringToSign, signature: signString(key, stringToSign), key }
}
