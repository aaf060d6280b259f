/**
 * Systems Manager's error answers (awsJson `__type`), from the "Errors" sections of
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/ — all HTTP 400.
 */
import { AwsError } from '../../errors.js'

/** `ParameterNotFound` (API_GetParameter.html). */
export function parameterNotFound(name: string): AwsError {
  return new AwsError('ParameterNotFound', `Parameter ${name} not found.`, 400)
}

/** `ParameterVersionNotFound`: the `name:version` selector names no version. */
export function versionNotFound(selector: string): AwsError {
  return new AwsError(
    'ParameterVersionNotFound',
    `Systems Manager could not find version ${selector} of the parameter.`,
    400,
  )
}

/** `ParameterAlreadyExists` (API_PutParameter.html), with the message the AWS CLI shows. */
export function alreadyExists(): AwsError {
  return new AwsError(
    'ParameterAlreadyExists',
    'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
    400,
  )
}

/** `ValidationException`: a parameter breaks its constraint. */
export function validation(message: string): AwsError {
  return new AwsError('ValidationException', message, 400)
}

/** `HierarchyLevelLimitExceededException`: more than 15 levels. */
export function hierarchyTooDeep(): AwsError {
  return new AwsError(
    'HierarchyLevelLimitExceededException',
    'A hierarchy can have a maximum of 15 levels.',
    400,
  )
}

/** `HierarchyTypeMismatchException`: an overwrite changes the type. */
export function typeMismatch(): AwsError {
  return new AwsError(
    'HierarchyTypeMismatchException',
    'Parameter Type cannot be changed when updating a parameter. You must delete and recreate the parameter with the new type.',
    400,
  )
}

/** `ParameterPatternMismatchException`: the value does not match AllowedPattern. */
export function patternMismatch(pattern: string): AwsError {
  return new AwsError(
    'ParameterPatternMismatchException',
    `Parameter value, cannot be validated against allowedPattern: ${pattern}`,
    400,
  )
}

/** `InvalidAllowedPatternException`: AllowedPattern is not a regular expression. */
export function invalidPattern(): AwsError {
  return new AwsError(
    'InvalidAllowedPatternException',
    'The request does not meet the regular expression requirement.',
    400,
  )
}

/** `UnsupportedParameterType`: SecureString (not modelled) or an unknown type. */
export function unsupportedType(message: string): AwsError {
  return new AwsError('UnsupportedParameterType', message, 400)
}

/** `InvalidNextToken`. */
export function invalidNextToken(): AwsError {
  return new AwsError('InvalidNextToken', 'The specified token is not valid.', 400)
}

/** `InvalidFilterKey` / `InvalidFilterOption` / `InvalidFilterValue`. */
export function invalidFilter(
  code: 'InvalidFilterKey' | 'InvalidFilterOption' | 'InvalidFilterValue',
  message: string,
): AwsError {
  return new AwsError(code, message, 400)
}

/** `InvalidResourceId`: tagging a parameter that does not exist. */
export function invalidResourceId(): AwsError {
  return new AwsError(
    'InvalidResourceId',
    'The resource ID is not valid. Verify that you entered the correct ID and try again.',
    400,
  )
}

/** `TooManyTagsError`: more than 50 tags. */
export function tooManyTags(): AwsError {
  return new AwsError(
    'TooManyTagsError',
    'The Targets parameter includes too many tags. Remove one or more tags and try the command again.',
    400,
  )
}

/** `UnsupportedOperationException`: behaviour the sandbox does not model, said plainly. */
export function unsupported(message: string): AwsError {
  return new AwsError('UnsupportedOperationException', message, 400)
}
