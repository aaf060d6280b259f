/**
 * Deploy benchmark: synthesized stacks deployed by `deploy()` into moto (`python3 -m moto.server`,
 * on this machine image), 1 target next to 20 targets in the same run, beside what a user would do
 * instead: the same stacks one after another (a shell loop of `aws cloudformation deploy`, and the
 * same loop inside crosspipe with concurrency 1). Also CreateChangeSet-to-CREATE_COMPLETE of the CI
 * base stack.
 *
 * What moto cannot do, and how the benchmark works around it (stated in the section too):
 * - stacks created by change sets get no outputs in moto 5.2.1, so `fromStack` parameters are
 *   replaced by literal values of the right shape;
 * - moto has no CodePipeline/CodeBuild resource providers worth timing, so the pipeline stack
 *   (phase 3) is left out: CI base (phase 1) + one target stack per account (phase 2).
 *
 * The crosspipe sandbox has neither limitation, so the same run also measures, as a user runs it,
 * whole processes of the built CLI (`node bin/crosspipe.js`, so `npm run build` first — `npm run
 * bench` does) against a detached sandbox (`sandbox --detach --port 0`), a fresh one per run:
 * `deploy --sandbox` of the `crosspipe init` example (all three phases, three accounts), and of a
 * 20-target definition next to a 1-target one (every phase, the pipeline stack included).
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { assumeRoleAccess, sandboxAccess } from '../src/aws/index.js'
import { deploy } from '../src/deploy/index.js'
import { startSandbox } from '../src/sandbox/index.js'
import { parsePipeline } from '../src/model/index.js'
import type { ManifestDocument } from '../src/synth/manifest.js'
import { synthesize } from '../src/synth/index.js'
import { motoMissing, startMoto, type Moto } from '../test/aws/moto.js'
import { FakeAws } from '../test/deploy/fake-aws.js'
import { median, type BenchRun } from './types.js'

const CI = '111111111111'
const REGION = 'eu-west-1'

function definition(targets: number): string {
  const accounts = Array.from(
    { length: targets },
    (_, i) => `      - account: "${String(200000000000 + i)}"\n`,
  ).join('')
  return `name: bench\nci:\n  account: "${CI}"\n  region: ${REGION}\nsource:\n  type: codecommit\n  repository: app\n  branch: main\nstages:\n  - name: dev\n    targets:\n${accounts}    stack: app\n    template: template.yml\n`
}

/** The synthesized CI base and target stacks, with fromStack parameters made literal (see above). */
function project(targets: number): { manifest: ManifestDocument; templates: Record<string, string> } {
  const out = synthesize(parsePipeline(definition(targets), 'crosspipe.yml'))
  const literal: Record<string, string> = {
    ArtifactBucketName: 'bench-artifacts-bucket',
    ArtifactKeyArn: `arn:aws:kms:${REGION}:${CI}:key/00000000-0000-0000-0000-000000000000`,
  }
  const stacks = out.manifest.stacks
    .filter((s) => s.phase <= 2)
    .map((s) => ({
      ...s,
      parameters: Object.fromEntries(
        Object.entries(s.parameters).map(([k, v]) => [
          k,
          typeof v === 'string' ? v : (literal[v.output] ?? 'x'),
        ]),
      ),
    }))
  return { manifest: { ...out.manifest, stacks }, templates: out.files }
}

async function reset(moto: Moto): Promise<void> {
  await fetch(`${moto.endpoint}/moto-api/reset`, { method: 'POST' })
}

function awsCliMissing(): boolean {
  return spawnSync('aws', ['--version'], { stdio: 'ignore' }).status !== 0
}

/**
 * `aws cloudformation deploy`, one stack after another, as a user's shell loop would, each with a
 * profile that assumes a role in the stack's account (moto gives AssumeRole credentials the role's
 * account), the endpoint set by `endpoint_url` in the config file.
 */
function awsCliLoop(moto: Moto, p: ReturnType<typeof project>, dir: string): number {
  const accounts = [...new Set(p.manifest.stacks.map((s) => s.account))]
  writeFileSync(
    join(dir, 'cli-config'),
    `[profile base]\nendpoint_url = ${moto.endpoint}\n` +
      accounts
        .map(
          (a) =>
            `[profile ${a}]\nrole_arn = arn:aws:iam::${a}:role/OrganizationAccountAccessRole\nsource_profile = base\nendpoint_url = ${moto.endpoint}\n`,
        )
        .join(''),
  )
  const home = mkdtempSync(join(dir, 'home-'))
  const t0 = performance.now()
  for (const s of p.manifest.stacks) {
    const file = join(dir, s.template)
    writeFileSync(file, p.templates[s.template] ?? '')
    // project() made every parameter a literal.
    const params = Object.entries(s.parameters).map(([k, v]) => `${k}=${typeof v === 'string' ? v : ''}`)
    const r = spawnSync(
      'aws',
      [
        'cloudformation',
        'deploy',
        '--template-file',
        file,
        '--stack-name',
        s.name,
        '--region',
        s.region,
        '--profile',
        s.account,
        '--no-fail-on-empty-changeset',
        ...(s.capabilities.length ? ['--capabilities', ...s.capabilities] : []),
        ...(params.length ? ['--parameter-overrides', ...params] : []),
      ],
      {
        encoding: 'utf8',
        env: {
          ...process.env,
          AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
          AWS_CONFIG_FILE: join(dir, 'cli-config'),
          AWS_PAGER: '',
          // The CLI caches assumed-role credentials under ~/.aws/cli/cache; moto forgets them on
          // reset, so each loop gets a fresh home (and the user's home is left alone).
          HOME: home,
        },
      },
    )
    if (r.status !== 0) throw new Error(`aws cloudformation deploy ${s.name} failed: ${r.stderr}`)
  }
  return performance.now() - t0
}

/**
 * The schedule alone: the in-memory CloudFormation of the deploy tests, where every resource takes
 * `stepMs` of wall-clock time, as provisioning does on AWS. Shows what parallel phases buy when
 * the service provisions concurrently (moto provisions synchronously inside ExecuteChangeSet).
 */
async function simulated(
  p: ReturnType<typeof project>,
  stepMs: number,
  concurrency: number,
): Promise<number> {
  const aws = new FakeAws()
  aws.stepMs = stepMs
  const r = await deploy({ ...p, credentials: aws, concurrency, pollIntervalMs: Math.max(1, stepMs / 10) })
  if (!r.success) throw new Error('simulated deploy failed')
  return r.durationMs
}

/**
 * The CI base stack deployed into a fresh crosspipe sandbox per run (destroying it in between is
 * not possible in the sandbox yet: the bucket's DenyInsecureTransport statement refuses the plain
 * HTTP sandbox the ListObjectVersions that emptying needs). Failures are reported as text.
 */
async function sandboxBaseStack(p: ReturnType<typeof project>, reps: number): Promise<string> {
  const base = { ...p, manifest: { ...p.manifest, stacks: p.manifest.stacks.filter((s) => s.phase === 1) } }
  const xs: number[] = []
  try {
    for (let i = 0; i <= reps; i++) {
      const dir = mkdtempSync(join(tmpdir(), 'crosspipe-bench-sandbox-'))
      const sb = await startSandbox({ stateDir: dir, port: 0, accounts: { ci: CI } })
      try {
        const credentials = sandboxAccess({
          endpointUrl: sb.endpoint,
          credentialsFile: sb.credentialsFile,
          configFile: sb.configFile,
          profiles: Object.fromEntries(sb.accounts.map((a) => [a.id, a.profile])),
        })
        const r = await deploy({ ...base, credentials, pollIntervalMs: 100 })
        const s = r.stacks[0]!
        if (s.outcome !== 'created')
          return `not measured: ${s.outcome}${s.error ? ` (${s.error.message.slice(0, 160)})` : ''}`
        // The first run loads the resource specification into this process; it is not counted.
        if (i > 0) xs.push(s.durationMs)
      } finally {
        await sb.stop()
        rmSync(dir, { recursive: true, force: true })
      }
    }
    return `${Math.round(median(xs))} ms`
  } catch (err) {
    return `not measured: ${err instanceof Error ? err.message : String(err)}`
  }
}

const BIN = join(import.meta.dirname, '..', 'bin', 'crosspipe.js')

/** Wall-clock milliseconds of one `node bin/crosspipe.js …` process; throws with its output if it fails. */
function cli(args: readonly string[], cwd: string): number {
  const t0 = performance.now()
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  })
  const ms = performance.now() - t0
  if (r.status !== 0)
    throw new Error(`crosspipe ${args.join(' ')} exited ${r.status}: ${`${r.stderr}${r.stdout}`.slice(-600)}`)
  return ms
}

/** Whole-process times of `crosspipe deploy --sandbox` (and of the no-change deploy after it), each on a fresh detached sandbox. */
interface CliDeployTimes {
  readonly deploy: number[]
  readonly again: number[]
  /** Runs that failed, with the CLI's output: reported, not retried. */
  readonly failures: string[]
  /**
   * In-process runs only: the process's CPU time (user + system, all threads) of each deploy and
   * each no-change deploy. Sandbox and deploy share the process, so this is all the work the
   * deploy caused, and it moves less than wall-clock time on a shared machine.
   */
  readonly cpu?: { readonly deploy: number[]; readonly again: number[] }
  /**
   * In-process runs on Linux: the CPU time of the thread that called `deploy()` alone. With the
   * sandbox on a worker thread, that is the client's side of every call (the SDK, crosspipe's
   * deploy); on the caller's thread, both sides.
   */
  readonly caller?: { readonly deploy: number[]; readonly again: number[] }
}

/** Milliseconds this process's main thread has run on a CPU (Linux schedstat), or NaN elsewhere. */
function mainThreadMs(): number {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6
  } catch {
    return NaN
  }
}

/**
 * Runs `crosspipe deploy --sandbox` in `setup`'s project directory against a fresh detached
 * sandbox with `accounts` (NAME=ID,…), `reps` times, then a second, no-change deploy.
 */
function cliSandboxDeploys(
  reps: number,
  accounts: string,
  setup: (dir: string) => void,
  extra: readonly string[] = [],
): CliDeployTimes {
  const times: CliDeployTimes = { deploy: [], again: [], failures: [] }
  for (let i = 0; i < reps; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'crosspipe-bench-cli-'))
    const state = join(dir, '.sandbox')
    try {
      setup(dir)
      cli(['sandbox', '--detach', '--port', '0', '--state', state, '--accounts', accounts], dir)
      try {
        times.deploy.push(cli(['deploy', '--sandbox', '--state', state, ...extra], dir))
        times.again.push(cli(['deploy', '--sandbox', '--state', state, ...extra], dir))
      } catch (err) {
        times.failures.push(err instanceof Error ? err.message : String(err))
      } finally {
        cli(['sandbox', 'stop', '--state', state], dir)
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
  return times
}

/** `--accounts` of the sandbox for {@link definition}(targets): ci plus t0…t(n-1). */
function sandboxAccounts(targets: number): string {
  return [`ci=${CI}`, ...Array.from({ length: targets }, (_, i) => `t${i}=${String(200000000000 + i)}`)].join(
    ',',
  )
}

/** The sandbox figures of the section, or why they could not be measured. */
interface SandboxCli {
  readonly init?: CliDeployTimes
  readonly one?: CliDeployTimes
  readonly twenty?: CliDeployTimes
  /**
   * The same definitions deployed by `deploy()` in this process into `startSandbox()` as a user
   * calls it (the sandbox on a worker thread, the default), and with `thread: 'main'` (the sandbox
   * on the thread that deploys).
   */
  readonly lib?: {
    readonly one: CliDeployTimes
    readonly twenty: CliDeployTimes
    readonly mainOne: CliDeployTimes
    readonly mainTwenty: CliDeployTimes
    /** The untimed 20-target deploys before them (sandbox on a worker), in order: the JIT warming up. */
    readonly warmUpTwenty: readonly number[]
  }
  readonly problem?: string
}

/**
 * {@link definition}(targets), every phase, deployed by `deploy()` in this process over the HTTPS
 * endpoint of a fresh in-process sandbox per run (default poll interval, concurrency 20), then
 * again with no change: crosspipe's deploy without Node start-up and the CLI around it. `thread`
 * is passed to `startSandbox` when given (undefined: its default, what a user gets).
 */
async function libSandboxDeploys(
  reps: number,
  targets: number,
  thread?: 'main' | 'worker',
): Promise<CliDeployTimes> {
  const cpu = { deploy: [] as number[], again: [] as number[] }
  const caller = { deploy: [] as number[], again: [] as number[] }
  const times: CliDeployTimes = { deploy: [], again: [], failures: [], cpu, caller }
  const cpuMs = (since: NodeJS.CpuUsage) => {
    const u = process.cpuUsage(since)
    return (u.user + u.system) / 1000
  }
  const accounts = Object.fromEntries(
    sandboxAccounts(targets)
      .split(',')
      .map((kv) => kv.split('=') as [string, string]),
  )
  const out = synthesize(parsePipeline(definition(targets), 'crosspipe.yml'))
  for (let i = 0; i < reps; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'crosspipe-bench-lib-'))
    const sb = await startSandbox({ stateDir: dir, port: 0, accounts, ...(thread ? { thread } : {}) })
    try {
      if (!sb.httpsEndpoint || !sb.caFile) throw new Error('the sandbox has no HTTPS endpoint')
      const credentials = sandboxAccess({
        endpointUrl: sb.httpsEndpoint,
        caFile: sb.caFile,
        credentialsFile: sb.credentialsFile,
        configFile: sb.configFile,
        profiles: Object.fromEntries(sb.accounts.map((a) => [a.id, a.profile])),
      })
      const o = { manifest: out.manifest, templates: out.files, credentials, concurrency: 20 }
      let c0 = process.cpuUsage()
      let m0 = mainThreadMs()
      const first = await deploy(o)
      const firstCpu = cpuMs(c0)
      const firstCaller = mainThreadMs() - m0
      if (!first.success)
        throw new Error(
          first.stacks.map((x) => `${x.stack}: ${x.outcome} ${x.error?.message ?? ''}`).join('; '),
        )
      times.deploy.push(first.durationMs)
      cpu.deploy.push(firstCpu)
      if (!Number.isNaN(firstCaller)) caller.deploy.push(firstCaller)
      c0 = process.cpuUsage()
      m0 = mainThreadMs()
      const again = await deploy(o)
      const againCpu = cpuMs(c0)
      const againCaller = mainThreadMs() - m0
      if (!again.stacks.every((x) => x.outcome === 'no-change'))
        throw new Error('the second deploy changed something')
      times.again.push(again.durationMs)
      cpu.again.push(againCpu)
      if (!Number.isNaN(againCaller)) caller.again.push(againCaller)
    } catch (err) {
      times.failures.push(err instanceof Error ? err.message : String(err))
    } finally {
      await sb.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  }
  return times
}

/** Untimed in-process deploys of each size before the in-process runs are measured (see sandboxCli). */
interface WarmUp {
  readonly twenty: number
  readonly one: number
}

async function sandboxCli(reps: number, libReps: number, warm: WarmUp): Promise<SandboxCli> {
  try {
    const init = cliSandboxDeploys(reps, 'ci=111111111111,dev=222222222222,prod=333333333333', (dir) => {
      cli(['init', dir], dir)
    })
    const targets = (n: number) => (dir: string) => {
      mkdirSync(dir, { recursive: true })
      writeFileSync(join(dir, 'crosspipe.yml'), definition(n))
    }
    const one = cliSandboxDeploys(reps, sandboxAccounts(1), targets(1), ['--concurrency', '20'])
    const twenty = cliSandboxDeploys(reps, sandboxAccounts(20), targets(20), ['--concurrency', '20'])
    // Untimed runs of both sizes first, on either thread: the first sandbox of the process loads
    // the sandbox's modules (on the worker thread) and the first CloudFormation call the resource
    // specification; then V8 keeps optimizing the code for about ten runs of 20 targets (measured
    // with bench/deploy-profile.ts --each, its background compiler threads busy all along).
    // Warming up with one small deploy only measured the 20-target runs while they were still
    // being compiled, and the 1-target runs after. A process that deploys once is what the CLI
    // rows above measure.
    let warmUpTwenty: readonly number[] = []
    for (const thread of ['worker', 'main'] as const) {
      const w = await libSandboxDeploys(warm.twenty, 20, thread)
      if (thread === 'worker') warmUpTwenty = w.deploy
      await libSandboxDeploys(warm.one, 1, thread)
    }
    const lib = {
      warmUpTwenty,
      one: await libSandboxDeploys(libReps, 1),
      twenty: await libSandboxDeploys(libReps, 20),
      mainOne: await libSandboxDeploys(libReps, 1, 'main'),
      mainTwenty: await libSandboxDeploys(libReps, 20, 'main'),
    }
    return { init, one, twenty, lib }
  } catch (err) {
    return { problem: err instanceof Error ? err.message : String(err) }
  }
}

export const run: BenchRun = async ({ quick }) => {
  const reps = quick ? 1 : 3
  // In-process runs are short (a quarter of a second for 20 targets): more of them, for steadier medians.
  const libReps = quick ? 1 : 7
  const warm: WarmUp = quick ? { twenty: 1, one: 1 } : { twenty: 10, one: 3 }
  const sb = await sandboxCli(reps, libReps, warm)
  const sim = { one: [] as number[], twenty: [] as number[], seq20: [] as number[] }
  for (let i = 0; i < reps; i++) {
    sim.one.push(await simulated(project(1), 100, 20))
    sim.twenty.push(await simulated(project(20), 100, 20))
    sim.seq20.push(await simulated(project(20), 100, 1))
  }
  const sandboxBase = await sandboxBaseStack(project(1), reps)
  const missing = motoMissing()
  const sandboxMarkdown = sandboxSection(sb, reps, libReps, warm)
  if (missing)
    return {
      title: 'Deploy (sandbox, moto)',
      markdown: `${sandboxMarkdown}\n\nmoto: not measured: this benchmark ${missing}.`,
    }
  const moto = await startMoto(900)
  const dir = mkdtempSync(join(tmpdir(), 'crosspipe-bench-'))
  writeFileSync(
    join(dir, 'credentials'),
    '[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base\n',
  )
  const credentials = () =>
    assumeRoleAccess({
      roleName: 'OrganizationAccountAccessRole',
      profile: 'base',
      credentialsFile: join(dir, 'credentials'),
      configFile: join(dir, 'none'),
      endpointUrl: moto.endpoint,
    })
  const one = project(1)
  const twenty = project(20)
  const times: Record<string, number[]> = {
    one: [],
    twenty: [],
    seq20: [],
    cli1: [],
    cli20: [],
    base: [],
    noop20: [],
  }
  try {
    // moto imports each service's models on first use (seconds for CloudFormation): warm it up
    // with one untimed deploy so that no measured run pays for it.
    await deploy({ ...one, credentials: credentials() })
    for (let i = 0; i < reps; i++) {
      await reset(moto)
      const a = await deploy({ ...one, credentials: credentials() })
      if (!a.success) throw new Error(`1-target deploy failed: ${JSON.stringify(a.stacks)}`)
      times.one!.push(a.durationMs)
      times.base!.push(a.stacks.find((s) => s.phase === 1)!.durationMs)

      await reset(moto)
      const b = await deploy({ ...twenty, credentials: credentials(), concurrency: 20 })
      if (!b.success)
        throw new Error(
          `20-target deploy failed: ${JSON.stringify(b.stacks.filter((s) => s.outcome !== 'created'))}`,
        )
      times.twenty!.push(b.durationMs)
      const again = await deploy({ ...twenty, credentials: credentials(), concurrency: 20 })
      times.noop20!.push(again.durationMs)

      await reset(moto)
      const c = await deploy({ ...twenty, credentials: credentials(), concurrency: 1 })
      times.seq20!.push(c.durationMs)

      if (!awsCliMissing()) {
        await reset(moto)
        times.cli1!.push(awsCliLoop(moto, one, dir))
        if (i === 0) {
          await reset(moto)
          times.cli20!.push(awsCliLoop(moto, twenty, dir))
        }
      }
    }
  } finally {
    moto.stop()
    rmSync(dir, { recursive: true, force: true })
  }
  const ms = (xs: number[]) => (xs.length ? `${Math.round(median(xs))} ms` : 'n/a')
  const ratio = (a: number[], b: number[]) =>
    a.length && b.length ? `${(median(a) / median(b)).toFixed(2)}×` : 'n/a'
  const markdown = `
${sandboxMarkdown}

### moto

Synthesized CI base stack (phase 1) and one target stack per account (phase 2), deployed by
\`deploy()\` (in-process, the real AWS SDK v3, one role assumed per account) into moto 5.2.1 on
loopback; ${reps} run(s), medians. moto creates resources synchronously, so these figures measure
crosspipe's own work and the API round trips, not CloudFormation's provisioning time. moto gives
stacks created by change sets no outputs, so \`fromStack\` parameters were replaced by literals of
the same shape; the pipeline stack (phase 3) is left out.

| what | crosspipe \`deploy()\` | one stack after another | ratio |
|---|---|---|---|
| 1 target (2 stacks) | ${ms(times.one!)} | \`aws cloudformation deploy\` loop: ${ms(times.cli1!)} | ${ratio(times.one!, times.cli1!)} |
| 20 targets (21 stacks), concurrency 20 | ${ms(times.twenty!)} | same library, concurrency 1: ${ms(times.seq20!)}; \`aws cloudformation deploy\` loop (1 run): ${ms(times.cli20!)} | ${ratio(times.twenty!, times.seq20!)} vs concurrency 1 |
| 20 targets ÷ 1 target (target ≤ 2×) | ${ratio(times.twenty!, times.one!)} | | |
| second deploy of 20 targets (no change, nothing written) | ${ms(times.noop20!)} | | |
| CI base stack: CreateChangeSet → CREATE_COMPLETE (moto) | ${ms(times.base!)} | crosspipe sandbox: ${sandboxBase} | |

moto provisions each stack synchronously inside ExecuteChangeSet; in this run concurrency 20
took ${ratio(times.twenty!, times.seq20!)} the time of concurrency 1, and 20 targets
${ratio(times.twenty!, times.one!)} the time of one. What parallel phases buy when the service
provisions concurrently, as CloudFormation does, shows against the deploy tests' in-memory
CloudFormation, where each resource takes 100 ms of wall-clock time (the schedule only, no
service), with the same synthesized stacks:

| simulated, 100 ms per resource | crosspipe \`deploy()\` | one stack after another (concurrency 1) | ratio |
|---|---|---|---|
| 1 target (2 stacks) | ${ms(sim.one)} | | |
| 20 targets (21 stacks) | ${ms(sim.twenty)} | ${ms(sim.seq20)} | ${ratio(sim.twenty, sim.seq20)} |
| 20 targets ÷ 1 target (target ≤ 2×) | ${ratio(sim.twenty, sim.one)} | | |
`
  return { title: 'Deploy (sandbox, moto)', markdown }
}

/** The sandbox part of the section. */
function sandboxSection(sb: SandboxCli, reps: number, libReps: number, warm: WarmUp): string {
  if (sb.problem !== undefined || !sb.init || !sb.one || !sb.twenty)
    return `### crosspipe sandbox\n\nNot measured: ${sb.problem ?? 'unknown'}`
  const ms = (xs: readonly number[]) => (xs.length ? `${Math.round(median(xs))} ms` : 'n/a')
  const ratio = (a: readonly number[], b: readonly number[]) =>
    a.length && b.length ? `${(median(a) / median(b)).toFixed(2)}×` : 'n/a'
  return `### crosspipe sandbox

Whole processes, as a user runs them: \`node bin/crosspipe.js deploy --sandbox\` (the built CLI:
Node start-up, synthesis, credentials, plan, every stack by change set over the sandbox's HTTPS
endpoint, with the CLI's default 2 s poll interval) against a detached sandbox
(\`crosspipe sandbox --detach --port 0\`), a fresh one per run; ${reps} run(s) each, medians. Every
phase is deployed, the pipeline stack included, and values cross accounts as real outputs. The
second deploy of each run changes nothing and writes nothing (the plan reads template, parameters
and tags back; the deploy tests assert that no write call is made).

| what | first deploy | second deploy (no change) |
|---|---|---|
| \`crosspipe init\` example (4 stacks, 3 accounts, 3 phases) | ${ms(sb.init.deploy)} | ${ms(sb.init.again)} |
| 1 target (3 stacks, 2 accounts), \`--concurrency 20\` | ${ms(sb.one.deploy)} | ${ms(sb.one.again)} |
| 20 targets (22 stacks, 21 accounts), \`--concurrency 20\` | ${ms(sb.twenty.deploy)} | ${ms(sb.twenty.again)} |
| 20 targets ÷ 1 target (target ≤ 2×) | ${ratio(sb.twenty.deploy, sb.one.deploy)} | ${ratio(sb.twenty.again, sb.one.again)} |
${
  sb.lib
    ? `${libRows('`deploy()` in-process (no Node start-up, no CLI), sandbox on a worker thread (`startSandbox` default)', sb.lib.one, sb.lib.twenty)}
${libRows("`deploy()` in-process, sandbox on the deploying thread (`startSandbox({ thread: 'main' })`)", sb.lib.mainOne, sb.lib.mainTwenty)}`
    : ''
}
${
  sb.lib
    ? `
In-process, deploy and the sandbox share one process, whose CPU time (all threads) is in the CPU
rows: it moves less than wall-clock time on a shared machine. Each target stack costs about 7 API
calls (GetCallerIdentity for its account, DescribeStacks, CreateChangeSet, DescribeChangeSet,
ExecuteChangeSet, then DescribeStacks and DescribeStackEvents), each signed and sent over TLS by
the SDK on the deploying thread, then verified, authorized and answered by the sandbox: on a
worker thread by default, so the two halves run on two cores; with \`thread: 'main'\` on the
deploying thread too, one core for both. The deploying thread's own CPU time (Linux) is in its
rows: with the sandbox on a worker, that is the client's side alone. ${libReps} run(s) of each, medians,
after ${warm.twenty} untimed deploy(s) of 20 targets and ${warm.one} of 1 target on each thread: the first sandbox of a
process loads its modules and the resource specification, and V8 goes on optimizing the code
for about ten deploys of 20 targets (in this run, the untimed ones on a worker took
${sb.lib.warmUpTwenty.map((x) => Math.round(x)).join(', ')} ms). Both sizes are measured warm; a
process that deploys once is what the CLI rows measure.
${bound(sb.lib)}
`
    : ''
}${failures(sb)}`
}

/**
 * The lowest 20-to-1 ratio any sandbox could give in-process: the deploying thread's own CPU time
 * for 20 targets (the SDK signing, sending and parsing every call; crosspipe's plan) cannot
 * shrink with a faster sandbox, so 20 targets take at least that long even if the sandbox cost
 * nothing and the two threads overlapped perfectly.
 */
function bound(lib: NonNullable<SandboxCli['lib']>): string {
  const caller = lib.twenty.caller?.deploy ?? []
  if (!caller.length || !lib.one.deploy.length) return ''
  const c = median(caller)
  const one = median(lib.one.deploy)
  return `
The deploying thread alone spends ${Math.round(c)} ms of CPU on 20 targets (sandbox on a worker), ${(c / one).toFixed(2)}× the whole
wall-clock time of 1 target (${Math.round(one)} ms): with a sandbox that cost nothing and perfect overlap,
20 targets could not take less than ${(c / one).toFixed(2)}× the time of one. That thread runs the AWS SDK v3 for
155 API calls, 7 per target stack, as bench/deploy-profile.ts counts them: each signed, sent over
one of 22 TLS connections, its XML answer parsed; and crosspipe's plan.`
}

/** The rows of one in-process variant: wall-clock time, the process's CPU time, the deploying thread's. */
function libRows(label: string, one: CliDeployTimes, twenty: CliDeployTimes): string {
  const ms = (xs: readonly number[]) => (xs.length ? `${Math.round(median(xs))} ms` : 'n/a')
  const ratio = (a: readonly number[], b: readonly number[]) =>
    a.length && b.length ? `${(median(a) / median(b)).toFixed(2)}×` : 'n/a'
  const rows: [string, (t: CliDeployTimes) => { deploy: readonly number[]; again: readonly number[] }][] = [
    ['', (t) => t],
    [', CPU time of the process (all threads)', (t) => t.cpu ?? { deploy: [], again: [] }],
    [', CPU time of the deploying thread', (t) => t.caller ?? { deploy: [], again: [] }],
  ]
  return rows
    .flatMap(([what, pick]) => [
      `| ${label}${what}: 1 target | ${ms(pick(one).deploy)} | ${ms(pick(one).again)} |`,
      `| ${label}${what}: 20 targets | ${ms(pick(twenty).deploy)} | ${ms(pick(twenty).again)} |`,
      `| ${label}${what}: 20 targets ÷ 1 target${what ? '' : ' (target ≤ 2×)'} | ${ratio(pick(twenty).deploy, pick(one).deploy)} | ${ratio(pick(twenty).again, pick(one).again)} |`,
    ])
    .join('\n')
}

/** Failed runs, stated (they are not retried, and not in the medians). */
function failures(sb: SandboxCli): string {
  const all = [
    ...(sb.init?.failures ?? []).map((f) => `init example: ${f}`),
    ...(sb.one?.failures ?? []).map((f) => `1 target: ${f}`),
    ...(sb.twenty?.failures ?? []).map((f) => `20 targets: ${f}`),
    ...(sb.lib?.one.failures ?? []).map((f) => `in-process, 1 target: ${f}`),
    ...(sb.lib?.twenty.failures ?? []).map((f) => `in-process, 20 targets: ${f}`),
    ...(sb.lib?.mainOne.failures ?? []).map((f) => `in-process (thread: 'main'), 1 target: ${f}`),
    ...(sb.lib?.mainTwenty.failures ?? []).map((f) => `in-process (thread: 'main'), 20 targets: ${f}`),
  ]
  if (all.length === 0) return ''
  return `\n${all.length} run(s) failed and are not in the medians:\n\n${all
    .map((f) => `- ${f.replace(/\s+/g, ' ').slice(0, 300)}`)
    .join('\n')}`
}
