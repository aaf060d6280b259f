import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { cli, tempDir } from './helpers.js'

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string
}

test('--version and --help', () => {
  const v = cli(['--version'])
  assert.equal(v.code, 0)
  assert.equal(v.stdout.trim(), pkg.version)
  const h = cli(['--help'])
  assert.equal(h.code, 0)
  for (const c of ['init', 'synth', 'check', 'deploy', 'sandbox'])
    assert.match(h.stdout, new RegExp(`\\n  ${c} `))
  const sh = cli(['synth', '--help'])
  assert.equal(sh.code, 0)
  assert.match(sh.stdout, /--output DIR/)
  assert.match(sh.stdout, /--format yaml\|json/)
})

test('usage errors exit 2 with a suggestion and no stack trace', () => {
  const unknownCmd = cli(['synht'])
  assert.equal(unknownCmd.code, 2)
  assert.match(unknownCmd.stderr, /unknown command "synht" \(did you mean "synth"\?\)/)
  const unknownOpt = cli(['synth', '--ouput', 'x'])
  assert.equal(unknownOpt.code, 2)
  assert.match(unknownOpt.stderr, /unknown option --ouput \(did you mean --output\?\)/)
  const badFormat = cli(['synth', '--format', 'xml'])
  assert.equal(badFormat.code, 2)
  assert.match(badFormat.stderr, /--format must be "yaml" or "json"/)
  for (const r of [unknownCmd, unknownOpt, badFormat]) assert.doesNotMatch(r.stderr, /\n\s+at /)
})

test('init, synth and check work on the example as a new user runs them', () => {
  const dir = tempDir()
  const init = cli(['init'], { cwd: dir })
  assert.equal(init.code, 0, init.stderr)
  for (const f of ['crosspipe.yml', 'template.yml', 'buildspec.yml', 'crosspipe.schema.json']) {
    assert.ok(existsSync(join(dir, f)), f)
  }
  assert.match(
    readFileSync(join(dir, 'crosspipe.yml'), 'utf8'),
    /yaml-language-server: \$schema=\.\/crosspipe\.schema\.json/,
  )

  const again = cli(['init'], { cwd: dir })
  assert.equal(again.code, 2, 'init never overwrites without --force')
  assert.match(again.stderr, /already exist/)

  const synth = cli(['synth'], { cwd: dir })
  assert.equal(synth.code, 0, synth.stderr)
  const out = join(dir, 'crosspipe.out')
  const files = readdirSync(out).sort()
  assert.ok(files.includes('manifest.json'))
  assert.ok(files.filter((f) => f.endsWith('.template.yaml')).length >= 3, files.join(','))
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'))
  assert.equal(manifest.version, 1)

  const first = Object.fromEntries(files.map((f) => [f, readFileSync(join(out, f), 'utf8')]))
  const times = Object.fromEntries(files.map((f) => [f, statSync(join(out, f)).mtimeMs]))
  const resynth = cli(['synth'], { cwd: dir })
  assert.equal(resynth.code, 0)
  assert.match(resynth.stdout, /crosspipe\.out\/ already holds these \d+ files: nothing written/)
  for (const f of files) {
    assert.equal(readFileSync(join(out, f), 'utf8'), first[f], `${f} is byte-identical on re-synth`)
    assert.equal(statSync(join(out, f)).mtimeMs, times[f], `${f} was not written again`)
  }
  // A changed file, or one the synthesis does not make, and the directory is replaced whole.
  writeFileSync(join(out, 'manifest.json'), '{}')
  writeFileSync(join(out, 'stray.txt'), 'left by hand')
  const repaired = cli(['synth'], { cwd: dir })
  assert.match(repaired.stdout, /wrote \d+ files to crosspipe\.out\//)
  assert.deepEqual(readdirSync(out).sort(), files)
  assert.equal(readFileSync(join(out, 'manifest.json'), 'utf8'), first['manifest.json'])
  writeFileSync(join(out, 'stray.txt'), 'left by hand')
  assert.match(cli(['synth'], { cwd: dir }).stdout, /wrote \d+ files/)
  assert.deepEqual(readdirSync(out).sort(), files, 'an extra file alone makes the directory differ')

  const json = cli(['synth', '--format', 'json', '-o', 'json-out', '--json'], { cwd: dir })
  assert.equal(json.code, 0, json.stderr)
  assert.equal(JSON.parse(json.stdout).ok, true)
  assert.ok(readdirSync(join(dir, 'json-out')).some((f) => f.endsWith('.template.json')))

  const check = cli(['check'], { cwd: dir })
  assert.equal(check.code, 0, check.stdout + check.stderr)
  const checkJson = cli(['check', '--json'], { cwd: dir })
  assert.equal(checkJson.code, 0)
  const r = JSON.parse(checkJson.stdout)
  assert.equal(r.ok, true)
  assert.ok(r.calls.length > 0)
  assert.ok(r.calls.every((c: { decision: string }) => c.decision === 'Allowed'))
})

test('a bad definition: exit 2, file:line:column, nothing written', () => {
  const dir = tempDir()
  assert.equal(cli(['init'], { cwd: dir }).code, 0)
  const path = join(dir, 'crosspipe.yml')
  const text = readFileSync(path, 'utf8').replace(/account: "222222222222"/, 'account: 022222222222')
  assert.notEqual(text, readFileSync(path, 'utf8'), 'the example has the dev account quoted')
  writeFileSync(path, text)
  const r = cli(['synth'], { cwd: dir })
  assert.equal(r.code, 2)
  assert.match(r.stderr, /crosspipe\.yml:\d+:\d+/)
  assert.match(r.stderr, /quote/i)
  assert.doesNotMatch(r.stderr, /\n\s+at /)
  assert.equal(existsSync(join(dir, 'crosspipe.out')), false, 'nothing written')
  const j = cli(['synth', '--json'], { cwd: dir })
  assert.equal(j.code, 2)
  assert.equal(JSON.parse(j.stdout).error.code, 'invalid-definition')
})

test('a missing definition says how to get one', () => {
  const dir = tempDir()
  const r = cli(['synth'], { cwd: dir })
  assert.equal(r.code, 2)
  assert.match(r.stderr, /crosspipe\.yml/)
  assert.match(r.stderr, /crosspipe init/)
})

test('deploy without a way to reach the accounts says how, and changes nothing', () => {
  const dir = tempDir()
  assert.equal(cli(['init'], { cwd: dir }).code, 0)
  const r = cli(['deploy'], { cwd: dir })
  assert.equal(r.code, 2)
  assert.match(r.stderr, /--profile-map .*--assume-role .*--sandbox/)
  const s = cli(['deploy', '--sandbox'], { cwd: dir })
  assert.equal(s.code, 2)
  assert.match(s.stderr, /no sandbox is running from .*crosspipe sandbox --detach/)
})
