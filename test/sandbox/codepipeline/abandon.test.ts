// Stop and abandon with a CodeBuild action in progress: the action ends Abandoned at once, and the
// build it started is not stopped — it runs to its own end, as on AWS, where CodePipeline's role
// for a CodeBuild action holds codebuild:StartBuild and codebuild:BatchGetBuilds only
// (https://docs.aws.amazon.com/codepipeline/latest/userguide/how-to-custom-role.html,
// https://docs.aws.amazon.com/codepipeline/latest/userguide/pipelines-stop.html). Whether the
// pipeline role lacks codebuild:StopBuild (as AWS's policy and crosspipe's generated one do) or
// holds it, CodePipeline never calls it.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { BatchGetBuildsCommand } from '@aws-sdk/client-codebuild'
import {
  CreatePipelineCommand,
  DeletePipelineCommand,
  ListActionExecutionsCommand,
  StopPipelineExecutionCommand,
} from '@aws-sdk/client-codepipeline'
import { CreateRoleCommand, GetRolePolicyCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam'
import { until, trustService } from '../codebuild/setup.js'
import {
  CI,
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
  // A second pipeline role: the first one's policy, plus codebuild:StopBuild on the projects.
  const iam = f.h.clients(f.h.creds('ci')).iam
  await iam.send(
    new CreateRoleCommand({
      RoleName: 'pipeline-role-stop',
      AssumeRolePolicyDocument: trustService('codepipeline'),
    }),
  )
  const base = await iam.send(new GetRolePolicyCommand({ RoleName: 'pipeline-role', PolicyName: 'pipeline' }))
  const doc = JSON.parse(decodeURIComponent(base.PolicyDocument!)) as { Statement: unknown[] }
  doc.Statement.push({
    Effect: 'Allow',
    Action: 'codebuild:StopBuild',
    Resource: `arn:aws:codebuild:us-east-1:${CI}:project/*`,
  })
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: 'pipeline-role-stop',
      PolicyName: 'pipeline',
      PolicyDocument: JSON.stringify(doc),
    }),
  )
})
after(async () => {
  await f?.close()
})

const CASES = [
  { name: 'codebuild:StopBuild denied to the pipeline role', role: 'pipeline-role' },
  { name: 'codebuild:StopBuild allowed to the pipeline role', role: 'pipeline-role-stop' },
]

for (const c of CASES)
  test(`abandoning a running CodeBuild action leaves its build running to its end (${c.name})`, async () => {
    const name = `abandon-${c.role}`
    // The build sleeps long enough to be abandoned mid-way, short enough to end within the test.
    await f.putSource({
      'app.txt': 'hello',
      'template.json': TEMPLATE,
      'config.json': '{}',
      slow: '3',
    })
    await f.cp.send(
      new CreatePipelineCommand({
        pipeline: pipeline(f.keyArn, name, [sourceStage, buildStage], {
          roleArn: `arn:aws:iam::${CI}:role/${c.role}`,
        }) as any,
      }),
    )
    const id = await newestExecution(f.cp, name)
    const buildId = await until('the build to start', async () => {
      const a = await actionState(f.cp, name, 'Build', 'Build')
      return a.latestExecution?.status === 'InProgress' ? a.latestExecution.externalExecutionId : undefined
    })
    await f.cp.send(
      new StopPipelineExecutionCommand({
        pipelineName: name,
        pipelineExecutionId: id,
        abandon: true,
        reason: 'abandon the build action',
      }),
    )
    assert.equal((await execution(f.cp, name, id, ['Stopped', 'Succeeded', 'Failed'])).status, 'Stopped')
    const action = await actionState(f.cp, name, 'Build', 'Build')
    assert.equal(action.latestExecution!.status, 'Abandoned')
    // The abandoned action still names its build, as ListActionExecutions shows it.
    assert.equal(action.latestExecution!.externalExecutionId, buildId)
    const detail = (
      await f.cp.send(
        new ListActionExecutionsCommand({ pipelineName: name, filter: { pipelineExecutionId: id } }),
      )
    ).actionExecutionDetails!.find((d) => d.actionName === 'Build')!
    assert.equal(detail.status, 'Abandoned')
    assert.equal(detail.output!.executionResult!.externalExecutionId, buildId)

    const buildNow = async () => (await f.cb.send(new BatchGetBuildsCommand({ ids: [buildId!] }))).builds![0]!
    const running = await buildNow()
    assert.equal(running.buildStatus, 'IN_PROGRESS', 'the build still runs after the action was abandoned')
    assert.equal(running.buildComplete, false)
    const ended = await until(
      'the build to end',
      async () => {
        const b = await buildNow()
        return b.buildComplete ? b : undefined
      },
      30_000,
    )
    assert.equal(ended.buildStatus, 'SUCCEEDED', 'nobody stopped the build: it ran to its end')
    assert.equal(ended.phases!.find((p) => p.phaseType === 'BUILD')!.phaseStatus, 'SUCCEEDED')
    await f.cp.send(new DeletePipelineCommand({ name }))
  })
