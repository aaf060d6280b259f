// Issue 11, item 6 for aws-chunked bodies: a streamed upload (the AWS SDK v3's default for a stream
// body, STREAMING-UNSIGNED-PAYLOAD-TRAILER with a CRC32 trailer, and signed chunks) is decoded as it
// arrives and written to disk, so the sandbox's memory stays bounded whatever the size; a failure at
// any point (a bad chunk signature, a wrong trailing checksum, a wrong length, a client gone) stores
// nothing. The sandbox runs in its own process, as `crosspipe sandbox --detach` runs it, so that its
// resident memory is its own.
import assert from 'node:assert/strict'
import { execFile, spawnSync, type ChildProcess } from 'node:child_process'
import { createHash, createHmac, randomBytes } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { after, before, test } from 'node:test'
import { crc32 } from 'node:zlib'
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import { ChunkedDecoder, ChunkedError, type ChunkSigning } from '../../../src/sandbox/gateway/chunked.js'
import { sandboxEnv } from '../../../src/sandbox/index.js'
import { failure, signRaw, startSandboxProcess, type Creds, type SandboxProcess } from '../helpers.js'

const MiB = 1024 * 1024
const BUCKET = 'streaming'

// ---- the decoder on its own ----------------------------------------------------------------

const hmac = (k: Buffer | string, d: string): Buffer => createHmac('sha256', k).update(d).digest()
const sha256 = (d: string | Buffer): string => createHash('sha256').update(d).digest('hex')
const EMPTY = sha256('')

/** An aws-chunked body of `chunks`, signed (chained from `seed`) when `signing` is given. */
function encode(
  chunks: readonly Buffer[],
  signing: ChunkSigning | undefined,
  trailer?: { line: string; signed: boolean },
): Buffer {
  const out: Buffer[] = []
  let prev = signing?.seedSignature ?? ''
  for (const c of [...chunks, Buffer.alloc(0)]) {
    let ext = ''
    if (signing) {
      const sts = ['AWS4-HMAC-SHA256-PAYLOAD', signing.amzDate, signing.scope, prev, EMPTY, sha256(c)]
      prev = createHmac('sha256', signing.key).update(sts.join('\n')).digest('hex')
      ext = `;chunk-signature=${prev}`
    }
    out.push(Buffer.from(`${c.length.toString(16)}${ext}\r\n`), c)
    if (c.length > 0) out.push(Buffer.from('\r\n'))
  }
  if (trailer) {
    out.push(Buffer.from(`${trailer.line}\r\n`))
    if (trailer.signed && signing) {
      const sts = [
        'AWS4-HMAC-SHA256-TRAILER',
        signing.amzDate,
        signing.scope,
        prev,
        sha256(`${trailer.line}\n`),
      ]
      out.push(
        Buffer.from(`x-amz-trailer-signature:${hmac(signing.key, sts.join('\n')).toString('hex')}\r\n`),
      )
    }
  }
  out.push(Buffer.from('\r\n'))
  return Buffer.concat(out)
}

const SIGNING: ChunkSigning = {
  key: hmac('k', 'signing key'),
  amzDate: '20260101T000000Z',
  scope: '20260101/us-east-1/s3/aws4_request',
  seedSignature: 'a'.repeat(64),
}

/** Feeds `raw` to a decoder in pieces of the sizes `cut` gives; returns the body and trailers. */
function decodeInPieces(
  raw: Buffer,
  d: ChunkedDecoder,
  cut: (i: number) => number,
): { body: Buffer; trailers: ReadonlyMap<string, string> } {
  const out: Buffer[] = []
  for (let pos = 0, i = 0; pos < raw.length; i++) {
    const n = Math.max(1, cut(i))
    out.push(...d.push(raw.subarray(pos, pos + n)).map((b) => Buffer.from(b)))
    pos += n
  }
  return { body: Buffer.concat(out), trailers: d.end() }
}

test('aws-chunked decoder: the same body and trailers however the input is split', () => {
  const chunks = [randomBytes(8192), randomBytes(8192), randomBytes(617)]
  const whole = Buffer.concat(chunks)
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(whole))
  const line = `x-amz-checksum-crc32:${crc.toString('base64')}`
  const cases: [string, Buffer, () => ChunkedDecoder][] = [
    ['signed', encode(chunks, SIGNING), () => new ChunkedDecoder(SIGNING, false)],
    [
      'signed with signed trailer',
      encode(chunks, SIGNING, { line, signed: true }),
      () => new ChunkedDecoder(SIGNING, true),
    ],
    [
      'unsigned with trailer',
      encode(chunks, undefined, { line, signed: false }),
      () => new ChunkedDecoder(undefined, false),
    ],
  ]
  for (const [name, raw, make] of cases) {
    for (const [how, cut] of [
      ['whole', () => raw.length],
      ['byte by byte', () => 1],
      ['2 bytes', () => 2],
      ['irregular', (i: number) => [1, 3, 90, 7, 4096, 2][i % 6]!],
    ] as const) {
      const r = decodeInPieces(raw, make(), cut)
      assert.ok(r.body.equals(whole), `${name}, ${how}: body`)
      if (name !== 'signed')
        assert.equal(r.trailers.get('x-amz-checksum-crc32'), crc.toString('base64'), `${name}, ${how}`)
    }
  }
})

test('aws-chunked decoder: a bad chunk signature fails when that chunk ends, before the rest arrives', () => {
  const chunks = [randomBytes(4096), randomBytes(4096), randomBytes(4096)]
  const raw = encode(chunks, SIGNING)
  // Flip a byte of the second chunk's data.
  const second = raw.indexOf('\r\n', raw.indexOf('\r\n') + 2 + 4096 + 2) + 2
  raw[second + 100] = raw[second + 100]! ^ 1
  const d = new ChunkedDecoder(SIGNING, false)
  let fed = 0
  assert.throws(
    () => {
      for (; fed < raw.length; fed += 1000) d.push(raw.subarray(fed, fed + 1000))
    },
    (e: unknown) => e instanceof ChunkedError && e.reason === 'signature',
  )
  assert.ok(fed < second + 4096 + 1000, `failed at byte ${fed}, within the second chunk's last read`)
  // Too many bytes for the declared decoded length: at once, not at the end.
  const d2 = new ChunkedDecoder(undefined, false, 5000)
  assert.throws(
    () => d2.push(encode(chunks, undefined)),
    (e: unknown) => e instanceof ChunkedError && e.reason === 'length',
  )
  // A header that never ends is refused once it is longer than any real one.
  assert.throws(
    () => new ChunkedDecoder(undefined, false).push(Buffer.alloc(8192, 0x31)),
    (e: unknown) => e instanceof ChunkedError && e.reason === 'malformed',
  )
  // Cut short: in a chunk, or before the final chunk.
  assert.throws(() => {
    const d3 = new ChunkedDecoder(undefined, false)
    d3.push(encode(chunks, undefined).subarray(0, 5000))
    d3.end()
  }, /shorter than its size/)
})

// ---- a sandbox in its own process -----------------------------------------------------------

let child: ChildProcess
let dir: string
let endpoint: string
let creds: Creds
let s3: S3Client
let sandbox: SandboxProcess

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'crosspipe-streaming-'))
  sandbox = await startSandboxProcess(dir, { stdout: 'capture' })
  ;({ child, endpoint, creds } = sandbox)
  s3 = new S3Client({
    endpoint,
    region: 'us-east-1',
    credentials: creds,
    forcePathStyle: true,
    maxAttempts: 1,
  })
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }))
})

after(async () => {
  s3?.destroy()
  if (child && child.exitCode === null) {
    child.kill('SIGTERM')
    await new Promise((r) => child.once('exit', r))
  }
  if (dir) rmSync(dir, { recursive: true, force: true })
})

/** Resident memory of the sandbox and its peak since the last reset, in MiB (proc(5)). */
function memory(): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8')
  const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 'NaN') / 1024
  return { rss: kb('VmRSS'), peak: kb('VmHWM') }
}

/** Body `seed` of `size` bytes, made 1 MiB at a time (never held whole): every MiB differs. */
const BASE = randomBytes(MiB)
function* pattern(seed: number, size: number): Generator<Buffer> {
  for (let off = 0, i = 0; off < size; off += MiB, i++) {
    const b = Buffer.from(BASE.subarray(0, Math.min(MiB, size - off)))
    b.writeUInt32BE(seed, 0)
    if (b.length >= 8) b.writeUInt32BE(i, 4)
    yield b
  }
}
const patternSha = (seed: number, size: number): string => {
  const h = createHash('sha256')
  for (const b of pattern(seed, size)) h.update(b)
  return h.digest('hex')
}

async function storedSha(key: string): Promise<string> {
  const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))
  const h = createHash('sha256')
  for await (const c of got.Body as Readable) h.update(c as Buffer)
  return h.digest('hex')
}

const tmpFiles = (): string[] => readdirSync(join(dir, 'objects', 'tmp'))

/**
 * A signed-chunk PUT (STREAMING-AWS4-HMAC-SHA256-PAYLOAD) of `chunks` (64 KiB each, made as they are
 * sent), written with backpressure; `tamper` may change a chunk after it was signed; `declared`
 * overrides x-amz-decoded-content-length; `abortAfter` closes the connection after that many chunks.
 */
async function signedChunkPut(
  key: string,
  size: number,
  seed: number,
  o: { tamper?: number; declared?: number; abortAfter?: number } = {},
): Promise<{ status: number; body: string } | 'aborted'> {
  const path = `/${BUCKET}/${key}`
  const s = await signRaw({
    endpoint,
    creds,
    service: 's3',
    method: 'PUT',
    path,
    headers: {
      'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
      'content-encoding': 'aws-chunked',
      'x-amz-decoded-content-length': String(o.declared ?? size),
    },
  })
  const amzDate = s.headers['x-amz-date']!
  const day = amzDate.slice(0, 8)
  const signing: ChunkSigning = {
    key: hmac(hmac(hmac(hmac('AWS4' + creds.secretAccessKey, day), 'us-east-1'), 's3'), 'aws4_request'),
    amzDate,
    scope: `${day}/us-east-1/s3/aws4_request`,
    seedSignature: /Signature=([0-9a-f]{64})/.exec(s.headers['authorization']!)![1]!,
  }
  const u = new URL(s.url)
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        method: 'PUT',
        path,
        headers: { ...s.headers, 'transfer-encoding': 'chunked' },
      },
      (res) => {
        let body = ''
        res.on('data', (c: Buffer) => (body += c.toString()))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      },
    )
    req.on('error', (e) => (o.abortAfter !== undefined ? resolve('aborted') : reject(e)))
    void (async () => {
      let prev = signing.seedSignature
      let n = 0
      const chunks = (function* () {
        for (const mib of pattern(seed, size))
          for (let i = 0; i < mib.length; i += 64 * 1024) yield mib.subarray(i, i + 64 * 1024)
        yield Buffer.alloc(0)
      })()
      for (const c of chunks) {
        const sts = ['AWS4-HMAC-SHA256-PAYLOAD', amzDate, signing.scope, prev, EMPTY, sha256(c)]
        prev = hmac(signing.key, sts.join('\n')).toString('hex')
        const data = Buffer.from(c)
        if (n === o.tamper) data[0] = data[0]! ^ 1
        const frame = Buffer.concat([
          Buffer.from(`${c.length.toString(16)};chunk-signature=${prev}\r\n`),
          data,
          Buffer.from('\r\n'),
        ])
        if (!req.write(frame)) await new Promise((r) => req.once('drain', r))
        if (++n === o.abortAfter) {
          req.destroy()
          return
        }
      }
      req.end()
    })().catch(reject)
  })
}

/** The SDK v3's default for a stream body: aws-chunked, STREAMING-UNSIGNED-PAYLOAD-TRAILER, CRC32 trailer. */
async function sdkPut(key: string, size: number, seed: number): Promise<void> {
  let sent: Record<string, string> = {}
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    credentials: creds,
    forcePathStyle: true,
    maxAttempts: 1,
  })
  client.middlewareStack.add(
    (next) => async (args) => {
      sent = { ...(args.request as { headers: Record<string, string> }).headers }
      return next(args)
    },
    { step: 'finalizeRequest', priority: 'low' },
  )
  try {
    await client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: key,
        Body: Readable.from(pattern(seed, size)),
        ContentLength: size,
      }),
    )
  } finally {
    client.destroy()
  }
  // What makes this test about aws-chunked: the SDK did send it so.
  assert.equal(sent['x-amz-content-sha256'], 'STREAMING-UNSIGNED-PAYLOAD-TRAILER')
  assert.equal(sent['content-encoding'], 'aws-chunked')
  assert.equal(sent['x-amz-trailer'], 'x-amz-checksum-crc32')
}

test('aws-chunked uploads of 320 MiB in parallel (SDK v3 default and signed chunks) are stored exactly, in bounded memory', async () => {
  const before = memory().rss
  let exact = true
  try {
    writeFileSync(`/proc/${child.pid}/clear_refs`, '5') // resets VmHWM
  } catch {
    exact = false
  }
  let sampled = 0
  const timer = setInterval(() => (sampled = Math.max(sampled, memory().rss)), 20)
  const size = 128 * MiB
  try {
    const [, , signed] = await Promise.all([
      sdkPut('sdk-1', size, 1),
      sdkPut('sdk-2', size, 2),
      signedChunkPut('signed', 64 * MiB, 3),
    ])
    assert.deepEqual(signed, { status: 200, body: '' })
  } finally {
    clearInterval(timer)
  }
  const peak = exact ? memory().peak : Math.max(sampled, memory().rss)
  // Buffered whole, the bodies alone would take 320 MiB more.
  assert.ok(
    peak - before < 100,
    `the sandbox grew from ${before.toFixed(0)} MiB to ${peak.toFixed(0)} MiB (${exact ? 'VmHWM' : 'sampled'}) for 320 MiB of uploads`,
  )
  assert.equal(await storedSha('sdk-1'), patternSha(1, size))
  assert.equal(await storedSha('sdk-2'), patternSha(2, size))
  assert.equal(await storedSha('signed'), patternSha(3, 64 * MiB))
  const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'sdk-1', ChecksumMode: 'ENABLED' }))
  assert.equal(head.ContentLength, size)
  const crc = Buffer.alloc(4)
  let c = 0
  for (const b of pattern(1, size)) c = crc32(b, c)
  crc.writeUInt32BE(c)
  assert.equal(head.ChecksumCRC32, crc.toString('base64'), 'the trailing CRC32 is stored')
})

test('a streamed multipart upload part (SDK v3 default, aws-chunked) is stored exactly', async () => {
  const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp' }))
  const parts = []
  for (const [n, seed, size] of [
    [1, 11, 5 * MiB],
    [2, 12, 3 * MiB],
  ] as const) {
    const r = await s3.send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key: 'mp',
        UploadId: up.UploadId,
        PartNumber: n,
        Body: Readable.from(pattern(seed, size)),
        ContentLength: size,
      }),
    )
    parts.push({ PartNumber: n, ETag: r.ETag })
  }
  await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: BUCKET,
      Key: 'mp',
      UploadId: up.UploadId,
      MultipartUpload: { Parts: parts },
    }),
  )
  const h = createHash('sha256')
  for (const b of pattern(11, 5 * MiB)) h.update(b)
  for (const b of pattern(12, 3 * MiB)) h.update(b)
  assert.equal(await storedSha('mp'), h.digest('hex'))
})

test('a streamed aws-chunked upload that fails at any point stores nothing and answers as S3 does', async () => {
  const absent = async (key: string): Promise<void> => {
    const r = await failure(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })))
    assert.equal(r.status, 404, `${key} must not exist`)
    // A body the sandbox stopped reading is removed as soon as its write settles, which on a loaded
    // machine can be just after the answer (or an earlier test's aborted upload): wait, bounded.
    const end = Date.now() + 10_000
    while (tmpFiles().length > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50))
    assert.deepEqual(tmpFiles(), [], 'no temporary body left behind')
  }
  // A bad signature on the 5th of 128 chunks: refused, and the rest of the body read and dropped.
  const bad = await signedChunkPut('bad-sig', 8 * MiB, 4, { tamper: 4 })
  assert.ok(
    bad !== 'aborted' && bad.status === 403 && bad.body.includes('<Code>SignatureDoesNotMatch</Code>'),
    JSON.stringify(bad),
  )
  await absent('bad-sig')
  // More bytes than x-amz-decoded-content-length, and fewer.
  for (const declared of [6 * MiB, 9 * MiB]) {
    const r = await signedChunkPut(`length-${declared}`, 8 * MiB, 5, { declared })
    assert.ok(
      r !== 'aborted' && r.status === 400 && r.body.includes('<Code>IncompleteBody</Code>'),
      JSON.stringify(r),
    )
    await absent(`length-${declared}`)
  }
  // The connection closed mid-body.
  assert.equal(await signedChunkPut('gone', 8 * MiB, 6, { abortAfter: 40 }), 'aborted')
  await absent('gone')
  assert.doesNotMatch(sandbox.log(), /sandbox\.bug/, 'a client gone mid-body is not a sandbox bug')
  // A wrong trailing checksum (STREAMING-UNSIGNED-PAYLOAD-TRAILER): BadDigest.
  const size = 3 * MiB
  const data = Buffer.concat([...pattern(7, size)])
  const raw = encode([data.subarray(0, 2 * MiB), data.subarray(2 * MiB)], undefined, {
    line: 'x-amz-checksum-crc32:AAAAAA==',
    signed: false,
  })
  const s = await signRaw({
    endpoint,
    creds,
    service: 's3',
    method: 'PUT',
    path: `/${BUCKET}/bad-crc`,
    headers: {
      'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      'content-encoding': 'aws-chunked',
      'x-amz-decoded-content-length': String(size),
      'x-amz-trailer': 'x-amz-checksum-crc32',
      'content-length': String(raw.length),
    },
  })
  const r = await fetch(s.url, { method: 'PUT', headers: s.headers, body: raw })
  assert.equal(r.status, 400)
  assert.match(await r.text(), /<Code>BadDigest<\/Code>/)
  await absent('bad-crc')
  // Without x-amz-decoded-content-length (required for every aws-chunked request), or over the
  // largest body the sandbox takes: refused before the body is read.
  for (const [declared, status, code] of [
    [undefined, 411, 'MissingContentLength'],
    [String(6 * 1024 * MiB), 400, 'EntityTooLarge'],
  ] as const) {
    const headers: Record<string, string> = {
      'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      'content-encoding': 'aws-chunked',
      'content-length': String(raw.length),
    }
    if (declared !== undefined) headers['x-amz-decoded-content-length'] = declared
    const sr = await signRaw({
      endpoint,
      creds,
      service: 's3',
      method: 'PUT',
      path: `/${BUCKET}/no-length`,
      headers,
    })
    const res = await fetch(sr.url, { method: 'PUT', headers: sr.headers, body: raw })
    assert.equal(res.status, status)
    assert.match(await res.text(), new RegExp(`<Code>${code}</Code>`))
    await absent('no-length')
  }
})

// ---- clients nobody here wrote: the AWS CLI v1 and boto3 ----------------------------------

const hasAws = spawnSync('aws', ['--version'], { stdio: 'ignore' }).status === 0
const hasBoto3 = spawnSync('python3', ['-c', 'import boto3'], { stdio: 'ignore' }).status === 0

function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) =>
    execFile(cmd, args, { env, encoding: 'utf8', timeout: 180_000, maxBuffer: 64 * MiB }, (e, out, err) =>
      resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err }),
    ),
  )
}

/** A 20 MiB file of the pattern `seed`; its SHA-256. */
function bigFile(name: string, seed: number): { file: string; sha: string } {
  const file = join(dir, name)
  writeFileSync(file, Buffer.concat([...pattern(seed, 20 * MiB)]), { mode: 0o600 })
  return { file, sha: patternSha(seed, 20 * MiB) }
}

test(
  'the AWS CLI v1: `aws s3 cp` of a 20 MiB file (multipart) and back',
  { skip: hasAws ? false : 'the AWS CLI (`aws`) is not installed on this machine' },
  async () => {
    const env = { ...process.env, ...sandboxEnv(dir, 'ci'), AWS_MAX_ATTEMPTS: '1' }
    const { file, sha } = bigFile('cli-20m', 21)
    const up = await run('aws', ['s3', 'cp', file, `s3://${BUCKET}/cli-20m`], env)
    assert.equal(up.code, 0, up.err)
    const head = await run('aws', ['s3api', 'head-object', '--bucket', BUCKET, '--key', 'cli-20m'], env)
    assert.equal(head.code, 0, head.err)
    const meta = JSON.parse(head.out) as { ContentLength: number; ETag: string }
    assert.equal(meta.ContentLength, 20 * MiB)
    assert.match(meta.ETag, /-3"$/, 'uploaded in 3 parts of 8 MiB (the CLI default multipart_chunksize)')
    assert.equal(await storedSha('cli-20m'), sha)
    const back = join(dir, 'cli-20m.back')
    const down = await run('aws', ['s3', 'cp', `s3://${BUCKET}/cli-20m`, back], env)
    assert.equal(down.code, 0, down.err)
    assert.equal(sha256(readFileSync(back)), sha)
  },
)

// put_object with an open file as its body, over HTTP and (where the sandbox has it) HTTPS, where
// botocore sends a file body aws-chunked with a trailing checksum; prints what it sent.
const BOTO_PUT = String.raw`
import json, sys, boto3
from botocore.config import Config
s3 = boto3.client('s3', config=Config(s3={'addressing_style': 'path'}, retries={'max_attempts': 1}))
sent = {}
s3.meta.events.register('before-send.s3.PutObject', lambda request, **kw: sent.update({k.lower(): v if isinstance(v, str) else v.decode() for k, v in request.headers.items()}))
with open(sys.argv[1], 'rb') as f:
    s3.put_object(Bucket=sys.argv[2], Key=sys.argv[3], Body=f)
print(json.dumps({'sent': sent, 'length': s3.head_object(Bucket=sys.argv[2], Key=sys.argv[3])['ContentLength']}))
`

test(
  'boto3: put_object with a 20 MiB file body, over HTTP and HTTPS',
  { skip: hasBoto3 ? false : 'python3 with boto3 is not installed on this machine' },
  async () => {
    const { file, sha } = bigFile('boto-20m', 22)
    const secure = JSON.parse(readFileSync(join(dir, 'sandbox.json'), 'utf8')).httpsEndpoint !== undefined
    const modes: string[] = []
    for (const tls of secure ? [false, true] : [false]) {
      const key = `boto-20m-${tls ? 'https' : 'http'}`
      const env = { ...process.env, ...sandboxEnv(dir, 'ci', { secure: tls }), AWS_MAX_ATTEMPTS: '1' }
      const r = await run('python3', ['-c', BOTO_PUT, file, BUCKET, key], env)
      assert.equal(r.code, 0, r.err)
      const out = JSON.parse(r.out) as { sent: Record<string, string>; length: number }
      assert.equal(out.length, 20 * MiB)
      assert.equal(await storedSha(key), sha)
      modes.push(
        `${tls ? 'https' : 'http'}: ${out.sent['x-amz-content-sha256'] ?? '(none)'} ${out.sent['content-encoding'] ?? ''}`,
      )
    }

    console.log(`boto3 sent ${modes.join('; ')}`)
  },
)

test('empty and small aws-chunked bodies (stored in their row) go the same streamed way', async () => {
  for (const data of [Buffer.alloc(0), Buffer.from('small body'), randomBytes(70_000)]) {
    const crc = Buffer.alloc(4)
    crc.writeUInt32BE(crc32(data))
    const raw = encode(data.length ? [data] : [], undefined, {
      line: `x-amz-checksum-crc32:${crc.toString('base64')}`,
      signed: false,
    })
    const key = `small-${data.length}`
    const s = await signRaw({
      endpoint,
      creds,
      service: 's3',
      method: 'PUT',
      path: `/${BUCKET}/${key}`,
      headers: {
        'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
        'content-encoding': 'aws-chunked',
        'x-amz-decoded-content-length': String(data.length),
        'x-amz-trailer': 'x-amz-checksum-crc32',
        'content-length': String(raw.length),
      },
    })
    const r = await fetch(s.url, { method: 'PUT', headers: s.headers, body: raw })
    assert.equal(r.status, 200, await r.text())
    assert.equal(await storedSha(key), sha256(data))
  }
  assert.deepEqual(tmpFiles(), [])
})
