/**
 * Canned ACLs (`x-amz-acl`) under S3 Object Ownership. The sandbox does not model ACLs: every
 * bucket and object is readable as the owner's `FULL_CONTROL` only, which is exactly what S3 keeps
 * with the bucket owner enforced setting, the default for new buckets since April 2023
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/create-bucket-overview.html). So an ACL
 * that grants nothing beyond that is accepted, one that would grant more is refused as S3 refuses it
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-ownership-error-responses.html),
 * and one on a bucket with ACLs enabled (ObjectWriter, BucketOwnerPreferred) is 501, never
 * accepted and ignored.
 */
import { AwsError } from '../../errors.js'
import { aclNotSupported, invalidArgument, malformedAcl, notImplemented } from './errors.js'
import type { BucketRecord } from './store.js'

/** The canned ACLs (https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html#canned-acl). */
export const CANNED_ACLS = [
  'private',
  'public-read',
  'public-read-write',
  'aws-exec-read',
  'authenticated-read',
  'bucket-owner-read',
  'bucket-owner-full-control',
  'log-delivery-write',
] as const

/**
 * Canned ACLs that give a bucket nothing beyond its owner's FULL_CONTROL: `private`, and the two
 * object-only ACLs that "Amazon S3 ignores" when a bucket is created with them (the canned ACL
 * table above).
 */
const OWNER_ONLY_ON_BUCKET = new Set(['private', 'bucket-owner-read', 'bucket-owner-full-control'])

function known(acl: string): void {
  if (!(CANNED_ACLS as readonly string[]).includes(acl))
    throw invalidArgument(`${acl} is not a valid canned ACL`, 'x-amz-acl', acl)
}

/** `InvalidBucketAclWithObjectOwnership` (400): a bucket ACL that would grant more than ownership allows. */
export function invalidBucketAclWithObjectOwnership(): AwsError {
  return new AwsError(
    'InvalidBucketAclWithObjectOwnership',
    "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
    400,
  )
}

function enforced(ownership: BucketRecord['ownership'] | undefined): boolean {
  return (ownership ?? 'BucketOwnerEnforced') === 'BucketOwnerEnforced'
}

/**
 * CreateBucket's `x-amz-acl` with the ownership the bucket will have: with BucketOwnerEnforced, an
 * ACL beyond the owner's is `InvalidBucketAclWithObjectOwnership` (the troubleshooting page above:
 * "if your CreateBucket request sets Bucket owner enforced and specifies a bucket ACL that provides
 * access to an external AWS account, your request fails").
 */
export function checkCreateBucketAcl(
  acl: string | undefined,
  grants: boolean,
  ownership: BucketRecord['ownership'],
): void {
  if (grants) throw notImplemented('ACL grant headers (x-amz-grant-*); use a canned ACL (x-amz-acl)')
  if (acl === undefined) return
  known(acl)
  if (OWNER_ONLY_ON_BUCKET.has(acl)) return
  if (enforced(ownership)) throw invalidBucketAclWithObjectOwnership()
  throw notImplemented(`the bucket ACL ${acl} (ACLs are not modelled; buckets keep the owner's FULL_CONTROL)`)
}

/**
 * PutBucketAcl: "Requests to set ACLs or update ACLs fail with a 400 error and return the
 * AccessControlListNotSupported error code", except those that grant only the bucket owner full
 * control, which the bucket already has ("The bucket only accepts PUT requests that don't specify
 * an ACL or specify bucket owner full control ACLs … or a custom ACL in XML format that grants the
 * same permissions": https://docs.aws.amazon.com/AmazonS3/latest/API/API_OwnershipControlsRule.html).
 * `ownerOnly` says whether an XML AccessControlPolicy body grants exactly that.
 */
export function checkPutBucketAcl(
  acl: string | undefined,
  body: { ownerOnly: boolean } | undefined,
  grants: boolean,
  b: BucketRecord,
): void {
  if (grants) throw notImplemented('ACL grant headers (x-amz-grant-*); use a canned ACL (x-amz-acl)')
  if (acl !== undefined && body !== undefined)
    throw new AwsError('UnexpectedContent', 'This request does not support content', 400)
  if (acl === undefined && body === undefined) throw malformedAcl()
  if (acl !== undefined) known(acl)
  if (acl !== undefined ? OWNER_ONLY_ON_BUCKET.has(acl) : body!.ownerOnly) return
  if (enforced(b.ownership)) throw aclNotSupported()
  throw notImplemented('bucket ACLs that grant access beyond the owner (ACLs are not modelled)')
}

/**
 * `x-amz-acl` on a write of an object (PutObject, CopyObject, CreateMultipartUpload): with
 * BucketOwnerEnforced "All S3 PUT requests must either specify the bucket-owner-full-control canned
 * ACL or not specify an ACL" (the troubleshooting page above), else `AccessControlListNotSupported`.
 */
export function checkObjectAcl(acl: string | undefined, b: BucketRecord): void {
  if (acl === undefined) return
  if (enforced(b.ownership)) {
    if (acl !== 'bucket-owner-full-control') throw aclNotSupported()
    return
  }
  known(acl)
  if (acl !== 'private' && acl !== 'bucket-owner-full-control')
    throw notImplemented(
      `the object ACL ${acl} (ACLs are not modelled; objects keep the owner's FULL_CONTROL)`,
    )
}
