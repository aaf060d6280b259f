/**
 * The S3 service is this list of operations; `routes.ts` names which request reaches which.
 */
import { queryNames } from '../http.js'
import type { Operation } from '../operation.js'
import * as buckets from './buckets.js'
import * as settings from './bucket-settings.js'
import * as multipart from './multipart.js'
import * as objects from './objects.js'

/** Every modelled S3 operation. */
export const OPERATION_LIST: readonly Operation<never, never>[] = [
  buckets.ListBuckets,
  buckets.CreateBucket,
  buckets.HeadBucket,
  buckets.DeleteBucket,
  buckets.GetBucketLocation,
  buckets.ListObjects,
  buckets.ListObjectsV2,
  buckets.ListObjectVersions,
  settings.GetBucketPolicy,
  settings.PutBucketPolicy,
  settings.DeleteBucketPolicy,
  settings.GetBucketPolicyStatus,
  settings.GetBucketEncryption,
  settings.PutBucketEncryption,
  settings.DeleteBucketEncryption,
  settings.GetBucketVersioning,
  settings.PutBucketVersioning,
  settings.GetPublicAccessBlock,
  settings.PutPublicAccessBlock,
  settings.DeletePublicAccessBlock,
  settings.GetBucketOwnershipControls,
  settings.PutBucketOwnershipControls,
  settings.DeleteBucketOwnershipControls,
  settings.GetBucketLifecycleConfiguration,
  settings.PutBucketLifecycleConfiguration,
  settings.DeleteBucketLifecycle,
  settings.GetBucketTagging,
  settings.PutBucketTagging,
  settings.DeleteBucketTagging,
  settings.GetBucketAcl,
  settings.PutBucketAcl,
  ...settings.UNSET_SETTINGS,
  objects.GetObject,
  objects.HeadObject,
  objects.PutObject,
  objects.CopyObject,
  objects.DeleteObject,
  objects.DeleteObjects,
  objects.GetObjectTagging,
  objects.PutObjectTagging,
  objects.DeleteObjectTagging,
  objects.GetObjectAcl,
  objects.GetObjectAttributes,
  ...objects.OBJECT_LOCK,
  multipart.CreateMultipartUpload,
  multipart.UploadPart,
  multipart.UploadPartCopy,
  multipart.CompleteMultipartUpload,
  multipart.AbortMultipartUpload,
  multipart.ListParts,
  multipart.ListMultipartUploads,
] as unknown as readonly Operation<never, never>[]

/** The operations by AWS name. */
export const OPERATIONS: ReadonlyMap<string, Operation<never, never>> = new Map(
  OPERATION_LIST.map((o) => [o.name, o]),
)

const PARAMETERS = new Map(OPERATION_LIST.map((o) => [o.name, queryNames(o.input)]))

/** The query parameters an operation reads (none for an operation S3 has and the sandbox does not model). */
export function parametersOf(op: string): readonly string[] {
  return PARAMETERS.get(op) ?? []
}
