/**
 * Authentication failures, worded per protocol family as AWS words them: the awsQuery services
 * (https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html), the awsJson services
 * (https://docs.aws.amazon.com/kms/latest/APIReference/CommonErrors.html) and S3
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList).
 */
import { AwsError } from '../errors.js'
import { MAX_PRESIGNED_EXPIRES_SECONDS, type SigningRuleProblem } from './sigv4.js'

/** The protocol family a failure is rendered for. */
export type AuthFamily = 'query' | 'json' | 's3'

/** The ways authentication fails. */
export type AuthFailure =
  | { readonly kind: 'missing' }
  | { readonly kind: 'malformed'; readonly message: string; readonly presigned: boolean }
  | { readonly kind: 'sigv2'; readonly presigned: boolean }
  | { readonly kind: 'unknown-key'; readonly accessKeyId: string }
  | { readonly kind: 'bad-token' }
  | { readonly kind: 'expired-token' }
  | {
      readonly kind: 'signature'
      readonly accessKeyId: string
      readonly stringToSign?: string
      readonly canonicalRequest?: string
    }
  | { readonly kind: 'skewed'; readonly requestTime: Date; readonly now: Date }
  | { readonly kind: 'expired-url'; readonly expiresAt: Date; readonly now: Date; readonly expires: number }
  | { readonly kind: 'bad-date' }
  | { readonly kind: 'content-sha256-mismatch'; readonly claimed: string; readonly actual: string }
  | SigningRuleProblem

function amz(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')
}

const NOT_SIGNED = 'There were headers present in the request which were not signed'

const SIG_MESSAGE =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.'
const TOKEN_INVALID = 'The security token included in the request is invalid.'
const TOKEN_EXPIRED = 'The security token included in the request is expired'

/** The AwsError for an authentication failure in a protocol family. */
export function authError(f: AuthFailure, family: AuthFamily): AwsError {
  const json = family === 'json'
  switch (f.kind) {
    case 'missing':
      if (family === 's3') return new AwsError('AccessDenied', 'Access Denied', 403)
      return json
        ? new AwsError('MissingAuthenticationTokenException', 'Missing Authentication Token', 400)
        : new AwsError('MissingAuthenticationToken', 'Request is missing Authentication Token', 403)
    case 'malformed':
      if (family === 's3')
        return new AwsError(
          f.presigned ? 'AuthorizationQueryParametersError' : 'AuthorizationHeaderMalformed',
          f.message,
          400,
        )
      return new AwsError(json ? 'IncompleteSignatureException' : 'IncompleteSignature', f.message, 400)
    case 'sigv2':
      // What S3 answers for SigV2 where only SigV4 is accepted ("Please use AWS4-HMAC-SHA256",
      // https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList), with how
      // to make the client sign with SigV4.
      return new AwsError(
        family === 's3' ? 'InvalidRequest' : json ? 'IncompleteSignatureException' : 'IncompleteSignature',
        `The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256. The crosspipe sandbox accepts Signature Version 4 only; this ${f.presigned ? 'presigned URL' : 'request'} is signed with Signature Version 2: with the AWS CLI v1 or boto3, set \`s3 =\\n    signature_version = s3v4\` in the profile (the profiles \`crosspipe sandbox env\` writes do) or Config(signature_version='s3v4').`,
        400,
      )
    case 'unknown-key':
      if (family === 's3')
        return new AwsError(
          'InvalidAccessKeyId',
          'The AWS Access Key Id you provided does not exist in our records.',
          403,
          {
            AWSAccessKeyId: f.accessKeyId,
          },
        )
      return json
        ? new AwsError('UnrecognizedClientException', TOKEN_INVALID, 400)
        : new AwsError('InvalidClientTokenId', TOKEN_INVALID, 403)
    case 'bad-token':
      if (family === 's3')
        return new AwsError('InvalidToken', 'The provided token is malformed or otherwise invalid.', 400)
      return json
        ? new AwsError('UnrecognizedClientException', TOKEN_INVALID, 400)
        : new AwsError('InvalidClientTokenId', TOKEN_INVALID, 403)
    case 'expired-token':
      if (family === 's3') return new AwsError('ExpiredToken', 'The provided token has expired.', 400)
      return json
        ? new AwsError('ExpiredTokenException', TOKEN_EXPIRED, 400)
        : new AwsError('ExpiredToken', TOKEN_EXPIRED, 403)
    case 'signature':
      if (family === 's3')
        return new AwsError(
          'SignatureDoesNotMatch',
          'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
          403,
          {
            AWSAccessKeyId: f.accessKeyId,
            ...(f.stringToSign !== undefined ? { StringToSign: f.stringToSign } : {}),
            ...(f.canonicalRequest !== undefined ? { CanonicalRequest: f.canonicalRequest } : {}),
          },
        )
      return json
        ? new AwsError('InvalidSignatureException', SIG_MESSAGE, 400)
        : new AwsError('SignatureDoesNotMatch', SIG_MESSAGE, 403)
    case 'skewed': {
      if (family === 's3')
        return new AwsError(
          'RequestTimeTooSkewed',
          'The difference between the request time and the current time is too large.',
          403,
          {
            RequestTime: amz(f.requestTime),
            ServerTime: f.now.toISOString(),
            MaxAllowedSkewMilliseconds: '900000',
          },
        )
      const early = new Date(f.now.getTime() - 15 * 60 * 1000)
      const message =
        f.requestTime < f.now
          ? `Signature expired: ${amz(f.requestTime)} is now earlier than ${amz(early)} (${amz(f.now)} - 15 min.)`
          : `Signature not yet current: ${amz(f.requestTime)} is still later than ${amz(new Date(f.now.getTime() + 15 * 60 * 1000))} (${amz(f.now)} + 15 min.)`
      return json
        ? new AwsError('InvalidSignatureException', message, 400)
        : new AwsError('SignatureDoesNotMatch', message, 403)
    }
    case 'expired-url':
      if (family === 's3')
        return new AwsError('AccessDenied', 'Request has expired', 403, {
          'X-Amz-Expires': String(f.expires),
          Expires: f.expiresAt.toISOString(),
          ServerTime: f.now.toISOString(),
        })
      return json
        ? new AwsError('InvalidSignatureException', 'Signature expired', 400)
        : new AwsError('SignatureDoesNotMatch', 'Signature expired', 403)
    case 'bad-date':
      if (family === 's3')
        return new AwsError(
          'AccessDenied',
          'AWS authentication requires a valid Date or x-amz-date header',
          403,
        )
      return json
        ? new AwsError('IncompleteSignatureException', "Date must be in ISO-8601 'basic format'.", 400)
        : new AwsError('IncompleteSignature', "Date must be in ISO-8601 'basic format'.", 400)
    case 'host-not-signed':
      // S3 names the header like any other unsigned one; the other services have their own sentence.
      if (family === 's3') return new AwsError('AccessDenied', NOT_SIGNED, 403, { HeadersNotSigned: 'host' })
      return new AwsError(
        json ? 'IncompleteSignatureException' : 'IncompleteSignature',
        "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        400,
      )
    case 'headers-not-signed':
      if (family === 's3')
        return new AwsError('AccessDenied', NOT_SIGNED, 403, { HeadersNotSigned: f.headers.join(', ') })
      // AWS documents the rule but not these services' wording: S3's sentence, with the headers named.
      return new AwsError(
        json ? 'IncompleteSignatureException' : 'IncompleteSignature',
        `${NOT_SIGNED}: ${f.headers.join(', ')}`,
        400,
      )
    case 'bad-expires': {
      const message =
        f.expires < 0
          ? 'X-Amz-Expires must be non-negative'
          : `X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than ${MAX_PRESIGNED_EXPIRES_SECONDS} seconds`
      if (family === 's3') return new AwsError('AuthorizationQueryParametersError', message, 400)
      return new AwsError(json ? 'IncompleteSignatureException' : 'IncompleteSignature', message, 400)
    }
    case 'content-sha256-mismatch':
      return new AwsError(
        'XAmzContentSHA256Mismatch',
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
        400,
        { ClientComputedContentSHA256: f.claimed, S3ComputedContentSHA256: f.actual },
      )
  }
}
