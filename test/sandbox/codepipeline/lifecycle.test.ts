// The sandbox stopping kills running builds; after a restart, work that was in flight has ended
// (builds FAULT, executions Failed) with a summary that says why. And the CloudFormation shapes.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  BatchGetBuildsCommand,
  CodeBuildClient,
  CreateProjectCommand,
  ListBuildsForProjectCommand,
} from '@aws-sdk/client-codebuild'
import {
  CodePipelineClient,
  CreatePipelineCommand,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  ListPipelineExecutionsCommand,
  PutApprovalResultCommand,
} from '@aws-sdk/client-codepipeline'
import { CreateRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam'
import { CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { codepipelineService } from '../../../src/sandbox/services/codepipeline/api.js'
import { pipelineInputFromCloudFormation } from '../../../src/sandbox/services/codepipeline/declaration.js'
import { projectInputFromCloudFormation } from '../../../src/sandbox/services/codebuild/api.js'
import { sandboxWithBuilds, trustService, until } from '../codebuild/setup.js'
import { execution, fixture, newestExecution, pipeline, sourceStage, zip } from './fixture.js'

const MARK = '31.4159'
const sleeping = () => {
  try {
    return execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.includes(`sleep ${MARK}`) && !l.includes('bash -c')).length
  } catch {
    return 0
  }
}

test('stopping the sandbox kills running builds; a restart ends in-flight work with a reason', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'crosspipe-lifecycle-'))
  try {
    let h = await sandboxWithBuilds([codepipelineService], { stateDir: dir })
    const c = h.clients(h.creds('ci'))
    const base = {
      endpoint: h.sandbox.endpoint,
      region: 'us-east-1',
      credentials: h.creds('ci'),
      maxAttempts: 1,
    }
    let cb = new CodeBuildClient(base)
    let cp = new CodePipelineClient(base)
    await c.iam.send(
      new CreateRoleCommand({ RoleName: 'build', AssumeRolePolicyDocument: trustService('codebuild') }),
    )
    await c.iam.send(
      new CreateRoleCommand({ RoleName: 'pipe', AssumeRolePolicyDocument: trustService('codepipeline') }),
    )
    await c.iam.send(
      new PutRolePolicyCommand({
        RoleName: 'pipe',
        PolicyName: 'p',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: ['s3:*', 'kms:*', 'codebuild:*'], Resource: '*' }],
        }),
      }),
    )
    await c.iam.send(
      new PutRolePolicyCommand({
        RoleName: 'build',
        PolicyName: 'p',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: ['s3:*', 'kms:*', 'logs:*'], Resource: '*' }],
        }),
      }),
    )
    await c.s3.send(new CreateBucketCommand({ Bucket: 'src' }))
    await c.s3.send(
      new PutBucketVersioningCommand({ Bucket: 'src', VersioningConfiguration: { Status: 'Enabled' } }),
    )
    await c.s3.send(new CreateBucketCommand({ Bucket: 'art' }))
    await c.s3.send(new PutObjectCommand({ Bucket: 'src', Key: 's.zip', Body: zip({ 'a.txt': 'a' }) }))
    // Created from CloudFormation-shaped properties, through the converters the provider uses.
    await cb.send(
      new CreateProjectCommand(
        projectInputFromCloudFormation({
          Name: 'long',
          Source: {
            Type: 'CODEPIPELINE',
            BuildSpec: `version: 0.2\nphases:\n  build:\n    commands:\n      - sleep ${MARK}\n`,
          },
          Artifacts: { Type: 'CODEPIPELINE' },
          Environment: {
            Type: 'LINUX_CONTAINER',
            Image: 'img',
            ComputeType: 'BUILD_GENERAL1_SMALL',
            EnvironmentVariables: [{ Name: 'A', Value: '1', Type: 'PLAINTEXT' }],
          },
          ServiceRole: 'arn:aws:iam::111111111111:role/build',
          Tags: [{ Key: 'team', Value: 'x' }],
        }) as any,
      ),
    )
    const props = {
      Name: 'slow',
      RoleArn: 'arn:aws:iam::111111111111:role/pipe',
      PipelineType: 'V2',
      ArtifactStores: [{ Region: 'us-east-1', ArtifactStore: { Type: 'S3', Location: 'art' } }],
      Stages: [
        {
          Name: 'Source',
          Actions: [
            {
              Name: 'S',
              ActionTypeId: { Category: 'Source', Owner: 'AWS', Provider: 'S3', Version: '1' },
              Configuration: { S3Bucket: 'src', S3ObjectKey: 's.zip', PollForSourceChanges: 'false' },
              OutputArtifacts: [{ Name: 'Src' }],
              RunOrder: 1,
            },
          ],
        },
        {
          Name: 'Build',
          Actions: [
            {
              Name: 'B',
              ActionTypeId: { Category: 'Build', Owner: 'AWS', Provider: 'CodeBuild', Version: '1' },
              Configuration: { ProjectName: 'long' },
              InputArtifacts: [{ Name: 'Src' }],
            },
          ],
        },
      ],
      RestartExecutionOnUpdate: false,
    }
    const input = pipelineInputFromCloudFormation(props)
    assert.deepEqual(Object.keys((input as any).artifactStores), ['us-east-1'])
    await cp.send(new CreatePipelineCommand({ pipeline: input as any }))
    const buildId = await until('the build to run', async () => {
      const ids = (await cb.send(new ListBuildsForProjectCommand({ projectName: 'long' }))).ids ?? []
      if (!ids[0]) return undefined
      const b = (await cb.send(new BatchGetBuildsCommand({ ids: [ids[0]] }))).builds![0]!
      return b.currentPhase === 'BUILD' && sleeping() > 0 ? b.id : undefined
    })
    const execId = (await cp.send(new ListPipelineExecutionsCommand({ pipelineName: 'slow' })))
      .pipelineExecutionSummaries![0]!.pipelineExecutionId!
    cb.destroy()
    cp.destroy()
    await h.close()
    await until(
      'the build processes to be gone',
      () => Promise.resolve(sleeping() === 0 ? true : undefined),
      5000,
    )

    h = await sandboxWithBuilds([codepipelineService], { stateDir: dir })
    cb = new CodeBuildClient({ ...base, endpoint: h.sandbox.endpoint })
    cp = new CodePipelineClient({ ...base, endpoint: h.sandbox.endpoint })
    const b = (await cb.send(new BatchGetBuildsCommand({ ids: [buildId!] }))).builds![0]!
    assert.equal(b.buildStatus, 'FAULT')
    assert.equal(b.buildComplete, true)
    assert.match(
      b.phases!.find((p) => p.phaseType === 'BUILD')!.contexts![0]!.message!,
      /sandbox stopped while this build ran/,
    )
    const e = (
      await cp.send(new GetPipelineExecutionCommand({ pipelineName: 'slow', pipelineExecutionId: execId }))
    ).pipelineExecution!
    assert.equal(e.status, 'Failed')
    assert.match(e.statusSummary!, /sandbox stopped while this execution ran/)
    cb.destroy()
    cp.destroy()
    await h.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a waiting approval survives a restart: the stage asks again and the execution goes on', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'crosspipe-approval-'))
  try {
    const f = await fixture({ stateDir: dir })
    await f.putSource({ 'app.txt': 'a', 'template.json': '{}', 'config.json': '{}' })
    const gate = {
      name: 'Gate',
      actions: [
        {
          name: 'ok',
          actionTypeId: { category: 'Approval', owner: 'AWS', provider: 'Manual', version: '1' },
        },
      ],
    }
    await f.cp.send(
      new CreatePipelineCommand({ pipeline: pipeline(f.keyArn, 'gated', [sourceStage, gate]) as any }),
    )
    const id = await newestExecution(f.cp, 'gated')
    const waiting = async (cp: CodePipelineClient, except?: string) =>
      until('the approval', async () => {
        const s = await cp.send(new GetPipelineStateCommand({ name: 'gated' }))
        const t = s.stageStates![1]!.actionStates![0]!.latestExecution
        return t?.status === 'InProgress' && t.token && t.token !== except ? t.token : undefined
      })
    const before = await waiting(f.cp)
    await f.close()

    const h = await sandboxWithBuilds([codepipelineService], { stateDir: dir })
    const cp = new CodePipelineClient({
      endpoint: h.sandbox.endpoint,
      region: 'us-east-1',
      credentials: h.creds('ci'),
      maxAttempts: 1,
    })
    const after = await waiting(cp, before)
    await cp.send(
      new PutApprovalResultCommand({
        pipelineName: 'gated',
        stageName: 'Gate',
        actionName: 'ok',
        token: after,
        result: { status: 'Approved', summary: 'after restart' },
      }),
    )
    const e = await execution(cp, 'gated', id, ['Succeeded', 'Failed'])
    assert.equal(e.status, 'Succeeded')
    cp.destroy()
    await h.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
