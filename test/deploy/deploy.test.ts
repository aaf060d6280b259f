/**
 * deploy / destroy against an in-memory CloudFormation (fake-aws.ts): ordering, parameters across
 * accounts, idempotency, change sets without changes, failures with their resource and reason,
 * skipped dependents, --replace-failed, interruption and convergence, uploads, concurrency.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { deploy, destroy, type DeployResult } from '../../src/deploy/index.js'
import { CrosspipeError } from '../../src/model/errors.js'
import { recordingIo, type IoMessage } from '../../src/model/io.js'
import type { ManifestDocument } from '../../src/synth/manifest.js'
import { FakeAws } from './fake-aws.js'

const CI = { account: '111111111111', region: 'eu-west-1' }
const DEV = { account: '222222222222', region: 'eu-west-1' }

const BASE = `Parameters:
  Prefix: {Type: String}
Resources:
  Key:
    Type: AWS::KMS::Key
    Properties: {PendingWindowInDays: 7}
  Bucket:
    Type: AWS::S3::Bucket
Outputs:
  KeyArn:
    Value: !GetAtt Key.Arn
  BucketName:
    Value: !Ref Bucket
`
const TARGET = `Resources:
  Role:
    Type: AWS::IAM::Role
  DeployRole:
    Type: AWS::IAM::Role
Outputs:
  RoleName:
    Value: !Ref Role
`
const APP = `Parameters:
  KeyArn: {Type: String}
  Bucket: {Type: String}
Resources:
  Queue:
    Type: AWS::SQS::Queue
Outputs:
  Key:
    Value: !Ref KeyArn
`
const BROKEN_APP = `Parameters:
  KeyArn: {Type: String}
  Bucket: {Type: String}
Resources:
  Queue:
    Type: AWS::SQS::Queue
  Topic:
    Type: Test::Fail
    Properties:
      Reason: "User: arn:aws:sts::222222222222:assumed-role/deploy/x is not authorized to perform: sns:CreateTopic (Service: Sns, Status Code: 403, Request ID: 1) (AccessDenied)"
Outputs:
  Key:
    Value: !Ref KeyArn
`

function manifest(extraPhase3 = false): ManifestDocument {
  return {
    version: 1,
    pipeline: 'demo',
    stacks: [
      {
        name: 'base',
        template: 'base.yaml',
        ...CI,
        phase: 1,
        capabilities: [],
        parameters: { Prefix: 'cp' },
      },
      {
        name: 'target',
        template: 'target.yaml',
        ...DEV,
        phase: 1,
        capabilities: ['CAPABILITY_NAMED_IAM'],
        parameters: {},
      },
      {
        name: 'app',
        template: 'app.yaml',
        ...DEV,
        phase: 2,
        capabilities: [],
        parameters: {
          KeyArn: { fromStack: 'base', output: 'KeyArn' },
          Bucket: { fromStack: 'base', output: 'BucketName' },
        },
      },
      ...(extraPhase3
        ? [{ name: 'after', template: 'target.yaml', ...CI, phase: 3, capabilities: [], parameters: {} }]
        : []),
    ],
  }
}
const templates = (app = APP) => ({ 'base.yaml': BASE, 'target.yaml': TARGET, 'app.yaml': app })

function outcomes(r: DeployResult): Record<string, string> {
  return Object.fromEntries(r.stacks.map((s) => [s.stack, s.outcome]))
}
const codes = (ms: IoMessage[]) => ms.map((m) => m.code)

test('first deploy creates every stack in phase order, passing outputs across accounts as parameters', async () => {
  const aws = new FakeAws()
  const io = recordingIo()
  const r = await deploy({
    manifest: manifest(),
    templates: templates(),
    credentials: aws,
    io,
    pollIntervalMs: 1,
  })
  assert.equal(r.success, true)
  assert.deepEqual(outcomes(r), { base: 'created', target: 'created', app: 'created' })
  // app (phase 2) was created after both phase-1 stacks finished.
  const creates = aws.calls.filter((c) => c.op === 'ExecuteChangeSet').map((c) => c.stack)
  assert.deepEqual(creates.slice(2), ['app'])
  const app = aws.stack(DEV, 'app')!
  assert.equal(app.parameters.KeyArn, `arn:fake:${CI.account}:Key.Arn`)
  assert.equal(app.parameters.Bucket, `base-bucket-${CI.account}`)
  assert.equal(r.stacks.find((s) => s.stack === 'app')!.outputs!.Key, `arn:fake:${CI.account}:Key.Arn`)
  // Progress: one status message per status change, with counts and the latest event.
  const statuses = io.messages.filter(
    (m) => m.code === 'deploy.stack.status' && (m.data as any).id.endsWith('/base'),
  )
  assert.deepEqual(
    statuses.map((m) => (m.data as { status: string }).status),
    ['CREATE_IN_PROGRESS', 'CREATE_COMPLETE'],
  )
  const last = statuses.at(-1)!.data as any
  assert.deepEqual(last.counts, { total: 2, complete: 2, inProgress: 0, failed: 0 })
  // The latest event shown is the latest resource event, more telling than the stack's own.
  assert.equal(last.latest.logicalId, 'Bucket')
  assert.equal(last.latest.status, 'CREATE_COMPLETE')
  // The creation's own events are reported, not the REVIEW_IN_PROGRESS one CreateChangeSet wrote
  // (the events are not read before ExecuteChangeSet for a new stack).
  const events = io.messages
    .filter((m) => m.code === 'deploy.stack.event' && (m.data as any).id.endsWith('/base'))
    .map((m) => `${(m.data as any).event.logicalId} ${(m.data as any).event.status}`)
  assert.ok(!events.some((e) => e.endsWith('REVIEW_IN_PROGRESS')), events.join('\n'))
  assert.ok(
    events.includes('Key CREATE_COMPLETE') && events.includes('base CREATE_COMPLETE'),
    events.join('\n'),
  )
  assert.ok(codes(io.messages).includes('deploy.plan'))
  assert.equal(io.messages.at(-1)!.code, 'deploy.summary')
  assert.equal(io.messages.at(-1)!.level, 'result')
  assert.match(io.messages.at(-1)!.message, /^deploy succeeded in [\d.]+ s: 3 created/)
})

test('a second deploy reports no changes for every stack and writes nothing', async () => {
  const aws = new FakeAws()
  await deploy({ manifest: manifest(), templates: templates(), credentials: aws, pollIntervalMs: 1 })
  const before = aws.calls.length
  const r = await deploy({
    manifest: manifest(),
    templates: templates(),
    credentials: aws,
    pollIntervalMs: 1,
  })
  assert.deepEqual(outcomes(r), { base: 'no-change', target: 'no-change', app: 'no-change' })
  assert.deepEqual(aws.calls.slice(before), [])
  assert.equal(r.success, true)
})

test('a change set that "didn\'t contain changes" is no change, and is deleted, not executed', async () => {
  const aws = new FakeAws()
  await deploy({ manifest: manifest(), templates: templates(), credentials: aws, pollIntervalMs: 1 })
  // NoEcho parameters read back as ****, so the plan cannot tell and asks CloudFormation.
  aws.noEcho.add('Prefix')
  const before = aws.calls.length
  const r = await deploy({
    manifest: manifest(),
    templates: templates(),
    credentials: aws,
    pollIntervalMs: 1,
  })
  assert.equal(r.plan.actions.find((a) => a.stack === 'base')!.action, 'update')
  // app reads base's outputs, so it is asked too; neither change set is executed.
  assert.deepEqual(outcomes(r), { base: 'no-change', target: 'no-change', app: 'no-change' })
  assert.deepEqual(
    aws.calls.slice(before).map((c) => `${c.op} ${c.stack}`),
    ['CreateChangeSet base', 'DeleteChangeSet base', 'CreateChangeSet app', 'DeleteChangeSet app'],
  )
})

test('only the changed stack is updated; its change set lists the modification', async () => {
  const aws = new FakeAws()
  await deploy({ manifest: manifest(), templates: templates(), credentials: aws, pollIntervalMs: 1 })
  const io = recordingIo()
  const t = { ...templates(), 'target.yaml': TARGET.replace('  DeployRole:\n    Type: AWS::IAM::Role\n', '') }
  const r = await deploy({ manifest: manifest(), templates: t, credentials: aws, io, pollIntervalMs: 1 })
  assert.deepEqual(outcomes(r), { base: 'no-change', target: 'updated', app: 'no-change' })
  const target = r.stacks.find((s) => s.stack === 'target')!
  assert.equal(target.status, 'UPDATE_COMPLETE')
  assert.deepEqual(target.changes, [
    { action: 'Remove', logicalId: 'DeployRole', resourceType: 'AWS::IAM::Role' },
  ])
  assert.ok(
    io.messages.some(
      (m) =>
        m.code === 'deploy.stack.changeset' && /1 change\(s\): 0 add, 0 modify, 1 remove/.test(m.message),
    ),
  )
})

test('a failing resource: rollback reported with the resource and its reason; dependents skipped; --replace-failed recovers', async () => {
  const aws = new FakeAws()
  const io = recordingIo()
  const r = await deploy({
    manifest: manifest(true),
    templates: templates(BROKEN_APP),
    credentials: aws,
    io,
    pollIntervalMs: 1,
  })
  assert.equal(r.success, false)
  assert.deepEqual(outcomes(r), { base: 'created', target: 'created', app: 'failed', after: 'skipped' })
  const app = r.stacks.find((s) => s.stack === 'app')!
  assert.equal(app.status, 'ROLLBACK_COMPLETE')
  assert.equal(app.error!.logicalId, 'Topic')
  assert.equal(app.error!.resourceType, 'Test::Fail')
  assert.match(app.error!.reason!, /not authorized to perform: sns:CreateTopic .*\(AccessDenied\)/)
  assert.match(app.error!.advice!, /--replace-failed/)
  assert.match(
    r.stacks.find((s) => s.stack === 'after')!.error!.message,
    /app \(222222222222 eu-west-1\), which it depends on, ended failed/,
  )
  const failMsg = io.messages.find((m) => m.code === 'deploy.stack.done' && m.level === 'error')!
  assert.match(
    failMsg.message,
    /app \(222222222222 eu-west-1\): failed \[ROLLBACK_COMPLETE\].*Topic \(Test::Fail\) CREATE_FAILED: User: .*AccessDenied/,
  )
  // The "Resource creation cancelled" of the sibling is not blamed.
  assert.ok(!/Queue/.test(app.error!.message))

  // Fixed template, no --replace-failed: blocked, with what to do, and nothing written.
  const before = aws.calls.length
  const again = await deploy({
    manifest: manifest(true),
    templates: templates(),
    credentials: aws,
    pollIntervalMs: 1,
  })
  assert.deepEqual(outcomes(again), {
    base: 'no-change',
    target: 'no-change',
    app: 'blocked',
    after: 'skipped',
  })
  assert.match(
    again.stacks.find((s) => s.stack === 'app')!.error!.message,
    /ROLLBACK_COMPLETE.*--replace-failed/,
  )
  assert.deepEqual(aws.calls.slice(before), [])

  const fixed = await deploy({
    manifest: manifest(true),
    templates: templates(),
    credentials: aws,
    replaceFailed: true,
    pollIntervalMs: 1,
  })
  assert.deepEqual(outcomes(fixed), {
    base: 'no-change',
    target: 'no-change',
    app: 'replaced',
    after: 'created',
  })
  assert.equal(aws.stack(DEV, 'app')!.status, 'CREATE_COMPLETE')
})

test('a failed update rolls back to UPDATE_ROLLBACK_COMPLETE and is reported', async () => {
  const aws = new FakeAws()
  await deploy({ manifest: manifest(), templates: templates(), credentials: aws, pollIntervalMs: 1 })
  const r = await deploy({
    manifest: manifest(),
    templates: templates(BROKEN_APP),
    credentials: aws,
    pollIntervalMs: 1,
  })
  const app = r.stacks.find((s) => s.stack === 'app')!
  assert.equal(app.outcome, 'failed')
  assert.equal(app.status, 'UPDATE_ROLLBACK_COMPLETE')
  assert.equal(app.error!.logicalId, 'Topic')
  assert.match(app.error!.advice!, /previous configuration/)
})

test('Ctrl-C: in-flight stacks finish, nothing new starts, where things stand is reported; a re-run converges', async () => {
  const aws = new FakeAws()
  const io = recordingIo()
  const ac = new AbortController()
  // Abort as soon as the first stack starts executing.
  const host = {
    notify(m: IoMessage) {
      io.notify(m)
      if (m.code === 'deploy.stack.status' && (m.data as any).status === 'CREATE_IN_PROGRESS') ac.abort()
    },
  }
  const r = await deploy({
    manifest: manifest(),
    templates: templates(),
    credentials: aws,
    io: host,
    signal: ac.signal,
    pollIntervalMs: 1,
    concurrency: 1,
  })
  assert.equal(r.cancelled, true)
  assert.equal(r.success, false)
  assert.deepEqual(outcomes(r), { base: 'created', target: 'cancelled', app: 'cancelled' })
  const note = io.messages.find((m) => m.code === 'deploy.cancelled')!
  assert.deepEqual((note.data as any).inFlight, ['111111111111/eu-west-1/base'])
  assert.deepEqual((note.data as any).notStarted, [
    '222222222222/eu-west-1/target',
    '222222222222/eu-west-1/app',
  ])
  const rerun = await deploy({
    manifest: manifest(),
    templates: templates(),
    credentials: aws,
    pollIntervalMs: 1,
  })
  assert.deepEqual(outcomes(rerun), { base: 'no-change', target: 'created', app: 'created' })
  const third = await deploy({
    manifest: manifest(),
    templates: templates(),
    credentials: aws,
    pollIntervalMs: 1,
  })
  assert.deepEqual(outcomes(third), { base: 'no-change', target: 'no-change', app: 'no-change' })
})

test('Ctrl-C during an update cancels it with CancelUpdateStack and reports the rollback', async () => {
  const aws = new FakeAws()
  await deploy({ manifest: manifest(), templates: templates(), credentials: aws, pollIntervalMs: 1 })
  const ac = new AbortController()
  const host = {
    notify(m: IoMessage) {
      if (m.code === 'deploy.stack.status' && (m.data as any).status === 'UPDATE_IN_PROGRESS') ac.abort()
    },
  }
  const t = { ...templates(), 'base.yaml': BASE.replace('PendingWindowInDays: 7', 'PendingWindowInDays: 8') }
  const r = await deploy({
    manifest: manifest(),
    templates: t,
    credentials: aws,
    io: host,
    signal: ac.signal,
    pollIntervalMs: 1,
  })
  const base = r.stacks.find((s) => s.stack === 'base')!
  assert.equal(base.outcome, 'cancelled')
  assert.equal(base.status, 'UPDATE_ROLLBACK_COMPLETE')
  assert.ok(aws.calls.some((c) => c.op === 'CancelUpdateStack' && c.stack === 'base'))
  assert.equal(outcomes(r).app, 'cancelled')
})

test('missing credentials for an account: CrosspipeError before anything is written', async () => {
  const aws = new FakeAws()
  aws.missingProfiles.add(DEV.account)
  await assert.rejects(
    deploy({ manifest: manifest(), templates: templates(), credentials: aws, pollIntervalMs: 1 }),
    (e: unknown) =>
      e instanceof CrosspipeError &&
      e.code === 'credentials' &&
      /profile "p222222222222"/.test(e.problems[0]!.message),
  )
  assert.deepEqual(aws.calls, [])
})

test('a missing template file is bad input (file-not-found), before anything is written', async () => {
  const aws = new FakeAws()
  const t: Record<string, string> = templates()
  delete t['app.yaml']
  await assert.rejects(
    deploy({ manifest: manifest(), templates: t, credentials: aws, pollIntervalMs: 1 }),
    (e: unknown) => e instanceof CrosspipeError && e.code === 'file-not-found',
  )
  assert.deepEqual(aws.calls, [])
})

test('templates over 51,200 bytes: an error without a bucket; uploaded and passed as TemplateURL with one', async () => {
  const big = TARGET + `Metadata:\n  Padding: "${'x'.repeat(52_000)}"\n`
  const t = { ...templates(), 'target.yaml': big }
  const aws = new FakeAws()
  await assert.rejects(
    deploy({ manifest: manifest(), templates: t, credentials: aws, pollIntervalMs: 1 }),
    (e: unknown) =>
      e instanceof CrosspipeError &&
      e.code === 'limit-exceeded' &&
      /target\.yaml/.test(e.problems[0]!.location!.file),
  )
  const io = recordingIo()
  const r = await deploy({
    manifest: manifest(),
    templates: t,
    credentials: aws,
    io,
    pollIntervalMs: 1,
    templateBucket: ({ account, region }) => `templates-${account}-${region}`,
  })
  assert.equal(outcomes(r).target, 'created')
  const up = io.messages.find((m) => m.code === 'deploy.stack.upload')!.data as any
  assert.equal(up.bucket, 'templates-222222222222-eu-west-1')
  assert.match(up.key, /^crosspipe\/demo\/target\/[0-9a-f]{64}\.template$/)
  assert.equal(aws.objects.get(up.url), big)
})

test('stacks of a phase run in parallel, never more than `concurrency` at once', async () => {
  const m: ManifestDocument = {
    version: 1,
    pipeline: 'wide',
    stacks: Array.from({ length: 10 }, (_, i) => ({
      name: `t${i}`,
      template: 'target.yaml',
      account: String(300000000000 + i),
      region: 'eu-west-1',
      phase: 1,
      capabilities: [],
      parameters: {},
    })),
  }
  const aws = new FakeAws()
  const r = await deploy({
    manifest: m,
    templates: templates(),
    credentials: aws,
    concurrency: 3,
    pollIntervalMs: 1,
  })
  assert.equal(r.success, true)
  assert.equal(aws.maxActive, 3)
})

test('dry run: plan and previews, no stack written', async () => {
  const aws = new FakeAws()
  const fresh = await deploy({
    manifest: manifest(),
    templates: templates(),
    credentials: aws,
    dryRun: true,
    pollIntervalMs: 1,
  })
  assert.deepEqual(outcomes(fresh), { base: 'planned', target: 'planned', app: 'planned' })
  assert.deepEqual(
    fresh.stacks.find((s) => s.stack === 'target')!.changes!.map((c) => c.logicalId),
    ['Role', 'DeployRole'],
  )
  // (length, not deepEqual: deepEqual's type assertion would narrow `calls` to never[])
  assert.equal(aws.calls.length, 0)
  await deploy({ manifest: manifest(), templates: templates(), credentials: aws, pollIntervalMs: 1 })
  const before = aws.calls.length
  const t = { ...templates(), 'target.yaml': TARGET.replace('  DeployRole:\n    Type: AWS::IAM::Role\n', '') }
  const r = await deploy({
    manifest: manifest(),
    templates: t,
    credentials: aws,
    dryRun: true,
    pollIntervalMs: 1,
  })
  assert.equal(outcomes(r).target, 'planned')
  assert.deepEqual(
    r.stacks.find((s) => s.stack === 'target')!.changes!.map((c) => c.action),
    ['Remove'],
  )
  assert.deepEqual(
    aws.calls.slice(before).map((c) => c.op),
    ['CreateChangeSet', 'DeleteChangeSet'],
  )
  assert.equal(aws.stack(DEV, 'target')!.template, TARGET)
})

test('destroy: needs yes; reverse order; empties the bucket first; states the key waiting period; idempotent', async () => {
  const aws = new FakeAws()
  await deploy({ manifest: manifest(), templates: templates(), credentials: aws, pollIntervalMs: 1 })
  await assert.rejects(
    destroy({ manifest: manifest(), templates: templates(), credentials: aws, pollIntervalMs: 1 }),
    (e: unknown) => e instanceof CrosspipeError && e.code === 'usage' && /--yes/.test(e.message),
  )
  aws.buckets.set(`base-bucket-${CI.account}`, 5)
  const io = recordingIo()
  const r = await destroy({
    manifest: manifest(),
    templates: templates(),
    credentials: aws,
    yes: true,
    io,
    pollIntervalMs: 1,
  })
  assert.equal(r.success, true)
  assert.deepEqual(outcomes(r), { app: 'deleted', base: 'deleted', target: 'deleted' })
  const deletes = aws.calls.filter((c) => c.op === 'DeleteStack').map((c) => c.stack)
  assert.equal(deletes[0], 'app')
  assert.deepEqual(r.emptiedBuckets, [
    { stack: 'base', bucket: `base-bucket-${CI.account}`, objectsDeleted: 5 },
  ])
  assert.deepEqual(r.scheduledKeyDeletions, [
    { stack: 'base', ...CI, logicalId: 'Key', keyId: `base-key-${CI.account}`, pendingWindowInDays: 7 },
  ])
  assert.ok(
    io.messages.some((m) => m.code === 'destroy.key.scheduled' && /7-day waiting period/.test(m.message)),
  )
  assert.equal(aws.stack(CI, 'base'), undefined)
  const again = await destroy({
    manifest: manifest(),
    templates: templates(),
    credentials: aws,
    yes: true,
    pollIntervalMs: 1,
  })
  assert.deepEqual(outcomes(again), { app: 'no-change', base: 'no-change', target: 'no-change' })
})

test("destroy: a bucket that could not be emptied fails its stack with S3's reason; earlier phases are skipped", async () => {
  const aws = new FakeAws()
  const m = manifest()
  // A template that does not say it has a bucket: destroy does not know to empty it.
  const t = {
    ...templates(),
    'app.yaml': APP.replace('Queue:\n    Type: AWS::SQS::Queue', 'Store:\n    Type: AWS::S3::Bucket'),
  }
  await deploy({ manifest: m, templates: t, credentials: aws, pollIntervalMs: 1 })
  const app = aws.stack(DEV, 'app')!
  app.template = APP // what GetTemplate returns no longer declares the bucket
  aws.buckets.set(`app-store-${DEV.account}`, 3)
  const r = await destroy({
    manifest: m,
    templates: templates(),
    credentials: aws,
    yes: true,
    pollIntervalMs: 1,
  })
  // Earlier phases hold what the failed stack needs (its deployment role), so they are kept.
  assert.deepEqual(outcomes(r), { app: 'failed', base: 'skipped', target: 'skipped' })
  assert.match(
    r.stacks[0]!.error!.message,
    /Store \(AWS::S3::Bucket\) DELETE_FAILED: The bucket you tried to delete is not empty/,
  )
})

test('destroy after a failed creation: the rolled-back key is not reported as scheduled; the stack is deleted', async () => {
  const aws = new FakeAws()
  const broken = {
    ...templates(),
    'base.yaml': BASE.replace('  Bucket:\n    Type: AWS::S3::Bucket\n', '  Bucket:\n    Type: Test::Fail\n'),
  }
  const r = await deploy({ manifest: manifest(), templates: broken, credentials: aws, pollIntervalMs: 1 })
  assert.equal(r.stacks.find((s) => s.stack === 'base')!.status, 'ROLLBACK_COMPLETE')
  const io = recordingIo()
  const gone = await destroy({
    manifest: manifest(),
    templates: broken,
    credentials: aws,
    yes: true,
    io,
    pollIntervalMs: 1,
  })
  assert.equal(outcomes(gone).base, 'deleted')
  assert.deepEqual(gone.scheduledKeyDeletions, [])
  assert.ok(!io.messages.some((m) => m.code === 'destroy.key.scheduled'))
})

test('a stack left in progress by a killed deploy is waited for, then the deploy converges', async () => {
  const aws = new FakeAws()
  // A previous process created base's change set, executed it and died without following it.
  const cfn = aws.cloudFormation(CI)
  const cs = await cfn.createChangeSet({
    stackName: 'base',
    changeSetName: 'killed',
    changeSetType: 'CREATE',
    templateBody: BASE,
    parameters: { Prefix: 'cp' },
    capabilities: [],
  })
  await cfn.executeChangeSet('base', cs.id)
  assert.equal(aws.stack(CI, 'base')!.status, 'CREATE_IN_PROGRESS')
  const io = recordingIo()
  const r = await deploy({
    manifest: manifest(),
    templates: templates(),
    credentials: aws,
    io,
    pollIntervalMs: 1,
  })
  const waiting = io.messages.find((m) => m.code === 'deploy.waiting')!
  assert.deepEqual(waiting.data, { id: '111111111111/eu-west-1/base', status: 'CREATE_IN_PROGRESS' })
  // The finished stack matches the manifest, so it is left alone; the others are created.
  assert.deepEqual(outcomes(r), { base: 'no-change', target: 'created', app: 'created' })
  assert.equal(aws.stack(DEV, 'app')!.parameters.KeyArn, `arn:fake:${CI.account}:Key.Arn`)
})
