// Every operation the sandbox serves, driven by boto3 (which parses every answer by AWS's own
// models), each answer checked against the AWS documentation of its operation: output members and
// their types, documented error codes and HTTP statuses. The served operations come from the
// sandbox itself — the `actions` of each awsQuery/awsJson service built on a runtime, and S3's
// route table — and the Python side records every operation whose answer it checked (and, through
// boto3's `after-call` hooks, every call it sent), so an operation the sandbox starts serving
// without a checked boto3 call here fails this test by name. Known sandbox bugs are marked in the
// scenarios as named gaps, reported here as diagnostics. The scenarios are
// test/sandbox/boto3/operations.py. Needs `python3` with boto3 (the CI machine has both): skipped
// with a message otherwise.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { serviceModel } from '../../src/sandbox/operations/index.js'
import { Runtime } from '../../src/sandbox/runtime.js'
import { buildServices } from '../../src/sandbox/services/index.js'
import { ROUTES } from '../../src/sandbox/services/s3/routes.js'
import { clientEnv, harness, type Harness } from './helpers.js'

const SCRIPTS = join(import.meta.dirname, 'boto3')
const hasBoto3 = spawnSync('python3', ['-c', 'import boto3'], { stdio: 'ignore' }).status === 0
// The scenarios expect the model's constraints (patterns, ranges) to be enforced, which needs models
// built from botocore (scripts/gen-api-models.mjs): a machine with boto3 builds them so.
const constraints = hasBoto3 && serviceModel('sts').source.startsWith('botocore@')
const skip = !hasBoto3
  ? 'python3 with boto3 is not installed (pip install boto3)'
  : !constraints
    ? 'the models were built without botocore, so they carry no constraints: run npm run build again'
    : false

/** What operations.py prints. */
interface Report {
  /** Service (boto3's name, the sandbox's too) → operation → each call's status and error code. */
  readonly calls: Record<string, Record<string, { status: number; error: string | null }[]>>
  /** Service → operations whose answer a check (`ok` or `fails`) looked at, not only called. */
  readonly checked: Record<string, string[]>
  readonly failures: string[]
  readonly gaps: { name: string; found: string[] }[]
  readonly resolved: string[]
  readonly timings: Record<string, number>
}

/**
 * The operations each service serves, asked of the sandbox: the services are built on a runtime of
 * their own (in a temporary directory), as `startSandbox` builds them, and each awsQuery/awsJson
 * service's `actions` are what the gateway dispatches; S3 is served by its route table, less the
 * rows it answers `501 NotImplemented`.
 */
function servedOperations(): Map<string, string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'crosspipe-served-'))
  const runtime = new Runtime({ stateDir: dir, defaultRegion: 'us-east-1' })
  try {
    buildServices(runtime)
    const served = new Map<string, string[]>()
    for (const s of runtime.services)
      served.set(
        s.name,
        s.protocol === 'rest-xml'
          ? [...new Set(ROUTES.filter((r) => !r.unmodelled).map((r) => r.op))]
          : Object.keys(s.actions),
      )
    return served
  } finally {
    runtime.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

let h: Harness
let report: Report
const served = servedOperations()

before(async () => {
  if (skip) return
  h = await harness()
  const env: NodeJS.ProcessEnv = { ...clientEnv(h.dir, 'dev'), PYTHONDONTWRITEBYTECODE: '1' }
  // Asynchronously: the sandbox answers from this process's event loop.
  const out = await new Promise<string>((resolve, reject) =>
    execFile(
      'python3',
      [join(SCRIPTS, 'operations.py')],
      { env, cwd: SCRIPTS, encoding: 'utf8', timeout: 300_000, maxBuffer: 64 << 20 },
      (error, stdout, stderr) =>
        error ? reject(new Error(`operations.py failed: ${error.message}\n${stderr}`)) : resolve(stdout),
    ),
  )
  report = JSON.parse(out) as Report
})
after(async () => {
  if (h) await h.close()
})

test('the boto3 scenarios call every service the sandbox serves, and no other', { skip }, () => {
  assert.deepEqual(
    Object.keys(report.calls).sort(),
    [...served.keys()].sort(),
    'a service the sandbox serves needs a scenario in test/sandbox/boto3/operations.py',
  )
})

for (const [service, operations] of served) {
  test(`boto3: every ${service} operation (${operations.length}) answers as AWS documents`, { skip }, (t) => {
    const calls = report.calls[service] ?? {}
    const checked = new Set(report.checked[service] ?? [])
    const missing = operations.filter((o) => !checked.has(o))
    assert.deepEqual(
      missing,
      [],
      `${service} serves operations whose answer no boto3 call here checks (add them to test/sandbox/boto3/operations.py): ${missing.join(', ')}`,
    )
    // Every checked call went over the wire: the hooks saw it.
    const unseen = [...checked].filter((o) => !calls[o])
    assert.deepEqual(unseen, [], `boto3 never sent these ${service} calls: ${unseen.join(', ')}`)
    const prefix = `${service}.`
    const wrong = report.failures.filter((f) => f.startsWith(prefix) || f.startsWith(`${service}:`))
    assert.deepEqual(wrong, [], `${service} answered against AWS's documentation:\n${wrong.join('\n')}`)
    for (const g of report.gaps.filter((x) => x.name.startsWith(prefix)))
      t.diagnostic(`known gap ${g.name}: ${g.found.join('; ')}`)
    for (const r of report.resolved.filter((x) => x.startsWith(prefix)))
      t.diagnostic(`known gap ${r} no longer reproduces: remove its mark in operations.py`)
    const errorsOnly = operations.filter((o) => (calls[o] ?? []).every((c) => c.status >= 300))
    if (errorsOnly.length)
      t.diagnostic(
        `answered only with errors here (documented ones, or the sandbox's refusal): ${errorsOnly.join(', ')}`,
      )
    const count = Object.values(calls).reduce((n, c) => n + c.length, 0)
    t.diagnostic(`${operations.length} operations, ${count} calls, in ${report.timings[service] ?? '?'} s`)
  })
}

test('boto3: no failure outside a service scenario, and every known gap names its service', { skip }, () => {
  const services = [...served.keys()]
  const ofService = (text: string) =>
    services.some((s) => text.startsWith(`${s}.`) || text.startsWith(`${s}:`))
  assert.deepEqual(
    report.failures.filter((f) => !ofService(f)),
    [],
  )
  assert.deepEqual(
    [...report.gaps.map((g) => g.name), ...report.resolved].filter((n) => !ofService(n)),
    [],
  )
})
