/**
 * The sandbox's defaults, in one place (DESIGN.md: no literal regions, partitions or account ids
 * elsewhere in src/). Everything here is an option default that callers may override.
 */

/** The region requests fall back to when a client signs for none, and the profiles' region. */
export const DEFAULT_REGION = 'us-east-1'

/** The partition used when a request's region is unknown to the partition table (an AWS fact). */
export { DEFAULT_PARTITION } from '../iam/aws-facts.js'

/** The accounts a sandbox starts with when the caller names none: a CI account and two targets. */
export const DEFAULT_ACCOUNTS: Readonly<Record<string, string>> = {
  ci: '111111111111',
  dev: '222222222222',
  prod: '333333333333',
}

/** The port `crosspipe sandbox` listens on by default (LocalStack's, which tools already expect). */
export const DEFAULT_PORT = 4566

/** Largest request body the gateway reads (S3 single PUTs beyond this must use multipart upload). */
export const MAX_BODY_BYTES = 256 * 1024 * 1024

/** Largest body accepted by the awsQuery / awsJson services (AWS's own limits are far lower). */
export const MAX_API_BODY_BYTES = 16 * 1024 * 1024

/**
 * How far a request's signing time may be from the server's clock: 15 minutes, per
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/signing-elements.html ("within 15 minutes").
 */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000
