/**
 * KMS's error answers (awsJson `__type`), from the "Errors" sections of
 * https://docs.aws.amazon.com/kms/latest/APIReference/ — all HTTP 400 except where noted.
 */
import { AwsError } from '../../errors.js'

/** `NotFoundException`: no such key or alias. */
export function notFound(message: string): AwsError {
  return new AwsError('NotFoundException', message, 400)
}

/** `DisabledException`: the key is disabled. */
export function disabled(keyArn: string): AwsError {
  return new AwsError('DisabledException', `${keyArn} is disabled.`, 400)
}

/** `KMSInvalidStateException`: e.g. the key is pending deletion. */
export function invalidState(message: string): AwsError {
  return new AwsError('KMSInvalidStateException', message, 400)
}

/** `InvalidCiphertextException`: the blob is not ours, was altered, or the context differs. */
export function invalidCiphertext(): AwsError {
  return new AwsError('InvalidCiphertextException', '', 400)
}

/** `IncorrectKeyException`: Decrypt named a key that did not encrypt the blob. */
export function incorrectKey(): AwsError {
  return new AwsError(
    'IncorrectKeyException',
    'The key ID in the request does not identify a CMK that can perform this operation.',
    400,
  )
}

/** `ValidationException`: a parameter breaks its constraint. */
export function validation(message: string): AwsError {
  return new AwsError('ValidationException', message, 400)
}

/** `AlreadyExistsException`. */
export function alreadyExists(message: string): AwsError {
  return new AwsError('AlreadyExistsException', message, 400)
}

/** `MalformedPolicyDocumentException`. */
export function malformedPolicy(message: string): AwsError {
  return new AwsError('MalformedPolicyDocumentException', message, 400)
}

/** `NotAuthorizedException`: e.g. an alias in the reserved `alias/aws/` namespace. */
export function notAuthorized(message: string): AwsError {
  return new AwsError('NotAuthorizedException', message, 400)
}

/** `UnsupportedOperationException`: asymmetric and HMAC keys are not modelled. */
export function unsupported(message: string): AwsError {
  return new AwsError('UnsupportedOperationException', message, 400)
}

/** `InvalidMarkerException`. */
export function invalidMarker(): AwsError {
  return new AwsError('InvalidMarkerException', 'Invalid marker', 400)
}
