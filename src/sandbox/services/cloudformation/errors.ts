/**
 * CloudFormation's error answers. Codes and HTTP statuses from
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/CommonErrors.html and each
 * action's "Errors" section (e.g. API_CreateStack.html: AlreadyExistsException,
 * InsufficientCapabilitiesException, LimitExceededException, TokenAlreadyExistsException).
 * Message texts are the ones clients match on; SPEC.md lists where each one comes from.
 */
import { AwsError } from '../../errors.js'

/** `ValidationError` (400): bad input, unknown stack, template format errors. */
export function validationError(message: string): AwsError {
  return new AwsError('ValidationError', message, 400)
}

/** `Template format error: …` — the prefix CloudFormation gives every template structure error. */
export function templateError(message: string): AwsError {
  return validationError(`Template format error: ${message}`)
}

/** `AlreadyExistsException` (400): `Stack [name] already exists`. */
export function alreadyExists(message: string): AwsError {
  return new AwsError('AlreadyExistsException', message, 400)
}

/** `InsufficientCapabilitiesException` (400): `Requires capabilities : [CAPABILITY_NAMED_IAM]`. */
export function insufficientCapabilities(capability: string): AwsError {
  return new AwsError('InsufficientCapabilitiesException', `Requires capabilities : [${capability}]`, 400)
}

/** `ChangeSetNotFound` (404): `ChangeSet [name] does not exist`. */
export function changeSetNotFound(name: string): AwsError {
  return new AwsError('ChangeSetNotFound', `ChangeSet [${name}] does not exist`, 404)
}

/** `InvalidChangeSetStatus` (400): the change set cannot be executed or deleted in its state. */
export function invalidChangeSetStatus(message: string): AwsError {
  return new AwsError('InvalidChangeSetStatus', message, 400)
}

/** `AccessDenied` (403), the shape the gateway gives every denied call. */
export function accessDenied(message: string): AwsError {
  return new AwsError('AccessDenied', message, 403)
}

/** `Stack with id X does not exist` — DescribeStacks and friends for an unknown name or id. */
export function stackNotFound(nameOrId: string): AwsError {
  return validationError(`Stack with id ${nameOrId} does not exist`)
}
