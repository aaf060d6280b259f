/**
 * `crosspipe demo` as a user runs it on a fresh machine (issue 7, "Proof"): the built CLI starts a
 * sandbox, deploys the init example, runs its pipeline through dev, approves prod, prints where
 * each application stack is and how long each step took, and stops the sandbox. Needs git.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { cli, tempDir } from './helpers.js'

const dir = join(tempDir('crosspipe-e2e-demo-'), 'project')
const state = join(dir, '.crosspipe', 'sandbox')

after(() => {
  // Only if the demo left it running (it should not): never leave a server behind.
  if (existsSync(state)) cli(['sandbox', 'stop', '--state', state])
  rmSync(join(dir, '..'), { recursive: true, force: true })
})

test('crosspipe demo: both application stacks CREATE_COMPLETE, the step table, the sandbox stopped', () => {
  const r = cli(['demo', '--dir', dir])
  assert.equal(r.code, 0, `demo exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`)
  assert.match(r.stdout, /pipeline my-app: execution [0-9a-f-]{36} Succeeded/)
  assert.match(r.stdout, /\n {2}dev {4}account 222222222222 eu-west-1: stack my-app-dev CREATE_COMPLETE\n/)
  assert.match(r.stdout, /\n {2}prod {3}account 333333333333 eu-west-1: stack my-app-prod CREATE_COMPLETE\n/)
  const table = r.stdout.slice(r.stdout.indexOf('\nsteps:\n'))
  for (const step of [
    'start a sandbox with ci, dev and prod accounts',
    'deploy every stack into every account',
    'run the pipeline: source, build, dev',
    'approve prod',
    'deploy prod',
    'in all',
  ])
    assert.match(table, new RegExp(`\\n +\\d+\\.\\d s {2}${step.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`))
  // The whole demo in under a minute (issue 7); the figure itself is in BENCHMARKS.md.
  const total = Number(/([\d.]+) s {2}in all/.exec(table)?.[1])
  assert.ok(total > 0 && total < 60, `demo took ${total} s`)
  // Without --keep the sandbox is stopped.
  const status = cli(['sandbox', 'status', '--state', state])
  assert.equal(status.code, 1)
  assert.match(status.stdout + status.stderr, /no sandbox is running/)
})
