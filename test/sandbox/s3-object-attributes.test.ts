// GetObjectAttributes' ObjectParts (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAttributes.html,
// API_GetObjectAttributesParts.html): the number of parts of an object completed from a multipart
// upload, and — only when the upload used an additional checksum, as S3 answers for general purpose
// buckets — its parts with their sizes and checksums, paged by MaxParts and PartNumberMarker.
// Through the AWS SDK for JavaScript v3 and boto3.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectAttributesCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import { S3Store } from '../../src/sandbox/services/s3/store.js'
import { openDb } from '../../src/sandbox/store/db.js'
import { boto3Client, harness, runPython, type Harness } from './helpers.js'

const MiB = 1024 * 1024
let h: Harness
before(async () => {
  h = await harness()
})
after(async () => {
  await h.close()
})

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('base64')
const PARTS = [Buffer.alloc(5 * MiB, 1), Buffer.alloc(5 * MiB, 2), Buffer.alloc(1000, 3)]

/** Uploads PARTS as `key`, with SHA-256 checksums when `checksum`. */
async function upload(c: S3Client, Bucket: string, Key: string, checksum: boolean): Promise<void> {
  const alg = checksum ? ('SHA256' as const) : undefined
  const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket, Key, ChecksumAlgorithm: alg }))
  const done = []
  for (const [i, Body] of PARTS.entries()) {
    const r = await c.send(
      new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1, Body, ChecksumAlgorithm: alg }),
    )
    done.push({ PartNumber: i + 1, ETag: r.ETag, ChecksumSHA256: r.ChecksumSHA256 })
  }
  await c.send(
    new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: done } }),
  )
}

test('ObjectParts through the SDK v3: the part count, and the parts with their checksums when the upload used one', async () => {
  const creds = h.creds('ci')
  // No checksum the SDK adds by itself: the upload without one is really without one.
  const c = new S3Client({
    endpoint: h.sandbox.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: creds,
    requestChecksumCalculation: 'WHEN_REQUIRED',
  })
  const Bucket = 'attr-parts'
  try {
    await c.send(new CreateBucketCommand({ Bucket }))
    await upload(c, Bucket, 'plain', false)
    await upload(c, Bucket, 'summed', true)
    await c.send(new PutObjectCommand({ Bucket, Key: 'single', Body: 'hello' }))
    const attrs = (Key: string, extra: { MaxParts?: number; PartNumberMarker?: string } = {}) =>
      c.send(
        new GetObjectAttributesCommand({
          Bucket,
          Key,
          ObjectAttributes: ['ObjectParts', 'ObjectSize'],
          ...extra,
        }),
      )

    const plain = await attrs('plain')
    assert.deepEqual(plain.ObjectParts, { TotalPartsCount: 3 })
    assert.equal(plain.ObjectSize, 10 * MiB + 1000)

    const summed = await attrs('summed')
    assert.deepEqual(summed.ObjectParts, {
      TotalPartsCount: 3,
      PartNumberMarker: '0',
      NextPartNumberMarker: '3',
      MaxParts: 1000,
      IsTruncated: false,
      Parts: PARTS.map((p, i) => ({ PartNumber: i + 1, Size: p.length, ChecksumSHA256: sha256(p) })),
    })
    const first = await attrs('summed', { MaxParts: 2 })
    assert.deepEqual(
      [
        first.ObjectParts?.IsTruncated,
        first.ObjectParts?.NextPartNumberMarker,
        first.ObjectParts?.Parts?.length,
      ],
      [true, '2', 2],
    )
    const rest = await attrs('summed', { MaxParts: 2, PartNumberMarker: '2' })
    assert.deepEqual(rest.ObjectParts?.Parts, [
      { PartNumber: 3, Size: 1000, ChecksumSHA256: sha256(PARTS[2]!) },
    ])
    assert.equal(rest.ObjectParts?.IsTruncated, false)

    // An object not uploaded in parts has none; ObjectParts not asked for is not answered.
    assert.equal((await attrs('single')).ObjectParts, undefined)
    const etagOnly = await c.send(
      new GetObjectAttributesCommand({ Bucket, Key: 'summed', ObjectAttributes: ['ETag'] }),
    )
    assert.equal(etagOnly.ObjectParts, undefined)
    assert.match(etagOnly.ETag ?? '', /^[0-9a-f]{32}-3$/)
  } finally {
    c.destroy()
  }
})

test(
  'ObjectParts through boto3',
  {
    skip:
      spawnSync('python3', ['-c', 'import boto3'], { stdio: 'ignore' }).status !== 0
        ? 'python3 with boto3 is not installed on this machine'
        : false,
  },
  async () => {
    const script = `${boto3Client('s3')}
import base64, hashlib
b = 'attr-boto'
s3.create_bucket(Bucket=b)
parts = [b'a' * (5 * 1024 * 1024), b'b' * 2000]
u = s3.create_multipart_upload(Bucket=b, Key='k', ChecksumAlgorithm='SHA256')['UploadId']
done = []
for i, p in enumerate(parts):
    r = s3.upload_part(Bucket=b, Key='k', UploadId=u, PartNumber=i + 1, Body=p, ChecksumAlgorithm='SHA256')
    done.append({'PartNumber': i + 1, 'ETag': r['ETag'], 'ChecksumSHA256': r['ChecksumSHA256']})
s3.complete_multipart_upload(Bucket=b, Key='k', UploadId=u, MultipartUpload={'Parts': done})
a = s3.get_object_attributes(Bucket=b, Key='k', ObjectAttributes=['ObjectParts'], MaxParts=1)['ObjectParts']
n = s3.get_object_attributes(Bucket=b, Key='k', ObjectAttributes=['ObjectParts'], MaxParts=1, PartNumberMarker=1)['ObjectParts']
print(json.dumps({
  'total': a['TotalPartsCount'], 'truncated': a['IsTruncated'], 'next': a['NextPartNumberMarker'],
  'first': a['Parts'], 'second': n['Parts'], 'more': n['IsTruncated'],
  'want': [base64.b64encode(hashlib.sha256(p).digest()).decode() for p in parts],
}))
`
    const out = JSON.parse(await runPython(h, 'ci', script)) as Record<string, unknown>
    const want = out['want'] as string[]
    assert.deepEqual(out, {
      total: 2,
      truncated: true,
      next: 1,
      first: [{ PartNumber: 1, Size: 5 * MiB, ChecksumSHA256: want[0] }],
      second: [{ PartNumber: 2, Size: 2000, ChecksumSHA256: want[1] }],
      more: false,
      want,
    })
  },
)

test('parts kept by an older sandbox (no checksums column) still read, and new parts keep their checksums', () => {
  const dir = mkdtempSync(join(tmpdir(), 'crosspipe-parts-'))
  try {
    const first = openDb(dir)
    first.exec(`CREATE TABLE s3_parts (
      upload_id TEXT NOT NULL, part_number INTEGER NOT NULL, blob TEXT NOT NULL, etag TEXT NOT NULL,
      size INTEGER NOT NULL, last_modified TEXT NOT NULL, PRIMARY KEY (upload_id, part_number)
    ) WITHOUT ROWID`)
    first
      .prepare("INSERT INTO s3_parts VALUES ('u', 1, 'old-blob', '\"e1\"', 5, '2026-01-01T00:00:00.000Z')")
      .run()
    first.close()
    const db = openDb(dir)
    try {
      const store = new S3Store(db)
      store.putPart('u', {
        partNumber: 2,
        blob: 'b2',
        etag: '"e2"',
        size: 7,
        lastModified: 'now',
        checksums: { crc32: 'AAAAAA==' },
      })
      assert.deepEqual(
        store.parts('u').map((p) => [p.partNumber, p.blob, p.size, p.checksums]),
        [
          [1, 'old-blob', 5, undefined],
          [2, 'b2', 7, { crc32: 'AAAAAA==' }],
        ],
      )
    } finally {
      db.close()
    }
    // Opened again: the column is there once, not added twice.
    const again = new Database(join(dir, 'sandbox.db'))
    const cols = (again.pragma('table_info(s3_parts)') as { name: string }[]).filter(
      (c) => c.name === 'checksums',
    )
    again.close()
    assert.equal(cols.length, 1)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
