// Runs the table-driven corpus (test/iam/cases/*.json): each case's decision, denial phrase and
// reasons, or a policy's validation problems.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { simulate, validatePolicy } from '../../src/iam/index.js'
import { loadCases } from './cases.js'

const cases = loadCases()

test('the corpus has at least 400 cases and every one expects something', () => {
  assert.ok(cases.length >= 400, `only ${cases.length} cases`)
  for (const c of cases) assert.ok(c.expect || c.problems, `${c.file}: ${c.name} expects nothing`)
  const names = new Set<string>()
  for (const c of cases) {
    const key = `${c.file}: ${c.name}`
    assert.ok(!names.has(key), `duplicate case name ${key}`)
    names.add(key)
  }
})

for (const c of cases) {
  test(`${c.file}: ${c.name}`, () => {
    if (c.validate) {
      const problems = validatePolicy(c.validate.policy, c.validate.kind)
      assert.deepEqual(
        problems.map((p) => ({
          ...(p.statementIndex !== undefined ? { statementIndex: p.statementIndex } : {}),
          element: p.element,
        })),
        c.problems ?? [],
        JSON.stringify(problems),
      )
      return
    }
    const r = simulate(c.request!)
    assert.equal(r.decision, c.expect, r.reasons.join(' | '))
    if (c.denialReason !== undefined) assert.equal(r.denialReason, c.denialReason)
    if (r.decision === 'Allowed') assert.equal(r.denialReason, undefined)
    else assert.ok(r.denialReason, 'a denial always has its AWS phrase')
    for (const s of c.reasonIncludes ?? [])
      assert.ok(r.reasons.join(' ').includes(s), `reasons lack "${s}": ${r.reasons.join(' | ')}`)
  })
}
