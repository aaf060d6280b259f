/**
 * The one helper that builds and parses ARNs. DESIGN.md: no literal partitions, account ids or
 * regions anywhere else in src/.
 *
 * ARN format: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html
 */

/** A parsed ARN. `resource` is everything after the fifth colon (it may itself contain colons). */
export interface Arn {
  readonly partition: string
  readonly service: string
  readonly region: string
  readonly account: string
  readonly resource: string
}

// The partition table is one of the AWS facts: it lives in ./aws-facts.ts with the others.
export { PARTITIONS, ALL_REGIONS, partitionOf } from './aws-facts.js'

/** Parses an ARN; undefined when the string is not one (fewer than six colon-separated parts or no `arn:` prefix). */
export function parseArn(value: string): Arn | undefined {
  if (!value.startsWith('arn:')) return undefined
  const parts = value.split(':')
  if (parts.length < 6) return undefined
  const [, partition, service, region, account] = parts as [string, string, string, string, string]
  if (!partition || !service) return undefined
  return { partition, service, region, account, resource: parts.slice(5).join(':') }
}

/** Options for {@link formatArn}. */
export interface ArnParts {
  readonly partition: string
  readonly service: string
  readonly region?: string
  readonly account?: string
  readonly resource: string
}

/** Builds an ARN string from its parts (region and account empty where the service has none, e.g. IAM, S3). */
export function formatArn(p: ArnParts): string {
  return `arn:${p.partition}:${p.service}:${p.region ?? ''}:${p.account ?? ''}:${p.resource}`
}

/** `arn:<partition>:iam::<account>:root` — the account principal. */
export function accountRootArn(partition: string, account: string): string {
  return formatArn({ partition, service: 'iam', account, resource: 'root' })
}

/** `arn:<partition>:iam::<account>:role/<path><name>`. */
export function roleArn(partition: string, account: string, name: string, path = '/'): string {
  return formatArn({ partition, service: 'iam', account, resource: `role${path}${name}` })
}

/**
 * `arn:<partition>:iam::aws:policy/<path><name>` — an AWS managed policy, the same in every account
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html#aws-managed-policies).
 */
export function awsManagedPolicyArn(partition: string, name: string, path = '/'): string {
  return formatArn({ partition, service: 'iam', account: 'aws', resource: `policy${path}${name}` })
}
