/**
 * S3's routing table: (HTTP method, resource level, sub-resource, distinguishing header) → the
 * AWS operation. The sub-resources and operation names are those of the S3 API reference
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html);
 * each operation's page gives its request line (e.g. `PUT /?versioning`). Everything the gateway
 * answers without reaching an operation comes from here too: a sub-resource S3 has and the sandbox
 * does not model (`501 NotImplemented`), a method the resource does not take, or a parameter of
 * another operation (`405 MethodNotAllowed`), a parameter no operation knows (`400 InvalidArgument`).
 * See SPEC.md, "Not implemented".
 */
import { invalidArgument, methodNotAllowed, notImplemented } from './errors.js'

/** What a request names: the service (no bucket), a bucket, or an object. */
export type Level = 'service' | 'bucket' | 'object'

/** One row of the table. */
export interface Route {
  readonly method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE'
  readonly level: Level
  /** The sub-resource query key (`?versioning`), absent for the resource itself. */
  readonly sub?: string
  /** The value the sub-resource key must have (`list-type=2`). */
  readonly value?: string
  /** A header whose presence selects this operation (`x-amz-copy-source`: a copy). */
  readonly header?: string
  /** The AWS operation. */
  readonly op: string
  /** S3 has the operation, the sandbox does not model it: 501 NotImplemented. */
  readonly unmodelled?: true
}

const S = 'service' as const
const B = 'bucket' as const
const O = 'object' as const

function bucketSetting(
  sub: string,
  ops: { GET?: string; PUT?: string; DELETE?: string; POST?: string },
  unmodelled: readonly ('GET' | 'PUT' | 'DELETE' | 'POST')[] = [],
): Route[] {
  return (Object.entries(ops) as ['GET' | 'PUT' | 'DELETE' | 'POST', string][]).map(([method, op]) => ({
    method,
    level: B,
    sub,
    op,
    ...(unmodelled.includes(method) ? { unmodelled: true as const } : {}),
  }))
}

/**
 * The table. Within a (method, level, sub-resource), a row with a header comes before the row
 * without it. Bucket settings the sandbox does not model are readable as "never set" (their GET
 * and DELETE rows are operations, see SPEC.md "Bucket settings never set") but not writable.
 */
export const ROUTES: readonly Route[] = [
  { method: 'GET', level: S, op: 'ListBuckets' },

  { method: 'PUT', level: B, op: 'CreateBucket' },
  { method: 'HEAD', level: B, op: 'HeadBucket' },
  { method: 'DELETE', level: B, op: 'DeleteBucket' },
  { method: 'GET', level: B, sub: 'list-type', value: '2', op: 'ListObjectsV2' },
  { method: 'GET', level: B, op: 'ListObjects' },
  { method: 'GET', level: B, sub: 'versions', op: 'ListObjectVersions' },
  { method: 'GET', level: B, sub: 'location', op: 'GetBucketLocation' },
  { method: 'GET', level: B, sub: 'uploads', op: 'ListMultipartUploads' },
  { method: 'POST', level: B, sub: 'delete', op: 'DeleteObjects' },
  ...bucketSetting('policy', {
    GET: 'GetBucketPolicy',
    PUT: 'PutBucketPolicy',
    DELETE: 'DeleteBucketPolicy',
  }),
  ...bucketSetting('policyStatus', { GET: 'GetBucketPolicyStatus' }),
  ...bucketSetting('encryption', {
    GET: 'GetBucketEncryption',
    PUT: 'PutBucketEncryption',
    DELETE: 'DeleteBucketEncryption',
  }),
  ...bucketSetting('versioning', { GET: 'GetBucketVersioning', PUT: 'PutBucketVersioning' }),
  ...bucketSetting('publicAccessBlock', {
    GET: 'GetPublicAccessBlock',
    PUT: 'PutPublicAccessBlock',
    DELETE: 'DeletePublicAccessBlock',
  }),
  ...bucketSetting('ownershipControls', {
    GET: 'GetBucketOwnershipControls',
    PUT: 'PutBucketOwnershipControls',
    DELETE: 'DeleteBucketOwnershipControls',
  }),
  ...bucketSetting('lifecycle', {
    GET: 'GetBucketLifecycleConfiguration',
    PUT: 'PutBucketLifecycleConfiguration',
    DELETE: 'DeleteBucketLifecycle',
  }),
  ...bucketSetting('tagging', {
    GET: 'GetBucketTagging',
    PUT: 'PutBucketTagging',
    DELETE: 'DeleteBucketTagging',
  }),
  ...bucketSetting('acl', { GET: 'GetBucketAcl', PUT: 'PutBucketAcl' }),
  // Readable as never set, not writable.
  ...bucketSetting('cors', { GET: 'GetBucketCors', PUT: 'PutBucketCors', DELETE: 'DeleteBucketCors' }, [
    'PUT',
  ]),
  ...bucketSetting(
    'website',
    { GET: 'GetBucketWebsite', PUT: 'PutBucketWebsite', DELETE: 'DeleteBucketWebsite' },
    ['PUT'],
  ),
  ...bucketSetting(
    'replication',
    { GET: 'GetBucketReplication', PUT: 'PutBucketReplication', DELETE: 'DeleteBucketReplication' },
    ['PUT'],
  ),
  ...bucketSetting('object-lock', { GET: 'GetObjectLockConfiguration', PUT: 'PutObjectLockConfiguration' }, [
    'PUT',
  ]),
  ...bucketSetting('logging', { GET: 'GetBucketLogging', PUT: 'PutBucketLogging' }, ['PUT']),
  ...bucketSetting(
    'accelerate',
    { GET: 'GetBucketAccelerateConfiguration', PUT: 'PutBucketAccelerateConfiguration' },
    ['PUT'],
  ),
  ...bucketSetting('requestPayment', { GET: 'GetBucketRequestPayment', PUT: 'PutBucketRequestPayment' }, [
    'PUT',
  ]),
  ...bucketSetting(
    'notification',
    { GET: 'GetBucketNotificationConfiguration', PUT: 'PutBucketNotificationConfiguration' },
    ['PUT'],
  ),
  // Neither readable nor writable here.
  ...bucketSetting(
    'analytics',
    {
      GET: 'GetBucketAnalyticsConfiguration',
      PUT: 'PutBucketAnalyticsConfiguration',
      DELETE: 'DeleteBucketAnalyticsConfiguration',
    },
    ['GET', 'PUT', 'DELETE'],
  ),
  ...bucketSetting(
    'intelligent-tiering',
    {
      GET: 'GetBucketIntelligentTieringConfiguration',
      PUT: 'PutBucketIntelligentTieringConfiguration',
      DELETE: 'DeleteBucketIntelligentTieringConfiguration',
    },
    ['GET', 'PUT', 'DELETE'],
  ),
  ...bucketSetting(
    'inventory',
    {
      GET: 'GetBucketInventoryConfiguration',
      PUT: 'PutBucketInventoryConfiguration',
      DELETE: 'DeleteBucketInventoryConfiguration',
    },
    ['GET', 'PUT', 'DELETE'],
  ),
  ...bucketSetting(
    'metrics',
    {
      GET: 'GetBucketMetricsConfiguration',
      PUT: 'PutBucketMetricsConfiguration',
      DELETE: 'DeleteBucketMetricsConfiguration',
    },
    ['GET', 'PUT', 'DELETE'],
  ),
  ...bucketSetting(
    'metadataTable',
    {
      GET: 'GetBucketMetadataTableConfiguration',
      POST: 'CreateBucketMetadataTableConfiguration',
      DELETE: 'DeleteBucketMetadataTableConfiguration',
    },
    ['GET', 'POST', 'DELETE'],
  ),

  { method: 'GET', level: O, op: 'GetObject' },
  { method: 'HEAD', level: O, op: 'HeadObject' },
  { method: 'PUT', level: O, header: 'x-amz-copy-source', op: 'CopyObject' },
  { method: 'PUT', level: O, op: 'PutObject' },
  { method: 'DELETE', level: O, op: 'DeleteObject' },
  { method: 'POST', level: O, sub: 'uploads', op: 'CreateMultipartUpload' },
  { method: 'PUT', level: O, sub: 'uploadId', header: 'x-amz-copy-source', op: 'UploadPartCopy' },
  { method: 'PUT', level: O, sub: 'uploadId', op: 'UploadPart' },
  { method: 'POST', level: O, sub: 'uploadId', op: 'CompleteMultipartUpload' },
  { method: 'DELETE', level: O, sub: 'uploadId', op: 'AbortMultipartUpload' },
  { method: 'GET', level: O, sub: 'uploadId', op: 'ListParts' },
  { method: 'GET', level: O, sub: 'tagging', op: 'GetObjectTagging' },
  { method: 'PUT', level: O, sub: 'tagging', op: 'PutObjectTagging' },
  { method: 'DELETE', level: O, sub: 'tagging', op: 'DeleteObjectTagging' },
  { method: 'GET', level: O, sub: 'acl', op: 'GetObjectAcl' },
  { method: 'PUT', level: O, sub: 'acl', op: 'PutObjectAcl', unmodelled: true },
  { method: 'GET', level: O, sub: 'attributes', op: 'GetObjectAttributes' },
  { method: 'GET', level: O, sub: 'retention', op: 'GetObjectRetention' },
  { method: 'PUT', level: O, sub: 'retention', op: 'PutObjectRetention' },
  { method: 'GET', level: O, sub: 'legal-hold', op: 'GetObjectLegalHold' },
  { method: 'PUT', level: O, sub: 'legal-hold', op: 'PutObjectLegalHold' },
  { method: 'GET', level: O, sub: 'torrent', op: 'GetObjectTorrent', unmodelled: true },
  { method: 'POST', level: O, sub: 'restore', op: 'RestoreObject', unmodelled: true },
  { method: 'POST', level: O, sub: 'select', op: 'SelectObjectContent', unmodelled: true },
]

/** Query parameters that belong to the request's signature or the SDK's routing hint, not to an operation. */
export function isSigningParameter(k: string): boolean {
  return /^x-amz-/i.test(k) || k === 'x-id' || k === 'AWSAccessKeyId' || k === 'Signature' || k === 'Expires'
}

const SUBS: Readonly<Record<Level, ReadonlySet<string>>> = {
  service: new Set(),
  bucket: new Set(ROUTES.flatMap((r) => (r.level === B && r.sub ? [r.sub] : []))),
  object: new Set(ROUTES.flatMap((r) => (r.level === O && r.sub ? [r.sub] : []))),
}

const RESOURCE_TYPE: Readonly<Record<Level, string>> = {
  service: 'SERVICE',
  bucket: 'BUCKET',
  object: 'OBJECT',
}

/**
 * The operation a request names, given the query parameters each operation reads
 * (`parameters(op)`, from its input binding). Throws S3's answer when there is none:
 * - 501 `NotImplemented` for an operation S3 has and the sandbox does not model;
 * - 405 `MethodNotAllowed` for a sub-resource the method does not apply to, and on a bucket or the
 *   service for a parameter of another operation (`PUT /bucket?uploads`, `?max-keys`);
 * - 400 `InvalidArgument` for a parameter no operation takes on a bucket or the service, or a
 *   sub-resource value none takes (`list-type=3`).
 * On an object, parameters that are not the operation's are ignored, as S3 ignores a cache-buster.
 */
export function route(
  method: string,
  level: Level,
  query: readonly (readonly [string, string])[],
  headers: ReadonlyMap<string, string>,
  parameters: (op: string) => readonly string[],
): Route {
  const keys = query.map(([k]) => k).filter((k) => !isSigningParameter(k))
  const subs = keys.filter((k) => SUBS[level].has(k))
  const found = ROUTES.find(
    (r) =>
      r.level === level &&
      r.method === method &&
      (r.sub === undefined
        ? subs.length === 0
        : subs.includes(r.sub) &&
          (r.value === undefined || query.some(([k, v]) => k === r.sub && v === r.value))) &&
      (r.header === undefined || headers.has(r.header)),
  )
  if (!found) {
    const sub = subs[0]
    if (sub !== undefined && ROUTES.some((r) => r.level === level && r.sub === sub && r.method === method))
      throw invalidArgument(
        `Invalid value for the query parameter "${sub}"`,
        sub,
        query.find(([k]) => k === sub)?.[1] ?? '',
      )
    throw methodNotAllowed(method, RESOURCE_TYPE[level])
  }
  if (found.unmodelled)
    throw notImplemented(
      `${found.op} (${method} ${level === O ? '/bucket/key' : level === B ? '/bucket' : '/'}${found.sub ? `?${found.sub}` : ''})`,
    )
  if (level !== O) {
    const own = new Set(parameters(found.op))
    const other = keys.find((k) => k !== found.sub && !own.has(k))
    if (other !== undefined) {
      if (
        SUBS.object.has(other) ||
        SUBS.bucket.has(other) ||
        ROUTES.some((r) => parameters(r.op).includes(other))
      )
        throw methodNotAllowed(method, RESOURCE_TYPE[level])
      throw invalidArgument(
        `${method} on ${level === B ? 'a bucket' : 'the service'} (${found.op}) does not take the query parameter "${other}"`,
        other,
        '',
      )
    }
  }
  return found
}
