/**
 * The pipeline running, end to end (issue 7):
 * - `crosspipe demo` as a whole process (`node bin/crosspipe.js demo`): sandbox start, the init
 *   example written and committed, every stack deployed, the pipeline run through build and dev,
 *   prod approved and deployed, the sandbox stopped. Wall time, median.
 * - One full execution of the deployed example in the sandbox — Source (the git repository standing
 *   in for CodeCommit) → Build (CodeBuild running the buildspec with bash) → dev (CloudFormation in
 *   account 222222222222) → Manual approval → prod (account 333333333333) — started with
 *   StartPipelineExecution, followed with `runPipeline` (the library behind `crosspipe run`, polling
 *   every 100 ms), approved with `approve`, and followed to Succeeded. Median.
 *
 * Beside them, a published figure, not measured here (this machine has no AWS account): a CDK
 * Pipelines run deploying to two environments takes about 8–10 minutes on AWS, as reported in
 * aws-cdk issue 14158 (https://github.com/aws/aws-cdk/issues/14158).
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { sandboxAccess } from '../src/aws/index.js'
import { approve, runPipeline, resolveExecution } from '../src/deploy/index.js'
import { readSandboxState } from '../src/sandbox/index.js'
import { median, type BenchRun } from './types.js'

const root = resolve(import.meta.dirname, '..')
const bin = join(root, 'bin', 'crosspipe.js')

function crosspipe(args: readonly string[], cwd: string): string {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 120_000,
  })
  if (r.status !== 0)
    throw new Error(`crosspipe ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`)
  return r.stdout
}

function git(cwd: string, ...args: string[]): void {
  execFileSync('git', args, {
    cwd,
    stdio: 'ignore',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'crosspipe bench',
      GIT_AUTHOR_EMAIL: 'bench@crosspipe.invalid',
      GIT_COMMITTER_NAME: 'crosspipe bench',
      GIT_COMMITTER_EMAIL: 'bench@crosspipe.invalid',
    },
  })
}

const s = (ms: number): string => (ms / 1000).toFixed(2)

/** `crosspipe demo` wall times, and the demo's own "in all" figure. */
function demoRuns(n: number): { wall: number[]; inAll: number[] } {
  const wall: number[] = []
  const inAll: number[] = []
  for (let i = 0; i < n; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'crosspipe-bench-demo-'))
    try {
      const t0 = performance.now()
      const out = crosspipe(['demo'], dir)
      wall.push(performance.now() - t0)
      const m = /([\d.]+) s {2}in all/.exec(out)
      if (m) inAll.push(Number(m[1]) * 1000)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
  return { wall, inAll }
}

/** Full executions of the deployed example; each phase's time too. */
async function executionRuns(n: number): Promise<{ total: number[]; toApproval: number[]; prod: number[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'crosspipe-bench-run-'))
  const state = join(dir, '.crosspipe', 'sandbox')
  const total: number[] = []
  const toApproval: number[] = []
  const prod: number[] = []
  try {
    crosspipe(['init'], dir)
    git(dir, 'init', '-q', '-b', 'main')
    git(dir, 'add', 'crosspipe.yml', 'template.yml', 'buildspec.yml')
    git(dir, 'commit', '-q', '-m', 'The crosspipe init example')
    crosspipe(['sandbox', '--detach', '--port', '0', '--reset', '--state', state], dir)
    crosspipe(['sandbox', 'repo', 'add', 'my-app', dir, '--region', 'eu-west-1', '--state', state], dir)
    crosspipe(['deploy', '--sandbox', '--state', state], dir)
    const sb = readSandboxState(state)
    if (!sb) throw new Error('the sandbox is not running')
    const access = sandboxAccess({
      endpointUrl: sb.endpoint,
      credentialsFile: sb.credentialsFile,
      configFile: sb.configFile,
      profiles: Object.fromEntries(sb.accounts.map((a) => [a.id, a.name])),
    })
    const api = access.codePipeline({ account: '111111111111', region: 'eu-west-1' })
    const pipeline = 'my-app'
    const full = async (executionId?: string): Promise<void> => {
      const t0 = performance.now()
      let r = await runPipeline({
        api,
        pipeline,
        ...(executionId ? { executionId } : {}),
        pollIntervalMs: 100,
        timeoutMs: 120_000,
      })
      const t1 = performance.now()
      while (r.waitingForApproval) {
        await approve({ api, pipeline, stage: r.waitingForApproval.stage })
        r = await runPipeline({
          api,
          pipeline,
          executionId: r.execution.executionId,
          pollIntervalMs: 100,
          timeoutMs: 120_000,
        })
      }
      const t2 = performance.now()
      if (r.execution.status !== 'Succeeded')
        throw new Error(`execution ${r.execution.executionId} ${r.execution.status}`)
      total.push(t2 - t0)
      toApproval.push(t1 - t0)
      prod.push(t2 - t1)
    }
    // The execution the pipeline started when it was created waits at the prod approval: finish it
    // (not counted: it began before the clock), so the timed executions find every stage free.
    await full(await resolveExecution(api, pipeline))
    total.length = toApproval.length = prod.length = 0
    for (let i = 0; i < n; i++) await full()
  } finally {
    spawnSync(process.execPath, [bin, 'sandbox', 'stop', '--state', state], { cwd: dir })
    rmSync(dir, { recursive: true, force: true })
  }
  return { total, toApproval, prod }
}

export const run: BenchRun = async ({ quick }) => {
  const demos = demoRuns(quick ? 2 : 5)
  const exec = await executionRuns(quick ? 3 : 7)
  const load = loadavg()[0]?.toFixed(1) ?? '?'
  const published = 9 * 60_000
  const markdown = `
| what | here (median) | runs | published figure on AWS | AWS ÷ here |
|---|---:|---:|---:|---:|
| \`crosspipe demo\`, whole process: sandbox, deploy 4 stacks in 3 accounts, source → build → dev → approve → prod, stop | ${s(median(demos.wall))} s (its own "in all": ${s(median(demos.inAll))} s) | ${demos.wall.length} | — | — |
| one full execution: source → build → dev → approve → prod | ${s(median(exec.total))} s | ${exec.total.length} | ≈ 8–10 min (a minimal two-environment CDK Pipelines run, aws-cdk issue 14158) | ≈ ${Math.round(published / median(exec.total))} (taking 9 min) |
| … of which start → waiting for approval (source, build, dev) | ${s(median(exec.toApproval))} s | ${exec.toApproval.length} | | |
| … of which approve → Succeeded (prod) | ${s(median(exec.prod))} s | ${exec.prod.length} | | |

- Target (issue 7): a full execution under 10 s here, the demo under a minute.
- The AWS figure is **published, not measured here** (this machine has no AWS account): in
  https://github.com/aws/aws-cdk/issues/14158 a user reports about 8–10 minutes for a full CDK
  Pipelines run deploying to two environments without test actions, and a baseline of about
  4 minutes for every pipeline. The sandbox does not pull the build image (it runs the buildspec
  with this machine's bash) and provisions resources without AWS's latency, so the ratio is what a
  local iteration saves, not a claim that the same pipeline runs faster on AWS.
- The execution is followed by polling every 100 ms (\`crosspipe run\` polls every second by
  default, the demo every 250 ms), so each figure includes up to one polling interval per wait.
- Every run: ${demos.wall.map(s).join(', ')} s (demo); ${exec.total.map(s).join(', ')} s (execution).
  Load average at the end: ${load}.
`
  return { title: 'Pipeline execution and the demo, end to end (sandbox)', markdown }
}
