/**
 * Synthesis for 1, 10, 50 and 100 targets: median milliseconds in-process (`synthesize()` alone,
 * and load + synthesize from crosspipe.yml) and for the whole CLI process (`node bin/crosspipe.js
 * synth`, when dist/ is built), with the CLI's peak RSS. Beside them, what a user does instead:
 * `cfn-lint` over the same templates (the check a hand-written setup gets), and bare Node start-up,
 * the floor of any CLI process. Targets (issue 2): 50 targets under 50 ms in-process and under
 * 500 ms for the whole process.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { loadPipeline } from '../src/model/index.js'
import { synthesize } from '../src/synth/index.js'
import type { BenchRun } from './types.js'
import { median } from './types.js'

const root = resolve(import.meta.dirname, '..')
const cli = join(root, 'bin', 'crosspipe.js')
const cliBuilt = existsSync(join(root, 'dist', 'src', 'cli', 'main.js'))
const hasCfnLint = spawnSync('cfn-lint', ['--version']).status === 0
const hasTime = existsSync('/usr/bin/time')

/** A definition with `n` targets: one dev target, the rest in prod (approval, tests), over two regions. */
function definition(n: number): string {
  const acct = (i: number) => `"${String(100000000000 + i)}"`
  const prodTargets = Array.from(
    { length: n - 1 },
    (_, i) => `      - account: ${acct(i + 1)}\n        region: ${i % 3 === 2 ? 'us-east-1' : 'eu-west-1'}`,
  ).join('\n')
  return `name: bench
ci:
  account: "111111111111"
  region: eu-west-1
source:
  type: codecommit
  repository: bench
  branch: main
build:
  buildspec: buildspec.yml
stages:
  - name: dev
    targets:
      - account: ${acct(0)}
    stack: bench-dev
    parameters:
      Environment: dev
${
  n > 1
    ? `  - name: prod
    approval:
      comment: Ship it?
    targets:
${prodTargets}
    stack: bench-prod
    tests:
      commands: ["npm test"]
`
    : ''
}tags:
  project: bench
`
}

/** Wall and CPU (user + system) milliseconds of one call. CPU time is what a loaded machine inflates least. */
function time(fn: () => void): { wall: number; cpu: number } {
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  fn()
  const wall = performance.now() - t0
  const c = process.cpuUsage(c0)
  return { wall, cpu: (c.user + c.system) / 1000 }
}

/**
 * Runs a command `reps` times: median wall ms and, with /usr/bin/time, median CPU ms (user +
 * system) and the largest peak RSS (MiB).
 */
function runProcess(
  cmd: string,
  args: string[],
  reps: number,
): { ms: number; cpuMs?: number; rssMiB?: number } {
  const ms: number[] = []
  const cpu: number[] = []
  let rss = 0
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now()
    const r = hasTime
      ? spawnSync('/usr/bin/time', ['-f', '%U %S %M', cmd, ...args], { encoding: 'utf8' })
      : spawnSync(cmd, args, { encoding: 'utf8' })
    ms.push(performance.now() - t0)
    if (hasTime) {
      const [u, sys, m] = (r.stderr.trim().split('\n').at(-1) ?? '').split(' ').map(Number)
      cpu.push(((u ?? 0) + (sys ?? 0)) * 1000)
      rss = Math.max(rss, m || 0)
    }
  }
  return { ms: median(ms), ...(hasTime ? { cpuMs: median(cpu), rssMiB: rss / 1024 } : {}) }
}

const fmt = (x: number | undefined, d = 1) => (x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(d))

interface Row {
  readonly n: number
  readonly file: string
  readonly outDir: string
  readonly synthMs: number[]
  readonly synthCpu: number[]
  readonly loadMs: number[]
  readonly procMs: number[]
  readonly procCpu: number[]
  rssMiB: number
  templates: number
  lines: number
}

export const run: BenchRun = async ({ quick }) => {
  const sizes = [1, 10, 50, 100]
  const reps = quick ? 5 : 30
  const procReps = quick ? 3 : 10
  const lintReps = quick ? 1 : 2
  const dir = mkdtempSync(join(tmpdir(), 'crosspipe-bench-synth-'))
  const loadBefore = loadavg()[0]!
  const node = runProcess(process.execPath, ['-e', ''], procReps)
  // The CLI's own start-up (loading every command), the floor under `crosspipe synth`.
  const version = cliBuilt ? runProcess(process.execPath, [cli, '--version'], procReps) : undefined
  const rows: Row[] = sizes.map((n) => ({
    n,
    file: join(dir, `crosspipe-${n}.yml`),
    outDir: join(dir, `out-${n}`),
    synthMs: [],
    synthCpu: [],
    loadMs: [],
    procMs: [],
    procCpu: [],
    rssMiB: 0,
    templates: 0,
    lines: 0,
  }))
  const lint = new Map<number, { ms: number; cpuMs?: number }>()
  try {
    for (const r of rows) writeFileSync(r.file, definition(r.n))
    const pipelines = await Promise.all(rows.map((r) => loadPipeline(r.file)))
    pipelines.forEach((p) => synthesize(p)) // warm up
    // Sizes take turns, so a burst of load on this shared machine hits all of them alike.
    for (let i = 0; i < reps; i++) {
      for (const [k, r] of rows.entries()) {
        const t = time(() => synthesize(pipelines[k]!))
        r.synthMs.push(t.wall)
        r.synthCpu.push(t.cpu)
        const t0 = performance.now()
        synthesize(await loadPipeline(r.file))
        r.loadMs.push(performance.now() - t0)
      }
    }
    for (let i = 0; cliBuilt && i < procReps; i++) {
      for (const r of rows) {
        const pr = runProcess(process.execPath, [cli, 'synth', '-c', r.file, '-o', r.outDir], 1)
        r.procMs.push(pr.ms)
        if (pr.cpuMs !== undefined) r.procCpu.push(pr.cpuMs)
        r.rssMiB = Math.max(r.rssMiB, pr.rssMiB ?? 0)
      }
    }
    for (const [k, r] of rows.entries()) {
      const out = synthesize(pipelines[k]!)
      r.templates = out.templates.length
      r.lines = Object.values(out.files).reduce((sum, t) => sum + t.split('\n').length, 0)
      if (!hasCfnLint) continue
      if (!existsSync(r.outDir)) {
        mkdirSync(r.outDir, { recursive: true })
        for (const [f, text] of Object.entries(out.files)) writeFileSync(join(r.outDir, f), text)
      }
      const templates = readdirSync(r.outDir)
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => join(r.outDir, f))
      lint.set(r.n, runProcess('cfn-lint', ['--', ...templates], lintReps))
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  const loadAfter = loadavg()[0]!
  const table = rows.map((r) => {
    const proc = r.procMs.length ? median(r.procMs) : undefined
    const procCpu = r.procCpu.length ? median(r.procCpu) : undefined
    const l = lint.get(r.n)
    const cells = [
      r.n,
      r.templates,
      r.lines,
      fmt(median(r.synthMs), 2),
      fmt(median(r.synthCpu), 1),
      fmt(median(r.loadMs), 2),
      proc !== undefined ? fmt(proc, 0) : 'dist/ not built',
      fmt(procCpu, 0),
      hasTime && proc !== undefined ? fmt(r.rssMiB, 0) : 'n/a',
      l ? `${fmt(l.ms, 0)} (${fmt(l.cpuMs, 0)} CPU)` : 'no cfn-lint',
      l && proc !== undefined ? `${fmt(l.ms / proc, 1)}×` : 'n/a',
      l?.cpuMs !== undefined && procCpu ? `${fmt(l.cpuMs / procCpu, 1)}×` : 'n/a',
    ]
    return `| ${cells.join(' | ')} |`
  })

  const markdown = `Medians of ${reps} in-process runs and ${procReps} process runs (cfn-lint: ${lintReps}), sizes taking turns;
1-minute load average ${fmt(loadBefore, 1)} before and ${fmt(loadAfter, 1)} after on ${cpus().length} CPUs. The definition has one dev
target and N−1 prod targets (approval, tests) over two regions, so N targets give N target stacks, two CI base
stacks and a pipeline stack.

| targets | templates | lines written | synthesize() ms | synthesize() CPU ms | load + synthesize ms | \`crosspipe synth\` process ms | process CPU ms | peak RSS MiB | cfn-lint over the same templates ms | cfn-lint / crosspipe synth (wall) | (CPU) |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${table.join('\n')}

Floors of the process columns: bare \`node -e ''\` ${fmt(node.ms, 0)} ms, ${fmt(node.cpuMs, 0)} ms CPU (peak RSS ${fmt(node.rssMiB, 0)} MiB);
\`crosspipe --version\` (Node plus loading the CLI) ${version ? `${fmt(version.ms, 0)} ms, ${fmt(version.cpuMs, 0)} ms CPU (peak RSS ${fmt(version.rssMiB, 0)} MiB)` : 'n/a (dist/ not built)'}.
The difference between that and the process column is reading the definition, synthesizing and writing the files.
CPU time (user + system) is given beside wall time because this machine is shared: under load, wall time
grows with the waiting, CPU time much less.

What a user does instead: writes and maintains these templates by hand (the "lines written" column is the
YAML they would write: roles, key and bucket policies, one action pair per target), then runs \`cfn-lint\`
on them — the column beside crosspipe's. crosspipe synthesizes them faster than cfn-lint can read them; hand
work is not measurable here, so it is not given a number. Issue 2's target: 50 targets under 50 ms in-process
and under 500 ms for the whole process.
`
  return { title: 'Synthesis', markdown }
}
