// S3 through the SDK v3 client: buckets and their configuration, objects, versions, ranges,
// copies, listings, multipart uploads and their parts read by partNumber, presigned URLs.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { request as httpRequest } from 'node:http'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import {
  CreateBucketCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  DeleteBucketCommand,
  PutObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  DeleteObjectCommand,
  CopyObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  DeleteObjectsCommand,
  PutBucketVersioningCommand,
  GetBucketVersioningCommand,
  PutBucketPolicyCommand,
  GetBucketPolicyCommand,
  DeleteBucketPolicyCommand,
  PutBucketEncryptionCommand,
  GetBucketEncryptionCommand,
  GetPublicAccessBlockCommand,
  PutPublicAccessBlockCommand,
  GetBucketOwnershipControlsCommand,
  PutBucketLifecycleConfigurationCommand,
  GetBucketLifecycleConfigurationCommand,
  PutBucketTaggingCommand,
  GetBucketTaggingCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  ListPartsCommand,
  CompleteMultipartUploadCommand,
  AbortMultipartUploadCommand,
  ListObjectsCommand,
  GetObjectTaggingCommand,
  PutObjectTaggingCommand,
  DeleteObjectTaggingCommand,
  type CompleteMultipartUploadCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3'
import Database from 'better-sqlite3'
import { harness, failure, presignS3, signRaw, type Harness } from './helpers.js'

let h: Harness
before(async () => {
  h = await harness()
})
after(async () => {
  await h.close()
})

const s3 = () => h.clients(h.creds('ci')).s3

test('buckets: create, head, list, configuration, delete when empty', async () => {
  const c = s3()
  await c.send(new CreateBucketCommand({ Bucket: 'conf-bucket' }))
  await c.send(new HeadBucketCommand({ Bucket: 'conf-bucket' }))
  const list = await c.send(new ListBucketsCommand({}))
  assert.ok(list.Buckets?.some((b) => b.Name === 'conf-bucket'))
  assert.equal(
    (await failure(c.send(new CreateBucketCommand({ Bucket: 'Bad_Name' })))).name,
    'InvalidBucketName',
  )
  const taken = await failure(
    h.clients(h.creds('dev')).s3.send(new CreateBucketCommand({ Bucket: 'conf-bucket' })),
  )
  assert.equal(taken.name, 'BucketAlreadyExists')
  assert.equal(taken.status, 409)

  assert.equal((await c.send(new GetBucketVersioningCommand({ Bucket: 'conf-bucket' }))).Status, undefined)
  await c.send(
    new PutBucketVersioningCommand({ Bucket: 'conf-bucket', VersioningConfiguration: { Status: 'Enabled' } }),
  )
  assert.equal((await c.send(new GetBucketVersioningCommand({ Bucket: 'conf-bucket' }))).Status, 'Enabled')

  const enc = await c.send(new GetBucketEncryptionCommand({ Bucket: 'conf-bucket' }))
  assert.equal(
    enc.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm,
    'AES256',
  )
  await c.send(
    new PutBucketEncryptionCommand({
      Bucket: 'conf-bucket',
      ServerSideEncryptionConfiguration: {
        Rules: [
          {
            ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'alias/x' },
            BucketKeyEnabled: true,
          },
        ],
      },
    }),
  )
  const enc2 = await c.send(new GetBucketEncryptionCommand({ Bucket: 'conf-bucket' }))
  assert.equal(
    enc2.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.KMSMasterKeyID,
    'alias/x',
  )
  assert.equal(enc2.ServerSideEncryptionConfiguration?.Rules?.[0]?.BucketKeyEnabled, true)

  const pab = await c.send(new GetPublicAccessBlockCommand({ Bucket: 'conf-bucket' }))
  assert.equal(pab.PublicAccessBlockConfiguration?.BlockPublicPolicy, true)
  await c.send(
    new PutPublicAccessBlockCommand({
      Bucket: 'conf-bucket',
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        IgnorePublicAcls: true,
        BlockPublicPolicy: false,
        RestrictPublicBuckets: false,
      },
    }),
  )
  assert.equal(
    (await c.send(new GetPublicAccessBlockCommand({ Bucket: 'conf-bucket' }))).PublicAccessBlockConfiguration
      ?.BlockPublicPolicy,
    false,
  )
  assert.equal(
    (await c.send(new GetBucketOwnershipControlsCommand({ Bucket: 'conf-bucket' }))).OwnershipControls
      ?.Rules?.[0]?.ObjectOwnership,
    'BucketOwnerEnforced',
  )

  await c.send(
    new PutBucketLifecycleConfigurationCommand({
      Bucket: 'conf-bucket',
      LifecycleConfiguration: {
        Rules: [
          {
            ID: 'old',
            Status: 'Enabled',
            Filter: { Prefix: '' },
            NoncurrentVersionExpiration: { NoncurrentDays: 30 },
          },
        ],
      },
    }),
  )
  const lc = await c.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'conf-bucket' }))
  assert.equal(lc.Rules?.[0]?.NoncurrentVersionExpiration?.NoncurrentDays, 30)
  assert.equal(
    (await failure(c.send(new GetBucketTaggingCommand({ Bucket: 'conf-bucket' })))).name,
    'NoSuchTagSet',
  )
  await c.send(
    new PutBucketTaggingCommand({
      Bucket: 'conf-bucket',
      Tagging: { TagSet: [{ Key: 'team', Value: 'ci' }] },
    }),
  )
  assert.deepEqual((await c.send(new GetBucketTaggingCommand({ Bucket: 'conf-bucket' }))).TagSet, [
    { Key: 'team', Value: 'ci' },
  ])

  assert.equal(
    (await failure(c.send(new GetBucketPolicyCommand({ Bucket: 'conf-bucket' })))).name,
    'NoSuchBucketPolicy',
  )
  const policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: 'arn:aws:iam::222222222222:root' },
        Action: 's3:GetObject',
        Resource: 'arn:aws:s3:::conf-bucket/*',
      },
    ],
  })
  await c.send(new PutBucketPolicyCommand({ Bucket: 'conf-bucket', Policy: policy }))
  assert.equal((await c.send(new GetBucketPolicyCommand({ Bucket: 'conf-bucket' }))).Policy, policy)
  const badResource = await failure(
    c.send(
      new PutBucketPolicyCommand({
        Bucket: 'conf-bucket',
        Policy: policy.replace('conf-bucket/*', 'other/*'),
      }),
    ),
  )
  assert.equal(badResource.name, 'MalformedPolicy')
  assert.equal(
    (await failure(c.send(new PutBucketPolicyCommand({ Bucket: 'conf-bucket', Policy: 'nope' })))).name,
    'MalformedPolicy',
  )
  await c.send(new DeleteBucketPolicyCommand({ Bucket: 'conf-bucket' }))

  await c.send(
    new PutObjectCommand({ Bucket: 'conf-bucket', Key: 'k', Body: 'x', ServerSideEncryption: 'AES256' }),
  )
  const notEmpty = await failure(c.send(new DeleteBucketCommand({ Bucket: 'conf-bucket' })))
  assert.equal(notEmpty.name, 'BucketNotEmpty')
  const versions = await c.send(new ListObjectVersionsCommand({ Bucket: 'conf-bucket' }))
  for (const v of versions.Versions ?? [])
    await c.send(new DeleteObjectCommand({ Bucket: 'conf-bucket', Key: v.Key!, VersionId: v.VersionId! }))
  await c.send(new DeleteBucketCommand({ Bucket: 'conf-bucket' }))
  assert.equal((await failure(c.send(new HeadBucketCommand({ Bucket: 'conf-bucket' })))).status, 404)
})

test('objects: put/get/head with metadata, ranges, conditional gets, copy, delete', async () => {
  const c = s3()
  await c.send(new CreateBucketCommand({ Bucket: 'objects' }))
  const body = 'hello, sandbox world'
  const put = await c.send(
    new PutObjectCommand({
      Bucket: 'objects',
      Key: 'dir/a key.txt',
      Body: body,
      ContentType: 'text/plain',
      Metadata: { owner: 'me' },
    }),
  )
  assert.equal(put.ETag, `"${createHash('md5').update(body).digest('hex')}"`)
  const got = await c.send(new GetObjectCommand({ Bucket: 'objects', Key: 'dir/a key.txt' }))
  assert.equal(await got.Body!.transformToString(), body)
  assert.equal(got.ContentType, 'text/plain')
  assert.equal(got.Metadata?.owner, 'me')
  assert.equal(got.ServerSideEncryption, 'AES256')
  const range = await c.send(
    new GetObjectCommand({ Bucket: 'objects', Key: 'dir/a key.txt', Range: 'bytes=7-13' }),
  )
  assert.equal(await range.Body!.transformToString(), 'sandbox')
  assert.equal(range.ContentRange, `bytes 7-13/${body.length}`)
  const suffix = await c.send(
    new GetObjectCommand({ Bucket: 'objects', Key: 'dir/a key.txt', Range: 'bytes=-5' }),
  )
  assert.equal(await suffix.Body!.transformToString(), 'world')
  assert.equal(
    (
      await failure(
        c.send(new GetObjectCommand({ Bucket: 'objects', Key: 'dir/a key.txt', Range: 'bytes=100-' })),
      )
    ).status,
    416,
  )
  const head = await c.send(new HeadObjectCommand({ Bucket: 'objects', Key: 'dir/a key.txt' }))
  assert.equal(head.ContentLength, body.length)
  assert.equal(
    (
      await failure(
        c.send(new GetObjectCommand({ Bucket: 'objects', Key: 'dir/a key.txt', IfMatch: '"nope"' })),
      )
    ).status,
    412,
  )
  assert.equal(
    (
      await failure(
        c.send(new GetObjectCommand({ Bucket: 'objects', Key: 'dir/a key.txt', IfNoneMatch: put.ETag })),
      )
    ).status,
    304,
  )
  const missing = await failure(c.send(new GetObjectCommand({ Bucket: 'objects', Key: 'nope' })))
  assert.equal(missing.name, 'NoSuchKey')
  assert.equal((await failure(c.send(new HeadObjectCommand({ Bucket: 'objects', Key: 'nope' })))).status, 404)
  assert.equal(
    (await failure(c.send(new GetObjectCommand({ Bucket: 'no-such-bucket-x', Key: 'k' })))).name,
    'NoSuchBucket',
  )

  await c.send(
    new CopyObjectCommand({ Bucket: 'objects', Key: 'copy.txt', CopySource: 'objects/dir/a%20key.txt' }),
  )
  assert.equal(
    await (
      await c.send(new GetObjectCommand({ Bucket: 'objects', Key: 'copy.txt' }))
    ).Body!.transformToString(),
    body,
  )
  const self = await failure(
    c.send(new CopyObjectCommand({ Bucket: 'objects', Key: 'copy.txt', CopySource: 'objects/copy.txt' })),
  )
  assert.equal(self.name, 'InvalidRequest')

  // A streamed body goes out aws-chunked with a trailing checksum.
  await c.send(
    new PutObjectCommand({
      Bucket: 'objects',
      Key: 'streamed',
      Body: Readable.from([Buffer.from('abc'), Buffer.from('def')]),
      ContentLength: 6,
    }),
  )
  assert.equal(
    await (
      await c.send(new GetObjectCommand({ Bucket: 'objects', Key: 'streamed' }))
    ).Body!.transformToString(),
    'abcdef',
  )

  await c.send(new DeleteObjectCommand({ Bucket: 'objects', Key: 'copy.txt' }))
  assert.equal(
    (await failure(c.send(new GetObjectCommand({ Bucket: 'objects', Key: 'copy.txt' })))).name,
    'NoSuchKey',
  )
})

test('listing: prefixes, delimiters, pagination, v1 and v2', async () => {
  const c = s3()
  await c.send(new CreateBucketCommand({ Bucket: 'listing' }))
  const keys = ['a/1', 'a/2', 'a/b/3', 'b/4', 'c', 'd/5', 'd/6']
  for (const k of keys) await c.send(new PutObjectCommand({ Bucket: 'listing', Key: k, Body: k }))
  const all = await c.send(new ListObjectsV2Command({ Bucket: 'listing' }))
  assert.deepEqual(
    all.Contents?.map((o) => o.Key),
    keys,
  )
  const top = await c.send(new ListObjectsV2Command({ Bucket: 'listing', Delimiter: '/' }))
  assert.deepEqual(
    top.CommonPrefixes?.map((p) => p.Prefix),
    ['a/', 'b/', 'd/'],
  )
  assert.deepEqual(
    top.Contents?.map((o) => o.Key),
    ['c'],
  )
  const inA = await c.send(new ListObjectsV2Command({ Bucket: 'listing', Prefix: 'a/', Delimiter: '/' }))
  assert.deepEqual(
    inA.Contents?.map((o) => o.Key),
    ['a/1', 'a/2'],
  )
  assert.deepEqual(
    inA.CommonPrefixes?.map((p) => p.Prefix),
    ['a/b/'],
  )
  const seen: string[] = []
  let token: string | undefined
  let pages = 0
  do {
    const p = await c.send(
      new ListObjectsV2Command({ Bucket: 'listing', MaxKeys: 3, ContinuationToken: token }),
    )
    seen.push(...(p.Contents ?? []).map((o) => o.Key!))
    token = p.NextContinuationToken
    pages++
  } while (token)
  assert.deepEqual(seen, keys)
  assert.equal(pages, 3)
  const v1 = await c.send(new ListObjectsCommand({ Bucket: 'listing', Marker: 'b/4' }))
  assert.deepEqual(
    v1.Contents?.map((o) => o.Key),
    ['c', 'd/5', 'd/6'],
  )
  const del = await c.send(
    new DeleteObjectsCommand({ Bucket: 'listing', Delete: { Objects: keys.map((Key) => ({ Key })) } }),
  )
  assert.equal(del.Deleted?.length, keys.length)
  assert.equal((await c.send(new ListObjectsV2Command({ Bucket: 'listing' }))).KeyCount, 0)
})

test('versioning: versions, delete markers, version ids', async () => {
  const c = s3()
  await c.send(new CreateBucketCommand({ Bucket: 'versions' }))
  await c.send(
    new PutBucketVersioningCommand({ Bucket: 'versions', VersioningConfiguration: { Status: 'Enabled' } }),
  )
  const v1 = await c.send(new PutObjectCommand({ Bucket: 'versions', Key: 'k', Body: 'one' }))
  const v2 = await c.send(new PutObjectCommand({ Bucket: 'versions', Key: 'k', Body: 'two' }))
  assert.ok(v1.VersionId && v2.VersionId && v1.VersionId !== v2.VersionId)
  assert.equal(
    await (
      await c.send(new GetObjectCommand({ Bucket: 'versions', Key: 'k', VersionId: v1.VersionId }))
    ).Body!.transformToString(),
    'one',
  )
  const d = await c.send(new DeleteObjectCommand({ Bucket: 'versions', Key: 'k' }))
  assert.equal(d.DeleteMarker, true)
  assert.equal(
    (await failure(c.send(new GetObjectCommand({ Bucket: 'versions', Key: 'k' })))).name,
    'NoSuchKey',
  )
  const list = await c.send(new ListObjectVersionsCommand({ Bucket: 'versions' }))
  assert.deepEqual(
    list.Versions?.map((v) => v.VersionId),
    [v2.VersionId, v1.VersionId],
  )
  assert.equal(list.DeleteMarkers?.length, 1)
  assert.equal(list.DeleteMarkers?.[0]?.IsLatest, true)
  await c.send(new DeleteObjectCommand({ Bucket: 'versions', Key: 'k', VersionId: d.VersionId }))
  assert.equal(
    await (await c.send(new GetObjectCommand({ Bucket: 'versions', Key: 'k' }))).Body!.transformToString(),
    'two',
  )
})

test('multipart upload: parts, completion ETag, abort, small parts refused', async () => {
  const c = s3()
  await c.send(new CreateBucketCommand({ Bucket: 'multipart' }))
  const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket: 'multipart', Key: 'big' }))
  const p1 = Buffer.alloc(5 * 1024 * 1024, 'a')
  const p2 = Buffer.from('tail')
  const e1 = await c.send(
    new UploadPartCommand({ Bucket: 'multipart', Key: 'big', UploadId, PartNumber: 1, Body: p1 }),
  )
  const e2 = await c.send(
    new UploadPartCommand({ Bucket: 'multipart', Key: 'big', UploadId, PartNumber: 2, Body: p2 }),
  )
  const done = await c.send(
    new CompleteMultipartUploadCommand({
      Bucket: 'multipart',
      Key: 'big',
      UploadId,
      MultipartUpload: {
        Parts: [
          { PartNumber: 1, ETag: e1.ETag },
          { PartNumber: 2, ETag: e2.ETag },
        ],
      },
    }),
  )
  assert.match(done.ETag!, /^"[0-9a-f]{32}-2"$/)
  const got = await c.send(new GetObjectCommand({ Bucket: 'multipart', Key: 'big' }))
  const bytes = Buffer.from(await got.Body!.transformToByteArray())
  assert.equal(bytes.length, p1.length + p2.length)
  assert.equal(bytes.subarray(-4).toString(), 'tail')

  const small = await c.send(new CreateMultipartUploadCommand({ Bucket: 'multipart', Key: 'small' }))
  const s1 = await c.send(
    new UploadPartCommand({
      Bucket: 'multipart',
      Key: 'small',
      UploadId: small.UploadId,
      PartNumber: 1,
      Body: 'x',
    }),
  )
  const s2 = await c.send(
    new UploadPartCommand({
      Bucket: 'multipart',
      Key: 'small',
      UploadId: small.UploadId,
      PartNumber: 2,
      Body: 'y',
    }),
  )
  const tooSmall = await failure(
    c.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'multipart',
        Key: 'small',
        UploadId: small.UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: s1.ETag },
            { PartNumber: 2, ETag: s2.ETag },
          ],
        },
      }),
    ),
  )
  assert.equal(tooSmall.name, 'EntityTooSmall')
  await c.send(
    new AbortMultipartUploadCommand({ Bucket: 'multipart', Key: 'small', UploadId: small.UploadId }),
  )
  assert.equal(
    (
      await failure(
        c.send(
          new UploadPartCommand({
            Bucket: 'multipart',
            Key: 'small',
            UploadId: small.UploadId,
            PartNumber: 3,
            Body: 'z',
          }),
        ),
      )
    ).name,
    'NoSuchUpload',
  )
})

/** Uploads `parts` (number → body) as one multipart upload and completes it from all of them. */
async function uploadInParts(
  c: S3Client,
  bucket: string,
  key: string,
  parts: readonly (readonly [number, Buffer | string])[],
): Promise<CompleteMultipartUploadCommandOutput> {
  const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }))
  const done: { PartNumber: number; ETag: string }[] = []
  for (const [PartNumber, Body] of parts) {
    const r = await c.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber, Body }))
    done.push({ PartNumber, ETag: r.ETag! })
  }
  return c.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      UploadId,
      MultipartUpload: { Parts: done },
    }),
  )
}

test('partNumber reads one part: 206, its bytes and Content-Range, PartsCount only then', async () => {
  const c = s3()
  await c.send(new CreateBucketCommand({ Bucket: 'parts' }))
  const p1 = Buffer.alloc(5 * 1024 * 1024, 'a')
  const p2 = Buffer.from('the tail part')
  const total = p1.length + p2.length
  await uploadInParts(c, 'parts', 'two', [
    [1, p1],
    [2, p2],
  ])

  // Without partNumber: the whole object, and no PartsCount (API_HeadObject.html).
  const whole = await c.send(new HeadObjectCommand({ Bucket: 'parts', Key: 'two' }))
  assert.equal(whole.$metadata.httpStatusCode, 200)
  assert.equal(whole.ContentLength, total)
  assert.equal(whole.PartsCount, undefined)
  assert.equal(whole.ContentRange, undefined)
  const wholeGet = await c.send(new GetObjectCommand({ Bucket: 'parts', Key: 'two' }))
  assert.equal(wholeGet.PartsCount, undefined)
  await wholeGet.Body!.transformToByteArray()

  const h1 = await c.send(new HeadObjectCommand({ Bucket: 'parts', Key: 'two', PartNumber: 1 }))
  assert.equal(h1.$metadata.httpStatusCode, 206)
  assert.deepEqual(
    [h1.ContentLength, h1.ContentRange, h1.PartsCount],
    [p1.length, `bytes 0-${p1.length - 1}/${total}`, 2],
  )
  // The ETag stays the object's.
  assert.match(h1.ETag!, /^"[0-9a-f]{32}-2"$/)
  const g1 = await c.send(new GetObjectCommand({ Bucket: 'parts', Key: 'two', PartNumber: 1 }))
  assert.equal(g1.$metadata.httpStatusCode, 206)
  assert.ok(Buffer.from(await g1.Body!.transformToByteArray()).equals(p1))
  const g2 = await c.send(new GetObjectCommand({ Bucket: 'parts', Key: 'two', PartNumber: 2 }))
  assert.deepEqual(
    [g2.$metadata.httpStatusCode, g2.ContentLength, g2.ContentRange, g2.PartsCount],
    [206, p2.length, `bytes ${p1.length}-${total - 1}/${total}`, 2],
  )
  assert.equal(await g2.Body!.transformToString(), 'the tail part')

  // Beyond the parts: InvalidPartNumber, 416 (ErrorResponses.html); not a part number at all: InvalidArgument.
  const beyond = await failure(c.send(new GetObjectCommand({ Bucket: 'parts', Key: 'two', PartNumber: 3 })))
  assert.deepEqual([beyond.name, beyond.status], ['InvalidPartNumber', 416])
  const headBeyond = await failure(
    c.send(new HeadObjectCommand({ Bucket: 'parts', Key: 'two', PartNumber: 3 })),
  )
  assert.equal(headBeyond.status, 416)
  for (const n of [0, 10001]) {
    const bad = await failure(c.send(new GetObjectCommand({ Bucket: 'parts', Key: 'two', PartNumber: n })))
    assert.deepEqual([bad.name, bad.status], ['InvalidArgument', 400], `partNumber ${n}`)
    assert.match(bad.message, /between 1 and 10000/)
  }
  const both = await failure(
    c.send(new GetObjectCommand({ Bucket: 'parts', Key: 'two', PartNumber: 1, Range: 'bytes=0-1' })),
  )
  assert.deepEqual([both.name, both.status], ['InvalidRequest', 400])
  assert.match(both.message, /both Range header and partNumber/)

  // An object put whole is one part: part 1 is all of it (206, no PartsCount), part 2 does not exist.
  await c.send(new PutObjectCommand({ Bucket: 'parts', Key: 'one', Body: 'single' }))
  const o1 = await c.send(new GetObjectCommand({ Bucket: 'parts', Key: 'one', PartNumber: 1 }))
  assert.deepEqual(
    [o1.$metadata.httpStatusCode, o1.ContentLength, o1.ContentRange, o1.PartsCount],
    [206, 6, 'bytes 0-5/6', undefined],
  )
  assert.equal(await o1.Body!.transformToString(), 'single')
  const o2 = await failure(c.send(new GetObjectCommand({ Bucket: 'parts', Key: 'one', PartNumber: 2 })))
  assert.deepEqual([o2.name, o2.status], ['InvalidPartNumber', 416])

  // Completed from parts 1 and 3: read as parts 1 and 2, in the order they were put together.
  await uploadInParts(c, 'parts', 'gap', [
    [1, p1],
    [3, 'third'],
  ])
  const gap2 = await c.send(new GetObjectCommand({ Bucket: 'parts', Key: 'gap', PartNumber: 2 }))
  assert.deepEqual(
    [gap2.ContentRange, gap2.PartsCount],
    [`bytes ${p1.length}-${p1.length + 4}/${p1.length + 5}`, 2],
  )
  assert.equal(await gap2.Body!.transformToString(), 'third')
  assert.equal(
    (await failure(c.send(new GetObjectCommand({ Bucket: 'parts', Key: 'gap', PartNumber: 3 })))).name,
    'InvalidPartNumber',
  )

  // An object an older sandbox completed kept its parts count but not their sizes: one part of it
  // cannot be found, and the answer says so; the whole object and byte ranges still read.
  const db = new Database(join(h.dir, 'sandbox.db'))
  const row = db.prepare("SELECT meta FROM s3_objects WHERE bucket = 'parts' AND key = 'two'").get() as {
    meta: string
  }
  const { partSizes, ...old } = JSON.parse(row.meta) as { partSizes?: number[] }
  assert.deepEqual(partSizes, [p1.length, p2.length])
  db.prepare("UPDATE s3_objects SET meta = ? WHERE bucket = 'parts' AND key = 'two'").run(JSON.stringify(old))
  db.close()
  const older = await failure(c.send(new GetObjectCommand({ Bucket: 'parts', Key: 'two', PartNumber: 1 })))
  assert.deepEqual([older.name, older.status], ['NotImplemented', 501])
  assert.match(older.message, /older crosspipe sandbox.*read it whole or by a byte range/)
  const ranged = await c.send(new GetObjectCommand({ Bucket: 'parts', Key: 'two', Range: 'bytes=-4' }))
  assert.equal(await ranged.Body!.transformToString(), 'part')
})

test("CompleteMultipartUpload's Location is the object's URI on the endpoint called, its key form-encoded", async () => {
  const c = s3()
  await c.send(new CreateBucketCommand({ Bucket: 'located' }))
  // Path-style (the SDK's forcePathStyle): http://127.0.0.1:<port>/<bucket>/<key>.
  const done = await uploadInParts(c, 'located', 'dir/a b+c~.txt', [[1, 'only part']])
  assert.equal(done.Location, `${h.sandbox.endpoint}/located/dir%2Fa+b%2Bc%7E.txt`)
  assert.equal(done.Key, 'dir/a b+c~.txt')

  // Virtual-hosted (Host: <bucket>.localhost:<port>, sent to the loopback address): the bucket is in the host.
  const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket: 'located', Key: 'v' }))
  const part = await c.send(
    new UploadPartCommand({ Bucket: 'located', Key: 'v', UploadId, PartNumber: 1, Body: 'v' }),
  )
  const body = `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${part.ETag}</ETag></Part></CompleteMultipartUpload>`
  const vhost = `located.localhost:${h.sandbox.port}`
  const signed = await signRaw({
    endpoint: `http://${vhost}`,
    creds: h.creds('ci'),
    service: 's3',
    method: 'POST',
    path: `/v?uploadId=${encodeURIComponent(UploadId!)}`,
    headers: { 'x-amz-content-sha256': createHash('sha256').update(body).digest('hex') },
    body,
  })
  const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const u = new URL(signed.url)
    const r = httpRequest(
      {
        host: '127.0.0.1',
        port: h.sandbox.port,
        method: 'POST',
        path: u.pathname + u.search,
        headers: signed.headers,
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (d: Buffer) => chunks.push(d))
        res.on('end', () => resolve({ status: res.statusCode!, text: Buffer.concat(chunks).toString() }))
      },
    )
    r.on('error', reject)
    r.end(body)
  })
  assert.equal(answer.status, 200, answer.text)
  assert.match(answer.text, new RegExp(`<Location>http://${vhost}/v</Location>`))
})

test('presigned URLs: GET and PUT work, an expired or altered URL is refused', async () => {
  const c = s3()
  await c.send(new CreateBucketCommand({ Bucket: 'presigned' }))
  const putUrl = await presignS3(h, h.creds('ci'), 'PUT', 'presigned', 'p.txt', 60)
  const put = await fetch(putUrl, { method: 'PUT', body: 'via url' })
  assert.equal(put.status, 200, await put.text())
  const getUrl = await presignS3(h, h.creds('ci'), 'GET', 'presigned', 'p.txt', 60)
  const got = await fetch(getUrl)
  assert.equal(await got.text(), 'via url')
  const tampered = await fetch(getUrl.replace('p.txt', 'q.txt'))
  assert.equal(tampered.status, 403)
  assert.match(await tampered.text(), /<Code>SignatureDoesNotMatch<\/Code>/)
  const past = await presignS3(
    h,
    h.creds('ci'),
    'GET',
    'presigned',
    'p.txt',
    1,
    new Date(Date.now() - 60_000),
  )
  const expired = await fetch(past)
  assert.equal(expired.status, 403)
  assert.match(await expired.text(), /<Message>Request has expired<\/Message>/)
})

test('object tagging: on put, get, replace, delete', async () => {
  const c = s3()
  await c.send(new CreateBucketCommand({ Bucket: 'tagged' }))
  await c.send(
    new PutObjectCommand({ Bucket: 'tagged', Key: 'o', Body: 'x', Tagging: 'stage=build&team=ci' }),
  )
  assert.deepEqual((await c.send(new GetObjectTaggingCommand({ Bucket: 'tagged', Key: 'o' }))).TagSet, [
    { Key: 'stage', Value: 'build' },
    { Key: 'team', Value: 'ci' },
  ])
  assert.equal((await c.send(new GetObjectCommand({ Bucket: 'tagged', Key: 'o' }))).TagCount, 2)
  await c.send(
    new PutObjectTaggingCommand({
      Bucket: 'tagged',
      Key: 'o',
      Tagging: { TagSet: [{ Key: 'k', Value: 'v' }] },
    }),
  )
  assert.deepEqual((await c.send(new GetObjectTaggingCommand({ Bucket: 'tagged', Key: 'o' }))).TagSet, [
    { Key: 'k', Value: 'v' },
  ])
  await c.send(new DeleteObjectTaggingCommand({ Bucket: 'tagged', Key: 'o' }))
  assert.deepEqual(
    (await c.send(new GetObjectTaggingCommand({ Bucket: 'tagged', Key: 'o' }))).TagSet ?? [],
    [],
  )
  assert.equal(
    (await failure(c.send(new GetObjectTaggingCommand({ Bucket: 'tagged', Key: 'missing' })))).name,
    'NoSuchKey',
  )
})

test('ListParts pages by max-parts and part-number-marker', async () => {
  const c = s3()
  await c.send(new CreateBucketCommand({ Bucket: 'list-parts' }))
  const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket: 'list-parts', Key: 'k' }))
  for (const n of [3, 1, 2])
    await c.send(
      new UploadPartCommand({ Bucket: 'list-parts', Key: 'k', UploadId, PartNumber: n, Body: `p${n}` }),
    )
  const first = await c.send(new ListPartsCommand({ Bucket: 'list-parts', Key: 'k', UploadId, MaxParts: 2 }))
  assert.deepEqual(
    first.Parts!.map((p) => p.PartNumber),
    [1, 2],
  )
  assert.equal(first.IsTruncated, true)
  assert.equal(first.MaxParts, 2)
  assert.equal(first.NextPartNumberMarker, '2')
  const rest = await c.send(
    new ListPartsCommand({
      Bucket: 'list-parts',
      Key: 'k',
      UploadId,
      PartNumberMarker: first.NextPartNumberMarker,
    }),
  )
  assert.deepEqual(
    rest.Parts!.map((p) => p.PartNumber),
    [3],
  )
  assert.equal(rest.IsTruncated, false)
  assert.equal(rest.PartNumberMarker, '2')
  await assert.rejects(
    c.send(new ListPartsCommand({ Bucket: 'list-parts', Key: 'k', UploadId, PartNumberMarker: 'x' })),
    (e: Error) => e.name === 'InvalidArgument',
  )
})

test('suspended versioning: a put replaces the null version, in place when it is current, from under newer versions otherwise', async () => {
  const c = s3()
  const Bucket = 'suspended'
  await c.send(new CreateBucketCommand({ Bucket }))
  const versioning = (Status: 'Enabled' | 'Suspended') =>
    c.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status } }))
  const put = (Body: string) => c.send(new PutObjectCommand({ Bucket, Key: 'k', Body }))
  const versions = async () =>
    (await c.send(new ListObjectVersionsCommand({ Bucket }))).Versions!.map(
      (v) => `${v.VersionId === 'null' ? 'null' : 'v'}${v.IsLatest ? '*' : ''}:${v.Size}`,
    )
  const body = async () =>
    (await c.send(new GetObjectCommand({ Bucket, Key: 'k' }))).Body!.transformToString()
  await versioning('Enabled')
  await put('1')
  await versioning('Suspended')
  await put('22')
  await put('333') // replaces the current null version
  assert.deepEqual(await versions(), ['null*:3', 'v:1'])
  assert.equal(await body(), '333')
  await versioning('Enabled')
  await put('4444')
  await versioning('Suspended')
  await put('55555') // the null version is under v4444: it goes, the new one is on top
  assert.deepEqual(await versions(), ['null*:5', 'v:4', 'v:1'])
  assert.equal(await body(), '55555')
  // Unversioned overwrites keep one object with the last body.
  await c.send(new CreateBucketCommand({ Bucket: 'plain-overwrites' }))
  for (const b of ['a', 'bb', 'ccc'])
    await c.send(new PutObjectCommand({ Bucket: 'plain-overwrites', Key: 'k', Body: b }))
  const plain = await c.send(new ListObjectVersionsCommand({ Bucket: 'plain-overwrites' }))
  assert.deepEqual(
    plain.Versions!.map((v) => [v.VersionId, v.IsLatest, v.Size]),
    [['null', true, 3]],
  )
})
