// Input members an operation would silently ignore are refused (src/sandbox/operations/index.ts,
// "Members"; S3: S3Members in src/sandbox/services/s3/operation.ts). First, every operation of
// every service the sandbox serves declares its members, by names of AWS's model — the services
// are asked, as the gateway builds them; then the layer's check over AWS's own models (awsQuery,
// awsJson: a refused member, an accepted one, one accepted at one value only, a nested member,
// the message, the code each service answers with); then through the sandbox and real clients
// (the SDK for JavaScript v3, boto3, the AWS CLI v1 and v2), which must show the client which
// member, and that it is the sandbox's limit. boto3 and the CLIs are skipped with a message where
// the machine lacks them.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AssumeRoleCommand, type AssumeRoleRequest, type AssumeRoleResponse } from '@aws-sdk/client-sts'
import { EncryptCommand, CreateKeyCommand } from '@aws-sdk/client-kms'
import {
  CloudFormationClient,
  CreateStackCommand,
  type CreateStackInput,
  type CreateStackOutput,
} from '@aws-sdk/client-cloudformation'
import {
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectTaggingCommand,
  ListMultipartUploadsCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3'
import {
  declarationProblems,
  declarationsOf,
  jsonService,
  operation,
  queryService,
  refusalMessage,
  refusedMembersOf,
  serviceModel,
} from '../../src/sandbox/operations/index.js'
import { AwsError } from '../../src/sandbox/errors.js'
import { Runtime } from '../../src/sandbox/runtime.js'
import { buildServices } from '../../src/sandbox/services/index.js'
import { COMMON_MEMBERS } from '../../src/sandbox/services/s3/operations/common.js'
import { OPERATION_LIST } from '../../src/sandbox/services/s3/operations/index.js'
import { ROUTES } from '../../src/sandbox/services/s3/routes.js'
import type { RequestContext } from '../../src/sandbox/services/types.js'
import {
  boto3Client,
  clientEnv,
  failure,
  harness,
  runPython,
  runTool,
  s3Raw,
  type Harness,
} from './helpers.js'

const SANDBOX =
  'is not supported by the crosspipe sandbox (a limit of the sandbox, not an error in the request)'

// ---- every operation declares its members ----------------------------------

/**
 * The problems of every declaration of every service, as the gateway builds the services: an
 * awsQuery/awsJson operation served without a declaration, a declared name that is not a member
 * of the operation's input in AWS's model; for S3, a bound, honoured, accepted or refused name
 * that is not a member of the operation's input, or a routed operation without a declaration.
 */
function allProblems(): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'crosspipe-members-'))
  const runtime = new Runtime({ stateDir: dir, defaultRegion: 'us-east-1' })
  const problems: string[] = []
  try {
    buildServices(runtime)
    for (const s of runtime.services) {
      if (s.protocol === 'rest-xml') continue
      const d = declarationsOf(s)
      if (!d) {
        problems.push(`${s.name}: not built by the operation layer, so its operations declare no members`)
        continue
      }
      const model = serviceModel(d.model)
      for (const name of Object.keys(s.actions)) {
        const op = d.operations.find((o) => o.name === name)
        if (!op) problems.push(`${s.name}.${name}: served without a declaration`)
        else problems.push(...declarationProblems(model, name, op.members).map((p) => `${s.name}.${p}`))
      }
    }
  } finally {
    runtime.close()
    rmSync(dir, { recursive: true, force: true })
  }
  const s3 = serviceModel('s3')
  const inputOf = (op: string): Readonly<Record<string, unknown>> => {
    const shape = s3.operations[op]?.input
    return (shape ? s3.shapes[shape]?.members : undefined) ?? {}
  }
  for (const op of OPERATION_LIST) {
    const members = inputOf(op.name)
    const m = op.members as { honours?: readonly string[]; accepts?: object; refuses?: object } | undefined
    const names = [
      ...Object.keys(op.input),
      ...(m?.honours ?? []),
      ...Object.keys(m?.accepts ?? {}),
      ...Object.keys(m?.refuses ?? {}).filter((k) => k !== '*'),
    ]
    for (const n of names)
      if (!Object.hasOwn(members, n))
        problems.push(`s3.${op.name}: ${n} is not a member of its input in AWS's model`)
  }
  const declared = new Set(OPERATION_LIST.map((o) => o.name))
  for (const r of ROUTES)
    if (!r.unmodelled && !declared.has(r.op)) problems.push(`s3.${r.op}: routed, not declared`)
  // What every S3 operation honours or accepts are members of S3's model.
  const anyInput = new Set(Object.keys(s3.operations).flatMap((op) => Object.keys(inputOf(op))))
  for (const n of [...(COMMON_MEMBERS.honours ?? []), ...Object.keys(COMMON_MEMBERS.accepts ?? {})])
    if (!anyInput.has(n)) problems.push(`s3 (every operation): ${n} is not a member of any input`)
  return problems
}

test('every operation of every service declares its input members, by names of AWS’s model', () => {
  assert.deepEqual(allProblems(), [])
})

test('a declared name that is not a model member, or both honoured and accepted, is a problem', () => {
  const cfn = serviceModel('cloudformation')
  assert.deepEqual(
    declarationProblems(cfn, 'CreateStack', {
      honours: ['StackName', 'Nope', 'RollbackConfiguration.Nope', 'Parameters.ParameterKey', 'Tags'],
      accepts: { Tags: 'twice', 'RollbackConfiguration.MonitoringTimeInMinutes': 'ok' },
    }),
    [
      "CreateStack: Nope is not a member of its input in AWS's model",
      "CreateStack: RollbackConfiguration.Nope is not a member of its input in AWS's model",
      'CreateStack: Tags is both honoured and accepted',
    ],
  )
})

// ---- the layer, over AWS's models ------------------------------------------

const ctx = {} as RequestContext

function stsWith(ran: { n: number }) {
  return queryService({
    name: 'sts',
    signingName: 'sts',
    xmlNamespace: 'https://sts.amazonaws.com/doc/2011-06-15/',
    apiVersion: '2011-06-15',
    operations: [
      operation<AssumeRoleRequest, AssumeRoleResponse>(
        'AssumeRole',
        () => {
          ran.n++
          return {}
        },
        {
          honours: ['RoleArn', 'RoleSessionName'],
          accepts: {
            ExternalId: 'any value',
            DurationSeconds: { why: 'the default only', when: 3600 },
          },
          refuses: { Tags: 'session tags are not modelled' },
        },
      ),
    ],
  })
}

async function refusal(p: () => unknown): Promise<AwsError> {
  try {
    await p()
  } catch (e) {
    if (e instanceof AwsError) return e
    throw e
  }
  throw new Error('expected a refusal')
}

test('awsQuery: a member neither honoured nor accepted is refused before the handler, in the service’s code', async () => {
  const ran = { n: 0 }
  const sts = stsWith(ran)
  const params = (extra: [string, string][]): Map<string, string> =>
    new Map([['RoleArn', 'arn:aws:iam::111111111111:role/r'], ['RoleSessionName', 'ss'], ...extra])
  await sts.actions['AssumeRole']!(
    params([
      ['ExternalId', 'xyz'],
      ['DurationSeconds', '3600'],
    ]),
    ctx,
  )
  assert.equal(ran.n, 1, 'honoured and accepted members reach the handler')
  const tags = await refusal(() =>
    sts.actions['AssumeRole']!(
      params([
        ['Tags.member.1.Key', 'k'],
        ['Tags.member.1.Value', 'v'],
      ]),
      ctx,
    ),
  )
  assert.deepEqual(
    [tags.code, tags.status, tags.message],
    ['ValidationError', 400, `AssumeRole: Tags ${SANDBOX}: session tags are not modelled`],
  )
  // Accepted at one value only: another is refused, with the common advice.
  const longer = await refusal(() => sts.actions['AssumeRole']!(params([['DurationSeconds', '900']]), ctx))
  assert.equal(longer.message, `AssumeRole: DurationSeconds ${SANDBOX}: send the request without it`)
  // Several at once, named in one message.
  const two = await refusal(() =>
    sts.actions['AssumeRole']!(
      params([
        ['Policy', '{}'],
        ['SourceIdentity', 'me'],
      ]),
      ctx,
    ),
  )
  assert.equal(
    two.message,
    `AssumeRole: Policy, SourceIdentity are not supported by the crosspipe sandbox (a limit of the sandbox, not an error in the request): send the request without them`,
  )
  assert.equal(ran.n, 1, 'a refused request never reaches the handler')
})

test('nested members: a dotted path honours part of a structure (or of a list’s items); the rest is refused', async () => {
  let ran = 0
  const cfn = queryService({
    name: 'cloudformation',
    signingName: 'cloudformation',
    xmlNamespace: 'http://cloudformation.amazonaws.com/doc/2010-05-15/',
    apiVersion: '2010-05-15',
    operations: [
      operation<CreateStackInput, CreateStackOutput>(
        'CreateStack',
        () => {
          ran++
          return {}
        },
        {
          honours: ['StackName', 'Parameters.ParameterKey', 'Parameters.ParameterValue'],
          accepts: { 'RollbackConfiguration.MonitoringTimeInMinutes': { why: 'default', when: 0 } },
        },
      ),
    ],
  })
  const call = (extra: [string, string][]) =>
    cfn.actions['CreateStack']!(new Map([['StackName', 's'], ...extra]), ctx)
  await call([
    ['Parameters.member.1.ParameterKey', 'A'],
    ['Parameters.member.1.ParameterValue', 'a'],
    ['RollbackConfiguration.MonitoringTimeInMinutes', '0'],
  ])
  assert.equal(ran, 1)
  const resolved = await refusal(() =>
    call([
      ['Parameters.member.1.ParameterKey', 'A'],
      ['Parameters.member.2.ParameterKey', 'B'],
      ['Parameters.member.2.UsePreviousValue', 'true'],
    ]),
  )
  assert.equal(
    resolved.message,
    `CreateStack: Parameters.UsePreviousValue ${SANDBOX}: send the request without it`,
  )
  const monitoring = await refusal(() => call([['RollbackConfiguration.MonitoringTimeInMinutes', '5']]))
  assert.match(
    monitoring.message,
    /^CreateStack: RollbackConfiguration\.MonitoringTimeInMinutes is not supported/,
  )
  const whole = await refusal(() =>
    call([
      ['Tags.member.1.Key', 'k'],
      ['Tags.member.1.Value', 'v'],
    ]),
  )
  assert.match(whole.message, /^CreateStack: Tags is not supported/)
  assert.equal(ran, 1)
  // The same check, as a function of a parsed input.
  assert.deepEqual(
    refusedMembersOf(
      {
        honours: ['Parameters.ParameterKey'],
        accepts: { TimeoutInMinutes: { why: 'x', when: (v) => v === 5 } },
      },
      {
        Parameters: [{ ParameterKey: 'a', ParameterValue: 'b' }, { ParameterValue: 'c' }],
        TimeoutInMinutes: 6,
      },
    ),
    ['Parameters.ParameterValue', 'TimeoutInMinutes'],
  )
})

test('awsJson: the validation code, or the service’s own (unsupportedCode); a handler that refuses everything itself', async () => {
  const make = (unsupportedCode?: string, refusesEveryRequest?: true) =>
    jsonService({
      name: 'kms',
      signingName: 'kms',
      jsonVersion: '1.1',
      targetPrefix: 'TrentService',
      unsupportedCode,
      operations: [
        operation<{ KeyId: string | undefined; GrantTokens?: string[] }, object>(
          'DescribeKey',
          () => {
            throw new AwsError('Handled', 'by the handler', 400)
          },
          { honours: ['KeyId'], ...(refusesEveryRequest ? { refusesEveryRequest } : {}) },
        ),
      ],
    })
  const input = { KeyId: 'k', GrantTokens: ['t'] }
  const plain = await refusal(() => make().actions['DescribeKey']!(input, ctx))
  assert.deepEqual(
    [plain.code, plain.message],
    ['ValidationException', `DescribeKey: GrantTokens ${SANDBOX}: send the request without it`],
  )
  const own = await refusal(() => make('UnsupportedOperationException').actions['DescribeKey']!(input, ctx))
  assert.equal(own.code, 'UnsupportedOperationException')
  const all = await refusal(() => make(undefined, true).actions['DescribeKey']!(input, ctx))
  assert.equal(all.code, 'Handled')
  assert.equal(
    refusalMessage('X', ['A', 'B'], { refuses: { A: 'why A', '*': 'why else' } }),
    `X: A, B are not supported by the crosspipe sandbox (a limit of the sandbox, not an error in the request): why A; why else`,
  )
})

// ---- through the sandbox and real clients -----------------------------------

let h: Harness
before(async () => {
  h = await harness()
})
after(async () => {
  await h.close()
})

test('SDK v3: STS (query), KMS (JSON), CloudFormation (query, hand-written refusals now declared) and S3 (REST-XML) name the member', async () => {
  const c = h.clients(h.creds('dev'))
  const sts = await failure(
    c.sts.send(
      new AssumeRoleCommand({
        RoleArn: 'arn:aws:iam::222222222222:role/none',
        RoleSessionName: 'sess',
        Tags: [{ Key: 'team', Value: 'a' }],
      }),
    ),
  )
  assert.deepEqual([sts.name, sts.status], ['ValidationError', 400])
  assert.match(
    sts.message,
    /^AssumeRole: Tags is not supported by the crosspipe sandbox \(a limit of the sandbox/,
  )

  const key = await c.kms.send(new CreateKeyCommand({}))
  const kms = await failure(
    c.kms.send(
      new EncryptCommand({ KeyId: key.KeyMetadata!.KeyId, Plaintext: Buffer.from('x'), GrantTokens: ['g'] }),
    ),
  )
  assert.deepEqual([kms.name, kms.status], ['UnsupportedOperationException', 400])
  assert.match(
    kms.message,
    /^Encrypt: GrantTokens is not supported by the crosspipe sandbox .*: grants are not modelled/,
  )
  // Accepted at its default: DryRun false runs the operation.
  await c.kms.send(
    new EncryptCommand({ KeyId: key.KeyMetadata!.KeyId, Plaintext: Buffer.from('x'), DryRun: false }),
  )

  const cfn = new CloudFormationClient({
    endpoint: h.sandbox.endpoint,
    region: 'us-east-1',
    credentials: h.creds('dev'),
    maxAttempts: 1,
  })
  try {
    const body = JSON.stringify({ Resources: { T: { Type: 'AWS::SNS::Topic' } } })
    const types = await failure(
      cfn.send(
        new CreateStackCommand({ StackName: 'm', TemplateBody: body, ResourceTypes: ['AWS::SNS::Topic'] }),
      ),
    )
    assert.deepEqual([types.name, types.status], ['ValidationError', 400])
    assert.match(
      types.message,
      /^CreateStack: ResourceTypes is not supported by the crosspipe sandbox .*: it would have to refuse templates/,
    )
    const url = await failure(
      cfn.send(
        new CreateStackCommand({
          StackName: 'm',
          TemplateBody: body,
          StackPolicyURL: 'https://example.com/p.json',
        }),
      ),
    )
    assert.match(
      url.message,
      /^CreateStack: StackPolicyURL is not supported .*send the policy as a body \(StackPolicyBody\)/,
    )
    const retain = await failure(
      cfn.send(new CreateStackCommand({ StackName: 'm', TemplateBody: body, RetainExceptOnCreate: true })),
    )
    assert.match(retain.message, /^CreateStack: RetainExceptOnCreate is not supported/)
  } finally {
    cfn.destroy()
  }

  await c.s3.send(new CreateBucketCommand({ Bucket: 'members-sdk' }))
  const s3 = await failure(
    c.s3.send(
      new PutObjectCommand({
        Bucket: 'members-sdk',
        Key: 'k',
        Body: 'x',
        WebsiteRedirectLocation: '/elsewhere',
      }),
    ),
  )
  assert.deepEqual([s3.name, s3.status], ['InvalidArgument', 400])
  assert.match(
    s3.message,
    /^PutObject: WebsiteRedirectLocation \(x-amz-website-redirect-location\) is not supported by the crosspipe sandbox .*static website hosting is not modelled/,
  )
  const ssec = await failure(
    c.s3.send(
      new PutObjectCommand({
        Bucket: 'members-sdk',
        Key: 'k',
        Body: 'x',
        SSECustomerAlgorithm: 'AES256',
        SSECustomerKey: 'a'.repeat(32),
      }),
    ),
  )
  assert.match(
    ssec.message,
    /^PutObject: SSECustomerAlgorithm \(x-amz-server-side-encryption-customer-algorithm\), SSECustomerKey .*SSE-C/,
  )
  assert.doesNotMatch(ssec.message, /aaaa/, 'the key is not echoed')
})

test('S3: routine members pass; what S3 honours cheaply is honoured (Content-MD5 on settings, copy conditions and tags, upload listings, source owner)', async () => {
  const dev = h.creds('dev')
  const { s3 } = h.clients(dev)
  await s3.send(new CreateBucketCommand({ Bucket: 'members-s3' }))
  // The SDK sends its checksum headers, and ExpectedBucketOwner and RequestPayer when asked.
  await s3.send(
    new PutObjectCommand({
      Bucket: 'members-s3',
      Key: 'src',
      Body: 'x',
      Tagging: 'a=1',
      ChecksumAlgorithm: 'CRC32',
      ExpectedBucketOwner: '222222222222',
      RequestPayer: 'requester',
    }),
  )
  const owner = await failure(
    s3.send(
      new PutObjectCommand({
        Bucket: 'members-s3',
        Key: 'k',
        Body: 'x',
        ExpectedBucketOwner: '111111111111',
      }),
    ),
  )
  assert.deepEqual([owner.name, owner.status], ['AccessDenied', 403])
  // A bucket setting's Content-MD5 is checked against its body.
  const policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::members-s3/none' },
    ],
  })
  const bad = await s3Raw(h, dev, {
    method: 'PUT',
    path: '/members-s3?policy',
    body: policy,
    headers: { 'content-md5': Buffer.alloc(16).toString('base64') },
  })
  assert.deepEqual([bad.status, bad.code], [400, 'BadDigest'])
  await s3.send(new PutBucketPolicyCommand({ Bucket: 'members-s3', Policy: policy }))
  // A copy keeps its source's tags, and its x-amz-copy-source-if-* conditions hold.
  await s3.send(new CopyObjectCommand({ Bucket: 'members-s3', Key: 'copy', CopySource: 'members-s3/src' }))
  const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: 'members-s3', Key: 'copy' }))
  assert.deepEqual(tags.TagSet, [{ Key: 'a', Value: '1' }])
  const cond = await failure(
    s3.send(
      new CopyObjectCommand({
        Bucket: 'members-s3',
        Key: 'c2',
        CopySource: 'members-s3/src',
        CopySourceIfMatch: '"nope"',
      }),
    ),
  )
  assert.deepEqual([cond.name, cond.status], ['PreconditionFailed', 412])
  const source = await failure(
    s3.send(
      new CopyObjectCommand({
        Bucket: 'members-s3',
        Key: 'c3',
        CopySource: 'members-s3/src',
        ExpectedSourceBucketOwner: '333333333333',
      }),
    ),
  )
  assert.deepEqual([source.name, source.status], ['AccessDenied', 403])
  const tagged = await failure(
    s3.send(
      new CopyObjectCommand({
        Bucket: 'members-s3',
        Key: 'c4',
        CopySource: 'members-s3/src',
        TaggingDirective: 'REPLACE',
        Tagging: 'b=2',
      }),
    ),
  )
  assert.match(
    tagged.message,
    /^CopyObject: TaggingDirective \(x-amz-tagging-directive\), Tagging \(x-amz-tagging\) are not supported/,
  )
  // Upload listings by prefix, paged.
  for (const k of ['a/1', 'a/2', 'b/1'])
    await s3.send(new CreateMultipartUploadCommand({ Bucket: 'members-s3', Key: k }))
  const first = await s3.send(
    new ListMultipartUploadsCommand({ Bucket: 'members-s3', Prefix: 'a/', MaxUploads: 1 }),
  )
  assert.deepEqual([first.Uploads?.map((u) => u.Key), first.IsTruncated], [['a/1'], true])
  const next = await s3.send(
    new ListMultipartUploadsCommand({
      Bucket: 'members-s3',
      Prefix: 'a/',
      KeyMarker: first.NextKeyMarker,
      UploadIdMarker: first.NextUploadIdMarker,
    }),
  )
  assert.deepEqual([next.Uploads?.map((u) => u.Key), next.IsTruncated], [['a/2'], false])
  const delimiter = await failure(
    s3.send(new ListMultipartUploadsCommand({ Bucket: 'members-s3', Delimiter: '/' })),
  )
  assert.match(delimiter.message, /^ListMultipartUploads: Delimiter \(\?delimiter\) is not supported/)
  // A part copied from an object holds to the same x-amz-copy-source-if-* conditions as CopyObject.
  const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'members-s3', Key: 'z/part' }))
  const partCond = await failure(
    s3.send(
      new UploadPartCopyCommand({
        Bucket: 'members-s3',
        Key: 'z/part',
        UploadId: upload.UploadId,
        PartNumber: 1,
        CopySource: 'members-s3/src',
        CopySourceIfNoneMatch: '*',
      }),
    ),
  )
  assert.deepEqual([partCond.name, partCond.status], ['PreconditionFailed', 412])
  const part = await s3.send(
    new UploadPartCopyCommand({
      Bucket: 'members-s3',
      Key: 'z/part',
      UploadId: upload.UploadId,
      PartNumber: 1,
      CopySource: 'members-s3/src',
      CopySourceIfMatch: '*',
    }),
  )
  assert.ok(part.CopyPartResult?.ETag)
})

const hasBoto = spawnSync('python3', ['-c', 'import boto3'], { stdio: 'ignore' }).status === 0

test(
  'boto3 sees the member and the sandbox’s limit (STS, KMS, S3)',
  { skip: hasBoto ? false : 'python3 with boto3 is not installed (pip install boto3)' },
  async () => {
    const script = `${boto3Client('sts')}
kms = boto3.client('kms', config=Config(retries={'max_attempts': 1}))
s3 = boto3.client('s3', config=Config(retries={'max_attempts': 1}, s3={'addressing_style': 'path'}))
s3.create_bucket(Bucket='members-boto')
def err2(f):
    try:
        f()
    except ClientError as e:
        return [e.response['Error']['Code'], e.response['Error']['Message']]
key = kms.create_key()['KeyMetadata']['KeyId']
# A multipart upload as boto3's transfer manager sends it (its default checksums included).
import os, tempfile
from boto3.s3.transfer import TransferConfig
path = tempfile.mktemp()
with open(path, 'wb') as f:
    f.write(os.urandom(6 * 1024 * 1024))
s3.upload_file(path, 'members-boto', 'big', Config=TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024))
os.remove(path)
print(json.dumps({
  'sts': err(lambda: sts.assume_role(RoleArn='arn:aws:iam::222222222222:role/none', RoleSessionName='sess', PolicyArns=[{'arn': 'arn:aws:iam::aws:policy/ReadOnlyAccess'}])),
  'kms': err2(lambda: kms.generate_data_key(KeyId=key, KeySpec='AES_256', GrantTokens=['g'])),
  's3': err2(lambda: s3.put_object(Bucket='members-boto', Key='k', Body=b'x', ObjectLockLegalHoldStatus='ON')),
  'multipart': s3.head_object(Bucket='members-boto', Key='big')['ContentLength'],
  'routine': s3.put_object(Bucket='members-boto', Key='ok', Body=b'x', ChecksumAlgorithm='SHA256', ExpectedBucketOwner='222222222222')['ResponseMetadata']['HTTPStatusCode'],
}))
`
    const out = JSON.parse(await runPython(h, 'dev', script)) as Record<string, [string, string] | number>
    const [stsCode, stsMessage] = out['sts'] as [string, string]
    assert.equal(stsCode, 'ValidationError')
    assert.match(
      stsMessage,
      /^AssumeRole: PolicyArns is not supported by the crosspipe sandbox .*pass the session policy as Policy/,
    )
    const [kmsCode, kmsMessage] = out['kms'] as [string, string]
    assert.equal(kmsCode, 'UnsupportedOperationException')
    assert.match(kmsMessage, /^GenerateDataKey: GrantTokens is not supported by the crosspipe sandbox/)
    const [s3Code, s3Message] = out['s3'] as [string, string]
    assert.equal(s3Code, 'InvalidArgument')
    assert.match(
      s3Message,
      /^PutObject: ObjectLockLegalHoldStatus \(x-amz-object-lock-legal-hold\) is not supported .*no bucket here has Object Lock/,
    )
    assert.equal(out['routine'], 200)
    assert.equal(out['multipart'], 6 * 1024 * 1024)
  },
)

function version(bin: string): string | undefined {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' })
  return r.status === 0 ? (r.stdout + r.stderr).trim() : undefined
}

// `aws` on PATH is v1 on this machine (pyenv); Debian's package installs v2 as /usr/bin/aws, which
// reads no endpoint from the environment (it gets --endpoint-url).
for (const cli of [
  { name: 'v1', bin: 'aws', flag: false, ok: version('aws')?.startsWith('aws-cli/1.') },
  { name: 'v2', bin: '/usr/bin/aws', flag: true, ok: version('/usr/bin/aws')?.startsWith('aws-cli/2.') },
])
  test(
    `the AWS CLI ${cli.name} sees the member and the sandbox’s limit (STS, S3)`,
    { skip: cli.ok ? false : `the AWS CLI ${cli.name} is not installed as ${cli.bin}` },
    async () => {
      const env = { ...clientEnv(h.dir, 'dev'), AWS_MAX_ATTEMPTS: '1' }
      const run = (args: string[]) =>
        runTool(cli.bin, [...args, ...(cli.flag ? ['--endpoint-url', h.sandbox.endpoint] : [])], env)
      const sts = await run([
        'sts',
        'assume-role',
        '--role-arn',
        'arn:aws:iam::222222222222:role/none',
        '--role-session-name',
        'sess',
        '--tags',
        'Key=team,Value=a',
      ])
      assert.notEqual(sts.code, 0)
      assert.match(sts.err, /\(ValidationError\).*AssumeRole: Tags is not supported by the crosspipe sandbox/)
      const bucket = `members-cli-${cli.name}`
      const mb = await run(['s3api', 'create-bucket', '--bucket', bucket])
      assert.equal(mb.code, 0, mb.err)
      const put = await run([
        's3api',
        'put-object',
        '--bucket',
        bucket,
        '--key',
        'k',
        '--website-redirect-location',
        '/x',
      ])
      assert.notEqual(put.code, 0)
      assert.match(
        put.err,
        /\(InvalidArgument\).*PutObject: WebsiteRedirectLocation \(x-amz-website-redirect-location\) is not supported by the crosspipe sandbox/,
      )
      // What the CLI sends on its own (checksums, Content-MD5, the expected owner asked for) passes.
      const ok = await run([
        's3api',
        'put-object',
        '--bucket',
        bucket,
        '--key',
        'k',
        '--expected-bucket-owner',
        '222222222222',
      ])
      assert.equal(ok.code, 0, ok.err)
      const tagging = await run([
        's3api',
        'put-bucket-tagging',
        '--bucket',
        bucket,
        '--tagging',
        'TagSet=[{Key=a,Value=b}]',
      ])
      assert.equal(tagging.code, 0, tagging.err)
    },
  )
