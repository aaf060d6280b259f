/**
 * The loader refuses names that synth would have to shorten, and application stacks that would
 * take synth's own stack names. It cannot import synth (DESIGN.md: model imports only iam), so
 * it mirrors synth's naming; this test is the contract that keeps the two in step.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { isOwnStackName, longestRoleName, MAX_ROLE_NAME_LENGTH } from '../../src/model/semantics.js'
import { Names } from '../../src/synth/names.js'
import type { ResolvedPipeline } from '../../src/model/index.js'
import { ALL_REGIONS } from '../../src/iam/arn.js'

const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,39}$/)
const naming = fc.record({ prefix: name, referenceNames: fc.boolean() })

function synthNames(n: { prefix: string; referenceNames: boolean }): Names {
  return new Names({ naming: n } as unknown as ResolvedPipeline)
}

test('the longest role name the model computes is the longest role name synth gives', () => {
  fc.assert(
    fc.property(naming, name, fc.constantFrom(...ALL_REGIONS), fc.boolean(), (n, stage, region, tests) => {
      const model = longestRoleName(n, stage, region, tests)
      const names = synthNames(n)
      const synth = [
        names.crossAccountRole(region),
        names.deploymentRole(stage, region),
        ...(tests ? [names.testRole(stage, region)] : []),
      ]
      const longest = Math.max(...synth.map((s) => s.length))
      if (model.name.length <= MAX_ROLE_NAME_LENGTH) {
        // Fits: synth uses exactly these names, unshortened.
        assert.ok(synth.includes(model.name) || model.name === '', `${model.name} not in ${synth.join(', ')}`)
        assert.ok(longest <= MAX_ROLE_NAME_LENGTH)
      }
      // Whatever the model accepts, synth never needs to shorten.
      if (model.name.length <= MAX_ROLE_NAME_LENGTH)
        for (const s of synth) assert.doesNotMatch(s, /-[0-9a-f]{8}$/, `synth shortened ${s}`)
    }),
  )
})

test("synth's own stack names are reserved for application stacks", () => {
  fc.assert(
    fc.property(
      naming,
      fc.constantFrom(...ALL_REGIONS),
      fc.stringMatching(/^\d{12}$/),
      (n, region, account) => {
        const names = synthNames(n)
        for (const stack of [
          names.pipelineStack,
          names.sourceStack,
          names.ciBaseStack(region, region),
          names.ciBaseStack(region, 'elsewhere-1'),
          names.targetStack(account, region),
        ])
          assert.ok(isOwnStackName(n.prefix, stack), stack)
      },
    ),
  )
  assert.equal(isOwnStackName('shop', 'shop-app'), false)
  assert.equal(isOwnStackName('shop', 'shop-pipelines'), false)
})
