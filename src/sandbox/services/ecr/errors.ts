/**
 * ECR's error answers (awsJson `__type`), from the "Errors" sections of
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/ — all HTTP 400.
 */
import { AwsError } from '../../errors.js'

/** `RepositoryNotFoundException` (API_DescribeRepositories.html). */
export function repositoryNotFound(name: string, registryId: string): AwsError {
  return new AwsError(
    'RepositoryNotFoundException',
    `The repository with name '${name}' does not exist in the registry with id '${registryId}'`,
    400,
  )
}

/** `RepositoryAlreadyExistsException` (API_CreateRepository.html). */
export function repositoryExists(name: string, registryId: string): AwsError {
  return new AwsError(
    'RepositoryAlreadyExistsException',
    `The repository with name '${name}' already exists in the registry with id '${registryId}'`,
    400,
  )
}

/** `LifecyclePolicyNotFoundException` (API_GetLifecyclePolicy.html). */
export function lifecyclePolicyNotFound(name: string, registryId: string): AwsError {
  return new AwsError(
    'LifecyclePolicyNotFoundException',
    `Lifecycle policy does not exist for the repository with name '${name}' in the registry with id '${registryId}'`,
    400,
  )
}

/** `RepositoryPolicyNotFoundException` (API_GetRepositoryPolicy.html). */
export function repositoryPolicyNotFound(name: string, registryId: string): AwsError {
  return new AwsError(
    'RepositoryPolicyNotFoundException',
    `Repository policy does not exist for the repository with name '${name}' in the registry with id '${registryId}'`,
    400,
  )
}

/** `InvalidParameterException`: a parameter breaks its constraint. */
export function invalidParameter(message: string): AwsError {
  return new AwsError('InvalidParameterException', message, 400)
}

/** `InvalidTagParameterException`. */
export function invalidTag(message: string): AwsError {
  return new AwsError('InvalidTagParameterException', message, 400)
}

/** `TooManyTagsException`: more than 50 tags. */
export function tooManyTags(): AwsError {
  return new AwsError('TooManyTagsException', 'A repository can have at most 50 tags.', 400)
}

/**
 * Image operations: the sandbox stores no images, so registry logins, pushes and pulls are
 * refused with a sentence saying so, as `UnknownOperationException` (the code the gateway gives
 * any operation a sandbox service does not serve).
 */
export function imagesUnsupported(operation: string): AwsError {
  return new AwsError(
    'UnknownOperationException',
    `${operation}: container images (registry logins, pushing and pulling images) are not supported by the crosspipe sandbox; it keeps ECR repositories and their policies only.`,
    400,
  )
}
