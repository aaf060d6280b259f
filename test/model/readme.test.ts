/** The configuration reference documents every field of the schema, so it cannot fall behind. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pipelineJsonSchema } from '../../src/model/index.js'

type Json = Record<string, any>

function fieldNames(node: unknown, out: Set<string>): Set<string> {
  if (Array.isArray(node)) node.forEach((n) => fieldNames(n, out))
  else if (typeof node === 'object' && node !== null) {
    const n = node as Json
    if (n.properties) for (const k of Object.keys(n.properties as Json)) out.add(k)
    for (const v of Object.values(n)) fieldNames(v, out)
  }
  return out
}

test('every field of the schema is in the configuration reference', () => {
  const readme = readFileSync(join(import.meta.dirname, '..', '..', 'src', 'model', 'README.md'), 'utf8')
  const fields = fieldNames(pipelineJsonSchema(), new Set())
  const missing = [...fields].filter((f) => !readme.includes(`\`${f}\``))
  assert.deepEqual(missing, [])
})
