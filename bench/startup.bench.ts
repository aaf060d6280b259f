/**
 * Start-up (issue 12 item 5): whole processes, side by side in one run, sizes taking turns.
 * - bare `node -e ''` (the floor), `crosspipe --version`, `crosspipe --help`;
 * - `crosspipe synth` of 50 targets (one dev target, 49 behind an approval, two regions);
 * - `cdk synth` of the same 50 targets with aws-cdk-lib's `pipelines` module (CodePipeline with
 *   cross-account keys, one stage per target account), what a CDK user runs instead.
 * Target: crosspipe synth ≥ 30× faster than cdk synth on 50 targets.
 *
 * The CDK is not a dependency of crosspipe (190 MB that every `npm ci` would install): the
 * versions below, pinned exactly, are installed once into node_modules/.cache/crosspipe-bench-cdk
 * with npm.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import type { BenchRun } from './types.js'
import { median } from './types.js'

/** aws-cdk-lib 2.x and the aws-cdk CLI, the latest on the registry when this bench was written. */
export const CDK_VERSIONS = { 'aws-cdk-lib': '2.276.0', 'aws-cdk': '2.1148.1', constructs: '10.8.1' } as const

const root = resolve(import.meta.dirname, '..')
const cli = join(root, 'bin', 'crosspipe.js')
const cdkHome = join(root, 'node_modules', '.cache', 'crosspipe-bench-cdk')
const hasTime = existsSync('/usr/bin/time')
const TARGETS = 50

function account(i: number): string {
  return String(100000000000 + i)
}

/** The crosspipe definition: one dev target, the other 49 behind an approval, over two regions. */
function definition(): string {
  const prod = Array.from(
    { length: TARGETS - 1 },
    (_, i) =>
      `      - account: "${account(i + 1)}"\n        region: ${i % 3 === 1 ? 'us-east-1' : 'eu-west-1'}`,
  ).join('\n')
  return `name: bench
ci:
  account: "111111111111"
  region: eu-west-1
source:
  type: codecommit
  repository: bench
  branch: main
stages:
  - name: dev
    targets:
      - account: "${account(0)}"
    stack: bench-dev
  - name: prod
    approval: true
    targets:
${prod}
    stack: bench-prod
`
}

/** The same pipeline as a CDK app: CDK pipelines, one Stage (an application stack) per target. */
function cdkApp(): string {
  return `import { App, Stack, Stage } from 'aws-cdk-lib'
import { Repository } from 'aws-cdk-lib/aws-codecommit'
import { Bucket } from 'aws-cdk-lib/aws-s3'
import { CodePipeline, CodePipelineSource, ManualApprovalStep, ShellStep } from 'aws-cdk-lib/pipelines'
const app = new App()
const tools = new Stack(app, 'bench-pipeline', { env: { account: '111111111111', region: 'eu-west-1' } })
const pipeline = new CodePipeline(tools, 'Pipeline', {
  crossAccountKeys: true,
  synth: new ShellStep('Synth', {
    input: CodePipelineSource.codeCommit(Repository.fromRepositoryName(tools, 'Repo', 'bench'), 'main'),
    commands: ['npm ci', 'npx cdk synth'],
  }),
})
class Target extends Stage {
  constructor(scope, id, props) {
    super(scope, id, props)
    new Bucket(new Stack(this, 'App'), 'Data')
  }
}
pipeline.addStage(new Target(app, 'dev', { env: { account: '${account(0)}', region: 'eu-west-1' } }))
const prod = pipeline.addWave('prod', { pre: [new ManualApprovalStep('approve')] })
for (let i = 1; i < ${TARGETS}; i++)
  prod.addStage(new Target(app, 'prod' + i, { env: { account: String(${100000000000} + i), region: i % 3 === 2 ? 'us-east-1' : 'eu-west-1' } }))
app.synth()
`
}

/** Installs the pinned CDK into the bench cache (once); returns its cdk binary, or why not. */
function installCdk(): { bin: string } | { error: string } {
  const bin = join(cdkHome, 'node_modules', '.bin', 'cdk')
  const marker = join(cdkHome, `installed-${Object.values(CDK_VERSIONS).join('-')}`)
  if (existsSync(marker) && existsSync(bin)) return { bin }
  mkdirSync(cdkHome, { recursive: true })
  writeFileSync(join(cdkHome, 'package.json'), JSON.stringify({ private: true }) + '\n')
  const r = spawnSync(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--save-exact',
      ...Object.entries(CDK_VERSIONS).map(([n, v]) => `${n}@${v}`),
    ],
    { cwd: cdkHome, encoding: 'utf8' },
  )
  if (r.status !== 0) return { error: `npm install of the CDK failed: ${r.stderr.slice(-300)}` }
  writeFileSync(marker, '')
  return { bin }
}

/** Runs a command: wall ms, and CPU ms (user + system) with /usr/bin/time. */
function runProcess(
  cmd: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
): { ms: number; cpuMs?: number; ok: boolean } {
  const t0 = performance.now()
  const r = hasTime
    ? spawnSync('/usr/bin/time', ['-f', '%U %S', cmd, ...args], { cwd, encoding: 'utf8', env })
    : spawnSync(cmd, [...args], { cwd, encoding: 'utf8', env })
  const ms = performance.now() - t0
  if (!hasTime) return { ms, ok: r.status === 0 }
  const [u, s] = (r.stderr.trim().split('\n').at(-1) ?? '').split(' ').map(Number)
  return { ms, cpuMs: ((u ?? 0) + (s ?? 0)) * 1000, ok: r.status === 0 }
}

const fmt = (x: number | undefined, d = 0) => (x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(d))

export const run: BenchRun = ({ quick }) => {
  const reps = quick ? 3 : 7
  const cdkReps = quick ? 1 : 3
  const dir = mkdtempSync(join(tmpdir(), 'crosspipe-bench-startup-'))
  const loadBefore = loadavg()[0]!
  const cdk = installCdk()
  const rows = new Map<string, { ms: number[]; cpu: number[] }>()
  const add = (name: string, r: { ms: number; cpuMs?: number; ok: boolean }) => {
    if (!r.ok) throw new Error(`${name} failed`)
    const row = rows.get(name) ?? { ms: [], cpu: [] }
    row.ms.push(r.ms)
    if (r.cpuMs !== undefined) row.cpu.push(r.cpuMs)
    rows.set(name, row)
  }
  try {
    writeFileSync(join(dir, 'crosspipe.yml'), definition())
    const app = join(dir, 'cdk-app')
    mkdirSync(app)
    writeFileSync(join(app, 'app.mjs'), cdkApp())
    writeFileSync(join(app, 'cdk.json'), JSON.stringify({ app: 'node app.mjs' }) + '\n')
    if ('bin' in cdk) symlinkSync(join(cdkHome, 'node_modules'), join(app, 'node_modules'))
    const cdkEnv = { ...process.env, CDK_DISABLE_VERSION_CHECK: 'true', CDK_DISABLE_CLI_TELEMETRY: 'true' }
    for (let i = 0; i < reps; i++) {
      add("node -e ''", runProcess(process.execPath, ['-e', ''], dir))
      add('crosspipe --version', runProcess(process.execPath, [cli, '--version'], dir))
      add('crosspipe --help', runProcess(process.execPath, [cli, '--help'], dir))
      add(`crosspipe synth (${TARGETS} targets)`, runProcess(process.execPath, [cli, 'synth'], dir))
      if ('bin' in cdk && i < cdkReps)
        add(
          `cdk synth (${TARGETS} targets)`,
          runProcess(cdk.bin, ['synth', '--quiet', '--no-notices', '--no-version-reporting'], app, cdkEnv),
        )
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  const loadAfter = loadavg()[0]!
  const med = (name: string) => {
    const r = rows.get(name)
    return r ? { ms: median(r.ms), cpu: r.cpu.length ? median(r.cpu) : undefined } : undefined
  }
  const cp = med(`crosspipe synth (${TARGETS} targets)`)!
  const ck = med(`cdk synth (${TARGETS} targets)`)
  const table = [...rows.keys()].map((name) => {
    const m = med(name)!
    return `| ${name} | ${fmt(m.ms)} | ${fmt(m.cpu)} | ${rows.get(name)!.ms.length} |`
  })
  const markdown = `Whole processes, medians; 1-minute load average ${fmt(loadBefore, 1)} before and ${fmt(loadAfter, 1)} after on ${cpus().length} CPUs
(the machine is shared: CPU time, user + system, is what load inflates least).

| process | wall ms | CPU ms | runs |
|---|---:|---:|---:|
${table.join('\n')}

**crosspipe synth vs cdk synth, ${TARGETS} targets: ${ck ? `${fmt(ck.ms / cp.ms, 1)}× faster (wall), ${ck.cpu && cp.cpu ? `${fmt(ck.cpu / cp.cpu, 1)}×` : 'n/a'} (CPU)` : `not measured: ${'error' in cdk ? cdk.error : 'no CDK'}`}.** Target (issue 12): ≥ 30×.
The CDK app (aws-cdk-lib ${CDK_VERSIONS['aws-cdk-lib']}, aws-cdk CLI ${CDK_VERSIONS['aws-cdk']}) defines the same pipeline the idiomatic way: CDK
pipelines with cross-account keys, one dev stage and a wave of ${TARGETS - 1} stages behind a manual approval, each an
application stack in its own account, over the same two regions.

\`crosspipe --version\` loads the CLI core only and \`synth\` only what synthesis needs: each command's module
is loaded when that command runs (test/cli/startup.test.ts checks what each one loads).
`
  return Promise.resolve({ title: 'Start-up', markdown })
}
