// Bad input is a typed error with a code, a message and where it is (exit code 2 in the CLI),
// never a finding or a crash. One case per entry of cases/bad-input.json: a one-change copy of the
// good fixture setup.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync, cpSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkManifestFile } from '../../src/check/index.js'
import { CrosspipeError, formatError } from '../../src/model/errors.js'
import { fixtures } from './helpers.js'

interface Case {
  name: string
  file?: string
  replace?: [string, string]
  manifest?: {
    stack: number
    delete?: string
    set?: string
    value?: unknown
    template?: string
    account?: unknown
  }
  code: string
  message: string
  /** `file:line` of the first problem, where the input has a position. */
  at?: string
}
const cases = JSON.parse(readFileSync(join(import.meta.dirname, 'cases', 'bad-input.json'), 'utf8')) as Case[]

for (const c of cases) {
  test(`bad input: ${c.name}`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crosspipe-check-'))
    try {
      cpSync(join(fixtures, 'good'), dir, { recursive: true })
      if (c.file && c.replace) {
        const p = join(dir, c.file)
        const text = readFileSync(p, 'utf8')
        assert.ok(text.includes(c.replace[0]), `the case's text is in ${c.file}`)
        writeFileSync(p, text.replace(c.replace[0], c.replace[1]))
      }
      if (c.manifest) {
        const p = join(dir, 'manifest.json')
        const m = JSON.parse(readFileSync(p, 'utf8'))
        const s = m.stacks[c.manifest.stack]
        if (c.manifest.delete) delete s.parameters[c.manifest.delete]
        if (c.manifest.set) s.parameters[c.manifest.set] = c.manifest.value
        if (c.manifest.template) s.template = c.manifest.template
        if (c.manifest.account !== undefined) s.account = c.manifest.account
        writeFileSync(p, JSON.stringify(m, null, 2))
      }
      await assert.rejects(checkManifestFile(join(dir, 'manifest.json')), (e: unknown) => {
        assert.ok(e instanceof CrosspipeError, `a CrosspipeError, not ${String(e)}`)
        assert.equal(e.code, c.code, formatError(e))
        assert.ok(formatError(e).includes(c.message), `"${formatError(e)}" says "${c.message}"`)
        if (c.at) {
          const loc = e.problems[0]?.location
          assert.ok(
            `${loc?.file}:${loc?.line}`.endsWith(`/${c.at}`),
            `${loc?.file}:${loc?.line} is ${c.at}\n${formatError(e)}`,
          )
        }
        return true
      })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
}
