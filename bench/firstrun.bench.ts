/**
 * The first run (issue 12 item 4): a fresh clone of this repository's committed HEAD, then the
 * README's `npm ci && npx crosspipe demo`, timed to the demo's first line of output. Beside it, in
 * the same clone: the build alone (esbuild, `node scripts/build.mjs --force`), the TypeScript
 * compile it replaced (`tsc -p tsconfig.build.json`, which also type-checks), and how many builds
 * the first run did (scripts/build.mjs logs each to CROSSPIPE_BUILD_LOG).
 * `npm ci` installs from npm's cache or the registry, so its figure depends on the network.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import type { BenchRun } from './types.js'
import { median } from './types.js'

const root = resolve(import.meta.dirname, '..')

/** Runs `cmd` in a shell; resolves with the ms to its first line of stdout and to its end. */
function timed(
  cmd: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ firstLine?: number; total: number; code: number }> {
  return new Promise((done) => {
    const t0 = performance.now()
    let firstLine: number | undefined
    const child = spawn('sh', ['-c', cmd], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    const mark = (b: Buffer) => {
      if (firstLine === undefined && b.toString().includes('\n')) firstLine = performance.now() - t0
    }
    child.stdout.on('data', mark)
    child.stderr.on('data', mark)
    child.on('close', (code) =>
      done({
        ...(firstLine !== undefined ? { firstLine } : {}),
        total: performance.now() - t0,
        code: code ?? -1,
      }),
    )
  })
}

const s = (ms: number | undefined) => (ms === undefined || Number.isNaN(ms) ? 'n/a' : (ms / 1000).toFixed(1))

export const run: BenchRun = async ({ quick }) => {
  const reps = quick ? 1 : 3
  const loadBefore = loadavg()[0]!
  const rows = {
    npmCi: [] as number[],
    demoFirst: [] as number[],
    demoTotal: [] as number[],
    total: [] as number[],
    builds: [] as number[],
  }
  const esbuild: number[] = []
  const tsc: number[] = []
  for (let i = 0; i < reps; i++) {
    const work = mkdtempSync(join(tmpdir(), 'crosspipe-bench-firstrun-'))
    try {
      const clone = join(work, 'crosspipe')
      spawnSync('git', ['clone', '-q', root, clone])
      const env = { ...process.env, NO_COLOR: '1', CROSSPIPE_BUILD_LOG: join(work, 'builds.log') }
      // The README's line, split in its two commands so each is timed; run back to back as written.
      const ci = await timed('npm ci --no-audit --no-fund', clone, env)
      if (ci.code !== 0) throw new Error('npm ci failed in the fresh clone')
      const demo = await timed('npx crosspipe demo', clone, env)
      if (demo.code !== 0) throw new Error('npx crosspipe demo failed in the fresh clone')
      rows.npmCi.push(ci.total)
      rows.demoFirst.push(demo.firstLine ?? NaN)
      rows.demoTotal.push(demo.total)
      rows.total.push(ci.total + (demo.firstLine ?? NaN))
      const log = join(work, 'builds.log')
      rows.builds.push(existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').length : 0)
      const b = await timed('node scripts/build.mjs --force', clone, env)
      esbuild.push(b.total)
      const t = await timed('node_modules/.bin/tsc -p tsconfig.build.json', clone, env)
      tsc.push(t.total)
    } finally {
      rmSync(work, { recursive: true, force: true })
    }
  }
  const loadAfter = loadavg()[0]!
  const markdown = `A fresh \`git clone\` of the committed HEAD, then the README's \`npm ci && npx crosspipe demo\`; medians of ${reps}
run(s); 1-minute load average ${loadBefore.toFixed(1)} before and ${loadAfter.toFixed(1)} after on ${cpus().length} CPUs.

| step | seconds |
|---|---:|
| \`npm ci\` (install, then one build: \`prepare\`) | ${s(median(rows.npmCi))} |
| \`npx crosspipe demo\` to its first line | ${s(median(rows.demoFirst))} |
| **fresh clone to the demo's first line** | **${s(median(rows.total))}** |
| \`npx crosspipe demo\` to its end | ${s(median(rows.demoTotal))} |
| builds during \`npm ci && npx crosspipe demo\` | ${median(rows.builds)} |

The build itself, in the same clone: \`node scripts/build.mjs --force\` (esbuild, every file of src/, then the
editor JSON Schema) ${s(median(esbuild))} s, beside \`tsc -p tsconfig.build.json\`, the type-checking compile
the build was before, ${s(median(tsc))} s (${(median(tsc) / median(esbuild)).toFixed(1)}×). Type checking is \`npm run typecheck\`; \`npx\` links the clone and runs
\`prepare\` again, which finds dist/ current and does nothing, so the first run builds once.
`
  return { title: 'First run', markdown }
}
