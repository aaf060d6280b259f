/**
 * The README's quick start, exactly as written (issue 12 "Proof"): a fresh clone of this
 * repository's committed HEAD, then each `sh` block of the "Quick start" section run as it is:
 *  1. `npm ci && npx crosspipe demo`: the demo succeeds, and crosspipe was built once (item 4);
 *  2. the "your own pipeline" block, line by line in one shell: every command succeeds, deploy says
 *     which execution the new pipeline started, and status shows it.
 * It installs every dependency from the npm registry (or npm's cache) and takes minutes, so it runs
 * when CROSSPIPE_WALKTHROUGH=1 is set (.ci/run sets it). Needs git and network access to the registry.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { tempDir } from './helpers.js'

const enabled = process.env.CROSSPIPE_WALKTHROUGH === '1'
const root = resolve(import.meta.dirname, '../..')
const readme = readFileSync(join(root, 'README.md'), 'utf8')
const quick = readme.slice(
  readme.indexOf('## Quick start'),
  readme.indexOf('\n## ', readme.indexOf('## Quick start') + 5),
)
const blocks = [...quick.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.trim())
const work = enabled ? tempDir('crosspipe-e2e-readme-') : ''
const clone = join(work, 'crosspipe')
const buildLog = join(work, 'builds.log')

const env = {
  ...process.env,
  NO_COLOR: '1',
  CROSSPIPE_BUILD_LOG: buildLog,
  GIT_AUTHOR_NAME: 'crosspipe walkthrough',
  GIT_AUTHOR_EMAIL: 'walkthrough@crosspipe.invalid',
  GIT_COMMITTER_NAME: 'crosspipe walkthrough',
  GIT_COMMITTER_EMAIL: 'walkthrough@crosspipe.invalid',
}

function sh(script: string, cwd: string): { code: number; out: string } {
  const r = spawnSync('sh', ['-ec', script], { cwd, env, encoding: 'utf8', timeout: 1_800_000 })
  return { code: r.status ?? -1, out: `${r.stdout}\n--- stderr\n${r.stderr}` }
}

before(() => {
  if (!enabled) return
  execFileSync('git', ['clone', '-q', root, clone])
})

after(() => {
  if (!enabled) return
  const state = join(clone, 'my-pipeline', '.crosspipe', 'sandbox')
  if (existsSync(join(state, 'sandbox.json')))
    spawnSync(process.execPath, [join(clone, 'bin', 'crosspipe.js'), 'sandbox', 'stop', '--state', state])
  rmSync(work, { recursive: true, force: true })
})

test('the quick start has the set-up block and the "your own pipeline" block', () => {
  assert.match(blocks[0] ?? '', /^npm ci && npx crosspipe demo$/)
  assert.match(blocks[1] ?? '', /^mkdir my-pipeline && cd my-pipeline\n/)
})

test(
  '1. npm ci && npx crosspipe demo, from a fresh clone: the demo succeeds, one build',
  { skip: !enabled && 'set CROSSPIPE_WALKTHROUGH=1 (installs from the npm registry; minutes)' },
  () => {
    const r = sh(blocks[0]!, clone)
    assert.equal(r.code, 0, r.out)
    assert.match(r.out, /pipeline my-app: execution [0-9a-f-]{36} Succeeded/)
    assert.match(r.out, /stack my-app-prod CREATE_COMPLETE/)
    const builds = readFileSync(buildLog, 'utf8').trim().split('\n')
    assert.equal(builds.length, 1, `builds:\n${builds.join('\n')}`)
  },
)

test(
  '2. "your own pipeline", line by line as written',
  { skip: !enabled && 'set CROSSPIPE_WALKTHROUGH=1' },
  () => {
    const r = sh(blocks[1]!, clone)
    assert.equal(r.code, 0, r.out)
    assert.match(r.out, /wrote \d+ files to crosspipe\.out\//)
    assert.match(r.out, /✓ \d+ calls: \d+ allowed, 0 denied/)
    assert.match(r.out, /deploy succeeded in [\d.]+ s: 4 created/)
    assert.match(r.out, /note: pipeline my-app was created and started execution ([0-9a-f-]{36}) by itself/)
    assert.match(r.out, /pipeline my-app, execution [0-9a-f-]{36}: (InProgress|Succeeded)/)
    assert.match(r.out, /sandbox stopped/)
  },
)
