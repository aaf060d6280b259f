/**
 * S3's error answers, from https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList
 * (code, HTTP status and message as listed there).
 */
import { AwsError } from '../../errors.js'

/** `NoSuchBucket` (404). */
export function noSuchBucket(bucket: string): AwsError {
  return new AwsError('NoSuchBucket', 'The specified bucket does not exist', 404, { BucketName: bucket })
}

/** `NoSuchKey` (404). */
export function noSuchKey(key: string, headers: Record<string, string> = {}): AwsError {
  return new AwsError('NoSuchKey', 'The specified key does not exist.', 404, { Key: key }, headers)
}

/** `NoSuchVersion` (404). */
export function noSuchVersion(key: string, versionId: string): AwsError {
  return new AwsError('NoSuchVersion', 'The specified version does not exist.', 404, {
    Key: key,
    VersionId: versionId,
  })
}

/** `NoSuchUpload` (404). */
export function noSuchUpload(uploadId: string): AwsError {
  return new AwsError(
    'NoSuchUpload',
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    404,
    { UploadId: uploadId },
  )
}

/** `InvalidBucketName` (400). */
export function invalidBucketName(bucket: string): AwsError {
  return new AwsError('InvalidBucketName', 'The specified bucket is not valid.', 400, { BucketName: bucket })
}

/** `BucketAlreadyExists` (409): the name is taken by another account. */
export function bucketAlreadyExists(bucket: string): AwsError {
  return new AwsError(
    'BucketAlreadyExists',
    'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.',
    409,
    { BucketName: bucket },
  )
}

/** `BucketAlreadyOwnedByYou` (409), outside us-east-1. */
export function bucketAlreadyOwnedByYou(bucket: string): AwsError {
  return new AwsError(
    'BucketAlreadyOwnedByYou',
    'Your previous request to create the named bucket succeeded and you already own it.',
    409,
    { BucketName: bucket },
  )
}

/** `BucketNotEmpty` (409). */
export function bucketNotEmpty(bucket: string): AwsError {
  return new AwsError('BucketNotEmpty', 'The bucket you tried to delete is not empty', 409, {
    BucketName: bucket,
  })
}

/** `MalformedXML` (400). */
export function malformedXml(): AwsError {
  return new AwsError(
    'MalformedXML',
    'The XML you provided was not well-formed or did not validate against our published schema',
    400,
  )
}

/**
 * `MalformedACLError` (400): an AccessControlPolicy body that is not well-formed or does not
 * validate against S3's schema.
 */
export function malformedAcl(): AwsError {
  return new AwsError(
    'MalformedACLError',
    'The XML you provided was not well-formed or did not validate against our published schema',
    400,
  )
}

/**
 * `MissingRequestBodyError` (400): "You sent an empty XML document as a request", for an operation
 * whose body the model requires; S3 says "Request Body is empty"
 * (https://github.com/aws/aws-sdk-cpp/issues/733 shows the answer).
 */
export function missingRequestBody(): AwsError {
  return new AwsError('MissingRequestBodyError', 'Request Body is empty', 400)
}

/** `MalformedPolicy` (400). */
export function malformedPolicy(message: string): AwsError {
  return new AwsError('MalformedPolicy', message, 400)
}

/** `InvalidArgument` (400). */
export function invalidArgument(message: string, name?: string, value?: string): AwsError {
  return new AwsError(
    'InvalidArgument',
    message,
    400,
    name !== undefined ? { ArgumentName: name, ArgumentValue: value ?? '' } : {},
  )
}

/** `InvalidRequest` (400). */
export function invalidRequest(message: string): AwsError {
  return new AwsError('InvalidRequest', message, 400)
}

/** `MethodNotAllowed` (405). */
export function methodNotAllowed(method: string, resourceType: string): AwsError {
  return new AwsError('MethodNotAllowed', 'The specified method is not allowed against this resource.', 405, {
    Method: method,
    ResourceType: resourceType,
  })
}

/** `InvalidRange` (416). */
export function invalidRange(size: number, range: string): AwsError {
  return new AwsError('InvalidRange', 'The requested range is not satisfiable', 416, {
    RangeRequested: range,
    ActualObjectSize: String(size),
  })
}

/** `InvalidPartNumber` (416): a `partNumber` beyond the object's parts (one part for an object not uploaded in parts). */
export function invalidPartNumber(): AwsError {
  return new AwsError('InvalidPartNumber', 'The requested partnumber is not satisfiable', 416)
}

/** S3's message for a part number that is not an integer from 1 to 10,000 (`InvalidArgument`). */
export const PART_NUMBER_MESSAGE = 'Part number must be an integer between 1 and 10000, inclusive'

/** `PreconditionFailed` (412). */
export function preconditionFailed(condition: string): AwsError {
  return new AwsError(
    'PreconditionFailed',
    'At least one of the pre-conditions you specified did not hold',
    412,
    {
      Condition: condition,
    },
  )
}

/** `BadDigest` (400): a Content-MD5 or checksum that does not match the body. */
export function badDigest(
  message = 'The Content-MD5 you specified did not match what we received.',
): AwsError {
  return new AwsError('BadDigest', message, 400)
}

/** `InvalidDigest` (400). */
export function invalidDigest(): AwsError {
  return new AwsError('InvalidDigest', 'The Content-MD5 you specified is not valid.', 400)
}

/** `InvalidPart` (400). */
export function invalidPart(): AwsError {
  return new AwsError(
    'InvalidPart',
    "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag.",
    400,
  )
}

/** `InvalidPartOrder` (400). */
export function invalidPartOrder(): AwsError {
  return new AwsError(
    'InvalidPartOrder',
    'The list of parts was not in ascending order. Parts must be ordered by part number.',
    400,
  )
}

/** `EntityTooSmall` (400). */
export function entityTooSmall(): AwsError {
  return new AwsError(
    'EntityTooSmall',
    'Your proposed upload is smaller than the minimum allowed object size.',
    400,
  )
}

/** A configuration that was never set (404): `NoSuchBucketPolicy`, `NoSuchTagSet`… */
export function notConfigured(code: string, message: string, bucket: string): AwsError {
  return new AwsError(code, message, 404, { BucketName: bucket })
}

/** `AccessControlListNotSupported` (400): ACLs on a bucket with `BucketOwnerEnforced`. */
export function aclNotSupported(): AwsError {
  return new AwsError('AccessControlListNotSupported', 'The bucket does not allow ACLs', 400)
}

/** `AuthorizationHeaderMalformed` (400): signed for another region than the bucket's. */
export function wrongRegion(signed: string, bucketRegion: string): AwsError {
  return new AwsError(
    'AuthorizationHeaderMalformed',
    `The authorization header is malformed; the region '${signed}' is wrong; expecting '${bucketRegion}'`,
    400,
    { Region: bucketRegion },
    { 'x-amz-bucket-region': bucketRegion },
  )
}

/**
 * `NotImplemented` (501): "A header you provided implies functionality that is not implemented"
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList). The sandbox
 * answers it for the S3 features it does not model, so nothing is accepted and then ignored.
 */
export function notImplemented(what: string): AwsError {
  return new AwsError(
    'NotImplemented',
    `The crosspipe sandbox does not implement ${what} (see the sandbox's S3 SPEC.md, "Not modelled").`,
    501,
  )
}
