import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseArn, formatArn, partitionOf } from '../src/iam/arn.js'

test('ARN round trip keeps colons in the resource part', () => {
  const a = 'arn:aws:s3:::bucket/key:with:colons'
  const p = parseArn(a)
  assert.equal(p?.service, 's3')
  assert.equal(p?.resource, 'bucket/key:with:colons')
  assert.equal(formatArn(p!), a)
})

test('partition of a region', () => {
  assert.equal(partitionOf('cn-north-1'), 'aws-cn')
  assert.equal(partitionOf('eu-west-1'), 'aws')
  assert.equal(partitionOf('eu-west-9'), undefined)
  assert.equal(parseArn('not-an-arn'), undefined)
})
