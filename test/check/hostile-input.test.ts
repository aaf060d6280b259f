// Hostile templates and definitions (issue 11, item 7): a YAML alias bomb, or values nested
// thousands deep (`Fn::Join` in `Fn::Join`…), are bad input — a typed error with where and what,
// exit code 2 from the CLI, no stack trace — never a stack overflow, a hang or a crash.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkManifestFile } from '../../src/check/index.js'
import { CrosspipeError, formatError } from '../../src/model/errors.js'
import { MAX_TEMPLATE_DEPTH, parseTemplate } from '../../src/model/cfn-yaml.js'
import { cli } from '../cli/helpers.js'
import { fixtures } from './helpers.js'

/** Nine anchors, each a list of ten aliases of the one before: 10^8 values once expanded. */
function aliasBomb(indent: string): string {
  const lines = [`${indent}l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]`]
  for (let i = 1; i < 9; i++)
    lines.push(
      `${indent}l${i}: &l${i} [${Array(10)
        .fill(`*l${i - 1}`)
        .join(',')}]`,
    )
  return lines.join('\n')
}

/** `!Join ['', [!Join ['', [ … 'x' … ]]]]`, `depth` functions deep, in the short form. */
function deepJoin(depth: number): string {
  let v = "'x'"
  for (let i = 0; i < depth; i++) v = `!Join ['', [${v}]]`
  return v
}

const ROLES_LINE = 'Roles: [!Ref CrossAccountRole]'

const CASES: { name: string; edit: (text: string) => string; message: RegExp; line?: number }[] = [
  {
    name: 'Fn::Join nested 2,000 deep (short form)',
    edit: (t) => t.replace(ROLES_LINE, `Roles: [${deepJoin(2000)}]`),
    message: new RegExp(`nested more than ${MAX_TEMPLATE_DEPTH} levels deep`),
    line: 42,
  },
  {
    name: 'Fn::Join nested 2,000 deep (long form, JSON flow)',
    edit: (t) => {
      let v = '"x"'
      for (let i = 0; i < 2000; i++) v = `{"Fn::Join": ["", [${v}]]}`
      return t.replace(ROLES_LINE, `Roles: [${v}]`)
    },
    message: new RegExp(`nested more than ${MAX_TEMPLATE_DEPTH} levels deep`),
    line: 42,
  },
  {
    name: 'mappings nested 150 deep by indentation (no brackets)',
    edit: (t) => {
      const lines = ['Metadata:']
      for (let i = 0; i < 150; i++) lines.push(`${' '.repeat(2 * (i + 1))}k${i}:`)
      lines.push(`${' '.repeat(302)}x`)
      return t.replace('Conditions:\n', `${lines.join('\n')}\nConditions:\n`)
    },
    message: new RegExp(`nested more than ${MAX_TEMPLATE_DEPTH} levels deep`),
  },
  {
    name: 'YAML alias bomb',
    edit: (t) => t.replace('Conditions:\n', `Metadata:\n${aliasBomb('  ')}\nConditions:\n`),
    message: /the YAML cannot be read: Excessive alias count/,
  },
]

for (const c of CASES) {
  test(`hostile template: ${c.name}`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crosspipe-hostile-'))
    try {
      cpSync(join(fixtures, 'good'), dir, { recursive: true })
      const file = join(dir, 'target-roles.yaml')
      const text = readFileSync(file, 'utf8')
      const edited = c.edit(text)
      assert.notEqual(edited, text, 'the case changed the template')
      writeFileSync(file, edited)
      await assert.rejects(checkManifestFile(join(dir, 'manifest.json')), (e: unknown) => {
        assert.ok(e instanceof CrosspipeError, `a CrosspipeError, not ${String(e)}`)
        assert.equal(e.code, 'invalid-template', formatError(e))
        assert.match(formatError(e), c.message)
        const loc = e.problems[0]?.location
        assert.ok(loc?.file?.endsWith('target-roles.yaml'), formatError(e))
        if (c.line) assert.equal(loc?.line, c.line, formatError(e))
        return true
      })
      // The CLI as a user runs it: exit 2, the message, no stack trace.
      const r = cli(['check', '-m', join(dir, 'manifest.json')])
      assert.equal(r.code, 2, r.stderr)
      assert.match(r.stderr, c.message)
      assert.doesNotMatch(r.stderr, /\n\s+at /)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
}

test('hostile pipeline definitions: alias bomb and deep nesting exit 2 with the place', () => {
  const dir = mkdtempSync(join(tmpdir(), 'crosspipe-hostile-'))
  try {
    assert.equal(cli(['init'], { cwd: dir }).code, 0)
    const def = readFileSync(join(dir, 'crosspipe.yml'), 'utf8')
    writeFileSync(join(dir, 'bomb.yml'), `${aliasBomb('')}\n${def}`)
    let deep = '"x"'
    for (let i = 0; i < 3000; i++) deep = `[${deep}]`
    writeFileSync(join(dir, 'deep.yml'), `${def}\nextra: ${deep}\n`)
    const bomb = cli(['check', '-c', 'bomb.yml'], { cwd: dir })
    assert.equal(bomb.code, 2, bomb.stderr)
    assert.match(bomb.stderr, /bomb\.yml:1:1: the YAML cannot be read: excessive alias count/)
    const nested = cli(['check', '-c', 'deep.yml'], { cwd: dir })
    assert.equal(nested.code, 2, nested.stderr)
    assert.match(
      nested.stderr,
      new RegExp(
        `deep\\.yml:\\d+:\\d+: lists and mappings are nested more than ${MAX_TEMPLATE_DEPTH} levels deep`,
      ),
    )
    for (const r of [bomb, nested]) assert.doesNotMatch(r.stderr, /\n\s+at /)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('the depth limit leaves room: 30 nested Fn::Join (94 levels) still parse', () => {
  const t = parseTemplate(
    `Resources:\n  R:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: ${deepJoin(30)}\n`,
    't.yaml',
  )
  assert.ok(t.body.Resources)
  // Brackets in quoted text and comments do not count.
  const quoted = `Description: '${'['.repeat(500)}'\n# ${'{'.repeat(500)}\nResources:\n  R:\n    Type: AWS::S3::Bucket\n`
  assert.equal(parseTemplate(quoted, 'q.yaml').body.Description, '['.repeat(500))
})
