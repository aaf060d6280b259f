/**
 * Start-up (issue 12 item 5): `crosspipe` loads only what the command it runs uses. The built CLI
 * runs with a module-load recorder (a loader hook); the modules each command loaded are
 * compared with what it must not load. The command table that defers loading agrees with the
 * commands themselves.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
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

/** The module URLs `crosspipe ...args` loads. */
function loads(args: readonly string[], cwd: string): string[] {
  const file = join(cwd, `loads-${args[0]}.txt`)
  writeFileSync(file, '')
  const r = spawnSync(process.execPath, ['--import', RECORDER, BIN, ...args], {
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

test('the command table names and summarizes each command as the command does', () => {
  assert.deepEqual(
    COMMAND_TABLE.map((c) => [c.name, c.summary]),
    COMMANDS.map((c) => [c.name, c.summary]),
  )
})

test('each entry of the command table loads its command', async () => {
  for (const e of COMMAND_TABLE) assert.equal((await e.load()).name, e.name)
})
