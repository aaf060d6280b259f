/**
 * `crosspipe check` of a definition with 1, 10, 50 and 100 target accounts: median milliseconds
 * in-process (`checkPipeline()`, which synthesizes in memory and checks) and for the whole CLI
 * process (`node bin/crosspipe.js check -c … --json`, when dist/ is built). Beside them, measured in
 * the same run on the same templates, what a user runs instead: `cfn-lint` over the synthesized
 * templates (it validates them one by one and proves nothing about cross-account calls), and bare
 * Node start-up, the floor of any CLI process. Target (issue 4): 100 targets under 1 s for the
 * whole process.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { checkPipeline } from '../src/check/index.js'
import { loadPipeline } from '../src/model/index.js'
import { synthesize } from '../src/synth/index.js'
import type { BenchRun } from './types.js'
import { median } from './types.js'

const root = resolve(import.meta.dirname, '..')
const cli = join(root, 'bin', 'crosspipe.js')
const cliBuilt =
  existsSync(join(root, 'dist', 'src', 'cli', 'main.js')) &&
  existsSync(join(root, 'dist', 'src', 'check', 'index.js'))
const hasCfnLint = spawnSync('cfn-lint', ['--version']).status === 0

/** One dev target and N−1 prod targets (approval, tests in each target) over two regions. */
function definition(n: number): string {
  const acct = (i: number) => `"${String(100000000000 + i)}"`
  const prod = Array.from(
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
stages:
  - name: dev
    targets:
      - account: ${acct(0)}
    stack: bench-dev
${
  n > 1
    ? `  - name: prod
    approval: true
    targets:
${prod}
    stack: bench-prod
    tests:
      commands: ["npm test"]
`
    : ''
}`
}

function runProcess(
  cmd: string,
  args: readonly string[],
  reps: number,
): { ms: number; status: number | null } {
  const ms: number[] = []
  let status: number | null = null
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now()
    const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 * 2 ** 20 })
    ms.push(performance.now() - t0)
    status = r.status
  }
  return { ms: median(ms), status }
}

const fmt = (x: number | undefined, d = 0) => (x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(d))

export const run: BenchRun = async ({ quick }) => {
  const sizes = [1, 10, 50, 100]
  const reps = quick ? 3 : 15
  const procReps = quick ? 3 : 9
  const lintReps = quick ? 1 : 3
  const dir = mkdtempSync(join(tmpdir(), 'crosspipe-bench-check-'))
  const rows: string[] = []
  const node = runProcess(process.execPath, ['-e', ''], procReps)
  let target = ''
  try {
    for (const n of sizes) {
      const file = join(dir, `crosspipe-${n}.yml`)
      writeFileSync(file, definition(n))
      const p = await loadPipeline(file)
      const first = checkPipeline(p) // warm up, and the figures of the table
      const inProc: number[] = []
      for (let i = 0; i < reps; i++) {
        const t0 = performance.now()
        checkPipeline(p)
        inProc.push(performance.now() - t0)
      }
      const proc = cliBuilt
        ? runProcess(process.execPath, [cli, 'check', '-c', file, '--json'], procReps)
        : undefined
      let lint: ReturnType<typeof runProcess> | undefined
      if (hasCfnLint) {
        const out = synthesize(p)
        const outDir = join(dir, `out-${n}`)
        mkdirSync(outDir, { recursive: true })
        const templates = out.templates.map((t) => join(outDir, t.file))
        for (const t of out.templates) writeFileSync(join(outDir, t.file), out.files[t.file]!)
        lint = runProcess('cfn-lint', ['--', ...templates], lintReps)
      }
      if (n === 100 && proc)
        target = proc.ms < 1000 ? `met (${fmt(proc.ms)} ms)` : `missed (${fmt(proc.ms)} ms)`
      rows.push(
        `| ${n} | ${first.calls.length} | ${first.ok ? 'ok' : 'fails'} | ${fmt(median(inProc))} | ${
          proc ? `${fmt(proc.ms)}${proc.status === 0 ? '' : ` (exit ${proc.status})`}` : 'dist/ not built'
        } | ${lint ? fmt(lint.ms) : 'no cfn-lint'} | ${lint && proc ? `${(lint.ms / proc.ms).toFixed(1)}×` : 'n/a'} |`,
      )
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  const markdown = `Medians of ${reps} in-process runs and ${procReps} process runs (cfn-lint: ${lintReps}). The definition has one
dev target and N−1 prod targets (approval; a test action in each target) over two regions. Each run
synthesizes the templates in memory, resolves them, derives every call the pipeline makes and evaluates
each with the IAM engine, then applies the structural rules and lints.

| targets | calls proved | result | \`checkPipeline()\` ms | \`crosspipe check --json\` process ms | cfn-lint over the same templates ms | cfn-lint / crosspipe check |
|---:|---:|:---|---:|---:|---:|---:|
${rows.join('\n')}

Bare \`node -e ''\` (the floor of any Node CLI process): ${fmt(node.ms)} ms.

What a user does instead: runs \`cfn-lint\` on the templates (it checks each template against the resource
specification, and cannot see that a role in one account may not decrypt with a key in another), then
deploys and waits for the first \`AccessDenied\` at run time, minutes into an execution. Only the first
is measurable here; it stands beside crosspipe's figure. Issue 4's target, 100 targets under 1 s for the
whole process: ${target || 'not measured (dist/ not built)'}.
`
  return { title: 'Check', markdown }
}
