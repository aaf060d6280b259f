/**
 * Whatever the input, the loader either returns a pipeline or throws a CrosspipeError whose
 * problems all have a position: a crash or an unlocated problem is a bug. FUZZ_RUNS=5000 runs longer.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { definePipeline, parsePipeline } from '../../src/model/index.js'
import { CrosspipeError } from '../../src/model/errors.js'

const valid = readFileSync(join(import.meta.dirname, 'cases', 'valid-full.yml'), 'utf8')
const lines = valid.split('\n')

const scalar = fc.oneof(
  fc.constantFrom(
    '',
    '~',
    'null',
    'true',
    'yes',
    '0',
    '012345678901',
    '0o17',
    '1e3',
    '[]',
    '{}',
    '- x',
    '"',
    '[',
    '!Ref X',
    '*nope',
    '&a',
    'a: b',
  ),
  fc.string({ maxLength: 12 }),
)

function check(text: string): void {
  try {
    parsePipeline(text, 'crosspipe.yml')
  } catch (err) {
    if (!(err instanceof CrosspipeError)) throw err
    assert.equal(err.code, 'invalid-definition')
    assert.ok(err.problems.length > 0)
    for (const p of err.problems) {
      assert.equal(p.location?.file, 'crosspipe.yml')
      assert.ok(Number.isInteger(p.location.line) && p.location.line! >= 1, JSON.stringify(p))
      assert.ok(Number.isInteger(p.location.column) && p.location.column! >= 1, JSON.stringify(p))
      assert.ok(p.message.length > 10, p.message)
    }
  }
}

test('fuzz: edited lines of a valid file never crash the loader', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          line: fc.nat(lines.length - 1),
          op: fc.constantFrom('delete', 'value', 'duplicate', 'indent', 'dedent'),
          value: scalar,
        }),
        { minLength: 1, maxLength: 4 },
      ),
      (edits) => {
        const out = [...lines]
        for (const e of edits) {
          const l = out[e.line] ?? ''
          if (e.op === 'delete') out.splice(e.line, 1)
          else if (e.op === 'duplicate') out.splice(e.line, 0, l)
          else if (e.op === 'indent') out[e.line] = '  ' + l
          else if (e.op === 'dedent') out[e.line] = l.replace(/^ {2}/, '')
          else
            out[e.line] = l.includes(':')
              ? l.replace(/:.*$/, `: ${e.value}`)
              : l.replace(/- .*$/, `- ${e.value}`)
        }
        check(out.join('\n'))
      },
    ),
    { numRuns: Number(process.env.FUZZ_RUNS ?? 150) },
  )
})

test('fuzz: any value given to definePipeline yields a pipeline or a CrosspipeError', () => {
  fc.assert(
    fc.property(fc.anything(), (v) => {
      try {
        definePipeline(v as never)
      } catch (err) {
        if (!(err instanceof CrosspipeError)) throw err
      }
    }),
    { numRuns: Number(process.env.FUZZ_RUNS ?? 300) },
  )
})
