/**
 * Multipart uploads (https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html):
 * CreateMultipartUpload, UploadPart, UploadPartCopy, CompleteMultipartUpload,
 * AbortMultipartUpload, ListParts, ListMultipartUploads.
 */
import type {
  AbortMultipartUploadOutput,
  AbortMultipartUploadRequest,
  CompleteMultipartUploadOutput,
  CompleteMultipartUploadRequest,
  CreateMultipartUploadOutput,
  CreateMultipartUploadRequest,
  ListMultipartUploadsOutput,
  ListMultipartUploadsRequest,
  ListPartsOutput,
  ListPartsRequest,
  UploadPartCopyOutput,
  UploadPartCopyRequest,
  UploadPartOutput,
  UploadPartRequest,
} from '@aws-sdk/client-s3'
import { randomBytes } from 'node:crypto'
import { endpointHost } from '../../../../iam/aws-facts.js'
import { CorruptBodyError } from '../../../store/blobs.js'
import { checkObjectAcl } from '../acl.js'
import type { BodySource } from '../api.js'
import {
  entityTooSmall,
  invalidArgument,
  invalidPart,
  invalidPartOrder,
  malformedXml,
  noSuchUpload,
  PART_NUMBER_MESSAGE,
} from '../errors.js'
import { header, PATH, PAYLOAD, query } from '../http.js'
import { operation, type BucketCall } from '../operation.js'
import { INLINE_MAX, type PartRow, type UploadRecord } from '../store.js'
import { canonicalId, md5 } from '../util.js'
import {
  contentOf,
  copySource,
  copySourceConditions,
  sourceOwner,
  WRITE_HEADERS,
  written,
} from './objects.js'

/** Parts other than the last must be at least 5 MiB (https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html). */
const MIN_PART = 5 * 1024 * 1024

const OBJECT = { Bucket: PATH, Key: PATH, ExpectedBucketOwner: header('x-amz-expected-bucket-owner') }

function uploadOf({ env, bucket: b }: BucketCall, id: string | undefined, key: string): UploadRecord {
  const u = env.store.upload(id ?? '')
  if (!u || u.bucket !== b.name || u.key !== key) throw noSuchUpload(id ?? '')
  return u
}

export const CreateMultipartUpload = operation<CreateMultipartUploadRequest, CreateMultipartUploadOutput>({
  name: 'CreateMultipartUpload',
  input: {
    ...WRITE_HEADERS,
    ChecksumAlgorithm: header('x-amz-checksum-algorithm'),
  },
  output: {
    headers: { ServerSideEncryption: 'x-amz-server-side-encryption' },
    root: 'InitiateMultipartUploadResult',
  },
  run(input, { env, ctx, req, bucket: b }) {
    const key = input.Key!
    checkObjectAcl(input.ACL, b)
    const enc = env.encryptionFor(input, b)
    env.allow(ctx, req, 'PutObject', b, key, env.writeContext(req))
    const uploadId = randomBytes(32).toString('base64url')
    env.store.putUpload({
      uploadId,
      bucket: b.name,
      key,
      initiated: new Date().toISOString(),
      initiator: ctx.identity.arn,
      meta: {
        ...contentOf(input),
        userMeta: input.Metadata ?? {},
        sse: enc.sse,
        kmsKeyArn: enc.keyId,
        bucketKeyEnabled: enc.bucketKey,
        storageClass: input.StorageClass ?? 'STANDARD',
        checksumAlgorithm: input.ChecksumAlgorithm?.toLowerCase(),
      },
    })
    return { ServerSideEncryption: enc.sse, Bucket: b.name, Key: key, UploadId: uploadId }
  },
})

function partNumber(n: number | undefined, raw: string | undefined): number {
  if (n === undefined || n < 1 || n > 10000) throw invalidArgument(PART_NUMBER_MESSAGE, 'partNumber', raw)
  return n
}

const PART_INPUT = {
  ...OBJECT,
  UploadId: query('uploadId'),
  PartNumber: query('partNumber', 'integer', PART_NUMBER_MESSAGE),
} as const

async function storePart(
  call: BucketCall,
  u: UploadRecord,
  part: Omit<PartRow, 'lastModified'> & { lastModified?: string },
): Promise<string> {
  const { env } = call
  const lastModified = part.lastModified ?? new Date().toISOString()
  if (!env.store.upload(u.uploadId)) {
    await env.runtime.blobs.remove(part.blob)
    throw noSuchUpload(u.uploadId)
  }
  const old = env.store.putPart(u.uploadId, { ...part, lastModified })
  await env.freeBodies([old ?? null])
  return lastModified
}

export const UploadPart = operation<UploadPartRequest, UploadPartOutput>({
  name: 'UploadPart',
  input: PART_INPUT,
  members: {
    // Content-MD5 and the checksum headers (or trailers) are checked against the part (verifyIntegrity).
    ownIntegrity: true,
    honours: ['ChecksumCRC32', 'ChecksumCRC32C', 'ChecksumCRC64NVME', 'ChecksumSHA1', 'ChecksumSHA256'],
  },
  output: {
    headers: {
      ETag: 'etag',
      ServerSideEncryption: 'x-amz-server-side-encryption',
      ChecksumCRC32: 'x-amz-checksum-crc32',
      ChecksumCRC32C: 'x-amz-checksum-crc32c',
      ChecksumCRC64NVME: 'x-amz-checksum-crc64nvme',
      ChecksumSHA1: 'x-amz-checksum-sha1',
      ChecksumSHA256: 'x-amz-checksum-sha256',
    },
  },
  async run(input, call) {
    const { env, ctx, req, bucket: b } = call
    const key = input.Key!
    const n = partNumber(input.PartNumber, req.query.find(([k]) => k === 'partNumber')?.[1])
    env.allow(ctx, req, 'PutObject', b, key)
    const u = uploadOf(call, input.UploadId, key)
    const checksums = env.verifyIntegrity(req, req.body)
    const sp = req.spooled
    const blob = sp ? await sp.commit() : await env.runtime.blobs.write(req.body)
    const etag = `"${(sp ? sp.md5 : md5(req.body)).toString('hex')}"`
    await storePart(call, u, { partNumber: n, blob, etag, size: sp ? sp.size : req.body.length, checksums })
    const out: Record<string, string> = { ETag: etag, ServerSideEncryption: u.meta.sse }
    for (const [alg, v] of Object.entries(checksums)) if (v) out[`Checksum${alg.toUpperCase()}`] = v
    return out
  },
})

/**
 * UploadPartCopy (https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPartCopy.html): a
 * part copied from an object, whole or `x-amz-copy-source-range: bytes=first-last`; the caller
 * needs s3:GetObject on the source and s3:PutObject on the destination, and an SSE-KMS source is
 * decrypted as the caller (kms:Decrypt checked against its key policy).
 */
export const UploadPartCopy = operation<UploadPartCopyRequest, UploadPartCopyOutput>({
  name: 'UploadPartCopy',
  input: {
    ...PART_INPUT,
    CopySource: header('x-amz-copy-source'),
    CopySourceRange: header('x-amz-copy-source-range'),
    CopySourceIfMatch: header('x-amz-copy-source-if-match'),
    CopySourceIfNoneMatch: header('x-amz-copy-source-if-none-match'),
    CopySourceIfModifiedSince: header('x-amz-copy-source-if-modified-since', 'timestamp'),
    CopySourceIfUnmodifiedSince: header('x-amz-copy-source-if-unmodified-since', 'timestamp'),
    ExpectedSourceBucketOwner: header('x-amz-source-expected-bucket-owner'),
  },
  output: {
    headers: {
      ServerSideEncryption: 'x-amz-server-side-encryption',
      CopySourceVersionId: 'x-amz-copy-source-version-id',
    },
  },
  async run(input, call) {
    const { env, ctx, req, bucket: b } = call
    const key = input.Key!
    const n = partNumber(input.PartNumber, req.query.find(([k]) => k === 'partNumber')?.[1])
    const { sb, row } = copySource(env, ctx, req, input.CopySource!)
    sourceOwner(input.ExpectedSourceBucketOwner, sb)
    env.allow(ctx, req, 'PutObject', b, key)
    const u = uploadOf(call, input.UploadId, key)
    copySourceConditions(input, row)
    const whole = await env.readBody(ctx, sb, row)
    const rangeHeader = input.CopySourceRange
    let body = whole
    if (rangeHeader !== undefined) {
      // The range must be bytes=first-last within the source object.
      const m = /^bytes=(\d+)-(\d+)$/.exec(rangeHeader)
      if (!m || Number(m[1]) > Number(m[2]) || Number(m[2]) >= whole.length)
        throw invalidArgument(
          `The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy (the source is ${whole.length} bytes)`,
          'x-amz-copy-source-range',
          rangeHeader,
        )
      body = whole.subarray(Number(m[1]), Number(m[2]) + 1)
    }
    const blob = await env.runtime.blobs.write(body)
    const etag = `"${md5(body).toString('hex')}"`
    const lastModified = await storePart(call, u, { partNumber: n, blob, etag, size: body.length })
    return {
      ServerSideEncryption: u.meta.sse,
      CopySourceVersionId: row.versionId !== 'null' ? row.versionId : undefined,
      CopyPartResult: { ETag: etag, LastModified: new Date(lastModified) },
    }
  },
})

/**
 * The URI of an object, for CompleteMultipartUpload's `Location`: "the URI that identifies the
 * newly created object" (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html),
 * on the endpoint the request came to and in its style — `<scheme>://<bucket>.<host>/<key>` for a
 * virtual-hosted request, `<scheme>://<host>/<bucket>/<key>` for a path-style one
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html). S3 form-encodes the
 * key there: `/` as `%2F`, a space as `+` (the SDKs decode it: aws-sdk-js-v3 lib-storage, aws-sdk-go
 * s3manager). A request without a Host header, which HTTP/1.1 requires (RFC 9112), gets S3's own
 * regional virtual-hosted form.
 */
function objectUrl({ ctx, req, bucket: b }: BucketCall, key: string): string {
  const k = new URLSearchParams([['', key]]).toString().slice(1)
  if (!req.host) return `https://${b.name}.${endpointHost('s3', b.region)}/${k}`
  const scheme = ctx.secureTransport ? 'https' : 'http'
  // The bucket was read from the host (api.ts): the request was virtual-hosted.
  const virtual = req.host.startsWith(`${b.name}.`) && !/^\d+\.\d+\.\d+\.\d+(:\d+)?$/.test(req.host)
  return virtual ? `${scheme}://${req.host}/${k}` : `${scheme}://${req.host}/${b.name}/${k}`
}

export const CompleteMultipartUpload = operation<
  CompleteMultipartUploadRequest,
  CompleteMultipartUploadOutput
>({
  name: 'CompleteMultipartUpload',
  input: {
    ...OBJECT,
    UploadId: query('uploadId'),
    MultipartUpload: PAYLOAD,
  },
  output: {
    headers: {
      VersionId: 'x-amz-version-id',
      ServerSideEncryption: 'x-amz-server-side-encryption',
      SSEKMSKeyId: 'x-amz-server-side-encryption-aws-kms-key-id',
      BucketKeyEnabled: 'x-amz-server-side-encryption-bucket-key-enabled',
    },
    root: 'CompleteMultipartUploadResult',
  },
  async run(input, call) {
    const { env, ctx, req, bucket: b } = call
    const key = input.Key!
    env.allow(ctx, req, 'PutObject', b, key)
    const u = uploadOf(call, input.UploadId, key)
    const spec = input.MultipartUpload?.Parts ?? []
    if (spec.length === 0) throw malformedXml()
    const stored = new Map(env.store.parts(u.uploadId).map((p) => [p.partNumber, p]))
    const chosen: PartRow[] = []
    let prev = 0
    for (const s of spec) {
      const n = s.PartNumber
      if (n === undefined) throw malformedXml()
      if (n <= prev) throw invalidPartOrder()
      prev = n
      const p = stored.get(n)
      const etag = s.ETag ?? ''
      if (!p || (etag !== p.etag && `"${etag}"` !== p.etag)) throw invalidPart()
      chosen.push(p)
    }
    for (let i = 0; i < chosen.length - 1; i++) if (chosen[i]!.size < MIN_PART) throw entityTooSmall()
    // The parts are verified, then streamed into the object's body: never whole in memory.
    for (const p of chosen) {
      try {
        await env.runtime.blobs.verify(p.blob, p.size)
      } catch (e) {
        if (e instanceof CorruptBodyError)
          e.object = `part ${p.partNumber} of upload ${u.uploadId} to s3://${b.name}/${key}`
        throw e
      }
    }
    const total = chosen.reduce((n, p) => n + p.size, 0)
    const body: BodySource = {
      size: total,
      chunks: async function* () {
        for (const p of chosen) yield* env.fileChunks(env.runtime.blobs.pathOf(p.blob))
      },
    }
    // The multipart ETag: MD5 of the parts' binary MD5s, a dash and the part count.
    const etag = `"${md5(Buffer.concat(chosen.map((p) => Buffer.from(p.etag.slice(1, -1), 'hex')))).toString('hex')}-${chosen.length}"`
    const { versionId, meta } = await env.commitObject(
      ctx,
      b,
      key,
      total <= INLINE_MAX ? await env.gather(body) : body,
      {
        size: total,
        etag,
        lastModified: new Date().toISOString(),
        contentType: u.meta.contentType,
        contentEncoding: u.meta.contentEncoding,
        contentDisposition: u.meta.contentDisposition,
        contentLanguage: u.meta.contentLanguage,
        cacheControl: u.meta.cacheControl,
        expires: u.meta.expires,
        userMeta: u.meta.userMeta,
        checksums: {},
        storageClass: u.meta.storageClass,
        partsCount: chosen.length,
        partSizes: chosen.map((p) => p.size),
        partChecksums: u.meta.checksumAlgorithm ? chosen.map((p) => p.checksums ?? {}) : undefined,
      },
      { sse: u.meta.sse, keyId: u.meta.kmsKeyArn, bucketKey: u.meta.bucketKeyEnabled ?? false },
    )
    await env.freeBodies(env.store.deleteUpload(u.uploadId))
    const w = written(b, versionId, meta)
    return {
      VersionId: w.VersionId,
      ServerSideEncryption: w.ServerSideEncryption,
      SSEKMSKeyId: w.SSEKMSKeyId,
      BucketKeyEnabled: w.BucketKeyEnabled,
      Location: objectUrl(call, key),
      Bucket: b.name,
      Key: key,
      ETag: etag,
    }
  },
})

export const AbortMultipartUpload = operation<AbortMultipartUploadRequest, AbortMultipartUploadOutput>({
  name: 'AbortMultipartUpload',
  input: { ...OBJECT, UploadId: query('uploadId') },
  output: { status: 204 },
  async run(input, call) {
    const { env, ctx, req, bucket: b } = call
    env.allow(ctx, req, 'AbortMultipartUpload', b, input.Key)
    const u = uploadOf(call, input.UploadId, input.Key!)
    await env.freeBodies(env.store.deleteUpload(u.uploadId))
    return {}
  },
})

export const ListParts = operation<ListPartsRequest, ListPartsOutput>({
  name: 'ListParts',
  input: {
    ...OBJECT,
    UploadId: query('uploadId'),
    MaxParts: query('max-parts', 'integer'),
    PartNumberMarker: query('part-number-marker', 'integer'),
  },
  output: { root: 'ListPartsResult' },
  run(input, call) {
    const { env, ctx, req, bucket: b } = call
    const key = input.Key!
    env.allow(ctx, req, 'ListMultipartUploadParts', b, key)
    const u = uploadOf(call, input.UploadId, key)
    // A page of parts after the marker, at most max-parts (1,000 at the most, the default)
    // (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListParts.html). The binding reads the
    // marker as the model's integer; the SDK types it a string.
    const marker = Number(input.PartNumberMarker ?? 0)
    const max = Math.min(input.MaxParts ?? 1000, 1000)
    const after = env.store
      .parts(u.uploadId)
      .filter((p) => p.partNumber > marker)
      .sort((a, b) => a.partNumber - b.partNumber)
    const parts = after.slice(0, Math.max(max, 0))
    return {
      Bucket: b.name,
      Key: key,
      UploadId: u.uploadId,
      PartNumberMarker: String(marker),
      NextPartNumberMarker: String(parts.at(-1)?.partNumber ?? marker),
      MaxParts: max,
      IsTruncated: after.length > parts.length,
      Parts: parts.map((p) => ({
        PartNumber: p.partNumber,
        LastModified: new Date(p.lastModified),
        ETag: p.etag,
        Size: p.size,
      })),
      Initiator: { ID: u.initiator },
      Owner: { ID: canonicalId(b.account) },
      StorageClass: u.meta.storageClass as never,
    }
  },
})

export const ListMultipartUploads = operation<ListMultipartUploadsRequest, ListMultipartUploadsOutput>({
  name: 'ListMultipartUploads',
  input: {
    Bucket: PATH,
    ExpectedBucketOwner: header('x-amz-expected-bucket-owner'),
    Delimiter: query('delimiter'),
    EncodingType: query('encoding-type'),
    KeyMarker: query('key-marker'),
    MaxUploads: query('max-uploads', 'integer'),
    Prefix: query('prefix'),
    UploadIdMarker: query('upload-id-marker'),
  },
  // Bound so that the route table knows them as this operation's parameters, but not acted on.
  members: {
    refuses: {
      Delimiter: 'uploads are not grouped by a delimiter here: list them by prefix',
      EncodingType: 'keys are listed as they are (no url encoding) here',
    },
  },
  output: { root: 'ListMultipartUploadsResult' },
  run(input, { env, ctx, req, bucket: b }) {
    env.allow(ctx, req, 'ListBucketMultipartUploads', b)
    // In key order, then upload order; after the markers; at most MaxUploads (1,000 by default)
    // (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListMultipartUploads.html).
    const prefix = input.Prefix ?? ''
    const keyMarker = input.KeyMarker ?? ''
    const idMarker = input.UploadIdMarker
    const max = Math.min(input.MaxUploads ?? 1000, 1000)
    const all = env.store
      .uploads(b.name)
      .filter((u) => u.key.startsWith(prefix))
      .sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : x.initiated.localeCompare(y.initiated)))
    const at = all.findIndex((u) => u.key === keyMarker && u.uploadId === idMarker)
    const start = keyMarker === '' ? 0 : at >= 0 ? at + 1 : all.findIndex((u) => u.key > keyMarker)
    const rest = start < 0 ? [] : all.slice(start)
    const page = rest.slice(0, max)
    const truncated = rest.length > page.length
    return {
      Bucket: b.name,
      KeyMarker: keyMarker,
      UploadIdMarker: idMarker ?? '',
      ...(truncated ? { NextKeyMarker: page.at(-1)?.key, NextUploadIdMarker: page.at(-1)?.uploadId } : {}),
      Prefix: input.Prefix,
      MaxUploads: max,
      IsTruncated: truncated,
      Uploads: page.map((u) => ({
        Key: u.key,
        UploadId: u.uploadId,
        Initiator: { ID: u.initiator, DisplayName: u.initiator },
        Owner: { ID: canonicalId(b.account) },
        StorageClass: 'STANDARD',
        Initiated: new Date(u.initiated),
      })),
    }
  },
})
