/**
 * Buckets and their listings: ListBuckets, CreateBucket, HeadBucket, DeleteBucket,
 * GetBucketLocation, ListObjects, ListObjectsV2, ListObjectVersions.
 */
import type {
  CreateBucketOutput,
  CreateBucketRequest,
  DeleteBucketRequest,
  GetBucketLocationOutput,
  GetBucketLocationRequest,
  HeadBucketOutput,
  HeadBucketRequest,
  ListBucketsOutput,
  ListBucketsRequest,
  ListObjectsOutput,
  ListObjectsRequest,
  ListObjectsV2Output,
  ListObjectsV2Request,
  ListObjectVersionsOutput,
  ListObjectVersionsRequest,
} from '@aws-sdk/client-s3'
import type { ContextValue } from '../../../../iam/types.js'
import { authorize } from '../../../auth/authorize.js'
import { AwsError } from '../../../errors.js'
import { escapeXml } from '../../../gateway/xml.js'
import { checkCreateBucketAcl } from '../acl.js'
import {
  bucketAlreadyExists,
  bucketAlreadyOwnedByYou,
  bucketNotEmpty,
  invalidArgument,
  invalidBucketName,
} from '../errors.js'
import { header, NS, PATH, PAYLOAD, query } from '../http.js'
import { freeOperation, operation, Raw, type BucketCall } from '../operation.js'
import type { ObjectRow } from '../store.js'
import { canonicalId } from '../util.js'

const MAX_CHAR = '\u{10ffff}'

/** Bucket naming rules: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html */
function validBucketName(n: string): boolean {
  return (
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(n) &&
    !n.includes('..') &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(n) &&
    !n.startsWith('xn--') &&
    !n.startsWith('sthree-') &&
    !n.endsWith('-s3alias') &&
    !n.endsWith('--ol-s3')
  )
}

const OWNERSHIPS = ['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter']

/** ListBuckets (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html): the caller's account's buckets. */
export const ListBuckets = freeOperation<ListBucketsRequest, ListBucketsOutput>({
  name: 'ListBuckets',
  bucket: false,
  input: {
    MaxBuckets: query('max-buckets', 'integer'),
    ContinuationToken: query('continuation-token'),
    Prefix: query('prefix'),
    BucketRegion: query('bucket-region'),
  },
  output: { root: 'ListAllMyBucketsResult' },
  run(input, { env, ctx }) {
    authorize(
      ctx,
      { action: 's3:ListAllMyBuckets', resource: '*', resourceAccount: ctx.identity.account },
      's3',
    )
    const after = input.ContinuationToken ? Buffer.from(input.ContinuationToken, 'base64url').toString() : ''
    const mine = env.store
      .buckets()
      .filter(
        (b) =>
          b.account === ctx.identity.account &&
          b.name > after &&
          b.name.startsWith(input.Prefix ?? '') &&
          (input.BucketRegion === undefined || b.region === input.BucketRegion),
      )
    const max = Math.min(input.MaxBuckets ?? 10000, 10000)
    const page = mine.slice(0, max)
    return {
      Owner: { ID: canonicalId(ctx.identity.account) },
      Buckets: page.map((b) => ({ Name: b.name, CreationDate: new Date(b.created), BucketRegion: b.region })),
      ContinuationToken: mine.length > max ? Buffer.from(page.at(-1)!.name).toString('base64url') : undefined,
      Prefix: input.Prefix,
    }
  },
})

/** CreateBucket (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html). */
export const CreateBucket = freeOperation<CreateBucketRequest, CreateBucketOutput>({
  name: 'CreateBucket',
  bucket: false,
  input: {
    Bucket: PATH,
    ACL: header('x-amz-acl'),
    GrantFullControl: header('x-amz-grant-full-control'),
    GrantRead: header('x-amz-grant-read'),
    GrantReadACP: header('x-amz-grant-read-acp'),
    GrantWrite: header('x-amz-grant-write'),
    GrantWriteACP: header('x-amz-grant-write-acp'),
    ObjectOwnership: header('x-amz-object-ownership'),
    CreateBucketConfiguration: PAYLOAD,
  },
  members: {
    accepts: { ObjectLockEnabledForBucket: { why: 'false is the default: no Object Lock', when: 'false' } },
    refuses: {
      ObjectLockEnabledForBucket: 'Object Lock is not modelled',
      BucketNamespace: 'buckets are in the global namespace only',
    },
  },
  output: { headers: { Location: 'location' } },
  run(input, { env, ctx }) {
    const name = input.Bucket!
    if (!validBucketName(name)) throw invalidBucketName(name)
    authorize(
      ctx,
      {
        action: 's3:CreateBucket',
        resource: env.bucketArn(ctx, name),
        resourceAccount: ctx.identity.account,
        context: input.ACL !== undefined ? { 's3:x-amz-acl': input.ACL } : {},
      },
      's3',
    )
    if (input.CreateBucketConfiguration) {
      const lc = input.CreateBucketConfiguration.LocationConstraint as string | undefined
      const wanted = lc !== undefined && lc !== '' ? lc : 'us-east-1'
      if (wanted !== ctx.region)
        throw new AwsError(
          'IllegalLocationConstraintException',
          `The ${wanted} location constraint is incompatible for the region specific endpoint this request was sent to.`,
          400,
        )
    }
    const existing = env.store.bucket(name)
    if (existing) {
      if (existing.account !== ctx.identity.account) throw bucketAlreadyExists(name)
      // us-east-1 answers 200 to its owner re-creating a bucket; other regions 409
      // (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html).
      if (existing.region !== 'us-east-1' || ctx.region !== 'us-east-1') throw bucketAlreadyOwnedByYou(name)
      return { Location: `/${name}` }
    }
    const ownership = input.ObjectOwnership
    if (ownership !== undefined && !OWNERSHIPS.includes(ownership))
      throw invalidArgument('Invalid x-amz-object-ownership header', 'x-amz-object-ownership', ownership)
    const grants = [
      input.GrantFullControl,
      input.GrantRead,
      input.GrantReadACP,
      input.GrantWrite,
      input.GrantWriteACP,
    ].some((g) => g !== undefined)
    checkCreateBucketAcl(input.ACL, grants, ownership)
    // New buckets: SSE-S3 by default, Block Public Access on, ACLs disabled (since 2023:
    // https://docs.aws.amazon.com/AmazonS3/latest/userguide/create-bucket-overview.html).
    env.store.putBucket({
      name,
      account: ctx.identity.account,
      region: ctx.region,
      created: new Date().toISOString(),
      encryption: { algorithm: 'AES256', bucketKeyEnabled: false },
      publicAccessBlock: {
        BlockPublicAcls: true,
        IgnorePublicAcls: true,
        BlockPublicPolicy: true,
        RestrictPublicBuckets: true,
      },
      ownership: ownership ?? 'BucketOwnerEnforced',
    })
    return { Location: `/${name}` }
  },
})

/** HeadBucket: `s3:ListBucket`, and the bucket's region. */
export const HeadBucket = operation<HeadBucketRequest, HeadBucketOutput>({
  name: 'HeadBucket',
  input: { Bucket: PATH, ExpectedBucketOwner: header('x-amz-expected-bucket-owner') },
  output: { headers: { BucketRegion: 'x-amz-bucket-region' } },
  run(_input, { env, ctx, req, bucket: b }) {
    env.allow(ctx, req, 'ListBucket', b)
    return { BucketRegion: b.region }
  },
})

/** DeleteBucket: `BucketNotEmpty` while any version, delete marker or upload remains. */
export const DeleteBucket = operation<DeleteBucketRequest, object>({
  name: 'DeleteBucket',
  input: { Bucket: PATH, ExpectedBucketOwner: header('x-amz-expected-bucket-owner') },
  output: { status: 204 },
  run(_input, { env, ctx, req, bucket: b }) {
    env.allow(ctx, req, 'DeleteBucket', b)
    if (env.store.hasContent(b.name)) throw bucketNotEmpty(b.name)
    env.store.deleteBucket(b.name)
    return {}
  },
})

/** GetBucketLocation: us-east-1 is an empty LocationConstraint (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLocation.html). */
export const GetBucketLocation = operation<GetBucketLocationRequest, GetBucketLocationOutput>({
  name: 'GetBucketLocation',
  input: { Bucket: PATH, ExpectedBucketOwner: header('x-amz-expected-bucket-owner') },
  output: {},
  run(_input, { env, ctx, req, bucket: b }) {
    env.allow(ctx, req, 'GetBucketLocation', b)
    // The location is the root element's text, which no XML member binding expresses.
    return new Raw({
      status: 200,
      headers: { 'content-type': 'application/xml' },
      body: `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="${NS}">${b.region === 'us-east-1' ? '' : escapeXml(b.region)}</LocationConstraint>`,
    })
  },
})

// ---- listing -------------------------------------------------------------

function maxKeys(v: number | undefined): number {
  return Math.min(v ?? 1000, 1000)
}

function encodeKey(encoding: string | undefined, k: string): string {
  return encoding === 'url' ? encodeURIComponent(k).replace(/%2F/g, '/') : k
}

/** Keys and common prefixes after `after`, as ListObjects(V2) return them. */
function collect(
  rowsOf: (after: string, prefix: string, limit: number) => ObjectRow[],
  prefix: string,
  delimiter: string,
  after: string,
  max: number,
): { rows: ObjectRow[]; prefixes: string[]; truncated: boolean; last: string } {
  const rows: ObjectRow[] = []
  const prefixes: string[] = []
  let cursor = after
  let last = after
  for (;;) {
    const batch = rowsOf(cursor, prefix, 256)
    if (batch.length === 0) return { rows, prefixes, truncated: false, last }
    let restart = false
    for (const r of batch) {
      if (!r.key.startsWith(prefix)) return { rows, prefixes, truncated: false, last }
      const i = delimiter ? r.key.indexOf(delimiter, prefix.length) : -1
      if (rows.length + prefixes.length >= max) return { rows, prefixes, truncated: true, last }
      if (i >= 0) {
        const cp = r.key.slice(0, i + delimiter.length)
        prefixes.push(cp)
        last = cp
        cursor = cp + MAX_CHAR
        restart = true
        break
      }
      rows.push(r)
      last = r.key
      cursor = r.key
    }
    if (!restart && batch.length < 256) return { rows, prefixes, truncated: false, last }
  }
}

const MAX_KEYS_MESSAGE = 'Provided max-keys not an integer or within integer range'

const LIST_INPUT = {
  Bucket: PATH,
  Prefix: query('prefix'),
  Delimiter: query('delimiter'),
  MaxKeys: query('max-keys', 'integer', MAX_KEYS_MESSAGE),
  EncodingType: query('encoding-type'),
  ExpectedBucketOwner: header('x-amz-expected-bucket-owner'),
  RequestPayer: header('x-amz-request-payer'),
} as const

/** The listing shared by ListObjects and ListObjectsV2: authorization with the listing's condition keys. */
function listing(
  input: { Prefix?: string; Delimiter?: string; MaxKeys?: number },
  call: BucketCall,
  after: string,
): ReturnType<typeof collect> & { prefix: string; delimiter: string; max: number } {
  const { env, ctx, req, bucket: b } = call
  const prefix = input.Prefix ?? ''
  const delimiter = input.Delimiter ?? ''
  const max = maxKeys(input.MaxKeys)
  const ctxKeys: Record<string, ContextValue> = { 's3:prefix': prefix, 's3:max-keys': String(max) }
  if (delimiter) ctxKeys['s3:delimiter'] = delimiter
  env.allow(ctx, req, 'ListBucket', b, undefined, ctxKeys)
  const r = collect((a, p, n) => env.store.listLatest(b.name, a, p, n), prefix, delimiter, after, max)
  return { ...r, prefix, delimiter, max }
}

function contents(
  rows: ObjectRow[],
  encoding: string | undefined,
  owner: { ID: string } | undefined,
): NonNullable<ListObjectsV2Output['Contents']> {
  return rows.map((o) => ({
    Key: encodeKey(encoding, o.key),
    LastModified: new Date(o.meta.lastModified),
    ETag: o.meta.etag,
    ChecksumAlgorithm: Object.keys(o.meta.checksums).map((a) => a.toUpperCase()) as never,
    Size: o.meta.size,
    Owner: owner,
    StorageClass: o.meta.storageClass as never,
  }))
}

/** ListObjects (v1, `marker`). */
export const ListObjects = operation<ListObjectsRequest, ListObjectsOutput>({
  name: 'ListObjects',
  input: { ...LIST_INPUT, Marker: query('marker') },
  members: {
    accepts: {
      // RestoreStatus is listed only for archived objects being restored; nothing here is archived.
      OptionalObjectAttributes: 'it asks for RestoreStatus, which no object here has (nothing is archived)',
    },
  },
  output: { root: 'ListBucketResult' },
  run(input, call) {
    const enc = input.EncodingType
    const r = listing(input, call, input.Marker ?? '')
    return {
      Name: call.bucket.name,
      Prefix: encodeKey(enc, r.prefix),
      Marker: input.Marker ?? '',
      NextMarker: r.truncated && r.delimiter ? encodeKey(enc, r.last) : undefined,
      Delimiter: r.delimiter || undefined,
      MaxKeys: r.max,
      EncodingType: enc as never,
      IsTruncated: r.truncated,
      Contents: contents(r.rows, enc, { ID: canonicalId(call.bucket.account) }),
      CommonPrefixes: r.prefixes.map((p) => ({ Prefix: encodeKey(enc, p) })),
    }
  },
})

/** ListObjectsV2 (`list-type=2`: continuation-token, start-after, fetch-owner). */
export const ListObjectsV2 = operation<ListObjectsV2Request, ListObjectsV2Output>({
  name: 'ListObjectsV2',
  input: {
    ...LIST_INPUT,
    ContinuationToken: query('continuation-token'),
    StartAfter: query('start-after'),
    FetchOwner: query('fetch-owner', 'boolean'),
  },
  members: {
    accepts: {
      // RestoreStatus is listed only for archived objects being restored; nothing here is archived.
      OptionalObjectAttributes: 'it asks for RestoreStatus, which no object here has (nothing is archived)',
    },
  },
  output: { root: 'ListBucketResult' },
  run(input, call) {
    const enc = input.EncodingType
    const token = input.ContinuationToken
    let after: string
    if (token !== undefined) {
      after = Buffer.from(token, 'base64url').toString('utf8')
      if (Buffer.from(after, 'utf8').toString('base64url') !== token)
        throw invalidArgument('The continuation token provided is incorrect', 'continuation-token', token)
    } else after = input.StartAfter ?? ''
    const r = listing(input, call, after)
    const c = contents(r.rows, enc, input.FetchOwner ? { ID: canonicalId(call.bucket.account) } : undefined)
    return {
      Name: call.bucket.name,
      Prefix: encodeKey(enc, r.prefix),
      Delimiter: r.delimiter || undefined,
      MaxKeys: r.max,
      EncodingType: enc as never,
      KeyCount: c.length + r.prefixes.length,
      IsTruncated: r.truncated,
      ContinuationToken: token,
      NextContinuationToken: r.truncated ? Buffer.from(r.last, 'utf8').toString('base64url') : undefined,
      StartAfter: input.StartAfter,
      Contents: c,
      CommonPrefixes: r.prefixes.map((p) => ({ Prefix: encodeKey(enc, p) })),
    }
  },
})

/** ListObjectVersions (`s3:ListBucketVersions`; key-marker, version-id-marker, delimiter). */
export const ListObjectVersions = operation<ListObjectVersionsRequest, ListObjectVersionsOutput>({
  name: 'ListObjectVersions',
  input: {
    ...LIST_INPUT,
    KeyMarker: query('key-marker'),
    VersionIdMarker: query('version-id-marker'),
  },
  members: {
    accepts: {
      // RestoreStatus is listed only for archived objects being restored; nothing here is archived.
      OptionalObjectAttributes: 'it asks for RestoreStatus, which no object here has (nothing is archived)',
    },
  },
  output: { root: 'ListVersionsResult' },
  run(input, { env, ctx, req, bucket: b }) {
    const enc = input.EncodingType
    const prefix = input.Prefix ?? ''
    const delimiter = input.Delimiter ?? ''
    const max = maxKeys(input.MaxKeys)
    env.allow(ctx, req, 'ListBucketVersions', b, undefined, {
      's3:prefix': prefix,
      's3:max-keys': String(max),
    })
    const keyMarker = input.KeyMarker ?? ''
    const vidMarker = input.VersionIdMarker
    let afterSeq = Number.MAX_SAFE_INTEGER
    if (keyMarker && vidMarker) {
      const v = env.store.version(b.name, keyMarker, vidMarker)
      if (!v) throw invalidArgument('Invalid version id specified', 'version-id-marker', vidMarker)
      afterSeq = v.seq
    } else if (keyMarker) afterSeq = -1
    const versions: NonNullable<ListObjectVersionsOutput['Versions']> = []
    const markers: NonNullable<ListObjectVersionsOutput['DeleteMarkers']> = []
    const prefixes = new Set<string>()
    let count = 0
    let truncated = false
    let nextKey: string | undefined
    let nextVid: string | undefined
    let cursorKey = keyMarker
    let cursorSeq = afterSeq
    outer: for (;;) {
      const batch = env.store.listVersions(b.name, cursorKey, cursorSeq, prefix, 256)
      if (batch.length === 0) break
      for (const o of batch) {
        if (!o.key.startsWith(prefix)) break outer
        cursorKey = o.key
        cursorSeq = o.seq
        const i = delimiter ? o.key.indexOf(delimiter, prefix.length) : -1
        if (i >= 0) {
          const cp = o.key.slice(0, i + delimiter.length)
          if (!prefixes.has(cp)) {
            if (count >= max) {
              truncated = true
              break outer
            }
            prefixes.add(cp)
            count++
          }
          continue
        }
        if (count >= max) {
          truncated = true
          break outer
        }
        count++
        nextKey = o.key
        nextVid = o.versionId
        const entry = {
          Key: encodeKey(enc, o.key),
          VersionId: o.versionId,
          IsLatest: o.latest,
          LastModified: new Date(o.meta.lastModified),
          Owner: { ID: canonicalId(b.account) },
        }
        if (o.deleteMarker) markers.push(entry)
        else
          versions.push({
            ...entry,
            ETag: o.meta.etag,
            Size: o.meta.size,
            StorageClass: o.meta.storageClass as never,
          })
      }
      if (batch.length < 256) break
    }
    return {
      Name: b.name,
      Prefix: prefix,
      KeyMarker: keyMarker,
      VersionIdMarker: vidMarker ?? '',
      NextKeyMarker: truncated ? nextKey : undefined,
      NextVersionIdMarker: truncated ? nextVid : undefined,
      MaxKeys: max,
      Delimiter: delimiter || undefined,
      IsTruncated: truncated,
      Versions: versions,
      DeleteMarkers: markers,
      CommonPrefixes: [...prefixes].map((p) => ({ Prefix: p })),
    }
  },
})
