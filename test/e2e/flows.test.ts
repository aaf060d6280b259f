/**
 * The README's flows as a user runs them with the built CLI against a detached sandbox (issue 12):
 * numbered steps on one project, in order.
 *  1. run/status/approve before deploy say to deploy first (item 8), without a stack trace;
 *  2. deploy says the new pipeline started an execution by itself and where it waits (item 1);
 *  3. run starts a second execution, names what it waits for (a stage held by the first, which
 *     waits for approval, with the approve command) and returns (item 1);
 *  4. the same account access for every command: `profiles:` in crosspipe.yml and --profile-map
 *     work for status, run and approve as for deploy (item 2);
 *  5. approving lets both executions finish.
 * Needs git.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { cli, commit, expectExit, tempDir } from './helpers.js'

const dir = tempDir('crosspipe-e2e-flows-')
const state = join(dir, '.crosspipe', 'sandbox')
let env: Record<string, string> = {}
let endpoint = ''

before(() => {
  expectExit(cli(['init'], { cwd: dir }), 0, 'init')
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: dir })
  commit(dir, 'The crosspipe init example')
  expectExit(cli(['sandbox', '--detach', '--port', '0', '--reset'], { cwd: dir }), 0, 'sandbox --detach')
  expectExit(
    cli(['sandbox', 'repo', 'add', 'my-app', dir, '--region', 'eu-west-1'], { cwd: dir }),
    0,
    'sandbox repo add',
  )
  const s = JSON.parse(readFileSync(join(state, 'sandbox.json'), 'utf8')) as {
    credentialsFile: string
    configFile: string
    endpoint: string
  }
  endpoint = s.endpoint
  // The sandbox's profiles (ci, dev, prod), as a user's ~/.aws files would hold them.
  env = { AWS_SHARED_CREDENTIALS_FILE: s.credentialsFile, AWS_CONFIG_FILE: s.configFile }
})

after(() => {
  cli(['sandbox', 'stop'], { cwd: dir })
  rmSync(dir, { recursive: true, force: true })
})

function noTrace(r: { stdout: string; stderr: string }): void {
  assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at .+:\d+:\d+\)?\n|internal error/)
}

const UUID = '[0-9a-f-]{36}'
let first = ''

test('1. before deploy, run, status and approve say to deploy first', () => {
  for (const args of [['run'], ['status'], ['approve', 'prod']]) {
    const r = cli([...args, '--sandbox'], { cwd: dir })
    assert.equal(r.code, 2, `${args[0]}: ${r.stdout}${r.stderr}`)
    assert.match(r.stderr, /the pipeline does not exist in account 111111111111 eu-west-1: deploy it first/)
    noTrace(r)
  }
})

test('2. deploy says the new pipeline started an execution and where it will wait', () => {
  const r = expectExit(cli(['deploy', '--sandbox'], { cwd: dir }), 0, 'deploy')
  const m = new RegExp(
    `note: pipeline my-app was created and started execution (${UUID}) by itself \\(now in stage \\w+\\); it will wait for approval at prod › approve \\(crosspipe approve my-app prod\\)`,
  ).exec(r.stdout)
  assert.ok(m, r.stdout)
  first = m[1]!
  const json = JSON.parse(
    expectExit(cli(['deploy', '--sandbox', '--json'], { cwd: dir }), 0, 'deploy --json').stdout,
  ) as { pipelinesStarted?: unknown }
  // A second deploy creates nothing, so it starts nothing and says nothing about executions.
  assert.equal(json.pipelinesStarted, undefined)
})

test('3. run names the stage it waits for, held by the first execution at its approval, and returns', () => {
  // The first execution reaches the approval in prod on its own.
  const deadline = Date.now() + 30_000
  for (;;) {
    const s = cli(['status', '--sandbox', '--execution', first], { cwd: dir })
    if (/waiting for approval at prod › approve/.test(s.stdout)) break
    assert.ok(
      Date.now() < deadline,
      `the first execution did not reach the approval:\n${s.stdout}${s.stderr}`,
    )
    execFileSync('sleep', ['0.5'])
  }
  const started = Date.now()
  const r = expectExit(cli(['run', '--sandbox'], { cwd: dir }), 0, 'run')
  assert.ok(Date.now() - started < 30_000, 'run returned')
  assert.match(
    r.stderr,
    new RegExp(
      `warning: execution ${first} already waits for approval at prod › approve \\(crosspipe approve my-app prod\\); this execution will wait behind it to enter prod`,
    ),
  )
  assert.match(
    r.stdout,
    new RegExp(
      `waiting: execution ${UUID} waits to enter stage prod, which execution ${first} holds \\(a stage runs one execution at a time\\); ${first} waits for approval at prod › approve: approve it with crosspipe approve my-app prod`,
    ),
  )
  assert.match(r.stdout, /\n {2}dev\n {4}prepare-222222222222-eu-west-1 +Succeeded/)
  const json = JSON.parse(cli(['status', '--sandbox', '--json'], { cwd: dir }).stdout) as {
    waitingForStage?: { stage: string; heldBy: string; heldAtApproval?: { stage: string } }
  }
  assert.deepEqual(json.waitingForStage, {
    stage: 'prod',
    heldBy: first,
    heldAtApproval: { stage: 'prod', action: 'approve' },
  })
})

test('4. profiles in crosspipe.yml and --profile-map work for status, run and approve', () => {
  // --profile-map naming every account of the definition, as deploy takes it.
  const map = ['--profile-map', 'ci=ci,dev=dev,prod=prod', '--endpoint-url', endpoint]
  const s = cli(['status', ...map], { cwd: dir, env })
  assert.equal(s.code, 0, s.stdout + s.stderr)
  assert.match(s.stdout, /waiting: execution .* waits to enter stage prod/)
  // A profile map with an account the definition does not use is still a typo.
  const typo = cli(['status', '--profile-map', '999999999999=ci', '--endpoint-url', endpoint], {
    cwd: dir,
    env,
  })
  assert.equal(typo.code, 2)
  assert.match(typo.stderr, /profile map names account 999999999999, which the definition does not use/)
  // profiles: in crosspipe.yml, keyed by account id.
  const yml = join(dir, 'crosspipe.yml')
  writeFileSync(
    yml,
    readFileSync(yml, 'utf8') +
      '\nprofiles:\n  "111111111111": ci\n  "222222222222": dev\n  "333333333333": prod\n',
  )
  const e = ['--endpoint-url', endpoint]
  const p = cli(['status', ...e], { cwd: dir, env })
  assert.equal(p.code, 0, p.stdout + p.stderr)
  const d = cli(['deploy', '--dry-run', ...e], { cwd: dir, env })
  assert.equal(d.code, 0, d.stdout + d.stderr)
  const a = cli(['approve', 'prod', ...e], { cwd: dir, env })
  assert.equal(a.code, 0, a.stdout + a.stderr)
  assert.match(a.stdout, /approved my-app › prod › approve/)
})

test('4b. an endpoint that is down: a message that says what to check, no stack trace', () => {
  const down = 'http://127.0.0.1:9'
  for (const args of [['status'], ['deploy']]) {
    const r = cli([...args, '--endpoint-url', down], { cwd: dir, env })
    assert.equal(r.code, 2, r.stdout + r.stderr)
    assert.match(r.stderr, /cannot reach the AWS endpoint/)
    assert.match(r.stderr, /ECONNREFUSED/)
    assert.doesNotMatch(r.stderr, /credentials are missing or wrong/)
    noTrace(r)
  }
})

test('5. after the approval both executions finish', () => {
  const deadline = Date.now() + 40_000
  for (;;) {
    const s = cli(['status', '--sandbox'], { cwd: dir })
    if (/: Succeeded\n/.test(s.stdout)) {
      const f = cli(['status', '--sandbox', '--execution', first], { cwd: dir })
      assert.match(f.stdout, /: Succeeded\n/)
      return
    }
    assert.ok(Date.now() < deadline, `the second execution did not finish:\n${s.stdout}${s.stderr}`)
    // the second execution reaches the approval in prod itself once the first has left
    if (/waiting for approval at prod/.test(s.stdout)) cli(['approve', 'prod', '--sandbox'], { cwd: dir })
    execFileSync('sleep', ['0.5'])
  }
})
