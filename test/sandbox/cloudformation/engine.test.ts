// Targeted engine behaviour the corpus cannot show through events: the work graph provisions
// independent resources concurrently and dependent ones in order; deletion runs in reverse.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { harness } from './harness.js'
import { AwsError } from '../../../src/sandbox/errors.js'
import type { ResourceProvider } from '../../../src/sandbox/cfn-providers.js'

function slowProvider(log: string[], counter: { now: number; max: number }): ResourceProvider {
  const step = async (what: string): Promise<void> => {
    counter.now++
    counter.max = Math.max(counter.max, counter.now)
    log.push(`start ${what}`)
    await new Promise((r) => setTimeout(r, 30))
    log.push(`end ${what}`)
    counter.now--
  }
  return {
    type: 'AWS::SQS::Queue',
    async create(ctx) {
      await step(`create ${ctx.logicalId}`)
      return {
        physicalId: ctx.logicalId,
        attributes: { Arn: `arn:${ctx.logicalId}`, QueueName: ctx.logicalId, QueueUrl: ctx.logicalId },
      }
    },
    async delete(ctx) {
      await step(`delete ${ctx.logicalId}`)
    },
  }
}

test('independent resources are provisioned concurrently, dependent ones after their dependencies; deletion in reverse order', async () => {
  const h = harness()
  const log: string[] = []
  const counter = { now: 0, max: 0 }
  // Replace the queue provider through the public registry, as a later service would.
  h.providers.register(slowProvider(log, counter))
  const q = { Type: 'AWS::SQS::Queue' }
  await h.engine.createStack(h.op, {
    stackName: 'graph',
    templateBody: JSON.stringify({
      Resources: {
        A: q,
        B: q,
        C: q,
        D: { ...q, DependsOn: ['A', 'B', 'C'] },
        E: { ...q, Properties: { QueueName: { 'Fn::GetAtt': ['D', 'QueueName'] } } },
      },
    }),
  })
  await h.engine.idle()
  assert.equal(h.engine.getStack(h.op.scope, 'graph').status, 'CREATE_COMPLETE')
  assert.equal(counter.max, 3, 'A, B and C ran at the same time')
  const order = (x: string): number => log.indexOf(x)
  for (const dep of ['A', 'B', 'C']) assert.ok(order(`end create ${dep}`) < order('start create D'))
  assert.ok(order('end create D') < order('start create E'))

  log.length = 0
  counter.max = 0
  await h.engine.deleteStack(h.op, 'graph')
  await h.engine.idle()
  assert.equal(h.engine.listStacks(h.op.scope)[0]!.status, 'DELETE_COMPLETE')
  assert.ok(order('end delete E') < order('start delete D'))
  for (const dep of ['A', 'B', 'C']) assert.ok(order('end delete D') < order(`start delete ${dep}`))
  assert.equal(counter.max, 3)
})

test('a stack is found by name only while live, by id always; ListStacks keeps deleted stacks', async () => {
  const h = harness()
  const id = await h.engine.createStack(h.op, {
    stackName: 's',
    templateBody: JSON.stringify({ Resources: { H: { Type: 'AWS::CloudFormation::WaitConditionHandle' } } }),
  })
  await h.engine.idle()
  await h.engine.deleteStack(h.op, 's')
  await h.engine.idle()
  assert.throws(() => h.engine.getStack(h.op.scope, 's'), /Stack with id s does not exist/)
  assert.equal(h.engine.getStack(h.op.scope, id).status, 'DELETE_COMPLETE')
  // DeleteStack of a stack that no longer exists succeeds, as AWS.
  await h.engine.deleteStack(h.op, 's')
  const id2 = await h.engine.createStack(h.op, {
    stackName: 's',
    templateBody: JSON.stringify({ Resources: { H: { Type: 'AWS::CloudFormation::WaitConditionHandle' } } }),
  })
  await h.engine.idle()
  assert.notEqual(id, id2)
  assert.deepEqual(
    h.engine
      .listStacks(h.op.scope)
      .map((s) => s.status)
      .sort(),
    ['CREATE_COMPLETE', 'DELETE_COMPLETE'],
  )
})

test('CancelUpdateStack stops an update in progress and rolls it back; outside an update it is refused', async () => {
  const h = harness()
  const log: string[] = []
  h.providers.register(slowProvider(log, { now: 0, max: 0 }))
  const q = { Type: 'AWS::SQS::Queue' }
  await h.engine.createStack(h.op, { stackName: 'c', templateBody: JSON.stringify({ Resources: { A: q } }) })
  await h.engine.idle()
  assert.throws(
    () => h.engine.cancelUpdateStack(h.op.scope, 'c'),
    /CancelUpdateStack cannot be called from current stack status/,
  )
  await h.engine.updateStack(h.op, {
    stackName: 'c',
    templateBody: JSON.stringify({
      Resources: { A: q, B: q, C: { ...q, DependsOn: 'B' }, D: { ...q, DependsOn: 'C' } },
    }),
  })
  await new Promise((r) => setTimeout(r, 10))
  h.engine.cancelUpdateStack(h.op.scope, 'c')
  await h.engine.idle()
  const s = h.engine.getStack(h.op.scope, 'c')
  assert.equal(s.status, 'UPDATE_ROLLBACK_COMPLETE')
  assert.deepEqual(Object.keys(s.resources), ['A'])
  assert.ok(!log.includes('start create D'), log.join('\n'))
  const events = h.store
    .events(h.op.scope, s.stackId)
    .map((e) => `${e.resourceStatus} ${e.resourceStatusReason ?? ''}`)
  assert.ok(events.includes('UPDATE_ROLLBACK_IN_PROGRESS Stack update cancelled'), events.join('\n'))
})

test('a stack left *_IN_PROGRESS by a stopped sandbox is marked failed at start-up, with the reason', async () => {
  const h = harness()
  await h.engine.createStack(h.op, {
    stackName: 'r',
    templateBody: JSON.stringify({ Resources: { H: { Type: 'AWS::CloudFormation::WaitConditionHandle' } } }),
  })
  await h.engine.idle()
  const s = h.engine.getStack(h.op.scope, 'r')
  h.store.putStack(h.op.scope, { ...s, status: 'UPDATE_IN_PROGRESS' })
  const { CloudFormationEngine } = await import('../../../src/sandbox/services/cloudformation/engine.js')
  const again = new CloudFormationEngine({
    store: h.store,
    providers: h.providers,
    host: {
      deployer: () => Promise.reject(new Error('unused')),
      readTemplateUrl: () => Promise.reject(new Error('unused')),
    },
  })
  const after = again.getStack(h.op.scope, 'r')
  assert.equal(after.status, 'UPDATE_ROLLBACK_FAILED')
  assert.equal(after.statusReason, 'The crosspipe sandbox stopped while this operation was in progress')
})

test('a rollback that cannot revert a resource ends UPDATE_ROLLBACK_FAILED; ContinueUpdateRollback with ResourcesToSkip completes it', async () => {
  const h = harness()
  let updates = 0
  h.providers.register({
    type: 'AWS::SNS::Topic',
    create: (ctx) =>
      Promise.resolve({
        physicalId: `arn:aws:sns:::${ctx.logicalId}`,
        attributes: { TopicArn: 'x', TopicName: ctx.logicalId },
      }),
    // The first update (forward) works; the revert during rollback fails.
    update: (_ctx, current) =>
      ++updates === 1
        ? Promise.resolve({ physicalId: current.physicalId, attributes: current.attributes })
        : Promise.reject(new Error('cannot revert')),
    delete: () => Promise.resolve(),
  })
  const t = (name: string) => ({ Type: 'AWS::SNS::Topic', Properties: { DisplayName: name } })
  await h.engine.createStack(h.op, {
    stackName: 'u',
    templateBody: JSON.stringify({ Resources: { T: t('a') } }),
  })
  await h.engine.idle()
  h.deny.add('sqs:CreateQueue')
  await h.engine.updateStack(h.op, {
    stackName: 'u',
    templateBody: JSON.stringify({
      Resources: { T: t('b'), Q: { Type: 'AWS::SQS::Queue', DependsOn: 'T' } },
    }),
  })
  await h.engine.idle()
  let s = h.engine.getStack(h.op.scope, 'u')
  assert.equal(s.status, 'UPDATE_ROLLBACK_FAILED')
  assert.equal(s.resources.T!.status, 'UPDATE_FAILED')
  await assert.rejects(
    h.engine.updateStack(h.op, { stackName: 'u', usePreviousTemplate: true }),
    /is in UPDATE_ROLLBACK_FAILED state and can not be updated/,
  )
  await h.engine.continueUpdateRollback(h.op, 'u', ['T'])
  await h.engine.idle()
  s = h.engine.getStack(h.op.scope, 'u')
  assert.equal(s.status, 'UPDATE_ROLLBACK_COMPLETE')
  assert.equal(s.resources.T!.status, 'UPDATE_COMPLETE')
})

test('termination protection blocks DeleteStack until it is turned off', async () => {
  const h = harness()
  await h.engine.createStack(h.op, {
    stackName: 'tp',
    enableTerminationProtection: true,
    templateBody: JSON.stringify({ Resources: { H: { Type: 'AWS::CloudFormation::WaitConditionHandle' } } }),
  })
  await h.engine.idle()
  await assert.rejects(
    h.engine.deleteStack(h.op, 'tp'),
    /Stack \[tp\] cannot be deleted while TerminationProtection is enabled/,
  )
  h.engine.updateTerminationProtection(h.op.scope, 'tp', false)
  await h.engine.deleteStack(h.op, 'tp')
  await h.engine.idle()
  assert.equal(h.engine.listStacks(h.op.scope)[0]!.status, 'DELETE_COMPLETE')
})

test('a stack policy protects resources during updates: denied modifications and removals roll the update back; StackPolicyDuringUpdateBody overrides it once', async () => {
  const h = harness()
  const p = (v: string) => ({ Type: 'AWS::SSM::Parameter', Properties: { Type: 'String', Value: v } })
  const policy = JSON.stringify({
    Statement: [
      { Effect: 'Allow', Action: 'Update:*', Principal: '*', Resource: '*' },
      {
        Effect: 'Deny',
        Action: ['Update:Modify', 'Update:Delete'],
        Principal: '*',
        Resource: 'LogicalResourceId/Protected',
      },
    ],
  })
  await h.engine.createStack(h.op, {
    stackName: 'sp',
    stackPolicyBody: policy,
    templateBody: JSON.stringify({ Resources: { Protected: p('a'), Free: p('a') } }),
  })
  await h.engine.idle()
  assert.equal(h.engine.getStackPolicy(h.op.scope, 'sp'), policy)
  await h.engine.updateStack(h.op, {
    stackName: 'sp',
    templateBody: JSON.stringify({ Resources: { Protected: p('b'), Free: p('b') } }),
  })
  await h.engine.idle()
  let s = h.engine.getStack(h.op.scope, 'sp')
  assert.equal(s.status, 'UPDATE_ROLLBACK_COMPLETE')
  const reasons = h.store.events(h.op.scope, s.stackId).map((e) => e.resourceStatusReason ?? '')
  assert.ok(
    reasons.includes(
      'Action denied by stack policy: Statement denies [Update:Modify] on resource [LogicalResourceId/Protected]',
    ),
    reasons.join('\n'),
  )
  await h.engine.updateStack(h.op, {
    stackName: 'sp',
    templateBody: JSON.stringify({ Resources: { Free: p('a') } }),
  })
  await h.engine.idle()
  assert.equal(h.engine.getStack(h.op.scope, 'sp').status, 'UPDATE_ROLLBACK_COMPLETE')
  await h.engine.updateStack(h.op, {
    stackName: 'sp',
    templateBody: JSON.stringify({ Resources: { Protected: p('b'), Free: p('b') } }),
    stackPolicyDuringUpdateBody: JSON.stringify({
      Statement: [{ Effect: 'Allow', Action: 'Update:*', Principal: '*', Resource: '*' }],
    }),
  })
  await h.engine.idle()
  s = h.engine.getStack(h.op.scope, 'sp')
  assert.equal(s.status, 'UPDATE_COMPLETE')
  // The stack keeps its own policy after the one-off override.
  assert.equal(h.engine.getStackPolicy(h.op.scope, 'sp'), policy)
  await assert.rejects(
    h.engine.createStack(h.op, {
      stackName: 'bad',
      stackPolicyBody: '{',
      templateBody: JSON.stringify({ Resources: { F: p('a') } }),
    }),
    /Invalid stack policy/,
  )
})

/**
 * A topic provider whose names are unique per account (AlreadyExists otherwise), as a bucket's
 * or a role's are. `DisplayName` steers it: `slow` takes 60 ms, `fail-fast` fails before making
 * anything, `fail-after-create` fails after the topic exists (a bucket whose configuration is
 * refused, a role whose policy is), having told the engine so.
 */
function namedTopics(names: Set<string>): ResourceProvider {
  return {
    type: 'AWS::SNS::Topic',
    nameProperty: 'TopicName',
    async create(ctx, props) {
      if (props.DisplayName === 'fail-fast') throw new AwsError('InvalidParameter', 'refused at once', 400)
      const name = typeof props.TopicName === 'string' ? props.TopicName : ctx.physicalName()
      if (names.has(name)) throw new AwsError('AlreadyExists', `Topic ${name} already exists`, 400)
      names.add(name)
      ctx.created(name)
      await new Promise((r) => setTimeout(r, props.DisplayName === 'slow' ? 60 : 1))
      if (props.DisplayName === 'fail-after-create')
        throw new AwsError('InvalidParameter', 'refused after the topic was made', 400)
      return { physicalId: name, attributes: { TopicArn: `arn:${name}`, TopicName: name } }
    },
    delete(_ctx, current) {
      names.delete(current.physicalId)
      return Promise.resolve()
    },
  }
}

test('a rolled-back create deletes every resource it made (fixed names, late finishers, half-made ones): the same stack can be created again', async () => {
  const h = harness()
  const names = new Set<string>()
  h.providers.register(namedTopics(names))
  const topic = (name: string, display?: string) => ({
    Type: 'AWS::SNS::Topic',
    Properties: { TopicName: name, ...(display ? { DisplayName: display } : {}) },
  })
  const failing = {
    Resources: {
      // Still being created when Broken fails: it finishes, and the rollback must delete it.
      Late: topic('fixed-late', 'slow'),
      Half: topic('fixed-half', 'fail-after-create'),
      Broken: { Type: 'AWS::SNS::Topic', Properties: { DisplayName: 'fail-fast' } },
    },
  }
  await h.engine.createStack(h.op, { stackName: 'fixed', templateBody: JSON.stringify(failing) })
  await h.engine.idle()
  const s = h.engine.getStack(h.op.scope, 'fixed')
  assert.equal(s.status, 'ROLLBACK_COMPLETE', s.statusReason)
  assert.deepEqual([...names], [], 'nothing the failed create made is left')
  const deleted = h.store
    .events(h.op.scope, s.stackId)
    .filter((e) => e.resourceStatus === 'DELETE_COMPLETE')
    .map((e) => `${e.logicalResourceId} ${e.physicalResourceId}`)
    .sort()
  assert.deepEqual(deleted, ['Broken ', 'Half fixed-half', 'Late fixed-late'])

  await h.engine.deleteStack(h.op, 'fixed')
  await h.engine.idle()
  const fixed = { Resources: { Late: topic('fixed-late', 'slow'), Half: topic('fixed-half') } }
  await h.engine.createStack(h.op, { stackName: 'fixed', templateBody: JSON.stringify(fixed) })
  await h.engine.idle()
  const again = h.engine.getStack(h.op.scope, 'fixed')
  assert.equal(again.status, 'CREATE_COMPLETE', again.statusReason)
  assert.deepEqual([...names].sort(), ['fixed-half', 'fixed-late'])
})

test('a rolled-back update deletes the resources it added (fixed names, late finishers, half-made ones): the same update succeeds next time', async () => {
  const h = harness()
  const names = new Set<string>()
  h.providers.register(namedTopics(names))
  const topic = (name: string, display?: string) => ({
    Type: 'AWS::SNS::Topic',
    Properties: { TopicName: name, ...(display ? { DisplayName: display } : {}) },
  })
  await h.engine.createStack(h.op, {
    stackName: 'up',
    templateBody: JSON.stringify({ Resources: { Kept: topic('kept') } }),
  })
  await h.engine.idle()
  await h.engine.updateStack(h.op, {
    stackName: 'up',
    templateBody: JSON.stringify({
      Resources: {
        Kept: topic('kept'),
        Late: topic('up-late', 'slow'),
        Half: topic('up-half', 'fail-after-create'),
        Broken: { Type: 'AWS::SNS::Topic', Properties: { DisplayName: 'fail-fast' } },
      },
    }),
  })
  await h.engine.idle()
  const s = h.engine.getStack(h.op.scope, 'up')
  assert.equal(s.status, 'UPDATE_ROLLBACK_COMPLETE', s.statusReason)
  assert.deepEqual([...names], ['kept'], 'only the resource the stack had before is left')
  assert.deepEqual(Object.keys(s.resources), ['Kept'])

  await h.engine.updateStack(h.op, {
    stackName: 'up',
    templateBody: JSON.stringify({
      Resources: { Kept: topic('kept'), Late: topic('up-late', 'slow'), Half: topic('up-half') },
    }),
  })
  await h.engine.idle()
  const again = h.engine.getStack(h.op.scope, 'up')
  assert.equal(again.status, 'UPDATE_COMPLETE', again.statusReason)
  assert.deepEqual([...names].sort(), ['kept', 'up-half', 'up-late'])
})
