// CodePipeline through the SDK v3 client: declarations validated as AWS does, executions that
// run source, build, approval and cross-account CloudFormation deploys as the right roles, with
// artifacts encrypted with the store's key; superseding, stop, retry; polling for changes.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { unzipSync } from 'fflate'
import {
  CreatePipelineCommand,
  GetPipelineCommand,
  ListPipelinesCommand,
  UpdatePipelineCommand,
  DeletePipelineCommand,
  StartPipelineExecutionCommand,
  StopPipelineExecutionCommand,
  GetPipelineStateCommand,
  ListActionExecutionsCommand,
  PutApprovalResultCommand,
  RetryStageExecutionCommand,
  ListPipelineExecutionsCommand,
} from '@aws-sdk/client-codepipeline'
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3'
import { DescribeStacksCommand, CloudFormationClient } from '@aws-sdk/client-cloudformation'
import { failure } from '../helpers.js'
import { until } from '../codebuild/setup.js'
import {
  CI,
  DEV,
  TEMPLATE,
  actionState,
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
})
after(async () => {
  await f?.close()
})

const approvalStage = {
  name: 'Approve',
  actions: [
    {
      name: 'approve',
      actionTypeId: { category: 'Approval', owner: 'AWS', provider: 'Manual', version: '1' },
      runOrder: 1,
    },
  ],
}

const appFiles = (extra: Record<string, string> = {}) => ({
  'app.txt': 'hello',
  'template.json': TEMPLATE,
  'config.json': JSON.stringify({ Parameters: { Stage: 'dev' }, Tags: { team: 'a' } }),
  'params.json': JSON.stringify({ greeting: 'hi' }),
  ...extra,
})

test('declarations are validated as AWS does', async () => {
  const bad = async (stages: unknown[], extra: Record<string, unknown> = {}) =>
    failure(
      f.cp.send(new CreatePipelineCommand({ pipeline: pipeline(f.keyArn, 'bad', stages, extra) as any })),
    )
  let r = await bad([sourceStage])
  assert.equal(r.name, 'InvalidStructureException')
  assert.equal(r.message, 'Pipeline has only 1 stage(s). There should be a minimum of 2 stages in a pipeline')
  r = await bad([buildStage, sourceStage])
  assert.equal(r.name, 'InvalidStageDeclarationException')
  r = await bad([
    sourceStage,
    { name: 'Deploy', actions: [{ ...buildStage.actions[0], inputArtifacts: [{ name: 'Nope' }] }] },
  ])
  assert.equal(r.name, 'InvalidActionDeclarationException')
  assert.match(
    r.message,
    /Input Artifact Bundle Nope in action 'Build' is not declared as an output artifact in any of the preceding actions/,
  )
  r = await bad([
    sourceStage,
    {
      name: 'X',
      actions: [
        {
          name: 'x',
          actionTypeId: { category: 'Deploy', owner: 'AWS', provider: 'ECS', version: '1' },
          inputArtifacts: [{ name: 'SourceOutput' }],
        },
      ],
    },
  ])
  assert.match(
    r.message,
    /Deploy\/AWS\/ECS\/1 of action x in stage X is not supported by the crosspipe sandbox/,
  )
  r = await bad([
    sourceStage,
    { name: 'B', actions: [{ ...buildStage.actions[0], configuration: { ProjectName: 'p', Bogus: '1' } }] },
  ])
  assert.equal(r.message, "Action configuration for action 'Build' contains unknown configuration 'Bogus'")
  r = await bad([sourceStage, buildStage], { roleArn: `arn:aws:iam::${CI}:role/build-role` })
  assert.equal(r.name, 'InvalidStructureException')
  assert.equal(
    r.message,
    `CodePipeline is not authorized to perform AssumeRole on role arn:aws:iam::${CI}:role/build-role`,
  )
  r = await bad([sourceStage, { ...buildStage, onFailure: { result: 'ROLLBACK' } }], { pipelineType: 'V2' })
  assert.equal(r.name, 'InvalidStageDeclarationException')
  assert.match(r.message, /onFailure conditions are not supported by the crosspipe sandbox/)
  r = await bad([sourceStage, buildStage], {
    pipelineType: 'V2',
    triggers: [
      { providerType: 'CodeStarSourceConnection', gitConfiguration: { sourceActionName: 'Source' } },
    ],
  })
  assert.match(r.message, /Pipeline triggers are not supported by the crosspipe sandbox/)
  assert.equal(
    (await failure(f.cp.send(new GetPipelineCommand({ name: 'bad' })))).name,
    'PipelineNotFoundException',
  )
})

test('source → build → approval: runs as the roles, artifacts under the key layout, encrypted with the store key', async () => {
  const v1 = await f.putSource(appFiles(), 'first change')
  const created = await f.cp.send(
    new CreatePipelineCommand({
      pipeline: pipeline(f.keyArn, 'app-pipeline', [sourceStage, buildStage, approvalStage]) as any,
    }),
  )
  assert.equal(created.pipeline!.version, 1)
  const dup = await failure(
    f.cp.send(
      new CreatePipelineCommand({
        pipeline: pipeline(f.keyArn, 'app-pipeline', [sourceStage, buildStage]) as any,
      }),
    ),
  )
  assert.equal(dup.name, 'PipelineNameInUseException')
  // Creating the pipeline started an execution.
  const id = await newestExecution(f.cp, 'app-pipeline')
  const approve = await until('the approval to wait', async () => {
    const a = await actionState(f.cp, 'app-pipeline', 'Approve', 'approve')
    return a.latestExecution?.status === 'InProgress' && a.latestExecution.token ? a : undefined
  })
  const state = await f.cp.send(new GetPipelineStateCommand({ name: 'app-pipeline' }))
  assert.deepEqual(
    state.stageStates!.map((s) => [s.stageName, s.latestExecution?.status]),
    [
      ['Source', 'Succeeded'],
      ['Build', 'Succeeded'],
      ['Approve', 'InProgress'],
    ],
  )
  const src = state.stageStates![0]!.actionStates![0]!
  assert.equal(src.currentRevision!.revisionId, v1)

  const details = (
    await f.cp.send(
      new ListActionExecutionsCommand({ pipelineName: 'app-pipeline', filter: { pipelineExecutionId: id } }),
    )
  ).actionExecutionDetails!
  const build = details.find((d) => d.actionName === 'Build')!
  assert.equal(build.status, 'Succeeded')
  assert.match(build.output!.executionResult!.externalExecutionId!, /^app-build:/)
  const out = build.output!.outputArtifacts![0]!.s3location!
  assert.equal(out.bucket, 'artifacts-ci')
  assert.match(out.key!, /^app-pipeline\/BuildOutpu\/[A-Za-z0-9]{7}$/)
  const sourceOut = details.find((d) => d.actionName === 'Source')!.output!.outputArtifacts![0]!.s3location!
  assert.match(sourceOut.key!, /^app-pipeline\/SourceOutp\/[A-Za-z0-9]{7}$/)

  const { s3 } = f.h.clients(f.h.creds('ci'))
  const head = await s3.send(new HeadObjectCommand({ Bucket: 'artifacts-ci', Key: out.key! }))
  assert.equal(head.ServerSideEncryption, 'aws:kms')
  assert.equal(head.SSEKMSKeyId, f.keyArn)
  const files = unzipSync(
    await (
      await s3.send(new GetObjectCommand({ Bucket: 'artifacts-ci', Key: out.key! }))
    ).Body!.transformToByteArray(),
  )
  assert.deepEqual(Object.keys(files).sort(), ['app.txt', 'config.json', 'template.json'])

  // A token of the model's form (a UUID) that is not the action's; one of another form is the
  // model's ValidationException before any token is compared.
  const bad = await failure(
    f.cp.send(
      new PutApprovalResultCommand({
        pipelineName: 'app-pipeline',
        stageName: 'Approve',
        actionName: 'approve',
        token: '00000000-0000-0000-0000-000000000000',
        result: { status: 'Approved', summary: 'ok' },
      }),
    ),
  )
  assert.equal(bad.name, 'InvalidApprovalTokenException')
  const malformed = await failure(
    f.cp.send(
      new PutApprovalResultCommand({
        pipelineName: 'app-pipeline',
        stageName: 'Approve',
        actionName: 'approve',
        token: 'wrong',
        result: { status: 'Approved', summary: 'ok' },
      }),
    ),
  )
  assert.equal(malformed.name, 'ValidationException')
  await f.cp.send(
    new PutApprovalResultCommand({
      pipelineName: 'app-pipeline',
      stageName: 'Approve',
      actionName: 'approve',
      token: approve.latestExecution!.token!,
      result: { status: 'Approved', summary: 'looks good' },
    }),
  )
  const done = await execution(f.cp, 'app-pipeline', id, ['Succeeded', 'Failed'])
  assert.equal(done.status, 'Succeeded')
  assert.equal(done.trigger!.triggerType, 'CreatePipeline')
  assert.equal(done.artifactRevisions![0]!.revisionId, v1)
  assert.equal(done.artifactRevisions![0]!.revisionSummary, 'first change')
  const again = await failure(
    f.cp.send(
      new PutApprovalResultCommand({
        pipelineName: 'app-pipeline',
        stageName: 'Approve',
        actionName: 'approve',
        token: approve.latestExecution!.token!,
        result: { status: 'Approved', summary: 'x' },
      }),
    ),
  )
  assert.equal(again.name, 'ApprovalAlreadyCompletedException')

  // A new source version starts an execution by polling.
  const v2 = await f.putSource(appFiles({ 'app.txt': 'hello again' }))
  const id2 = await newestExecution(f.cp, 'app-pipeline', [id])
  const list = await f.cp.send(new ListPipelineExecutionsCommand({ pipelineName: 'app-pipeline' }))
  assert.equal(list.pipelineExecutionSummaries![0]!.trigger!.triggerType, 'PollForSourceChanges')
  await until('the second source', async () => {
    const a = await actionState(f.cp, 'app-pipeline', 'Source', 'Source')
    return a.currentRevision?.revisionId === v2 ? true : undefined
  })
  // Reject the second one: the action and the execution fail.
  const a2 = await until('the second approval', async () => {
    const a = await actionState(f.cp, 'app-pipeline', 'Approve', 'approve')
    return a.latestExecution?.status === 'InProgress' && a.latestExecution.token ? a : undefined
  })
  await f.cp.send(
    new PutApprovalResultCommand({
      pipelineName: 'app-pipeline',
      stageName: 'Approve',
      actionName: 'approve',
      token: a2.latestExecution!.token!,
      result: { status: 'Rejected', summary: 'not today' },
    }),
  )
  assert.equal((await execution(f.cp, 'app-pipeline', id2, ['Succeeded', 'Failed'])).status, 'Failed')
  const rejected = await actionState(f.cp, 'app-pipeline', 'Approve', 'approve')
  assert.equal(rejected.latestExecution!.status, 'Failed')
  assert.match(
    rejected.latestExecution!.errorDetails!.message!,
    /Rejected by arn:aws:iam::111111111111:root: not today/,
  )
})

test("a failing build fails the action with CodeBuild's reason; retry and superseding as AWS", async () => {
  await f.putSource(appFiles({ fail: '1' }))
  await f.cp.send(
    new CreatePipelineCommand({ pipeline: pipeline(f.keyArn, 'failing', [sourceStage, buildStage]) as any }),
  )
  const id = await newestExecution(f.cp, 'failing')
  assert.equal((await execution(f.cp, 'failing', id, ['Succeeded', 'Failed'])).status, 'Failed')
  const b = await actionState(f.cp, 'failing', 'Build', 'Build')
  assert.equal(b.latestExecution!.status, 'Failed')
  assert.equal(
    b.latestExecution!.errorDetails!.message,
    'Build terminated with state: FAILED. Phase: BUILD, Code: COMMAND_EXECUTION_ERROR, Message: Error while executing command: if [ -f fail ]; then echo "failing on purpose"; exit 7; fi. Reason: exit status 7',
  )
  // Retrying the failed stage re-runs the build (still failing: the source did not change).
  await f.cp.send(
    new RetryStageExecutionCommand({
      pipelineName: 'failing',
      stageName: 'Build',
      pipelineExecutionId: id,
      retryMode: 'FAILED_ACTIONS',
    }),
  )
  assert.equal((await execution(f.cp, 'failing', id, ['Succeeded', 'Failed'])).status, 'Failed')
  const notRetryable = await failure(
    f.cp.send(
      new RetryStageExecutionCommand({
        pipelineName: 'failing',
        stageName: 'Source',
        pipelineExecutionId: id,
        retryMode: 'FAILED_ACTIONS',
      }),
    ),
  )
  assert.equal(notRetryable.name, 'StageNotRetryableException')
  await f.cp.send(new DeletePipelineCommand({ name: 'failing' }))

  // Superseding: a slow build holds the Build stage; of two executions waiting, the newer wins.
  await f.putSource(appFiles({ slow: '2' }))
  await f.cp.send(
    new CreatePipelineCommand({ pipeline: pipeline(f.keyArn, 'slow', [sourceStage, buildStage]) as any }),
  )
  const first = await newestExecution(f.cp, 'slow')
  await until('the first in Build', async () => {
    const s = await f.cp.send(new GetPipelineStateCommand({ name: 'slow' }))
    return s.stageStates![1]!.latestExecution?.status === 'InProgress' ? true : undefined
  })
  const second = (await f.cp.send(new StartPipelineExecutionCommand({ name: 'slow' }))).pipelineExecutionId!
  await until('the second to wait', async () => {
    const s = await f.cp.send(new GetPipelineStateCommand({ name: 'slow' }))
    return s.stageStates![1]!.inboundExecution?.pipelineExecutionId === second ? true : undefined
  })
  const third = (await f.cp.send(new StartPipelineExecutionCommand({ name: 'slow' }))).pipelineExecutionId!
  assert.equal((await execution(f.cp, 'slow', second, ['Superseded', 'Succeeded'])).status, 'Superseded')
  assert.equal((await execution(f.cp, 'slow', first, ['Succeeded', 'Failed'])).status, 'Succeeded')
  // Stop the third with abandon while its build runs.
  await until('the third in Build', async () => {
    const s = await f.cp.send(new GetPipelineStateCommand({ name: 'slow' }))
    return s.stageStates![1]!.latestExecution?.pipelineExecutionId === third ? true : undefined
  })
  await f.cp.send(
    new StopPipelineExecutionCommand({
      pipelineName: 'slow',
      pipelineExecutionId: third,
      abandon: true,
      reason: 'enough',
    }),
  )
  const stopped = await execution(f.cp, 'slow', third, ['Stopped'])
  assert.equal(stopped.status, 'Stopped')
  const build = await actionState(f.cp, 'slow', 'Build', 'Build')
  assert.equal(build.latestExecution!.status, 'Abandoned')
  assert.equal(
    (
      await failure(
        f.cp.send(new StopPipelineExecutionCommand({ pipelineName: 'slow', pipelineExecutionId: third })),
      )
    ).name,
    'PipelineExecutionNotStoppableException',
  )
  await f.cp.send(new DeletePipelineCommand({ name: 'slow' }))
})

test('cross-account CloudFormation deploy as the action role, by change set, with parameters and outputs; a missing key grant fails as AWS', async () => {
  await f.putSource(appFiles())
  const deployStage = {
    name: 'Dev',
    actions: [
      {
        name: 'prepare',
        actionTypeId: { category: 'Deploy', owner: 'AWS', provider: 'CloudFormation', version: '1' },
        roleArn: `arn:aws:iam::${DEV}:role/cross-account-role`,
        configuration: {
          ActionMode: 'CHANGE_SET_REPLACE',
          StackName: 'app-dev',
          ChangeSetName: 'app-dev-cs',
          TemplatePath: 'BuildOutput::template.json',
          TemplateConfiguration: 'BuildOutput::config.json',
          ParameterOverrides: JSON.stringify({
            Greeting: { 'Fn::GetParam': ['SourceOutput', 'params.json', 'greeting'] },
          }),
          RoleArn: `arn:aws:iam::${DEV}:role/cloudformation-role`,
        },
        inputArtifacts: [{ name: 'BuildOutput' }, { name: 'SourceOutput' }],
        runOrder: 1,
      },
      {
        name: 'deploy',
        actionTypeId: { category: 'Deploy', owner: 'AWS', provider: 'CloudFormation', version: '1' },
        roleArn: `arn:aws:iam::${DEV}:role/cross-account-role`,
        namespace: 'DevDeploy',
        configuration: {
          ActionMode: 'CHANGE_SET_EXECUTE',
          StackName: 'app-dev',
          ChangeSetName: 'app-dev-cs',
          OutputFileName: 'outputs.json',
        },
        outputArtifacts: [{ name: 'DevOutputs' }],
        runOrder: 2,
      },
    ],
  }
  await f.cp.send(
    new CreatePipelineCommand({
      pipeline: pipeline(f.keyArn, 'deployer', [sourceStage, buildStage, deployStage]) as any,
    }),
  )
  const id = await newestExecution(f.cp, 'deployer')
  const e = await execution(f.cp, 'deployer', id, ['Succeeded', 'Failed'], 60_000)
  const details = (
    await f.cp.send(
      new ListActionExecutionsCommand({ pipelineName: 'deployer', filter: { pipelineExecutionId: id } }),
    )
  ).actionExecutionDetails!
  assert.equal(
    e.status,
    'Succeeded',
    JSON.stringify(details.map((d) => [d.actionName, d.status, d.output?.executionResult?.errorDetails])),
  )
  const cfn = new CloudFormationClient({
    endpoint: f.h.sandbox.endpoint,
    region: 'us-east-1',
    credentials: f.h.creds('dev'),
    maxAttempts: 1,
  })
  const stack = (await cfn.send(new DescribeStacksCommand({ StackName: 'app-dev' }))).Stacks![0]!
  cfn.destroy()
  assert.equal(stack.StackStatus, 'CREATE_COMPLETE')
  assert.deepEqual(Object.fromEntries(stack.Parameters!.map((p) => [p.ParameterKey, p.ParameterValue])), {
    Greeting: 'hi',
    Stage: 'dev',
  })
  assert.equal(stack.RoleARN, `arn:aws:iam::${DEV}:role/cloudformation-role`)
  const deploy = details.find((d) => d.actionName === 'deploy')!
  assert.equal(deploy.output!.outputVariables!['Greeting'], 'hi')
  assert.equal(deploy.input!.roleArn, `arn:aws:iam::${DEV}:role/cross-account-role`)
  const outKey = deploy.output!.outputArtifacts![0]!.s3location!.key!
  const { s3 } = f.h.clients(f.h.creds('ci'))
  const outputs = unzipSync(
    await (
      await s3.send(new GetObjectCommand({ Bucket: 'artifacts-ci', Key: outKey }))
    ).Body!.transformToByteArray(),
  )
  assert.equal(JSON.parse(new TextDecoder().decode(outputs['outputs.json'])).Greeting, 'hi')

  // The dev role removed from the key policy: the prepare action cannot read the build output.
  await f.keyPolicy([])
  const id2 = (await f.cp.send(new StartPipelineExecutionCommand({ name: 'deployer' }))).pipelineExecutionId!
  assert.equal((await execution(f.cp, 'deployer', id2, ['Succeeded', 'Failed'], 60_000)).status, 'Failed')
  const prepare = await actionState(f.cp, 'deployer', 'Dev', 'prepare')
  assert.equal(prepare.latestExecution!.status, 'Failed')
  assert.match(
    prepare.latestExecution!.errorDetails!.message!,
    /Insufficient permissions The provided role does not have permissions to perform this action on s3:\/\/artifacts-ci\/deployer\/BuildOutpu\/.{7}\. Underlying error: .*kms:Decrypt/,
  )
  assert.match(prepare.latestExecution!.errorDetails!.message!, /assumed-role\/cross-account-role\//)
  await f.keyPolicy([`arn:aws:iam::${DEV}:role/cross-account-role`])
})

test('pipelines: get, list, update bumps the version, delete', async () => {
  const got = await f.cp.send(new GetPipelineCommand({ name: 'app-pipeline' }))
  assert.equal(got.metadata!.pipelineArn, `arn:aws:codepipeline:us-east-1:${CI}:app-pipeline`)
  assert.equal(got.pipeline!.stages!.length, 3)
  // The pipeline polls the shared source object, so other tests' uploads ran it too: count first.
  const all = (await f.cp.send(new ListActionExecutionsCommand({ pipelineName: 'app-pipeline' })))
    .actionExecutionDetails!
  const page = await f.cp.send(
    new ListActionExecutionsCommand({ pipelineName: 'app-pipeline', maxResults: 2 }),
  )
  assert.deepEqual(
    page.actionExecutionDetails!.map((d) => d.actionExecutionId),
    all.slice(0, 2).map((d) => d.actionExecutionId),
  )
  const rest = await f.cp.send(
    new ListActionExecutionsCommand({ pipelineName: 'app-pipeline', nextToken: page.nextToken }),
  )
  assert.equal(rest.actionExecutionDetails!.length, Math.min(100, all.length - 2))
  const names = (await f.cp.send(new ListPipelinesCommand({}))).pipelines!.map((p) => p.name)
  assert.ok(names.includes('app-pipeline'))
  const up = await f.cp.send(
    new UpdatePipelineCommand({ pipeline: { ...got.pipeline!, stages: got.pipeline!.stages!.slice(0, 2) } }),
  )
  assert.equal(up.pipeline!.version, 2)
  await f.cp.send(new DeletePipelineCommand({ name: 'app-pipeline' }))
  assert.equal(
    (await failure(f.cp.send(new GetPipelineStateCommand({ name: 'app-pipeline' })))).name,
    'PipelineNotFoundException',
  )
})

const manual = (name: string, runOrder = 1) => ({
  name,
  actionTypeId: { category: 'Approval', owner: 'AWS', provider: 'Manual', version: '1' },
  runOrder,
})

async function token(name: string, stage: string, action: string, except?: string) {
  return until(`${action} to wait`, async () => {
    const a = await actionState(f.cp, name, stage, action)
    const t = a.latestExecution?.status === 'InProgress' ? a.latestExecution.token : undefined
    return t && t !== except ? t : undefined
  })
}

const approveWith = (name: string, stage: string, action: string, t: string) =>
  f.cp.send(
    new PutApprovalResultCommand({
      pipelineName: name,
      stageName: stage,
      actionName: action,
      token: t,
      result: { status: 'Approved', summary: 'ok' },
    }),
  )

test('equal run orders run in parallel; an action role the pipeline role may not assume fails the action', async () => {
  await f.putSource(appFiles())
  const denied = {
    name: 'Deploy',
    actions: [
      {
        name: 'deploy',
        actionTypeId: { category: 'Deploy', owner: 'AWS', provider: 'CloudFormation', version: '1' },
        // Trusts cloudformation.amazonaws.com only: the pipeline role cannot assume it.
        roleArn: `arn:aws:iam::${DEV}:role/cloudformation-role`,
        configuration: {
          ActionMode: 'CREATE_UPDATE',
          StackName: 'app-never',
          TemplatePath: 'SourceOutput::template.json',
        },
        inputArtifacts: [{ name: 'SourceOutput' }],
        runOrder: 1,
      },
    ],
  }
  await f.cp.send(
    new CreatePipelineCommand({
      pipeline: pipeline(f.keyArn, 'parallel', [
        sourceStage,
        { name: 'Gate', actions: [manual('a'), manual('b'), manual('c', 2)] },
        denied,
      ]) as any,
    }),
  )
  const id = await newestExecution(f.cp, 'parallel')
  // a and b wait at the same time; c (run order 2) has not started.
  const [ta, tb] = await Promise.all([token('parallel', 'Gate', 'a'), token('parallel', 'Gate', 'b')])
  assert.equal((await actionState(f.cp, 'parallel', 'Gate', 'c')).latestExecution, undefined)
  await approveWith('parallel', 'Gate', 'a', ta)
  await approveWith('parallel', 'Gate', 'b', tb)
  await approveWith('parallel', 'Gate', 'c', await token('parallel', 'Gate', 'c'))
  assert.equal((await execution(f.cp, 'parallel', id, ['Succeeded', 'Failed'])).status, 'Failed')
  const d = await actionState(f.cp, 'parallel', 'Deploy', 'deploy')
  assert.match(
    d.latestExecution!.errorDetails!.message!,
    new RegExp(
      `^CodePipeline is not authorized to perform AssumeRole on role arn:aws:iam::${DEV}:role/cloudformation-role .*Underlying error: AccessDenied: User: arn:aws:sts::${CI}:assumed-role/pipeline-role/\\d+ is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::${DEV}:role/cloudformation-role`,
    ),
  )
  await f.cp.send(new DeletePipelineCommand({ name: 'parallel' }))
})

test('QUEUED mode (V2): waiting executions enter in order, none is superseded; a waiting execution can be stopped', async () => {
  await f.cp.send(
    new CreatePipelineCommand({
      pipeline: pipeline(f.keyArn, 'queued', [sourceStage, { name: 'Gate', actions: [manual('ok')] }], {
        pipelineType: 'V2',
        executionMode: 'QUEUED',
      }) as any,
    }),
  )
  const first = await newestExecution(f.cp, 'queued')
  const t1 = await token('queued', 'Gate', 'ok')
  const second = (await f.cp.send(new StartPipelineExecutionCommand({ name: 'queued' }))).pipelineExecutionId!
  const third = (await f.cp.send(new StartPipelineExecutionCommand({ name: 'queued' }))).pipelineExecutionId!
  await until('two executions waiting for Gate', async () => {
    const s = await f.cp.send(new GetPipelineStateCommand({ name: 'queued' }))
    const ids = s.stageStates![1]!.inboundExecutions?.map((e) => e.pipelineExecutionId)
    return ids?.length === 2 && ids[0] === second && ids[1] === third ? true : undefined
  })
  await approveWith('queued', 'Gate', 'ok', t1)
  assert.equal((await execution(f.cp, 'queued', first, ['Succeeded'])).status, 'Succeeded')
  const t2 = await token('queued', 'Gate', 'ok', t1)
  const s = await f.cp.send(new GetPipelineStateCommand({ name: 'queued' }))
  assert.equal(s.stageStates![1]!.latestExecution!.pipelineExecutionId, second)
  assert.equal(s.stageStates![1]!.inboundExecution!.pipelineExecutionId, third)
  await f.cp.send(
    new StopPipelineExecutionCommand({
      pipelineName: 'queued',
      pipelineExecutionId: third,
      reason: 'not needed',
    }),
  )
  assert.equal((await execution(f.cp, 'queued', third, ['Stopped'])).status, 'Stopped')
  await approveWith('queued', 'Gate', 'ok', t2)
  assert.equal((await execution(f.cp, 'queued', second, ['Succeeded'])).status, 'Succeeded')
  const list = await f.cp.send(new ListPipelineExecutionsCommand({ pipelineName: 'queued' }))
  assert.deepEqual(
    list.pipelineExecutionSummaries!.map((e) => e.status),
    ['Stopped', 'Succeeded', 'Succeeded'],
  )
  assert.equal(list.pipelineExecutionSummaries![0]!.stopTrigger!.reason, 'not needed')
  await f.cp.send(new DeletePipelineCommand({ name: 'queued' }))
})
