import { test } from 'node:test'
import assert from 'node:assert/strict'
import { editDistance, nearest } from '../../src/model/suggest.js'
import { formatPath } from '../../src/model/paths.js'

test('edit distance', () => {
  assert.equal(editDistance('stagse', 'stages'), 2)
  assert.equal(editDistance('stack', 'stak'), 1)
  assert.equal(editDistance('', 'abc'), 3)
  assert.equal(editDistance('Region', 'region'), 0)
})

test('nearest suggests plausible typos and abbreviations, nothing else', () => {
  const keys = ['name', 'ci', 'source', 'build', 'stages', 'naming', 'tags', 'profiles']
  assert.equal(nearest('stagse', keys), 'stages')
  assert.equal(nearest('stage', keys), 'stages')
  assert.equal(nearest('sorce', keys), 'source')
  assert.equal(nearest('profile', keys), 'profiles')
  assert.equal(nearest('owner', keys), undefined)
  assert.equal(nearest('deploy', keys), undefined)
  assert.equal(nearest('repo', ['type', 'repository', 'branch', 'account']), 'repository')
  assert.equal(nearest('env', ['environment', 'image']), 'environment')
  assert.equal(nearest('eu-west-7', ['us-east-1', 'eu-west-1', 'eu-west-2']), 'eu-west-1')
})

test('paths read as users write them', () => {
  assert.equal(formatPath(['stages', 1, 'targets', 0, 'account']), 'stages[1].targets[0].account')
  assert.equal(formatPath(['tags', 'cost center']), 'tags["cost center"]')
  assert.equal(formatPath(['tags', 'aws:x']), 'tags["aws:x"]')
  assert.equal(formatPath([]), '')
})

test('nearest suggests the one value whose distinctive end was written', () => {
  const types = [
    'BUILD_GENERAL1_SMALL',
    'BUILD_GENERAL1_MEDIUM',
    'BUILD_GENERAL1_LARGE',
    'BUILD_GENERAL1_XLARGE',
  ]
  assert.equal(nearest('SMALL', types), 'BUILD_GENERAL1_SMALL')
  assert.equal(nearest('large', types), 'BUILD_GENERAL1_LARGE')
  assert.equal(nearest('GENERAL1', types), undefined)
})
