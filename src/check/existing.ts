/**
 * Resources a setup relies on that no stack of its manifest creates: an artifact bucket made by
 * hand with its bucket policy, a key of another team, a role created outside CloudFormation.
 * `check` cannot see them in a template, so a hand-written manifest declares them under
 * `existing`, with the policies they have, and `check` evaluates calls on them as on the
 * resources of its stacks. Only `check` reads this section (deploy leaves such resources alone).
 */
import { z } from 'zod'
import { Manifest } from '../synth/manifest.js'

const Account = z.string().regex(/^\d{12}$/, 'an AWS account id is exactly 12 digits, as a quoted string')
const PolicyDocument = z
  .record(z.string(), z.unknown())
  .describe('An IAM policy document (Version, Statement), as JSON or YAML.')

/** An existing IAM role. */
export const ExistingRole = z.strictObject({
  arn: z
    .string()
    .regex(/^arn:[^:]+:iam::\d{12}:role\/.+$/, 'a role ARN: arn:<partition>:iam::<account>:role/<name>'),
  trustPolicy: PolicyDocument.describe('The role trust policy (AssumeRolePolicyDocument).'),
  policies: z.array(PolicyDocument).default([]).describe('Its inline and customer managed policies.'),
  managedPolicyArns: z.array(z.string()).default([]).describe('AWS managed policies it attaches.'),
  permissionsBoundary: PolicyDocument.optional(),
})

/** An existing KMS key. */
export const ExistingKey = z.strictObject({
  arn: z
    .string()
    .regex(
      /^arn:[^:]+:kms:[^:]+:\d{12}:key\/.+$/,
      'a key ARN: arn:<partition>:kms:<region>:<account>:key/<id>',
    ),
  policy: PolicyDocument.describe('The key policy.'),
  aliases: z.array(z.string().regex(/^alias\//, 'an alias name starts with alias/')).default([]),
  rotation: z.boolean().default(true).describe('Whether automatic rotation is on.'),
})

/** An existing S3 bucket. */
export const ExistingBucket = z.strictObject({
  name: z.string().min(3),
  account: Account,
  region: z.string().min(1),
  policy: PolicyDocument.optional().describe('The bucket policy, if it has one.'),
  encryption: z
    .strictObject({ algorithm: z.string(), key: z.string().optional() })
    .optional()
    .describe('Its default encryption (SSEAlgorithm and KMSMasterKeyID).'),
})

/** The `existing` section of a manifest that `check` reads. */
export const ExistingResources = z.strictObject({
  roles: z.array(ExistingRole).default([]),
  keys: z.array(ExistingKey).default([]),
  buckets: z.array(ExistingBucket).default([]),
})

/** The manifest as `check` reads it: the deploy manifest plus the `existing` section. */
export const CheckManifest = Manifest.extend({ existing: ExistingResources.optional() })

/** The `existing` section, defaults applied. */
export type ExistingResourcesDocument = z.output<typeof ExistingResources>

/** The stack name that stands for the manifest's `existing` section in findings and origins. */
export const EXISTING = '(existing)'
