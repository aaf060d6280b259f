/* eslint-disable @typescript-eslint/no-unsafe-return -- templates are untyped JSON, read with any */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { CrosspipeError } from '../../src/model/errors.js'
import { synthesize } from '../../src/synth/index.js'
import { planStages } from '../../src/synth/pipeline.js'
import { buildContext } from '../../src/synth/index.js'
import { resolvedSize } from '../../src/synth/policy.js'
import { account, DEV, examplePipeline, manyTargets, stage } from './builder.js'
import { assertCrossAccountProperties, View } from './checks.js'

function limitError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof CrosspipeError, String(e))
    assert.equal(e.code, 'limit-exceeded')
    assert.match(e.message, pattern)
    return true
  })
}

test('100 targets synthesize within every limit: stages split, the pipeline template marked for upload', () => {
  const p = manyTargets(100)
  const out = synthesize(p)
  assertCrossAccountProperties(p, out)
  const v = new View(p, out)
  const stages = v.body('myapp-pipeline').Resources.Pipeline.Properties.Stages
  const prod = stages.filter((s: any) => s.Name.startsWith('prod'))
  // 1 approval + 3 actions per target: 16 targets in the first part, 16 in each next
  assert.deepEqual(
    prod.map((s: any) => [s.Name, s.Actions.length]),
    [
      ['prod-part1', 49],
      ['prod-part2', 48],
      ['prod-part3', 48],
      ['prod-part4', 48],
      ['prod-part5', 48],
      ['prod-part6', 48],
      ['prod-part7', 12],
    ],
  )
  assert.equal(prod[0].Actions[0].Name, 'approve')
  assert.ok(prod.slice(1).every((s: any) => s.Actions.every((a: any) => a.Name !== 'approve')))
  const pm = out.manifest.stacks.find((s) => s.name === 'myapp-pipeline')!
  assert.equal(pm.upload, true)
  assert.ok(Buffer.byteLength(out.files[pm.template]!) > 51_200)
  assert.equal(out.manifest.stacks.find((s) => s.name === 'myapp-ci-base')!.upload, undefined)
})

test('100 targets in one region: key and bucket policies switch to name patterns to stay under 20 KB', () => {
  const p = manyTargets(100)
  const one = {
    ...p,
    // readArtifacts names every deployment role too, so exact ARNs cannot fit.
    stages: p.stages.map((s) => ({
      ...s,
      readArtifacts: true,
      targets: s.targets.map((t) => ({ ...t, region: 'eu-west-1' })),
    })),
  }
  const out = synthesize(one)
  assertCrossAccountProperties(one, out)
  const v = new View(one, out)
  const r = v.body('myapp-ci-base').Resources
  const read = r.ArtifactBucketPolicy.Properties.PolicyDocument.Statement.find(
    (x: any) => x.Sid === 'TargetRolesReadArtifacts',
  )
  assert.ok(read.Condition.ArnLike, 'patterns when exact ARNs would not fit')
  assert.equal(read.Principal.AWS.length, 101)
  assert.ok(resolvedSize(r.ArtifactBucketPolicy.Properties.PolicyDocument) <= 20_480)
})

test('150 targets: the pipeline role grants overflow into managed policies that the pipeline waits for', () => {
  const p = manyTargets(150)
  const out = synthesize(p)
  assertCrossAccountProperties(p, out)
  const pipe = new View(p, out).body('myapp-pipeline').Resources
  const managed = Object.entries(pipe).filter(([, x]: [string, any]) => x.Type === 'AWS::IAM::ManagedPolicy')
  assert.ok(managed.length >= 1)
  assert.deepEqual(
    pipe.Pipeline.DependsOn,
    managed.map(([id]) => id),
  )
  for (const [, m] of managed as [string, any][])
    assert.deepEqual(m.Properties.Roles, [{ Ref: 'PipelineRole' }])
})

test('a small pipeline keeps exact role ARNs in the key and bucket policies', () => {
  const out = synthesize(manyTargets(10))
  const v = new View(manyTargets(10), out)
  const kp = v.body('myapp-ci-base').Resources.ArtifactKey.Properties.KeyPolicy.Statement
  assert.ok(kp.find((x: any) => x.Sid === 'TargetRolesDecryptArtifacts').Condition.ArnEquals)
})

test('stage splitting keeps order and the 50-action quota', () => {
  const p = manyTargets(40)
  const planned = planStages(buildContext(p))
  const prod = planned.filter((s) => s.stage.name === 'prod')
  assert.deepEqual(
    prod.map((s) => s.deployments.length),
    [16, 16, 8],
  )
  assert.deepEqual(
    prod.flatMap((s) => s.deployments.map((d) => d.account)),
    p.stages[1]!.targets.map((t) => t.account),
  )
  const noApproval = examplePipeline({
    stages: [
      stage(
        'dev',
        Array.from({ length: 25 }, (_, i) => ({ account: account(i) })),
      ),
    ],
  })
  assert.deepEqual(
    planStages(buildContext(noApproval)).map((s) => s.deployments.length),
    [25],
  )
  const more = examplePipeline({
    stages: [
      stage(
        'dev',
        Array.from({ length: 26 }, (_, i) => ({ account: account(i) })),
      ),
    ],
  })
  assert.deepEqual(
    planStages(buildContext(more)).map((s) => s.deployments.length),
    [25, 1],
  )
})

test('ParameterOverrides over 1,000 characters: a clear error that names the action and the fix', () => {
  const parameters = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`Param${i}`, 'x'.repeat(12)]))
  const p = examplePipeline({ stages: [stage('dev', [{ account: DEV }], { parameters })] })
  limitError(
    () => synthesize(p),
    /1,000 characters\): ParameterOverrides of action prepare-222222222222-eu-west-1 in stack myapp-pipeline measures \d+ characters; move stage dev's parameters into a parametersFile/,
  )
})

test('deployment permissions over the inline quota spill into managed policies; beyond 10 of them, an error', () => {
  const statements = Array.from({ length: 60 }, (_, i) => ({
    Sid: `S${i}`,
    Effect: 'Allow' as const,
    Action: ['sqs:SendMessage'],
    Resource: Array.from(
      { length: 4 },
      (_, j) => `arn:aws:sqs:eu-west-1:222222222222:queue-number-${i}-${j}`,
    ),
  }))
  const p = examplePipeline({
    stages: [stage('dev', [{ account: DEV }], { deployPermissions: { managedPolicies: [], statements } })],
  })
  const out = synthesize(p)
  assertCrossAccountProperties(p, out)
  const v = new View(p, out)
  const r = v.body(`myapp-target-${DEV}-eu-west-1`).Resources
  const managed = Object.values(r).filter((x: any) => x.Type === 'AWS::IAM::ManagedPolicy') as any[]
  assert.ok(managed.length >= 1)
  assert.deepEqual(managed[0].Properties.Roles, [{ Ref: 'DeploymentRoleDev' }])
  const huge = Array.from({ length: 800 }, (_, i) => ({ ...statements[0]!, Sid: `S${i}` }))
  const q = examplePipeline({
    stages: [
      stage('dev', [{ account: DEV }], { deployPermissions: { managedPolicies: [], statements: huge } }),
    ],
  })
  limitError(
    () => synthesize(q),
    /IAM role policy size: role DeploymentRoleDev in stack myapp-target-222222222222-eu-west-1 needs \d+ characters/,
  )
})

test('more than 50 pipeline stages: a clear error', () => {
  const stages = Array.from({ length: 49 }, (_, i) => stage(`s${i}`, [{ account: DEV }]))
  limitError(
    () => synthesize(examplePipeline({ stages })),
    /stages per pipeline \(50\): pipeline myapp in stack myapp-pipeline needs 51 stages/,
  )
})
