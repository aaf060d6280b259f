/**
 * The CI base stack of one region, in the CI account: the customer-managed KMS key that encrypts
 * the pipeline's artifacts there, its alias, and the artifact bucket with its policy.
 *
 * CodePipeline needs an artifact store in every region where the pipeline has actions ("There must
 * be an artifact store for the pipeline Region and for each cross-region action in the pipeline":
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-codepipeline-pipeline-artifactstoremap.html,
 * and https://docs.aws.amazon.com/codepipeline/latest/userguide/actions-create-cross-region.html),
 * and a KMS key only works in its own region, so each such region gets its own key and bucket.
 */
import { QUOTAS } from '../iam/aws-facts.js'
import { CrosspipeError } from '../model/errors.js'
import { accountRootSub, arnIn, getAtt, ref, roleArnSub, sub, tagsProp, TemplateBuilder } from './cfn.js'
import type { Names } from './names.js'
import { policyDocument, resolvedSize } from './policy.js'
import type { Statement } from './policy.js'
import type { StackPlan, SynthContext } from './types.js'

/** KMS key policy document size: 32 KB (32,768 bytes). https://docs.aws.amazon.com/kms/latest/developerguide/resource-limits.html */
export const KEY_POLICY_MAX = QUOTAS.kms.keyPolicyBytes
/** S3 bucket policy size: 20 KB. https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-policies.html */
export const BUCKET_POLICY_MAX = QUOTAS.s3.bucketPolicyBytes

/** The outputs of a CI base stack that other stacks receive as parameters. */
export const CI_BASE_OUTPUTS = { bucket: 'ArtifactBucketName', key: 'ArtifactKeyArn' } as const

/**
 * Days after which artifacts expire. Each execution writes new objects, so old ones only serve
 * retries of old executions; 90 days keeps a quarter of history.
 */
export const ARTIFACT_EXPIRATION_DAYS = 90

/** The actions a principal needs to use the key for its artifacts (KMS "key users" set). */
export const KEY_USE_ACTIONS = [
  'kms:Decrypt',
  'kms:DescribeKey',
  'kms:Encrypt',
  'kms:GenerateDataKey*',
  'kms:ReEncrypt*',
] as const
/** What a principal that only reads artifacts needs: decrypt the object's data key. */
export const KEY_READ_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey'] as const
/** What a principal that only uploads artifacts needs (SSE-KMS uploads: GenerateDataKey; multipart: Decrypt). */
export const KEY_WRITE_ACTIONS = [
  'kms:Decrypt',
  'kms:DescribeKey',
  'kms:Encrypt',
  'kms:GenerateDataKey*',
] as const

/** Target-account principals that read artifacts in one region. */
export interface RegionReaders {
  /** The target accounts (sorted). */
  readonly accounts: readonly string[]
  /** Role ARNs (`!Sub` strings) in those accounts; exact, or with `*` for the account when `exact` is false. */
  readonly roleArns: readonly string[]
  /** Whether {@link roleArns} are exact (ArnEquals) or account-wildcard patterns (ArnLike). */
  readonly exact: boolean
}

/**
 * The roles in target accounts that read the artifacts of `region`: each target's cross-account
 * role (the pipeline's action role there), its stages' deployment roles (CloudFormation reads
 * artifact objects that a template references, e.g. Lambda code passed with `Fn::GetArtifactAtt`)
 * and test roles (CodeBuild downloads the input artifact with its service role).
 *
 * `exact: false` names each role once with `*` for the account: a policy that lists 100 accounts
 * exactly would pass the bucket policy's 20 KB. The Principal element still lists exactly the
 * target accounts, so the pattern admits only roles of this pipeline's names in those accounts.
 */
export function regionReaders(
  ctx: SynthContext,
  names: Names,
  region: string,
  exact: boolean,
): RegionReaders {
  const accounts = new Set<string>()
  const arns = new Set<string>()
  for (const t of ctx.targets) {
    if (t.region !== region) continue
    accounts.add(t.account)
    const acct = exact ? t.account : '*'
    arns.add(roleArnSub(acct, names.crossAccountRole(region)))
    for (const d of t.deployments) {
      if (d.stage.readArtifacts) arns.add(roleArnSub(acct, names.deploymentRole(d.stage.name, region)))
      if (d.stage.tests) arns.add(roleArnSub(acct, names.testRole(d.stage.name, region)))
    }
  }
  return { accounts: [...accounts].sort(), roleArns: [...arns], exact }
}

/** `Principal: { AWS: … }` of account roots; a single string for one account. */
function accountPrincipals(accounts: readonly string[]): { AWS: unknown } {
  const roots = accounts.map((a) => sub(accountRootSub(a)))
  return { AWS: roots.length === 1 ? roots[0] : roots }
}

/**
 * The condition that narrows an account principal to named roles. An account principal with an
 * `aws:PrincipalArn` condition, rather than the role ARNs as principals, because KMS and S3 reject
 * a policy whose principal does not exist yet ("invalid principal") and would silently lose a role
 * that is deleted and re-created; the condition holds by name.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn
 */
function principalArnCondition(
  arns: readonly string[],
  exact: boolean,
): Record<string, Record<string, unknown>> {
  const values = arns.map(sub)
  return {
    [exact ? 'ArnEquals' : 'ArnLike']: { 'aws:PrincipalArn': values.length === 1 ? values[0] : values },
  }
}

function keyPolicy(
  ctx: SynthContext,
  names: Names,
  region: string,
  readers: RegionReaders,
): Record<string, unknown> {
  const p = ctx.pipeline
  const ciRoles = [roleArnSub(p.ci.account, names.pipelineRole)]
  if (region === p.ci.region) ciRoles.push(roleArnSub(p.ci.account, names.buildRole))
  const statements: Statement[] = [
    {
      // The default key policy statement: the account administers the key through IAM, and
      // without it nobody could ever change or delete the key.
      // https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam
      Sid: 'EnableIamPolicies',
      Effect: 'Allow',
      Principal: { AWS: sub(accountRootSub(p.ci.account)) },
      Action: 'kms:*',
      Resource: '*',
    },
    {
      // Redundant with the statement above for same-account roles, but states in the key itself
      // which CI roles use it: the pipeline (all regions) and the build (CI region).
      Sid: 'CiRolesUseKey',
      Effect: 'Allow',
      Principal: { AWS: sub(accountRootSub(p.ci.account)) },
      Action: [...KEY_USE_ACTIONS],
      Resource: '*',
      Condition: principalArnCondition(ciRoles, true),
    },
  ]
  if (readers.accounts.length) {
    // Cross-account use needs both this key policy and an IAM policy in the other account:
    // https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html
    statements.push({
      Sid: 'TargetRolesDecryptArtifacts',
      Effect: 'Allow',
      Principal: accountPrincipals(readers.accounts),
      Action: [...KEY_READ_ACTIONS],
      Resource: '*',
      Condition: principalArnCondition(readers.roleArns, readers.exact),
    })
  }
  if (ctx.sourceAccount && region === p.ci.region) {
    statements.push({
      Sid: 'SourceRoleEncryptArtifacts',
      Effect: 'Allow',
      Principal: accountPrincipals([ctx.sourceAccount]),
      Action: [...KEY_WRITE_ACTIONS],
      Resource: '*',
      Condition: principalArnCondition([roleArnSub(ctx.sourceAccount, names.sourceRole)], true),
    })
  }
  return policyDocument(statements)
}

function bucketPolicy(
  ctx: SynthContext,
  names: Names,
  region: string,
  readers: RegionReaders,
): Record<string, unknown> {
  const bucket = arnIn('s3', '${ArtifactBucket}')
  const objects = arnIn('s3', '${ArtifactBucket}/*')
  const statements: Statement[] = [
    {
      // https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html#transit
      Sid: 'DenyInsecureTransport',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: [sub(bucket), sub(objects)],
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    },
    {
      // As in CodePipeline's artifact bucket example:
      // https://docs.aws.amazon.com/codepipeline/latest/userguide/S3-artifact-encryption.html
      Sid: 'DenyUnencryptedUploads',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:PutObject',
      Resource: sub(objects),
      Condition: { StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' } },
    },
    {
      // An upload with `aws:kms` but another key (or none: S3 then uses the AWS managed aws/s3
      // key, which other accounts cannot use) would break every cross-account action. The
      // condition key holds the key ARN the request names:
      // https://docs.aws.amazon.com/AmazonS3/latest/userguide/specifying-kms-encryption.html
      Sid: 'DenyUploadsWithOtherKeys',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:PutObject',
      Resource: sub(objects),
      Condition: {
        StringNotEquals: { 's3:x-amz-server-side-encryption-aws-kms-key-id': getAtt('ArtifactKey', 'Arn') },
      },
    },
  ]
  if (readers.accounts.length) {
    // Reads only: no action in a target account has an output artifact, and no role there lists
    // the bucket (CodePipeline passes exact object keys).
    statements.push({
      Sid: 'TargetRolesReadArtifacts',
      Effect: 'Allow',
      Principal: accountPrincipals(readers.accounts),
      Action: ['s3:GetObject', 's3:GetObjectVersion'],
      Resource: sub(objects),
      Condition: principalArnCondition(readers.roleArns, readers.exact),
    })
  }
  if (ctx.sourceAccount && region === ctx.pipeline.ci.region) {
    statements.push({
      Sid: 'SourceRoleWritesSourceArtifact',
      Effect: 'Allow',
      Principal: accountPrincipals([ctx.sourceAccount]),
      Action: ['s3:PutObject', 's3:PutObjectAcl'],
      Resource: sub(objects),
      // Only the bucket-owner-full-control ACL: the one BucketOwnerEnforced accepts.
      Condition: {
        ...principalArnCondition([roleArnSub(ctx.sourceAccount, names.sourceRole)], true),
        StringEqualsIfExists: { 's3:x-amz-acl': 'bucket-owner-full-control' },
      },
    })
  }
  return policyDocument(statements)
}

/** The CI base stack of `region`. */
export function ciBaseStack(ctx: SynthContext, names: Names, region: string): StackPlan {
  const p = ctx.pipeline
  const stack = names.ciBaseStack(region, p.ci.region)
  // Exact role ARNs when both policies fit; account-wildcard patterns for large pipelines.
  let readers = regionReaders(ctx, names, region, true)
  let kp = keyPolicy(ctx, names, region, readers)
  let bp = bucketPolicy(ctx, names, region, readers)
  if (resolvedSize(kp) > KEY_POLICY_MAX || resolvedSize(bp) > BUCKET_POLICY_MAX) {
    readers = regionReaders(ctx, names, region, false)
    kp = keyPolicy(ctx, names, region, readers)
    bp = bucketPolicy(ctx, names, region, readers)
  }
  const kpSize = resolvedSize(kp)
  const bpSize = resolvedSize(bp)
  if (kpSize > KEY_POLICY_MAX) {
    throw new CrosspipeError(
      'limit-exceeded',
      `KMS key policy size (32,768 bytes): the key policy of ArtifactKey in stack ${stack} would measure up to ${kpSize} bytes (${readers.accounts.length} target accounts in ${region}); split the pipeline so fewer accounts share one region's key.`,
    )
  }
  if (bpSize > BUCKET_POLICY_MAX) {
    throw new CrosspipeError(
      'limit-exceeded',
      `S3 bucket policy size (20 KB): the policy of ArtifactBucket in stack ${stack} would measure up to ${bpSize} bytes (${readers.accounts.length} target accounts in ${region}); split the pipeline so fewer accounts share one region's bucket.`,
    )
  }

  const t = new TemplateBuilder(
    `crosspipe ${p.name}: artifact key and bucket of the pipeline in ${region} (CI account). Phase 1: everything else refers to them.`,
  )
  const tags = tagsProp(p.tags)
  t.resource(
    'ArtifactKey',
    {
      Type: 'AWS::KMS::Key',
      Properties: {
        Description: `Encrypts the artifacts of pipeline ${names.pipeline} in ${region}; shared with the target accounts' roles.`,
        // Customer managed, because the AWS managed aws/s3 key cannot be shared with other accounts:
        // https://docs.aws.amazon.com/codepipeline/latest/userguide/pipelines-create-cross-account.html
        EnableKeyRotation: true,
        KeyPolicy: kp,
        ...tags,
      },
    },
    'Customer-managed key for the artifacts: the target accounts decrypt with it, so it cannot be the AWS managed aws/s3 key.',
  )
  t.resource(
    'ArtifactKeyAlias',
    { Type: 'AWS::KMS::Alias', Properties: { AliasName: names.keyAlias, TargetKeyId: ref('ArtifactKey') } },
    'A readable name for the key in the console; the pipeline and policies use the key ARN.',
  )
  t.resource(
    'ArtifactBucket',
    {
      Type: 'AWS::S3::Bucket',
      Properties: {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            {
              ServerSideEncryptionByDefault: {
                SSEAlgorithm: 'aws:kms',
                KMSMasterKeyID: getAtt('ArtifactKey', 'Arn'),
              },
              // S3 Bucket Keys cut the KMS requests (and cost) of SSE-KMS:
              // https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html
              BucketKeyEnabled: true,
            },
          ],
        },
        VersioningConfiguration: { Status: 'Enabled' },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        // ACLs disabled: the bucket owner owns every object, whichever account wrote it.
        // https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LifecycleConfiguration: {
          Rules: [
            {
              Id: 'ExpireOldArtifacts',
              Status: 'Enabled',
              ExpirationInDays: ARTIFACT_EXPIRATION_DAYS,
              NoncurrentVersionExpiration: { NoncurrentDays: 30 },
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
            },
          ],
        },
        ...tags,
      },
    },
    'Artifact store of the pipeline in this region. The name is generated, so pipelines never collide.',
  )
  t.resource(
    'ArtifactBucketPolicy',
    {
      Type: 'AWS::S3::BucketPolicy',
      Properties: {
        Bucket: ref('ArtifactBucket'),
        // `${ArtifactBucket}` in these `!Sub` strings is the bucket resource's Ref: its name.
        PolicyDocument: bp,
      },
    },
    'TLS only, uploads only with this key, and reads for exactly the target roles that need them.',
  )
  t.output(CI_BASE_OUTPUTS.bucket, {
    Description: 'The artifact bucket; passed to the target and pipeline stacks as a parameter.',
    Value: ref('ArtifactBucket'),
  })
  t.output(CI_BASE_OUTPUTS.key, {
    Description: 'The artifact key ARN (never its id or alias: an id would resolve in the wrong account).',
    Value: getAtt('ArtifactKey', 'Arn'),
  })
  return {
    name: stack,
    account: p.ci.account,
    region,
    phase: 1,
    description: `Artifact key and bucket in ${region}`,
    capabilities: [],
    parameters: {},
    body: t.build(),
    comments: t.comments,
  }
}
