/**
 * The one helper that builds and parses ARNs, and the partition table. DESIGN.md: no literal
 * partitions, account ids or regions anywhere else in src/.
 *
 * ARN format: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html
 * Regions and partitions: https://docs.aws.amazon.com/general/latest/gr/rande.html
 */

/** A parsed ARN. `resource` is everything after the fifth colon (it may itself contain colons). */
export interface Arn {
  readonly partition: string
  readonly service: string
  readonly region: string
  readonly account: string
  readonly resource: string
}

/** Partitions and their regions (commercial, China, GovCloud), as listed in the AWS General Reference. */
export const PARTITIONS: Readonly<
  Record<string, { readonly dnsSuffix: string; readonly regions: readonly string[] }>
> = {
  aws: {
    dnsSuffix: 'amazonaws.com',
    regions: [
      'us-east-1',
      'us-east-2',
      'us-west-1',
      'us-west-2',
      'af-south-1',
      'ap-east-1',
      'ap-east-2',
      'ap-south-1',
      'ap-south-2',
      'ap-southeast-1',
      'ap-southeast-2',
      'ap-southeast-3',
      'ap-southeast-4',
      'ap-southeast-5',
      'ap-southeast-7',
      'ap-northeast-1',
      'ap-northeast-2',
      'ap-northeast-3',
      'ca-central-1',
      'ca-west-1',
      'eu-central-1',
      'eu-central-2',
      'eu-west-1',
      'eu-west-2',
      'eu-west-3',
      'eu-south-1',
      'eu-south-2',
      'eu-north-1',
      'il-central-1',
      'me-south-1',
      'me-central-1',
      'mx-central-1',
      'sa-east-1',
    ],
  },
  'aws-cn': { dnsSuffix: 'amazonaws.com.cn', regions: ['cn-north-1', 'cn-northwest-1'] },
  'aws-us-gov': { dnsSuffix: 'amazonaws.com', regions: ['us-gov-west-1', 'us-gov-east-1'] },
}

/** Every region crosspipe knows, in table order. */
export const ALL_REGIONS: readonly string[] = Object.values(PARTITIONS).flatMap((p) => p.regions)

/** The partition of a region, or undefined for a region that does not exist. */
export function partitionOf(region: string): string | undefined {
  for (const [name, p] of Object.entries(PARTITIONS)) if (p.regions.includes(region)) return name
  return undefined
}

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
