// AWS::CodePipeline::Pipeline and AWS::CodeBuild::Project are the services' own: a stack's
// pipeline and project are created, updated and deleted through the CodePipeline and CodeBuild
// APIs as the deploying identity, so the services see them (and the pipeline starts running), and
// the services' own validation and iam:PassRole checks fail the resource with their messages.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  CloudFormationClient,
  CreateStackCommand,
  DeleteStackCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  UpdateStackCommand,
} from '@aws-sdk/client-cloudformation'
import { BatchGetProjectsCommand, CodeBuildClient } from '@aws-sdk/client-codebuild'
import {
  CodePipelineClient,
  GetPipelineCommand,
  ListPipelineExecutionsCommand,
} from '@aws-sdk/client-codepipeline'
import {
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam'
import { ACCOUNTS, failure, harness, type Creds, type Harness } from '../helpers.js'

let h: Harness
const ci = ACCOUNTS.ci

before(async () => {
  h = await harness()
})
after(async () => {
  await h.close()
})

const base = (c: Creds) => ({
  endpoint: h.sandbox.endpoint,
  region: 'us-east-1',
  credentials: c,
  maxAttempts: 1,
})

async function settled(c: CloudFormationClient, StackName: string): Promise<string> {
  for (let i = 0; i < 300; i++) {
    const s = (await c.send(new DescribeStacksCommand({ StackName }))).Stacks![0]!.StackStatus!
    if (!s.endsWith('_IN_PROGRESS')) return s
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`${StackName} did not settle`)
}

async function reasons(c: CloudFormationClient, StackName: string): Promise<string> {
  const ev = (await c.send(new DescribeStackEventsCommand({ StackName }))).StackEvents ?? []
  return ev
    .map((x) => `${x.LogicalResourceId} ${x.ResourceStatus} ${x.ResourceStatusReason ?? ''}`)
    .join('\n')
}

const trust = (service: string, condition?: Record<string, unknown>) => ({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { Service: `${service}.amazonaws.com` },
      Action: 'sts:AssumeRole',
      ...(condition ? { Condition: condition } : {}),
    },
  ],
})

const action = (name: string, category: string, provider: string, extra: Record<string, unknown>) => ({
  Name: name,
  ActionTypeId: { Category: category, Owner: 'AWS', Provider: provider, Version: '1' },
  ...extra,
})

/** Roles, a project whose role trusts CodeBuild only for this project, and a pipeline using it. */
function template(buildStage: string, description: string): string {
  return JSON.stringify({
    Resources: {
      BuildRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          // The confused-deputy conditions CodeBuild's documentation recommends: the sandbox sets
          // aws:SourceArn / aws:SourceAccount when CodeBuild assumes the role for the project.
          AssumeRolePolicyDocument: trust('codebuild', {
            StringEquals: { 'aws:SourceAccount': ci },
            ArnLike: { 'aws:SourceArn': `arn:aws:codebuild:us-east-1:${ci}:project/app-build` },
          }),
        },
      },
      PipelineRole: {
        Type: 'AWS::IAM::Role',
        Properties: { AssumeRolePolicyDocument: trust('codepipeline') },
      },
      Project: {
        Type: 'AWS::CodeBuild::Project',
        Properties: {
          Name: 'app-build',
          Description: description,
          ServiceRole: { 'Fn::GetAtt': ['BuildRole', 'Arn'] },
          Source: { Type: 'CODEPIPELINE', BuildSpec: 'version: 0.2' },
          Artifacts: { Type: 'CODEPIPELINE' },
          Environment: {
            Type: 'LINUX_CONTAINER',
            ComputeType: 'BUILD_GENERAL1_SMALL',
            Image: 'aws/codebuild/standard:7.0',
          },
        },
      },
      Pipeline: {
        Type: 'AWS::CodePipeline::Pipeline',
        Properties: {
          Name: 'app',
          RoleArn: { 'Fn::GetAtt': ['PipelineRole', 'Arn'] },
          ArtifactStore: { Type: 'S3', Location: 'artifacts' },
          Stages: [
            {
              Name: 'Source',
              Actions: [
                action('Src', 'Source', 'S3', {
                  Configuration: { S3Bucket: 'src', S3ObjectKey: 'app.zip' },
                  OutputArtifacts: [{ Name: 'Code' }],
                }),
              ],
            },
            {
              Name: buildStage,
              Actions: [
                action('Build', 'Build', 'CodeBuild', {
                  Configuration: { ProjectName: { Ref: 'Project' } },
                  InputArtifacts: [{ Name: 'Code' }],
                }),
              ],
            },
          ],
        },
      },
    },
    Outputs: {
      Version: { Value: { 'Fn::GetAtt': ['Pipeline', 'Version'] } },
      ProjectArn: { Value: { 'Fn::GetAtt': ['Project', 'Arn'] } },
      Pipeline: { Value: { Ref: 'Pipeline' } },
    },
  })
}

test('a stack creates, updates and deletes its pipeline and project through the CodePipeline and CodeBuild APIs', async () => {
  const creds = h.creds('ci')
  const c = new CloudFormationClient(base(creds))
  const cp = new CodePipelineClient(base(creds))
  const cb = new CodeBuildClient(base(creds))
  const outputs = async (): Promise<Record<string, string | undefined>> =>
    Object.fromEntries(
      ((await c.send(new DescribeStacksCommand({ StackName: 'pipe' }))).Stacks![0]!.Outputs ?? []).map(
        (o): [string, string | undefined] => [o.OutputKey ?? '', o.OutputValue],
      ),
    )

  await c.send(
    new CreateStackCommand({
      StackName: 'pipe',
      TemplateBody: template('Build', 'first'),
      Capabilities: ['CAPABILITY_IAM'],
    }),
  )
  assert.equal(await settled(c, 'pipe'), 'CREATE_COMPLETE', await reasons(c, 'pipe'))
  assert.deepEqual(await outputs(), {
    Version: '1',
    ProjectArn: `arn:aws:codebuild:us-east-1:${ci}:project/app-build`,
    Pipeline: 'app',
  })
  const got = await cp.send(new GetPipelineCommand({ name: 'app' }))
  assert.deepEqual(
    got.pipeline!.stages!.map((s) => s.name),
    ['Source', 'Build'],
  )
  assert.match(got.pipeline!.roleArn!, new RegExp(`^arn:aws:iam::${ci}:role/pipe-PipelineRole-`))
  // Created through the API, so it started its first execution as CreatePipeline does.
  const runs = await cp.send(new ListPipelineExecutionsCommand({ pipelineName: 'app' }))
  assert.equal(runs.pipelineExecutionSummaries!.length, 1)
  assert.equal(runs.pipelineExecutionSummaries![0]!.trigger?.triggerType, 'CreatePipeline')
  const projects = await cb.send(new BatchGetProjectsCommand({ names: ['app-build'] }))
  assert.equal(projects.projects![0]!.description, 'first')

  await c.send(
    new UpdateStackCommand({
      StackName: 'pipe',
      TemplateBody: template('Compile', 'second'),
      Capabilities: ['CAPABILITY_IAM'],
    }),
  )
  assert.equal(await settled(c, 'pipe'), 'UPDATE_COMPLETE', await reasons(c, 'pipe'))
  assert.equal((await outputs()).Version, '2')
  const updated = await cp.send(new GetPipelineCommand({ name: 'app' }))
  assert.deepEqual(
    updated.pipeline!.stages!.map((s) => s.name),
    ['Source', 'Compile'],
  )
  assert.equal(updated.pipeline!.version, 2)
  assert.equal(
    (await cb.send(new BatchGetProjectsCommand({ names: ['app-build'] }))).projects![0]!.description,
    'second',
  )

  await c.send(new DeleteStackCommand({ StackName: 'pipe' }))
  assert.equal(await settled(c, 'pipe').catch(() => 'DELETE_COMPLETE'), 'DELETE_COMPLETE')
  assert.equal(
    (await failure(cp.send(new GetPipelineCommand({ name: 'app' })))).name,
    'PipelineNotFoundException',
  )
  assert.deepEqual((await cb.send(new BatchGetProjectsCommand({ names: ['app-build'] }))).projectsNotFound, [
    'app-build',
  ])
})

test("CodePipeline's validation fails the resource with its message", async () => {
  const c = new CloudFormationClient(base(h.creds('ci')))
  await c.send(
    new CreateStackCommand({
      StackName: 'one-stage',
      TemplateBody: JSON.stringify({
        Resources: {
          Role: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: trust('codepipeline') } },
          Pipeline: {
            Type: 'AWS::CodePipeline::Pipeline',
            Properties: {
              RoleArn: { 'Fn::GetAtt': ['Role', 'Arn'] },
              ArtifactStore: { Type: 'S3', Location: 'artifacts' },
              Stages: [
                {
                  Name: 'Source',
                  Actions: [
                    action('Src', 'Source', 'S3', {
                      Configuration: { S3Bucket: 'src', S3ObjectKey: 'app.zip' },
                      OutputArtifacts: [{ Name: 'Code' }],
                    }),
                  ],
                },
              ],
            },
          },
        },
      }),
      Capabilities: ['CAPABILITY_IAM'],
    }),
  )
  assert.equal(await settled(c, 'one-stage'), 'ROLLBACK_COMPLETE')
  assert.match(
    await reasons(c, 'one-stage'),
    /Pipeline CREATE_FAILED Resource handler returned message: "Pipeline has only 1 stage\(s\)\. There should be a minimum of 2 stages in a pipeline \(Service: CodePipeline, Status Code: 400/,
  )
})

test('a project needs iam:PassRole of its service role for the deploying identity', async () => {
  const root = h.clients(h.creds('ci'))
  await root.iam.send(
    new CreateRoleCommand({
      RoleName: 'build-role',
      AssumeRolePolicyDocument: JSON.stringify(trust('codebuild')),
    }),
  )
  await root.iam.send(new CreateUserCommand({ UserName: 'deployer' }))
  await root.iam.send(
    new PutUserPolicyCommand({
      UserName: 'deployer',
      PolicyName: 'deploy',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: ['cloudformation:*', 'codebuild:*'], Resource: '*' }],
      }),
    }),
  )
  const key = (await root.iam.send(new CreateAccessKeyCommand({ UserName: 'deployer' }))).AccessKey!
  const c = new CloudFormationClient(
    base({ accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! }),
  )
  await c.send(
    new CreateStackCommand({
      StackName: 'build',
      TemplateBody: JSON.stringify({
        Resources: {
          Project: {
            Type: 'AWS::CodeBuild::Project',
            Properties: {
              ServiceRole: `arn:aws:iam::${ci}:role/build-role`,
              Source: { Type: 'CODEPIPELINE' },
              Artifacts: { Type: 'CODEPIPELINE' },
              Environment: {
                Type: 'LINUX_CONTAINER',
                ComputeType: 'BUILD_GENERAL1_SMALL',
                Image: 'aws/codebuild/standard:7.0',
              },
            },
          },
        },
      }),
    }),
  )
  assert.equal(await settled(c, 'build'), 'ROLLBACK_COMPLETE')
  assert.match(
    await reasons(c, 'build'),
    new RegExp(
      `Project CREATE_FAILED Resource handler returned message: "User: arn:aws:iam::${ci}:user/deployer is not authorized to perform: iam:PassRole on resource: arn:aws:iam::${ci}:role/build-role`,
    ),
  )
})
