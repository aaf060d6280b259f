/**
 * IAM engine throughput: crosspipe's compiled policies against @cloud-copilot/iam-simulate (what a
 * user would otherwise pick), on the same requests, in the same run. iam-simulate runs in a worker
 * thread without the TypeScript loader (its data lookups use dynamic import(), which the loader
 * would slow down); crosspipe runs on the main thread, from source through that loader. Both are
 * single-threaded, so the figures are evaluations per second per core.
 */
import { Worker } from 'node:worker_threads'
import { compilePolicy, simulate, describeContext, type SimulateRequest } from '../src/iam/index.js'
import { median, type BenchRun } from './types.js'

const TOOLS = '111111111111'
const PROD = '222222222222'
const session = `arn:aws:sts::${TOOLS}:assumed-role/pipeline-role/1700000000000`
const pipelineRole = `arn:aws:iam::${TOOLS}:role/pipeline-role`
const key = `arn:aws:kms:eu-west-1:${PROD}:key/1234abcd-12ab-34cd-56ef-1234567890ab`
const V = '2012-10-17'
const allowAll = { Version: V, Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }

/** The three requests of the issue, as a cross-account pipeline makes them. */
export function scenarios(): { name: string; req: SimulateRequest }[] {
  const identity = [
    {
      Version: V,
      Statement: [
        {
          Sid: 'Artifacts',
          Effect: 'Allow',
          Action: ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject'],
          Resource: 'arn:aws:s3:::prod-artifacts/*',
        },
        { Sid: 'List', Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::prod-artifacts' },
      ],
    },
    {
      Version: V,
      Statement: [
        {
          Sid: 'Assume',
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Resource: `arn:aws:iam::${PROD}:role/cross-account-role`,
        },
        { Sid: 'Key', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Resource: key },
      ],
    },
  ]
  const bucketPolicy = {
    Version: V,
    Statement: [
      {
        Sid: 'DenyInsecureConnections',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: ['arn:aws:s3:::prod-artifacts', 'arn:aws:s3:::prod-artifacts/*'],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
      {
        Sid: 'DenyOutsideOrg',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: 'arn:aws:s3:::prod-artifacts/*',
        Condition: { StringNotEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } },
      },
      {
        Sid: 'PipelineRole',
        Effect: 'Allow',
        Principal: { AWS: pipelineRole },
        Action: ['s3:GetObject', 's3:PutObject'],
        Resource: 'arn:aws:s3:::prod-artifacts/*',
      },
    ],
  }
  const scps = [
    [allowAll],
    [
      allowAll,
      {
        Version: V,
        Statement: [
          {
            Sid: 'RegionGuard',
            Effect: 'Deny',
            NotAction: ['iam:*', 'sts:*', 'organizations:*'],
            Resource: '*',
            Condition: { StringNotEquals: { 'aws:RequestedRegion': ['eu-west-1', 'eu-central-1'] } },
          },
        ],
      },
    ],
    [allowAll],
  ]
  const context = {
    'aws:SecureTransport': 'true',
    'aws:PrincipalOrgID': 'o-a1b2c3d4e5',
    'aws:RequestedRegion': 'eu-west-1',
    'aws:SourceIp': '10.20.30.40',
    'aws:CurrentTime': '2026-03-01T12:00:00Z',
    'aws:PrincipalTag/team': 'platform',
  }
  const trust = {
    Version: V,
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${TOOLS}:root` },
        Action: 'sts:AssumeRole',
        Condition: { ArnLike: { 'aws:PrincipalArn': `arn:aws:iam::${TOOLS}:role/pipeline-*` } },
      },
    ],
  }
  const keyPolicy = {
    Version: V,
    Statement: [
      {
        Sid: 'EnableIAM',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${PROD}:root` },
        Action: 'kms:*',
        Resource: '*',
      },
      {
        Sid: 'ToolsAccount',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${TOOLS}:root` },
        Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'],
        Resource: '*',
      },
    ],
  }
  return [
    {
      name: 'S3 GetObject, cross-account (2 identity policies, 3-statement bucket policy, 3-level SCP chain, 6 context keys)',
      req: {
        principal: session,
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::prod-artifacts/release/app.zip',
        resourceAccount: PROD,
        context,
        identityPolicies: identity,
        resourcePolicy: bucketPolicy,
        serviceControlPolicies: scps,
      },
    },
    {
      name: 'sts:AssumeRole, cross-account (trust policy with a condition)',
      req: {
        principal: session,
        action: 'sts:AssumeRole',
        resource: `arn:aws:iam::${PROD}:role/cross-account-role`,
        context,
        identityPolicies: identity,
        resourcePolicy: trust,
        serviceControlPolicies: scps,
      },
    },
    {
      name: 'kms:Decrypt, cross-account (key policy with the Enable-IAM statement)',
      req: {
        principal: session,
        action: 'kms:Decrypt',
        resource: key,
        context,
        identityPolicies: identity,
        resourcePolicy: keyPolicy,
        serviceControlPolicies: scps,
      },
    },
  ]
}

/** The request with every policy compiled once, as the sandbox and check hold them. */
export function compiled(req: SimulateRequest): SimulateRequest {
  const kind = req.action === 'sts:AssumeRole' ? 'trust' : 'resource'
  return {
    ...req,
    identityPolicies: req.identityPolicies?.map((p) => compilePolicy(p as Record<string, unknown>)),
    resourcePolicy: compilePolicy(req.resourcePolicy as Record<string, unknown>, { kind }),
    serviceControlPolicies: req.serviceControlPolicies?.map((l) =>
      l.map((p) => compilePolicy(p as Record<string, unknown>, { kind: 'scp' })),
    ),
  }
}

/** Evaluations per second of `fn`, one figure per round of at least `ms` milliseconds. */
function rounds(fn: () => void, count: number, ms: number): number[] {
  const out: number[] = []
  for (let r = 0; r < count; r++) {
    let n = 0
    const t0 = performance.now()
    let t = t0
    while (t - t0 < ms) {
      for (let i = 0; i < 1000; i++) fn()
      n += 1000
      t = performance.now()
    }
    out.push(n / ((t - t0) / 1000))
  }
  return out
}

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const loaded = import(workerData.iamSimulate)
parentPort.on('message', async ({ simulation, perRound }) => {
  const { runSimulation } = await loaded
  const first = await runSimulation(simulation, {})
  const t0 = performance.now()
  for (let i = 0; i < perRound; i++) await runSimulation(simulation, {})
  const rate = perRound / ((performance.now() - t0) / 1000)
  parentPort.postMessage({ decision: first.resultType === 'error' ? 'error' : first.overallResult, rate })
})
`

/** iam-simulate in a worker thread without the TypeScript loader; one round per call. */
class IamSimulateWorker {
  private readonly w = new Worker(WORKER, {
    eval: true,
    execArgv: [],
    workerData: { iamSimulate: import.meta.resolve('@cloud-copilot/iam-simulate') },
  })
  round(simulation: unknown, perRound: number): Promise<{ decision: string; rate: number }> {
    return new Promise((resolve, reject) => {
      // Each round's listeners go with it (a worker runs many rounds).
      const onMessage = (m: { decision: string; rate: number }) => {
        this.w.off('error', onError)
        resolve(m)
      }
      const onError = (e: Error) => {
        this.w.off('message', onMessage)
        reject(e)
      }
      this.w.once('message', onMessage)
      this.w.once('error', onError)
      this.w.postMessage({ simulation, perRound })
    })
  }
  async close(): Promise<void> {
    await this.w.terminate()
  }
}

function iamSimulateInput(req: SimulateRequest): unknown {
  return {
    request: {
      principal: req.principal,
      action: req.action,
      resource: { resource: req.resource, accountId: req.resourceAccount ?? req.resource.split(':')[4] },
      // iam-simulate derives no context keys: give it the ones crosspipe derives.
      contextVariables: describeContext(req),
    },
    identityPolicies: (req.identityPolicies ?? []).map((policy, i) => ({ name: `identity-${i}`, policy })),
    serviceControlPolicies: (req.serviceControlPolicies ?? []).map((l, li) => ({
      orgIdentifier: `level-${li}`,
      policies: l.map((policy, i) => ({ name: `scp-${li}-${i}`, policy })),
    })),
    resourceControlPolicies: [],
    resourcePolicy: req.resourcePolicy,
  }
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US')
}

export const run: BenchRun = async ({ quick }) => {
  const list = scenarios()
  const count = quick ? 3 : 9
  const ms = quick ? 100 : 300
  const perRound = quick ? 50 : 200
  const worker = new IamSimulateWorker()
  const rows: string[] = []
  const ratios: number[] = []
  try {
    for (const s of list) {
      const req = compiled(s.req)
      const decision = simulate(req).decision
      rounds(() => simulate(req), 1, ms) // warm-up
      const simulation = iamSimulateInput(s.req)
      // Rounds alternate between the engines, so both see the same load on this shared machine.
      const ours: number[] = []
      const theirs: number[] = []
      let theirDecision = ''
      for (let r = 0; r < count; r++) {
        const t = await worker.round(simulation, perRound)
        theirDecision = t.decision
        theirs.push(t.rate)
        ours.push(...rounds(() => simulate(req), 1, ms))
      }
      const a = median(ours)
      const b = median(theirs)
      ratios.push(a / b)
      rows.push(
        `| ${s.name} | ${decision}${theirDecision === decision ? '' : ` (iam-simulate: ${theirDecision})`} | ${fmt(a)} | ${fmt(b)} | ${(a / b).toFixed(0)}× |`,
      )
    }
  } finally {
    await worker.close()
  }
  const markdown = `Evaluations per second on one core, median of ${count} rounds each, the two engines' rounds
alternating (crosspipe: rounds of at least ${ms} ms over policies compiled once with \`compilePolicy\`;
iam-simulate 0.1.173: rounds of ${perRound} awaited \`runSimulation\` calls, in a worker thread without the
TypeScript loader). Both engines decide the same requests, with the context crosspipe derives handed to
iam-simulate. Targets: at least 100,000 evaluations per second on the S3 case, at least 50× iam-simulate.

| request | decision | crosspipe (evals/s) | iam-simulate (evals/s) | ratio |
|---|---|---:|---:|---:|
${rows.join('\n')}

Median ratio ${median(ratios).toFixed(0)}×. Run \`npm run bench -- iam\` to reproduce.`
  return { title: 'IAM policy engine', markdown }
}
