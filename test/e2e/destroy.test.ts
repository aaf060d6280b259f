/**
 * destroy cleans up what the pipeline deployed (issue 12 item 3), with the built CLI against a
 * sandbox left running by `crosspipe demo --keep` (the pipeline has deployed my-app-dev and
 * my-app-prod):
 *  1. the plan lists the application stacks first, each with its deployment role;
 *     --keep-app-stacks leaves them out;
 *  2. the prompt names them (on a terminal, through script(1)); answering no deletes nothing;
 *  3. destroy --yes deletes them first, through the deployment role, then crosspipe's stacks, and
 *     no stack is left in any account.
 * Needs git; step 2 needs script(1) (util-linux) and says so when it is missing.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { BIN } from '../cli/helpers.js'
import { cli, expectExit, tempDir } from './helpers.js'

const root = tempDir('crosspipe-e2e-destroy-')
const dir = join(root, 'project')
const state = join(dir, '.crosspipe', 'sandbox')
const APP_ROLE = {
  'my-app-dev': 'arn:aws:iam::222222222222:role/my-app-dev-cfn-eu-west-1',
  'my-app-prod': 'arn:aws:iam::333333333333:role/my-app-prod-cfn-eu-west-1',
}

before(() => {
  expectExit(cli(['demo', '--dir', dir, '--keep']), 0, 'demo --keep')
})

after(() => {
  cli(['sandbox', 'stop', '--state', state])
  rmSync(root, { recursive: true, force: true })
})

test('1. the destroy plan deletes the application stacks first, with their deployment roles', () => {
  const r = expectExit(cli(['destroy', '--sandbox', '--dry-run'], { cwd: dir }), 0, 'destroy --dry-run')
  const plan = r.stderr
  const appPhase = plan.indexOf('phase 4: application stacks the pipeline deployed')
  assert.ok(appPhase > 0, plan)
  for (const [stack, role] of Object.entries(APP_ROLE)) {
    const line = new RegExp(
      `- delete +${stack} .*application stack of stage \\w+, deleted with its deployment role ${role}`,
    )
    assert.match(plan, line)
    assert.ok(plan.search(line) > appPhase && plan.search(line) < plan.indexOf('phase 3'))
  }
  const kept = expectExit(
    cli(['destroy', '--sandbox', '--dry-run', '--keep-app-stacks'], { cwd: dir }),
    0,
    'destroy --dry-run --keep-app-stacks',
  )
  assert.doesNotMatch(kept.stderr + kept.stdout, /my-app-dev|application stack/)
})

test('2. the prompt names the application stacks; no deletes nothing', (t) => {
  if (spawnSync('script', ['--version']).status !== 0) {
    t.skip('script(1) is not installed here: the prompt needs a terminal (CI has util-linux)')
    return
  }
  const r = spawnSync(
    'script',
    ['-qec', `${process.execPath} ${BIN} destroy --sandbox --no-color`, '/dev/null'],
    { cwd: dir, input: 'n\n', encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } },
  )
  const out = r.stdout + r.stderr
  assert.match(
    out,
    /Delete 4 stack\(s\) of "my-app" in account\(s\) 111111111111, 222222222222, 333333333333, first the application stack\(s\) my-app-dev \(222222222222 eu-west-1\), my-app-prod \(333333333333 eu-west-1\) the pipeline deployed \(--keep-app-stacks leaves them\)\? \[y\/N\]/,
  )
  assert.match(out, /not confirmed; nothing was deleted/)
  const still = expectExit(cli(['destroy', '--sandbox', '--dry-run'], { cwd: dir }), 0, 'dry run')
  assert.match(still.stdout, /6 planned/)
})

test('3. destroy --yes deletes the application stacks first, then every stack; nothing is left', () => {
  const r = expectExit(cli(['destroy', '--sandbox', '--yes'], { cwd: dir }), 0, 'destroy --yes')
  assert.match(r.stdout, /destroy succeeded in [\d.]+ s: 6 deleted/)
  const order = [
    'my-app-dev',
    'my-app-prod',
    'my-app-pipeline',
    'my-app-target-222222222222',
    'my-app-ci-base',
  ]
  const at = order.map((s) => r.stdout.indexOf(`  ${s}`))
  assert.deepEqual(
    [...at].sort((a, b) => a - b),
    at,
    `summary order ${order.join(', ')}:\n${r.stdout}`,
  )
  for (const s of order) assert.match(r.stdout, new RegExp(`${s}[^\\n]*: deleted \\[DELETE_COMPLETE\\]`))
  // Nothing left: every stack, application stacks included, no longer exists.
  const after = expectExit(cli(['destroy', '--sandbox', '--dry-run'], { cwd: dir }), 0, 'dry run after')
  assert.match(after.stdout, /6 no-change/)
  assert.match(after.stderr, /the application stack of stage dev does not exist/)
})
