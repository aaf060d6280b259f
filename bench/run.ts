/**
 * `npm run bench`: runs every bench/*.bench.ts (each exports `run: BenchRun`) and writes
 * BENCHMARKS.md. Pass names to run some only: `npm run bench -- iam synth` (the file is then
 * updated for those sections only, the others kept).
 */
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { BenchRun, BenchSection } from './types.js'

const dir = import.meta.dirname
const only = process.argv.slice(2)
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort()
const quick = process.env.CROSSPIPE_BENCH_QUICK === '1'
const out = 'BENCHMARKS.md'

// Sections are delimited so a partial run can replace its own sections and keep the rest.
const previous = new Map<string, string>()
if (existsSync(out)) {
  const re = /<!-- section:(\S+) -->\n([\s\S]*?)<!-- end:\1 -->/g
  for (const m of readFileSync(out, 'utf8').matchAll(re)) previous.set(m[1]!, m[2]!)
}
for (const f of files) {
  const name = f.replace(/\.bench\.ts$/, '')
  process.stderr.write(`bench: ${name}…\n`)
  const mod = (await import(pathToFileURL(join(dir, f)).href)) as { run: BenchRun }
  const s: BenchSection = await mod.run({ quick })
  previous.set(name, `## ${s.title}\n\n${s.markdown.trim()}\n\n`)
}
const header = `# Benchmarks

Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'},
${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}. The machine is shared and noisy: figures are medians, and
each stands beside the figure of what a user would use instead, measured in the same run.

`
const body = [...previous.entries()]
  .sort(([a], [b]) => a.localeCompare(b))
  .map(([k, v]) => `<!-- section:${k} -->\n${v}<!-- end:${k} -->\n`)
  .join('\n')
writeFileSync(out, header + body)
process.stderr.write(`bench: wrote ${out}\n`)
