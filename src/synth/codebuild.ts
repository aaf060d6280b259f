/**
 * A CodeBuild project that runs as a CodePipeline action, with its service role: the build in the
 * CI account and the test projects in target accounts.
 */
import YAML from 'yaml'
import { servicePrincipal } from '../iam/aws-facts.js'
import type { PipelineTests } from '../model/schema.js'
import { ACCOUNT, arnIn, getAtt, REGION, sub, tagsProp } from './cfn.js'
import type { CfnValue, TemplateBuilder } from './cfn.js'
import { KEY_READ_ACTIONS, KEY_WRITE_ACTIONS } from './ci-base.js'
import { allow, attachPolicies, policyDocument } from './policy.js'
import type { Statement } from './policy.js'
import type { Tags } from './types.js'

/** Options for {@link addCodeBuildProject}. */
export interface CodeBuildOptions {
  readonly template: TemplateBuilder
  readonly stack: string
  readonly projectId: string
  readonly roleId: string
  readonly projectName: string
  readonly roleName: string
  readonly description: string
  readonly settings: PipelineTests
  /** Output files of the build (an inline buildspec's `artifacts.files`); absent for tests. */
  readonly outputFiles?: readonly string[]
  /** `${…}` name of the artifact bucket in this template (parameter). */
  readonly bucketVar: string
  /** `${…}` name of the artifact key ARN in this template (parameter). */
  readonly keyVar: string
  /** Whether the project writes an output artifact (the build) or only reads (tests). */
  readonly writesArtifacts: boolean
  /** Further permissions of the service role. */
  readonly extraStatements?: readonly Statement[]
  readonly tags: Tags
}

/** A buildspec written from inline commands. https://docs.aws.amazon.com/codebuild/latest/userguide/build-spec-ref.html */
export function inlineBuildspec(commands: readonly string[], outputFiles?: readonly string[]): string {
  // Every target's test project has the same commands: write each distinct buildspec once.
  const key = JSON.stringify([commands, outputFiles ?? null])
  let text = buildspecs.get(key)
  if (text === undefined) {
    const spec: Record<string, unknown> = { version: 0.2, phases: { build: { commands: [...commands] } } }
    if (outputFiles) spec.artifacts = { files: [...outputFiles] }
    text = YAML.stringify(spec, { lineWidth: 0 })
    if (buildspecs.size > 1000) buildspecs.clear()
    buildspecs.set(key, text)
  }
  return text
}
const buildspecs = new Map<string, string>()

/** The ARN of a CodeBuild project of this template's account and region, for `!Sub`. */
export function projectArnSub(name: string): string {
  return arnIn('codebuild', `project/${name}`, REGION, ACCOUNT)
}

/** Adds the service role and the project. */
export function addCodeBuildProject(o: CodeBuildOptions): void {
  const logGroup = arnIn('logs', `log-group:/aws/codebuild/${o.projectName}`, REGION, ACCOUNT)
  const objects = arnIn('s3', `\${${o.bucketVar}}/*`)
  const statements: Statement[] = [
    // CodeBuild writes build logs to /aws/codebuild/<project> (its documented service role policy):
    // https://docs.aws.amazon.com/codebuild/latest/userguide/setting-up-service-role.html
    allow(
      'WriteBuildLogs',
      ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
      [logGroup, `${logGroup}:*`],
    ),
    o.writesArtifacts
      ? allow('ReadWriteArtifacts', ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject'], [objects])
      : allow('ReadArtifacts', ['s3:GetObject', 's3:GetObjectVersion'], [objects]),
    allow(
      'UseArtifactKey',
      [...(o.writesArtifacts ? KEY_WRITE_ACTIONS : KEY_READ_ACTIONS)],
      [`\${${o.keyVar}}`],
    ),
    ...(o.extraStatements ?? []),
  ]
  const { Policies } = attachPolicies({
    template: o.template,
    roleId: o.roleId,
    stack: o.stack,
    policyName: 'codebuild',
    statements,
  })
  o.template.resource(
    o.roleId,
    {
      Type: 'AWS::IAM::Role',
      Properties: {
        RoleName: o.roleName,
        Description: `Service role of CodeBuild project ${o.projectName}.`,
        AssumeRolePolicyDocument: policyDocument([
          {
            Effect: 'Allow',
            Principal: { Service: servicePrincipal('codebuild') },
            Action: 'sts:AssumeRole',
            // CodeBuild documents these confused-deputy conditions for its service role's trust
            // policy: https://docs.aws.amazon.com/codebuild/latest/userguide/cross-service-confused-deputy-prevention.html
            Condition: {
              StringEquals: { 'aws:SourceAccount': sub(ACCOUNT) },
              ArnLike: { 'aws:SourceArn': sub(projectArnSub(o.projectName)) },
            },
          },
        ]),
        Policies,
        ...tagsProp(o.tags),
      },
    },
    `Service role of ${o.projectName}: logs, ${o.writesArtifacts ? 'reads and writes' : 'reads'} artifacts, uses the artifact key.`,
  )
  const s = o.settings
  const buildSpec: CfnValue | undefined = s.commands
    ? inlineBuildspec(s.commands, o.outputFiles)
    : s.buildspec
  const env = Object.keys(s.environment)
    .sort()
    .map((Name) => ({ Name, Value: s.environment[Name]!, Type: 'PLAINTEXT' }))
  o.template.resource(
    o.projectId,
    {
      Type: 'AWS::CodeBuild::Project',
      Properties: {
        Name: o.projectName,
        Description: o.description,
        ServiceRole: getAtt(o.roleId, 'Arn'),
        Source: { Type: 'CODEPIPELINE', ...(buildSpec !== undefined ? { BuildSpec: buildSpec } : {}) },
        Artifacts: { Type: 'CODEPIPELINE' },
        Environment: {
          // Images built for Graviton are named "aarch64" and need the ARM environment type:
          // https://docs.aws.amazon.com/codebuild/latest/userguide/build-env-ref-available.html
          Type: s.image.includes('aarch64') ? 'ARM_CONTAINER' : 'LINUX_CONTAINER',
          ComputeType: s.computeType,
          Image: s.image,
          ...(env.length ? { EnvironmentVariables: env } : {}),
        },
        // CodeBuild encrypts its output artifacts with this key and ignores the pipeline's:
        // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-codebuild-project.html#cfn-codebuild-project-encryptionkey
        EncryptionKey: sub(`\${${o.keyVar}}`),
        ...tagsProp(o.tags),
      },
    },
    o.description,
  )
}
