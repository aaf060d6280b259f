/**
 * CodeBuild's errors (https://docs.aws.amazon.com/codebuild/latest/APIReference/CommonErrors.html
 * and each operation's Errors section): all HTTP 400 in awsJson's `__type` form.
 */
import { AwsError } from '../../errors.js'

/** `InvalidInputException`: the input fails a constraint. */
export function invalidInput(message: string): AwsError {
  return new AwsError('InvalidInputException', message, 400)
}

/** `ResourceNotFoundException`: no such project or build. */
export function notFound(message: string): AwsError {
  return new AwsError('ResourceNotFoundException', message, 400)
}

/** `ResourceAlreadyExistsException`: a project of that name exists. */
export function alreadyExists(message: string): AwsError {
  return new AwsError('ResourceAlreadyExistsException', message, 400)
}

/** `AccountLimitExceededException`. */
export function limitExceeded(message: string): AwsError {
  return new AwsError('AccountLimitExceededException', message, 400)
}
