/**
 * The pipeline definition (`crosspipe.yml`): one zod schema is the single source of truth for
 * validation, the TypeScript types and the editor JSON Schema (`crosspipe.schema.json`).
 *
 * The model knows nothing of CloudFormation (DESIGN.md "blueprint vs engine"): it says *what*
 * the pipeline is; `src/synth` decides how that becomes templates.
 *
 * Rules that need more than one field (duplicates, partitions, name lengths) live in
 * `semantics.ts`; the schema checks each value on its own. Every custom message says what would be
 * right, because the loader shows it to the user next to the file position.
 */
import { z } from 'zod'
import { ALL_REGIONS } from '../iam/arn.js'
import { QUOTAS } from '../iam/aws-facts.js'
import { nearest } from './suggest.js'

/** A 12-digit AWS account id, always a string (an unquoted YAML number loses leading zeros). */
export const AccountId = z
  .string()
  .regex(
    /^\d{12}$/,
    'an AWS account id is exactly 12 digits, written as a quoted string such as "111111111111"',
  )
  .describe('A 12-digit AWS account id, quoted: "111111111111".')

/**
 * An AWS region name such as `eu-west-1`, one of the regions in `src/iam/arn.ts`. A region that
 * does not exist is an error here (with the nearest known name), not a deploy-time surprise.
 */
export const RegionName = z
  .string()
  .superRefine((value, ctx) => {
    if (ALL_REGIONS.includes(value)) return
    const guess = nearest(value, ALL_REGIONS)
    ctx.addIssue({
      code: 'custom',
      message: `"${value}" is not an AWS region${guess ? `; did you mean "${guess}"?` : '; a region looks like "eu-west-1"'}`,
      params: { kind: 'region' },
    })
  })
  .describe('An AWS region, such as "eu-west-1".')

/** Letters, digits and hyphens, starting with a letter: safe inside resource, role and stack names. */
const SimpleName = z
  .string()
  .min(1, 'must not be empty')
  .max(40, 'a name has at most 40 characters')
  .regex(/^[A-Za-z][A-Za-z0-9-]*$/, 'use letters, digits and hyphens, starting with a letter')

/** CloudFormation stack names: https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html */
const StackName = z
  .string()
  .min(1, 'must not be empty')
  .max(
    QUOTAS.cloudFormation.stackNameLength,
    `a CloudFormation stack name has at most ${QUOTAS.cloudFormation.stackNameLength} characters`,
  )
  .regex(
    /^[A-Za-z][A-Za-z0-9-]*$/,
    'a CloudFormation stack name uses letters, digits and hyphens, starting with a letter',
  )
  .describe('The CloudFormation stack name of the application in this stage.')

/**
 * A file path inside an artifact (the source or the build output). CodePipeline addresses files
 * as `ArtifactName::path`, so a path must be relative and may not contain `::` or `..`.
 */
const ArtifactPath = z
  .string()
  .min(1, 'must not be empty')
  .regex(
    /^(?!\/)(?!.*::)(?!(.*\/)?\.\.(\/|$)).+$/,
    'a path inside the artifact is relative, such as "infra/template.yml" (no leading "/", no "..", no "::")',
  )

/**
 * Tag keys and values as AWS allows them: https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html
 * (keys 1–128 characters, values up to 256, the `aws:` prefix reserved, at most 50 tags per resource).
 */
export const Tags = z
  .record(
    z
      .string()
      .min(1, 'a tag key must not be empty')
      .max(128, 'a tag key has at most 128 characters')
      .regex(/^(?!aws:)/i, 'tag keys starting with "aws:" are reserved for AWS')
      .regex(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u, 'a tag key uses letters, digits, spaces and _ . : / = + - @'),
    z
      .string()
      .max(256, 'a tag value has at most 256 characters')
      .regex(
        /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u,
        'a tag value uses letters, digits, spaces and _ . : / = + - @',
      ),
  )
  .refine((tags) => Object.keys(tags).length <= 50, 'AWS allows at most 50 tags per resource')
  .describe('Tags applied to everything crosspipe creates (and to the application stacks).')

const StringOrList = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)])

/** A policy statement as in IAM, kept loose here: `src/iam` validates its elements. */
export const PolicyStatement = z
  .strictObject({
    Sid: z
      .string()
      .regex(/^[A-Za-z0-9]*$/, 'a Sid uses only letters and digits')
      .optional()
      .describe('An optional statement id (letters and digits).'),
    Effect: z.enum(['Allow', 'Deny']).describe('Allow or Deny.'),
    Action: StringOrList.optional().describe('Actions, such as "s3:GetObject" (or NotAction).'),
    NotAction: StringOrList.optional().describe('Every action except these (or Action).'),
    Resource: StringOrList.optional().describe('Resource ARNs (or NotResource).'),
    NotResource: StringOrList.optional().describe('Every resource except these (or Resource).'),
    Condition: z
      .record(z.string(), z.record(z.string(), z.unknown()))
      .optional()
      .describe('IAM conditions: operator → condition key → value(s).'),
  })
  .describe('An IAM policy statement (identity policy form: no Principal).')

/** CodeCommit repository names: https://docs.aws.amazon.com/codecommit/latest/APIReference/API_CreateRepository.html */
export const CodeCommitSource = z
  .strictObject({
    type: z.literal('codecommit').describe('An AWS CodeCommit repository.'),
    repository: z
      .string()
      .min(1, 'must not be empty')
      .max(100, 'a CodeCommit repository name has at most 100 characters')
      .regex(/^[\w.-]+$/, 'a CodeCommit repository name uses letters, digits, ".", "_" and "-"')
      .describe('The repository name.'),
    branch: z.string().min(1, 'must not be empty').default('main').describe('The branch to build.'),
    account: AccountId.optional().describe(
      'The account that holds the repository when it is not the CI account (for example a dev account). The repository is in the CI region.',
    ),
  })
  .describe('An AWS CodeCommit repository.')

/** S3 bucket names: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html */
export const S3Source = z
  .strictObject({
    type: z.literal('s3').describe('A zip object in a versioned S3 bucket.'),
    bucket: z
      .string()
      .min(3, 'an S3 bucket name has 3 to 63 characters')
      .max(63, 'an S3 bucket name has 3 to 63 characters')
      .regex(
        /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/,
        'an S3 bucket name uses lower-case letters, digits, "." and "-"',
      )
      .describe('The bucket, in the CI account and region.'),
    key: z
      .string()
      .min(1, 'must not be empty')
      .describe('The object key of the source zip; the bucket must be versioned.'),
  })
  .describe('A zip object in a versioned S3 bucket of the CI account.')

/** A GitHub, GitLab or Bitbucket repository through an AWS CodeConnections (formerly CodeStar) connection. */
export const ConnectionSource = z
  .strictObject({
    type: z
      .literal('connection')
      .describe('A GitHub, GitLab or Bitbucket repository through a CodeConnections connection.'),
    connectionArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:\d{12}:connection\/[\w-]+$/,
        'a CodeStar/CodeConnections connection ARN, such as arn:aws:codeconnections:eu-west-1:111111111111:connection/<id>',
      )
      .describe('The ARN of the connection (created and authorized in the console beforehand).'),
    repository: z
      .string()
      .regex(/^[^/\s]+\/[^\s]+$/, 'the full repository id, "owner/name"')
      .describe('The full repository id, "owner/name".'),
    branch: z.string().min(1, 'must not be empty').default('main').describe('The branch to build.'),
  })
  .describe('A GitHub, GitLab or Bitbucket repository through a CodeStar/CodeConnections connection.')

/** Where the pipeline gets its source, chosen by `type`. */
export const Source = z
  .discriminatedUnion('type', [CodeCommitSource, S3Source, ConnectionSource])
  .describe('Where the pipeline gets its source: type codecommit, s3 or connection.')

/** CodeBuild compute types for Linux containers: https://docs.aws.amazon.com/codebuild/latest/userguide/build-env-ref-compute-types.html */
export const ComputeType = z
  .enum([
    'BUILD_GENERAL1_SMALL',
    'BUILD_GENERAL1_MEDIUM',
    'BUILD_GENERAL1_LARGE',
    'BUILD_GENERAL1_XLARGE',
    'BUILD_GENERAL1_2XLARGE',
  ])
  .describe('The CodeBuild compute type.')

/**
 * CodeBuild reserves the `CODEBUILD_` prefix for its own variables
 * (https://docs.aws.amazon.com/codebuild/latest/userguide/build-spec-ref.html, "env").
 */
const EnvironmentVariables = z
  .record(
    z
      .string()
      .regex(
        /^[A-Za-z_][A-Za-z0-9_]*$/,
        'an environment variable name uses letters, digits and "_", not starting with a digit',
      )
      .regex(/^(?!CODEBUILD_)/, 'names starting with CODEBUILD_ are reserved by CodeBuild'),
    z.string(),
  )
  .describe('Plain-text environment variables (name: "value"). Do not put secrets here.')

/** The fields shared by the build and by test actions: both run on CodeBuild. */
const CodeBuildFields = {
  image: z
    .string()
    .min(1, 'must not be empty')
    .default('aws/codebuild/standard:7.0')
    .describe('The CodeBuild image.'),
  computeType: ComputeType.default('BUILD_GENERAL1_SMALL'),
  environment: EnvironmentVariables.default({}),
  buildspec: ArtifactPath.optional().describe(
    'Path of the buildspec in the input artifact, instead of commands. With neither, CodeBuild reads buildspec.yml at the root.',
  ),
  commands: z
    .array(z.string().min(1, 'a command must not be empty'))
    .min(1, 'give at least one command, or remove the key')
    .optional()
    .describe('Inline shell commands, instead of a buildspec.'),
}

/** The build: CodeBuild in the CI account, from a buildspec in the source or inline commands. */
export const Build = z
  .strictObject({
    ...CodeBuildFields,
    outputFiles: z
      .array(z.string().min(1, 'must not be empty'))
      .min(1, 'give at least one file pattern, or remove the key')
      .default(['**/*'])
      .describe(
        'Files of the build output artifact when commands are given inline (a buildspec lists them in its own artifacts section).',
      ),
  })
  .describe('The build, run by CodeBuild in the CI account.')

/** One account and region a stage deploys to; the region defaults to the CI region. */
export const Target = z
  .strictObject({
    account: AccountId,
    region: RegionName.optional().describe('The region to deploy into; defaults to the CI region.'),
  })
  .describe('An account and region to deploy the stage into.')

/** SNS topic ARNs: https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html (names: letters, digits, - and _). */
export const Approval = z
  .strictObject({
    notify: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]+(\.fifo)?$/,
        'an SNS topic ARN, such as arn:aws:sns:eu-west-1:111111111111:approvals',
      )
      .optional()
      .describe('An SNS topic to notify when approval is needed.'),
    comment: z
      .string()
      .max(512, 'an approval comment has at most 512 characters')
      .optional()
      .describe('Text shown to the approver.'),
    review: z
      .boolean()
      .optional()
      .describe(
        'Prepare the change sets of every target before the approval, so the approver sees what will change (crosspipe approve and crosspipe status print them); they are executed after it.',
      ),
  })
  .describe('A manual approval before the stage deploys.')

/** Tests after a stage's deploy: a CodeBuild action in each target account. */
export const Tests = z
  .strictObject({
    ...CodeBuildFields,
  })
  .describe(
    'A CodeBuild action that runs in each target account after the deploy (for example integration tests).',
  )

/** IAM managed policy ARNs: AWS managed (`aws`) or customer managed (an account id). */
export const DeployPermissions = z
  .strictObject({
    managedPolicies: z
      .array(
        z
          .string()
          .regex(
            /^arn:aws[a-z-]*:iam::(aws|\d{12}):policy\/.+$/,
            'an IAM managed policy ARN, such as arn:aws:iam::aws:policy/PowerUserAccess',
          ),
      )
      .default([])
      .describe('Managed policy ARNs attached to the deployment role.'),
    statements: z
      .array(PolicyStatement)
      .default([])
      .describe('Inline policy statements of the deployment role.'),
    fromTemplate: z
      .union([z.literal(true), ArtifactPath])
      .optional()
      .describe(
        'Derive the deployment role statements from the application template: true reads the stage template (relative to this file), a path reads that file instead (for templates the build generates).',
      ),
  })
  .describe(
    'What the CloudFormation deployment role in the target account may do. When absent: the AWS managed PowerUserAccess policy (everything but IAM, Organizations and Account management).',
  )

/** CloudFormation capabilities: https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html */
export const Capability = z
  .enum(['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM', 'CAPABILITY_AUTO_EXPAND'])
  .describe('A CloudFormation capability the template needs.')

/** CloudFormation parameter names are alphanumeric (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html). */
const Parameters = z
  .record(
    z
      .string()
      .regex(/^[A-Za-z0-9]+$/, 'a CloudFormation parameter name uses only letters and digits')
      .max(255, 'a parameter name has at most 255 characters'),
    z.union([
      z.string(),
      // The location of the build artifact, for templates that load it (Lambda code):
      // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/continuous-delivery-codepipeline-parameter-override-functions.html
      z
        .strictObject({
          'Fn::GetArtifactAtt': z
            .tuple([z.literal('BuildOutput'), z.enum(['BucketName', 'ObjectKey', 'URL'])])
            .describe('[BuildOutput, BucketName | ObjectKey | URL]'),
        })
        .describe(
          'Fn::GetArtifactAtt: [BuildOutput, BucketName | ObjectKey | URL], the build artifact\u2019s location.',
        ),
    ]),
  )
  .describe(
    'Template parameters (name: "value", literal strings; or Fn::GetArtifactAtt of the build artifact, for templates that load it).',
  )

/** A deployment stage: one application stack, deployed to each of its targets in parallel. */
export const Stage = z
  .strictObject({
    name: SimpleName.describe('The stage name, unique in the pipeline (not "Source" or "Build").'),
    targets: z
      .array(Target)
      .min(1, 'a stage needs at least one target (an account and region)')
      .describe('Where this stage deploys; several targets deploy in parallel.'),
    stack: StackName,
    template: ArtifactPath.default('template.yml').describe('The template path inside the build artifact.'),
    parameters: Parameters.optional(),
    parametersFile: ArtifactPath.optional().describe(
      'A CloudFormation template configuration file inside the build artifact. Inline parameters override its values.',
    ),
    capabilities: z
      .array(Capability)
      .default([])
      .describe(
        'CloudFormation capabilities, such as CAPABILITY_NAMED_IAM when the template creates IAM roles.',
      ),
    approval: z
      .union([z.boolean(), Approval])
      .default(false)
      .describe('A manual approval before this stage: true, or a mapping with notify and comment.'),
    tests: Tests.optional(),
    deployPermissions: DeployPermissions.optional(),
    readArtifacts: z
      .boolean()
      .default(false)
      .describe(
        'Let the deployment role read the build artifact (artifact bucket and key), for templates whose resources load files from it, such as Lambda code passed with Fn::GetArtifactAtt. Off by default: no other deployment needs it.',
      ),
  })
  .describe('A deployment stage: one or more targets that deploy in parallel.')

/** How crosspipe names what it creates: a prefix (several pipelines per account), or the reference names. */
export const Naming = z
  .strictObject({
    prefix: SimpleName.optional().describe(
      'Prefix of every name crosspipe gives to roles, keys and stacks (defaults to the pipeline name), so several pipelines can share accounts.',
    ),
    referenceNames: z
      .boolean()
      .default(false)
      .describe(
        'Use the reference names cross-account-role and cloudformation-role in target accounts (one pipeline and one region per account).',
      ),
  })
  .describe('How crosspipe names roles, keys and stacks.')

/** The CI (tools) account: it holds the pipeline, the build, the artifact bucket and the key. */
export const Ci = z
  .strictObject({
    account: AccountId.describe('The CI (tools) account id, quoted: "111111111111".'),
    region: RegionName.describe('The region of the pipeline, such as "eu-west-1".'),
  })
  .describe('The CI (tools) account and its region.')

/**
 * Top-level keys starting with `x-` are the user's own (as in Docker Compose files): a place for
 * YAML anchors that stages share (`x-defaults: &defaults`). The loader drops them before validation.
 */
export const EXTENSION_KEY = /^x-/

/** The whole `crosspipe.yml`. Cross-field rules are in `semantics.ts`; the loader runs both. */
export const PipelineDefinition = z
  .strictObject({
    $schema: z.string().optional().describe('The JSON Schema of this file, for editors.'),
    name: SimpleName.describe('The pipeline name (letters, digits and hyphens).'),
    ci: Ci,
    source: Source,
    build: Build.default({
      image: 'aws/codebuild/standard:7.0',
      computeType: 'BUILD_GENERAL1_SMALL',
      environment: {},
      outputFiles: ['**/*'],
    }),
    stages: z
      .array(Stage)
      .min(1, 'a pipeline needs at least one stage')
      .describe('The deployment stages, in order.'),
    naming: Naming.default({ referenceNames: false }),
    tags: Tags.default({}),
    profiles: z
      .record(z.string().min(1, 'must not be empty'), z.string().min(1, 'must not be empty'))
      .optional()
      .describe('AWS CLI profile per account id (or account name), used by deploy, run and destroy.'),
  })
  .describe('A crosspipe cross-account delivery pipeline.')

/** The definition as written (defaults not yet applied). */
export type PipelineDefinitionInput = z.input<typeof PipelineDefinition>
/** The definition with defaults applied; what synth consumes. */
export type Pipeline = z.output<typeof PipelineDefinition>
/** One stage with defaults applied. */
export type PipelineStage = z.output<typeof Stage>
/** The source, one of the three kinds. */
export type PipelineSource = z.output<typeof Source>
/** A target as written (region may be absent). */
export type PipelineTarget = z.output<typeof Target>
/** The build with defaults applied. */
export type PipelineBuild = z.output<typeof Build>
/** The tests of a stage with defaults applied. */
export type PipelineTests = z.output<typeof Tests>
/** One inline policy statement of a deployment role. */
export type PolicyStatementInput = z.output<typeof PolicyStatement>

/** A target with its region resolved (defaults to the CI region). */
export interface ResolvedTarget {
  readonly account: string
  readonly region: string
}
/** A stage whose targets all have a region. */
export type ResolvedStage = Omit<PipelineStage, 'targets'> & {
  readonly targets: readonly ResolvedTarget[]
  /**
   * The application template read for `deployPermissions.fromTemplate` (by `loadPipeline`,
   * relative to the definition): its file name and parsed body (intrinsics in their long form).
   */
  readonly appTemplate?: {
    readonly file: string
    readonly body: unknown
    /**
     * The stack's tags, when known: `{}` without `parametersFile`, else the `Tags` of the template
     * configuration file found at that path next to the definition. Absent when the file is not
     * there (the build makes it): the stack may then have any tags.
     */
    readonly stackTags?: Readonly<Record<string, string>>
  }
}
/**
 * The definition after loading: defaults applied, every target's region resolved and the naming
 * prefix set. This is what synth consumes.
 */
export type ResolvedPipeline = Omit<Pipeline, 'stages' | 'naming'> & {
  readonly stages: readonly ResolvedStage[]
  readonly naming: { readonly prefix: string; readonly referenceNames: boolean }
  /** The partition of the CI region (every target is in it): `aws`, `aws-cn` or `aws-us-gov`. */
  readonly partition?: string
}
