/**
 * STS's error answers: https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html#API_AssumeRole_Errors
 * and https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html.
 */
import { AwsError } from '../../errors.js'

/** `MalformedPolicyDocument` (400): the session policy is not valid JSON or not a policy. */
export function malformedPolicyDocument(message: string): AwsError {
  return new AwsError('MalformedPolicyDocument', message, 400)
}

/** `PackedPolicyTooLarge` (400). */
export function packedPolicyTooLarge(): AwsError {
  return new AwsError('PackedPolicyTooLarge', 'The provided policy is too large.', 400)
}

/** `ValidationError` (400) with a free-form message. */
export function validationError(message: string): AwsError {
  return new AwsError('ValidationError', message, 400)
}

/** `AccessDenied` (403) with a free-form message. */
export function accessDenied(message: string): AwsError {
  return new AwsError('AccessDenied', message, 403)
}
