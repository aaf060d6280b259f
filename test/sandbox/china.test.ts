// The sandbox in a China region (aws-cn): endpoints there are under amazonaws.com.cn, service
// principals are not. S3 calls KMS with kms:ViaService s3.cn-north-1.amazonaws.com.cn (the value
// `check` and synthesized key policies use), and CodeBuild assumes a role that trusts
// codebuild.amazonaws.com, the principal synth writes in every partition. Before the AWS facts
// had one home, the sandbox wrote `s3.<region>.amazonaws.com` and `codebuild.amazonaws.com.cn`.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { CodeBuildClient, CreateProjectCommand } from '@aws-sdk/client-codebuild'
import { CreateRoleCommand } from '@aws-sdk/client-iam'
import { IAMClient } from '@aws-sdk/client-iam'
import {
  CreateKeyCommand,
  DescribeKeyCommand,
  GenerateDataKeyCommand,
  GetKeyPolicyCommand,
  KMSClient,
} from '@aws-sdk/client-kms'
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { failure, type Harness } from './helpers.js'
import { sandboxWithBuilds } from './codebuild/setup.js'

const REGION = 'cn-north-1'
const CI = '111111111111'
const ROOT = `arn:aws-cn:iam::${CI}:root`

let h: Harness
let clients: { sts: STSClient; iam: IAMClient; kms: KMSClient; s3: S3Client; cb: CodeBuildClient }

before(async () => {
  // A sandbox whose home region is in China: its accounts are aws-cn accounts.
  h = await sandboxWithBuilds([], { region: REGION })
  const base = { endpoint: h.sandbox.endpoint, region: REGION, credentials: h.creds('ci'), maxAttempts: 1 }
  clients = {
    sts: new STSClient(base),
    iam: new IAMClient(base),
    kms: new KMSClient(base),
    s3: new S3Client({ ...base, forcePathStyle: true }),
    cb: new CodeBuildClient(base),
  }
})
after(async () => {
  for (const c of Object.values(clients ?? {})) c.destroy()
  await h.close()
})

test('a request signed for cn-north-1 is in the aws-cn partition', async () => {
  const id = await clients.sts.send(new GetCallerIdentityCommand({}))
  assert.equal(id.Arn, ROOT)
})

test('S3 uses a key through kms:ViaService s3.cn-north-1.amazonaws.com.cn, and only S3 may', async () => {
  const policy = {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'Administer',
        Effect: 'Allow',
        Principal: { AWS: ROOT },
        Action: ['kms:DescribeKey', 'kms:GetKeyPolicy', 'kms:PutKeyPolicy'],
        Resource: '*',
      },
      {
        Sid: 'ThroughS3InChina',
        Effect: 'Allow',
        Principal: { AWS: ROOT },
        Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
        Resource: '*',
        Condition: { StringEquals: { 'kms:ViaService': `s3.${REGION}.amazonaws.com.cn` } },
      },
    ],
  }
  const key = await clients.kms.send(new CreateKeyCommand({ Policy: JSON.stringify(policy) }))
  const keyArn = key.KeyMetadata!.Arn!
  assert.match(keyArn, /^arn:aws-cn:kms:cn-north-1:111111111111:key\//)
  await clients.s3.send(
    new CreateBucketCommand({
      Bucket: 'china-artifacts',
      CreateBucketConfiguration: { LocationConstraint: REGION },
    }),
  )
  await clients.s3.send(
    new PutObjectCommand({
      Bucket: 'china-artifacts',
      Key: 'a.txt',
      Body: 'hello from Ningxia',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: keyArn,
    }),
  )
  const got = await clients.s3.send(new GetObjectCommand({ Bucket: 'china-artifacts', Key: 'a.txt' }))
  assert.equal(await got.Body!.transformToString(), 'hello from Ningxia')
  assert.equal(got.SSEKMSKeyId, keyArn)
  // The same caller without S3 in between: no kms:ViaService, so the condition denies it.
  const direct = await failure(
    clients.kms.send(new GenerateDataKeyCommand({ KeyId: keyArn, KeySpec: 'AES_256' })),
  )
  assert.equal(direct.name, 'AccessDeniedException')
})

test("the AWS managed aws/s3 key's policy names the China endpoint", async () => {
  await clients.s3.send(
    new PutObjectCommand({
      Bucket: 'china-artifacts',
      Key: 'b.txt',
      Body: 'b',
      ServerSideEncryption: 'aws:kms',
    }),
  )
  const managed = await clients.kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/s3' }))
  const p = await clients.kms.send(
    new GetKeyPolicyCommand({ KeyId: managed.KeyMetadata!.KeyId!, PolicyName: 'default' }),
  )
  const doc = JSON.parse(p.Policy!) as {
    Statement: { Condition?: { StringEquals?: Record<string, string> } }[]
  }
  const via = doc.Statement.map((s) => s.Condition?.StringEquals?.['kms:ViaService']).filter(Boolean)
  assert.deepEqual(via, [`s3.${REGION}.amazonaws.com.cn`])
  const got = await clients.s3.send(new GetObjectCommand({ Bucket: 'china-artifacts', Key: 'b.txt' }))
  assert.equal(await got.Body!.transformToString(), 'b')
})

test('CodeBuild takes a service role that trusts codebuild.amazonaws.com, as synth writes it', async () => {
  await clients.iam.send(
    new CreateRoleCommand({
      RoleName: 'china-build-role',
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'codebuild.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ],
      }),
    }),
  )
  const p = await clients.cb.send(
    new CreateProjectCommand({
      name: 'china-build',
      source: { type: 'NO_SOURCE', buildspec: 'version: 0.2' },
      artifacts: { type: 'NO_ARTIFACTS' },
      environment: {
        type: 'LINUX_CONTAINER',
        image: 'aws/codebuild/standard:7.0',
        computeType: 'BUILD_GENERAL1_SMALL',
      },
      serviceRole: `arn:aws-cn:iam::${CI}:role/china-build-role`,
    }),
  )
  assert.equal(p.project!.arn, `arn:aws-cn:codebuild:${REGION}:${CI}:project/china-build`)
})
