/**
 * Messages and output of the built CLI (issue 12 items 6 and 8), each as a user meets it:
 *  1. a `type: connection` source deployed to the sandbox is refused before anything is deployed;
 *  2. output piped into `head`: no EPIPE, no stack trace;
 *  3. check ends with the failures repeated, --failures shows only them, --json with --sarif is
 *     a usage error;
 *  4. a dry-run plan lists the resources that would change, in text;
 *  5. demo --json prints one JSON document.
 * Needs git and sh.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { BIN } from '../cli/helpers.js'
import { cli, edit, expectExit, tempDir } from './helpers.js'

const dir = tempDir('crosspipe-e2e-messages-')

before(() => {
  expectExit(cli(['init'], { cwd: dir }), 0, 'init')
})

after(() => {
  cli(['sandbox', 'stop'], { cwd: dir })
  rmSync(dir, { recursive: true, force: true })
})

function noTrace(s: string): void {
  assert.doesNotMatch(s, /\n\s+at .+:\d+:\d+\)?\n|internal error|EPIPE/)
}

test('1. a connection source is refused for the sandbox before anything is deployed', () => {
  const conn = join(dir, 'conn')
  expectExit(cli(['init', conn]), 0, 'init')
  edit(
    join(conn, 'crosspipe.yml'),
    /source:\n {2}type: codecommit\n {2}repository: my-app\n {2}branch: main\n/,
    'source:\n  type: connection\n  connectionArn: arn:aws:codeconnections:eu-west-1:111111111111:connection/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab\n  repository: acme/shop\n  branch: main\n',
  )
  expectExit(cli(['synth'], { cwd: conn }), 0, 'synth')
  expectExit(cli(['sandbox', '--detach', '--port', '0', '--reset'], { cwd: conn }), 0, 'sandbox')
  try {
    const r = cli(['deploy', '--sandbox'], { cwd: conn })
    assert.equal(r.code, 2, r.stdout + r.stderr)
    assert.match(r.stderr, /the sandbox does not serve CodeConnections.*nothing was deployed/)
    assert.match(r.stderr, /my-app-pipeline\.template\.yaml: has a CodeStarSourceConnection source action/)
    // The same through a manifest.
    const m = cli(['deploy', '--sandbox', '-m', 'crosspipe.out/manifest.json'], { cwd: conn })
    assert.equal(m.code, 2)
    // Nothing was deployed: every stack still does not exist.
    const plan = expectExit(cli(['destroy', '--sandbox', '--dry-run'], { cwd: conn }), 0, 'destroy --dry-run')
    assert.match(plan.stdout, /6 no-change/)
  } finally {
    cli(['sandbox', 'stop'], { cwd: conn })
  }
})

test('2. output piped into head: the first lines, no EPIPE and no stack trace', () => {
  // A definition with many targets, so that check writes far more than a pipe buffer holds.
  const big = join(dir, 'big.yml')
  const targets = Array.from({ length: 40 }, (_, i) => `      - account: "${100000000001 + i}"`).join('\n')
  writeFileSync(
    big,
    readFileSync(join(dir, 'crosspipe.yml'), 'utf8').replace(
      /targets:\n {6}- account: "333333333333"\n {8}region: eu-west-1\n/,
      `targets:\n${targets}\n`,
    ),
  )
  for (const cmd of [`check -c ${big}`, `check -c ${big} --json`, '--help']) {
    const r = spawnSync(
      'sh',
      ['-c', `"${process.execPath}" "${BIN}" ${cmd} 2>err.txt | head -2; cat err.txt`],
      {
        cwd: dir,
        encoding: 'utf8',
      },
    )
    assert.equal(r.stdout.split('\n').length >= 2, true, r.stdout)
    noTrace(r.stdout + r.stderr)
  }
})

test('3. check repeats the failures at the end; --failures shows only them; --json --sarif is refused', () => {
  const bad = join(dir, 'bad')
  expectExit(cli(['init', bad]), 0, 'init')
  expectExit(cli(['synth'], { cwd: bad }), 0, 'synth')
  // The dev role removed from the artifact key policy (README's example of a denied call).
  const file = join(bad, 'crosspipe.out', 'my-app-ci-base.template.yaml')
  const role =
    '                  - !Sub arn:${AWS::Partition}:iam::222222222222:role/my-app-cross-account-eu-west-1\n'
  const text = readFileSync(file, 'utf8')
  const at = text.indexOf(role, text.indexOf('Sid: DecryptArtifacts'))
  assert.ok(at > 0)
  writeFileSync(file, text.slice(0, at) + text.slice(at + role.length))
  const r = cli(['check', '-m', 'crosspipe.out/manifest.json'], { cwd: bad })
  assert.equal(r.code, 1)
  const tail = r.stdout.slice(r.stdout.lastIndexOf('\nFailures ('))
  assert.match(
    tail,
    /^\nFailures \(\d+\), as above:\n {2}✗ dev › \S+: arn:aws:iam::222222222222:role\/my-app-cross-account-eu-west-1 kms:Decrypt /,
  )
  assert.match(tail, /\n✗ \d+ calls: \d+ allowed, [1-9]\d* denied; .*\n$/)
  const f = cli(['check', '-m', 'crosspipe.out/manifest.json', '--failures'], { cwd: bad })
  assert.equal(f.code, 1)
  assert.doesNotMatch(f.stdout, /✓/)
  assert.match(f.stdout, /✗ my-app-cross-account-eu-west-1@222222222222 kms:Decrypt/)
  assert.match(f.stdout, /\n {8}fix( \(verified[^)]*\))?:\n/)
  assert.match(f.stdout, /\n✗ \d+ calls: \d+ allowed, [1-9]\d* denied; .*\n$/)
  const both = cli(['check', '--json', '--sarif'], { cwd: bad })
  assert.equal(both.code, 2)
  assert.match(both.stdout, /--json and --sarif are two formats of the same result; give one of them/)
})

test('4. a dry-run plan lists the resources that would change, in text', () => {
  const r = cli(['deploy', '--dry-run', '--sandbox'], { cwd: dir })
  // No sandbox runs here: start one for the plan (nothing is changed by a dry run).
  if (r.code !== 0)
    expectExit(cli(['sandbox', '--detach', '--port', '0', '--reset'], { cwd: dir }), 0, 'sandbox')
  const plan = expectExit(cli(['deploy', '--dry-run', '--sandbox'], { cwd: dir }), 0, 'deploy --dry-run')
  assert.match(
    plan.stdout,
    /my-app-ci-base \(111111111111 eu-west-1\): planned[^\n]*\n {4}\+ Add {4}ArtifactKey \(AWS::KMS::Key\)\n/,
  )
  assert.match(plan.stdout, /\n {4}\+ Add {4}Pipeline \(AWS::CodePipeline::Pipeline\)\n/)
})

test('5. demo --json prints one JSON document and nothing else on stdout', () => {
  const d = join(dir, 'demo')
  const r = cli(['demo', '--json', '--dir', d])
  assert.equal(r.code, 0, r.stdout + r.stderr)
  const j = JSON.parse(r.stdout) as {
    ok: boolean
    status: string
    stacks: { stack: string; status: string }[]
    steps: { step: string; ms: number }[]
  }
  assert.equal(j.ok, true)
  assert.equal(j.status, 'Succeeded')
  assert.deepEqual(
    j.stacks.map((s) => `${s.stack} ${s.status}`),
    ['my-app-dev CREATE_COMPLETE', 'my-app-prod CREATE_COMPLETE'],
  )
  assert.ok(j.steps.length >= 5)
  assert.equal(existsSync(join(d, '.crosspipe', 'sandbox', 'sandbox.json')), false)
})
