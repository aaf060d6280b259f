// A small two-account setup for the pipeline tests: a KMS key and an artifact bucket in ci, a
// pipeline role, a build project, a versioned source bucket, and a cross-account role in dev.
import { zipSync } from 'fflate'
import { CodeBuildClient, CreateProjectCommand } from '@aws-sdk/client-codebuild'
import {
  CodePipelineClient,
  GetPipelineStateCommand,
  GetPipelineExecutionCommand,
  ListPipelineExecutionsCommand,
  type PipelineExecution,
} from '@aws-sdk/client-codepipeline'
import { CreateRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam'
import { CreateKeyCommand, PutKeyPolicyCommand } from '@aws-sdk/client-kms'
import {
  CreateBucketCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3'
import type { Harness } from '../helpers.js'
import { sandboxWithBuilds, trustService, until } from '../codebuild/setup.js'
import { codepipelineService } from '../../../src/sandbox/services/codepipeline/api.js'
import { cloudformationService } from '../../../src/sandbox/services/cloudformation/api.js'

export const CI = '111111111111'
export const DEV = '222222222222'

export interface Fixture {
  h: Harness
  cp: CodePipelineClient
  cb: CodeBuildClient
  keyArn: string
  /** Replaces the key policy (for failure injection). */
  keyPolicy(principals: string[]): Promise<void>
  putSource(files: Record<string, string>, summary?: string): Promise<string>
  close(): Promise<void>
}

export const zip = (files: Record<string, string>) => {
  const z: Record<string, Uint8Array> = {}
  for (const [k, v] of Object.entries(files)) z[k] = new TextEncoder().encode(v)
  return zipSync(z)
}

export async function fixture(opts: { stateDir?: string } = {}): Promise<Fixture> {
  const h = await sandboxWithBuilds([codepipelineService, cloudformationService], opts)
  const creds = h.creds('ci')
  const c = h.clients(creds)
  const dev = h.clients(h.creds('dev'))
  const base = { endpoint: h.sandbox.endpoint, region: 'us-east-1', credentials: creds, maxAttempts: 1 }
  const cp = new CodePipelineClient(base)
  const cb = new CodeBuildClient(base)

  const keyArn = (await c.kms.send(new CreateKeyCommand({ Description: 'artifacts' }))).KeyMetadata!.Arn!
  const keyPolicy = async (principals: string[]) => {
    await c.kms.send(
      new PutKeyPolicyCommand({
        KeyId: keyArn,
        PolicyName: 'default',
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'Root',
              Effect: 'Allow',
              Principal: { AWS: `arn:aws:iam::${CI}:root` },
              Action: 'kms:*',
              Resource: '*',
            },
            ...(principals.length
              ? [
                  {
                    Sid: 'Use',
                    Effect: 'Allow',
                    Principal: { AWS: principals },
                    Action: [
                      'kms:Decrypt',
                      'kms:DescribeKey',
                      'kms:Encrypt',
                      'kms:ReEncrypt*',
                      'kms:GenerateDataKey*',
                    ],
                    Resource: '*',
                  },
                ]
              : []),
          ],
        }),
      }),
    )
  }
  await keyPolicy([`arn:aws:iam::${DEV}:role/cross-account-role`])

  await c.s3.send(new CreateBucketCommand({ Bucket: 'artifacts-ci' }))
  await c.s3.send(
    new PutBucketPolicyCommand({
      Bucket: 'artifacts-ci',
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { AWS: `arn:aws:iam::${DEV}:role/cross-account-role` },
            Action: ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject'],
            Resource: 'arn:aws:s3:::artifacts-ci/*',
          },
        ],
      }),
    }),
  )
  await c.s3.send(new CreateBucketCommand({ Bucket: 'source-ci' }))
  await c.s3.send(
    new PutBucketVersioningCommand({ Bucket: 'source-ci', VersioningConfiguration: { Status: 'Enabled' } }),
  )

  const s3rw = {
    Effect: 'Allow',
    Action: ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject', 's3:GetBucketVersioning'],
    Resource: ['arn:aws:s3:::artifacts-ci/*', 'arn:aws:s3:::source-ci/*'],
  }
  const kmsUse = {
    Effect: 'Allow',
    Action: ['kms:Decrypt', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
    Resource: keyArn,
  }
  await c.iam.send(
    new CreateRoleCommand({
      RoleName: 'pipeline-role',
      AssumeRolePolicyDocument: trustService('codepipeline'),
    }),
  )
  await c.iam.send(
    new PutRolePolicyCommand({
      RoleName: 'pipeline-role',
      PolicyName: 'pipeline',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          s3rw,
          kmsUse,
          {
            Effect: 'Allow',
            Action: ['codebuild:StartBuild', 'codebuild:BatchGetBuilds'],
            Resource: `arn:aws:codebuild:us-east-1:${CI}:project/*`,
          },
          {
            Effect: 'Allow',
            Action: [
              'codecommit:GetBranch',
              'codecommit:GetCommit',
              'codecommit:UploadArchive',
              'codecommit:GetUploadArchiveStatus',
            ],
            Resource: '*',
          },
          {
            Effect: 'Allow',
            Action: 'sts:AssumeRole',
            Resource: `arn:aws:iam::${DEV}:role/cross-account-role`,
          },
        ],
      }),
    }),
  )
  await c.iam.send(
    new CreateRoleCommand({ RoleName: 'build-role', AssumeRolePolicyDocument: trustService('codebuild') }),
  )
  await c.iam.send(
    new PutRolePolicyCommand({
      RoleName: 'build-role',
      PolicyName: 'build',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          s3rw,
          kmsUse,
          { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: '*' },
        ],
      }),
    }),
  )
  await cb.send(
    new CreateProjectCommand({
      name: 'app-build',
      source: {
        type: 'CODEPIPELINE',
        buildspec: [
          'version: 0.2',
          'phases:',
          '  build:',
          '    commands:',
          '      - test -f app.txt',
          '      - if [ -f slow ]; then sleep "$(cat slow)"; fi',
          '      - mkdir -p out && cp app.txt out/ && cp template.json out/ && cp config.json out/',
          '      - if [ -f fail ]; then echo "failing on purpose"; exit 7; fi',
          'artifacts:',
          '  base-directory: out',
          '  files:',
          '    - "**/*"',
        ].join('\n'),
      },
      artifacts: { type: 'CODEPIPELINE' },
      environment: {
        type: 'LINUX_CONTAINER',
        image: 'aws/codebuild/standard:7.0',
        computeType: 'BUILD_GENERAL1_SMALL',
      },
      serviceRole: `arn:aws:iam::${CI}:role/build-role`,
      encryptionKey: keyArn,
    }),
  )

  // dev: the role the pipeline assumes for deploy actions, and the role CloudFormation deploys with.
  await dev.iam.send(
    new CreateRoleCommand({
      RoleName: 'cross-account-role',
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${CI}:root` }, Action: 'sts:AssumeRole' },
        ],
      }),
    }),
  )
  await dev.iam.send(
    new PutRolePolicyCommand({
      RoleName: 'cross-account-role',
      PolicyName: 'deploy',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['cloudformation:*'],
            Resource: `arn:aws:cloudformation:us-east-1:${DEV}:stack/app-*/*`,
          },
          {
            Effect: 'Allow',
            Action: ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject'],
            Resource: 'arn:aws:s3:::artifacts-ci/*',
          },
          {
            Effect: 'Allow',
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
            Resource: keyArn,
          },
          {
            Effect: 'Allow',
            Action: 'iam:PassRole',
            Resource: `arn:aws:iam::${DEV}:role/cloudformation-role`,
          },
        ],
      }),
    }),
  )
  await dev.iam.send(
    new CreateRoleCommand({
      RoleName: 'cloudformation-role',
      AssumeRolePolicyDocument: trustService('cloudformation'),
    }),
  )
  await dev.iam.send(
    new PutRolePolicyCommand({
      RoleName: 'cloudformation-role',
      PolicyName: 'deploy',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: ['ssm:*', 'sqs:*'], Resource: '*' }],
      }),
    }),
  )

  const putSource = async (files: Record<string, string>, summary?: string) => {
    const r = await c.s3.send(
      new PutObjectCommand({
        Bucket: 'source-ci',
        Key: 'app.zip',
        Body: zip(files),
        Metadata: summary ? { 'codepipeline-artifact-revision-summary': summary } : undefined,
      }),
    )
    return r.VersionId!
  }
  return {
    h,
    cp,
    cb,
    keyArn,
    keyPolicy,
    putSource,
    async close() {
      cp.destroy()
      cb.destroy()
      await h.close()
    },
  }
}

export const TEMPLATE = JSON.stringify({
  Parameters: { Greeting: { Type: 'String' }, Stage: { Type: 'String', Default: 'none' } },
  Resources: {
    Param: {
      Type: 'AWS::SSM::Parameter',
      Properties: { Type: 'String', Value: { 'Fn::Sub': '${Greeting}-${Stage}' } },
    },
  },
  Outputs: { ParamName: { Value: { Ref: 'Param' } }, Greeting: { Value: { Ref: 'Greeting' } } },
})

export function pipeline(
  keyArn: string,
  name: string,
  stages: unknown[],
  extra: Record<string, unknown> = {},
) {
  return {
    name,
    roleArn: `arn:aws:iam::${CI}:role/pipeline-role`,
    artifactStore: { type: 'S3', location: 'artifacts-ci', encryptionKey: { id: keyArn, type: 'KMS' } },
    stages,
    ...extra,
  }
}

export const sourceStage = {
  name: 'Source',
  actions: [
    {
      name: 'Source',
      actionTypeId: { category: 'Source', owner: 'AWS', provider: 'S3', version: '1' },
      configuration: { S3Bucket: 'source-ci', S3ObjectKey: 'app.zip' },
      outputArtifacts: [{ name: 'SourceOutput' }],
      runOrder: 1,
    },
  ],
}

export const buildStage = {
  name: 'Build',
  actions: [
    {
      name: 'Build',
      actionTypeId: { category: 'Build', owner: 'AWS', provider: 'CodeBuild', version: '1' },
      configuration: { ProjectName: 'app-build' },
      inputArtifacts: [{ name: 'SourceOutput' }],
      outputArtifacts: [{ name: 'BuildOutput' }],
      runOrder: 1,
    },
  ],
}

/** Waits for an execution to reach one of the statuses. */
export async function execution(
  cp: CodePipelineClient,
  name: string,
  id: string,
  statuses: string[],
  timeoutMs = 30_000,
): Promise<PipelineExecution> {
  return until(
    `execution ${id} to be ${statuses.join('/')}`,
    async () => {
      const e = (
        await cp.send(new GetPipelineExecutionCommand({ pipelineName: name, pipelineExecutionId: id }))
      ).pipelineExecution!
      return statuses.includes(e.status!) ? e : undefined
    },
    timeoutMs,
  )
}

/** The id of the newest execution once there is one other than `except`. */
export async function newestExecution(
  cp: CodePipelineClient,
  name: string,
  except: string[] = [],
): Promise<string> {
  return until(`a new execution of ${name}`, async () => {
    const l = await cp.send(new ListPipelineExecutionsCommand({ pipelineName: name }))
    const e = l.pipelineExecutionSummaries?.find((x) => !except.includes(x.pipelineExecutionId!))
    return e?.pipelineExecutionId
  })
}

/** The state of an action (GetPipelineState). */
export async function actionState(cp: CodePipelineClient, name: string, stage: string, action: string) {
  const s = await cp.send(new GetPipelineStateCommand({ name }))
  return s
    .stageStates!.find((x) => x.stageName === stage)!
    .actionStates!.find((a) => a.actionName === action)!
}
