/**
 * IAM's error answers, from https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html
 * and each action's "Errors" section.
 */
import { AwsError } from '../../errors.js'

/** `NoSuchEntity` (404): e.g. `The role with name X cannot be found.` */
export function noSuchEntity(message: string): AwsError {
  return new AwsError('NoSuchEntity', message, 404)
}

/** `EntityAlreadyExists` (409). */
export function entityAlreadyExists(message: string): AwsError {
  return new AwsError('EntityAlreadyExists', message, 409)
}

/** `MalformedPolicyDocument` (400). */
export function malformedPolicy(message: string): AwsError {
  return new AwsError('MalformedPolicyDocument', message, 400)
}

/** `DeleteConflict` (409): the entity still has attachments or policies. */
export function deleteConflict(message: string): AwsError {
  return new AwsError('DeleteConflict', message, 409)
}

/** `ValidationError` (400). */
export function validationError(message: string): AwsError {
  return new AwsError('ValidationError', message, 400)
}

/** `InvalidInput` (400). */
export function invalidInput(message: string): AwsError {
  return new AwsError('InvalidInput', message, 400)
}

/** `LimitExceeded` (409). */
export function limitExceeded(message: string): AwsError {
  return new AwsError('LimitExceeded', message, 409)
}
