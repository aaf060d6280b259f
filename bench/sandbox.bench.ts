/**
 * Sandbox benchmark: the sandbox (in its own process, as `crosspipe sandbox --detach` runs it)
 * beside moto (`python3 -m moto.server`) in the same run, on loopback, 8 concurrent clients:
 * S3 PutObject and GetObject of 1 KiB and 1 MiB, KMS Encrypt, STS AssumeRole — requests per second
 * and p50/p99 latency — and the resident memory of each server holding 10,000 objects.
 *
 * The client is deliberately thin (node:http with keep-alive and a few lines of SigV4) so that
 * the figures measure the servers, not an SDK: both servers get exactly the same requests.
 * The sandbox verifies every signature and authorizes every request through the IAM engine; moto
 * does neither, which is worth remembering when reading the ratios.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash, createHmac, randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { createServer } from 'node:net'
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { crc32 } from 'node:zlib'
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { median, percentile, type BenchRun } from './types.js'

interface Creds {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
}

interface Target {
  name: string
  endpoint: string
  pid: number
  stop(): Promise<void>
}

const REGION = 'us-east-1'
const agent = new Agent({ keepAlive: true, maxSockets: 16 })

function hmac(k: Buffer | string, d: string): Buffer {
  return createHmac('sha256', k).update(d).digest()
}
const keyCache = new Map<string, Buffer>()

/** SigV4 header signing, enough for these requests (path needs no escaping, query sorted by caller). */
function sign(
  creds: Creds,
  service: string,
  method: string,
  host: string,
  path: string,
  query: string,
  headers: Record<string, string>,
  payloadHash: string,
): Record<string, string> {
  const amzDate = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')
  const date = amzDate.slice(0, 8)
  const h: Record<string, string> = {
    ...headers,
    host,
    'x-amz-date': amzDate,
    'x-amz-content-sha256': payloadHash,
  }
  if (creds.sessionToken) h['x-amz-security-token'] = creds.sessionToken
  const names = Object.keys(h)
    .map((k) => k.toLowerCase())
    .sort()
  const lower = Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]))
  const canonical = [
    method,
    path,
    query,
    names.map((n) => `${n}:${lower[n]!.trim()}\n`).join(''),
    names.join(';'),
    payloadHash,
  ].join('\n')
  const scope = `${date}/${REGION}/${service}/aws4_request`
  const sts = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join(
    '\n',
  )
  const ck = `${creds.secretAccessKey}/${date}/${service}`
  let key = keyCache.get(ck)
  if (!key)
    keyCache.set(
      ck,
      (key = hmac(hmac(hmac(hmac('AWS4' + creds.secretAccessKey, date), REGION), service), 'aws4_request')),
    )
  const sig = createHmac('sha256', key).update(sts).digest('hex')
  h['authorization'] =
    `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${sig}`
  return h
}

function send(
  endpoint: string,
  creds: Creds,
  service: string,
  method: string,
  path: string,
  opts: { query?: string; headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<{ status: number; body: Buffer }> {
  const u = new URL(endpoint)
  // A Buffer is sent as it is (the 1 MiB rows would otherwise copy a MiB per request here).
  const body =
    opts.body === undefined
      ? Buffer.alloc(0)
      : Buffer.isBuffer(opts.body)
        ? opts.body
        : Buffer.from(opts.body)
  const payloadHash = service === 's3' ? 'UNSIGNED-PAYLOAD' : createHash('sha256').update(body).digest('hex')
  const headers = sign(
    creds,
    service,
    method,
    u.host,
    path,
    opts.query ?? '',
    { ...opts.headers, 'content-length': String(body.length) },
    payloadHash,
  )
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        method,
        path: path + (opts.query ? `?${opts.query}` : ''),
        headers,
        agent,
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }))
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

async function ok(p: Promise<{ status: number; body: Buffer }>): Promise<Buffer> {
  const r = await p
  if (r.status >= 300) throw new Error(`HTTP ${r.status}: ${r.body.toString('utf8').slice(0, 300)}`)
  return r.body
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

async function waitFor(fn: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await fn().catch(() => false)) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error('server did not start')
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  child.kill('SIGTERM')
  await new Promise((r) => child.once('exit', r))
}

async function startSandboxChild(): Promise<Target & { root: Creds; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'crosspipe-bench-'))
  // The built entry `crosspipe sandbox --detach` starts (`npm run bench` builds first), not the
  // TypeScript sources under tsx, whose loader thread a user's sandbox does not have.
  const entry = join(import.meta.dirname, '../dist/cli/process.js')
  const child = spawn(
    process.execPath,
    [entry, JSON.stringify({ stateDir: dir, port: 0, accounts: { ci: '111111111111' } })],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  )
  let endpoint = ''
  await waitFor(() => {
    const f = join(dir, 'sandbox.json')
    if (!existsSync(f)) return Promise.resolve(false)
    const s = JSON.parse(readFileSync(f, 'utf8')) as { pid: number; endpoint: string }
    endpoint = s.endpoint
    return Promise.resolve(s.pid === child.pid)
  }, 30_000)
  const creds = readFileSync(join(dir, 'credentials'), 'utf8')
  const root = {
    accessKeyId: /aws_access_key_id = (\S+)/.exec(creds)![1]!,
    secretAccessKey: /aws_secret_access_key = (\S+)/.exec(creds)![1]!,
  }
  return {
    name: 'crosspipe sandbox',
    endpoint,
    pid: child.pid!,
    root,
    dir,
    async stop() {
      await stopChild(child)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** bare-put-server.ts in a process of its own: the least a durable 1 MiB PutObject costs here. */
async function startBare(): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'crosspipe-bench-bare-'))
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'bare-put-server.ts'), dir],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  )
  const port = await new Promise<number>((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString('utf8')
      if (out.includes('\n')) resolve(Number(out.trim()))
    })
    child.once('exit', (code) => reject(new Error(`bare-put-server.ts exited (${String(code)})`)))
  })
  return {
    name: 'bare server',
    endpoint: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null) {
        child.stdin!.end()
        await new Promise((r) => child.once('exit', r))
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

async function startMoto(): Promise<Target | undefined> {
  const probe = spawn('python3', ['-c', 'import moto.server'], { stdio: 'ignore' })
  const code = await new Promise<number | null>((r) => probe.once('exit', r))
  if (code !== 0) return undefined
  const port = await freePort()
  const child = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    stdio: 'ignore',
  })
  const endpoint = `http://127.0.0.1:${port}`
  await waitFor(async () => (await fetch(`${endpoint}/moto-api/`)).ok, 30_000)
  return { name: 'moto 5.2.1', endpoint, pid: child.pid!, stop: () => stopChild(child) }
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 'NaN')
  return kb / 1024
}

interface Measure {
  rps: number
  p50: number
  p99: number
  n: number
  /** Server CPU time per request (ms), from /proc: less sensitive to a busy machine than wall time. */
  cpuMs: number
  /** This (the client's) process's CPU time per request (ms): it shares the machine's cores. */
  clientCpuMs: number
}

/** user + system CPU seconds of a process, from /proc/<pid>/stat (clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/** 8 clients, each sending requests back to back for `seconds`. */
/** The unmeasured load before each operation's measured seconds. */
const WARM_UP_MS = 1000

async function load(pid: number, seconds: number, op: (i: number) => Promise<unknown>): Promise<Measure> {
  const lat: number[] = []
  let i = 0
  // Warm up first with a second of the same load, not measured: connections, caches, the first
  // writes of each key, and the JIT (a server's first second of an operation runs code V8 has not
  // optimized yet; a sandbox that a user keeps running is past it).
  const warm = performance.now() + WARM_UP_MS
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (performance.now() < warm) await op(i++)
    }),
  )
  const cpu0 = cpuSeconds(pid)
  const client0 = process.cpuUsage()
  const start = performance.now()
  const end = start + seconds * 1000
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (performance.now() < end) {
        const t = performance.now()
        await op(i++)
        lat.push(performance.now() - t)
      }
    }),
  )
  const elapsed = (performance.now() - start) / 1000
  const cpuMs = ((cpuSeconds(pid) - cpu0) * 1000) / lat.length
  const client = process.cpuUsage(client0)
  const clientCpuMs = (client.user + client.system) / 1000 / lat.length
  return {
    rps: lat.length / elapsed,
    p50: median(lat),
    p99: percentile(lat, 99),
    n: lat.length,
    cpuMs,
    clientCpuMs,
  }
}

interface Setup {
  s3: Creds
  kms: Creds
  sts: Creds
  keyId: string
  roleArn: string
}

/** Bucket, key and an assumable role on a target; on the sandbox with a user allowed to assume the role. */
async function setUp(t: Target, root: Creds, sandbox: boolean): Promise<Setup> {
  const e = t.endpoint
  await ok(send(e, root, 's3', 'PUT', '/bench-bucket'))
  const key = JSON.parse(
    (
      await ok(
        send(e, root, 'kms', 'POST', '/', {
          headers: { 'x-amz-target': 'TrentService.CreateKey', 'content-type': 'application/x-amz-json-1.1' },
          body: '{}',
        }),
      )
    ).toString(),
  ) as {
    KeyMetadata: { KeyId: string }
  }
  const form = (o: Record<string, string>): { headers: Record<string, string>; body: string } => ({
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(o).toString(),
  })
  const trust = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111111111111:root' }, Action: 'sts:AssumeRole' },
    ],
  })
  const roleXml = (
    await ok(
      send(
        e,
        root,
        'iam',
        'POST',
        '/',
        form({
          Action: 'CreateRole',
          Version: '2010-05-08',
          RoleName: 'bench-role',
          AssumeRolePolicyDocument: trust,
        }),
      ),
    )
  ).toString()
  const roleArn = /<Arn>([^<]+)<\/Arn>/.exec(roleXml)![1]!
  let stsCreds = root
  if (sandbox) {
    // The root user may not assume roles: a user with an identity policy does.
    await ok(
      send(
        e,
        root,
        'iam',
        'POST',
        '/',
        form({ Action: 'CreateUser', Version: '2010-05-08', UserName: 'bench' }),
      ),
    )
    await ok(
      send(
        e,
        root,
        'iam',
        'POST',
        '/',
        form({
          Action: 'PutUserPolicy',
          Version: '2010-05-08',
          UserName: 'bench',
          PolicyName: 'p',
          PolicyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: roleArn }],
          }),
        }),
      ),
    )
    const k = (
      await ok(
        send(
          e,
          root,
          'iam',
          'POST',
          '/',
          form({ Action: 'CreateAccessKey', Version: '2010-05-08', UserName: 'bench' }),
        ),
      )
    ).toString()
    stsCreds = {
      accessKeyId: /<AccessKeyId>([^<]+)</.exec(k)![1]!,
      secretAccessKey: /<SecretAccessKey>([^<]+)</.exec(k)![1]!,
    }
  }
  return { s3: root, kms: root, sts: stsCreds, keyId: key.KeyMetadata.KeyId, roleArn }
}

type Row = { op: string; results: Map<string, Measure> }

async function measureAll(t: Target, s: Setup, seconds: number): Promise<Row[]> {
  const e = t.endpoint
  const small = randomBytes(1024)
  const big = randomBytes(1024 * 1024)
  await ok(send(e, s.s3, 's3', 'PUT', '/bench-bucket/get-1k', { body: small }))
  await ok(send(e, s.s3, 's3', 'PUT', '/bench-bucket/get-1m', { body: big }))
  const plaintext = Buffer.from('x'.repeat(64)).toString('base64')
  const ops: [string, (i: number) => Promise<unknown>][] = [
    [
      'S3 PutObject 1 KiB',
      (i) => ok(send(e, s.s3, 's3', 'PUT', `/bench-bucket/put-1k-${i % 2000}`, { body: small })),
    ],
    ['S3 GetObject 1 KiB', () => ok(send(e, s.s3, 's3', 'GET', '/bench-bucket/get-1k'))],
    [
      'S3 PutObject 1 MiB',
      (i) => ok(send(e, s.s3, 's3', 'PUT', `/bench-bucket/put-1m-${i % 50}`, { body: big })),
    ],
    ['S3 GetObject 1 MiB', () => ok(send(e, s.s3, 's3', 'GET', '/bench-bucket/get-1m'))],
    [
      'KMS Encrypt',
      () =>
        ok(
          send(e, s.kms, 'kms', 'POST', '/', {
            headers: { 'x-amz-target': 'TrentService.Encrypt', 'content-type': 'application/x-amz-json-1.1' },
            body: JSON.stringify({ KeyId: s.keyId, Plaintext: plaintext }),
          }),
        ),
    ],
    [
      'STS AssumeRole',
      (i) =>
        ok(
          send(e, s.sts, 'sts', 'POST', '/', {
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({
              Action: 'AssumeRole',
              Version: '2011-06-15',
              RoleArn: s.roleArn,
              RoleSessionName: `bench-${i}`,
            }).toString(),
          }),
        ),
    ],
  ]
  const rows: Row[] = []
  for (const [op, fn] of ops) rows.push({ op, results: new Map([[t.name, await load(t.pid, seconds, fn)]]) })
  return rows
}

async function fill(t: Target, creds: Creds, n: number): Promise<number> {
  const body = randomBytes(1024)
  let i = 0
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (i < n) await ok(send(t.endpoint, creds, 's3', 'PUT', `/bench-bucket/fill-${i++}`, { body }))
    }),
  )
  return rssMiB(t.pid)
}

/** Resident memory of a process and its peak since the last reset (VmHWM), in MiB. */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 'NaN') / 1024
  return { rss: kb('VmRSS'), peak: kb('VmHWM') }
}

/** Resets a process's peak resident memory (writing 5 to clear_refs: proc(5)); false where not allowed. */
function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5')
    return true
  } catch {
    return false
  }
}

interface BigUploads {
  /** Highest resident memory seen during the uploads (VmHWM when it could be reset, else sampled). */
  peak: number
  /** Resident memory before and 2 s after. */
  before: number
  after: number
  seconds: number
}

/**
 * `n` parallel PutObject requests of `size` bytes each, with a signed payload hash (the server
 * must hash what it receives), sent from one shared buffer so the client holds it once.
 */
async function bigUploads(t: Target, creds: Creds, n: number, size: number): Promise<BigUploads> {
  const body = randomBytes(size)
  const hash = createHash('sha256').update(body).digest('hex')
  const u = new URL(t.endpoint)
  const before = memory(t.pid).rss
  const exact = resetPeak(t.pid)
  let sampled = 0
  const timer = setInterval(() => (sampled = Math.max(sampled, memory(t.pid).rss)), 20)
  const start = performance.now()
  try {
    await Promise.all(
      Array.from({ length: n }, (_, i) => {
        const path = `/bench-bucket/big-${i}`
        const headers = sign(creds, 's3', 'PUT', u.host, path, '', { 'content-length': String(size) }, hash)
        return new Promise<void>((resolve, reject) => {
          const req = request({ host: u.hostname, port: u.port, method: 'PUT', path, headers }, (res) => {
            const chunks: Buffer[] = []
            res.on('data', (c: Buffer) => chunks.push(c))
            res.on('end', () =>
              (res.statusCode ?? 0) < 300
                ? resolve()
                : reject(
                    new Error(`HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString().slice(0, 300)}`),
                  ),
            )
          })
          req.on('error', reject)
          req.end(body)
        })
      }),
    )
  } finally {
    clearInterval(timer)
  }
  const seconds = (performance.now() - start) / 1000
  const peak = exact ? memory(t.pid).peak : Math.max(sampled, memory(t.pid).rss)
  await new Promise((r) => setTimeout(r, 2000))
  return { peak, before, after: memory(t.pid).rss, seconds }
}

/**
 * `n` parallel PutObject requests of `size` bytes each made with the AWS SDK for JavaScript v3 as
 * users call it with a stream body (a Readable and its ContentLength): the SDK sends it aws-chunked
 * (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`, a CRC32 trailer) with Transfer-Encoding: chunked. The body
 * is made 1 MiB at a time from one shared buffer, so the client never holds it whole.
 */
async function bigUploadsSdk(t: Target, creds: Creds, n: number, size: number): Promise<BigUploads> {
  const block = randomBytes(1024 * 1024)
  const client = new S3Client({
    endpoint: t.endpoint,
    region: REGION,
    credentials: creds,
    forcePathStyle: true,
    maxAttempts: 1,
    requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets: n }) },
  })
  let mode = ''
  client.middlewareStack.add(
    (next) => async (args) => {
      mode = (args.request as { headers: Record<string, string> }).headers['x-amz-content-sha256'] ?? ''
      return next(args)
    },
    { step: 'finalizeRequest', priority: 'low' },
  )
  const body = function* (): Generator<Buffer> {
    for (let off = 0; off < size; off += block.length)
      yield block.subarray(0, Math.min(block.length, size - off))
  }
  const before = memory(t.pid).rss
  const exact = resetPeak(t.pid)
  let sampled = 0
  const timer = setInterval(() => (sampled = Math.max(sampled, memory(t.pid).rss)), 20)
  const start = performance.now()
  try {
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        client.send(
          new PutObjectCommand({
            Bucket: 'bench-bucket',
            Key: `big-sdk-${i}`,
            Body: Readable.from(body()),
            ContentLength: size,
          }),
        ),
      ),
    )
  } finally {
    clearInterval(timer)
    client.destroy()
  }
  if (mode !== 'STREAMING-UNSIGNED-PAYLOAD-TRAILER')
    throw new Error(
      `the SDK sent x-amz-content-sha256 ${mode}, not aws-chunked: the figure would not be about aws-chunked`,
    )
  const seconds = (performance.now() - start) / 1000
  const peak = exact ? memory(t.pid).peak : Math.max(sampled, memory(t.pid).rss)
  await new Promise((r) => setTimeout(r, 2000))
  return { peak, before, after: memory(t.pid).rss, seconds }
}

/**
 * What any server that keeps S3's promises for a 1 MiB PutObject cannot go below on this machine,
 * measured in the same run, so that the 1 MiB rows can be read against it: the durable write
 * (8 writers, each: open a new file, write 1 MiB, fsync, close, rename into place, fsync the
 * directory — what the sandbox's body store does) and the hashing (MD5 for the ETag, which S3
 * returns in PutObject's answer, and CRC32, which names and later verifies the stored body),
 * on one core. The sandbox hashes on worker threads (store/body-workers.ts: one per core, at most
 * four), so the hashing bounds it at that rate times its workers, less what the rest of a request
 * takes from the same cores. moto does neither: it keeps bodies in memory.
 */
async function floors(dir: string, seconds: number): Promise<{ durablePerS: number; hashPerS: number }> {
  const { open, rename, mkdir, rm } = await import('node:fs/promises')
  const root = join(dir, 'floor')
  await mkdir(join(root, 'tmp'), { recursive: true })
  await mkdir(join(root, 'bodies'), { recursive: true })
  const body = randomBytes(1024 * 1024)
  let n = 0
  const end = performance.now() + seconds * 1000
  const start = performance.now()
  await Promise.all(
    Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; performance.now() < end; i++) {
        const name = `${w}-${i % 50}`
        const tmp = join(root, 'tmp', name)
        const fh = await open(tmp, 'w', 0o600)
        await fh.write(body, 0, body.length, 0)
        await fh.sync()
        await fh.close()
        await rename(tmp, join(root, 'bodies', name))
        const dh = await open(join(root, 'bodies'), 'r')
        await dh.sync()
        await dh.close()
        n++
      }
    }),
  )
  const durablePerS = n / ((performance.now() - start) / 1000)
  await rm(root, { recursive: true, force: true })
  let h = 0
  const hEnd = performance.now() + 1000
  const hStart = performance.now()
  while (performance.now() < hEnd) {
    createHash('md5').update(body).digest()
    crc32(body)
    h++
  }
  return { durablePerS, hashPerS: h / ((performance.now() - hStart) / 1000) }
}

const fmt = (n: number, d = 0): string => (Number.isFinite(n) ? n.toFixed(d) : '–')

/** The sandbox benchmark section. */
export const run: BenchRun = async (ctx) => {
  const seconds = ctx.quick ? 2 : 6
  const objects = ctx.quick ? 2000 : 10_000
  const sandbox = await startSandboxChild()
  const moto = await startMoto()
  try {
    const sbRows = await measureAll(sandbox, await setUp(sandbox, sandbox.root, true), seconds)
    const motoRoot = {
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    }
    const motoRows = moto ? await measureAll(moto, await setUp(moto, motoRoot, false), seconds) : []
    const bare = await startBare()
    let bareMib: Measure
    try {
      const big = randomBytes(1024 * 1024)
      bareMib = await load(bare.pid, seconds, (i) =>
        ok(send(bare.endpoint, sandbox.root, 's3', 'PUT', `/bench-bucket/put-1m-${i % 50}`, { body: big })),
      )
    } finally {
      await bare.stop()
    }
    const floor = await floors(sandbox.dir, seconds)
    const sbMem = await fill(sandbox, sandbox.root, objects)
    const motoMem = moto ? await fill(moto, motoRoot, objects) : NaN
    const bigN = 10
    const bigSize = (ctx.quick ? 20 : 100) * 1024 * 1024
    const sbBig = await bigUploads(sandbox, sandbox.root, bigN, bigSize)
    const motoBig = moto ? await bigUploads(moto, motoRoot, bigN, bigSize) : undefined
    const sbSdk = await bigUploadsSdk(sandbox, sandbox.root, bigN, bigSize)
    const motoSdk = moto ? await bigUploadsSdk(moto, motoRoot, bigN, bigSize) : undefined
    const lines = [
      `Loopback, 8 concurrent clients (node:http keep-alive, hand-rolled SigV4), ${seconds} s per operation after ${WARM_UP_MS / 1000} s of the same load not measured (a warm-up: connections, first writes, the JIT), both servers in the same run.`,
      `The sandbox runs in its own Node process, verifies every signature, authorizes every request through the IAM engine and persists every write (SQLite WAL; bodies over 64 KiB in fsynced files); ${moto ? 'moto keeps everything in memory and checks neither signatures nor permissions' : 'moto is not installed on this machine, so its columns are empty'}.`,
      '',
      '| operation | sandbox req/s | sandbox p50 / p99 ms | sandbox CPU ms/req | moto req/s | moto p50 / p99 ms | moto CPU ms/req | throughput ratio | CPU ratio |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ]
    for (const row of sbRows) {
      const a = row.results.get(sandbox.name)!
      const b = motoRows.find((r) => r.op === row.op)?.results.get(moto?.name ?? '')
      lines.push(
        `| ${row.op} | ${fmt(a.rps)} | ${fmt(a.p50, 1)} / ${fmt(a.p99, 1)} | ${fmt(a.cpuMs, 2)} | ${b ? fmt(b.rps) : '–'} | ${b ? `${fmt(b.p50, 1)} / ${fmt(b.p99, 1)}` : '–'} | ${b ? fmt(b.cpuMs, 2) : '–'} | ${b ? `${fmt(a.rps / b.rps, 1)}×` : '–'} | ${b ? `${fmt(b.cpuMs / a.cpuMs, 1)}×` : '–'} |`,
      )
    }
    lines.push(
      '',
      `Machine load average when the run ended: ${loadavg()
        .map((x) => x.toFixed(1))
        .join(
          ' / ',
        )} (${cpus().length} CPUs). "CPU ratio" is moto's CPU time per request over the sandbox's: how much less work the sandbox does for the same request, which a busy machine distorts less than wall-clock throughput.`,
    )
    const mibRow = (op: string): Measure | undefined =>
      sbRows.find((r) => r.op === op)?.results.get(sandbox.name)
    const motoMib = motoRows.find((r) => r.op === 'S3 PutObject 1 MiB')?.results.get(moto?.name ?? '')
    // As store/body-workers.ts sizes its pool.
    const workers = Math.max(1, Math.min(4, availableParallelism()))
    const put = mibRow('S3 PutObject 1 MiB')
    const cpuBound = (cpus().length * 1000) / (put?.cpuMs ?? NaN)
    const cpuBoundWithClient = (cpus().length * 1000) / ((put?.cpuMs ?? NaN) + (put?.clientCpuMs ?? NaN))
    lines.push(
      '',
      `What bounds a 1 MiB PutObject on this machine, measured in the same run: durable writes of 1 MiB (8 writers; open, write, fsync, close, rename, fsync the directory, as the body store does) ${fmt(floor.durablePerS)}/s; MD5 (the ETag PutObject answers) and CRC32 (the stored body's name and check) of 1 MiB ${fmt(floor.hashPerS)}/s on one core. The sandbox hashes on ${workers} worker thread${workers === 1 ? '' : 's'} (one per core, at most four) while its event loop does the rest, so ${fmt(floor.hashPerS * workers)}/s${motoMib ? ` (${fmt((floor.hashPerS * workers) / motoMib.rps, 1)}× moto's rate)` : ''} is its ceiling if nothing else ran on those cores; and its whole CPU time per request (${fmt(put?.cpuMs ?? NaN, 2)} ms, every thread) bounds it at ${fmt(cpuBound)}/s on ${cpus().length} cores; with the CPU the benchmark's own client spends on each request on the same cores (${fmt(put?.clientCpuMs ?? NaN, 2)} ms), at ${fmt(cpuBoundWithClient)}/s${motoMib ? ` (${fmt(cpuBoundWithClient / motoMib.rps, 1)}× moto's rate)` : ''}. It reached ${fmt(((put?.rps ?? NaN) / cpuBoundWithClient) * 100)}% of that last bound.`,
      '',
      `A server that does only what those two promises take (bench/bare-put-server.ts: read the body, then on one of eight worker threads MD5 it, write it to a new file, fsync, rename, fsync the directory; no signature, no authorization, no index), sent the same requests in the same run: ${fmt(bareMib.rps)}/s${motoMib ? ` (${fmt(bareMib.rps / motoMib.rps, 1)}× moto's rate)` : ''}, p50 / p99 ${fmt(bareMib.p50, 1)} / ${fmt(bareMib.p99, 1)} ms, ${fmt(bareMib.cpuMs, 2)} ms of CPU per request. The sandbox reached ${fmt(((put?.rps ?? NaN) / bareMib.rps) * 100)}% of its rate.`,
    )
    lines.push(
      '',
      `Resident memory after ${objects.toLocaleString('en')} more 1 KiB objects: sandbox ${fmt(sbMem)} MiB, moto ${fmt(motoMem)} MiB.`,
    )
    lines.push(
      '',
      `${bigN} parallel PutObject requests of ${bigSize / 1024 / 1024} MiB each (one connection each), resident memory of the server (target, issue 11: under 300 MiB for the sandbox). "signed payload hash": node:http with the body's SHA-256 in x-amz-content-sha256; "SDK v3 aws-chunked": the AWS SDK for JavaScript v3 with a stream body, as it sends it by default (aws-chunked, STREAMING-UNSIGNED-PAYLOAD-TRAILER, CRC32 trailer):`,
      '',
      '| server | upload | before MiB | peak during MiB | 2 s after MiB | seconds for all |',
      '|---|---|---:|---:|---:|---:|',
      `| crosspipe sandbox | signed payload hash | ${fmt(sbBig.before)} | ${fmt(sbBig.peak)} | ${fmt(sbBig.after)} | ${fmt(sbBig.seconds, 1)} |`,
      `| crosspipe sandbox | SDK v3 aws-chunked | ${fmt(sbSdk.before)} | ${fmt(sbSdk.peak)} | ${fmt(sbSdk.after)} | ${fmt(sbSdk.seconds, 1)} |`,
      motoBig
        ? `| moto 5.2.1 | signed payload hash | ${fmt(motoBig.before)} | ${fmt(motoBig.peak)} | ${fmt(motoBig.after)} | ${fmt(motoBig.seconds, 1)} |`
        : '| moto | signed payload hash | – | – | – | – |',
      motoSdk
        ? `| moto 5.2.1 | SDK v3 aws-chunked | ${fmt(motoSdk.before)} | ${fmt(motoSdk.peak)} | ${fmt(motoSdk.after)} | ${fmt(motoSdk.seconds, 1)} |`
        : '| moto | SDK v3 aws-chunked | – | – | – | – |',
      '',
      'The sandbox streams each body to a file on a worker thread while hashing it (SHA-256 for a signed payload, MD5 for the ETag, CRC32 for the stored body and the trailer) and compares the hashes before anything is committed; an aws-chunked body is decoded as it arrives, each chunk signature checked as its chunk ends. So what it holds per upload is one socket read; moto keeps bodies in memory.',
    )
    return {
      title: 'Sandbox: requests per second, latency and memory, beside moto',
      markdown: lines.join('\n'),
    }
  } finally {
    await sandbox.stop()
    await moto?.stop()
    agent.destroy()
  }
}
