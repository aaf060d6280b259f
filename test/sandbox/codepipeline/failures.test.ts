// The classic cross-account failures, each injected alone into a working pipeline: every one
// fails the action where AWS would, with AWS's error in the action's details. Also every
// CloudFormation action mode, and a CodeCommit source from a registered local repository.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  CreatePipelineCommand,
  DeletePipelineCommand,
  ListActionExecutionsCommand,
  ListPipelineExecutionsCommand,
} from '@aws-sdk/client-codepipeline'
import { UpdateProjectCommand } from '@aws-sdk/client-codebuild'
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation'
import { CreateKeyCommand } from '@aws-sdk/client-kms'
import { PutRolePolicyCommand } from '@aws-sdk/client-iam'
import { DeleteBucketPolicyCommand, GetBucketPolicyCommand, PutBucketPolicyCommand } from '@aws-sdk/client-s3'
import { registerRepository } from '../../../src/sandbox/services/codepipeline/repositories.js'
import { until } from '../codebuild/setup.js'
import {
  CI,
  DEV,
  TEMPLATE,
  buildStage,
  execution,
  fixture,
  newestExecution,
  pipeline,
  sourceStage,
  type Fixture,
} from './fixture.js'

let f: Fixture
before(async () => {
  f = await fixture()
  await f.putSource({
    'app.txt': 'hello',
    'template.json': TEMPLATE,
    'config.json': JSON.stringify({ Parameters: { Greeting: 'hey', Stage: 'dev' } }),
  })
})
after(async () => {
  await f?.close()
})

const deploy = (
  name: string,
  configuration: Record<string, string>,
  extra: Record<string, unknown> = {},
) => ({
  name,
  actionTypeId: { category: 'Deploy', owner: 'AWS', provider: 'CloudFormation', version: '1' },
  roleArn: `arn:aws:iam::${DEV}:role/cross-account-role`,
  configuration: { RoleArn: `arn:aws:iam::${DEV}:role/cloudformation-role`, ...configuration },
  inputArtifacts: [{ name: 'BuildOutput' }],
  runOrder: 1,
  ...extra,
})

/** Creates a pipeline, waits for its first execution, returns the action details by name. */
async function runOnce(name: string, stages: unknown[], store: Record<string, unknown> = {}) {
  const decl: any = pipeline(f.keyArn, name, stages)
  Object.assign(decl.artifactStore, store)
  await f.cp.send(new CreatePipelineCommand({ pipeline: decl }))
  const id = await newestExecution(f.cp, name)
  const e = await execution(f.cp, name, id, ['Succeeded', 'Failed'], 60_000)
  const details = (
    await f.cp.send(
      new ListActionExecutionsCommand({ pipelineName: name, filter: { pipelineExecutionId: id } }),
    )
  ).actionExecutionDetails!
  const by = Object.fromEntries(details.map((d) => [d.actionName!, d]))
  await f.cp.send(new DeletePipelineCommand({ name }))
  return {
    status: e.status!,
    by,
    error: (a: string) => by[a]?.output?.executionResult?.errorDetails?.message ?? '',
  }
}

const stack = async (name: string) => {
  const cfn = new CloudFormationClient({
    endpoint: f.h.sandbox.endpoint,
    region: 'us-east-1',
    credentials: f.h.creds('dev'),
    maxAttempts: 1,
  })
  try {
    return (await cfn.send(new DescribeStacksCommand({ StackName: name }))).Stacks![0]
  } catch {
    return undefined
  } finally {
    cfn.destroy()
  }
}

test('every CloudFormation action mode against the target account, as the action role', async () => {
  const tpl = {
    TemplatePath: 'BuildOutput::template.json',
    TemplateConfiguration: 'BuildOutput::config.json',
  }
  let r = await runOnce('cfn-create', [
    sourceStage,
    buildStage,
    { name: 'Dev', actions: [deploy('d', { ActionMode: 'CREATE_UPDATE', StackName: 'app-modes', ...tpl })] },
  ])
  assert.equal(r.status, 'Succeeded', r.error('d'))
  assert.equal((await stack('app-modes'))!.StackStatus, 'CREATE_COMPLETE')
  // Again with nothing changed: "No updates are to be performed." is success.
  r = await runOnce('cfn-again', [
    sourceStage,
    buildStage,
    { name: 'Dev', actions: [deploy('d', { ActionMode: 'CREATE_UPDATE', StackName: 'app-modes', ...tpl })] },
  ])
  assert.equal(r.status, 'Succeeded', r.error('d'))
  // An update through parameter overrides.
  r = await runOnce('cfn-update', [
    sourceStage,
    buildStage,
    {
      name: 'Dev',
      actions: [
        deploy('d', {
          ActionMode: 'REPLACE_ON_FAILURE',
          StackName: 'app-modes',
          ...tpl,
          ParameterOverrides: '{"Greeting":"changed"}',
        }),
      ],
    },
  ])
  assert.equal(r.status, 'Succeeded', r.error('d'))
  const s = (await stack('app-modes'))!
  assert.equal(s.StackStatus, 'UPDATE_COMPLETE')
  assert.equal(s.Parameters!.find((p) => p.ParameterKey === 'Greeting')!.ParameterValue, 'changed')
  r = await runOnce('cfn-delete', [
    sourceStage,
    buildStage,
    {
      name: 'Dev',
      actions: [deploy('d', { ActionMode: 'DELETE_ONLY', StackName: 'app-modes' }, { inputArtifacts: [] })],
    },
  ])
  assert.equal(r.status, 'Succeeded', r.error('d'))
  assert.equal(await stack('app-modes'), undefined)
})

test("a resource the deployment role may not create fails the deploy with CloudFormation's reason; REPLACE_ON_FAILURE then replaces the stack", async () => {
  const denied = JSON.stringify({ Resources: { Topic: { Type: 'AWS::SNS::Topic', Properties: {} } } })
  await f.putSource({ 'app.txt': 'x', 'template.json': denied, 'config.json': '{}' })
  let r = await runOnce('cfn-denied', [
    sourceStage,
    buildStage,
    {
      name: 'Dev',
      actions: [
        deploy('d', {
          ActionMode: 'CREATE_UPDATE',
          StackName: 'app-denied',
          TemplatePath: 'BuildOutput::template.json',
        }),
      ],
    },
  ])
  assert.equal(r.status, 'Failed')
  assert.match(
    r.error('d'),
    /^Stack app-denied creation failed: the stack is in state ROLLBACK_COMPLETE\. Reason: Topic \(AWS::SNS::Topic\): .*not authorized to perform: sns:CreateTopic/,
  )
  assert.match(r.error('d'), /assumed-role\/cloudformation-role\//)
  // CREATE_UPDATE cannot update a stack in ROLLBACK_COMPLETE; REPLACE_ON_FAILURE deletes and recreates it.
  await f.putSource({
    'app.txt': 'x',
    'template.json': TEMPLATE,
    'config.json': JSON.stringify({ Parameters: { Greeting: 'back' } }),
  })
  r = await runOnce('cfn-stuck', [
    sourceStage,
    buildStage,
    {
      name: 'Dev',
      actions: [
        deploy('d', {
          ActionMode: 'CREATE_UPDATE',
          StackName: 'app-denied',
          TemplatePath: 'BuildOutput::template.json',
        }),
      ],
    },
  ])
  assert.equal(r.error('d'), 'Stack app-denied is in ROLLBACK_COMPLETE state and can not be updated.')
  r = await runOnce('cfn-replace', [
    sourceStage,
    buildStage,
    {
      name: 'Dev',
      actions: [
        deploy('d', {
          ActionMode: 'REPLACE_ON_FAILURE',
          StackName: 'app-denied',
          TemplatePath: 'BuildOutput::template.json',
          TemplateConfiguration: 'BuildOutput::config.json',
        }),
      ],
    },
  ])
  assert.equal(r.status, 'Succeeded', r.error('d'))
  assert.equal((await stack('app-denied'))!.StackStatus, 'CREATE_COMPLETE')
})

const devStage = (config: Record<string, string> = {}, outputs: { name: string }[] = []) => ({
  name: 'Dev',
  actions: [
    deploy(
      'prepare',
      {
        ActionMode: 'CHANGE_SET_REPLACE',
        StackName: 'app-inject',
        ChangeSetName: 'cs',
        TemplatePath: 'BuildOutput::template.json',
        TemplateConfiguration: 'BuildOutput::config.json',
        ...config,
      },
      outputs.length ? { outputArtifacts: outputs } : {},
    ),
  ],
})

test('injected: the bucket policy without the target role → the deploy action cannot read the artifact', async () => {
  await f.putSource({
    'app.txt': 'hello',
    'template.json': TEMPLATE,
    'config.json': JSON.stringify({ Parameters: { Greeting: 'g' } }),
  })
  const { s3 } = f.h.clients(f.h.creds('ci'))
  const saved = (await s3.send(new GetBucketPolicyCommand({ Bucket: 'artifacts-ci' }))).Policy!
  await s3.send(new DeleteBucketPolicyCommand({ Bucket: 'artifacts-ci' }))
  try {
    const r = await runOnce('no-bucket-grant', [sourceStage, buildStage, devStage()])
    assert.equal(r.status, 'Failed')
    assert.equal(r.by['Build']!.status, 'Succeeded')
    assert.match(
      r.error('prepare'),
      /^Insufficient permissions The provided role does not have permissions to perform this action on s3:\/\/artifacts-ci\/no-bucket-grant\/BuildOutpu\/.{7}\. Underlying error: Access Denied \(Service: Amazon S3; Status Code: 403; Error Code: AccessDenied\)$/,
    )
  } finally {
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'artifacts-ci', Policy: saved }))
  }
})

test('injected: the default aws/s3 key → the target account cannot decrypt the artifact', async () => {
  // The source artifact is written by the pipeline with the store's key: here, none, so aws/s3.
  const fromSource = deploy(
    'prepare',
    {
      ActionMode: 'CHANGE_SET_REPLACE',
      StackName: 'app-inject',
      ChangeSetName: 'cs',
      TemplatePath: 'SourceOutput::template.json',
    },
    { inputArtifacts: [{ name: 'SourceOutput' }] },
  )
  const r = await runOnce('default-key', [sourceStage, { name: 'Dev', actions: [fromSource] }], {
    encryptionKey: undefined,
  })
  assert.equal(r.status, 'Failed', r.error('prepare'))
  assert.match(
    r.error('prepare'),
    /Insufficient permissions .*kms:Decrypt on resource: arn:aws:kms:us-east-1:111111111111:key\//,
  )
  assert.equal(r.by['Source']!.status, 'Succeeded')
})

test('injected: the CodeBuild project encrypting with another key → the deploy cannot decrypt the build output', async () => {
  const { kms, iam } = f.h.clients(f.h.creds('ci'))
  const other = (await kms.send(new CreateKeyCommand({ Description: 'other' }))).KeyMetadata!.Arn!
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: 'build-role',
      PolicyName: 'other-key',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: ['kms:GenerateDataKey*', 'kms:Decrypt'], Resource: other }],
      }),
    }),
  )
  await f.cb.send(new UpdateProjectCommand({ name: 'app-build', encryptionKey: other }))
  try {
    const r = await runOnce('other-key', [sourceStage, buildStage, devStage()])
    assert.equal(r.by['Build']!.status, 'Succeeded')
    assert.equal(r.status, 'Failed')
    assert.match(r.error('prepare'), new RegExp(`kms:Decrypt on resource: ${other.replace(/[/]/g, '\\/')}`))
  } finally {
    await f.cb.send(new UpdateProjectCommand({ name: 'app-build', encryptionKey: f.keyArn }))
  }
})

test('injected: the artifact store key given by id → an action in the target account writes with a key that does not exist there', async () => {
  const keyId = f.keyArn.split('/').pop()!
  const r = await runOnce(
    'key-by-id',
    [sourceStage, buildStage, devStage({ OutputFileName: 'out.json' }, [{ name: 'DevOut' }])],
    {
      encryptionKey: { id: keyId, type: 'KMS' },
    },
  )
  assert.equal(r.status, 'Failed')
  assert.equal(r.by['Build']!.status, 'Succeeded')
  assert.match(
    r.error('prepare'),
    new RegExp(`Could not write the artifact .*arn:aws:kms:us-east-1:${DEV}:key/${keyId}`),
  )
})

test('a CodeCommit source from a registered local repository; a new commit starts an execution', async () => {
  const repo = mkdtempSync(join(tmpdir(), 'crosspipe-repo-'))
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
      encoding: 'utf8',
    })
  try {
    git('init', '-q', '-b', 'main')
    writeFileSync(join(repo, 'app.txt'), 'from git')
    writeFileSync(join(repo, 'template.json'), TEMPLATE)
    writeFileSync(join(repo, 'config.json'), '{}')
    git('add', '.')
    git('commit', '-q', '-m', 'first commit')
    registerRepository(f.h.dir, { name: 'app-repo', path: repo, account: CI, region: 'us-east-1' })
    const source = {
      name: 'Source',
      actions: [
        {
          name: 'Source',
          actionTypeId: { category: 'Source', owner: 'AWS', provider: 'CodeCommit', version: '1' },
          configuration: { RepositoryName: 'app-repo', BranchName: 'main' },
          outputArtifacts: [{ name: 'SourceOutput' }],
          runOrder: 1,
        },
      ],
    }
    await f.cp.send(
      new CreatePipelineCommand({ pipeline: pipeline(f.keyArn, 'from-git', [source, buildStage]) as any }),
    )
    const id = await newestExecution(f.cp, 'from-git')
    const e = await execution(f.cp, 'from-git', id, ['Succeeded', 'Failed'])
    assert.equal(e.status, 'Succeeded')
    const head = git('rev-parse', 'HEAD').trim()
    assert.equal(e.artifactRevisions![0]!.revisionId, head)
    assert.equal(e.artifactRevisions![0]!.revisionSummary, 'first commit')
    writeFileSync(join(repo, 'app.txt'), 'changed')
    git('commit', '-q', '-am', 'second commit')
    const id2 = await newestExecution(f.cp, 'from-git', [id])
    const e2 = await execution(f.cp, 'from-git', id2, ['Succeeded', 'Failed'])
    assert.equal(e2.status, 'Succeeded')
    assert.equal(e2.trigger!.triggerType, 'PollForSourceChanges')
    assert.equal(e2.artifactRevisions![0]!.revisionId, git('rev-parse', 'HEAD').trim())
    const list = await f.cp.send(new ListPipelineExecutionsCommand({ pipelineName: 'from-git' }))
    assert.equal(list.pipelineExecutionSummaries!.length, 2)
    // An unregistered repository fails the source action and says how to register it.
    await f.cp.send(new DeletePipelineCommand({ name: 'from-git' }))
    const missing = {
      ...source,
      actions: [{ ...source.actions[0]!, configuration: { RepositoryName: 'nope', BranchName: 'main' } }],
    }
    const r = await runOnce('no-repo', [missing, buildStage])
    assert.match(r.error('Source'), /^nope does not exist .*crosspipe sandbox repo add nope PATH/)
  } finally {
    rmSync(repo, { recursive: true, force: true })
  }
  void until
})

test('variables from earlier actions and Fn::GetArtifactAtt resolve in configuration', async () => {
  await f.putSource({ 'app.txt': 'v', 'template.json': TEMPLATE, 'config.json': '{}' })
  const source = { ...sourceStage, actions: [{ ...sourceStage.actions[0]!, namespace: 'SourceVariables' }] }
  const build = {
    ...buildStage,
    actions: [
      {
        ...buildStage.actions[0]!,
        configuration: {
          ProjectName: 'app-build',
          EnvironmentVariables: JSON.stringify([
            { name: 'VERSION', value: '#{SourceVariables.VersionId}', type: 'PLAINTEXT' },
          ]),
        },
      },
    ],
  }
  const dev = {
    name: 'Dev',
    actions: [
      deploy('d', {
        ActionMode: 'CREATE_UPDATE',
        StackName: 'app-vars',
        TemplatePath: 'BuildOutput::template.json',
        ParameterOverrides: JSON.stringify({
          Greeting: { 'Fn::GetArtifactAtt': ['BuildOutput', 'BucketName'] },
          Stage: '#{codepipeline.PipelineExecutionId}',
        }),
      }),
    ],
  }
  const r = await runOnce('vars', [source, build, dev])
  assert.equal(r.status, 'Succeeded', r.error('d'))
  const version = r.by['Source']!.output!.outputVariables!['VersionId']!
  assert.match(
    r.by['Build']!.input!.resolvedConfiguration!['EnvironmentVariables']!,
    new RegExp(`"value":"${version}"`),
  )
  const s = (await stack('app-vars'))!
  const params = Object.fromEntries(s.Parameters!.map((p) => [p.ParameterKey, p.ParameterValue]))
  assert.equal(params['Greeting'], 'artifacts-ci')
  assert.equal(params['Stage'], r.by['d']!.pipelineExecutionId)
})
