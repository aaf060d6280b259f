/**
 * CloudFormation in the sandbox beside moto (`python3 -m moto.server`): the time from CreateStack
 * to CREATE_COMPLETE of a stack with a KMS key, an S3 bucket and its bucket policy — the core of
 * crosspipe's CI base stack — measured with the AWS SDK v3 client polling DescribeStacks every
 * 10 ms, both servers on loopback in the same run. Medians over the repetitions.
 *
 * The sandbox provisions every resource by calling its own KMS and S3 as the caller, each call
 * SigV4-free but authorized through the IAM engine, and validates properties against the
 * CloudFormation resource specification; moto does neither.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation'
import { startSandbox } from '../src/sandbox/index.js'
import { median, type BenchRun } from './types.js'

const TEMPLATE = JSON.stringify({
  AWSTemplateFormatVersion: '2010-09-09',
  Resources: {
    Key: {
      Type: 'AWS::KMS::Key',
      Properties: {
        Description: 'artifact key',
        KeyPolicy: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root' } },
              Action: 'kms:*',
              Resource: '*',
            },
          ],
        },
      },
    },
    Bucket: {
      Type: 'AWS::S3::Bucket',
      Properties: {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            {
              ServerSideEncryptionByDefault: {
                SSEAlgorithm: 'aws:kms',
                KMSMasterKeyID: { 'Fn::GetAtt': ['Key', 'Arn'] },
              },
            },
          ],
        },
        VersioningConfiguration: { Status: 'Enabled' },
      },
    },
    BucketPolicy: {
      Type: 'AWS::S3::BucketPolicy',
      Properties: {
        Bucket: { Ref: 'Bucket' },
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Deny',
              Principal: '*',
              Action: 's3:*',
              Resource: { 'Fn::Sub': '${Bucket.Arn}/*' },
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            },
          ],
        },
      },
    },
  },
})

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))))
    })
  })
}

async function waitFor(check: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms
  for (;;) {
    try {
      if (await check()) return
    } catch {
      // not up yet
    }
    if (Date.now() > end) throw new Error('server did not start')
    await new Promise((r) => setTimeout(r, 100))
  }
}

interface Server {
  readonly name: string
  readonly client: CloudFormationClient
  stop(): Promise<void>
}

async function startMoto(): Promise<Server | undefined> {
  const probe = spawn('python3', ['-c', 'import moto.server'], { stdio: 'ignore' })
  if ((await new Promise<number | null>((r) => probe.once('exit', r))) !== 0) return undefined
  const port = await freePort()
  const child: ChildProcess = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    stdio: 'ignore',
  })
  const endpoint = `http://127.0.0.1:${port}`
  await waitFor(async () => (await fetch(`${endpoint}/moto-api/`)).ok, 30_000)
  const client = new CloudFormationClient({
    endpoint,
    region: 'us-east-1',
    credentials: {
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    },
    maxAttempts: 1,
  })
  return {
    name: 'moto',
    client,
    stop: async () => {
      client.destroy()
      child.kill('SIGTERM')
      await new Promise((r) => child.once('exit', r))
    },
  }
}

async function startOurs(): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'crosspipe-bench-cfn-'))
  const sandbox = await startSandbox({ port: 0, stateDir: dir, accounts: { ci: '111111111111' } })
  const a = sandbox.accounts[0]!
  const client = new CloudFormationClient({
    endpoint: sandbox.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: a.accessKeyId, secretAccessKey: a.secretAccessKey },
    maxAttempts: 1,
  })
  return {
    name: 'sandbox',
    client,
    stop: async () => {
      client.destroy()
      await sandbox.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** CreateStack, then DescribeStacks every 10 ms until the stack leaves CREATE_IN_PROGRESS. */
async function createOnce(c: CloudFormationClient, name: string): Promise<number> {
  const t0 = performance.now()
  await c.send(new CreateStackCommand({ StackName: name, TemplateBody: TEMPLATE }))
  for (;;) {
    const s = (await c.send(new DescribeStacksCommand({ StackName: name }))).Stacks?.[0]?.StackStatus
    if (s === 'CREATE_COMPLETE') return performance.now() - t0
    if (s !== 'CREATE_IN_PROGRESS') throw new Error(`${name}: ${s}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

async function measure(s: Server, runs: number): Promise<number[]> {
  await createOnce(s.client, 'warmup') // first-use costs (the specification database, Python imports)
  const out: number[] = []
  for (let i = 0; i < runs; i++) out.push(await createOnce(s.client, `bench-${i}`))
  return out
}

const fmt = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '–')

/** The benchmark. */
export const run: BenchRun = async ({ quick }) => {
  const runs = quick ? 5 : 25
  const ours = await startOurs()
  const moto = await startMoto()
  try {
    const a = await measure(ours, runs)
    const b = moto ? await measure(moto, runs) : []
    const ma = median(a)
    const mb = median(b)
    const lines = [
      `CreateStack → CREATE_COMPLETE of a KMS key + versioned SSE-KMS bucket + bucket policy stack, AWS SDK v3 polling DescribeStacks every 10 ms, ${runs} stacks each after one warm-up, both servers on loopback in the same run.`,
      '',
      '| server | median ms | min ms | max ms |',
      '|---|---:|---:|---:|',
      `| crosspipe sandbox | ${fmt(ma)} | ${fmt(Math.min(...a))} | ${fmt(Math.max(...a))} |`,
      moto
        ? `| moto | ${fmt(mb)} | ${fmt(Math.min(...b))} | ${fmt(Math.max(...b))} |`
        : '| moto | not installed | | |',
      '',
      moto ? `Ratio (moto / sandbox, medians): ${fmt(mb / ma)}×.` : '',
      `The sandbox also validates every property against the resource specification and authorizes each KMS and S3 call through the IAM engine; moto does neither. Load average at the end: ${loadavg()
        .map((x) => x.toFixed(1))
        .join(' / ')}.`,
    ]
    return {
      title: 'CloudFormation: CreateStack to CREATE_COMPLETE, sandbox beside moto',
      markdown: lines.join('\n'),
    }
  } finally {
    await ours.stop()
    await moto?.stop()
  }
}
