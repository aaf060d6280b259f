import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parse } from 'yaml'
import { exampleProject, parsePipeline, JSON_SCHEMA_FILE } from '../../src/model/index.js'

test('the example crosspipe.yml loads through parsePipeline', () => {
  const files = exampleProject()
  const p = parsePipeline(files['crosspipe.yml']!, 'crosspipe.yml')
  assert.equal(p.ci.account, '111111111111')
  assert.deepEqual(
    p.stages.map((s) => [s.name, s.targets.map((t) => `${t.account}/${t.region}`), s.approval !== false]),
    [
      ['dev', ['222222222222/eu-west-1'], false],
      ['prod', ['333333333333/eu-west-1'], true],
    ],
  )
  assert.equal(p.source.type, 'codecommit')
  assert.equal(p.build.buildspec, 'buildspec.yml')
  assert.equal(p.naming.prefix, 'my-app')
})

test('the example files are consistent with each other', () => {
  const files = exampleProject()
  assert.deepEqual(Object.keys(files).sort(), ['buildspec.yml', 'crosspipe.yml', 'template.yml'])
  assert.match(
    files['crosspipe.yml']!,
    new RegExp(`^# yaml-language-server: \\$schema=\\./${JSON_SCHEMA_FILE}\\n`),
  )
  const p = parsePipeline(files['crosspipe.yml']!, 'crosspipe.yml')
  // The buildspec the build names exists and puts every stage's template into the artifact.
  const buildspec = parse(files[p.build.buildspec!]!) as { version: number; artifacts: { files: string[] } }
  assert.equal(buildspec.version, 0.2)
  for (const s of p.stages) assert.ok(buildspec.artifacts.files.includes(s.template), s.template)
  // Every parameter a stage passes is declared by the template, with an allowed value.
  const template = files['template.yml']!
  for (const s of p.stages)
    for (const [k, v] of Object.entries(s.parameters ?? {})) {
      assert.match(template, new RegExp(`\\n  ${k}:\\n`))
      assert.equal(typeof v, 'string', `the example passes ${k} as a plain value`)
      assert.match(template, new RegExp(`AllowedValues: \\[.*\\b${v as string}\\b.*\\]`))
    }
  // The application template needs no IAM capability: PowerUserAccess (the default) can deploy it.
  assert.doesNotMatch(template, /AWS::IAM::/)
})
