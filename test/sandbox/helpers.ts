// Shared set-up for the sandbox tests: a sandbox on a free loopback port in a temporary state
// directory, and SDK v3 clients for its accounts.
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { IAMClient } from '@aws-sdk/client-iam'
import { KMSClient } from '@aws-sdk/client-kms'
import { S3Client } from '@aws-sdk/client-s3'
import { STSClient } from '@aws-sdk/client-sts'
import { SignatureV4 } from '@smithy/signature-v4'
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

/** The SHA-256 the SDK's signer wants (hash, or HMAC with a secret), from node:crypto. */
export class Sha256 {
  private h: Hash | Hmac
  constructor(private readonly secret?: string | Uint8Array | ArrayBuffer | ArrayBufferView) {
    this.h = this.make()
  }
  private make(): Hash | Hmac {
    const s = this.secret
    if (s === undefined) return createHash('sha256')
    return createHmac('sha256', typeof s === 'string' ? s : Buffer.from(s as Uint8Array))
  }
  reset(): void {
    this.h = this.make()
  }
  update(data: string | Uint8Array | ArrayBuffer | ArrayBufferView): void {
    this.h.update(typeof data === 'string' ? data : Buffer.from(data as Uint8Array))
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(this.h.digest())
  }
}

/** A presigned S3 URL made with the SDK's own signer, as @aws-sdk/s3-request-presigner does (UNSIGNED-PAYLOAD). */
export async function presignS3(
  h: Harness,
  creds: Creds,
  method: string,
  bucket: string,
  key: string,
  expiresIn: number,
  signingDate?: Date,
): Promise<string> {
  const url = new URL(`${h.sandbox.endpoint}/${bucket}/${encodeURIComponent(key)}`)
  const signer = new SignatureV4({
    service: 's3',
    region: 'us-east-1',
    credentials: creds,
    sha256: Sha256,
    uriEscapePath: false,
  })
  const signed = await signer.presign(
    {
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query: {},
      headers: { host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    },
    { expiresIn, signingDate, unsignableHeaders: new Set(), signableHeaders: new Set(['host']) },
  )
  const qs = Object.entries(signed.query ?? {})
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&')
  return `${url.origin}${signed.path}?${qs}`
}

/** Signs a raw request with SigV4 (for tests that tamper with what was signed). */
export async function signRaw(o: {
  endpoint: string
  creds: Creds
  service: string
  method: string
  path: string
  headers: Record<string, string>
  body?: string
  signingDate?: Date
  region?: string
}): Promise<{ url: string; headers: Record<string, string> }> {
  const url = new URL(o.endpoint + o.path)
  const signer = new SignatureV4({
    service: o.service,
    region: o.region ?? 'us-east-1',
    credentials: o.creds,
    sha256: Sha256,
    uriEscapePath: o.service !== 's3',
  })
  const query: Record<string, string> = {}
  for (const [k, v] of url.searchParams) query[k] = v
  const signed = await signer.sign(
    {
      method: o.method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query,
      headers: { host: url.host, ...o.headers },
      body: o.body,
    },
    { signingDate: o.signingDate },
  )
  return { url: url.toString(), headers: signed.headers }
}
