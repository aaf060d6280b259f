// The point of the sandbox: reading an SSE-KMS object across accounts needs three grants — the
// reader's identity policy, the bucket policy and the key policy. Every combination is tried
// through the SDK, and each outcome is checked against the IAM engine's offline decision.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import {
  CreateBucketCommand,
  PutObjectCommand,
  GetObjectCommand,
  PutBucketPolicyCommand,
  DeleteBucketPolicyCommand,
} from '@aws-sdk/client-s3'
import { CreateKeyCommand, PutKeyPolicyCommand } from '@aws-sdk/client-kms'
import {
  CreateRoleCommand,
  PutRolePolicyCommand,
  DeleteRolePolicyCommand,
  CreateUserCommand,
  PutUserPolicyCommand,
  CreateAccessKeyCommand,
} from '@aws-sdk/client-iam'
import { AssumeRoleCommand } from '@aws-sdk/client-sts'
import { simulate } from '../../src/iam/index.js'
import { harness, failure, type Harness, type Creds } from './helpers.js'

let h: Harness
before(async () => {
  h = await harness()
})
after(async () => {
  await h.close()
})

const CI = '111111111111'
const DEV = '222222222222'
const BUCKET = 'xacct-artifacts'
const OBJECT_ARN = `arn:aws:s3:::${BUCKET}/app.zip`
const READER = `arn:aws:iam::${DEV}:role/reader`

test('SSE-KMS object across accounts: identity, bucket and key policy must all allow', async () => {
  const ci = h.clients(h.creds('ci'))
  const dev = h.clients(h.creds('dev'))
  const key = await ci.kms.send(new CreateKeyCommand({ Description: 'artifacts' }))
  const keyArn = key.KeyMetadata!.Arn!
  await ci.s3.send(new CreateBucketCommand({ Bucket: BUCKET }))
  await ci.s3.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: 'app.zip',
      Body: 'artifact-bytes',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: keyArn,
    }),
  )

  // The reader role in dev, assumed by a dev user.
  await dev.iam.send(
    new CreateRoleCommand({
      RoleName: 'reader',
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${DEV}:root` }, Action: 'sts:AssumeRole' },
        ],
      }),
    }),
  )
  await dev.iam.send(new CreateUserCommand({ UserName: 'ops' }))
  await dev.iam.send(
    new PutUserPolicyCommand({
      UserName: 'ops',
      PolicyName: 'assume',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: READER }],
      }),
    }),
  )
  const ak = (await dev.iam.send(new CreateAccessKeyCommand({ UserName: 'ops' }))).AccessKey!
  const ops = h.clients({ accessKeyId: ak.AccessKeyId!, secretAccessKey: ak.SecretAccessKey! })
  const s = await ops.sts.send(new AssumeRoleCommand({ RoleArn: READER, RoleSessionName: 'deploy' }))
  const session: Creds = {
    accessKeyId: s.Credentials!.AccessKeyId!,
    secretAccessKey: s.Credentials!.SecretAccessKey!,
    sessionToken: s.Credentials!.SessionToken!,
  }
  const reader = h.clients(session)
  const sessionArn = `arn:aws:sts::${DEV}:assumed-role/reader/deploy`

  const identity = {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/*` },
      { Effect: 'Allow', Action: 'kms:Decrypt', Resource: keyArn },
    ],
  }
  const bucketPolicy = {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: READER },
        Action: 's3:GetObject',
        Resource: `arn:aws:s3:::${BUCKET}/*`,
      },
    ],
  }
  const rootStatement = {
    Sid: 'Enable IAM User Permissions',
    Effect: 'Allow',
    Principal: { AWS: `arn:aws:iam::${CI}:root` },
    Action: 'kms:*',
    Resource: '*',
  }
  const keyPolicy = (withDev: boolean) => ({
    Version: '2012-10-17',
    Statement: withDev
      ? [
          rootStatement,
          { Sid: 'dev', Effect: 'Allow', Principal: { AWS: READER }, Action: 'kms:Decrypt', Resource: '*' },
        ]
      : [rootStatement],
  })

  let allowedCount = 0
  for (const grants of [0, 1, 2, 3, 4, 5, 6, 7]) {
    const withIdentity = (grants & 1) !== 0
    const withBucket = (grants & 2) !== 0
    const withKey = (grants & 4) !== 0
    if (withIdentity)
      await dev.iam.send(
        new PutRolePolicyCommand({
          RoleName: 'reader',
          PolicyName: 'read',
          PolicyDocument: JSON.stringify(identity),
        }),
      )
    else
      await dev.iam
        .send(new DeleteRolePolicyCommand({ RoleName: 'reader', PolicyName: 'read' }))
        .catch(() => undefined)
    if (withBucket)
      await ci.s3.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: JSON.stringify(bucketPolicy) }))
    else await ci.s3.send(new DeleteBucketPolicyCommand({ Bucket: BUCKET }))
    await ci.kms.send(new PutKeyPolicyCommand({ KeyId: keyArn, Policy: JSON.stringify(keyPolicy(withKey)) }))

    // What the engine says offline, with the same policies.
    const s3Decision = simulate({
      principal: sessionArn,
      action: 's3:GetObject',
      resource: OBJECT_ARN,
      resourceAccount: CI,
      identityPolicies: withIdentity ? [identity] : [],
      resourcePolicy: withBucket ? bucketPolicy : undefined,
    }).decision
    const kmsDecision = simulate({
      principal: sessionArn,
      action: 'kms:Decrypt',
      resource: keyArn,
      identityPolicies: withIdentity ? [identity] : [],
      resourcePolicy: keyPolicy(withKey),
      context: {
        'kms:ViaService': 's3.us-east-1.amazonaws.com',
        'kms:EncryptionContext:aws:s3:arn': OBJECT_ARN,
      },
    }).decision
    const offline = s3Decision === 'Allowed' && kmsDecision === 'Allowed'

    const label = `identity=${withIdentity} bucket=${withBucket} key=${withKey}`
    const attempt = reader.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'app.zip' }))
    if (withIdentity && withBucket && withKey) {
      const got = await attempt
      assert.equal(await got.Body!.transformToString(), 'artifact-bytes', label)
      assert.equal(got.SSEKMSKeyId, keyArn)
      allowedCount++
    } else {
      const f = await failure(attempt)
      assert.equal(f.name, 'AccessDenied', label)
      assert.equal(f.status, 403, label)
      if (withIdentity && withBucket)
        assert.equal(
          f.message,
          `User: ${sessionArn} is not authorized to perform: kms:Decrypt on resource: ${keyArn} because no resource-based policy allows the kms:Decrypt action`,
          label,
        )
    }
    assert.equal(offline, withIdentity && withBucket && withKey, `engine offline, ${label}`)
  }
  assert.equal(allowedCount, 1)
})

test('the default aws/s3 key cannot be used from another account', async () => {
  const ci = h.clients(h.creds('ci'))
  await ci.s3.send(new CreateBucketCommand({ Bucket: 'managed-key' }))
  const put = await ci.s3.send(
    new PutObjectCommand({ Bucket: 'managed-key', Key: 'o', Body: 'x', ServerSideEncryption: 'aws:kms' }),
  )
  assert.match(put.SSEKMSKeyId!, /^arn:aws:kms:us-east-1:111111111111:key\//)
  assert.equal(
    await (
      await ci.s3.send(new GetObjectCommand({ Bucket: 'managed-key', Key: 'o' }))
    ).Body!.transformToString(),
    'x',
  )
  // The dev account root: bucket policy grants it, but the AWS managed key's policy only serves its own account.
  await ci.s3.send(
    new PutBucketPolicyCommand({
      Bucket: 'managed-key',
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { AWS: `arn:aws:iam::${DEV}:root` },
            Action: 's3:GetObject',
            Resource: 'arn:aws:s3:::managed-key/*',
          },
        ],
      }),
    }),
  )
  const f = await failure(
    h.clients(h.creds('dev')).s3.send(new GetObjectCommand({ Bucket: 'managed-key', Key: 'o' })),
  )
  assert.equal(f.name, 'AccessDenied')
  assert.match(f.message, /kms:Decrypt/)
})
