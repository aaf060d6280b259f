import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parse } from 'yaml'
import { exampleProject, pipelineJsonSchema } from '../../src/model/index.js'
import { ALL_REGIONS } from '../../src/iam/arn.js'

type Json = Record<string, any>

test('the JSON Schema is draft-07, closed, and requires what the loader requires', () => {
  const s = pipelineJsonSchema() as Json
  assert.equal(s.$schema, 'http://json-schema.org/draft-07/schema#')
  assert.equal(s.additionalProperties, false)
  assert.deepEqual([...s.required].sort(), ['ci', 'name', 'source', 'stages'])
  assert.ok(s.patternProperties['^x-'], 'x- keys are allowed, as the loader ignores them')
  const stage = s.properties.stages.items
  assert.deepEqual([...stage.required].sort(), ['name', 'stack', 'targets'])
  assert.equal(stage.additionalProperties, false)
})

test('every property has a description, for editor hovers', () => {
  const missing: string[] = []
  const walk = (node: unknown, at: string): void => {
    if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${at}[${i}]`))
    if (typeof node !== 'object' || node === null) return
    const n = node as Json
    if (n.properties)
      for (const [k, v] of Object.entries(n.properties as Json)) {
        const d = v as Json
        if (!d.description && !d.anyOf?.[0]?.description) missing.push(`${at}.${k}`)
      }
    for (const [k, v] of Object.entries(n)) walk(v, `${at}/${k}`)
  }
  walk(pipelineJsonSchema(), '')
  assert.deepEqual(missing, [])
})

test('region fields complete from the region table', () => {
  const s = pipelineJsonSchema() as Json
  assert.deepEqual(s.properties.ci.properties.region.enum, ALL_REGIONS)
  const target = s.properties.stages.items.properties.targets.items
  assert.deepEqual(target.properties.region.enum, ALL_REGIONS)
})

test('the example crosspipe.yml uses only keys the JSON Schema knows', () => {
  const s = pipelineJsonSchema() as Json
  const doc = parse(exampleProject()['crosspipe.yml']!) as Json
  for (const k of Object.keys(doc)) assert.ok(s.properties[k], k)
  const stageProps = s.properties.stages.items.properties
  for (const stage of doc.stages as Json[]) for (const k of Object.keys(stage)) assert.ok(stageProps[k], k)
  for (const k of Object.keys(doc.build as Json)) assert.ok(s.properties.build.properties[k], k)
})

test('patterns that need the regular-expression u flag are left out (editors may not set it)', () => {
  assert.doesNotMatch(JSON.stringify(pipelineJsonSchema()), /\\\\p\{/)
})
