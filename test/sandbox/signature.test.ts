// Signature verification: wrong secrets, unknown keys, tampered bodies and headers, skewed clocks,
// expired presigned URLs and sessions, and aws-chunked bodies with chunk signatures and trailers.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, createHmac } from 'node:crypto'
import Database from 'better-sqlite3'
import { join } from 'node:path'
import { GetCallerIdentityCommand, AssumeRoleCommand } from '@aws-sdk/client-sts'
import { ListKeysCommand } from '@aws-sdk/client-kms'
import { CreateBucketCommand, ListBucketsCommand, GetObjectCommand } from '@aws-sdk/client-s3'
import {
  CreateRoleCommand,
  CreateUserCommand,
  PutUserPolicyCommand,
  CreateAccessKeyCommand,
} from '@aws-sdk/client-iam'
import { harness, failure, signRaw, presignS3, allowAll, type Harness, type Creds } from './helpers.js'

let h: Harness
before(async () => {
  h = await harness()
  await h.clients(h.creds('ci')).s3.send(new CreateBucketCommand({ Bucket: 'sigs' }))
})
after(async () => {
  await h.close()
})

const STS_BODY = 'Action=GetCallerIdentity&Version=2011-06-15'

async function sts(creds: Creds, body: string, sentBody = body, signingDate?: Date) {
  const s = await signRaw({
    endpoint: h.sandbox.endpoint,
    creds,
    service: 'sts',
    method: 'POST',
    path: '/',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
    signingDate,
  })
  const r = await fetch(s.url, { method: 'POST', headers: s.headers, body: sentBody })
  return { status: r.status, text: await r.text() }
}

test('wrong secret and unknown key, in each protocol family', async () => {
  const real = h.creds('ci')
  const wrong = {
    ...real,
    secretAccessKey: real.secretAccessKey.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')),
  }
  const unknown = { accessKeyId: 'AKIAUNKNOWNUNKNOWN00', secretAccessKey: 'x'.repeat(40) }
  const w = h.clients(wrong)
  const u = h.clients(unknown)
  const a = await failure(w.sts.send(new GetCallerIdentityCommand({})))
  assert.deepEqual([a.name, a.status], ['SignatureDoesNotMatch', 403])
  const b = await failure(w.kms.send(new ListKeysCommand({})))
  assert.deepEqual([b.name, b.status], ['InvalidSignatureException', 400])
  const c = await failure(w.s3.send(new ListBucketsCommand({})))
  assert.deepEqual([c.name, c.status], ['SignatureDoesNotMatch', 403])
  const d = await failure(u.sts.send(new GetCallerIdentityCommand({})))
  assert.deepEqual(
    [d.name, d.status, d.message],
    ['InvalidClientTokenId', 403, 'The security token included in the request is invalid.'],
  )
  const e = await failure(u.kms.send(new ListKeysCommand({})))
  assert.deepEqual([e.name, e.status], ['UnrecognizedClientException', 400])
  const f = await failure(u.s3.send(new ListBucketsCommand({})))
  assert.deepEqual([f.name, f.status], ['InvalidAccessKeyId', 403])
})

test('a tampered body or header is rejected', async () => {
  const creds = h.creds('ci')
  assert.equal((await sts(creds, STS_BODY)).status, 200)
  const tampered = await sts(creds, STS_BODY, STS_BODY.replace('GetCallerIdentity', 'GetCallerIdentitx'))
  assert.equal(tampered.status, 403)
  assert.match(tampered.text, /<Code>SignatureDoesNotMatch<\/Code>/)

  // S3: the payload hash is signed; a different body is caught by its hash.
  const body = 'original'
  const put = await signRaw({
    endpoint: h.sandbox.endpoint,
    creds,
    service: 's3',
    method: 'PUT',
    path: '/sigs/obj',
    headers: {
      'x-amz-content-sha256': createHash('sha256').update(body).digest('hex'),
      'x-amz-meta-color': 'blue',
    },
    body,
  })
  const bad = await fetch(put.url, { method: 'PUT', headers: put.headers, body: 'modified' })
  assert.equal(bad.status, 400)
  assert.match(await bad.text(), /<Code>XAmzContentSHA256Mismatch<\/Code>/)
  const badHeader = await fetch(put.url, {
    method: 'PUT',
    headers: { ...put.headers, 'x-amz-meta-color': 'red' },
    body,
  })
  assert.equal(badHeader.status, 403)
  assert.match(await badHeader.text(), /<Code>SignatureDoesNotMatch<\/Code>/)
  const ok = await fetch(put.url, { method: 'PUT', headers: put.headers, body })
  assert.equal(ok.status, 200)
})

test('requests signed too long ago are rejected as AWS does', async () => {
  const creds = h.creds('ci')
  const old = new Date(Date.now() - 20 * 60 * 1000)
  const r = await sts(creds, STS_BODY, STS_BODY, old)
  assert.equal(r.status, 403)
  assert.match(
    r.text,
    /<Code>SignatureDoesNotMatch<\/Code><Message>Signature expired: \d{8}T\d{6}Z is now earlier than/,
  )
  const s = await signRaw({
    endpoint: h.sandbox.endpoint,
    creds,
    service: 's3',
    method: 'GET',
    path: '/',
    headers: { 'x-amz-content-sha256': createHash('sha256').update('').digest('hex') },
    signingDate: old,
  })
  const res = await fetch(s.url, { headers: s.headers })
  assert.equal(res.status, 403)
  assert.match(await res.text(), /<Code>RequestTimeTooSkewed<\/Code>/)
})

test('expired presigned URL', async () => {
  const url = await presignS3(h, h.creds('ci'), 'GET', 'sigs', 'obj', 60, new Date(Date.now() - 3600_000))
  const r = await fetch(url)
  assert.equal(r.status, 403)
  const text = await r.text()
  assert.match(text, /<Code>AccessDenied<\/Code><Message>Request has expired<\/Message>/)
})

test('session credentials: token required, expiry enforced', async () => {
  // A sandbox of its own: the session is aged in its database while it is stopped.
  const t = await harness()
  try {
    const dev = t.clients(t.creds('dev'))
    await dev.iam.send(
      new CreateRoleCommand({
        RoleName: 'short',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: 'arn:aws:iam::222222222222:root' },
              Action: 'sts:AssumeRole',
            },
          ],
        }),
      }),
    )
    await dev.iam.send(new CreateUserCommand({ UserName: 'u' }))
    await dev.iam.send(
      new PutUserPolicyCommand({
        UserName: 'u',
        PolicyName: 'p',
        PolicyDocument: allowAll('sts:AssumeRole'),
      }),
    )
    const ak = (await dev.iam.send(new CreateAccessKeyCommand({ UserName: 'u' }))).AccessKey!
    const user = t.clients({ accessKeyId: ak.AccessKeyId!, secretAccessKey: ak.SecretAccessKey! })
    const s = await user.sts.send(
      new AssumeRoleCommand({
        RoleArn: 'arn:aws:iam::222222222222:role/short',
        RoleSessionName: 'sess',
        DurationSeconds: 900,
      }),
    )
    const c = s.Credentials!
    const session = {
      accessKeyId: c.AccessKeyId!,
      secretAccessKey: c.SecretAccessKey!,
      sessionToken: c.SessionToken!,
    }
    assert.equal(
      (await t.clients(session).sts.send(new GetCallerIdentityCommand({}))).Account,
      '222222222222',
    )
    const noToken = await failure(
      t
        .clients({ accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey! })
        .sts.send(new GetCallerIdentityCommand({})),
    )
    assert.equal(noToken.name, 'InvalidClientTokenId')
    const noTokenS3 = await failure(
      t
        .clients({ accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey! })
        .s3.send(new ListBucketsCommand({})),
    )
    assert.equal(noTokenS3.name, 'InvalidToken')

    // Age the session in the store (the clock cannot be moved), as if 15 minutes had passed: with
    // the sandbox stopped, as nothing else writes its database while it runs (it caches what every
    // request reads).
    await t.sandbox.stop()
    const db = new Database(join(t.dir, 'sandbox.db'))
    const row = db
      .prepare("SELECT body FROM items WHERE ns = 'credential' AND id = ?")
      .get(c.AccessKeyId!) as {
      body: string
    }
    const rec = JSON.parse(row.body)
    rec.expiration = new Date(Date.now() - 1000).toISOString()
    db.prepare("UPDATE items SET body = ? WHERE ns = 'credential' AND id = ?").run(
      JSON.stringify(rec),
      c.AccessKeyId!,
    )
    db.close()
    const again = await harness({ stateDir: t.dir })
    try {
      const expired = await failure(again.clients(session).sts.send(new GetCallerIdentityCommand({})))
      assert.deepEqual([expired.name, expired.status], ['ExpiredToken', 403])
      const expiredKms = await failure(again.clients(session).kms.send(new ListKeysCommand({})))
      assert.equal(expiredKms.name, 'ExpiredTokenException')
      const expiredS3 = await failure(
        again.clients(session).s3.send(new GetObjectCommand({ Bucket: 'sigs', Key: 'obj' })),
      )
      assert.equal(expiredS3.name, 'ExpiredToken')
    } finally {
      await again.close()
    }
  } finally {
    await t.close()
  }
})

/** The signing key, to chain chunk signatures as a streaming client does. */
function signingKey(secret: string, date: string): Buffer {
  const k = (key: Buffer | string, d: string) => createHmac('sha256', key).update(d).digest()
  return k(k(k(k('AWS4' + secret, date), 'us-east-1'), 's3'), 'aws4_request')
}

async function chunkedPut(opts: { tamperChunk?: boolean; badTrailer?: boolean; unsigned?: boolean }) {
  const creds = h.creds('ci')
  const chunks = [Buffer.from('a'.repeat(70_000)), Buffer.from('tail-bytes')]
  const total = chunks.reduce((n, c) => n + c.length, 0)
  const mode = opts.unsigned ? 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' : 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD'
  const headers: Record<string, string> = {
    'x-amz-content-sha256': mode,
    'content-encoding': 'aws-chunked',
    'x-amz-decoded-content-length': String(total),
  }
  if (opts.unsigned) headers['x-amz-trailer'] = 'x-amz-checksum-crc32'
  const s = await signRaw({
    endpoint: h.sandbox.endpoint,
    creds,
    service: 's3',
    method: 'PUT',
    path: '/sigs/chunked',
    headers,
  })
  const auth = s.headers['authorization']!
  const seed = /Signature=([0-9a-f]{64})/.exec(auth)![1]!
  const amzDate = s.headers['x-amz-date']!
  const key = signingKey(creds.secretAccessKey, amzDate.slice(0, 8))
  const scope = `${amzDate.slice(0, 8)}/us-east-1/s3/aws4_request`
  const parts: Buffer[] = []
  let prev = seed
  const empty = createHash('sha256').update('').digest('hex')
  for (const data of [...chunks, Buffer.alloc(0)]) {
    if (opts.unsigned) {
      parts.push(Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n'))
      continue
    }
    const sts = [
      'AWS4-HMAC-SHA256-PAYLOAD',
      amzDate,
      scope,
      prev,
      empty,
      createHash('sha256').update(data).digest('hex'),
    ].join('\n')
    const sig = createHmac('sha256', key).update(sts).digest('hex')
    prev = sig
    const sent = opts.tamperChunk && data.length === 10 ? Buffer.from('TAIL-BYTES') : data
    parts.push(
      Buffer.from(`${data.length.toString(16)};chunk-signature=${sig}\r\n`),
      sent,
      Buffer.from('\r\n'),
    )
  }
  if (opts.unsigned) {
    const crc = Buffer.alloc(4)
    const { crc32 } = await import('node:zlib')
    crc.writeUInt32BE(crc32(Buffer.concat(chunks)))
    const value = opts.badTrailer ? 'AAAAAA==' : crc.toString('base64')
    parts.pop() // the final chunk ends with the trailer, not a bare CRLF
    parts.push(Buffer.from(`x-amz-checksum-crc32:${value}\r\n\r\n`))
  }
  const body = Buffer.concat(parts)
  const r = await fetch(s.url, {
    method: 'PUT',
    headers: { ...s.headers, 'content-length': String(body.length) },
    body,
  })
  return { status: r.status, text: await r.text() }
}

test('aws-chunked bodies: chunk signatures verified, trailing checksums checked', async () => {
  assert.equal((await chunkedPut({})).status, 200)
  const got = await h.clients(h.creds('ci')).s3.send(new GetObjectCommand({ Bucket: 'sigs', Key: 'chunked' }))
  const text = await got.Body!.transformToString()
  assert.equal(text.length, 70_010)
  assert.ok(text.endsWith('tail-bytes'))
  const tampered = await chunkedPut({ tamperChunk: true })
  assert.equal(tampered.status, 403)
  assert.match(tampered.text, /SignatureDoesNotMatch/)
  assert.equal((await chunkedPut({ unsigned: true })).status, 200)
  const bad = await chunkedPut({ unsigned: true, badTrailer: true })
  assert.equal(bad.status, 400)
  assert.match(bad.text, /<Code>BadDigest<\/Code>/)
})

test('unsigned requests get the missing-authentication answer of their protocol', async () => {
  const q = await fetch(h.sandbox.endpoint + '/', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: STS_BODY,
  })
  assert.equal(q.status, 403)
  assert.match(await q.text(), /<Code>MissingAuthenticationToken<\/Code>/)
  const j = await fetch(h.sandbox.endpoint + '/', {
    method: 'POST',
    headers: { 'x-amz-target': 'TrentService.ListKeys', 'content-type': 'application/x-amz-json-1.1' },
    body: '{}',
  })
  assert.equal(j.status, 400)
  assert.equal(((await j.json()) as { __type: string }).__type, 'MissingAuthenticationTokenException')
  const s = await fetch(h.sandbox.endpoint + '/sigs/obj')
  assert.equal(s.status, 403)
  assert.match(await s.text(), /<Code>AccessDenied<\/Code>/)
})
