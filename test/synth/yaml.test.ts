import { test } from 'node:test'
import fc from 'fast-check'
import assert from 'node:assert/strict'
import { planStacks } from '../../src/synth/index.js'
import { fastTemplateYaml } from '../../src/synth/yaml.js'
import { assertSameYaml } from './checks.js'
import { DEV, examplePipeline, manyTargets, stage } from './builder.js'

test('the fast YAML writer gives stringifyTemplate\u2019s bytes for every synthesized template', () => {
  const pipelines = [
    examplePipeline(),
    manyTargets(12),
    examplePipeline({ source: { type: 'codecommit', repository: 'r', branch: 'main', account: DEV } }),
    examplePipeline({
      stages: [
        stage('dev', [{ account: DEV }], {
          parameters: { Quote: 'say "hi"', Colon: 'a: b', Yes: 'yes', Num: '0123', Hash: 'a #b' },
          approval: { comment: 'it\'s "ready": ship? #1' },
          deployPermissions: {
            managedPolicies: [],
            statements: [
              {
                Effect: 'Allow',
                Action: 'sqs:*',
                Resource: ['*', 'arn:aws:sqs:*:*:q'],
                Condition: { Bool: { 'aws:SecureTransport': 'true' } },
              },
            ],
          },
        }),
      ],
      tags: { 'cost-center': '0042', owner: 'on', note: ' padded ' },
    }),
  ]
  let handled = 0
  for (const p of pipelines)
    for (const s of planStacks(p))
      if (assertSameYaml(s.body, s.comments, `Stack ${s.name}.\nPhase ${s.phase}.`)) handled++
  assert.equal(handled, 29, 'fast path taken for every template')
})

test('the fast writer declines what it does not handle', () => {
  assert.equal(fastTemplateYaml({ A: 'two newlines\n\n' }), undefined)
  assert.equal(fastTemplateYaml({ A: ' leading space\nx\n' }), undefined)
  assert.equal(fastTemplateYaml({ A: [] }), undefined)
  assert.equal(fastTemplateYaml({ A: { 'Fn::Join': ['', ['a', 'b']] } }), undefined)
  assert.equal(fastTemplateYaml({ A: { B: 1 } }, { comments: { 'A.B.C': 'deep' } }), undefined)
  assert.equal(fastTemplateYaml({ A: 1.5 }), undefined)
  assert.ok(assertSameYaml({ A: { B: [{ C: { D: 'x' } }, 'y', { Ref: 'Z' }] } }, {}))
  assert.ok(assertSameYaml({ A: 'line one\nline two', B: ['x\n\ny\n', { C: 'a: b\n  c\n' }] }, {}))
})

test('the fast writer matches the library on arbitrary strings, or declines', () => {
  const text = fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.string({ unit: 'binary', maxLength: 12 }),
    fc.constantFrom(
      'E0',
      'e-5',
      'yes',
      'No',
      '~',
      '...x',
      '---',
      '- x',
      '? x',
      'a: b',
      'a #b',
      '!x',
      '&a',
      '*a',
      '0x1F',
      '1_000',
      '12:30',
      '.inf',
      '<<',
      '=',
      'x:',
      '"q"',
      "'s'",
      '%x',
      '@x',
      '`x',
    ),
  )
  fc.assert(
    fc.property(fc.array(text, { minLength: 1, maxLength: 4 }), fc.boolean(), (parts, multi) => {
      const s = parts.join(multi ? '\n' : ' ')
      assertSameYaml({ A: s, B: [s, { C: s }], D: { 'Fn::Sub': s }, E: { Ref: s } }, {})
    }),
    { numRuns: 2000 },
  )
})
