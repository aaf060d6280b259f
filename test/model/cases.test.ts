/**
 * The bad-definition corpus: every `cases/<name>.yml` is loaded as `crosspipe.yml`, and the
 * problems it yields must be exactly those in `cases/<name>.json`, each rendered as
 * `file:line:column (path): message`. An empty `problems` list means the file must load.
 *
 * To review new or changed messages: `UPDATE_CASES=1 node scripts/test.mjs test/model/cases`
 * rewrites the `problems` of every case (keeping its description), then read the diff.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parsePipeline } from '../../src/model/index.js'
import { CrosspipeError, formatLocation } from '../../src/model/errors.js'

interface Case {
  readonly description: string
  readonly problems: readonly string[]
}

const dir = join(import.meta.dirname, 'cases')
const names = readdirSync(dir)
  .filter((f) => f.endsWith('.yml'))
  .map((f) => f.slice(0, -'.yml'.length))
  .sort()
const update = process.env.UPDATE_CASES === '1'

function problemsOf(text: string): string[] {
  try {
    parsePipeline(text, 'crosspipe.yml')
    return []
  } catch (err) {
    if (!(err instanceof CrosspipeError)) throw err
    assert.equal(err.code, 'invalid-definition')
    assert.ok(err.problems.length > 0, 'an invalid-definition error lists its problems')
    return err.problems.map((p) => `${p.location ? formatLocation(p.location) + ': ' : ''}${p.message}`)
  }
}

test('the corpus has at least 40 cases of bad input', () => {
  const bad = names.filter((n) => {
    const c = JSON.parse(readFileSync(join(dir, `${n}.json`), 'utf8')) as Case
    return c.problems.length > 0
  })
  assert.ok(bad.length >= 40, `only ${bad.length} bad-input cases`)
})

for (const name of names) {
  test(`case ${name}`, () => {
    const text = readFileSync(join(dir, `${name}.yml`), 'utf8')
    const jsonPath = join(dir, `${name}.json`)
    const expected = JSON.parse(readFileSync(jsonPath, 'utf8')) as Case
    const actual = problemsOf(text)
    if (update) {
      writeFileSync(jsonPath, JSON.stringify({ ...expected, problems: actual }, null, 2) + '\n')
      return
    }
    assert.ok(expected.description, 'every case says what it tests')
    assert.deepEqual(actual, expected.problems)
    // Every problem in a file that YAML could read points at a line and column.
    for (const line of actual) assert.match(line, /^crosspipe\.yml:\d+:\d+[ :]/)
  })
}
