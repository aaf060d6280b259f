/**
 * Start-up (issue 12 item 5): `crosspipe` loads only what the command it runs uses. The built CLI
 * runs with a module-load recorder (a loader hook); the modules each command loaded are
 * compared with what it must not load. The command table that defers loading agrees with the
 * commands themselves.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { isBuiltin } from 'node:module'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { COMMANDS } from '../../src/cli/commands/index.js'
import { COMMAND_TABLE } from '../../src/cli/commands/table.js'
import { BIN, tempDir } from './helpers.js'

/**
 * Preloaded with `node --import`: a module hook that appends the URL of every module the process
 * loads to the file named by CROSSPIPE_RECORD_LOADS.
 */
const HOOK = `import { appendFileSync } from 'node:fs'
export async function load(url, context, next) { appendFileSync(process.env.CROSSPIPE_RECORD_LOADS, url + '\\n'); return next(url, context) }`
const RECORDER =
  'data:text/javascript,' +
  encodeURIComponent(
    `import { register } from 'node:module'; register(${JSON.stringify('data:text/javascript,' + encodeURIComponent(HOOK))})`,
  )

/** dist/src: the per-file build, where each source module is its own file (and URL). */
const PER_FILE_MAIN = pathToFileURL(join(import.meta.dirname, '../../dist/src/cli/main.js')).href

/**
 * The module URLs `crosspipe ...args` loads: through the per-file build by default (so each
 * source module shows), or the bundled CLI as users run it (`bin`).
 */
function loads(args: readonly string[], cwd: string, via: 'per-file' | 'bin' = 'per-file'): string[] {
  const file = join(cwd, `loads-${args[0]}-${via}.txt`)
  writeFileSync(file, '')
  const run =
    via === 'bin'
      ? [BIN, ...args]
      : [
          '--input-type=module',
          '-e',
          `const { main } = await import(${JSON.stringify(PER_FILE_MAIN)}); process.exitCode = await main(${JSON.stringify(args)})`,
        ]
  const r = spawnSync(process.execPath, ['--import', RECORDER, ...run], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, CROSSPIPE_RECORD_LOADS: file, NO_COLOR: '1' },
  })
  assert.equal(r.status, 0, `${args.join(' ')}: ${r.stdout}${r.stderr}`)
  return readFileSync(file, 'utf8').split('\n').filter(Boolean)
}

const SDK = /\/node_modules\/@(aws-sdk|smithy)\//
const SANDBOX = /\/dist\/src\/sandbox\/|\/node_modules\/better-sqlite3\//

test('--version loads the CLI core only: no command, no SDK, no zod, no yaml', () => {
  const dir = tempDir()
  try {
    const urls = loads(['--version'], dir)
    assert.ok(
      urls.some((u) => u.endsWith('/dist/src/cli/main.js')),
      urls.join('\n'),
    )
    for (const bad of [SDK, SANDBOX, /\/node_modules\/(zod|yaml)\//, /\/dist\/src\/cli\/commands\/(?!table)/])
      assert.deepEqual(
        urls.filter((u) => bad.test(u)),
        [],
        `--version loaded ${bad}`,
      )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('synth and check load neither the AWS SDK, the sandbox nor the other commands', () => {
  const dir = tempDir()
  try {
    assert.equal(spawnSync(process.execPath, [BIN, 'init'], { cwd: dir }).status, 0)
    for (const cmd of ['synth', 'check']) {
      const urls = loads([cmd], dir)
      assert.ok(urls.some((u) => u.endsWith(`/dist/src/cli/commands/${cmd}.js`)))
      for (const bad of [
        SDK,
        SANDBOX,
        /\/dist\/src\/(deploy|aws\/access)/,
        /commands\/(deploy|sandbox|demo|pipeline)\.js/,
      ])
        assert.deepEqual(
          urls.filter((u) => bad.test(u)),
          [],
          `${cmd} loaded ${bad}`,
        )
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('the bundled CLI: --version and synth load only the bundle (no AWS SDK, no sqlite)', () => {
  const dir = tempDir()
  try {
    const version = loads(['--version'], dir, 'bin')
    assert.ok(
      version.some((u) => u.endsWith('/dist/cli/main.js')),
      version.join('\n'),
    )
    assert.deepEqual(
      version.filter((u) => /\/node_modules\//.test(u)),
      [],
      'the bundled --version loads nothing from node_modules',
    )
    assert.equal(spawnSync(process.execPath, [BIN, 'init'], { cwd: dir }).status, 0)
    const synth = loads(['synth'], dir, 'bin')
    // zod and yaml are in the bundle; the AWS SDK and sqlite, left in node_modules, are not loaded.
    assert.deepEqual(
      synth.filter((u) => /\/node_modules\//.test(u)),
      [],
      'the bundled synth loads nothing from node_modules',
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

/** Preloaded with `node --require`: records every CommonJS module loaded (the fast bundles' requires). */
const CJS_RECORDER = `const M = require('node:module'); const fs = require('node:fs'); const load = M._load
M._load = function (request, parent, isMain) { const r = load.apply(this, arguments); try { fs.appendFileSync(process.env.CROSSPIPE_RECORD_LOADS, M._resolveFilename(request, parent, isMain) + '\\n') } catch {} return r }`

test('synth and check start from their own bundle, and V8 accepts its code cache', () => {
  const dir = tempDir()
  try {
    assert.equal(spawnSync(process.execPath, [BIN, 'init'], { cwd: dir }).status, 0)
    const recorder = join(dir, 'record-cjs.cjs')
    writeFileSync(recorder, CJS_RECORDER)
    for (const cmd of ['synth', 'check']) {
      const file = join(dir, `loads-${cmd}-cjs.txt`)
      writeFileSync(file, '')
      const r = spawnSync(process.execPath, ['--require', recorder, BIN, cmd], {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, CROSSPIPE_START_CACHE: 'report', CROSSPIPE_RECORD_LOADS: file, NO_COLOR: '1' },
      })
      assert.equal(r.status, 0, r.stdout + r.stderr)
      assert.match(r.stderr, new RegExp(`crosspipe start: ${cmd}\\.fast\\.cjs, code cache accepted`))
      // Node's built-ins only: the AWS SDK and sqlite stay unloaded, as in the ES module CLI.
      const loaded = readFileSync(file, 'utf8').split('\n').filter(Boolean)
      assert.deepEqual(
        loaded.filter((f) => !isBuiltin(f)),
        [],
        `${cmd} loaded ${loaded.join(', ')}`,
      )
    }
    // Other commands run the ES module CLI.
    const other = spawnSync(process.execPath, [BIN, '--version'], {
      encoding: 'utf8',
      env: { ...process.env, CROSSPIPE_START_CACHE: 'report' },
    })
    assert.equal(other.stderr, '')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('the fast bundles write and print what the ES module CLI does', () => {
  const dir = tempDir()
  try {
    assert.equal(spawnSync(process.execPath, [BIN, 'init'], { cwd: dir }).status, 0)
    const esm = pathToFileURL(join(import.meta.dirname, '../../dist/cli/main.js')).href
    const viaEsm = (args: readonly string[]) =>
      spawnSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const { main } = await import(${JSON.stringify(esm)}); process.exitCode = await main(${JSON.stringify(args)})`,
        ],
        { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } },
      )
    const viaBin = (args: readonly string[]) =>
      spawnSync(process.execPath, [BIN, ...args], {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1' },
      })
    for (const args of [
      ['synth', '-o', 'a'],
      ['check'],
      ['check', '--json'],
      ['synth', '-c', 'missing.yml'],
    ]) {
      const a = viaBin(args)
      const b = viaEsm(args[0] === 'synth' && args[1] === '-o' ? ['synth', '-o', 'b'] : args)
      assert.equal(a.status, b.status, `${args.join(' ')}: ${a.stderr}${b.stderr}`)
      assert.equal(a.stdout.replaceAll('a/', 'b/'), b.stdout, args.join(' '))
      assert.equal(a.stderr, b.stderr, args.join(' '))
    }
    for (const f of readdirSync(join(dir, 'a')))
      assert.equal(readFileSync(join(dir, 'a', f), 'utf8'), readFileSync(join(dir, 'b', f), 'utf8'), f)
    assert.deepEqual(readdirSync(join(dir, 'a')), readdirSync(join(dir, 'b')))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('the command table names and summarizes each command as the command does', () => {
  assert.deepEqual(
    COMMAND_TABLE.map((c) => [c.name, c.summary]),
    COMMANDS.map((c) => [c.name, c.summary]),
  )
})

test('each entry of the command table loads its command', async () => {
  for (const e of COMMAND_TABLE) assert.equal((await e.load()).name, e.name)
})
