// Wildcard matching never backtracks (issue 11, item 2): a policy anyone may write (a bucket policy,
// a StringLike value) must not stall the sandbox's gateway or `crosspipe check`. The bound is checked
// by operation count (the matcher's step counter), not by wall clock, so a busy machine cannot hide a
// regression nor fail a correct matcher. Matches are also compared with a dynamic-programming reference.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { compileArnParts, compileGlob, compileParts, globParts, globSteps } from '../../src/iam/glob.js'
import { compilePolicy, simulate } from '../../src/iam/index.js'
import { dynamicMatcher } from '../../src/iam/conditions.js'
import { parseTemplate } from '../../src/iam/variables.js'

/** Steps one call of `m(value)` takes. */
function stepsOf(m: (v: string) => boolean, value: string): { result: boolean; steps: number } {
  const before = globSteps()
  const result = m(value)
  return { result, steps: globSteps() - before }
}

/** O(n·m) with a small constant: what a non-backtracking matcher may spend. */
function bound(value: string, pattern: string): number {
  return 2 * (value.length + 2) * (pattern.length + 2)
}

const PATHOLOGICAL = [
  // the pattern and key
  { pattern: `arn:aws:s3:::b/${'*a'.repeat(12)}*b`, value: `arn:aws:s3:::b/${'a'.repeat(40)}` },
  { pattern: `arn:aws:s3:::b/${'*a'.repeat(30)}*b`, value: `arn:aws:s3:::b/${'a'.repeat(400)}` },
  // the last segment matches, so every middle one is searched for
  { pattern: `arn:aws:s3:::b/${'*a'.repeat(12)}*c*b`, value: `arn:aws:s3:::b/${'a'.repeat(400)}b` },
  { pattern: `arn:aws:s3:::b/${'*aa?a'.repeat(8)}*c*b`, value: `arn:aws:s3:::b/${'a'.repeat(400)}b` },
  { pattern: `arn:aws:s3:::b/${'*?'.repeat(20)}*b`, value: `arn:aws:s3:::b/${'a'.repeat(400)}` },
  // wildcards before the resource part take the field-by-field path
  { pattern: `arn:*:s3:*:*:b/${'*a'.repeat(20)}*b`, value: `arn:aws:s3:::b/${'a'.repeat(400)}` },
  { pattern: `${'*:'.repeat(4)}${'*a'.repeat(20)}*b`, value: `${'a:'.repeat(4)}${'a'.repeat(400)}` },
]

test('pathological wildcards: no match, within O(n·m) steps', () => {
  for (const { pattern, value } of PATHOLOGICAL) {
    const arn = stepsOf(compileArnParts(globParts(pattern)), value)
    assert.equal(arn.result, false, pattern)
    assert.ok(arn.steps <= bound(value, pattern), `${pattern}: ${arn.steps} steps > ${bound(value, pattern)}`)
    for (const ignoreCase of [false, true]) {
      const plain = stepsOf(compileGlob(pattern, ignoreCase), value)
      assert.equal(plain.result, false, pattern)
      assert.ok(plain.steps <= bound(value, pattern), `${pattern}: ${plain.steps} steps`)
    }
  }
})

test('pathological wildcards: work grows linearly with the value', () => {
  const pattern = `arn:aws:s3:::b/${'*a'.repeat(12)}*c*b`
  const m = compileArnParts(globParts(pattern))
  const small = stepsOf(m, `arn:aws:s3:::b/${'a'.repeat(1000)}b`).steps
  const large = stepsOf(m, `arn:aws:s3:::b/${'a'.repeat(4000)}b`).steps
  assert.ok(small >= 1000, `${small} steps: the matcher did not scan the value`)
  // A backtracking matcher does Θ(n^12) here; a linear one ×4 for a value 4 times longer.
  assert.ok(large <= 4.5 * small, `${small} steps for 1000 characters, ${large} for 4000`)
})

test('pathological wildcards through the engine: Resource, StringLike, ArnLike, Action', () => {
  const key = `arn:aws:s3:::b/${'a'.repeat(40)}b`
  const evil = `arn:aws:s3:::b/${'*a'.repeat(12)}*c*b`
  const policy = compilePolicy({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 's3:GetObject', Resource: evil },
      {
        Effect: 'Allow',
        Action: `s3:${'*G'.repeat(12)}*X`,
        Resource: '*',
      },
      {
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: '*',
        Condition: {
          StringLike: {
            's3:prefix': `${'*a'.repeat(12)}*c*b`,
            'aws:username': '${aws:username}*a*a*a*a*a*a*a*c*b',
          },
          ArnLike: { 'aws:SourceArn': evil },
        },
      },
    ],
  })
  const before = globSteps()
  const r = simulate({
    principal: 'arn:aws:iam::111111111111:user/alice',
    action: 's3:GetObject',
    resource: key,
    resourceAccount: '111111111111',
    identityPolicies: [policy],
    context: {
      's3:prefix': `${'a'.repeat(40)}b`,
      'aws:SourceArn': key,
      'aws:username': `${'a'.repeat(40)}b`,
    },
  })
  const steps = globSteps() - before
  assert.equal(r.decision, 'ImplicitlyDenied')
  assert.ok(steps > 40, `${steps} steps: the engine did not reach the matchers`)
  assert.ok(steps <= 6 * bound(key, evil), `${steps} steps`)
})

test('variables in a wildcard value compile to the same linear matcher', () => {
  const tpl = parseTemplate('${aws:username}/*a*a*a*a*a*a*a*a*a*a*a*a*b', true)
  const m = dynamicMatcher(tpl, { variable: () => 'x*y' }, false)!
  assert.ok(m(`x*y/${'a'.repeat(12)}b`))
  assert.ok(!m(`xzy/${'a'.repeat(12)}b`), 'a substituted * is literal')
  const { result, steps } = stepsOf(m, `x*y/${'a'.repeat(400)}`)
  assert.equal(result, false)
  assert.ok(steps <= bound('x'.repeat(404), 'x'.repeat(40)), `${steps} steps`)
})

// ---- exactness: the matcher agrees with a dynamic-programming reference on random inputs ----

/** Reference: pattern tokens against a value, DP over (token, position). */
function reference(pattern: string, value: string, arn: boolean, ignoreCase: boolean): boolean {
  if (pattern === '*') return true // "*" alone is any resource, ARN or not
  const fold = (s: string) => (ignoreCase ? s.toUpperCase() : s)
  const toks: { c: string; noColon: boolean }[] = []
  let colons = 0
  for (const ch of pattern) {
    toks.push({ c: ch === '*' || ch === '?' ? ch : fold(ch), noColon: arn && colons < 5 })
    if (ch === ':') colons++
  }
  const v = fold(value)
  // reach[j]: tokens so far can consume exactly v[0..j)
  let reach = new Array<boolean>(v.length + 1).fill(false)
  reach[0] = true
  for (const t of toks) {
    const next = new Array<boolean>(v.length + 1).fill(false)
    if (t.c === '*') {
      for (let j = 0; j <= v.length; j++) {
        next[j] = reach[j]! || (j > 0 && next[j - 1]! && !(t.noColon && v[j - 1] === ':'))
      }
    } else {
      for (let j = 1; j <= v.length; j++) {
        const ok = t.c === '?' ? !(t.noColon && v[j - 1] === ':') : v[j - 1] === t.c
        next[j] = reach[j - 1]! && ok
      }
    }
    reach = next
  }
  return reach[v.length]!
}

function rng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

test('random patterns and values: the same answer as the reference', () => {
  const rand = rng(11)
  const pick = (alphabet: string) => alphabet[Math.floor(rand() * alphabet.length)]!
  let matched = 0
  for (let i = 0; i < 20000; i++) {
    const arn = i % 2 === 0
    const ignoreCase = !arn && i % 4 === 1
    const pattern = Array.from({ length: Math.floor(rand() * 12) }, () => pick('ab:*?*A/')).join('')
    const value = Array.from({ length: Math.floor(rand() * 14) }, () => pick('aab::bA/')).join('')
    const m = arn ? compileArnParts(globParts(pattern)) : compileParts(globParts(pattern), ignoreCase)
    const want = reference(pattern, value, arn, ignoreCase)
    assert.equal(
      m(value),
      want,
      `${arn ? 'ARN ' : ''}${ignoreCase ? 'ignoring case ' : ''}${pattern} ~ ${value}`,
    )
    if (want) matched++
  }
  assert.ok(matched > 1000, `only ${matched} random pairs matched: the test would not see wrong rejections`)
})

test('case folding keeps lengths: ? is one code unit, non-ASCII folds as a regular expression does', () => {
  assert.ok(compileGlob('S3:GET?BJECT', true)('s3:getObject'))
  assert.ok(compileGlob('ÉTÉ*', true)('été-2026'))
  assert.ok(!compileGlob('K*', true)('\u212A'), 'the Kelvin sign does not fold to ASCII K')
  assert.ok(compileGlob('a?b', true)('A\u0130B'), 'İ is one code unit, even though its lower case is two')
})
