/**
 * The one error type services throw for expected AWS errors. The gateway renders it in the
 * protocol of the service that threw it (awsQuery XML, awsJson, restXml), so a service only says
 * what went wrong, never how to serialize it.
 */

/** An AWS error answer: code, HTTP status, message, and extra fields some errors carry. */
export class AwsError extends Error {
  override readonly name = 'AwsError'
  /** AWS's error code, e.g. `NoSuchBucket` or `NotFoundException`. */
  readonly code: string
  /** HTTP status: 4xx for the caller's mistakes. */
  readonly status: number
  /** `Sender` for 4xx, `Receiver` for 5xx (awsQuery's `<Type>`). */
  readonly type: 'Sender' | 'Receiver'
  /** Extra elements S3 adds to `<Error>` (e.g. `BucketName`, `Key`), in order. */
  readonly extra: Readonly<Record<string, string>>
  /** Extra response headers (e.g. `Allow` for 405). */
  readonly headers: Readonly<Record<string, string>>

  constructor(
    code: string,
    message: string,
    status = 400,
    extra: Readonly<Record<string, string>> = {},
    headers: Readonly<Record<string, string>> = {},
  ) {
    super(message)
    this.code = code
    this.status = status
    this.type = status >= 500 ? 'Receiver' : 'Sender'
    this.extra = extra
    this.headers = headers
  }
}

/** True for {@link AwsError}. */
export function isAwsError(e: unknown): e is AwsError {
  return e instanceof AwsError
}
