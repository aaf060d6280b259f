// Shared set-up for the sandbox tests: a sandbox on a free loopback port in a temporary state
// directory, and SDK v3 clients for its accounts.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { IAMClient } from '@aws-sdk/client-iam'
import { KMSClient } from '@aws-sdk/client-kms'
import { S3Client } from '@aws-sdk/client-s3'
import { STSClient } from '@aws-sdk/client-sts'
import { startSandbox, type RunningSandbox, type StartSandboxOptions } from '../../src/sandbox/index.js'

export interface Creds {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
}

export interface Harness {
  sandbox: RunningSandbox
  dir: string
  creds(name: string): Creds
  clients(c: Creds): { sts: STSClient; iam: IAMClient; kms: KMSClient; s3: S3Client }
  close(): Promise<void>
}

export const ACCOUNTS = { ci: '111111111111', dev: '222222222222', prod: '333333333333' }

export async function harness(opts: Partial<StartSandboxOptions> = {}): Promise<Harness> {
  const dir = opts.stateDir ?? mkdtempSync(join(tmpdir(), 'crosspipe-sandbox-'))
  const sandbox = await startSandbox({ port: 0, accounts: ACCOUNTS, ...opts, stateDir: dir })
  const made: { destroy(): void }[] = []
  return {
    sandbox,
    dir,
    creds(name) {
      const a = sandbox.accounts.find((x) => x.name === name)!
      return { accessKeyId: a.accessKeyId, secretAccessKey: a.secretAccessKey }
    },
    clients(c) {
      const base = { endpoint: sandbox.endpoint, region: 'us-east-1', credentials: c, maxAttempts: 1 }
      const out = {
        sts: new STSClient(base),
        iam: new IAMClient(base),
        kms: new KMSClient(base),
        s3: new S3Client({ ...base, forcePathStyle: true }),
      }
      made.push(out.sts, out.iam, out.kms, out.s3)
      return out
    },
    async close() {
      for (const c of made) c.destroy()
      await sandbox.stop()
      if (!opts.stateDir) rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** The error name and HTTP status of a rejected SDK call. */
export async function failure(
  p: Promise<unknown>,
): Promise<{ name: string; status: number | undefined; message: string }> {
  try {
    await p
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } }
    return { name: err.name, status: err.$metadata?.httpStatusCode, message: err.message }
  }
  throw new Error('expected the call to fail')
}

export const trustAccount = (account: string) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'sts:AssumeRole' },
    ],
  })

export const allowAll = (action: string, resource = '*') =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: action, Resource: resource }],
  })
