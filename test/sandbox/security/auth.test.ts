// Authentication under attack (issue 11, item 3): one test per way a captured or crafted request
// tried to get past SigV4, each answered with the code AWS uses, and the controls that must keep
// working — the AWS SDK for JavaScript v3, presigned URLs, aws-chunked uploads, and, where the
// machine has them, botocore and the AWS CLI v1 (nobody here wrote those signers).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { execFile, spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { SignatureV4 } from '@smithy/signature-v4'
import { AssumeRoleCommand, GetCallerIdentityCommand } from '@aws-sdk/client-sts'
import { ListKeysCommand } from '@aws-sdk/client-kms'
import {
  CopyObjectCommand,
  CreateBucketCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3'
import {
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  GetRoleCommand,
  GetUserCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam'
import { sandboxEnv } from '../../../src/sandbox/index.js'
import {
  ACCOUNTS,
  failure,
  harness,
  presignS3,
  Sha256,
  signRaw,
  allowAll,
  awsChunkedPut,
  presignByHand,
  type Harness,
} from '../helpers.js'

let h: Harness
const BUCKET = 'sec'
const SECRET = 'top secret bytes'
before(async () => {
  h = await harness()
  const s3 = h.clients(h.creds('ci')).s3
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }))
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'secret', Body: SECRET }))
})
after(async () => {
  await h.close()
})

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex')
const EMPTY = sha('')

async function send(
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string | Buffer },
) {
  const r = await fetch(url, init)
  return { status: r.status, text: await r.text() }
}

/** A signed, empty S3 PUT, as an attacker may capture one (the headers are what was signed). */
async function capturedEmptyPut(key: string) {
  return signRaw({
    endpoint: h.sandbox.endpoint,
    creds: h.creds('ci'),
    service: 's3',
    method: 'PUT',
    path: `/${BUCKET}/${key}`,
    headers: { 'x-amz-content-sha256': EMPTY },
    body: '',
  })
}

test('replayed PUT with an added x-amz-copy-source: AccessDenied, headers not signed, nothing copied', async () => {
  const put = await capturedEmptyPut('innocent')
  const r = await send(put.url, {
    method: 'PUT',
    headers: { ...put.headers, 'x-amz-copy-source': `/${BUCKET}/secret` },
    body: '',
  })
  assert.equal(r.status, 403, r.text)
  assert.match(r.text, /<Code>AccessDenied<\/Code>/)
  assert.match(r.text, /There were headers present in the request which were not signed/)
  assert.match(r.text, /<HeadersNotSigned>x-amz-copy-source<\/HeadersNotSigned>/)
  const head = await failure(
    h.clients(h.creds('ci')).s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'innocent' })),
  )
  assert.equal(head.name, 'NotFound', 'the attack wrote nothing')
  // Control: the same captured request, replayed as it was signed, still works (AWS allows a replay
  // within the 15-minute window; the signature proves only who sent what).
  assert.equal((await send(put.url, { method: 'PUT', headers: put.headers, body: '' })).status, 200)
})

test('replayed PUT with added x-amz-meta-* or x-amz-tagging: AccessDenied naming them', async () => {
  const put = await capturedEmptyPut('plain')
  const meta = await send(put.url, {
    method: 'PUT',
    headers: { ...put.headers, 'x-amz-meta-owner': 'attacker', 'x-amz-tagging': 'public=yes' },
    body: '',
  })
  assert.equal(meta.status, 403, meta.text)
  assert.match(meta.text, /<HeadersNotSigned>x-amz-meta-owner, x-amz-tagging<\/HeadersNotSigned>/)
  const tagging = await send(put.url, {
    method: 'PUT',
    headers: { ...put.headers, 'x-amz-tagging': 'public=yes' },
    body: '',
  })
  assert.equal(tagging.status, 403, tagging.text)
  assert.match(tagging.text, /<HeadersNotSigned>x-amz-tagging<\/HeadersNotSigned>/)
  // On the other services the same rule holds: an unsigned X-Amz-Target could change the operation.
  const kms = await signRaw({
    endpoint: h.sandbox.endpoint,
    creds: h.creds('ci'),
    service: 'kms',
    method: 'POST',
    path: '/',
    headers: { 'content-type': 'application/x-amz-json-1.1' },
    body: '{}',
  })
  const j = await send(kms.url, {
    method: 'POST',
    headers: { ...kms.headers, 'x-amz-target': 'TrentService.CreateKey' },
    body: '{}',
  })
  assert.equal(j.status, 400, j.text)
  const err = JSON.parse(j.text) as { __type: string; message: string }
  assert.equal(err.__type, 'IncompleteSignatureException')
  assert.match(err.message, /not signed: x-amz-target/)
})

/** Signs without a Host header (the client adds one when it sends): SignedHeaders lacks host. */
async function signedWithoutHost(
  service: string,
  path: string,
  headers: Record<string, string>,
  body: string,
) {
  const url = new URL(h.sandbox.endpoint + path)
  const signer = new SignatureV4({ service, region: 'us-east-1', credentials: h.creds('ci'), sha256: Sha256 })
  const signed = await signer.sign({
    method: service === 's3' ? 'GET' : 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    query: {},
    headers,
    body,
  })
  assert.doesNotMatch(signed.headers['authorization']!, /SignedHeaders=[^,]*host/)
  return { url: url.toString(), headers: signed.headers }
}

test('host not among the signed headers: rejected in each protocol family', async () => {
  const s3 = await signedWithoutHost('s3', `/${BUCKET}/secret`, { 'x-amz-content-sha256': EMPTY }, '')
  const a = await send(s3.url, { method: 'GET', headers: s3.headers })
  assert.equal(a.status, 403, a.text)
  assert.match(a.text, /<Code>AccessDenied<\/Code>.*<HeadersNotSigned>host<\/HeadersNotSigned>/s)
  assert.doesNotMatch(a.text, new RegExp(SECRET))
  const body = 'Action=GetCallerIdentity&Version=2011-06-15'
  const sts = await signedWithoutHost(
    'sts',
    '/',
    { 'content-type': 'application/x-www-form-urlencoded' },
    body,
  )
  const b = await send(sts.url, { method: 'POST', headers: sts.headers, body })
  assert.equal(b.status, 400, b.text)
  assert.match(
    b.text,
    /<Code>IncompleteSignature<\/Code><Message>&apos;Host&apos; or &apos;:authority&apos; must be a &apos;SignedHeader&apos; in the AWS Authorization.<\/Message>/,
  )
  const kms = await signedWithoutHost(
    'kms',
    '/',
    { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.ListKeys' },
    '{}',
  )
  const c = await send(kms.url, { method: 'POST', headers: kms.headers, body: '{}' })
  assert.equal(c.status, 400, c.text)
  assert.equal((JSON.parse(c.text) as { __type: string }).__type, 'IncompleteSignatureException')
})

test('presigned URL valid for more than 604800 seconds: AuthorizationQueryParametersError', async () => {
  const creds = h.creds('ci')
  const long = await send(presignByHand(h, creds, `/${BUCKET}/secret`, 604_801), {
    method: 'GET',
    headers: {},
  })
  assert.equal(long.status, 400, long.text)
  assert.match(long.text, /<Code>AuthorizationQueryParametersError<\/Code>/)
  assert.match(long.text, /X-Amz-Expires must be less than a week \(in seconds\)/)
  const decade = await send(presignByHand(h, creds, `/${BUCKET}/secret`, 315_360_000), {
    method: 'GET',
    headers: {},
  })
  assert.equal(decade.status, 400)
  const negative = await send(presignByHand(h, creds, `/${BUCKET}/secret`, -1), {
    method: 'GET',
    headers: {},
  })
  assert.equal(negative.status, 400)
  assert.match(negative.text, /X-Amz-Expires must be non-negative/)
  // Controls: exactly seven days, by hand and by the SDK's own signer.
  const week = await send(presignByHand(h, creds, `/${BUCKET}/secret`, 604_800), {
    method: 'GET',
    headers: {},
  })
  assert.deepEqual([week.status, week.text], [200, SECRET])
  const sdk = await fetch(await presignS3(h, creds, 'GET', BUCKET, 'secret', 604_800))
  assert.deepEqual([sdk.status, await sdk.text()], [200, SECRET])
})

test('presigned URL with an added unsigned x-amz-* header: AccessDenied', async () => {
  const url = await presignS3(h, h.creds('ci'), 'PUT', BUCKET, 'presigned-put', 600)
  const r = await send(url, { method: 'PUT', headers: { 'x-amz-meta-x': 'y' }, body: 'data' })
  assert.equal(r.status, 403, r.text)
  assert.match(r.text, /<HeadersNotSigned>x-amz-meta-x<\/HeadersNotSigned>/)
  assert.equal((await send(url, { method: 'PUT', headers: {}, body: 'data' })).status, 200, 'control')
})

test('JSON and query services: a body not covered by the signature is refused (UNSIGNED-PAYLOAD is S3 only)', async () => {
  const ci = h.creds('ci')
  const signedBody = 'Action=ListRoles&Version=2010-05-08'
  const iam = await signRaw({
    endpoint: h.sandbox.endpoint,
    creds: ci,
    service: 'iam',
    method: 'POST',
    path: '/',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
    },
    body: signedBody,
  })
  const evil = 'Action=CreateUser&UserName=evil&Version=2010-05-08'
  const q = await send(iam.url, { method: 'POST', headers: iam.headers, body: evil })
  assert.equal(q.status, 403, q.text)
  assert.match(q.text, /<Code>SignatureDoesNotMatch<\/Code>/)
  const user = await failure(h.clients(ci).iam.send(new GetUserCommand({ UserName: 'evil' })))
  assert.equal(user.name, 'NoSuchEntityException', 'the swapped body did nothing')
  // Even the body that was signed does not pass with UNSIGNED-PAYLOAD: the service hashes the body.
  assert.equal((await send(iam.url, { method: 'POST', headers: iam.headers, body: signedBody })).status, 403)

  const kms = await signRaw({
    endpoint: h.sandbox.endpoint,
    creds: ci,
    service: 'kms',
    method: 'POST',
    path: '/',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'TrentService.ListKeys',
      'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
    },
    body: '{}',
  })
  const j = await send(kms.url, { method: 'POST', headers: kms.headers, body: '{"Limit":1}' })
  assert.equal(j.status, 400, j.text)
  assert.equal((JSON.parse(j.text) as { __type: string }).__type, 'InvalidSignatureException')

  // Control: S3 takes UNSIGNED-PAYLOAD, as AWS documents.
  const s3 = await signRaw({
    endpoint: h.sandbox.endpoint,
    creds: ci,
    service: 's3',
    method: 'PUT',
    path: `/${BUCKET}/unsigned-payload`,
    headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    body: 'ok',
  })
  assert.equal((await send(s3.url, { method: 'PUT', headers: s3.headers, body: 'ok' })).status, 200)
})

/** An aws-chunked PUT of 9003 bytes in two signed chunks, with the trailer asked for. */
async function chunkedPut(
  key: string,
  mode: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' | 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
  trailer: 'none' | 'unsigned' | 'signed',
) {
  const data = [Buffer.from('x'.repeat(9000)), Buffer.from('end')]
  const r = await awsChunkedPut(h, h.creds('ci'), `/${BUCKET}/${key}`, data, mode, trailer)
  return send(r.url, { method: 'PUT', headers: r.headers, body: r.body })
}

test('aws-chunked: an unsigned trailer after the last signed chunk is refused', async () => {
  const s3 = h.clients(h.creds('ci')).s3
  const r = await chunkedPut('trailer-attack', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'unsigned')
  assert.equal(r.status, 400, r.text)
  assert.match(r.text, /<Code>MalformedTrailerError<\/Code>/)
  assert.equal(
    (await failure(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'trailer-attack' })))).name,
    'NotFound',
  )
  // The -TRAILER mode demands the trailer's own signature.
  const unsigned = await chunkedPut(
    'trailer-attack',
    'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
    'unsigned',
  )
  assert.equal(unsigned.status, 403, unsigned.text)
  assert.match(unsigned.text, /<Code>SignatureDoesNotMatch<\/Code>/)
  // Controls: signed chunks alone, and signed chunks with a signed trailer.
  assert.equal((await chunkedPut('chunked-ok', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'none')).status, 200)
  const signed = await chunkedPut(
    'chunked-trailer-ok',
    'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
    'signed',
  )
  assert.equal(signed.status, 200, signed.text)
  const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'chunked-trailer-ok' }))
  assert.equal((await got.Body!.transformToString()).length, 9003)
})

test('a session of a role deleted and recreated under the same name stops working', async () => {
  const ci = h.clients(h.creds('ci'))
  const trust = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNTS.ci}:root` }, Action: 'sts:AssumeRole' },
    ],
  })
  const policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['s3:ListAllMyBuckets', 's3:GetObject'], Resource: '*' }],
  })
  const make = async () => {
    await ci.iam.send(new CreateRoleCommand({ RoleName: 'phoenix', AssumeRolePolicyDocument: trust }))
    await ci.iam.send(
      new PutRolePolicyCommand({ RoleName: 'phoenix', PolicyName: 'p', PolicyDocument: policy }),
    )
    return (await ci.iam.send(new GetRoleCommand({ RoleName: 'phoenix' }))).Role!.RoleId!
  }
  // Root may not assume roles: an IAM user of the account does.
  await ci.iam.send(new CreateUserCommand({ UserName: 'assumer' }))
  await ci.iam.send(
    new PutUserPolicyCommand({
      UserName: 'assumer',
      PolicyName: 'assume',
      PolicyDocument: allowAll('sts:AssumeRole'),
    }),
  )
  const key = (await ci.iam.send(new CreateAccessKeyCommand({ UserName: 'assumer' }))).AccessKey!
  const user = h.clients({ accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! })
  const assume = async () => {
    const c = (
      await user.sts.send(
        new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ACCOUNTS.ci}:role/phoenix`, RoleSessionName: 'ss' }),
      )
    ).Credentials!
    return h.clients({
      accessKeyId: c.AccessKeyId!,
      secretAccessKey: c.SecretAccessKey!,
      sessionToken: c.SessionToken!,
    })
  }
  const firstId = await make()
  const old = await assume()
  await old.s3.send(new ListBucketsCommand({}))
  // A bucket policy naming the role by ARN: it must not let the old session in either.
  await ci.s3.send(
    new PutBucketPolicyCommand({
      Bucket: BUCKET,
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { AWS: `arn:aws:iam::${ACCOUNTS.ci}:role/phoenix` },
            Action: 's3:GetObject',
            Resource: `arn:aws:s3:::${BUCKET}/*`,
          },
        ],
      }),
    }),
  )
  await ci.iam.send(new DeleteRolePolicyCommand({ RoleName: 'phoenix', PolicyName: 'p' }))
  await ci.iam.send(new DeleteRoleCommand({ RoleName: 'phoenix' }))
  const deleted = await failure(old.s3.send(new ListBucketsCommand({})))
  assert.deepEqual([deleted.name, deleted.status], ['AccessDenied', 403])
  const secondId = await make()
  assert.notEqual(secondId, firstId, 'a recreated role has a new unique id')
  const denied = await failure(old.s3.send(new ListBucketsCommand({})))
  assert.deepEqual([denied.name, denied.status], ['AccessDenied', 403])
  assert.match(denied.message, new RegExp(`unique ID ${firstId}\\) no longer exists`))
  const viaBucketPolicy = await failure(old.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'secret' })))
  assert.equal(viaBucketPolicy.name, 'AccessDenied')
  const chain = await failure(
    old.sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${ACCOUNTS.ci}:role/phoenix`,
        RoleSessionName: 'again',
      }),
    ),
  )
  assert.equal(chain.name, 'AccessDenied')
  // GetCallerIdentity needs no permission, on AWS as here.
  assert.match((await old.sts.send(new GetCallerIdentityCommand({}))).UserId!, new RegExp(`^${firstId}:ss$`))
  // Control: a session of the new role works.
  const fresh = await assume()
  await fresh.s3.send(new ListBucketsCommand({}))
  assert.equal(
    await (
      await fresh.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'secret' }))
    ).Body!.transformToString(),
    SECRET,
  )
})

test('controls: the AWS SDK for JavaScript v3 as users call it', async () => {
  const c = h.clients(h.creds('ci'))
  assert.equal((await c.sts.send(new GetCallerIdentityCommand({}))).Account, ACCOUNTS.ci)
  await c.kms.send(new ListKeysCommand({}))
  await c.s3.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: 'sdk',
      Body: 'via sdk',
      Metadata: { owner: 'me' },
      Tagging: 'a=b',
    }),
  )
  assert.equal((await c.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'sdk' }))).Metadata?.owner, 'me')
  assert.deepEqual((await c.s3.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: 'sdk' }))).TagSet, [
    { Key: 'a', Value: 'b' },
  ])
  await c.s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'sdk-copy', CopySource: `${BUCKET}/sdk` }))
  // A stream body: the SDK sends it aws-chunked with STREAMING-UNSIGNED-PAYLOAD-TRAILER and a CRC32 trailer.
  await c.s3.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: 'sdk-stream',
      Body: Readable.from([Buffer.from('streamed '), Buffer.from('body')]),
      ContentLength: 13,
    }),
  )
  const got = await c.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'sdk-stream' }))
  assert.equal(await got.Body!.transformToString(), 'streamed body')
})

const hasBotocore = spawnSync('python3', ['-c', 'import botocore, boto3'], { stdio: 'ignore' }).status === 0
const hasAws = spawnSync('aws', ['--version'], { stdio: 'ignore' }).status === 0

function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) =>
    execFile(cmd, args, { env, encoding: 'utf8', timeout: 120_000 }, (e, out, err) =>
      resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err }),
    ),
  )
}

// botocore signs with its own SigV4 code: every x-amz-* header, the body hash, presigned URLs (s3v4).
const BOTO = String.raw`
import json, sys, urllib.request, boto3
from botocore.config import Config
cfg = Config(signature_version='s3v4', s3={'addressing_style': 'path'}, retries={'max_attempts': 1})
s3 = boto3.client('s3', config=cfg)
out = {}
out['account'] = boto3.client('sts').get_caller_identity()['Account']
out['keys'] = len(boto3.client('kms').list_keys()['Keys']) >= 0
s3.put_object(Bucket='sec', Key='boto', Body=b'from boto', Metadata={'owner': 'boto'}, Tagging='t=1')
s3.copy_object(Bucket='sec', Key='boto-copy', CopySource={'Bucket': 'sec', 'Key': 'boto'}, MetadataDirective='REPLACE', Metadata={'copied': 'yes'})
out['copy'] = s3.head_object(Bucket='sec', Key='boto-copy')['Metadata']
out['tags'] = s3.get_object_tagging(Bucket='sec', Key='boto')['TagSet']
url = s3.generate_presigned_url('get_object', Params={'Bucket': 'sec', 'Key': 'boto'}, ExpiresIn=604800)
out['presigned'] = urllib.request.urlopen(url).read().decode()
put = s3.generate_presigned_url('put_object', Params={'Bucket': 'sec', 'Key': 'boto-presigned'}, ExpiresIn=60)
urllib.request.urlopen(urllib.request.Request(put, data=b'presigned put', method='PUT')).read()
out['presigned_put'] = s3.get_object(Bucket='sec', Key='boto-presigned')['Body'].read().decode()
print(json.dumps(out))
`

test(
  'controls: botocore (boto3) signs and is accepted',
  { skip: hasBotocore ? false : 'python3 with boto3/botocore is not installed on this machine' },
  async () => {
    const env = { ...process.env, ...sandboxEnv(h.dir, 'ci'), AWS_MAX_ATTEMPTS: '1' }
    const r = await run('python3', ['-c', BOTO], env)
    assert.equal(r.code, 0, r.err)
    const out = JSON.parse(r.out) as Record<string, unknown>
    assert.deepEqual(out, {
      account: ACCOUNTS.ci,
      keys: true,
      copy: { copied: 'yes' },
      tags: [{ Key: 't', Value: '1' }],
      presigned: 'from boto',
      presigned_put: 'presigned put',
    })
  },
)

test(
  'controls: the AWS CLI v1 signs and is accepted',
  { skip: hasAws ? false : 'the AWS CLI (`aws`) is not installed on this machine' },
  async () => {
    const env = { ...process.env, ...sandboxEnv(h.dir, 'ci'), AWS_MAX_ATTEMPTS: '1' }
    const file = join(h.dir, 'cli-upload.txt')
    writeFileSync(file, 'from the cli')
    const steps: string[][] = [
      ['sts', 'get-caller-identity'],
      ['kms', 'list-keys'],
      ['s3', 'cp', file, `s3://${BUCKET}/cli`, '--metadata', 'owner=cli'],
      ['s3api', 'put-object', '--bucket', BUCKET, '--key', 'cli-tagged', '--body', file, '--tagging', 'x=y'],
      ['s3api', 'copy-object', '--bucket', BUCKET, '--key', 'cli-copy', '--copy-source', `${BUCKET}/cli`],
    ]
    for (const args of steps) {
      const r = await run('aws', args, env)
      assert.equal(r.code, 0, `aws ${args.join(' ')}: ${r.err}`)
    }
    const head = await run('aws', ['s3api', 'head-object', '--bucket', BUCKET, '--key', 'cli-copy'], env)
    assert.equal((JSON.parse(head.out) as { Metadata: Record<string, string> }).Metadata.owner, 'cli')
    const cat = await run('aws', ['s3', 'cp', `s3://${BUCKET}/cli-tagged`, '-'], env)
    assert.equal(cat.out, 'from the cli')
  },
)

const BOTO_TLS = String.raw`
import io, json, boto3
from botocore.config import Config
s3 = boto3.client('s3', config=Config(s3={'addressing_style': 'path'}, retries={'max_attempts': 1}))
s3.upload_fileobj(io.BytesIO(b'x' * 6 * 1024 * 1024), 'sec', 'boto-multipart')
s3.put_object(Bucket='sec', Key='boto-stream', Body=io.BytesIO(b'streamed by boto'))
print(json.dumps([s3.head_object(Bucket='sec', Key=k)['ContentLength'] for k in ['boto-multipart', 'boto-stream']]))
`

test(
  'controls: botocore over HTTPS (multipart upload, streamed body with checksum trailer where it sends one)',
  {
    skip: hasBotocore ? false : 'python3 with boto3/botocore is not installed on this machine',
  },
  async (t) => {
    if (!h.sandbox.httpsEndpoint) return t.skip('openssl is not installed: the sandbox has no HTTPS listener')
    const env = { ...process.env, ...sandboxEnv(h.dir, 'ci', { secure: true }), AWS_MAX_ATTEMPTS: '1' }
    const r = await run('python3', ['-c', BOTO_TLS], env)
    assert.equal(r.code, 0, r.err)
    assert.deepEqual(JSON.parse(r.out), [6 * 1024 * 1024, 16])
  },
)
