/** planDeploy / planDestroy: table-driven cases (cases/plan-cases.json) plus targeted checks. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { CrosspipeError } from '../../src/model/errors.js'
import { formatPlan, planDeploy, planDestroy, stackId, type DeployedState } from '../../src/plan/index.js'
import type { ManifestDocument } from '../../src/synth/manifest.js'

const cases = JSON.parse(readFileSync(join(import.meta.dirname, 'cases', 'plan-cases.json'), 'utf8'))

const TEMPLATES: Record<string, string> = {
  'base.yaml': `Parameters:\n  Prefix: {Type: String}\nResources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties: {PendingWindowInDays: 7}\n  Bucket:\n    Type: AWS::S3::Bucket\n  Logs:\n    Type: AWS::S3::Bucket\n    DeletionPolicy: Retain\nOutputs:\n  KeyArn:\n    Value: !GetAtt Key.Arn\n`,
  'target.yaml': `Resources:\n  Role:\n    Type: AWS::IAM::Role\n`,
  'app.yaml': `{"Parameters": {"KeyArn": {"Type": "String"}, "Env": {"Type": "String"}}, "Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}`,
}

function manifest(): ManifestDocument {
  return {
    version: 1,
    pipeline: 'demo',
    stacks: [
      {
        name: 'base',
        template: 'base.yaml',
        account: '111111111111',
        region: 'eu-west-1',
        phase: 1,
        capabilities: [],
        parameters: { Prefix: 'cp' },
      },
      {
        name: 'target',
        template: 'target.yaml',
        account: '222222222222',
        region: 'eu-west-1',
        phase: 1,
        capabilities: ['CAPABILITY_NAMED_IAM'],
        parameters: {},
      },
      {
        name: 'app',
        template: 'app.yaml',
        account: '222222222222',
        region: 'eu-west-1',
        phase: 2,
        capabilities: [],
        parameters: { KeyArn: { fromStack: 'base', output: 'KeyArn' }, Env: 'dev' },
      },
    ],
  }
}

function deployedState(m: ManifestDocument, byName: Record<string, any>): DeployedState {
  const out: Record<string, any> = {}
  for (const [name, d] of Object.entries(byName)) {
    const s = m.stacks.find((x) => x.name === name)!
    const template =
      typeof d.template === 'string' && d.template.startsWith('@')
        ? TEMPLATES[d.template.slice(1)]
        : d.template
    out[stackId(s)] = { ...d, template }
  }
  return out
}

for (const c of cases.deploy) {
  test(`plan deploy: ${c.name}`, () => {
    const m = manifest()
    for (const [name, tags] of Object.entries(c.tags ?? {}))
      (m.stacks.find((s) => s.name === name) as any).tags = tags
    const plan = planDeploy({
      manifest: m,
      templates: TEMPLATES,
      deployed: deployedState(m, c.deployed),
      replaceFailed: c.replaceFailed,
    })
    for (const [name, action] of Object.entries(c.expect)) {
      const a = plan.actions.find((x) => x.stack === name)!
      assert.equal(a.action, action, `${name}: ${a.reason}`)
    }
    for (const [name, reason] of Object.entries(c.reasons ?? {})) {
      const a = plan.actions.find((x) => x.stack === name)!
      assert.ok(
        a.reason.includes(reason as string),
        `${name}: "${a.reason}" should mention "${reason as string}"`,
      )
    }
    // Serializable: a JSON round trip is the identity.
    assert.deepEqual(JSON.parse(JSON.stringify(plan)), plan)
  })
}

for (const c of cases.errors) {
  test(`plan deploy rejects: ${c.name}`, () => {
    const m = manifest()
    for (const [name, patch] of Object.entries(c.patch ?? {}))
      Object.assign(
        m.stacks.find((s) => s.name === name)!,
        patch,
      )
    if (c.duplicate) m.stacks.push({ ...m.stacks.find((s) => s.name === c.duplicate)! })
    assert.throws(
      () => planDeploy({ manifest: m, templates: TEMPLATES, deployed: {} }),
      (e: unknown) => {
        assert.ok(e instanceof CrosspipeError)
        assert.equal(e.code, c.code)
        assert.ok(
          e.problems.some((p) => p.message.includes(c.message)),
          `problems ${JSON.stringify(e.problems)} should include "${c.message}"`,
        )
        return true
      },
    )
  })
}

test('plan deploy: order and dependencies follow phases and fromStack', () => {
  const plan = planDeploy({ manifest: manifest(), templates: TEMPLATES, deployed: {} })
  assert.deepEqual(plan.phases, [1, 2])
  assert.deepEqual(
    plan.actions.map((a) => a.stack),
    ['base', 'target', 'app'],
  )
  const app = plan.actions.find((a) => a.stack === 'app')!
  assert.deepEqual([...app.dependsOn].sort(), [
    '111111111111/eu-west-1/base',
    '222222222222/eu-west-1/target',
  ])
  assert.deepEqual(plan.actions.find((a) => a.stack === 'base')!.dependsOn, [])
})

test('plan destroy: reverse phases, bucket emptied, key deletion with its waiting period, retained bucket noted', () => {
  const m = manifest()
  const deployed = deployedState(m, {
    base: { status: 'CREATE_COMPLETE', template: '@base.yaml', parameters: {}, outputs: {} },
    app: { status: 'UPDATE_COMPLETE', template: '@app.yaml', parameters: {}, outputs: {} },
  })
  const plan = planDestroy({ manifest: m, templates: TEMPLATES, deployed })
  assert.deepEqual(plan.phases, [2, 1])
  assert.deepEqual(
    plan.actions.map((a) => [a.stack, a.action]),
    [
      ['app', 'delete'],
      ['base', 'delete'],
      ['target', 'no-change'],
    ],
  )
  const base = plan.actions.find((a) => a.stack === 'base')!
  assert.ok(base.dependsOn.includes('222222222222/eu-west-1/app'))
  assert.deepEqual(base.notes, [
    { logicalId: 'Key', kind: 'key-deletion', resourceType: 'AWS::KMS::Key', pendingWindowInDays: 7 },
    { logicalId: 'Bucket', kind: 'empty-bucket', resourceType: 'AWS::S3::Bucket' },
    { logicalId: 'Logs', kind: 'retained', resourceType: 'AWS::S3::Bucket' },
  ])
  const text = formatPlan(plan).join('\n')
  assert.match(text, /KMS key Key: deletion scheduled, 7 day waiting period/)
  assert.match(text, /empties bucket Bucket/)
})

test('plan destroy: a key without PendingWindowInDays gets the documented default of 30 days', () => {
  const m = manifest()
  const t = 'Resources:\n  K:\n    Type: AWS::KMS::Key\n'
  const plan = planDestroy({
    manifest: m,
    deployed: {
      [stackId(m.stacks[0]!)]: { status: 'CREATE_COMPLETE', template: t, parameters: {}, outputs: {} },
    },
  })
  assert.equal(plan.actions.find((a) => a.stack === 'base')!.notes?.[0]?.pendingWindowInDays, 30)
})

test('formatPlan: one line per stack with symbol, action, account, region and reason', () => {
  const lines = formatPlan(planDeploy({ manifest: manifest(), templates: TEMPLATES, deployed: {} }))
  assert.equal(lines[0], 'Deploy plan for "demo": 3 stack(s) in 2 phase(s)')
  assert.ok(
    lines.some((l) => /^ {2}\+ create +base +111111111111 eu-west-1 {2}the stack does not exist$/.test(l)),
    lines.join('\n'),
  )
  assert.equal(lines.at(-1), '3 create')
})

test('plan deploy: templates that differ only in their header comments are checked as one; any other difference is seen', () => {
  const m = manifest()
  const target = (n: string) => `# target ${n}\n#\n${TEMPLATES['target.yaml']}`
  const stacks = [
    ...m.stacks,
    { ...m.stacks[1]!, name: 'target2', template: 't2.yaml', account: '333333333333' },
    {
      ...m.stacks[1]!,
      name: 'target3',
      template: 't3.yaml',
      account: '444444444444',
      parameters: { X: 'x' },
    },
  ]
  const templates = {
    ...TEMPLATES,
    'target.yaml': target('1'),
    't2.yaml': target('2'),
    // The same header, but a parameter below it: not the same content.
    't3.yaml': `# target 3\n#\nParameters:\n  X: {Type: String}\n${TEMPLATES['target.yaml']}`,
  }
  const plan = planDeploy({ manifest: { ...m, stacks }, templates, deployed: {} })
  assert.equal(plan.actions.length, 5)
  assert.throws(
    () =>
      planDeploy({
        manifest: {
          ...m,
          stacks: stacks.map((s) => (s.name === 'target2' ? { ...s, parameters: { X: 'x' } } : s)),
        },
        templates,
        deployed: {},
      }),
    (e: unknown) =>
      e instanceof CrosspipeError &&
      e.problems.some((p) => p.message.includes('template "t2.yaml" declares no parameter "X"')) &&
      !e.problems.some((p) => p.message.includes('t3.yaml')),
  )
})

test('plan deploy: a template that is not YAML is refused before anything, where it is wrong; duplicate keys are read as CloudFormation reads them', () => {
  const m = manifest()
  const broken = { ...TEMPLATES, 'app.yaml': 'Resources:\n  Q: [\n' }
  assert.throws(
    () => planDeploy({ manifest: m, templates: broken, deployed: {}, manifestFile: 'out/manifest.json' }),
    (e: unknown) => {
      assert.ok(e instanceof CrosspipeError)
      assert.match(e.message, /nothing was changed/)
      const p = e.problems.find((x) => x.location?.file === join('out', 'app.yaml'))
      assert.ok(p, JSON.stringify(e.problems))
      assert.equal(typeof p.location?.line, 'number')
      return true
    },
  )
  // CloudFormation keeps the last value of a duplicate key; so does the plan (the output it reads is there).
  const duplicated = {
    ...TEMPLATES,
    'base.yaml': `${TEMPLATES['base.yaml']}Outputs:\n  KeyArn:\n    Value: !GetAtt Key.Arn\n`,
  }
  assert.equal(planDeploy({ manifest: m, templates: duplicated, deployed: {} }).actions.length, 3)
})
