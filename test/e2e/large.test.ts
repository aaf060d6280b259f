/**
 * A large pipeline (issue 12 item 7): 35 targets, so the pipeline template is over CloudFormation's
 * 51,200-byte TemplateBody limit and the stage `wave` (34 targets after an approval: 69 actions)
 * is over CodePipeline's 50 actions per stage. With the built CLI against a sandbox with 36 accounts:
 *  1. synth and check report both limits and what crosspipe does about each;
 *  2. deploy uploads the pipeline template to the pipeline's own artifact bucket (no
 *     --template-bucket) and creates the pipeline;
 *  3. `approve wave` approves the approval of the split stage (wave-part1).
 * Needs git.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { copyFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { cli, commit, expectExit, tempDir } from './helpers.js'

const root = tempDir('crosspipe-e2e-large-')
const dir = join(root, 'project')
const WAVE = Array.from({ length: 34 }, (_, i) => String(100000000001 + i))

before(() => {
  expectExit(cli(['init', join(root, 'example')]), 0, 'init')
  expectExit(cli(['init', dir]), 0, 'init project')
  for (const f of ['buildspec.yml', 'template.yml']) copyFileSync(join(root, 'example', f), join(dir, f))
  writeFileSync(
    join(dir, 'crosspipe.yml'),
    `name: my-app
ci:
  account: "111111111111"
  region: eu-west-1
source:
  type: codecommit
  repository: my-app
  branch: main
stages:
  - name: dev
    targets:
      - account: "222222222222"
    stack: my-app-dev
    template: template.yml
    parameters:
      Environment: dev
  - name: wave
    approval: true
    targets:
${WAVE.map((a) => `      - account: "${a}"`).join('\n')}
    stack: my-app-wave
    template: template.yml
    parameters:
      Environment: prod
`,
  )
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: dir })
  commit(dir, 'A pipeline with 35 targets')
})

after(() => {
  cli(['sandbox', 'stop'], { cwd: dir })
  rmSync(root, { recursive: true, force: true })
})

const BODY =
  /template of stack my-app-pipeline measures [\d,]+ bytes, over CloudFormation's 51,200-byte TemplateBody limit\n +→ deploy uploads it to the pipeline's artifact bucket/
const SPLIT =
  /stage wave needs 69 actions, over CodePipeline's 50 actions per stage\n +→ split into wave-part1, wave-part2, which run one after another \(the approval is in wave-part1; crosspipe approve wave approves it\)/

test('1. synth and check report every AWS limit the definition reaches', () => {
  const s = expectExit(cli(['synth'], { cwd: dir }), 0, 'synth')
  assert.match(s.stdout, /AWS limits reached\n/)
  assert.match(s.stdout, BODY)
  assert.match(s.stdout, SPLIT)
  const c = expectExit(cli(['check'], { cwd: dir }), 0, 'check')
  assert.match(c.stdout, BODY)
  assert.match(c.stdout, SPLIT)
  const j = JSON.parse(expectExit(cli(['check', '--json'], { cwd: dir }), 0, 'check --json').stdout) as {
    limits: { limit: string; subject: string }[]
  }
  assert.deepEqual(
    j.limits.map((l) => `${l.limit} ${l.subject}`),
    ['template-body-size my-app-pipeline', 'actions-per-stage wave'],
  )
})

test('2. deploy uploads the large template to the artifact bucket by itself', () => {
  const accounts = ['ci=111111111111', 'dev=222222222222', ...WAVE.map((a, i) => `w${i}=${a}`)].join(',')
  expectExit(
    cli(['sandbox', '--detach', '--port', '0', '--reset', '--accounts', accounts], { cwd: dir }),
    0,
    'sandbox',
  )
  expectExit(
    cli(['sandbox', 'repo', 'add', 'my-app', dir, '--region', 'eu-west-1'], { cwd: dir }),
    0,
    'repo add',
  )
  const r = expectExit(cli(['deploy', '--sandbox'], { cwd: dir }), 0, 'deploy')
  assert.match(
    r.stderr,
    /my-app-pipeline: template \(\d+ bytes\) uploaded to s3:\/\/my-app-ci-base-artifactbucket-[a-z0-9]+\/crosspipe\/my-app\/my-app-pipeline\/[0-9a-f]{64}\.template/,
  )
  assert.match(r.stdout, /my-app-pipeline \(111111111111 eu-west-1\): created \[CREATE_COMPLETE\]/)
  assert.match(r.stdout, /37 created/)
})

test('3. approve wave approves the approval of the split stage', () => {
  const deadline = Date.now() + 60_000
  for (;;) {
    const s = cli(['status', '--sandbox'], { cwd: dir })
    if (/waiting for approval at wave-part1 › approve/.test(s.stdout)) break
    assert.ok(Date.now() < deadline, `no approval waiting at wave-part1:\n${s.stdout}${s.stderr}`)
    execFileSync('sleep', ['1'])
  }
  const a = expectExit(cli(['approve', 'wave', '--sandbox'], { cwd: dir }), 0, 'approve wave')
  assert.match(a.stdout, /approved my-app › wave-part1 › approve/)
})
