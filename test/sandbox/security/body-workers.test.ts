// Streamed bodies written and hashed on worker threads (store/body-workers.ts), and body ids named
// by a CRC32 (store/blobs.ts): the digests are those of the bytes sent, however they were cut; a
// body so written survives a restart and is verified on read (a flipped byte is 500, never wrong
// bytes); a body an older sandbox named by its SHA-256 still reads and is still verified; a signed
// payload that does not match is refused and stores nothing; a 100 MiB upload is not held in
// memory; and the workers never keep a process alive once the sandbox has stopped.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { test } from 'node:test'
import { crc32 } from 'node:zlib'
import Database from 'better-sqlite3'
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3'
import { BlobStore, CorruptBodyError } from '../../../src/sandbox/store/blobs.js'
import { failure, signRaw, startSandboxProcess, stopSandboxProcess, type SandboxProcess } from '../helpers.js'

const MiB = 1024 * 1024
const INDEX = join(import.meta.dirname, '../../../src/sandbox/index.ts')

const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex')
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')
const crcHex = (b: Uint8Array): string => crc32(b).toString(16).padStart(8, '0')

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'crosspipe-bodies-'))
}

function bodyFiles(objects: string): string[] {
  return readdirSync(objects)
    .filter((s) => s.length === 2)
    .flatMap((s) => readdirSync(join(objects, s)).map((f) => join(objects, s, f)))
}

function flip(file: string, at: number): void {
  const fd = openSync(file, 'r+')
  const b = Buffer.alloc(1)
  b[0] = readFileSync(file)[at]! ^ 0x40
  writeSync(fd, b, 0, 1, at)
  closeSync(fd)
}

// ---- the body store on its own ----------------------------------------------------------------

test('a streamed body: digests of the bytes however they were cut, a CRC32 id, verified on read', async () => {
  const dir = tmp()
  const store = new BlobStore(join(dir, 'objects'))
  try {
    const body = randomBytes(3 * MiB + 12345)
    const spool = store.spool({ sha256: true, sha1: true })
    // Owned chunks (transferred), views into a larger buffer and small pooled buffers (copied).
    const shared = Buffer.from(body)
    const pooled = Buffer.from(body.subarray(0, 100))
    assert.notEqual(pooled.buffer.byteLength, 100, 'a small Buffer.from is a view into the pool')
    let pos = 0
    const cuts = [100, 65536, 1, 700_000, 3 * MiB]
    for (let i = 0; pos < body.length; i++) {
      const n = Math.min(cuts[i % cuts.length]!, body.length - pos)
      const piece =
        i === 0 ? pooled : i % 2 ? shared.subarray(pos, pos + n) : Buffer.from(body.subarray(pos, pos + n))
      const wait = spool.push(piece)
      if (wait) await wait
      pos += n
    }
    assert.ok(shared.equals(body), 'views into a buffer the caller keeps are copied, not taken')
    const d = await spool.end()
    assert.equal(d.size, body.length)
    assert.equal(d.md5.toString('hex'), md5(body))
    assert.equal(d.sha256, sha256(body))
    assert.equal(d.sha1, createHash('sha1').update(body).digest('base64'))
    assert.equal(d.crc32, crc32(body))
    const id = await spool.commit()
    assert.match(id, /^[0-9a-f]{32}\.[0-9a-f]{8}$/)
    assert.equal(id.split('.')[1], crcHex(body))
    assert.ok(!existsSync(spool.path), 'the temporary file was moved into place')
    assert.ok((await store.read(id, body.length)).equals(body))

    // Bodies written on this thread are named the same way.
    const small = randomBytes(200_000)
    const sid = await store.write(small)
    assert.equal(sid.split('.')[1], crcHex(small))

    // A flipped byte: found by a whole read and by a verification in 1 MiB reads.
    flip(store.pathOf(id), 2 * MiB + 7)
    await assert.rejects(
      store.read(id, body.length),
      (e: unknown) => e instanceof CorruptBodyError && /CRC32 differs/.test(e.reason),
    )
    await assert.rejects(store.verify(id, body.length), CorruptBodyError)
    // Truncated: by the size.
    writeFileSync(store.pathOf(sid), small.subarray(0, 1000))
    await assert.rejects(store.read(sid, small.length), /1000 bytes on disk, 200000 recorded/)
  } finally {
    store.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('bodies named by their SHA-256 (older sandboxes) still read and are still verified', async () => {
  const dir = tmp()
  const store = new BlobStore(join(dir, 'objects'))
  try {
    const body = randomBytes(300_000)
    const id = `${randomBytes(16).toString('hex')}.${sha256(body)}`
    mkdirSync(dirname(store.pathOf(id)), { recursive: true })
    writeFileSync(store.pathOf(id), body)
    assert.ok((await store.read(id, body.length)).equals(body))
    assert.equal(await store.verify(id, body.length), body.length)
    flip(store.pathOf(id), 1234)
    await assert.rejects(
      store.read(id, body.length),
      (e: unknown) => e instanceof CorruptBodyError && /SHA-256 differs/.test(e.reason),
    )
    await assert.rejects(store.verify(id, body.length), /SHA-256 differs/)
  } finally {
    store.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a body the worker cannot write fails with the error of the file system, and leaves nothing', async () => {
  const dir = tmp()
  const store = new BlobStore(join(dir, 'objects'))
  try {
    // The temporary directory gone: opening the file fails in the worker.
    rmSync(join(dir, 'objects', 'tmp'), { recursive: true })
    const spool = store.spool()
    spool.push(randomBytes(600_000))
    await assert.rejects(spool.end(), (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOENT')
    await spool.abort()
    // An aborted body leaves no file behind.
    mkdirSync(join(dir, 'objects', 'tmp'))
    const other = store.spool()
    await other.push(randomBytes(2 * MiB))
    await other.end()
    assert.ok(existsSync(other.path))
    await other.abort()
    assert.ok(!existsSync(other.path))
    assert.deepEqual(bodyFiles(join(dir, 'objects')), [])
  } finally {
    store.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a body store closed with a body in flight fails that body instead of hanging', async () => {
  const dir = tmp()
  const store = new BlobStore(join(dir, 'objects'))
  try {
    const spool = store.spool()
    // More than the worker may have in flight: the push waits for it, and fails with it.
    const pushed = spool.push(randomBytes(2 * MiB))
    assert.ok(pushed, 'the push waits for the worker')
    store.close()
    await assert.rejects(pushed, /stopping/)
    await assert.rejects(spool.end(), /stopping|gone/)
    assert.throws(() => store.spool(), /stopping/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

// ---- a sandbox in its own process -------------------------------------------------------------

type Child = SandboxProcess
const start = (dir: string): Promise<Child> => startSandboxProcess(dir)
const stop = stopSandboxProcess

function client(c: Child): S3Client {
  return new S3Client({
    endpoint: c.endpoint,
    region: 'us-east-1',
    credentials: c.creds,
    forcePathStyle: true,
    maxAttempts: 1,
  })
}

/** A PUT with a signed payload hash (`claimed`), the body sent from `chunks` (never held whole). */
async function signedPut(
  c: Child,
  path: string,
  size: number,
  claimed: string,
  chunks: Iterable<Buffer>,
): Promise<{ status: number; body: string }> {
  const signed = await signRaw({
    endpoint: c.endpoint,
    creds: c.creds,
    service: 's3',
    method: 'PUT',
    path,
    headers: { 'x-amz-content-sha256': claimed, 'content-length': String(size) },
  })
  const u = new URL(signed.url)
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, method: 'PUT', path: u.pathname, headers: signed.headers },
      (res) => {
        let body = ''
        res.on('data', (d: Buffer) => (body += d.toString()))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      },
    )
    req.on('error', reject)
    void (async () => {
      for (const b of chunks) if (!req.write(b)) await new Promise((r) => req.once('drain', r))
      req.end()
    })().catch(reject)
  })
}

/** `size` bytes, 1 MiB at a time from one buffer (every MiB differs in its first bytes). */
const BASE = randomBytes(MiB)
function* pattern(size: number): Generator<Buffer> {
  for (let off = 0, i = 0; off < size; off += MiB, i++) {
    const b = Buffer.from(BASE.subarray(0, Math.min(MiB, size - off)))
    b.writeUInt32BE(i, 0)
    yield b
  }
}
function patternHash(size: number, alg: string): string {
  const h = createHash(alg)
  for (const b of pattern(size)) h.update(b)
  return h.digest('hex')
}

test('streamed bodies survive a restart and are verified on read; an older SHA-256-named body still is', async () => {
  const dir = tmp()
  let c = await start(dir)
  let s3 = client(c)
  try {
    await s3.send(new CreateBucketCommand({ Bucket: 'keep' }))
    const a = randomBytes(2 * MiB + 1)
    const b = randomBytes(3 * MiB)
    // The SDK over http: a signed payload hash and a CRC32 header, both checked.
    const put = await s3.send(new PutObjectCommand({ Bucket: 'keep', Key: 'a', Body: a }))
    assert.equal(put.ETag, `"${md5(a)}"`)
    await s3.send(new PutObjectCommand({ Bucket: 'keep', Key: 'b', Body: b }))
    s3.destroy()
    await stop(c)

    const objects = join(dir, 'objects')
    const files = bodyFiles(objects)
    assert.equal(files.length, 2)
    for (const f of files) assert.match(basename(f), /^[0-9a-f]{32}\.[0-9a-f]{8}$/)
    // Make `b` a body as an older sandbox wrote it: named by its SHA-256, in the file and the row.
    const fileB = files.find((f) => readFileSync(f).equals(b))!
    const oldId = `${basename(fileB).split('.')[0]}.${sha256(b)}`
    renameSync(fileB, join(dirname(fileB), oldId))
    const db = new Database(join(dir, 'sandbox.db'))
    assert.equal(db.prepare("UPDATE s3_objects SET blob = ? WHERE key = 'b'").run(oldId).changes, 1)
    db.close()

    c = await start(dir)
    s3 = client(c)
    const got = async (key: string): Promise<Buffer> =>
      Buffer.from(
        await (
          await s3.send(new GetObjectCommand({ Bucket: 'keep', Key: key }))
        ).Body!.transformToByteArray(),
      )
    assert.ok((await got('a')).equals(a))
    assert.ok((await got('b')).equals(b))
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'keep', Key: 'a', ChecksumMode: 'ENABLED' }))
    assert.equal(head.ETag, `"${md5(a)}"`)
    assert.equal(head.ChecksumCRC32, Buffer.from(crcHex(a), 'hex').toString('base64'))

    // A flipped byte in either is 500 InternalError, never wrong bytes.
    flip(
      files.find((f) => f !== fileB)!,
      1_000_000,
    )
    flip(join(dirname(fileB), oldId), 2_000_000)
    for (const key of ['a', 'b']) {
      const bad = await failure(s3.send(new GetObjectCommand({ Bucket: 'keep', Key: key })))
      assert.deepEqual([bad.name, bad.status], ['InternalError', 500], key)
    }
  } finally {
    s3.destroy()
    await stop(c)
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a streamed body whose signed payload hash does not match is refused and stores nothing; 100 MiB is not held in memory', async () => {
  const dir = tmp()
  const c = await start(dir)
  const s3 = client(c)
  try {
    await s3.send(new CreateBucketCommand({ Bucket: 'sums' }))
    const size = 2 * MiB
    const wrong = await signedPut(c, '/sums/wrong', size, sha256(Buffer.from('other')), pattern(size))
    assert.equal(wrong.status, 400)
    assert.match(wrong.body, /<Code>XAmzContentSHA256Mismatch<\/Code>/)
    const missing = await failure(s3.send(new GetObjectCommand({ Bucket: 'sums', Key: 'wrong' })))
    assert.equal(missing.name, 'NoSuchKey')
    assert.deepEqual(bodyFiles(join(dir, 'objects')), [])
    assert.deepEqual(readdirSync(join(dir, 'objects', 'tmp')), [], 'the temporary file is gone')

    // 100 MiB with a signed payload hash, while the sandbox's peak memory is watched.
    const status = (): string => readFileSync(`/proc/${c.child.pid}/status`, 'utf8')
    const mib = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status())![1]) / 1024
    let exact = true
    try {
      writeFileSync(`/proc/${c.child.pid}/clear_refs`, '5')
    } catch {
      exact = false
    }
    const before = mib('VmRSS')
    let sampled = before
    const timer = setInterval(() => (sampled = Math.max(sampled, mib('VmRSS'))), 20)
    const big = 100 * MiB
    let ok
    try {
      ok = await signedPut(c, '/sums/big', big, patternHash(big, 'sha256'), pattern(big))
    } finally {
      clearInterval(timer)
    }
    assert.equal(ok.status, 200, ok.body)
    const peak = exact ? mib('VmHWM') : Math.max(sampled, mib('VmRSS'))
    assert.ok(peak - before < 60, `the sandbox grew from ${before.toFixed(0)} to ${peak.toFixed(0)} MiB`)
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'sums', Key: 'big' }))
    assert.equal(head.ContentLength, big)
    assert.equal(head.ETag, `"${patternHash(big, 'md5')}"`)
  } finally {
    s3.destroy()
    await stop(c)
    rmSync(dir, { recursive: true, force: true })
  }
})

test('the body workers never keep a process alive: it exits by itself once its sandbox has stopped', async () => {
  const dir = tmp()
  // A library user's process: starts a sandbox, streams a body (which starts the workers), stops
  // the sandbox and does nothing more. It must exit on its own.
  const script = `
    import { startSandbox } from ${JSON.stringify(INDEX)}
    import { S3Client, CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3'
    const sb = await startSandbox({ stateDir: ${JSON.stringify(dir)}, port: 0, accounts: { ci: '111111111111' } })
    const a = sb.accounts[0]
    const s3 = new S3Client({ endpoint: sb.endpoint, region: 'us-east-1', forcePathStyle: true, maxAttempts: 1,
      credentials: { accessKeyId: a.accessKeyId, secretAccessKey: a.secretAccessKey } })
    await s3.send(new CreateBucketCommand({ Bucket: 'alive' }))
    await s3.send(new PutObjectCommand({ Bucket: 'alive', Key: 'k', Body: Buffer.alloc(3 * 1024 * 1024, 1) }))
    s3.destroy()
    await sb.stop()
    console.log('stopped')
  `
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: join(import.meta.dirname, '../../..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  try {
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => resolve(-1), 60_000)
      child.once('exit', (c) => {
        clearTimeout(timer)
        resolve(c)
      })
    })
    assert.match(out, /stopped/)
    assert.equal(code, 0, 'the process did not exit by itself within 60 s of starting')
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
})
