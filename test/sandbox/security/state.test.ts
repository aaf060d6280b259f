// The state directory under attack and faults (issue 11, items 1, 4, 5, 6, 7): private modes on
// creation and on an old directory, the exclusive lock (and a killed holder not blocking), bodies
// verified against their checksums, a database that does not match its bodies refused (bodies
// kept), a full disk (a small tmpfs, where this machine lets the test mount one), streamed
// uploads, UploadPartCopy, unmodelled bucket settings, a client that disconnects mid-body.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
  closeSync,
} from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutBucketCorsCommand,
  PutBucketWebsiteCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3'
import { recordingIo } from '../../../src/model/io.js'
import { CrosspipeError } from '../../../src/model/errors.js'
import { readSandboxState, startSandbox, type RunningSandbox } from '../../../src/sandbox/index.js'
import { ACCOUNTS, failure, presignS3, type Harness } from '../helpers.js'

const CLI = fileURLToPath(new URL('../../../bin/crosspipe.js', import.meta.url))

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'crosspipe-state-'))
}

function s3(sb: RunningSandbox, maxAttempts = 1): S3Client {
  const a = sb.accounts.find((x) => x.name === 'ci')!
  return new S3Client({
    endpoint: sb.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    maxAttempts,
    credentials: { accessKeyId: a.accessKeyId, secretAccessKey: a.secretAccessKey },
  })
}

/** Every path under a directory with its permission bits. */
function modes(dir: string): Map<string, number> {
  const out = new Map<string, number>([['.', statSync(dir).mode & 0o777]])
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name)
      const st = statSync(p)
      out.set(relative(dir, p), st.mode & 0o777)
      if (st.isDirectory()) walk(p)
    }
  }
  walk(dir)
  return out
}

function assertPrivate(dir: string): void {
  for (const [p, m] of modes(dir)) {
    const isDir = statSync(join(dir, p)).isDirectory()
    assert.equal(m, isDir ? 0o700 : 0o600, `${p} has mode ${m.toString(8)}`)
  }
}

function bodyFiles(dir: string): string[] {
  const objects = join(dir, 'objects')
  return readdirSync(objects)
    .filter((s) => s.length === 2)
    .flatMap((s) => readdirSync(join(objects, s)).map((f) => join(objects, s, f)))
}

const big = (n: number, seed = 7): Buffer => {
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = (i * seed + (i >> 9)) & 0xff
  return b
}

test('state is private: 0700 directories and 0600 files after start, whatever the umask', async () => {
  const dir = tmp()
  const old = process.umask(0o022)
  let sb: RunningSandbox | undefined
  try {
    sb = await startSandbox({ stateDir: dir, port: 0, accounts: ACCOUNTS })
    const c = s3(sb)
    await c.send(new CreateBucketCommand({ Bucket: 'modes' }))
    await c.send(new PutObjectCommand({ Bucket: 'modes', Key: 'big', Body: big(200_000) }))
    c.destroy()
    const m = modes(dir)
    for (const f of ['sandbox.db', 'sandbox.db-wal', 'credentials', 'config', 'sandbox.json', 'sandbox.lock'])
      assert.ok(m.has(f), `${f} exists`)
    assert.ok(bodyFiles(dir).length === 1)
    assertPrivate(dir)
  } finally {
    process.umask(old)
    await sb?.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('an older state directory (0755 / 0644) is made private at start, and the sandbox says so', async () => {
  const dir = tmp()
  try {
    const sb = await startSandbox({ stateDir: dir, port: 0, accounts: ACCOUNTS })
    const c = s3(sb)
    await c.send(new CreateBucketCommand({ Bucket: 'old' }))
    await c.send(new PutObjectCommand({ Bucket: 'old', Key: 'big', Body: big(100_000) }))
    c.destroy()
    await sb.stop()
    for (const [p] of modes(dir)) {
      const full = join(dir, p)
      chmodSync(full, statSync(full).isDirectory() ? 0o755 : 0o644)
    }
    const io = recordingIo()
    const again = await startSandbox({ stateDir: dir, port: 0, io })
    try {
      assertPrivate(dir)
      const said = io.messages.find((x) => x.code === 'sandbox.private')
      assert.ok(said, 'the sandbox says it changed modes')
      assert.match(said.message, /private to you/)
      assert.match(said.message, /was 644|was 755/)
      // The object is still there.
      const c2 = s3(again)
      const got = await c2.send(new GetObjectCommand({ Bucket: 'old', Key: 'big' }))
      assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(big(100_000)))
      c2.destroy()
    } finally {
      await again.stop()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test(
  'a state directory owned by another user is refused',
  { skip: process.getuid?.() === 0 ? false : 'needs root to give a directory to another user' },
  async () => {
    const dir = tmp()
    try {
      chownSync(dir, 65534, 65534)
      await assert.rejects(
        startSandbox({ stateDir: dir, port: 0 }),
        (e: unknown) => e instanceof CrosspipeError && /belongs to user id 65534/.test(e.message),
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  },
)

test('one sandbox per state directory: a second one is refused naming the holder; a killed holder does not block', async () => {
  const dir = tmp()
  try {
    const a = await startSandbox({ stateDir: dir, port: 0, accounts: ACCOUNTS })
    await assert.rejects(
      startSandbox({ stateDir: dir, port: 0 }),
      (e: unknown) =>
        e instanceof CrosspipeError && e.message.includes(`pid ${process.pid}`) && /--state/.test(e.message),
    )
    // The refused start changed nothing: the first sandbox still serves.
    const c = s3(a)
    await c.send(new CreateBucketCommand({ Bucket: 'still-here' }))
    c.destroy()
    await a.stop()

    // A sandbox in another process, killed with SIGKILL: its state file stays, its lock does not.
    const child = spawn(process.execPath, [CLI, 'sandbox', '--state', dir, '--port', '0', '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    await new Promise<void>((resolve, reject) => {
      let out = ''
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString()
        if (out.includes('endpoint')) resolve()
      })
      child.once('exit', (code) => reject(new Error(`sandbox exited ${code}`)))
    })
    const second = spawnSync(process.execPath, [CLI, 'sandbox', '--state', dir, '--port', '0'], {
      encoding: 'utf8',
      timeout: 30_000,
    })
    assert.equal(second.status, 2, second.stderr)
    assert.match(second.stderr, new RegExp(`already running from .* \\(pid ${child.pid}\\)`))
    assert.doesNotMatch(second.stderr, /\n\s+at /)
    child.kill('SIGKILL')
    await new Promise((r) => child.once('exit', r))
    assert.ok(existsSync(join(dir, 'sandbox.json')), 'the killed sandbox left its state file')
    assert.equal(readSandboxState(dir), undefined, 'a killed sandbox is not reported as running')
    const status = spawnSync(process.execPath, [CLI, 'sandbox', 'status', '--state', dir], {
      encoding: 'utf8',
    })
    assert.equal(status.status, 1)
    assert.match(status.stdout, /no sandbox is running/)
    const b = await startSandbox({ stateDir: dir, port: 0 })
    await b.stop()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('bodies are verified on read: a flipped byte or a truncated file is 500 InternalError naming the object, never wrong bytes', async () => {
  const dir = tmp()
  const io = recordingIo()
  const sb = await startSandbox({ stateDir: dir, port: 0, accounts: ACCOUNTS, io })
  const c = s3(sb)
  try {
    await c.send(new CreateBucketCommand({ Bucket: 'sums' }))
    const body = big(300_000)
    await c.send(new PutObjectCommand({ Bucket: 'sums', Key: 'a', Body: body }))
    const ok = await c.send(new GetObjectCommand({ Bucket: 'sums', Key: 'a' }))
    assert.ok(Buffer.from(await ok.Body!.transformToByteArray()).equals(body))
    const [file] = bodyFiles(dir)
    // Flip one byte in place, while the sandbox runs (it verified this body before).
    const fd = openSync(file!, 'r+')
    const one = Buffer.alloc(1)
    one[0] = body[1234]! ^ 0xff
    writeSync(fd, one, 0, 1, 1234)
    closeSync(fd)
    const bad = await failure(c.send(new GetObjectCommand({ Bucket: 'sums', Key: 'a' })))
    assert.equal(bad.status, 500)
    assert.equal(bad.name, 'InternalError')
    const logged = io.messages.find((m) => m.code === 'sandbox.corrupt')
    assert.ok(logged, 'the corruption is logged')
    assert.match(logged.message, /s3:\/\/sums\/a/)
    assert.ok(!io.messages.some((m) => m.code === 'sandbox.bug'))
    // A ranged read is refused too.
    const ranged = await failure(
      c.send(new GetObjectCommand({ Bucket: 'sums', Key: 'a', Range: 'bytes=0-9' })),
    )
    assert.equal(ranged.status, 500)
    // A truncated body file.
    await c.send(new PutObjectCommand({ Bucket: 'sums', Key: 'b', Body: big(200_000, 3) }))
    const fileB = bodyFiles(dir).find((f) => f !== file)!
    truncateSync(fileB, 100_000)
    const short = await failure(c.send(new GetObjectCommand({ Bucket: 'sums', Key: 'b' })))
    assert.equal(short.status, 500)
    assert.ok(io.messages.some((m) => m.code === 'sandbox.corrupt' && m.message.includes('s3://sums/b')))
    // A large body (sent as a stream): verified before the first byte is sent.
    const large = big(5 * 1024 * 1024, 11)
    await c.send(new PutObjectCommand({ Bucket: 'sums', Key: 'large', Body: large }))
    const fileL = bodyFiles(dir).find((f) => statSync(f).size === large.length)!
    const fdL = openSync(fileL, 'r+')
    writeSync(fdL, Buffer.from([large[4_000_000]! ^ 1]), 0, 1, 4_000_000)
    closeSync(fdL)
    const largeBad = await failure(c.send(new GetObjectCommand({ Bucket: 'sums', Key: 'large' })))
    assert.deepEqual([largeBad.name, largeBad.status], ['InternalError', 500])
    assert.ok(io.messages.some((m) => m.code === 'sandbox.corrupt' && m.message.includes('s3://sums/large')))
  } finally {
    c.destroy()
    await sb.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a database that does not match its bodies is refused, and the bodies are kept', async () => {
  const dir = tmp()
  try {
    const sb = await startSandbox({ stateDir: dir, port: 0, accounts: ACCOUNTS })
    const c = s3(sb)
    await c.send(new CreateBucketCommand({ Bucket: 'keep' }))
    await c.send(new PutObjectCommand({ Bucket: 'keep', Key: 'a', Body: big(100_000) }))
    await c.send(new PutObjectCommand({ Bucket: 'keep', Key: 'b', Body: big(100_000, 5) }))
    c.destroy()
    await sb.stop()
    const files = bodyFiles(dir)
    assert.equal(files.length, 2)

    // A body missing: refused, nothing changed.
    const saved = readFileSync(files[0]!)
    rmSync(files[0]!)
    await assert.rejects(
      startSandbox({ stateDir: dir, port: 0 }),
      (e: unknown) =>
        e instanceof CrosspipeError && /missing from .*objects/.test(e.message) && /--reset/.test(e.message),
    )
    assert.ok(existsSync(files[1]!))
    writeFileSync(files[0]!, saved)

    // An empty database beside the bodies: refused, bodies kept.
    writeFileSync(join(dir, 'sandbox.db'), '')
    rmSync(join(dir, 'sandbox.db-wal'), { force: true })
    rmSync(join(dir, 'sandbox.db-shm'), { force: true })
    await assert.rejects(
      startSandbox({ stateDir: dir, port: 0 }),
      (e: unknown) =>
        e instanceof CrosspipeError && /sandbox\.db is empty/.test(e.message) && /--reset/.test(e.message),
    )
    rmSync(join(dir, 'sandbox.db'))
    await assert.rejects(startSandbox({ stateDir: dir, port: 0 }), /sandbox\.db is missing/)
    assert.deepEqual(bodyFiles(dir).sort(), files.sort(), 'every body is still there')

    // The CLI says it in one line, exit 2.
    const r = spawnSync(process.execPath, [CLI, 'sandbox', '--state', dir, '--port', '0'], {
      encoding: 'utf8',
    })
    assert.equal(r.status, 2)
    assert.match(r.stderr, /sandbox\.db is missing/)
    assert.doesNotMatch(r.stderr, /\n\s+at /)

    // A corrupted database: one line with the fix, exit 2.
    writeFileSync(join(dir, 'sandbox.db'), Buffer.alloc(8192, 0x41))
    const r2 = spawnSync(process.execPath, [CLI, 'sandbox', '--state', dir, '--port', '0'], {
      encoding: 'utf8',
    })
    assert.equal(r2.status, 2, r2.stderr)
    assert.match(r2.stderr, /sandbox\.db is corrupted .*--reset/)
    assert.doesNotMatch(r2.stderr, /\n\s+at |SqliteError/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('large uploads stream to disk; UploadPartCopy copies a range; unmodelled bucket settings are 501; a client gone mid-body is no bug', async () => {
  const dir = tmp()
  const io = recordingIo()
  const sb = await startSandbox({ stateDir: dir, port: 0, accounts: ACCOUNTS, io })
  const c = s3(sb)
  try {
    await c.send(new CreateBucketCommand({ Bucket: 'stream' }))
    const body = big(6 * 1024 * 1024)
    await c.send(new PutObjectCommand({ Bucket: 'stream', Key: 'big', Body: body }))
    const got = await c.send(new GetObjectCommand({ Bucket: 'stream', Key: 'big' }))
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(body))
    const part = await c.send(
      new GetObjectCommand({ Bucket: 'stream', Key: 'big', Range: 'bytes=5000000-5100000' }),
    )
    assert.ok(Buffer.from(await part.Body!.transformToByteArray()).equals(body.subarray(5000000, 5100001)))
    // SSE-KMS: encrypted while streamed in, decrypted while streamed out (also a range).
    await c.send(
      new PutObjectCommand({ Bucket: 'stream', Key: 'kms', Body: body, ServerSideEncryption: 'aws:kms' }),
    )
    const kms = await c.send(new GetObjectCommand({ Bucket: 'stream', Key: 'kms' }))
    assert.equal(kms.ServerSideEncryption, 'aws:kms')
    assert.ok(Buffer.from(await kms.Body!.transformToByteArray()).equals(body))
    const kmsPart = await c.send(
      new GetObjectCommand({ Bucket: 'stream', Key: 'kms', Range: 'bytes=4194000-4194999' }),
    )
    assert.ok(Buffer.from(await kmsPart.Body!.transformToByteArray()).equals(body.subarray(4194000, 4195000)))
    // Stored encrypted: the plaintext is nowhere in the body files.
    const needle = body.subarray(3_000_000, 3_000_064)
    assert.equal(
      bodyFiles(dir).filter((f) => readFileSync(f).includes(needle)).length,
      1,
      'only the SSE-S3 copy holds the plaintext',
    )

    const up = await c.send(new CreateMultipartUploadCommand({ Bucket: 'stream', Key: 'copied' }))
    const p1 = await c.send(
      new UploadPartCopyCommand({
        Bucket: 'stream',
        Key: 'copied',
        UploadId: up.UploadId,
        PartNumber: 1,
        CopySource: 'stream/big',
        CopySourceRange: `bytes=0-${5 * 1024 * 1024 - 1}`,
      }),
    )
    const p2 = await c.send(
      new UploadPartCommand({
        Bucket: 'stream',
        Key: 'copied',
        UploadId: up.UploadId,
        PartNumber: 2,
        Body: 'tail',
      }),
    )
    const bad = await failure(
      c.send(
        new UploadPartCopyCommand({
          Bucket: 'stream',
          Key: 'copied',
          UploadId: up.UploadId,
          PartNumber: 3,
          CopySource: 'stream/big',
          CopySourceRange: 'bytes=10-99999999',
        }),
      ),
    )
    assert.equal(bad.status, 400)
    await c.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'stream',
        Key: 'copied',
        UploadId: up.UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: p1.CopyPartResult!.ETag },
            { PartNumber: 2, ETag: p2.ETag },
          ],
        },
      }),
    )
    const copied = await c.send(new GetObjectCommand({ Bucket: 'stream', Key: 'copied' }))
    assert.ok(
      Buffer.from(await copied.Body!.transformToByteArray()).equals(
        Buffer.concat([body.subarray(0, 5 * 1024 * 1024), Buffer.from('tail')]),
      ),
    )

    const web = await failure(
      c.send(
        new PutBucketWebsiteCommand({
          Bucket: 'stream',
          WebsiteConfiguration: { IndexDocument: { Suffix: 'index.html' } },
        }),
      ),
    )
    assert.deepEqual([web.name, web.status], ['NotImplemented', 501])
    const cors = await failure(
      c.send(
        new PutBucketCorsCommand({
          Bucket: 'stream',
          CORSConfiguration: { CORSRules: [{ AllowedMethods: ['GET'], AllowedOrigins: ['*'] }] },
        }),
      ),
    )
    assert.deepEqual([cors.name, cors.status], ['NotImplemented', 501])

    // Clients that promise a body and hang up part-way (a streamed and a buffered one), through a
    // valid presigned URL so that the sandbox is reading the body when they go: nothing stored, no bug.
    const ci = sb.accounts.find((x) => x.name === 'ci')!
    const creds = { accessKeyId: ci.accessKeyId, secretAccessKey: ci.secretAccessKey }
    for (const [key, promised, sent] of [
      ['gone-large', 4 * 1024 * 1024, 1024 * 1024],
      ['gone-small', 500_000, 100_000],
    ] as const) {
      const url = await presignS3({ sandbox: sb } as unknown as Harness, creds, 'PUT', 'stream', key, 300)
      await new Promise<void>((resolve) => {
        const r = request(url, { method: 'PUT', headers: { 'content-length': String(promised) } })
        r.on('error', () => resolve())
        r.on('response', (res) => {
          res.resume()
          res.on('end', () => resolve())
        })
        r.write(Buffer.alloc(sent), () => setTimeout(() => r.destroy(), 200))
      })
      const missing = await failure(c.send(new GetObjectCommand({ Bucket: 'stream', Key: key })))
      assert.equal(missing.name, 'NoSuchKey')
    }
    assert.ok(
      io.messages.some((m) => m.code === 'sandbox.client-gone'),
      'the disconnects are logged at debug level',
    )
    await new Promise((r) => setTimeout(r, 200))
    assert.ok(!io.messages.some((m) => m.code === 'sandbox.bug'), 'no sandbox.bug logged')
    assert.deepEqual(readdirSync(join(dir, 'objects', 'tmp')), [], 'no temporary file is left')
  } finally {
    c.destroy()
    await sb.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})

/** Mounts a tmpfs of `size` on a new directory, or says why it cannot. */
function smallDisk(size: string): { dir: string; unmount(): void } | string {
  if (process.platform !== 'linux') return 'tmpfs is Linux only'
  const dir = tmp()
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' })
  if (r.status !== 0) {
    rmSync(dir, { recursive: true, force: true })
    return `cannot mount a tmpfs here (${(r.stderr || r.error?.message || 'mount failed').trim()}); run as root to test the full disk`
  }
  return {
    dir,
    unmount() {
      spawnSync('umount', [dir])
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

const disk = smallDisk('12m')

test(
  'a full disk: writes are 507 at once (no SDK retry), deletes still work, and a restart says what to do',
  { skip: typeof disk === 'string' ? disk : false },
  async () => {
    if (typeof disk === 'string') return
    const stateDir = join(disk.dir, 'state')
    mkdirSync(stateDir)
    try {
      const sb = await startSandbox({ stateDir, port: 0, accounts: ACCOUNTS, tls: false })
      // The default retry strategy (3 attempts): a 507 must not be retried.
      const c = s3(sb, 3)
      await c.send(new CreateBucketCommand({ Bucket: 'full' }))
      let n = 0
      let refused:
        { name: string; status: number | undefined; attempts?: number; message: string } | undefined
      for (; n < 40 && !refused; n++) {
        try {
          await c.send(new PutObjectCommand({ Bucket: 'full', Key: `k${n}`, Body: big(1024 * 1024, n + 1) }))
        } catch (e) {
          const err = e as {
            name: string
            message: string
            $metadata?: { httpStatusCode?: number; attempts?: number }
          }
          refused = {
            name: err.name,
            status: err.$metadata?.httpStatusCode,
            attempts: err.$metadata?.attempts,
            message: err.message,
          }
        }
      }
      assert.ok(refused, 'the disk filled up')
      assert.deepEqual([refused.name, refused.status, refused.attempts], ['InsufficientStorage', 507, 1])
      assert.match(refused.message, /disk holding .* is full/)
      // Fill what is left with a file outside the sandbox, so that nothing at all is free.
      spawnSync('dd', ['if=/dev/zero', `of=${join(disk.dir, 'filler')}`, 'bs=64k'], { stdio: 'ignore' })
      await c.send(new DeleteObjectCommand({ Bucket: 'full', Key: 'k0' }))
      await c.send(new DeleteObjectCommand({ Bucket: 'full', Key: 'k1' }))
      await c.send(new PutObjectCommand({ Bucket: 'full', Key: 'small', Body: 'fits again' }))
      c.destroy()
      await sb.stop()

      // Restart on a disk with no space at all: one line with the fix, exit 2.
      rmSync(join(disk.dir, 'filler'))
      spawnSync('dd', ['if=/dev/zero', `of=${join(disk.dir, 'filler')}`, 'bs=4k'], { stdio: 'ignore' })
      rmSync(join(stateDir, 'space-reserve'), { force: true })
      spawnSync('dd', ['if=/dev/zero', `of=${join(disk.dir, 'filler2')}`, 'bs=1k'], { stdio: 'ignore' })
      rmSync(join(stateDir, 'credentials'))
      const r = spawnSync(process.execPath, [CLI, 'sandbox', '--state', stateDir, '--port', '0'], {
        encoding: 'utf8',
        timeout: 30_000,
      })
      assert.equal(r.status, 2, r.stderr)
      assert.match(r.stderr, /is full \(no space left: [A-Z_]+\): free some space/)
      assert.doesNotMatch(r.stderr, /\n\s+at /)
    } finally {
      disk.unmount()
    }
  },
)
