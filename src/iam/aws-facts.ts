/**
 * AWS facts, in one place: partitions and their DNS suffixes, service principals, endpoint host
 * names, the XML namespaces of the XML APIs, and the quotas crosspipe works within. `synth`,
 * `check`, `deploy` and the sandbox all read them here (DESIGN.md "One home for AWS facts"), so
 * they cannot disagree; lint forbids the literal `amazonaws.com` anywhere else in src/
 * (eslint.config.js). The AWS managed policies are the one fact too large for a source file: they
 * are read from build-time data by ./managed-policies.ts, which check and the sandbox share.
 *
 * It lives in the IAM core because that is the pure module every other module may already import,
 * and which imports nothing else (DESIGN.md "Architecture"); this file imports nothing at all.
 */

// ---------------------------------------------------------------------------------- partitions

/** One partition: its DNS suffix, the pattern of its region names, and its regions. */
export interface PartitionFacts {
  /**
   * The domain its endpoints are under — the value of `AWS::URLSuffix`
   * (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/pseudo-parameter-reference.html#cfn-pseudo-param-urlsuffix).
   */
  readonly dnsSuffix: string
  /** The form of its region names (the SDKs' partitions table, `regionRegex`). */
  readonly regionPattern: RegExp
  readonly regions: readonly string[]
}

/**
 * The partitions crosspipe deploys to, and their regions, as the AWS General Reference lists them
 * (https://docs.aws.amazon.com/general/latest/gr/rande.html,
 * https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/partitions.html).
 * China's endpoints are under `amazonaws.com.cn`
 * (https://docs.amazonaws.cn/en_us/aws/latest/userguide/endpoints-arns.html); GovCloud's under
 * `amazonaws.com` (https://docs.aws.amazon.com/govcloud-us/latest/UserGuide/using-govcloud-endpoints.html).
 * The isolated partitions (`aws-iso*`) are not listed: their regions are unknown regions to crosspipe.
 */
export const PARTITIONS: Readonly<Record<string, PartitionFacts>> = {
  aws: {
    dnsSuffix: 'amazonaws.com',
    regionPattern: /^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$/,
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
  'aws-cn': {
    dnsSuffix: 'amazonaws.com.cn',
    regionPattern: /^cn-\w+-\d+$/,
    regions: ['cn-north-1', 'cn-northwest-1'],
  },
  'aws-us-gov': {
    dnsSuffix: 'amazonaws.com',
    regionPattern: /^us-gov-\w+-\d+$/,
    regions: ['us-gov-west-1', 'us-gov-east-1'],
  },
}

/** The commercial partition: the one a region or ARN that names none is taken to be in. */
export const DEFAULT_PARTITION = 'aws'

/** Every region crosspipe knows, in table order. */
export const ALL_REGIONS: readonly string[] = Object.values(PARTITIONS).flatMap((p) => p.regions)

/** The partition of a region, or undefined for a region that does not exist. */
export function partitionOf(region: string): string | undefined {
  for (const [name, p] of Object.entries(PARTITIONS)) if (p.regions.includes(region)) return name
  return undefined
}

/**
 * The DNS suffix of a partition (`amazonaws.com`, `amazonaws.com.cn`). A partition crosspipe does
 * not know (only a hand-written ARN can name one: regions are validated) gets the commercial
 * partition's, as everywhere else an unknown partition is taken to be the commercial one.
 */
export function dnsSuffix(partition: string): string {
  return (PARTITIONS[partition] ?? PARTITIONS[DEFAULT_PARTITION]!).dnsSuffix
}

/** The DNS suffix of the partition a region is in (the commercial one for an unknown region). */
export function dnsSuffixOfRegion(region: string): string {
  return dnsSuffix(partitionOf(region) ?? DEFAULT_PARTITION)
}

// ------------------------------------------------------------------------------------ endpoints

/**
 * The regional endpoint host of a service: `<service>.<region>.<dnsSuffix>`, e.g.
 * `s3.eu-west-1.amazonaws.com`, `s3.cn-north-1.amazonaws.com.cn`
 * (https://docs.aws.amazon.com/general/latest/gr/rande.html#regional-endpoints). It is also the
 * value AWS services set in `kms:ViaService` when they call KMS for a caller
 * (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service),
 * so the sandbox's S3 and `check` must build it the same way.
 */
export function endpointHost(service: string, region: string): string {
  return `${service}.${region}.${dnsSuffixOfRegion(region)}`
}

// ------------------------------------------------------------------------------------- consoles

/**
 * The host of the AWS Management Console of each partition: `console.aws.amazon.com` (the
 * CloudWatch console links CodeBuild gives its builds, e.g. `deep-link` in
 * https://docs.aws.amazon.com/codebuild/latest/userguide/sample-build-notifications-ref.html),
 * `console.amazonaws.cn` (https://docs.amazonaws.cn/en_us/IAM/latest/UserGuide/id_users_sign-in.html),
 * `console.amazonaws-us-gov.com` (https://docs.aws.amazon.com/govcloud-us/latest/UserGuide/configure-account.html).
 */
const CONSOLE_HOSTS: Readonly<Record<string, string>> = {
  aws: 'console.aws.amazon.com',
  'aws-cn': 'console.amazonaws.cn',
  'aws-us-gov': 'console.amazonaws-us-gov.com',
}

/**
 * The console host of a partition; an unknown partition gets the commercial partition's, as
 * {@link dnsSuffix} does.
 */
export function consoleHost(partition: string): string {
  return CONSOLE_HOSTS[partition] ?? CONSOLE_HOSTS[DEFAULT_PARTITION]!
}

// ---------------------------------------------------------------------------- service principals

/**
 * The services crosspipe names as principals: in trust policies it writes, in the calls `check`
 * proves, in `iam:PassedToService`, and as the identity the sandbox's services assume roles as.
 */
export type PrincipalService = 'cloudformation' | 'codebuild' | 'codepipeline' | 'events' | 'lambda'

/** The domain of service principals, in every partition (see {@link servicePrincipal}). */
const PRINCIPAL_DOMAIN = 'amazonaws.com'

/**
 * The service principal of a service: `<service>.amazonaws.com`, the same in every partition —
 * China's included, although its endpoints are under `amazonaws.com.cn`. The IAM User Guide gives
 * service principals as `service-name.amazonaws.com`
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-services),
 * and AWS's CDK states that "all service principal names are standardized, and they are all of
 * the form `<servicename>.amazonaws.com`"
 * (https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_iam.ServicePrincipal.html#static-servicewbrprincipalwbrnameservice).
 * A few services kept an older China form (`ec2.amazonaws.com.cn`, `elasticmapreduce.amazonaws.com.cn`;
 * github.com/aws/aws-cdk pull requests 20014 and 24709): a service joins {@link PrincipalService}
 * only once its own documentation shows its principal, so none of those can slip in unnoticed.
 */
export function servicePrincipal(service: PrincipalService): string {
  return `${service}.${PRINCIPAL_DOMAIN}`
}

/**
 * The service a service principal names (`codebuild.amazonaws.com` → `codebuild`), or undefined
 * when the string is not one of the standard form.
 */
export function serviceOfPrincipal(principal: string): string | undefined {
  const suffix = `.${PRINCIPAL_DOMAIN}`
  if (!principal.endsWith(suffix)) return undefined
  const service = principal.slice(0, -suffix.length)
  return /^[a-z0-9][a-z0-9.-]*$/.test(service) ? service : undefined
}

// ------------------------------------------------------------------------------- XML namespaces

/**
 * The XML namespace of the responses of the query and REST-XML APIs the sandbox serves: each
 * service model's `xmlNamespace` trait, the same in every partition (it names the API version,
 * not a host). Documented in each API reference's response examples, e.g.
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html#API_AssumeRole_Examples.
 */
export const XML_NAMESPACES = {
  sts: 'https://sts.amazonaws.com/doc/2011-06-15/',
  iam: 'https://iam.amazonaws.com/doc/2010-05-08/',
  cloudformation: 'http://cloudformation.amazonaws.com/doc/2010-05-15/',
  s3: 'http://s3.amazonaws.com/doc/2006-03-01/',
} as const

// ------------------------------------------------------------------------------------------ quotas

/**
 * The AWS quotas crosspipe works within, with their pages. Policy sizes are in characters,
 * whitespace not counted, as IAM counts them.
 */
export const QUOTAS = {
  /** https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html */
  cloudFormation: {
    /**
     * A template passed as TemplateBody: 51,200 bytes (also the API's length constraint:
     * https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html).
     */
    templateBodyBytes: 51_200,
    /**
     * A template passed as TemplateURL, an S3 object: "1 MB" on the quotas page, a decimal
     * megabyte — CloudFormation's own refusal reads "Template may not exceed 1000000 bytes in size."
     */
    templateUrlBytes: 1_000_000,
    resourcesPerTemplate: 500,
    parametersPerTemplate: 200,
    /** Stack and change set names: 1–128 characters (API_CreateStack.html, API_CreateChangeSet.html). */
    stackNameLength: 128,
  },
  /** https://docs.aws.amazon.com/codepipeline/latest/userguide/limits.html */
  codePipeline: {
    actionsPerStage: 50,
    stagesPerPipeline: 50,
    /** An action configuration value (also ActionDeclaration's length constraint in the API reference). */
    actionConfigValueLength: 1_000,
  },
  /** https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html */
  iam: {
    /** Role and user names (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html). */
    roleNameLength: 64,
    /** All inline policies of one role, together. */
    roleInlinePolicies: 10_240,
    managedPolicy: 6_144,
    /** A role trust policy, by default. */
    trustPolicy: 2_048,
    managedPoliciesPerRole: 10,
  },
  /** https://docs.aws.amazon.com/kms/latest/developerguide/resource-limits.html */
  kms: { keyPolicyBytes: 32_768 },
  /** https://docs.aws.amazon.com/AmazonS3/latest/userguide/BucketRestrictions.html */
  s3: { bucketPolicyBytes: 20_480, bucketNameLength: 63 },
} as const
