/**
 * Objects: GetObject, HeadObject, PutObject, CopyObject, DeleteObject, DeleteObjects, object
 * tags, GetObjectAcl, GetObjectAttributes, and Object Lock's reads and writes (no bucket here has
 * Object Lock).
 */
import type { Readable } from 'node:stream'
import type {
  CopyObjectOutput,
  CopyObjectRequest,
  DeleteObjectOutput,
  DeleteObjectRequest,
  DeleteObjectsOutput,
  DeleteObjectsRequest,
  DeleteObjectTaggingOutput,
  DeleteObjectTaggingRequest,
  GetObjectAclOutput,
  GetObjectAclRequest,
  GetObjectAttributesOutput,
  GetObjectAttributesRequest,
  GetObjectOutput,
  GetObjectRequest,
  GetObjectRetentionRequest,
  GetObjectTaggingOutput,
  GetObjectTaggingRequest,
  HeadObjectRequest,
  PutObjectOutput,
  PutObjectRequest,
  PutObjectTaggingOutput,
  PutObjectTaggingRequest,
} from '@aws-sdk/client-s3'
import type { RequestContext, RestRequest } from '../../types.js'
import { AwsError, isAwsError } from '../../../errors.js'
import {
  algorithmOfHeader,
  checksum,
  CHECKSUM_ALGORITHMS,
  type ChecksumAlgorithm,
} from '../../../gateway/checksums.js'
import { checkObjectAcl } from '../acl.js'
import type { S3Env } from '../api.js'
import {
  invalidArgument,
  invalidPartNumber,
  invalidRange,
  invalidRequest,
  malformedXml,
  methodNotAllowed,
  noSuchBucket,
  noSuchKey,
  noSuchVersion,
  PART_NUMBER_MESSAGE,
  preconditionFailed,
} from '../errors.js'
import { header, PATH, PAYLOAD, query, type OutputBinding } from '../http.js'
import { operation, Raw, type BucketCall } from '../operation.js'
import type { BucketRecord, ObjectMeta, ObjectRow } from '../store.js'
import { checkTags, md5 } from '../util.js'
import { ownerFullControl } from './bucket-settings.js'

const OWNER = { ExpectedBucketOwner: header('x-amz-expected-bucket-owner') }
const OBJECT = { Bucket: PATH, Key: PATH, ...OWNER }

type Checksums = Pick<
  GetObjectOutput,
  'ChecksumCRC32' | 'ChecksumCRC32C' | 'ChecksumCRC64NVME' | 'ChecksumSHA1' | 'ChecksumSHA256'
>

/** The stored checksums (`crc32` → `ChecksumCRC32`), as output members. */
function checksumMembers(c: Partial<Record<string, string>>): Checksums {
  const out: Record<string, string> = {}
  for (const [alg, v] of Object.entries(c)) if (v) out[`Checksum${alg.toUpperCase()}`] = v
  return out
}

/** The output headers of the checksums (`x-amz-checksum-crc32`…). */
const CHECKSUM_HEADERS = {
  ChecksumCRC32: 'x-amz-checksum-crc32',
  ChecksumCRC32C: 'x-amz-checksum-crc32c',
  ChecksumCRC64NVME: 'x-amz-checksum-crc64nvme',
  ChecksumSHA1: 'x-amz-checksum-sha1',
  ChecksumSHA256: 'x-amz-checksum-sha256',
} as const

const ENCRYPTION_HEADERS = {
  ServerSideEncryption: 'x-amz-server-side-encryption',
  SSEKMSKeyId: 'x-amz-server-side-encryption-aws-kms-key-id',
  BucketKeyEnabled: 'x-amz-server-side-encryption-bucket-key-enabled',
} as const

/** The members of a write's answer (PutObject, CopyObject, CompleteMultipartUpload). */
export function written(
  b: BucketRecord,
  versionId: string,
  meta: ObjectMeta,
): Pick<PutObjectOutput, 'ETag' | 'ServerSideEncryption' | 'VersionId' | 'SSEKMSKeyId' | 'BucketKeyEnabled'> &
  Checksums {
  return {
    ETag: meta.etag,
    ServerSideEncryption: meta.sse,
    VersionId: b.versioning ? versionId : undefined,
    SSEKMSKeyId: meta.sse === 'aws:kms' ? meta.kmsKeyArn : undefined,
    BucketKeyEnabled: meta.bucketKeyEnabled || undefined,
    ...checksumMembers(meta.checksums),
  }
}

// ---- reads ------------------------------------------------------------------

/** The version a read names, authorized as GetObject or GetObjectVersion; a missing one as S3 says. */
export function findForRead(
  env: S3Env,
  ctx: RequestContext,
  req: RestRequest,
  b: BucketRecord,
  key: string,
  versionId: string | undefined,
): ObjectRow {
  env.allow(ctx, req, versionId !== undefined ? 'GetObjectVersion' : 'GetObject', b, key)
  const row =
    versionId !== undefined ? env.store.version(b.name, key, versionId) : env.store.latest(b.name, key)
  if (!row) {
    if (versionId !== undefined) {
      if (!/^[A-Za-z0-9_-]+$|^null$/.test(versionId))
        throw invalidArgument('Invalid version id specified', 'versionId', versionId)
      throw noSuchVersion(key, versionId)
    }
    // Without s3:ListBucket a missing key is reported as AccessDenied, so callers cannot probe
    // for names (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html).
    if (!env.mayList(ctx, req, b)) throw new AwsError('AccessDenied', 'Access Denied', 403)
    throw noSuchKey(key)
  }
  if (row.deleteMarker) {
    if (versionId !== undefined)
      throw new AwsError(
        'MethodNotAllowed',
        'The specified method is not allowed against this resource.',
        405,
        { Method: req.method, ResourceType: 'DeleteMarker' },
        {
          'x-amz-delete-marker': 'true',
          'x-amz-version-id': row.versionId,
        },
      )
    if (!env.mayList(ctx, req, b)) throw new AwsError('AccessDenied', 'Access Denied', 403)
    throw noSuchKey(key, { 'x-amz-delete-marker': 'true', 'x-amz-version-id': row.versionId })
  }
  return row
}

/** The conditions of a read (`If-*`, or a copy's `x-amz-copy-source-if-*`). */
export interface Conditions {
  readonly IfMatch?: string
  readonly IfNoneMatch?: string
  readonly IfModifiedSince?: Date
  readonly IfUnmodifiedSince?: Date
}

/** Throws 412 for a failed If-Match/If-Unmodified-Since; true when the answer is 304 (RFC 9110). */
export function notModified(c: Conditions, row: ObjectRow): boolean {
  const etag = row.meta.etag
  const modified = Date.parse(row.meta.lastModified)
  const matches = (h: string): boolean =>
    h.split(',').some((t) => t.trim() === '*' || t.trim() === etag || `"${t.trim()}"` === etag)
  if (c.IfMatch !== undefined && !matches(c.IfMatch)) throw preconditionFailed('If-Match')
  if (
    c.IfMatch === undefined &&
    c.IfUnmodifiedSince !== undefined &&
    Math.floor(modified / 1000) > Math.floor(c.IfUnmodifiedSince.getTime() / 1000)
  )
    throw preconditionFailed('If-Unmodified-Since')
  if (c.IfNoneMatch !== undefined && matches(c.IfNoneMatch)) return true
  return (
    c.IfNoneMatch === undefined &&
    c.IfModifiedSince !== undefined &&
    Math.floor(modified / 1000) <= Math.floor(c.IfModifiedSince.getTime() / 1000)
  )
}

/** A single byte range per RFC 9110; undefined for none or an ignorable header. */
function parseRange(h: string | undefined, size: number): { start: number; end: number } | undefined {
  if (h === undefined) return undefined
  const m = /^bytes=(\d*)-(\d*)$/.exec(h.trim())
  if (!m || (m[1] === '' && m[2] === '')) return undefined // S3 ignores a malformed Range
  if (m[1] === '') {
    const n = Number(m[2])
    if (n === 0) throw invalidRange(size, h)
    return { start: Math.max(0, size - n), end: size - 1 }
  }
  const start = Number(m[1])
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1)
  if (start >= size || (m[2] !== '' && Number(m[2]) < start)) throw invalidRange(size, h)
  return { start, end }
}

/**
 * The bytes of part `n` of an object, for GetObject and HeadObject's `partNumber`, which
 * "effectively performs a 'ranged' GET request for the part specified"
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html#API_GetObject_RequestSyntax).
 * An object not uploaded in parts is one part. A multipart object's parts are numbered 1 to
 * PartsCount in the order they were put together: a client reads one with each number from 1 to
 * the PartsCount a first part's answer gives, as the SDKs' part-by-part downloads do, so an upload
 * completed from parts 1 and 3 is read as parts 1 and 2. A number beyond the parts is
 * `InvalidPartNumber` (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList).
 */
function partRange(m: ObjectMeta, n: number, key: string): { start: number; end: number } {
  if (n < 1 || n > 10000) throw invalidArgument(PART_NUMBER_MESSAGE, 'partNumber', String(n))
  const sizes = m.partSizes ?? ((m.partsCount ?? 1) === 1 ? [m.size] : undefined)
  if (!sizes)
    throw new AwsError(
      'NotImplemented',
      `The object ${key} was completed by an older crosspipe sandbox, which did not keep the sizes of its ${m.partsCount} parts, so one part of it cannot be read: read it whole or by a byte range, or upload it again.`,
      501,
    )
  if (n > sizes.length) throw invalidPartNumber()
  const start = sizes.slice(0, n - 1).reduce((a, x) => a + x, 0)
  return { start, end: start + sizes[n - 1]! - 1 }
}

type ObjectOutput = Omit<GetObjectOutput, 'Body'> & { Body?: Buffer | Readable }

const READ_INPUT = {
  ...OBJECT,
  VersionId: query('versionId'),
  IfMatch: header('if-match'),
  IfNoneMatch: header('if-none-match'),
  IfModifiedSince: header('if-modified-since', 'timestamp'),
  IfUnmodifiedSince: header('if-unmodified-since', 'timestamp'),
  Range: header('range'),
  PartNumber: query('partNumber', 'integer', PART_NUMBER_MESSAGE),
  ChecksumMode: header('x-amz-checksum-mode'),
  ResponseCacheControl: query('response-cache-control'),
  ResponseContentDisposition: query('response-content-disposition'),
  ResponseContentEncoding: query('response-content-encoding'),
  ResponseContentLanguage: query('response-content-language'),
  ResponseContentType: query('response-content-type'),
  ResponseExpires: query('response-expires'),
} as const

/** GetObject and HeadObject's headers. */
const OBJECT_OUTPUT: OutputBinding<ObjectOutput> = {
  status: (o) => (o.ContentRange ? 206 : 200),
  headers: {
    LastModified: 'last-modified',
    ETag: 'etag',
    AcceptRanges: 'accept-ranges',
    ContentType: 'content-type',
    ...ENCRYPTION_HEADERS,
    StorageClass: 'x-amz-storage-class',
    VersionId: 'x-amz-version-id',
    ContentEncoding: 'content-encoding',
    ContentDisposition: 'content-disposition',
    ContentLanguage: 'content-language',
    CacheControl: 'cache-control',
    ExpiresString: 'expires',
    TagCount: 'x-amz-tagging-count',
    PartsCount: 'x-amz-mp-parts-count',
    ContentRange: 'content-range',
    ContentLength: 'content-length',
    ...CHECKSUM_HEADERS,
  },
  prefixHeaders: { member: 'Metadata', prefix: 'x-amz-meta-' },
}

type ReadInput = {
  [K in keyof typeof READ_INPUT]?: K extends 'IfModifiedSince' | 'IfUnmodifiedSince'
    ? Date
    : K extends 'PartNumber'
      ? number
      : string
}

/** GetObject and HeadObject (`head`: no body, and no KMS call, as S3 checks no KMS permission for HEAD). */
async function read(input: ReadInput, call: BucketCall, head: boolean): Promise<ObjectOutput | Raw> {
  const { env, ctx, req, bucket: b } = call
  const key = input.Key!
  const row = findForRead(env, ctx, req, b, key, input.VersionId)
  if (notModified(input, row))
    return new Raw({
      status: 304,
      headers: { etag: row.meta.etag, 'last-modified': new Date(row.meta.lastModified).toUTCString() },
      body: '',
    })
  const m = row.meta
  const size = m.size
  const part = input.PartNumber
  // A part is a range already: S3 refuses both (InvalidRequest, as it words it).
  if (part !== undefined && input.Range !== undefined)
    throw invalidRequest('Cannot specify both Range header and partNumber query parameter')
  const range = part !== undefined ? partRange(m, part, key) : parseRange(input.Range, size)
  const out: ObjectOutput = {
    LastModified: new Date(m.lastModified),
    ETag: m.etag,
    AcceptRanges: 'bytes',
    ContentType: input.ResponseContentType ?? m.contentType ?? 'binary/octet-stream',
    ServerSideEncryption: m.sse,
    StorageClass: m.storageClass as never,
    VersionId: row.versionId,
    SSEKMSKeyId: m.sse === 'aws:kms' ? m.kmsKeyArn : undefined,
    BucketKeyEnabled: m.bucketKeyEnabled || undefined,
    ContentEncoding: input.ResponseContentEncoding ?? m.contentEncoding,
    ContentDisposition: input.ResponseContentDisposition ?? m.contentDisposition,
    ContentLanguage: input.ResponseContentLanguage ?? m.contentLanguage,
    CacheControl: input.ResponseCacheControl ?? m.cacheControl,
    ExpiresString: input.ResponseExpires ?? m.expires,
    TagCount: m.tagCount || undefined,
    // "Only returned if you specify partNumber in your request and the object was uploaded as a
    // multipart upload" (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html).
    PartsCount: part !== undefined ? m.partsCount || undefined : undefined,
    Metadata: m.userMeta,
    // A range has no stored checksum: S3 returns none for it.
    ...(input.ChecksumMode?.toUpperCase() === 'ENABLED' && !range ? checksumMembers(m.checksums) : {}),
  }
  // An empty part (of an empty object) has no byte range to name: it is answered whole.
  if (range && range.end >= range.start) out.ContentRange = `bytes ${range.start}-${range.end}/${size}`
  if (head) return { ...out, ContentLength: range ? range.end - range.start + 1 : size }
  const streamed = req.streamResponse
    ? await env.streamBody(ctx, b, row, range ?? { start: 0, end: size - 1 })
    : undefined
  if (streamed) return { ...out, ContentLength: range ? range.end - range.start + 1 : size, Body: streamed }
  const body = await env.readBody(ctx, b, row)
  return { ...out, Body: range ? body.subarray(range.start, range.end + 1) : body }
}

/** GetObject (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html). */
export const GetObject = operation<GetObjectRequest, ObjectOutput>({
  name: 'GetObject',
  input: READ_INPUT,
  output: OBJECT_OUTPUT,
  run: (input, call) => read(input as ReadInput, call, false),
})

/** HeadObject: GetObject's headers (`s3:GetObject`). */
export const HeadObject = operation<HeadObjectRequest, ObjectOutput>({
  name: 'HeadObject',
  input: READ_INPUT,
  output: OBJECT_OUTPUT,
  run: (input, call) => read(input as ReadInput, call, true),
})

// ---- writes -----------------------------------------------------------------

/**
 * The headers every object write takes (PutObject, CopyObject, CreateMultipartUpload): content
 * headers, metadata, encryption, storage class, ACL.
 */
export const WRITE_HEADERS = {
  ...OBJECT,
  ACL: header('x-amz-acl'),
  CacheControl: header('cache-control'),
  ContentDisposition: header('content-disposition'),
  ContentEncoding: header('content-encoding'),
  ContentLanguage: header('content-language'),
  ContentType: header('content-type'),
  Expires: header('expires', 'timestamp'),
  Metadata: { in: 'prefix-headers', prefix: 'x-amz-meta-' },
  ServerSideEncryption: header('x-amz-server-side-encryption'),
  SSEKMSKeyId: header('x-amz-server-side-encryption-aws-kms-key-id'),
  BucketKeyEnabled: header('x-amz-server-side-encryption-bucket-key-enabled', 'boolean'),
  StorageClass: header('x-amz-storage-class'),
} as const

/** PutObject's and CopyObject's: the write headers and the object's tags. */
const WRITE_INPUT = { ...WRITE_HEADERS, Tagging: header('x-amz-tagging') } as const

/** Content headers of a write as stored (aws-chunked is a transfer detail, not the object's encoding). */
export function contentOf(input: {
  ContentType?: string
  ContentEncoding?: string
  ContentDisposition?: string
  ContentLanguage?: string
  CacheControl?: string
  Expires?: Date
}): Pick<
  ObjectMeta,
  'contentType' | 'contentEncoding' | 'contentDisposition' | 'contentLanguage' | 'cacheControl' | 'expires'
> {
  const enc = input.ContentEncoding?.split(',')
    .map((s) => s.trim())
    .filter((s) => s && s !== 'aws-chunked')
    .join(',')
  return {
    contentType: input.ContentType,
    contentEncoding: enc || undefined,
    contentDisposition: input.ContentDisposition,
    contentLanguage: input.ContentLanguage,
    cacheControl: input.CacheControl,
    expires: input.Expires?.toUTCString(),
  }
}

const WRITE_OUTPUT = {
  ETag: 'etag',
  VersionId: 'x-amz-version-id',
  ...ENCRYPTION_HEADERS,
  ...CHECKSUM_HEADERS,
} as const

/** PutObject (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html). */
export const PutObject = operation<PutObjectRequest, PutObjectOutput>({
  name: 'PutObject',
  input: {
    ...WRITE_INPUT,
    ChecksumAlgorithm: header('x-amz-sdk-checksum-algorithm'),
  },
  members: {
    // Content-MD5 and the checksum headers (or trailers) of the algorithms the gateway computes
    // are checked against the body (verifyIntegrity).
    ownIntegrity: true,
    honours: ['ChecksumCRC32', 'ChecksumCRC32C', 'ChecksumCRC64NVME', 'ChecksumSHA1', 'ChecksumSHA256'],
  },
  output: { headers: WRITE_OUTPUT },
  async run(input, { env, ctx, req, bucket: b }) {
    const key = input.Key!
    if (Buffer.byteLength(key, 'utf8') > 1024)
      throw new AwsError('KeyTooLongError', 'Your key is too long', 400)
    checkObjectAcl(input.ACL, b)
    const checksums = env.verifyIntegrity(req, req.body)
    const enc = env.encryptionFor(input, b)
    env.allow(ctx, req, 'PutObject', b, key, env.writeContext(req))
    const tagging = input.Tagging
    if (tagging !== undefined) env.allow(ctx, req, 'PutObjectTagging', b, key)
    const sdkAlg = input.ChecksumAlgorithm?.toLowerCase()
    const sp = req.spooled
    if (sdkAlg && CHECKSUM_ALGORITHMS.includes(sdkAlg as ChecksumAlgorithm) && !checksums[sdkAlg])
      checksums[sdkAlg] = sp
        ? sp.checksums[sdkAlg as ChecksumAlgorithm]
        : checksum(sdkAlg as ChecksumAlgorithm, req.body)
    const tags = tagging
      ? [...new URLSearchParams(tagging)].map(([Key, Value]) => ({ Key, Value }))
      : undefined
    const { versionId, meta } = await env.commitObject(
      ctx,
      b,
      key,
      sp ? env.spooledSource(sp) : req.body,
      {
        size: sp ? sp.size : req.body.length,
        etag: `"${(sp ? sp.md5 : md5(req.body)).toString('hex')}"`,
        lastModified: new Date().toISOString(),
        ...contentOf(input),
        userMeta: input.Metadata ?? {},
        checksums,
        storageClass: input.StorageClass ?? 'STANDARD',
        tags,
        tagCount: tags ? tags.length : undefined,
      },
      enc,
    )
    return written(b, versionId, meta)
  },
})

/**
 * The object named by `x-amz-copy-source` (`bucket/key[?versionId=…]`), read-authorized for the
 * caller (s3:GetObject or s3:GetObjectVersion on the source, as findForRead checks).
 */
export function copySource(
  env: S3Env,
  ctx: RequestContext,
  req: RestRequest,
  src: string,
): { sb: BucketRecord; row: ObjectRow; srcBucketName: string; srcKey: string; srcVersion?: string } {
  const [pathPart, queryPart] = src.split('?', 2) as [string, string | undefined]
  let decoded: string
  try {
    decoded = decodeURIComponent(pathPart)
  } catch {
    throw invalidArgument('Invalid copy source encoding', 'x-amz-copy-source', src)
  }
  decoded = decoded.replace(/^\//, '')
  const slash = decoded.indexOf('/')
  if (slash <= 0 || slash === decoded.length - 1)
    throw invalidArgument(
      'Copy Source must mention the source bucket and key: sourcebucket/sourcekey',
      'x-amz-copy-source',
      src,
    )
  const srcBucketName = decoded.slice(0, slash)
  const srcKey = decoded.slice(slash + 1)
  const srcVersion = queryPart ? (new URLSearchParams(queryPart).get('versionId') ?? undefined) : undefined
  const sb = env.store.bucket(srcBucketName)
  if (!sb) throw noSuchBucket(srcBucketName)
  const row = findForRead(env, ctx, req, sb, srcKey, srcVersion)
  return { sb, row, srcBucketName, srcKey, srcVersion }
}

/**
 * `x-amz-source-expected-bucket-owner`: the source bucket's owner must be that account, else
 * AccessDenied, as for the destination's `x-amz-expected-bucket-owner`
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-owner-condition.html).
 */
export function sourceOwner(expected: string | undefined, sb: BucketRecord): void {
  if (expected !== undefined && expected !== sb.account)
    throw new AwsError('AccessDenied', 'Access Denied', 403)
}

/**
 * A copy's `x-amz-copy-source-if-*` conditions (CopyObject, UploadPartCopy), checked against the
 * source: they fail with 412, never 304 (API_CopyObject.html, x-amz-copy-source-if-*).
 */
export function copySourceConditions(
  input: Pick<
    CopyObjectRequest,
    | 'CopySourceIfMatch'
    | 'CopySourceIfNoneMatch'
    | 'CopySourceIfModifiedSince'
    | 'CopySourceIfUnmodifiedSince'
  >,
  row: ObjectRow,
): void {
  const conditions = {
    IfMatch: input.CopySourceIfMatch,
    IfNoneMatch: input.CopySourceIfNoneMatch,
    IfModifiedSince: input.CopySourceIfModifiedSince,
    IfUnmodifiedSince: input.CopySourceIfUnmodifiedSince,
  }
  if (notModified(conditions, row)) throw preconditionFailed('x-amz-copy-source-if-none-match')
}

/** CopyObject (`x-amz-copy-source`, `x-amz-metadata-directive` COPY or REPLACE). */
export const CopyObject = operation<CopyObjectRequest, CopyObjectOutput>({
  name: 'CopyObject',
  input: {
    // Not x-amz-tagging: a copy keeps its source's tags (TaggingDirective COPY, the default).
    ...WRITE_HEADERS,
    CopySource: header('x-amz-copy-source'),
    MetadataDirective: header('x-amz-metadata-directive'),
    CopySourceIfMatch: header('x-amz-copy-source-if-match'),
    CopySourceIfNoneMatch: header('x-amz-copy-source-if-none-match'),
    CopySourceIfModifiedSince: header('x-amz-copy-source-if-modified-since', 'timestamp'),
    CopySourceIfUnmodifiedSince: header('x-amz-copy-source-if-unmodified-since', 'timestamp'),
    ExpectedSourceBucketOwner: header('x-amz-source-expected-bucket-owner'),
  },
  members: {
    accepts: {
      TaggingDirective: { why: "COPY is the default: the copy keeps its source's tags", when: 'COPY' },
    },
    refuses: {
      TaggingDirective: "a copy keeps its source's tags (COPY); set others with PutObjectTagging",
      ChecksumAlgorithm: 'a copy gets no new checksum here',
    },
  },
  output: {
    // The copy's ETag and checksums are in the body (CopyObjectResult), not in headers as for PutObject.
    headers: {
      VersionId: 'x-amz-version-id',
      ...ENCRYPTION_HEADERS,
      CopySourceVersionId: 'x-amz-copy-source-version-id',
    },
  },
  async run(input, { env, ctx, req, bucket: b }) {
    const key = input.Key!
    const { sb, row, srcBucketName, srcKey, srcVersion } = copySource(env, ctx, req, input.CopySource!)
    sourceOwner(input.ExpectedSourceBucketOwner, sb)
    copySourceConditions(input, row)
    checkObjectAcl(input.ACL, b)
    const directive = input.MetadataDirective ?? 'COPY'
    if (directive !== 'COPY' && directive !== 'REPLACE')
      throw invalidArgument('Unknown metadata directive.', 'x-amz-metadata-directive', directive)
    if (
      srcBucketName === b.name &&
      srcKey === key &&
      srcVersion === undefined &&
      directive === 'COPY' &&
      input.ServerSideEncryption === undefined &&
      input.StorageClass === undefined
    )
      throw invalidRequest(
        "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
      )
    env.allow(ctx, req, 'PutObject', b, key, env.writeContext(req))
    const body = await env.readBody(ctx, sb, row)
    const base =
      directive === 'REPLACE'
        ? { ...contentOf(input), userMeta: input.Metadata ?? {} }
        : {
            contentType: row.meta.contentType,
            contentEncoding: row.meta.contentEncoding,
            contentDisposition: row.meta.contentDisposition,
            contentLanguage: row.meta.contentLanguage,
            cacheControl: row.meta.cacheControl,
            expires: row.meta.expires,
            userMeta: row.meta.userMeta,
          }
    const { versionId, meta } = await env.commitObject(
      ctx,
      b,
      key,
      body,
      {
        ...base,
        size: body.length,
        etag: `"${md5(body).toString('hex')}"`,
        lastModified: new Date().toISOString(),
        checksums: {},
        storageClass: input.StorageClass ?? 'STANDARD',
        tags: row.meta.tags,
        tagCount: row.meta.tagCount,
      },
      env.encryptionFor(input, b),
    )
    const { ETag: _etag, ...headers } = written(b, versionId, meta)
    return {
      ...headers,
      CopySourceVersionId: row.versionId !== 'null' ? row.versionId : undefined,
      CopyObjectResult: { ETag: meta.etag, LastModified: new Date(meta.lastModified) },
    }
  },
})

// ---- deletes ----------------------------------------------------------------

/** Deletes a key or one version of it; in a versioned bucket a key's delete adds a delete marker. */
async function deleteOne(
  { env, ctx, req, bucket: b }: BucketCall,
  key: string,
  versionId: string | undefined,
): Promise<{ versionId?: string; deleteMarker: boolean }> {
  env.allow(ctx, req, versionId !== undefined ? 'DeleteObjectVersion' : 'DeleteObject', b, key)
  if (versionId !== undefined) {
    const row = env.store.version(b.name, key, versionId)
    if (!row) {
      if (!/^[A-Za-z0-9_-]+$|^null$/.test(versionId))
        throw invalidArgument('Invalid version id specified', 'versionId', versionId)
      return { versionId, deleteMarker: false }
    }
    await env.freeBodies([env.store.deleteVersion(row)])
    return { versionId, deleteMarker: row.deleteMarker }
  }
  if (!b.versioning) {
    const row = env.store.latest(b.name, key)
    if (row) await env.freeBodies([env.store.deleteVersion(row)])
    return { deleteMarker: false }
  }
  // Versioned: a delete marker becomes the current version
  // (https://docs.aws.amazon.com/AmazonS3/latest/userguide/DeletingObjectVersions.html).
  const vid = env.versionIdFor(b)
  const freed = env.store.writeVersion({
    bucket: b.name,
    key,
    versionId: vid,
    deleteMarker: true,
    blob: null,
    meta: {
      size: 0,
      etag: '',
      lastModified: new Date().toISOString(),
      userMeta: {},
      sse: 'AES256',
      checksums: {},
      storageClass: 'STANDARD',
    },
    replaceNull: vid === 'null',
  })
  await env.freeBodies(freed)
  return { versionId: vid, deleteMarker: true }
}

export const DeleteObject = operation<DeleteObjectRequest, DeleteObjectOutput>({
  name: 'DeleteObject',
  input: { ...OBJECT, VersionId: query('versionId') },
  output: { status: 204, headers: { VersionId: 'x-amz-version-id', DeleteMarker: 'x-amz-delete-marker' } },
  async run(input, call) {
    const r = await deleteOne(call, input.Key!, input.VersionId)
    return { VersionId: r.versionId, DeleteMarker: r.deleteMarker || undefined }
  },
})

/** DeleteObjects: `Content-MD5` or a checksum required, per-key errors, `Quiet`. */
export const DeleteObjects = operation<DeleteObjectsRequest, DeleteObjectsOutput>({
  name: 'DeleteObjects',
  input: {
    Bucket: PATH,
    ...OWNER,
    Delete: PAYLOAD,
  },
  // Content-MD5 or a checksum is required, and checked, by the operation itself.
  members: { ownIntegrity: true },
  output: { root: 'DeleteResult' },
  async run(input, call) {
    const { env, req } = call
    const hasDigest =
      req.headers.has('content-md5') ||
      [...req.headers.keys(), ...req.trailers.keys()].some((k) => algorithmOfHeader(k) !== undefined)
    if (!hasDigest) throw invalidRequest('Missing required header for this request: Content-MD5')
    env.verifyIntegrity(req, req.body)
    const objects = input.Delete!.Objects!
    // One to 1,000 keys (https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html).
    if (objects.length === 0 || objects.length > 1000) throw malformedXml()
    const deleted: NonNullable<DeleteObjectsOutput['Deleted']> = []
    const errors: NonNullable<DeleteObjectsOutput['Errors']> = []
    for (const o of objects) {
      const key = o.Key!
      const vid = o.VersionId
      try {
        const r = await deleteOne(call, key, vid)
        if (!input.Delete!.Quiet)
          deleted.push({
            Key: key,
            VersionId: vid,
            DeleteMarker: r.deleteMarker ? true : undefined,
            DeleteMarkerVersionId: r.deleteMarker && vid === undefined ? r.versionId : undefined,
          })
      } catch (e) {
        if (!isAwsError(e)) throw e
        errors.push({ Key: key, VersionId: vid, Code: e.code, Message: e.message })
      }
    }
    return { Deleted: deleted, Errors: errors }
  },
})

// ---- sub-resources ----------------------------------------------------------

/** The object a sub-resource request names, authorized as `action` (missing: as GetObject says). */
function objectFor(call: BucketCall, key: string, versionId: string | undefined, action: string): ObjectRow {
  const { env, ctx, req, bucket: b } = call
  env.allow(ctx, req, action, b, key)
  const row =
    versionId !== undefined ? env.store.version(b.name, key, versionId) : env.store.latest(b.name, key)
  if (!row || row.deleteMarker) {
    if (versionId !== undefined) throw noSuchVersion(key, versionId)
    if (!env.mayList(ctx, req, b)) throw new AwsError('AccessDenied', 'Access Denied', 403)
    throw noSuchKey(key)
  }
  return row
}

/**
 * The version an object tagging request names, authorized as `<verb>Object[Version]Tagging`
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectTagging.html).
 */
function taggedVersion(
  call: BucketCall,
  verb: 'Get' | 'Put' | 'Delete',
  key: string,
  versionId?: string,
): ObjectRow {
  const { env, ctx, req, bucket: b } = call
  env.allow(ctx, req, `${verb}Object${versionId !== undefined ? 'Version' : ''}Tagging`, b, key)
  const row =
    versionId !== undefined ? env.store.version(b.name, key, versionId) : env.store.latest(b.name, key)
  if (!row || (row.deleteMarker && versionId === undefined)) {
    if (versionId !== undefined) throw noSuchVersion(key, versionId)
    throw noSuchKey(key)
  }
  if (row.deleteMarker) throw methodNotAllowed(req.method, 'DeleteMarker')
  return row
}

const TAGGING_INPUT = { ...OBJECT, VersionId: query('versionId') }

export const GetObjectTagging = operation<GetObjectTaggingRequest, GetObjectTaggingOutput>({
  name: 'GetObjectTagging',
  input: TAGGING_INPUT,
  output: { headers: { VersionId: 'x-amz-version-id' }, root: 'Tagging' },
  run(input, call) {
    const row = taggedVersion(call, 'Get', input.Key!, input.VersionId)
    return {
      VersionId: call.bucket.versioning ? row.versionId : undefined,
      TagSet: (row.meta.tags ?? []).map((t) => ({ Key: t.Key, Value: t.Value })),
    }
  },
})

export const PutObjectTagging = operation<PutObjectTaggingRequest, PutObjectTaggingOutput>({
  name: 'PutObjectTagging',
  input: {
    ...TAGGING_INPUT,
    ContentMD5: header('content-md5'),
    Tagging: PAYLOAD,
  },
  output: { headers: { VersionId: 'x-amz-version-id' } },
  run(input, call) {
    const row = taggedVersion(call, 'Put', input.Key!, input.VersionId)
    const tags = input.Tagging!.TagSet!.map((t) => ({ Key: t.Key!, Value: t.Value! }))
    // At most 10 tags per object (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-tagging.html).
    if (tags.length > 10) throw invalidArgument('Object tags cannot be greater than 10')
    checkTags(tags, invalidArgument)
    call.env.store.setMeta(row, { ...row.meta, tags, tagCount: tags.length || undefined })
    return { VersionId: call.bucket.versioning ? row.versionId : undefined }
  },
})

export const DeleteObjectTagging = operation<DeleteObjectTaggingRequest, DeleteObjectTaggingOutput>({
  name: 'DeleteObjectTagging',
  input: TAGGING_INPUT,
  output: { status: 204, headers: { VersionId: 'x-amz-version-id' } },
  run(input, call) {
    const row = taggedVersion(call, 'Delete', input.Key!, input.VersionId)
    call.env.store.setMeta(row, { ...row.meta, tags: [], tagCount: undefined })
    return { VersionId: call.bucket.versioning ? row.versionId : undefined }
  },
})

/** GetObjectAcl: the object must exist (readable as GetObjectAcl says, not GetObject); the owner's FULL_CONTROL. */
export const GetObjectAcl = operation<GetObjectAclRequest, GetObjectAclOutput>({
  name: 'GetObjectAcl',
  input: { ...OBJECT, VersionId: query('versionId') },
  output: { root: 'AccessControlPolicy' },
  run(input, call) {
    objectFor(
      call,
      input.Key!,
      input.VersionId,
      input.VersionId !== undefined ? 'GetObjectVersionAcl' : 'GetObjectAcl',
    )
    return ownerFullControl(call.bucket.account)
  },
})

const ATTRIBUTES = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize']

/**
 * `ObjectParts` of an object completed from a multipart upload (absent for any other): its
 * TotalPartsCount, and — only when the upload used an additional checksum, as S3 does for general
 * purpose buckets — a page of its parts (number, size, checksums) after `PartNumberMarker`, at
 * most `MaxParts` (1,000 by default and at most)
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAttributesParts.html). Parts are
 * numbered 1 to TotalPartsCount in the order they were put together, as GetObject's `partNumber`
 * reads them (see partRange).
 */
function objectParts(
  m: ObjectMeta,
  marker: number | undefined,
  max: number | undefined,
): GetObjectAttributesOutput['ObjectParts'] {
  if (!m.partsCount) return undefined
  const sums = m.partChecksums
  if (!sums || !m.partSizes) return { TotalPartsCount: m.partsCount }
  const from = marker ?? 0
  const limit = Math.min(max ?? 1000, 1000)
  const page = m.partSizes.map((size, i) => ({ n: i + 1, size })).filter((p) => p.n > from)
  const shown = page.slice(0, limit)
  return {
    TotalPartsCount: m.partsCount,
    PartNumberMarker: String(from),
    NextPartNumberMarker: String(shown.at(-1)?.n ?? from),
    MaxParts: limit,
    IsTruncated: page.length > shown.length,
    Parts: shown.map((p) => ({ PartNumber: p.n, Size: p.size, ...checksumMembers(sums[p.n - 1] ?? {}) })),
  }
}

/**
 * GetObjectAttributes: the attributes `x-amz-object-attributes` asks for (ETag, StorageClass,
 * ObjectSize, Checksum, ObjectParts).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAttributes.html
 */
export const GetObjectAttributes = operation<GetObjectAttributesRequest, GetObjectAttributesOutput>({
  name: 'GetObjectAttributes',
  input: {
    ...OBJECT,
    VersionId: query('versionId'),
    ObjectAttributes: header('x-amz-object-attributes', 'list'),
    MaxParts: header('x-amz-max-parts', 'integer'),
    PartNumberMarker: header('x-amz-part-number-marker', 'integer'),
  },
  output: {
    headers: { LastModified: 'last-modified', VersionId: 'x-amz-version-id' },
    root: 'GetObjectAttributesResponse',
  },
  run(input, call) {
    const wanted = (input.ObjectAttributes ?? []) as string[]
    if (!wanted.length)
      throw invalidRequest(
        'The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty',
      )
    const bad = wanted.find((w) => !ATTRIBUTES.includes(w))
    if (bad) throw invalidArgument('Invalid attribute name specified.', 'x-amz-object-attributes', bad)
    const row = objectFor(
      call,
      input.Key!,
      input.VersionId,
      input.VersionId !== undefined ? 'GetObjectVersionAttributes' : 'GetObjectAttributes',
    )
    const checksums = checksumMembers(row.meta.checksums)
    return {
      LastModified: new Date(row.meta.lastModified),
      VersionId: call.bucket.versioning !== undefined ? row.versionId : undefined,
      ETag: wanted.includes('ETag') ? row.meta.etag.replace(/"/g, '') : undefined,
      Checksum: wanted.includes('Checksum') && Object.keys(checksums).length ? checksums : undefined,
      StorageClass: wanted.includes('StorageClass') ? (row.meta.storageClass as never) : undefined,
      ObjectSize: wanted.includes('ObjectSize') ? row.meta.size : undefined,
      // The binding reads the marker as the model's integer; the SDK types it a string.
      ObjectParts: wanted.includes('ObjectParts')
        ? objectParts(
            row.meta,
            input.PartNumberMarker !== undefined ? Number(input.PartNumberMarker) : undefined,
            input.MaxParts,
          )
        : undefined,
    }
  },
})

/**
 * Object Lock is never configured here, so there is no retention or legal hold to read or set
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectRetention.html).
 */
function noObjectLock(name: string): ReturnType<typeof operation<GetObjectRetentionRequest, object>> {
  return operation<GetObjectRetentionRequest, object>({
    name,
    input: { ...OBJECT, VersionId: query('versionId') },
    members: { refusesEveryRequest: true },
    output: {},
    run() {
      throw invalidRequest('Bucket is missing Object Lock Configuration')
    },
  })
}

export const OBJECT_LOCK = [
  'GetObjectRetention',
  'PutObjectRetention',
  'GetObjectLegalHold',
  'PutObjectLegalHold',
].map(noObjectLock)
