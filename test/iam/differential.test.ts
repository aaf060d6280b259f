// Differential test against @cloud-copilot/iam-simulate: every corpus case plus 10,000 fast-check
// generated requests must get the same decision, or a disagreement explained by a reviewed entry of
// differential-allowlist.json (each entry cites the AWS documentation that decides who is right).
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { simulate, type SimulateRequest } from '../../src/iam/index.js'
import { requestArb } from './generators.js'
import { IamSimulatePool } from './iam-simulate-adapter.js'
import { loadCases } from './cases.js'

const dir = import.meta.dirname
const allowlist = JSON.parse(readFileSync(join(dir, 'differential-allowlist.json'), 'utf8')) as {
  iamSimulateVersion: string
  entries: { id: string; ours: string; theirs: string; docs: string[] }[]
}
const N = Number(process.env.CROSSPIPE_DIFF_RUNS ?? 10_000)

const pool = new IamSimulatePool(2)
after(() => pool.close())
interface Theirs {
  decision: string
}
async function theirs(req: SimulateRequest): Promise<Theirs> {
  return { decision: await pool.decide(req) }
}
function ours(req: SimulateRequest): string {
  return simulate(req).decision
}
function accountOf(principal: string): string {
  return principal.split(':')[4]!
}

/** Each classifier confirms its explanation by removing the one factor and requiring agreement. */
const classifiers: Record<string, (req: SimulateRequest, o: string, t: Theirs) => Promise<boolean>> = {
  async 'session-arn-grant'(req, o, t) {
    if (o !== 'Allowed' || t.decision !== 'ImplicitlyDenied') return false
    const res = JSON.stringify(req.resourcePolicy ?? {})
    if (!req.principal.includes(':assumed-role/') || !res.includes(`"${req.principal}"`)) return false
    const resourceAccount = req.resourceAccount ?? req.resource.split(':')[4]
    if (accountOf(req.principal) !== resourceAccount) return false
    const { sessionPolicy: _s, permissionBoundary: _b, ...rest } = req
    return (await theirs(rest)).decision === 'Allowed' && ours(rest) === 'Allowed'
  },
  async 'ipv4-zero-prefix'(req, o, t) {
    const text = JSON.stringify(req)
    if (o !== 'Allowed' || t.decision !== 'ImplicitlyDenied' || !text.includes('0.0.0.0/0')) return false
    // Two /1 halves cover the same addresses without a /0 mask.
    const split = JSON.parse(text.replaceAll('"0.0.0.0/0"', '["0.0.0.0/1","128.0.0.0/1"]')) as SimulateRequest
    return (await theirs(split)).decision === 'Allowed' && ours(split) === 'Allowed'
  },
  async 'notprincipal-needs-every-identity'(req, o, t) {
    if (o !== 'ExplicitlyDenied' || t.decision === 'ExplicitlyDenied') return false
    if (!req.principal.startsWith('arn:')) return false
    const account = accountOf(req.principal)
    const parts = req.principal.split(':')[5]!.split('/')
    // The caller's chain of identities: the account (by ID or root ARN), itself, and for a session its role.
    const chain = new Set([account, `arn:aws:iam::${account}:root`, req.principal])
    if (parts[0] === 'assumed-role') chain.add(`arn:aws:iam::${account}:role/${parts[1]}`)
    let touched = false
    // Replace the caller's identities in every NotPrincipal by a foreign principal: iam-simulate then
    // must find the same explicit deny.
    const swap = (v: unknown): unknown => {
      if (typeof v === 'string' && chain.has(v)) {
        touched = true
        return 'arn:aws:iam::999999999999:root'
      }
      return Array.isArray(v) ? v.map(swap) : v
    }
    const policy = req.resourcePolicy as { Statement?: unknown } | undefined
    const statements = ([] as Record<string, any>[]).concat(
      (policy?.Statement ?? []) as Record<string, any>[],
    )
    const rewritten = statements.map((st) =>
      st.NotPrincipal?.AWS === undefined
        ? st
        : { ...st, NotPrincipal: { ...st.NotPrincipal, AWS: swap(st.NotPrincipal.AWS) } },
    )
    if (!touched) return false
    const without = { ...req, resourcePolicy: { ...policy, Statement: rewritten } }
    return (await theirs(without)).decision === 'ExplicitlyDenied'
  },
  async 'root-user-full-access'(req, o, t) {
    if (!req.principal.endsWith(':root') || o !== 'Allowed' || t.decision !== 'ImplicitlyDenied') return false
    const allowAll = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }
    return (await theirs({ ...req, identityPolicies: [allowAll] })).decision === 'Allowed'
  },
  async 'federated-user-without-session-policy'(req, o, t) {
    if (o !== 'ImplicitlyDenied' || t.decision !== 'Allowed') return false
    if (!req.principal.includes(':federated-user/') || req.sessionPolicy) return false
    const allowAll = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }
    const withSession = { ...req, sessionPolicy: allowAll }
    return (await theirs(withSession)).decision === 'Allowed' && ours(withSession) === 'Allowed'
  },
  async 'principalarn-grant-not-session-limited'(req, o, t) {
    if (o !== 'Allowed' || t.decision !== 'ImplicitlyDenied' || !req.sessionPolicy) return false
    if (!/aws:PrincipalArn/i.test(JSON.stringify(req.resourcePolicy ?? {}))) return false
    const { sessionPolicy: _s, ...rest } = req
    return (await theirs(rest)).decision === 'Allowed' && ours(rest) === 'Allowed'
  },
  async 'unresolved-variable'(req, o, t) {
    const text = JSON.stringify(req)
    if (!text.includes('${aws:username}') || req.context?.['aws:username'] !== undefined) return false
    const withName = { ...req, context: { ...req.context, 'aws:username': 'carol' } }
    const t2 = await theirs(withName)
    return t2.decision === ours(withName) && o !== t.decision
  },
}

test('every allowlist entry has a classifier and cites AWS documentation', () => {
  const pkg = JSON.parse(readFileSync('node_modules/@cloud-copilot/iam-simulate/package.json', 'utf8'))
  assert.equal(
    pkg.version,
    allowlist.iamSimulateVersion,
    'allowlist reviewed for another iam-simulate version',
  )
  for (const e of allowlist.entries) {
    assert.ok(classifiers[e.id], `no classifier for ${e.id}`)
    assert.ok(e.docs.length > 0 && e.docs.every((d) => d.startsWith('https://docs.aws.amazon.com/')), e.id)
  }
  assert.deepEqual(Object.keys(classifiers).sort(), allowlist.entries.map((e) => e.id).sort())
})

/** Runs both engines on every request; iam-simulate awaits its data files, so requests run in batches. */
async function compare(reqs: { name: string; req: SimulateRequest }[]) {
  const counts: Record<string, number> = { agree: 0 }
  const unexplained: string[] = []
  const classify = async (name: string, req: SimulateRequest, o: string, t: Theirs) => {
    if (t.decision.startsWith('error')) {
      unexplained.push(`${name}: iam-simulate refused the input: ${t.decision.slice(0, 300)}`)
      return
    }
    if (o === t.decision) {
      counts.agree!++
      return
    }
    let id: string | undefined
    for (const [k, f] of Object.entries(classifiers))
      if (await f(req, o, t)) {
        id = k
        break
      }
    if (id) counts[id] = (counts[id] ?? 0) + 1
    else unexplained.push(`${name}: crosspipe ${o}, iam-simulate ${t.decision}: ${JSON.stringify(req)}`)
  }
  const batches: Promise<void>[] = []
  for (let i = 0; i < reqs.length; i += 250) {
    const batch = reqs.slice(i, i + 250)
    batches.push(
      pool.decideAll(batch.map((b) => b.req)).then(async (out) => {
        for (let j = 0; j < batch.length; j++)
          await classify(batch[j]!.name, batch[j]!.req, ours(batch[j]!.req), { decision: out[j]! })
      }),
    )
  }
  await Promise.all(batches)
  return { counts, unexplained }
}

test(`${N} generated requests agree with iam-simulate or are explained by the allowlist`, async () => {
  const reqs = fc
    .sample(requestArb, { numRuns: N, seed: 20261126 })
    .map((req, i) => ({ name: `generated #${i}`, req }))
  const { counts, unexplained } = await compare(reqs)
  console.log(`differential (generated): ${JSON.stringify(counts)}`)
  assert.deepEqual(unexplained.slice(0, 5), [])
  // A differential test that never compares anything interesting cannot fail: require every outcome.
  const decisions = new Set(reqs.map(({ req }) => ours(req)))
  assert.deepEqual([...decisions].sort(), ['Allowed', 'ExplicitlyDenied', 'ImplicitlyDenied'])
  assert.ok(counts.agree! > N * 0.95, `only ${counts.agree} of ${N} agree`)
})

test('corpus cases agree with iam-simulate or are explained by the allowlist', async () => {
  const cases = loadCases().filter((c) => c.differential !== false && c.request)
  const { counts, unexplained } = await compare(
    cases.map((c) => ({ name: `${c.file}: ${c.name}`, req: c.request! })),
  )
  console.log(`differential (corpus, ${cases.length} cases): ${JSON.stringify(counts)}`)
  assert.deepEqual(unexplained, [])
})
