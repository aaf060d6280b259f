/**
 * Where a deploy's time goes (a tool, not a benchmark: `npm run bench` does not run it). Deploys
 * the definition of deploy.bench.ts for N targets with `deploy()` into a fresh in-process sandbox
 * over HTTPS (concurrency 20, as the bench), then again with no change, `reps` times after one
 * untimed warm-up, and prints JSON: medians of wall-clock time, the process's CPU time (all
 * threads) and the main thread's CPU time (Linux), the API calls deploy made by kind, and the TLS
 * connections it opened. With `--prof FILE` the last run is written as a V8 CPU profile
 * (`--first`: the first deploy only), for Chrome DevTools or any .cpuprofile reader; it profiles
 * the main thread, which with the sandbox on its worker thread (startSandbox's default) runs only
 * the client's side — `--thread main` puts the sandbox on the main thread too. `threadsMs` is the
 * CPU time of the five busiest threads (Linux): the deploying thread, the sandbox's worker, then
 * V8's background threads (optimizing compilers, GC). `--timeline` prints when each stack started
 * and finished in the last run; `--each` prints every run's time and threads: the code keeps
 * getting faster for about ten runs of 20 targets (V8 optimizes it), so compare late runs.
 *
 *   node --import tsx bench/deploy-profile.ts 20 5 [--prof deploy.cpuprofile] [--first] [--thread main|worker] [--timeline] [--each]
 *
 * The machine is shared: compare CPU medians of runs made one after the other (A/B, alternated).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import tls from 'node:tls'
import { sandboxAccess, type AccountAccess } from '../src/aws/index.js'
import { deploy } from '../src/deploy/index.js'
import { parsePipeline } from '../src/model/index.js'
import type { IoHost } from '../src/model/io.js'
import { startSandbox } from '../src/sandbox/index.js'
import { synthesize } from '../src/synth/index.js'
import { median } from './types.js'

const CI = '111111111111'
const REGION = 'eu-west-1'
const args = process.argv.slice(2)
const targets = Number(args[0] ?? 1)
const reps = Number(args[1] ?? 3)
const profFile = args.includes('--prof') ? args[args.indexOf('--prof') + 1] : undefined
const firstOnly = args.includes('--first')
const timeline = args.includes('--timeline')
const each = args.includes('--each')
const thread = (args.includes('--thread') ? args[args.indexOf('--thread') + 1] : undefined) as
  'main' | 'worker' | undefined
if (
  !Number.isInteger(targets) ||
  targets < 1 ||
  !Number.isInteger(reps) ||
  reps < 1 ||
  (thread !== undefined && thread !== 'main' && thread !== 'worker')
)
  throw new Error(
    'usage: deploy-profile.ts <targets ≥ 1> <reps ≥ 1> [--prof FILE] [--first] [--thread main|worker]',
  )

/** The definition of deploy.bench.ts: one stage with `n` target accounts. */
function definition(n: number): string {
  const accounts = Array.from(
    { length: n },
    (_, i) => `      - account: "${String(200000000000 + i)}"\n`,
  ).join('')
  return `name: bench\nci:\n  account: "${CI}"\n  region: ${REGION}\nsource:\n  type: codecommit\n  repository: app\n  branch: main\nstages:\n  - name: dev\n    targets:\n${accounts}    stack: app\n    template: template.yml\n`
}

/** The access, counting every call made through the APIs it hands out, by method name. */
function counting(a: AccountAccess, counts: Map<string, number>): AccountAccess {
  const count = (name: string) => counts.set(name, (counts.get(name) ?? 0) + 1)
  const wrap = <T extends object>(o: T): T =>
    new Proxy(o, {
      get(t, p, r) {
        const v: unknown = Reflect.get(t, p, r)
        if (typeof v !== 'function') return v
        return (...xs: unknown[]) => {
          count(String(p))
          return (v as (...x: unknown[]) => unknown).apply(t, xs)
        }
      },
    })
  return new Proxy(a, {
    get(t, p, r) {
      const v: unknown = Reflect.get(t, p, r)
      if (typeof v !== 'function') return v
      return (...xs: unknown[]) => {
        const out = (v as (...x: unknown[]) => unknown).apply(t, xs)
        if (p === 'whoAmI') count('whoAmI')
        return out !== null && typeof out === 'object' && !(out instanceof Promise) ? wrap(out) : out
      }
    },
  })
}

// Every TLS connection the SDK's agent opens goes through tls.connect.
let tlsConnections = 0
const connect = tls.connect
;(tls as { connect: unknown }).connect = (...xs: unknown[]) => {
  tlsConnections++
  return (connect as (...x: unknown[]) => unknown)(...xs)
}

/** Milliseconds the main thread has run on a CPU (Linux schedstat), or NaN elsewhere. */
function mainThreadMs(): number {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6
  } catch {
    return NaN
  }
}

interface Sample {
  readonly wallMs: number
  readonly cpuMs: number
  readonly mainMs: number
  /** Each thread's CPU milliseconds, most first. */
  readonly threads: readonly number[]
}

/** CPU milliseconds of each thread of this process by thread id (Linux), or an empty map elsewhere. */
function threadMs(): Map<string, number> {
  const out = new Map<string, number>()
  try {
    for (const t of readdirSync('/proc/self/task'))
      out.set(t, Number(readFileSync(`/proc/self/task/${t}/schedstat`, 'utf8').split(' ')[0]) / 1e6)
  } catch {
    // not Linux
  }
  return out
}

/** Runs `f`, measured. */
async function measured<T>(f: () => Promise<T>): Promise<[T, Sample]> {
  const th0 = threadMs()
  const m0 = mainThreadMs()
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  const r = await f()
  const wallMs = performance.now() - t0
  const c = process.cpuUsage(c0)
  const th = [...threadMs()].map(([t, ms]) => ms - (th0.get(t) ?? 0)).sort((a, b) => b - a)
  return [r, { wallMs, cpuMs: (c.user + c.system) / 1000, mainMs: mainThreadMs() - m0, threads: th }]
}

const accounts: Record<string, string> = { ci: CI }
for (let i = 0; i < targets; i++) accounts[`t${i}`] = String(200000000000 + i)
const out = synthesize(parsePipeline(definition(targets), 'crosspipe.yml'))
const session = new Session()
session.connect()
const firsts: Sample[] = []
const agains: Sample[] = []
let calls: Record<string, number> = {}
let callsAgain: Record<string, number> = {}
for (let i = 0; i <= reps; i++) {
  const dir = mkdtempSync(join(tmpdir(), 'crosspipe-deploy-profile-'))
  const sb = await startSandbox({ stateDir: dir, port: 0, accounts, ...(thread ? { thread } : {}) })
  try {
    if (!sb.httpsEndpoint || !sb.caFile) throw new Error('the sandbox has no HTTPS endpoint')
    const base = sandboxAccess({
      endpointUrl: sb.httpsEndpoint,
      caFile: sb.caFile,
      credentialsFile: sb.credentialsFile,
      configFile: sb.configFile,
      profiles: Object.fromEntries(sb.accounts.map((a) => [a.id, a.profile])),
    })
    const profiling = i === reps && profFile !== undefined
    const stopProfile = async () => {
      const { profile } = await session.post('Profiler.stop')
      writeFileSync(profFile!, JSON.stringify(profile))
    }
    if (profiling) {
      await session.post('Profiler.enable')
      // 100 µs: a deploy of a few hundred milliseconds gives thousands of samples, not hundreds.
      await session.post('Profiler.setSamplingInterval', { interval: 100 })
      await session.post('Profiler.start')
    }
    const counts = new Map<string, number>()
    tlsConnections = 0
    const t0 = performance.now()
    const marks: string[] = []
    const io: IoHost = {
      notify(m) {
        if (timeline && i === reps && m.code !== 'deploy.stack.event')
          marks.push(
            `${(performance.now() - t0).toFixed(1).padStart(7)} ms  ${m.code}  ${m.message.split('\n')[0]!.slice(0, 90)}`,
          )
      },
    }
    const o = { manifest: out.manifest, templates: out.files, concurrency: 20, io }
    const [first, s1] = await measured(() => deploy({ ...o, credentials: counting(base, counts) }))
    if (!first.success)
      throw new Error(
        first.stacks.map((x) => `${x.stack}: ${x.outcome} ${x.error?.message ?? ''}`).join('; '),
      )
    counts.set('tlsConnections', tlsConnections)
    if (marks.length > 0) console.error(marks.join('\n'))
    if (profiling && firstOnly) await stopProfile()
    const counts2 = new Map<string, number>()
    tlsConnections = 0
    const [again, s2] = await measured(() => deploy({ ...o, credentials: counting(base, counts2) }))
    if (!again.stacks.every((x) => x.outcome === 'no-change'))
      throw new Error('the second deploy changed something')
    counts2.set('tlsConnections', tlsConnections)
    if (profiling && !firstOnly) await stopProfile()
    calls = Object.fromEntries(counts)
    callsAgain = Object.fromEntries(counts2)
    // The first run loads the resource specification and compiles the code: not counted.
    if (each)
      console.error(
        `rep ${i}: ${Math.round(s1.wallMs)} ms; threads' CPU ms: ${s1.threads.map(Math.round).slice(0, 5).join(' ')}`,
      )
    if (i > 0) {
      firsts.push(s1)
      agains.push(s2)
    }
  } finally {
    await sb.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}
const medians = (xs: Sample[]) => ({
  wallMs: Math.round(median(xs.map((x) => x.wallMs))),
  cpuMs: Math.round(median(xs.map((x) => x.cpuMs))),
  mainMs: Math.round(median(xs.map((x) => x.mainMs))),
  threadsMs: [0, 1, 2, 3, 4].map((i) => Math.round(median(xs.map((x) => x.threads[i] ?? 0)))),
})
console.log(
  JSON.stringify({
    targets,
    reps,
    thread: thread ?? 'default (worker)',
    deploy: medians(firsts),
    again: medians(agains),
    calls,
    callsAgain,
  }),
)
