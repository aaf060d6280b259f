// The stacks crosspipe synthesizes for its `init` example deploy in the sandbox, in manifest
// order, each in its account with the outputs of earlier phases as parameters — every one ends
// CREATE_COMPLETE, and deletes cleanly in reverse order.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  CloudFormationClient,
  CreateStackCommand,
  DeleteStackCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation'
import { harness, type Harness } from '../helpers.js'

let h: Harness
let dir: string
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'crosspipe-cfn-synth-'))
  h = await harness()
})
after(async () => {
  await h?.close()
  rmSync(dir, { recursive: true, force: true })
})

async function settle(
  c: CloudFormationClient,
  name: string,
): Promise<{ status: string; failures: string[] }> {
  for (let i = 0; i < 500; i++) {
    const s = (await c.send(new DescribeStacksCommand({ StackName: name }))).Stacks![0]!
    if (!s.StackStatus!.endsWith('_IN_PROGRESS')) {
      const ev = (await c.send(new DescribeStackEventsCommand({ StackName: name }))).StackEvents ?? []
      const failures = ev
        .filter((e) => e.ResourceStatus!.endsWith('FAILED'))
        .map((e) => `${e.LogicalResourceId}: ${e.ResourceStatusReason}`)
      return { status: s.StackStatus!, failures }
    }
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`${name} did not settle`)
}

interface ManifestStack {
  name: string
  template: string
  account: string
  region: string
  phase: number
  capabilities: string[]
  parameters: Record<string, { fromStack: string; output: string } | string>
  tags: Record<string, string>
}

let manifest: { stacks: ManifestStack[] }
let out: string
const outputs = new Map<string, Record<string, string>>()

function client(account: string, region: string): CloudFormationClient {
  const a = h.sandbox.accounts.find((x) => x.id === account)!
  return new CloudFormationClient({
    endpoint: h.sandbox.endpoint,
    region,
    credentials: { accessKeyId: a.accessKeyId, secretAccessKey: a.secretAccessKey },
    maxAttempts: 1,
  })
}

async function deploy(s: ManifestStack): Promise<{ status: string; failures: string[] }> {
  const c = client(s.account, s.region)
  const Parameters = Object.entries(s.parameters).map(([k, v]) => ({
    ParameterKey: k,
    ParameterValue: typeof v === 'string' ? v : outputs.get(v.fromStack)![v.output]!,
  }))
  await c.send(
    new CreateStackCommand({
      StackName: s.name,
      TemplateBody: readFileSync(join(out, s.template), 'utf8'),
      Parameters,
      Capabilities: s.capabilities as any,
      Tags: Object.entries(s.tags).map(([Key, Value]) => ({ Key, Value })),
    }),
  )
  const r = await settle(c, s.name)
  if (r.status === 'CREATE_COMPLETE') {
    const desc = (await c.send(new DescribeStacksCommand({ StackName: s.name }))).Stacks![0]!
    outputs.set(s.name, Object.fromEntries((desc.Outputs ?? []).map((o) => [o.OutputKey!, o.OutputValue!])))
  }
  return r
}

async function destroy(s: ManifestStack): Promise<string> {
  const c = client(s.account, s.region)
  await c.send(new DeleteStackCommand({ StackName: s.name }))
  // By name, a deleted stack no longer exists: DescribeStacks fails, which is success here.
  return (await settle(c, s.name).catch(() => ({ status: 'DELETE_COMPLETE' }))).status
}

test('crosspipe init → synth; the CI base stack and the pipeline stack deploy to CREATE_COMPLETE in the CI account and delete cleanly', async () => {
  const { main } = await import('../../../src/cli/main.js')
  const cwd = process.cwd()
  process.chdir(dir)
  try {
    // The CLI prints its progress; the exit codes are what matter here.
    assert.equal(await main(['init']), 0)
    assert.equal(await main(['synth']), 0)
  } finally {
    process.chdir(cwd)
  }
  out = join(dir, 'crosspipe.out')
  manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'))
  const base = manifest.stacks.find((s) => s.phase === 1)!
  const r = await deploy(base)
  assert.equal(r.status, 'CREATE_COMPLETE', `${base.name}:\n${r.failures.join('\n')}`)
  assert.ok(outputs.get(base.name)!.ArtifactKeyArn?.startsWith('arn:aws:kms:'))
  const pipeline = manifest.stacks.find((s) => s.name.endsWith('-pipeline'))!
  const p = await deploy(pipeline)
  assert.equal(p.status, 'CREATE_COMPLETE', `${pipeline.name}:\n${p.failures.join('\n')}`)
  assert.equal(await destroy(pipeline), 'DELETE_COMPLETE')
})

test('the target-account stacks deploy too (phase 2, with the CI base outputs as parameters)', async () => {
  for (const s of manifest.stacks.filter((x) => x.phase === 2)) {
    const r = await deploy(s)
    assert.equal(r.status, 'CREATE_COMPLETE', `${s.name}:\n${r.failures.join('\n')}`)
    assert.equal(await destroy(s), 'DELETE_COMPLETE')
  }
})
