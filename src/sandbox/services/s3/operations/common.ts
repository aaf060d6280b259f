/**
 * The members every S3 operation honours or accepts, whatever its binding says (see S3Members in
 * operation.ts): clients send them routinely — the AWS SDKs and CLIs send checksum headers and
 * Content-MD5 with bodies, `x-amz-expected-bucket-owner` and `x-amz-request-payer` when asked to.
 */
import type { S3Members } from '../operation.js'

export const COMMON_MEMBERS: S3Members<Record<string, unknown>> = {
  honours: [
    // Checked by api.ts on every operation on a bucket: AccessDenied when the bucket's owner differs
    // (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-owner-condition.html).
    'ExpectedBucketOwner',
    // Checked against the body by the operation or, for the others, by api.ts before it runs
    // (BadDigest / InvalidDigest: https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html).
    'ContentMD5',
    'ChecksumAlgorithm',
    // The body's length, which the gateway reads the body by.
    'ContentLength',
  ],
  accepts: {
    // No bucket here is a Requester Pays bucket (PutBucketRequestPayment is not modelled), and S3
    // charges a bucket's owner for requests to other buckets whatever the header says
    // (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ObjectsinRequesterPaysBuckets.html).
    RequestPayer: 'no bucket here is a Requester Pays bucket: the owner pays, as S3 does for such buckets',
  },
}

/** Why a member is refused, for members many operations share. */
export const COMMON_HINTS: Readonly<Record<string, string>> = {
  SSECustomerAlgorithm:
    'server-side encryption with customer-provided keys (SSE-C) is not modelled; use SSE-S3 or SSE-KMS',
  SSECustomerKey:
    'server-side encryption with customer-provided keys (SSE-C) is not modelled; use SSE-S3 or SSE-KMS',
  SSECustomerKeyMD5:
    'server-side encryption with customer-provided keys (SSE-C) is not modelled; use SSE-S3 or SSE-KMS',
  CopySourceSSECustomerAlgorithm: 'SSE-C is not modelled',
  CopySourceSSECustomerKey: 'SSE-C is not modelled',
  CopySourceSSECustomerKeyMD5: 'SSE-C is not modelled',
  ObjectLockMode: 'no bucket here has Object Lock',
  ObjectLockRetainUntilDate: 'no bucket here has Object Lock',
  ObjectLockLegalHoldStatus: 'no bucket here has Object Lock',
  BypassGovernanceRetention: 'no bucket here has Object Lock',
  WebsiteRedirectLocation: 'static website hosting is not modelled',
  GrantFullControl:
    'object and bucket ACL grants are not modelled: use bucket policies (or a canned x-amz-acl)',
  GrantRead: 'object and bucket ACL grants are not modelled: use bucket policies (or a canned x-amz-acl)',
  GrantReadACP: 'object and bucket ACL grants are not modelled: use bucket policies (or a canned x-amz-acl)',
  GrantWriteACP: 'object and bucket ACL grants are not modelled: use bucket policies (or a canned x-amz-acl)',
  GrantWrite: 'object and bucket ACL grants are not modelled: use bucket policies (or a canned x-amz-acl)',
  MFA: 'MFA delete is not modelled',
  SSEKMSEncryptionContext:
    'the sandbox sets the encryption context S3 sets (the object ARN) and takes no other',
  IfMatch: 'conditional writes are not modelled',
  IfNoneMatch: 'conditional writes are not modelled',
}
