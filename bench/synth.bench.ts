/**
 * Synthesis for 1, 10, 50 and 100 targets: median milliseconds in-process (`synthesize()` alone,
 * and load + synthesize from crosspipe.yml) and for the whole CLI process (`node bin/crosspipe.js
 * synth`, when dist/ is built), with the CLI's peak RSS. Beside them, what a user does instead:
 * `cfn-lint` over the same templates (the check a hand-written setup gets), and bare Node start-up,
 * the floor of any CLI process. Targets (issue 2): 50 targets under 50 ms in-process and under
 * 500 ms for the whole process.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
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

function time(fn: () => void, reps: number): number[] {
  const xs: number[] = []
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now()
    fn()
    xs.push(performance.now() - t0)
  }
  return xs
}

/** Runs a command `reps` times; median wall ms and the largest peak RSS (MiB) /usr/bin/time saw. */
function runProcess(cmd: string, args: string[], reps: number): { ms: number; rssMiB?: number; ok: boolean } {
  const ms: number[] = []
  let rss = 0
  let ok = true
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now()
    const r = hasTime
      ? spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { encoding: 'utf8' })
      : spawnSync(cmd, args, { encoding: 'utf8' })
    ms.push(performance.now() - t0)
    if (hasTime) rss = Math.max(rss, Number(r.stderr.trim().split('\n').at(-1)) || 0)
    // cfn-lint exits non-zero for findings; only a failure to start counts
    if (r.error) ok = false
  }
  return { ms: median(ms), ...(hasTime ? { rssMiB: rss / 1024 } : {}), ok }
}

const fmt = (x: number | undefined, d = 1) => (x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(d))

export const run: BenchRun = async ({ quick }) => {
  const sizes = [1, 10, 50, 100]
  const reps = quick ? 5 : 30
  const procReps = quick ? 3 : 10
  const lintReps = quick ? 1 : 2
  const dir = mkdtempSync(join(tmpdir(), 'crosspipe-bench-synth-'))
  const rows: string[] = []
  const node = runProcess(process.execPath, ['-e', ''], procReps)
  // The CLI's own start-up (loading every command), the floor under `crosspipe synth`.
  const version = cliBuilt ? runProcess(process.execPath, [cli, '--version'], procReps) : undefined
  try {
    for (const n of sizes) {
      const file = join(dir, `crosspipe-${n}.yml`)
      writeFileSync(file, definition(n))
      const p = await loadPipeline(file)
      synthesize(p) // warm up
      const synthMs = median(time(() => synthesize(p), reps))
      const loadMs: number[] = []
      for (let i = 0; i < reps; i++) {
        const t0 = performance.now()
        synthesize(await loadPipeline(file))
        loadMs.push(performance.now() - t0)
      }
      const out = synthesize(p)
      const outDir = join(dir, `out-${n}`)
      let proc: ReturnType<typeof runProcess> | undefined
      if (cliBuilt) proc = runProcess(process.execPath, [cli, 'synth', '-c', file, '-o', outDir], procReps)
      let lint: ReturnType<typeof runProcess> | undefined
      if (hasCfnLint) {
        if (!existsSync(outDir)) {
          const { mkdirSync } = await import('node:fs')
          mkdirSync(outDir, { recursive: true })
          for (const [f, text] of Object.entries(out.files)) writeFileSync(join(outDir, f), text)
        }
        const templates = readdirSync(outDir)
          .filter((f) => f.endsWith('.yaml'))
          .map((f) => join(outDir, f))
        lint = runProcess('cfn-lint', ['--', ...templates], lintReps)
      }
      const lines = Object.values(out.files).reduce((k, t) => k + t.split('\n').length, 0)
      rows.push(
        `| ${n} | ${out.templates.length} | ${lines} | ${fmt(synthMs, 2)} | ${fmt(median(loadMs), 2)} | ${
          proc ? fmt(proc.ms, 0) : 'dist/ not built'
        } | ${proc?.rssMiB !== undefined ? fmt(proc.rssMiB, 0) : 'n/a'} | ${lint ? fmt(lint.ms, 0) : 'no cfn-lint'} | ${
          lint && proc ? `${fmt(lint.ms / proc.ms, 1)}×` : 'n/a'
        } |`,
      )
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  const markdown = `Medians of ${reps} in-process runs and ${procReps} process runs (cfn-lint: ${lintReps}). The definition has one dev
target and N−1 prod targets (approval, tests) over two regions, so N targets give N target stacks, two CI base
stacks and a pipeline stack.

| targets | templates | lines written | synthesize() ms | load + synthesize ms | \`crosspipe synth\` process ms | peak RSS MiB | cfn-lint over the same templates ms | cfn-lint / crosspipe synth |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}

Floors of the process column: bare \`node -e ''\` ${fmt(node.ms, 0)} ms (peak RSS ${fmt(node.rssMiB, 0)} MiB);
\`crosspipe --version\` (Node plus loading the CLI) ${version ? `${fmt(version.ms, 0)} ms (peak RSS ${fmt(version.rssMiB, 0)} MiB)` : 'n/a (dist/ not built)'}.
The difference between that and the process column is reading the definition, synthesizing and writing the files.

What a user does instead: writes and maintains these templates by hand (the "lines written" column is the
YAML they would write: roles, key and bucket policies, one action pair per target), then runs \`cfn-lint\`
on them — the column beside crosspipe's. crosspipe synthesizes them faster than cfn-lint can read them; hand
work is not measurable here, so it is not given a number. Issue 2's target: 50 targets under 50 ms in-process
and under 500 ms for the whole process.
`
  return { title: 'Synthesis', markdown }
}
