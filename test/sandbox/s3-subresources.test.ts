// S3 sub-resources the sandbox does not model, read as AWS answers for a bucket or object that
// never had them set (issue 13): what Terraform and other tools read on every refresh. Driven by
// the AWS SDK v3's own commands, so the codes and shapes are the ones its parsers expect.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import {
  CreateBucketCommand,
  DeleteBucketCorsCommand,
  GetBucketAccelerateConfigurationCommand,
  GetBucketAclCommand,
  GetBucketCorsCommand,
  GetBucketLoggingCommand,
  GetBucketNotificationConfigurationCommand,
  GetBucketPolicyStatusCommand,
  GetBucketReplicationCommand,
  GetBucketRequestPaymentCommand,
  GetBucketWebsiteCommand,
  GetObjectAclCommand,
  GetObjectAttributesCommand,
  GetObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  GetObjectTorrentCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3'
import { harness, failure, signRaw, type Harness } from './helpers.js'

let h: Harness
before(async () => {
  h = await harness()
})
after(async () => {
  await h.close()
})

test('bucket settings never set: the documented 404 codes and default documents', async () => {
  const c = h.clients(h.creds('ci')).s3
  const Bucket = 'sub-bucket'
  await c.send(new CreateBucketCommand({ Bucket }))
  const notSet: [Promise<unknown>, string][] = [
    [c.send(new GetBucketCorsCommand({ Bucket })), 'NoSuchCORSConfiguration'],
    [c.send(new GetBucketWebsiteCommand({ Bucket })), 'NoSuchWebsiteConfiguration'],
    [c.send(new GetBucketReplicationCommand({ Bucket })), 'ReplicationConfigurationNotFoundError'],
    [c.send(new GetObjectLockConfigurationCommand({ Bucket })), 'ObjectLockConfigurationNotFoundError'],
    [c.send(new GetBucketPolicyStatusCommand({ Bucket })), 'NoSuchBucketPolicy'],
  ]
  for (const [call, code] of notSet) {
    const e = await failure(call)
    assert.deepEqual([e.name, e.status], [code, 404])
  }
  const acl = await c.send(new GetBucketAclCommand({ Bucket }))
  assert.equal(acl.Grants?.length, 1)
  assert.equal(acl.Grants![0]!.Permission, 'FULL_CONTROL')
  assert.equal(acl.Grants![0]!.Grantee?.ID, acl.Owner?.ID)
  assert.equal((await c.send(new GetBucketLoggingCommand({ Bucket }))).LoggingEnabled, undefined)
  assert.equal((await c.send(new GetBucketAccelerateConfigurationCommand({ Bucket }))).Status, undefined)
  assert.equal((await c.send(new GetBucketRequestPaymentCommand({ Bucket }))).Payer, 'BucketOwner')
  const n = await c.send(new GetBucketNotificationConfigurationCommand({ Bucket }))
  assert.equal(n.TopicConfigurations, undefined)
  // Deleting a setting that is not there is a 204, as on AWS.
  await c.send(new DeleteBucketCorsCommand({ Bucket }))

  await c.send(
    new PutBucketPolicyCommand({
      Bucket,
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${Bucket}/*` },
        ],
      }),
    }),
  )
  assert.equal((await c.send(new GetBucketPolicyStatusCommand({ Bucket }))).PolicyStatus?.IsPublic, true)

  // Reading a setting is authorized like any call: another account may not.
  const other = await failure(h.clients(h.creds('dev')).s3.send(new GetBucketCorsCommand({ Bucket })))
  assert.equal(other.name, 'AccessDenied')
})

test('object sub-resources are never answered with the object bytes', async () => {
  const c = h.clients(h.creds('ci')).s3
  const Bucket = 'sub-objects'
  await c.send(new CreateBucketCommand({ Bucket }))
  await c.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'hello', ChecksumAlgorithm: 'SHA256' }))

  const acl = await c.send(new GetObjectAclCommand({ Bucket, Key: 'k' }))
  assert.equal(acl.Grants![0]!.Permission, 'FULL_CONTROL')
  const missing = await failure(c.send(new GetObjectAclCommand({ Bucket, Key: 'nope' })))
  assert.equal(missing.name, 'NoSuchKey')

  const attrs = await c.send(
    new GetObjectAttributesCommand({
      Bucket,
      Key: 'k',
      ObjectAttributes: ['ETag', 'ObjectSize', 'StorageClass', 'Checksum'],
    }),
  )
  assert.equal(attrs.ObjectSize, 5)
  assert.equal(attrs.StorageClass, 'STANDARD')
  assert.equal(attrs.ETag, '5d41402abc4b2a76b9719d911017c592')
  assert.ok(attrs.Checksum?.ChecksumSHA256)

  for (const call of [
    c.send(new GetObjectRetentionCommand({ Bucket, Key: 'k' })),
    c.send(new GetObjectLegalHoldCommand({ Bucket, Key: 'k' })),
  ]) {
    const e = await failure(call)
    assert.deepEqual([e.name, e.status], ['InvalidRequest', 400])
  }
  const torrent = await failure(c.send(new GetObjectTorrentCommand({ Bucket, Key: 'k' })))
  assert.equal(torrent.name, 'NotImplemented')

  // A parameter that is no sub-resource is ignored, as S3 ignores a cache-buster.
  const { url, headers } = await signRaw({
    endpoint: h.sandbox.endpoint,
    creds: h.creds('ci'),
    service: 's3',
    method: 'GET',
    path: `/${Bucket}/k?v=2`,
    headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
  })
  const res = await fetch(url, { headers })
  assert.equal(res.status, 200)
  assert.equal(await res.text(), 'hello')
})
