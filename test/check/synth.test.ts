// Pipelines synthesized by crosspipe pass `check`: the example of `crosspipe init`, and a
// property test over random valid definitions (fast-check).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { exampleProject, parsePipeline, definePipeline } from '../../src/model/index.js'
import { CrosspipeError } from '../../src/model/errors.js'
import { checkPipeline, renderCheck } from '../../src/check/index.js'

const errorsOf = (r: ReturnType<typeof checkPipeline>) => r.findings.filter((f) => f.severity === 'error')

test('the example of crosspipe init passes check', () => {
  const p = parsePipeline(exampleProject()['crosspipe.yml']!, 'crosspipe.yml')
  const r = checkPipeline(p)
  assert.equal(r.ok, true, renderCheck(r, { color: false }))
  assert.deepEqual(errorsOf(r), [])
  // The cross-account calls are derived: the target roles read and decrypt the build output.
  assert.ok(r.calls.some((c) => c.operation === 'kms:Decrypt' && c.principal.includes(':333333333333:')))
  assert.ok(r.calls.some((c) => c.operation === 'iam:PassRole' && c.principal.includes(':222222222222:')))
})

const account = fc.constantFrom(
  '111111111111',
  '222222222222',
  '333333333333',
  '444444444444',
  '012345678901',
)
const region = fc.constantFrom('eu-west-1', 'us-east-1', 'ap-southeast-2')
const source = fc.oneof(
  fc.record({
    type: fc.constant('codecommit' as const),
    repository: fc.constantFrom('app', 'svc.api'),
    branch: fc.constant('main'),
  }),
  fc.record({
    type: fc.constant('codecommit' as const),
    repository: fc.constant('app'),
    branch: fc.constant('main'),
    account: account,
  }),
  fc.record({
    type: fc.constant('s3' as const),
    bucket: fc.constant('source-bucket-1'),
    key: fc.constant('app.zip'),
  }),
  fc.record({
    type: fc.constant('connection' as const),
    connectionArn: fc.constant('arn:aws:codeconnections:eu-west-1:111111111111:connection/abc-123'),
    repository: fc.constant('owner/repo'),
    branch: fc.constant('main'),
  }),
)
const stage = (i: number) =>
  fc.record({
    name: fc.constant(`stage${i}`),
    targets: fc.uniqueArray(fc.record({ account, region }), {
      minLength: 1,
      maxLength: 3,
      selector: (t) => `${t.account}/${t.region}`,
    }),
    stack: fc.constant(`app-stage${i}`),
    approval: fc.boolean(),
    tests: fc.option(fc.record({ commands: fc.constant(['npm test']) }), { nil: undefined }),
    capabilities: fc.constantFrom([], ['CAPABILITY_NAMED_IAM']),
  })
const definition = fc
  .record({
    name: fc.constantFrom('app', 'my-service', 'p'),
    ci: fc.record({ account: fc.constant('111111111111'), region }),
    source,
    stageCount: fc.integer({ min: 1, max: 3 }),
    stages: fc.tuple(stage(1), stage(2), stage(3)),
  })
  .map(({ stageCount, stages, ...rest }) => ({ ...rest, stages: stages.slice(0, stageCount) }))

test('every random valid definition synthesizes to a setup that passes check', () => {
  fc.assert(
    fc.property(definition, (def) => {
      let p
      try {
        p = definePipeline(def as never)
      } catch (e) {
        // Definitions the loader rejects are not valid definitions; they prove nothing here.
        if (e instanceof CrosspipeError) return fc.pre(false)
        throw e
      }
      const r = checkPipeline(p)
      assert.deepEqual(errorsOf(r), [], renderCheck(r, { color: false }))
      assert.equal(r.ok, true, renderCheck(r, { color: false }))
    }),
    {
      numRuns: Number(process.env.CROSSPIPE_PROPERTY_RUNS ?? 40),
      seed: Number(process.env.CROSSPIPE_PROPERTY_SEED ?? 4242),
    },
  )
})
