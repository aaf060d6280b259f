// The sandbox's CloudFormation reads a template content once: texts that differ only in their
// header comments (synth's templates for each target account) share one parse; nothing else does.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { loadTemplate } from '../../../src/sandbox/services/cloudformation/template.js'

const BODY = `Resources:
  Handle:
    Type: AWS::CloudFormation::WaitConditionHandle
Outputs:
  Name:
    Value: !Ref Handle
`

test('templates that differ only in their header comments read the same; a change below the header is seen', () => {
  const a = loadTemplate(`# Stack app-1: account 200000000001\n\n${BODY}`)
  const b = loadTemplate(`# Stack app-2: account 200000000002\r\n#\r\n${BODY}`)
  assert.deepEqual(a, b)
  const c = loadTemplate(`# Stack app-1: account 200000000001\n\n${BODY}  Other:\n    Value: x\n`)
  assert.deepEqual(Object.keys(c.Outputs ?? {}), ['Name', 'Other'])
  // Copies go out: changing one changes no other.
  ;(a.Resources as Record<string, unknown>).Extra = {}
  assert.equal(Object.hasOwn(loadTemplate(`# again\n${BODY}`).Resources, 'Extra'), false)
})

test('a JSON template and the same text after a comment are not one entry: JSON.parse reads the first, YAML the second', () => {
  // JSON.parse keeps the last of two equal keys; YAML refuses them.
  const json = `{"Resources": {"H": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}, "Resources": {"H": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}}`
  for (let round = 0; round < 2; round++) {
    assert.deepEqual(Object.keys(loadTemplate(json).Resources), ['H'])
    assert.throws(() => loadTemplate(`# a comment\n${json}`), /not well-formed/)
  }
})
