import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  leadingCommentsEnd,
  parseTemplate,
  stringifyTemplate,
  TemplateBodies,
} from '../src/model/cfn-yaml.js'
import { CrosspipeError } from '../src/model/errors.js'

const sample = `AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      KeyPolicy:
        Version: 2012-10-17
        Statement:
          - Principal:
              AWS: !Sub "arn:aws:iam::\${AWS::AccountId}:root"
            Resource: "*"
  Alias:
    Type: AWS::KMS::Alias
    Properties:
      TargetKeyId: !Ref Key
      Other: !GetAtt Key.Arn
      Deep: !GetAtt Db.Endpoint.Address
      Joined: !Join ["", [a, !Ref Key]]
      Cond: !If [IsProd, !Ref AWS::NoValue, x]
`

test('short-form tags parse to the long form', () => {
  const t = parseTemplate(sample, 't.yaml')
  const r = t.body.Resources as any
  assert.deepEqual(r.Alias.Properties.TargetKeyId, { Ref: 'Key' })
  assert.deepEqual(r.Alias.Properties.Other, { 'Fn::GetAtt': ['Key', 'Arn'] })
  assert.deepEqual(r.Alias.Properties.Deep, { 'Fn::GetAtt': ['Db', 'Endpoint.Address'] })
  assert.deepEqual(r.Alias.Properties.Joined, { 'Fn::Join': ['', ['a', { Ref: 'Key' }]] })
  assert.deepEqual(r.Alias.Properties.Cond, { 'Fn::If': ['IsProd', { Ref: 'AWS::NoValue' }, 'x'] })
  assert.equal(r.Key.Properties.KeyPolicy.Version, '2012-10-17')
  assert.deepEqual(t.locate(['Resources', 'Alias', 'Properties', 'Other']), { line: 16, column: 22 })
})

test('stringify round-trips and quotes YAML 1.1 look-alikes', () => {
  const t = parseTemplate(sample, 't.yaml')
  const out = stringifyTemplate({ ...t.body, Extra: { a: 'yes', b: '0123' } })
  assert.match(out, /TargetKeyId: !Ref Key/)
  assert.match(out, /Other: !GetAtt Key.Arn/)
  assert.match(out, /Version: "2012-10-17"/)
  assert.match(out, /a: "yes"/)
  assert.deepEqual(parseTemplate(out, 'o.yaml').body, { ...t.body, Extra: { a: 'yes', b: '0123' } })
})

test('syntax errors and duplicate keys carry file, line and column', () => {
  for (const [text, line] of [
    ['Resources:\n  A: 1\n  A: 2\n', 3],
    ['Resources:\n  A: [1, 2\n', 3],
  ] as const) {
    try {
      parseTemplate(text, 'bad.yaml')
      assert.fail('expected an error')
    } catch (e) {
      assert.ok(e instanceof CrosspipeError)
      assert.equal(e.problems[0]?.location?.file, 'bad.yaml')
      assert.ok((e.problems[0]?.location?.line ?? 0) >= line - 1, JSON.stringify(e.problems))
    }
  }
})

test('TemplateBodies: one parse per content (header comments aside); a bad text throws with its own file every time', () => {
  const bodies = new TemplateBodies()
  const a = bodies.body(`# target 111111111111\n${sample}`, 'a.yaml')
  const b = bodies.body(`# target 222222222222\n\n${sample}`, 'b.yaml')
  assert.equal(a, b, 'texts that differ only in their header share one parsed body')
  assert.deepEqual(a, parseTemplate(sample, 'x.yaml').body)
  assert.notEqual(bodies.body(sample.replace('Key:', 'Key2:'), 'c.yaml'), a)
  for (const file of ['bad1.yaml', 'bad2.yaml']) {
    const e = (() => {
      try {
        bodies.body('Resources: [', file)
      } catch (x) {
        return x
      }
      return undefined
    })()
    assert.ok(e instanceof CrosspipeError && e.problems[0]?.location?.file === file, file)
  }
})

test('leadingCommentsEnd: the offset after leading comment and blank lines, with LF, CRLF and CR line breaks', () => {
  const cases: [string, string][] = [
    ['', ''],
    ['a: 1', 'a: 1'],
    ['# x\na: 1', 'a: 1'],
    ['# x\r\n\n  # y\n\ta: 1', '\ta: 1'],
    // A lone CR ends a line in YAML: what follows it is content, not comment.
    ['# x\rX: 1', 'X: 1'],
    ['# only', ''],
    ['#x\n  \n%YAML 1.2\n---\na: 1', '%YAML 1.2\n---\na: 1'],
    ['key: |\n  # content of a block scalar\n', 'key: |\n  # content of a block scalar\n'],
  ]
  for (const [text, rest] of cases)
    assert.equal(text.slice(leadingCommentsEnd(text)), rest, JSON.stringify(text))
})
