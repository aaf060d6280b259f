// Shared set-up for the sandbox tests: a sandbox on a free loopback port in a temporary state
// directory, and SDK v3 clients for its accounts.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { IAMClient } from '@aws-sdk/client-iam'
import { KMSClient } from '@aws-sdk/client-kms'
import { S3Client } from '@aws-sdk/client-s3'
import { STSClient } from '@aws-sdk/client-sts'
import { SignatureV4 } from '@smithy/signature-v4'
import {
  sandboxEnv,
  startSandbox,
  type RunningSandbox,
  type StartSandboxOptions,
} from '../../src/sandbox/index.js'
import { serviceModel } from '../../src/sandbox/operations/index.js'

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

/**
 * A Python script's standard output, run as a client of the sandbox with a profile's credentials
 * (none of this process's AWS_* keys): for boto3, a client nobody here wrote. Rejects with its
 * standard error.
 */
export async function runPython(h: Harness, profile: string, script: string): Promise<string> {
  const r = await runTool('python3', ['-c', script], clientEnv(h.dir, profile))
  if (r.code !== 0) throw new Error(r.err)
  return r.out
}

/**
 * The environment of a client nobody here wrote (the AWS CLI, boto3) run against the sandbox as a
 * profile: this process's environment with the sandbox's profile files, and none of its own AWS_*
 * keys, which would take precedence over the profile.
 */
export function clientEnv(dir: string, profile: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...sandboxEnv(dir, profile) }
  delete env['AWS_ACCESS_KEY_ID']
  delete env['AWS_SECRET_ACCESS_KEY']
  delete env['AWS_SESSION_TOKEN']
  return env
}

/**
 * Why a test of a service model's validation messages cannot run on this machine (the models were
 * built without botocore, so they carry no constraints), or false; with `boto3`, also when python3
 * has no boto3.
 */
export function skipModelMessages(service: string, client?: 'boto3'): string | false {
  if (client && spawnSync('python3', ['-c', 'import boto3'], { stdio: 'ignore' }).status !== 0)
    return 'python3 with boto3 is not installed on this machine'
  return serviceModel(service).source.startsWith('botocore@')
    ? false
    : 'the models were built without botocore, so they carry no constraints'
}

/**
 * The start of a boto3 script: a client of `service` named after it, with botocore's own input
 * checks off (every constraint is then the sandbox's to find) and one attempt, and `err(f)`, the
 * [code, message] of a call that fails.
 */
export function boto3Client(service: string): string {
  return `
import json, datetime, boto3
from botocore.config import Config
from botocore.exceptions import ClientError
${service} = boto3.client('${service}', config=Config(parameter_validation=False, retries={'max_attempts': 1}))
def err(f):
    try:
        f()
    except ClientError as e:
        return [e.response['Error']['Code'], e.response['Error']['Message']]
`
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

const hmacOf = (k: Buffer | string, d: string) => createHmac('sha256', k).update(d).digest()
const sha256Of = (d: string | Buffer) => createHash('sha256').update(d).digest('hex')
const s3Key = (secret: string, day: string) =>
  hmacOf(hmacOf(hmacOf(hmacOf('AWS4' + secret, day), 'us-east-1'), 's3'), 'aws4_request')

/** A presigned S3 GET made by hand, so that `X-Amz-Expires` can be what no SDK would sign. */
export function presignByHand(h: Harness, creds: Creds, path: string, expires: number): string {
  const url = new URL(h.sandbox.endpoint + path)
  const amzDate = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')
  const day = amzDate.slice(0, 8)
  const scope = `${day}/us-east-1/s3/aws4_request`
  const q: [string, string][] = [
    ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
    ['X-Amz-Credential', `${creds.accessKeyId}/${scope}`],
    ['X-Amz-Date', amzDate],
    ['X-Amz-Expires', String(expires)],
    ['X-Amz-SignedHeaders', 'host'],
  ]
  const query = q.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')
  const canonical = ['GET', url.pathname, query, `host:${url.host}\n`, 'host', 'UNSIGNED-PAYLOAD'].join('\n')
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Of(canonical)].join('\n')
  const sig = createHmac('sha256', s3Key(creds.secretAccessKey, day)).update(toSign).digest('hex')
  return `${url.origin}${url.pathname}?${query}&X-Amz-Signature=${sig}`
}

/**
 * An aws-chunked S3 PUT built by hand, as a streaming client sends it: chunk signatures chained from
 * the seed signature, then optionally a trailer (`x-amz-checksum-crc32`), unsigned or signed.
 */
export async function awsChunkedPut(
  h: Harness,
  creds: Creds,
  path: string,
  data: readonly Buffer[],
  mode: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' | 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
  trailer: 'none' | 'unsigned' | 'signed',
): Promise<{ url: string; headers: Record<string, string>; body: Buffer }> {
  const { crc32 } = await import('node:zlib')
  const whole = Buffer.concat(data)
  const headers: Record<string, string> = {
    'x-amz-content-sha256': mode,
    'content-encoding': 'aws-chunked',
    'x-amz-decoded-content-length': String(whole.length),
  }
  if (mode.endsWith('-TRAILER')) headers['x-amz-trailer'] = 'x-amz-checksum-crc32'
  const s = await signRaw({
    endpoint: h.sandbox.endpoint,
    creds,
    service: 's3',
    method: 'PUT',
    path,
    headers,
  })
  const seed = /Signature=([0-9a-f]{64})/.exec(s.headers['authorization']!)![1]!
  const amzDate = s.headers['x-amz-date']!
  const day = amzDate.slice(0, 8)
  const scope = `${day}/us-east-1/s3/aws4_request`
  const key = s3Key(creds.secretAccessKey, day)
  const parts: Buffer[] = []
  let prev = seed
  for (const chunk of [...data, Buffer.alloc(0)]) {
    const sts = ['AWS4-HMAC-SHA256-PAYLOAD', amzDate, scope, prev, sha256Of(''), sha256Of(chunk)].join('\n')
    prev = createHmac('sha256', key).update(sts).digest('hex')
    parts.push(
      Buffer.from(`${chunk.length.toString(16)};chunk-signature=${prev}\r\n`),
      chunk,
      Buffer.from('\r\n'),
    )
  }
  if (trailer !== 'none') {
    const crc = Buffer.alloc(4)
    crc.writeUInt32BE(crc32(whole))
    const line = `x-amz-checksum-crc32:${crc.toString('base64')}`
    parts.pop() // the final chunk's CRLF: the trailer follows it
    parts.push(Buffer.from(`${line}\r\n`))
    if (trailer === 'signed') {
      const sts = ['AWS4-HMAC-SHA256-TRAILER', amzDate, scope, prev, sha256Of(`${line}\n`)].join('\n')
      parts.push(
        Buffer.from(`x-amz-trailer-signature:${createHmac('sha256', key).update(sts).digest('hex')}\r\n`),
      )
    }
    parts.push(Buffer.from('\r\n'))
  }
  const body = Buffer.concat(parts)
  return { url: s.url, headers: { ...s.headers, 'content-length': String(body.length) }, body }
}

/**
 * Runs a client nobody here wrote (the AWS CLI, python3 with boto3) asynchronously, since the
 * sandbox answers from this process's event loop: its exit code and output.
 */
export function runTool(
  cmd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) =>
    execFile(cmd, args, { env, encoding: 'utf8', timeout: 120_000 }, (e, out, err) =>
      resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err }),
    ),
  )
}

/** A raw S3 request signed as `creds` (unsigned payload): its status, error code and text. */
export async function s3Raw(
  h: Harness,
  creds: Creds,
  o: { method: string; path: string; body?: string; headers?: Record<string, string> },
): Promise<{ status: number; code: string | undefined; text: string }> {
  const body = o.body === '' ? undefined : o.body
  const s = await signRaw({
    endpoint: h.sandbox.endpoint,
    creds,
    service: 's3',
    method: o.method,
    path: o.path,
    headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...o.headers },
    body,
  })
  const r = await fetch(s.url, { method: o.method, headers: s.headers, body })
  const text = await r.text()
  return { status: r.status, code: /<Code>([^<]+)<\/Code>/.exec(text)?.[1], text }
}

/** A sandbox in a child process of its own, as `crosspipe sandbox` runs it. */
export interface SandboxProcess {
  readonly child: ChildProcess
  readonly endpoint: string
  /** The ci account's root keys. */
  readonly creds: Creds
  /** What the process has written to its standard output so far (with `stdout: 'capture'`). */
  readonly log: () => string
}

/**
 * Starts the sandbox from its sources in a child process on a free port with `stateDir`, and
 * resolves once it has written its state file. `stdout: 'capture'` keeps its standard output for
 * {@link SandboxProcess.log} (the sandbox's log lines); otherwise it is dropped.
 */
export async function startSandboxProcess(
  stateDir: string,
  opts: { readonly stdout?: 'capture' } = {},
): Promise<SandboxProcess> {
  const entry = join(import.meta.dirname, '../../src/sandbox/process.ts')
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', entry, JSON.stringify({ stateDir, port: 0, accounts: { ci: '111111111111' } })],
    { stdio: ['ignore', opts.stdout === 'capture' ? 'pipe' : 'ignore', 'inherit'] },
  )
  let log = ''
  child.stdout?.on('data', (c: Buffer) => (log += c.toString()))
  const end = Date.now() + 60_000
  for (;;) {
    const f = join(stateDir, 'sandbox.json')
    if (existsSync(f)) {
      const s = JSON.parse(readFileSync(f, 'utf8')) as { pid: number; endpoint: string }
      if (s.pid === child.pid) {
        const c = readFileSync(join(stateDir, 'credentials'), 'utf8')
        return {
          child,
          endpoint: s.endpoint,
          creds: {
            accessKeyId: /aws_access_key_id = (\S+)/.exec(c)![1]!,
            secretAccessKey: /aws_secret_access_key = (\S+)/.exec(c)![1]!,
          },
          log: () => log,
        }
      }
    }
    if (child.exitCode !== null) throw new Error(`the sandbox exited (${child.exitCode}): ${log}`)
    if (Date.now() > end) {
      child.kill('SIGKILL')
      throw new Error(`the sandbox did not start within 60 s: ${log}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Stops a sandbox process (SIGTERM) and waits for it to exit. */
export async function stopSandboxProcess(p: { readonly child: ChildProcess }): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return
  p.child.kill('SIGTERM')
  await new Promise((r) => p.child.once('exit', r))
}
