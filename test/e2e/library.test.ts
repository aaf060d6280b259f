/**
 * The library (issue 12 item 9), through the package entry point `crosspipe` (package.json
 * "exports", so the built dist/src/index.js), as a program that uses crosspipe would:
 *  1. check a loaded definition: a typed CheckResult;
 *  2. startSandbox in-process, register the example's git repository, deploy: a typed
 *     DeployResult, with the execution the new pipeline started;
 *  3. runPipeline: returns behind that execution's approval (a typed StageWait); pipelineStatus
 *     shows the same; approve approves it;
 *  4. destroy: every stack deleted, the application stacks first;
 *  5. simulate on a policy that still holds CloudFormation intrinsics: a clear error.
 * Needs git and a built dist/.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { commit, tempDir } from './helpers.js'
import type * as LibTypes from '../../src/index.js'

type Lib = typeof LibTypes
type Sandbox = Awaited<ReturnType<Lib['startSandbox']>>

const PACKAGE = 'crosspipe'
// The package's own entry point: Node resolves a package's name from inside it through "exports".
const lib = (await import(PACKAGE)) as Lib
const dir = tempDir('crosspipe-e2e-library-')
let sandbox: Sandbox | undefined
let pipeline: Awaited<ReturnType<Lib['loadPipeline']>>
let deployed: Awaited<ReturnType<Lib['deploy']>> | undefined

before(async () => {
  for (const [f, text] of Object.entries(lib.exampleProject())) writeFileSync(join(dir, f), text)
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: dir })
  commit(dir, 'The crosspipe init example')
  pipeline = await lib.loadPipeline(join(dir, 'crosspipe.yml'))
})

after(async () => {
  await sandbox?.stop()
  rmSync(dir, { recursive: true, force: true })
})

function access(): ReturnType<Lib['sandboxAccessFor']> {
  assert.ok(sandbox, 'the sandbox runs')
  return lib.sandboxAccessFor(sandbox)
}

test('the entry point is the built package', () => {
  const resolved = import.meta.resolve(PACKAGE)
  assert.match(resolved, /\/dist\/src\/index\.js$/)
})

test('1. check: every call allowed, a typed result', async () => {
  const r = await lib.check(pipeline)
  assert.equal(r.ok, true)
  assert.ok(r.calls.length > 20)
  assert.ok(r.calls.every((c) => c.decision === 'Allowed'))
})

test('2. startSandbox + deploy: every stack created; the new pipeline started an execution', async () => {
  sandbox = await lib.startSandbox({ stateDir: join(dir, '.crosspipe', 'sandbox'), port: 0, reset: true })
  lib.addSandboxRepository(sandbox.stateDir, {
    name: 'my-app',
    path: dir,
    account: '111111111111',
    region: 'eu-west-1',
  })
  const out = lib.synthesize(pipeline)
  const templates = Object.fromEntries(out.templates.map((t) => [t.file, out.files[t.file]!]))
  deployed = await lib.deploy({
    manifest: out.manifest,
    templates,
    credentials: access(),
    pollIntervalMs: 100,
  })
  assert.equal(deployed.success, true)
  assert.deepEqual(
    deployed.stacks.map((s) => s.outcome),
    ['created', 'created', 'created', 'created'],
  )
  const started = deployed.pipelinesStarted?.[0]
  assert.equal(started?.pipeline, 'my-app')
  assert.deepEqual(started?.approvals, [{ stage: 'prod', action: 'approve' }])
})

test('3. runPipeline returns behind the approval; pipelineStatus shows it; approve approves it', async () => {
  const first = deployed?.pipelinesStarted?.[0]?.executionId
  assert.ok(first)
  const api = access().codePipeline({ account: '111111111111', region: 'eu-west-1' })
  // The first execution reaches its approval by itself.
  const deadline = Date.now() + 30_000
  while (!(await lib.pipelineStatus({ api, pipeline: 'my-app', executionId: first })).waitingForApproval) {
    assert.ok(Date.now() < deadline, 'the first execution reaches the approval')
    await new Promise((r) => setTimeout(r, 200))
  }
  const run = await lib.runPipeline({ api, pipeline: 'my-app', pollIntervalMs: 100, timeoutMs: 60_000 })
  assert.equal(run.execution.status, 'InProgress')
  assert.deepEqual(run.waitingForStage, {
    stage: 'prod',
    heldBy: first,
    heldAtApproval: { stage: 'prod', action: 'approve' },
  })
  const status = await lib.pipelineStatus({ api, pipeline: 'my-app' })
  assert.equal(status.execution.executionId, run.execution.executionId)
  assert.deepEqual(status.waitingForStage, run.waitingForStage)
  const a = await lib.approve({ api, pipeline: 'my-app', stage: 'prod' })
  assert.deepEqual(a, { stage: 'prod', action: 'approve', approved: true })
})

test('4. destroy: the application stacks first, then every stack', async () => {
  assert.ok(deployed)
  // Wait until no execution is in progress, so no application stack is being deployed.
  const api = access().codePipeline({ account: '111111111111', region: 'eu-west-1' })
  const deadline = Date.now() + 60_000
  for (;;) {
    const runs = await api.listExecutions('my-app', 5)
    const waiting = await lib.pipelineStatus({ api, pipeline: 'my-app' })
    if (waiting.waitingForApproval) await lib.approve({ api, pipeline: 'my-app', stage: 'prod' })
    if (runs.every((r) => r.status !== 'InProgress')) break
    assert.ok(Date.now() < deadline, `executions still running: ${JSON.stringify(runs)}`)
    await new Promise((r) => setTimeout(r, 300))
  }
  const out = lib.synthesize(pipeline)
  const templates = Object.fromEntries(out.templates.map((t) => [t.file, out.files[t.file]!]))
  const r = await lib.destroy({
    manifest: out.manifest,
    templates,
    credentials: access(),
    yes: true,
    pollIntervalMs: 100,
  })
  assert.equal(r.success, true)
  assert.deepEqual(
    r.stacks.map((s) => `${s.stack} ${s.outcome}`),
    [
      'my-app-dev deleted',
      'my-app-prod deleted',
      'my-app-pipeline deleted',
      'my-app-target-222222222222-eu-west-1 deleted',
      'my-app-target-333333333333-eu-west-1 deleted',
      'my-app-ci-base deleted',
    ],
  )
})

test('5. simulate on a policy with CloudFormation intrinsics: a clear error', () => {
  assert.throws(
    () =>
      lib.simulate({
        principal: {
          arn: 'arn:aws:iam::111111111111:role/x',
          identityPolicies: [
            {
              Version: '2012-10-17',
              Statement: [
                {
                  Effect: 'Allow',
                  Action: 's3:GetObject',
                  Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::b/*' },
                },
              ],
            },
          ],
        },
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::b/k',
      } as unknown as Parameters<Lib['simulate']>[0]),
    (e: Error & { code?: string }) =>
      e.name === 'CrosspipeError' &&
      e.code === 'invalid-policy' &&
      /holds a CloudFormation intrinsic at principal\.identityPolicies\[0\]\.Statement\[0\]\.Resource: Fn::Sub/.test(
        e.message,
      ),
  )
})
