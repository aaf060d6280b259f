/**
 * The pipeline definition (`crosspipe.yml`): one zod schema is the single source of truth for
 * validation, the TypeScript types and the editor JSON Schema (`crosspipe.schema.json`).
 *
 * The model knows nothing of CloudFormation (DESIGN.md "blueprint vs engine"): it says *what*
 * the pipeline is; `src/synth` decides how that becomes templates.
 */
import { z } from 'zod'

/** A 12-digit AWS account id, always a string (an unquoted YAML number loses leading zeros). */
export const AccountId = z
  .string()
  .regex(
    /^\d{12}$/,
    'an AWS account id is exactly 12 digits, written as a quoted string such as "111111111111"',
  )
  .describe('A 12-digit AWS account id, quoted: "111111111111".')

/** An AWS region name such as `eu-west-1`; existence is checked against the region table by the loader. */
export const RegionName = z
  .string()
  .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'a region name looks like "eu-west-1"')
  .describe('An AWS region, such as "eu-west-1".')

/** Letters, digits and hyphens, starting with a letter: safe inside resource, role and stack names. */
const SimpleName = z
  .string()
  .min(1)
  .max(40)
  .regex(/^[A-Za-z][A-Za-z0-9-]*$/, 'use letters, digits and hyphens, starting with a letter')

const StackName = z
  .string()
  .min(1)
  .max(128)
  .regex(
    /^[A-Za-z][A-Za-z0-9-]*$/,
    'a CloudFormation stack name uses letters, digits and hyphens, starting with a letter',
  )
  .describe('The CloudFormation stack name of the application in this stage.')

/** Tags applied to every resource crosspipe creates (and to the application stacks). */
export const Tags = z
  .record(z.string().min(1).max(128), z.string().max(256))
  .describe('Tags applied to everything crosspipe creates.')

/** A policy statement as in IAM, kept loose here: `src/iam` validates its elements. */
export const PolicyStatement = z
  .strictObject({
    Sid: z
      .string()
      .regex(/^[A-Za-z0-9]*$/, 'a Sid uses only letters and digits')
      .optional(),
    Effect: z.enum(['Allow', 'Deny']),
    Action: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
    NotAction: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
    Resource: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
    NotResource: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
    Condition: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
  })
  .describe('An IAM policy statement (identity policy form: no Principal).')

export const CodeCommitSource = z
  .strictObject({
    type: z.literal('codecommit'),
    repository: z
      .string()
      .min(1)
      .max(100)
      .regex(/^[\w.-]+$/, 'a CodeCommit repository name uses letters, digits, ".", "_" and "-"'),
    branch: z.string().min(1).default('main'),
    account: AccountId.optional().describe(
      'The account that holds the repository when it is not the CI account (for example a dev account).',
    ),
  })
  .describe('An AWS CodeCommit repository.')

export const S3Source = z
  .strictObject({
    type: z.literal('s3'),
    bucket: z
      .string()
      .min(3)
      .max(63)
      .regex(
        /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/,
        'an S3 bucket name uses lower-case letters, digits, "." and "-"',
      ),
    key: z.string().min(1).describe('The object key of the source zip; the bucket must be versioned.'),
  })
  .describe('A zip object in a versioned S3 bucket of the CI account.')

export const ConnectionSource = z
  .strictObject({
    type: z.literal('connection'),
    connectionArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:\d{12}:connection\/[\w-]+$/,
        'a CodeStar/CodeConnections connection ARN, such as arn:aws:codeconnections:eu-west-1:111111111111:connection/<id>',
      ),
    repository: z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'the full repository id, "owner/name"'),
    branch: z.string().min(1).default('main'),
  })
  .describe('A GitHub, GitLab or Bitbucket repository through a CodeStar/CodeConnections connection.')

export const Source = z.discriminatedUnion('type', [CodeCommitSource, S3Source, ConnectionSource])

export const ComputeType = z.enum([
  'BUILD_GENERAL1_SMALL',
  'BUILD_GENERAL1_MEDIUM',
  'BUILD_GENERAL1_LARGE',
  'BUILD_GENERAL1_XLARGE',
  'BUILD_GENERAL1_2XLARGE',
])

const EnvironmentVariables = z
  .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name'), z.string())
  .describe('Plain-text environment variables for the build.')

/** The fields shared by the build and by test actions: both run on CodeBuild. */
const CodeBuildFields = {
  image: z.string().min(1).default('aws/codebuild/standard:7.0').describe('The CodeBuild image.'),
  computeType: ComputeType.default('BUILD_GENERAL1_SMALL'),
  environment: EnvironmentVariables.default({}),
  buildspec: z
    .string()
    .min(1)
    .optional()
    .describe('Path of the buildspec in the source (instead of commands).'),
  commands: z
    .array(z.string().min(1))
    .min(1)
    .optional()
    .describe('Inline build commands (instead of a buildspec).'),
}

export const Build = z
  .strictObject({
    ...CodeBuildFields,
    outputFiles: z
      .array(z.string().min(1))
      .min(1)
      .default(['**/*'])
      .describe('Files of the build output artifact, when commands are given inline.'),
  })
  .describe('The build, run by CodeBuild in the CI account.')

export const Target = z
  .strictObject({
    account: AccountId,
    region: RegionName.optional().describe('Defaults to the CI region.'),
  })
  .describe('An account and region to deploy the stage into.')

export const Approval = z
  .strictObject({
    notify: z
      .string()
      .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]+$/, 'an SNS topic ARN')
      .optional()
      .describe('An SNS topic to notify when approval is needed.'),
    comment: z.string().max(512).optional(),
  })
  .describe('A manual approval before the stage deploys.')

export const Tests = z
  .strictObject({
    ...CodeBuildFields,
  })
  .describe(
    'A CodeBuild action that runs in each target account after the deploy (for example integration tests).',
  )

export const DeployPermissions = z
  .strictObject({
    managedPolicies: z
      .array(z.string().regex(/^arn:aws[a-z-]*:iam::(aws|\d{12}):policy\/.+$/, 'an IAM managed policy ARN'))
      .default([]),
    statements: z.array(PolicyStatement).default([]),
  })
  .describe(
    'What the CloudFormation deployment role in the target account may do. When absent: the AWS managed PowerUserAccess policy (everything but IAM, Organizations and Account management).',
  )

export const Capability = z.enum(['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM', 'CAPABILITY_AUTO_EXPAND'])

export const Stage = z
  .strictObject({
    name: SimpleName.describe('The stage name, unique in the pipeline.'),
    targets: z.array(Target).min(1, 'a stage needs at least one target'),
    stack: StackName,
    template: z
      .string()
      .min(1)
      .default('template.yml')
      .describe('The template path inside the build artifact.'),
    parameters: z.record(z.string(), z.string()).optional().describe('Template parameters (literal values).'),
    parametersFile: z
      .string()
      .min(1)
      .optional()
      .describe('A CloudFormation template configuration file inside the build artifact.'),
    capabilities: z.array(Capability).default([]),
    approval: z.union([z.boolean(), Approval]).default(false),
    tests: Tests.optional(),
    deployPermissions: DeployPermissions.optional(),
  })
  .describe('A deployment stage: one or more targets that deploy in parallel.')

export const Naming = z
  .strictObject({
    prefix: SimpleName.optional().describe(
      'Prefix of every name crosspipe gives (defaults to the pipeline name).',
    ),
    referenceNames: z
      .boolean()
      .default(false)
      .describe(
        'Use the reference names cross-account-role and cloudformation-role in target accounts (one pipeline per account).',
      ),
  })
  .describe('How crosspipe names roles, keys and stacks.')

export const PipelineDefinition = z
  .strictObject({
    $schema: z.string().optional(),
    name: SimpleName.describe('The pipeline name.'),
    ci: z
      .strictObject({ account: AccountId, region: RegionName })
      .describe('The CI (tools) account and its region.'),
    source: Source,
    build: Build.default({
      image: 'aws/codebuild/standard:7.0',
      computeType: 'BUILD_GENERAL1_SMALL',
      environment: {},
      outputFiles: ['**/*'],
    }),
    stages: z.array(Stage).min(1, 'a pipeline needs at least one stage'),
    naming: Naming.default({ referenceNames: false }),
    tags: Tags.default({}),
    profiles: z
      .record(z.string(), z.string().min(1))
      .optional()
      .describe('AWS CLI profile per account id (or account name), used by deploy, run and destroy.'),
  })
  .describe('A crosspipe cross-account delivery pipeline.')

/** The definition as written (defaults not yet applied). */
export type PipelineDefinitionInput = z.input<typeof PipelineDefinition>
/** The definition with defaults applied; what synth consumes. */
export type Pipeline = z.output<typeof PipelineDefinition>
export type PipelineStage = z.output<typeof Stage>
export type PipelineSource = z.output<typeof Source>
export type PipelineTarget = z.output<typeof Target>
export type PipelineBuild = z.output<typeof Build>
export type PipelineTests = z.output<typeof Tests>
export type PolicyStatementInput = z.output<typeof PolicyStatement>

/** A target with its region resolved (defaults to the CI region). */
export interface ResolvedTarget {
  readonly account: string
  readonly region: string
}
/** A stage whose targets all have a region. */
export type ResolvedStage = Omit<PipelineStage, 'targets'> & { readonly targets: readonly ResolvedTarget[] }
/**
 * The definition after loading: defaults applied, every target's region resolved and the naming
 * prefix set. This is what synth consumes.
 */
export type ResolvedPipeline = Omit<Pipeline, 'stages' | 'naming'> & {
  readonly stages: readonly ResolvedStage[]
  readonly naming: { readonly prefix: string; readonly referenceNames: boolean }
}
