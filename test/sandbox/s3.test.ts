// S3 through the SDK v3 client: buckets and their configuration, objects, versions, ranges,
// copies, listings, multipart uploads, presigned URLs.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
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
  CompleteMultipartUploadCommand,
  AbortMultipartUploadCommand,
  ListObjectsCommand,
  GetObjectTaggingCommand,
  PutObjectTaggingCommand,
  DeleteObjectTaggingCommand,
} from '@aws-sdk/client-s3'
import { harness, failure, presignS3, type Harness } from './helpers.js'

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
