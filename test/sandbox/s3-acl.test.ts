// Canned ACLs under S3 Object Ownership (issue 13): with BucketOwnerEnforced, the default since
// April 2023, an ACL that grants only the owner's full control is accepted and one that grants more
// is refused with S3's codes (InvalidBucketAclWithObjectOwnership on CreateBucket,
// AccessControlListNotSupported on PutBucketAcl and object writes). Driven by the AWS SDK v3, the
// AWS CLI v1 and boto3, whose serializers and error parsers nobody here wrote.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import {
  CreateBucketCommand,
  GetBucketAclCommand,
  GetBucketOwnershipControlsCommand,
  HeadBucketCommand,
  PutBucketAclCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3'
import { sandboxEnv } from '../../src/sandbox/index.js'
import { failure, harness, runTool, type Harness } from './helpers.js'

let h: Harness
before(async () => {
  h = await harness()
})
after(async () => {
  await h.close()
})

test('canned ACLs with the SDK: private accepted, more refused with the documented codes', async () => {
  const c = h.clients(h.creds('ci')).s3
  await c.send(new CreateBucketCommand({ Bucket: 'acl-private', ACL: 'private' }))
  const acl = await c.send(new GetBucketAclCommand({ Bucket: 'acl-private' }))
  assert.equal(acl.Grants?.length, 1)
  assert.equal(acl.Grants![0]!.Permission, 'FULL_CONTROL')
  assert.equal(acl.Grants![0]!.Grantee?.Type, 'CanonicalUser')
  assert.equal(acl.Grants![0]!.Grantee?.ID, acl.Owner?.ID)
  assert.equal(
    (await c.send(new GetBucketOwnershipControlsCommand({ Bucket: 'acl-private' }))).OwnershipControls
      ?.Rules?.[0]?.ObjectOwnership,
    'BucketOwnerEnforced',
  )

  const pub = await failure(c.send(new CreateBucketCommand({ Bucket: 'acl-public', ACL: 'public-read' })))
  assert.deepEqual([pub.name, pub.status], ['InvalidBucketAclWithObjectOwnership', 400])
  assert.equal((await failure(c.send(new HeadBucketCommand({ Bucket: 'acl-public' })))).status, 404)
  // With ACLs enabled the ACL would have to be kept and enforced: not modelled, so refused loudly.
  const writer = await failure(
    c.send(
      new CreateBucketCommand({ Bucket: 'acl-writer', ACL: 'public-read', ObjectOwnership: 'ObjectWriter' }),
    ),
  )
  assert.deepEqual([writer.name, writer.status], ['NotImplemented', 501])

  await c.send(new PutBucketAclCommand({ Bucket: 'acl-private', ACL: 'private' }))
  // The same grant as an AccessControlPolicy document.
  await c.send(
    new PutBucketAclCommand({
      Bucket: 'acl-private',
      AccessControlPolicy: {
        Owner: { ID: acl.Owner!.ID },
        Grants: [{ Grantee: { ID: acl.Owner!.ID, Type: 'CanonicalUser' }, Permission: 'FULL_CONTROL' }],
      },
    }),
  )
  const put = await failure(c.send(new PutBucketAclCommand({ Bucket: 'acl-private', ACL: 'public-read' })))
  assert.deepEqual([put.name, put.status], ['AccessControlListNotSupported', 400])
  const grant = await failure(
    c.send(
      new PutBucketAclCommand({
        Bucket: 'acl-private',
        AccessControlPolicy: {
          Owner: { ID: acl.Owner!.ID },
          Grants: [
            {
              Grantee: { URI: 'http://acs.amazonaws.com/groups/global/AllUsers', Type: 'Group' },
              Permission: 'READ',
            },
          ],
        },
      }),
    ),
  )
  assert.equal(grant.name, 'AccessControlListNotSupported')

  await c.send(
    new PutObjectCommand({ Bucket: 'acl-private', Key: 'k', Body: 'x', ACL: 'bucket-owner-full-control' }),
  )
  for (const ACL of ['public-read', 'private'] as const) {
    const e = await failure(c.send(new PutObjectCommand({ Bucket: 'acl-private', Key: 'k', Body: 'x', ACL })))
    assert.deepEqual([e.name, e.status], ['AccessControlListNotSupported', 400], ACL)
  }
  // An ACL S3 does not know is refused by name.
  const dev = h.clients(h.creds('dev')).s3
  const bogus = await failure(
    dev.send(new CreateBucketCommand({ Bucket: 'acl-bogus', ACL: 'nonsense' as never })),
  )
  assert.deepEqual([bogus.name, bogus.status], ['InvalidArgument', 400])
})

const hasAws = spawnSync('aws', ['--version'], { stdio: 'ignore' }).status === 0
const hasBoto = spawnSync('python3', ['-c', 'import boto3'], { stdio: 'ignore' }).status === 0

test(
  'canned ACLs with the AWS CLI v1 (aws s3api)',
  { skip: hasAws ? false : 'the AWS CLI (`aws`) is not installed on this machine' },
  async () => {
    const env = { ...process.env, ...sandboxEnv(h.dir, 'ci'), AWS_MAX_ATTEMPTS: '1' }
    const ok = await runTool(
      'aws',
      ['s3api', 'create-bucket', '--bucket', 'cli-acl', '--acl', 'private'],
      env,
    )
    assert.equal(ok.code, 0, ok.err)
    const put = await runTool(
      'aws',
      ['s3api', 'put-bucket-acl', '--bucket', 'cli-acl', '--acl', 'private'],
      env,
    )
    assert.equal(put.code, 0, put.err)
    const got = await runTool('aws', ['s3api', 'get-bucket-acl', '--bucket', 'cli-acl'], env)
    assert.equal(got.code, 0, got.err)
    const grants = (JSON.parse(got.out) as { Grants: { Permission: string; Grantee: { Type: string } }[] })
      .Grants
    assert.deepEqual(
      grants.map((g) => [g.Permission, g.Grantee.Type]),
      [['FULL_CONTROL', 'CanonicalUser']],
    )
    const pub = await runTool(
      'aws',
      ['s3api', 'create-bucket', '--bucket', 'cli-acl-pub', '--acl', 'public-read'],
      env,
    )
    assert.notEqual(pub.code, 0)
    assert.match(pub.err, /InvalidBucketAclWithObjectOwnership/)
    const putPub = await runTool(
      'aws',
      ['s3api', 'put-bucket-acl', '--bucket', 'cli-acl', '--acl', 'public-read'],
      env,
    )
    assert.notEqual(putPub.code, 0)
    assert.match(putPub.err, /AccessControlListNotSupported/)
  },
)

const BOTO = String.raw`
import json, boto3, botocore
from botocore.config import Config
s3 = boto3.client('s3', config=Config(s3={'addressing_style': 'path'}, retries={'max_attempts': 1}))
out = {}
s3.create_bucket(Bucket='boto-acl', ACL='private')
s3.put_bucket_acl(Bucket='boto-acl', ACL='bucket-owner-full-control')
out['grants'] = [g['Permission'] for g in s3.get_bucket_acl(Bucket='boto-acl')['Grants']]
s3.put_object(Bucket='boto-acl', Key='k', Body=b'x', ACL='bucket-owner-full-control')
for name, call in [
  ('create', lambda: s3.create_bucket(Bucket='boto-acl-pub', ACL='public-read-write')),
  ('put_acl', lambda: s3.put_bucket_acl(Bucket='boto-acl', ACL='authenticated-read')),
  ('put_object', lambda: s3.put_object(Bucket='boto-acl', Key='k', Body=b'x', ACL='public-read')),
]:
  try:
    call()
    out[name] = 'accepted'
  except botocore.exceptions.ClientError as e:
    out[name] = [e.response['Error']['Code'], e.response['ResponseMetadata']['HTTPStatusCode']]
print(json.dumps(out))
`

test(
  'canned ACLs with boto3',
  { skip: hasBoto ? false : 'python3 with boto3 is not installed on this machine' },
  async () => {
    const env = { ...process.env, ...sandboxEnv(h.dir, 'ci'), AWS_MAX_ATTEMPTS: '1' }
    const r = await runTool('python3', ['-c', BOTO], env)
    assert.equal(r.code, 0, r.err)
    assert.deepEqual(JSON.parse(r.out), {
      grants: ['FULL_CONTROL'],
      create: ['InvalidBucketAclWithObjectOwnership', 400],
      put_acl: ['AccessControlListNotSupported', 400],
      put_object: ['AccessControlListNotSupported', 400],
    })
  },
)
