/**
 * deploy / destroy against the crosspipe sandbox (src/sandbox, started in-process on a free
 * loopback port), through `sandboxAccess` with the credentials and config files the sandbox writes,
 * over its HTTPS endpoint (the synthesized bucket policy denies requests without TLS, as on AWS).
 * This is where outputs cross accounts for real (moto cannot: see moto.test.ts). Skips visibly when
 * the sandbox in this build has no CloudFormation or no HTTPS endpoint.
 *
 * The proof of issue 6, step by step:
 * 1. the `crosspipe init` example deploys into three accounts; every stack is CREATE_COMPLETE in
 *    its account; the key policy, bucket policy, roles and pipeline read back through the AWS SDK
 *    equal the synthesized documents with their intrinsics resolved (by this file's own small
 *    resolver, not the sandbox's); a second deploy changes nothing and makes no write call;
 *    destroy empties the versioned bucket and leaves no stack, role, bucket or enabled key.
 * 2. failure injection: a stack whose resource the deploying identity may not create rolls back,
 *    and deploy's result names the resource and AWS's AccessDenied reason; a deploy interrupted in
 *    the middle of a phase, re-run, converges.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { Agent } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  CloudFormationClient,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation'
import { CodePipelineClient, GetPipelineCommand } from '@aws-sdk/client-codepipeline'
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam'
import { DescribeKeyCommand, GetKeyPolicyCommand, KMSClient, ListKeysCommand } from '@aws-sdk/client-kms'
import {
  GetBucketPolicyCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { sandboxAccess, type AccountAccess } from '../../src/aws/index.js'
import { deploy, destroy, type DeployResult } from '../../src/deploy/index.js'
import { exampleProject, parsePipeline } from '../../src/model/index.js'
import { recordingIo } from '../../src/model/io.js'
import { startSandbox, type RunningSandbox } from '../../src/sandbox/index.js'
import type { ManifestDocument } from '../../src/synth/manifest.js'
import { synthesize } from '../../src/synth/index.js'

const ACCOUNTS = { ci: '111111111111', dev: '222222222222', prod: '333333333333' }
const CI = { account: ACCOUNTS.ci, region: 'eu-west-1' }
const DEV = { account: ACCOUNTS.dev, region: 'eu-west-1' }

const BASE = `Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      PendingWindowInDays: 7
      KeyPolicy:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: {AWS: !Sub 'arn:\${AWS::Partition}:iam::\${AWS::AccountId}:root'}
            Action: 'kms:*'
            Resource: '*'
Outputs:
  KeyArn:
    Value: !GetAtt Key.Arn
`
const APP = `Parameters:
  KeyArn: {Type: String}
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: {AWS: 'arn:aws:iam::${CI.account}:root'}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: use-key
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
              - Effect: Allow
                Action: kms:Decrypt
                Resource: !Ref KeyArn
Outputs:
  SeenKey:
    Value: !Ref KeyArn
`
const manifest: ManifestDocument = {
  version: 1,
  pipeline: 'sb',
  stacks: [
    { name: 'sb-base', template: 'base.yaml', ...CI, phase: 1, capabilities: [], parameters: {} },
    {
      name: 'sb-app',
      template: 'app.yaml',
      ...DEV,
      phase: 2,
      capabilities: ['CAPABILITY_IAM'],
      parameters: { KeyArn: { fromStack: 'sb-base', output: 'KeyArn' } },
    },
  ],
}
const templates = { 'base.yaml': BASE, 'app.yaml': APP }
const outcomes = (r: DeployResult) => Object.fromEntries(r.stacks.map((s) => [s.stack, s.outcome]))

let sandbox: RunningSandbox | undefined
let dir = ''
let access: AccountAccess
/** Why the sandbox cannot run these tests, or undefined. */
let unavailable: string | undefined

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'crosspipe-sandbox-deploy-'))
  sandbox = await startSandbox({ stateDir: dir, port: 0, accounts: ACCOUNTS })
  if (!sandbox.httpsEndpoint || !sandbox.caFile) {
    unavailable = 'the sandbox has no HTTPS endpoint (openssl missing)'
    return
  }
  access = sandboxAccess({
    endpointUrl: sandbox.httpsEndpoint,
    caFile: sandbox.caFile,
    credentialsFile: sandbox.credentialsFile,
    configFile: sandbox.configFile,
    profiles: Object.fromEntries(sandbox.accounts.map((a) => [a.id, a.profile])),
  })
  try {
    await access.cloudFormation(CI).describeStack('probe')
  } catch (err) {
    unavailable = `the sandbox has no CloudFormation in this build (${err instanceof Error ? err.message : String(err)})`
  }
})
after(async () => {
  await sandbox?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

test("sandbox: the CI account's key ARN reaches the dev account's stack as a parameter; re-deploy changes nothing; destroy", async (t) => {
  if (unavailable) return t.skip(unavailable)
  const io = recordingIo()
  const first = await deploy({ manifest, templates, credentials: access, io, pollIntervalMs: 50 })
  assert.deepEqual(
    outcomes(first),
    { 'sb-base': 'created', 'sb-app': 'created' },
    JSON.stringify(first.stacks),
  )
  const keyArn = first.stacks[0]!.outputs!.KeyArn!
  assert.match(keyArn, new RegExp(`^arn:aws:kms:eu-west-1:${CI.account}:key/`))
  assert.equal(first.stacks[1]!.outputs!.SeenKey, keyArn)
  assert.equal((await access.cloudFormation(DEV).describeStack('sb-app'))?.parameters.KeyArn, keyArn)
  const statuses = io.messages
    .filter((m) => m.code === 'deploy.stack.status')
    .map((m) => (m.data as { status: string }).status)
  assert.ok(statuses.includes('CREATE_COMPLETE'))

  const second = await deploy({ manifest, templates, credentials: access, pollIntervalMs: 50 })
  assert.deepEqual(outcomes(second), { 'sb-base': 'no-change', 'sb-app': 'no-change' })

  const gone = await destroy({ manifest, templates, credentials: access, yes: true, pollIntervalMs: 50 })
  assert.deepEqual(outcomes(gone), { 'sb-app': 'deleted', 'sb-base': 'deleted' })
  assert.deepEqual(
    gone.scheduledKeyDeletions.map((k) => [k.stack, k.pendingWindowInDays]),
    [['sb-base', 7]],
  )
  assert.equal(await access.cloudFormation(CI).describeStack('sb-base'), undefined)
})

/** SDK client options for one sandbox account's root credentials, over HTTPS. */
function sdk(account: string, region = CI.region) {
  const s = sandbox!
  const a = s.accounts.find((x) => x.id === account)!
  return {
    endpoint: s.httpsEndpoint!,
    region,
    credentials: { accessKeyId: a.accessKeyId, secretAccessKey: a.secretAccessKey },
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca: readFileSync(s.caFile!) }) }),
  }
}

/** What a template's intrinsics resolve to in one deployed stack. */
interface Resolution {
  readonly account: string
  readonly region: string
  readonly parameters: Readonly<Record<string, string>>
  /** Logical id → physical id and type, from ListStackResources. */
  readonly resources: Readonly<Record<string, { readonly id: string; readonly type: string }>>
}

/**
 * Resolves the intrinsics the synthesized templates use (Ref, Fn::Sub, Fn::GetAtt … .Arn) from
 * the stack's parameters and physical ids, with the ARN formats and Ref values AWS documents for
 * each type (KMS key Ref = key id, role Ref = role name, bucket Ref = bucket name). Deliberately
 * independent of the sandbox's CloudFormation engine, which it checks. Throws on anything else.
 */
function resolveCfn(v: unknown, r: Resolution): unknown {
  if (Array.isArray(v)) return v.map((x) => resolveCfn(x, r))
  if (v === null || typeof v !== 'object') return v
  const o = v as Record<string, unknown>
  const keys = Object.keys(o)
  if (keys.length === 1 && keys[0] === 'Ref') return ref(String(o.Ref), r)
  if (keys.length === 1 && keys[0] === 'Fn::GetAtt') {
    const [res, attr] = o['Fn::GetAtt'] as [string, string]
    return getAtt(res, attr, r)
  }
  if (keys.length === 1 && keys[0] === 'Fn::Sub') {
    assert.equal(typeof o['Fn::Sub'], 'string', 'only the string form of Fn::Sub is synthesized')
    return (o['Fn::Sub'] as string).replace(/\$\{([^}]+)\}/g, (_, name: string) => {
      const dot = name.indexOf('.')
      return dot < 0 ? ref(name, r) : getAtt(name.slice(0, dot), name.slice(dot + 1), r)
    })
  }
  assert.ok(!keys.some((k) => k.startsWith('Fn::')), `unexpected intrinsic ${keys.join(',')}`)
  return Object.fromEntries(keys.map((k) => [k, resolveCfn(o[k], r)]))
}
function ref(name: string, r: Resolution): string {
  const pseudo: Record<string, string> = {
    'AWS::Partition': 'aws',
    'AWS::AccountId': r.account,
    'AWS::Region': r.region,
    'AWS::URLSuffix': 'amazonaws.com',
  }
  const value = pseudo[name] ?? r.parameters[name] ?? r.resources[name]?.id
  assert.ok(value !== undefined, `Ref ${name} does not resolve`)
  return value
}
function getAtt(logicalId: string, attr: string, r: Resolution): string {
  const res = r.resources[logicalId]
  assert.ok(res && attr === 'Arn', `GetAtt ${logicalId}.${attr} is not one this test resolves`)
  const arn: Record<string, string> = {
    'AWS::KMS::Key': `arn:aws:kms:${r.region}:${r.account}:key/${res.id}`,
    'AWS::IAM::Role': `arn:aws:iam::${r.account}:role/${res.id}`,
    'AWS::S3::Bucket': `arn:aws:s3:::${res.id}`,
  }
  assert.ok(arn[res.type], `GetAtt ${logicalId}.Arn of ${res.type}`)
  return arn[res.type]!
}

/** CloudFormation's PascalCase properties as the CodePipeline API's camelCase shape (Configuration maps keep their keys). */
function apiShape(v: unknown, inConfiguration = false): unknown {
  if (Array.isArray(v)) return v.map((x) => apiShape(x))
  if (v === null || typeof v !== 'object') return v
  return Object.fromEntries(
    Object.entries(v).map(([k, x]) =>
      inConfiguration ? [k, x] : [k[0]!.toLowerCase() + k.slice(1), apiShape(x, k === 'Configuration')],
    ),
  )
}
/** `actual` cut down to the keys `expected` has (arrays keep their full length), for deepEqual. */
function project(actual: unknown, expected: unknown): unknown {
  if (Array.isArray(expected) && Array.isArray(actual))
    return (actual as unknown[]).map((x, i) => (i < expected.length ? project(x, expected[i]) : x))
  if (expected === null || typeof expected !== 'object' || actual === null || typeof actual !== 'object')
    return actual
  const a = actual as Record<string, unknown>
  return Object.fromEntries(
    Object.keys(expected).map((k) => [k, project(a[k], (expected as Record<string, unknown>)[k])]),
  )
}

/** Every call made through an access, by `service.method`, to prove a deploy wrote nothing. */
function recording(inner: AccountAccess, calls: string[]): AccountAccess {
  const wrap = <T extends object>(target: T, service: string): T =>
    new Proxy(target, {
      get(t, key, receiver) {
        const value: unknown = Reflect.get(t, key, receiver)
        if (typeof value !== 'function') return value
        return (...args: unknown[]) => {
          calls.push(`${service}.${String(key)}`)
          return (value as (...a: unknown[]) => unknown).apply(t, args)
        }
      },
    })
  return {
    describe: (account) => inner.describe(account),
    cloudFormation: (l) => wrap(inner.cloudFormation(l), 'cloudformation'),
    s3: (l) => wrap(inner.s3(l), 's3'),
    codePipeline: (l) => wrap(inner.codePipeline(l), 'codepipeline'),
    whoAmI: (l) => inner.whoAmI(l),
  }
}
const READ_CALL = /^[a-z0-9]+\.(describe|get|list|whoAmI|objectUrl)/

const errorName = (p: Promise<unknown>) =>
  p.then(
    () => 'no error',
    (e: unknown) => (e instanceof Error ? e.name : String(e)),
  )

test('sandbox: the init example deploys into three accounts, reads back as synthesized, re-deploys as no change, and is destroyed', async (t) => {
  if (unavailable) return t.skip(unavailable)
  const out = synthesize(parsePipeline(exampleProject()['crosspipe.yml']!, 'crosspipe.yml'))
  const options = { manifest: out.manifest, templates: out.files, credentials: access, pollIntervalMs: 50 }
  assert.deepEqual(
    [...new Set(out.manifest.stacks.map((s) => s.account))].sort(),
    Object.values(ACCOUNTS).sort(),
    'the example spans the three accounts',
  )

  // 1. Deploy: every stack CREATE_COMPLETE, in its own account.
  const first = await deploy(options)
  const report = (r: DeployResult) =>
    r.stacks.map((s) => `${s.stack}: ${s.outcome} ${s.status ?? ''} ${s.error?.message ?? ''}`).join('\n')
  assert.ok(first.success, report(first))
  assert.ok(
    first.stacks.every((s) => s.outcome === 'created' && s.status === 'CREATE_COMPLETE'),
    report(first),
  )
  const resolutions = new Map<string, Resolution>()
  for (const s of out.manifest.stacks) {
    const cfn = new CloudFormationClient(sdk(s.account, s.region))
    const d = (await cfn.send(new DescribeStacksCommand({ StackName: s.name }))).Stacks![0]!
    assert.equal(d.StackStatus, 'CREATE_COMPLETE', s.name)
    assert.match(d.StackId!, new RegExp(`^arn:aws:cloudformation:${s.region}:${s.account}:stack/${s.name}/`))
    const listed = await access.cloudFormation(s).listStackResources(s.name)
    assert.ok(
      listed.length > 0 && listed.every((x) => x.status === 'CREATE_COMPLETE'),
      JSON.stringify(listed),
    )
    resolutions.set(s.name, {
      account: s.account,
      region: s.region,
      parameters: Object.fromEntries((d.Parameters ?? []).map((p) => [p.ParameterKey!, p.ParameterValue!])),
      resources: Object.fromEntries(
        listed.map((x) => [x.logicalId, { id: x.physicalId!, type: x.resourceType }]),
      ),
    })
  }

  // 2. Read back through the AWS SDK: the resolved synthesized documents, exactly.
  const resourcesOf = (type: string) =>
    out.templates.flatMap((tpl) =>
      Object.entries(
        tpl.body.Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>,
      )
        .filter(([, res]) => res.Type === type)
        .map(([logicalId, res]) => {
          const r = resolutions.get(tpl.stack)!
          return {
            stack: tpl.stack,
            r,
            id: r.resources[logicalId]!.id,
            props: resolveCfn(res.Properties, r) as Record<string, unknown>,
          }
        }),
    )
  const keys = resourcesOf('AWS::KMS::Key')
  assert.equal(keys.length, 1)
  for (const k of keys) {
    const kms = new KMSClient(sdk(k.r.account, k.r.region))
    const policy = (await kms.send(new GetKeyPolicyCommand({ KeyId: k.id, PolicyName: 'default' }))).Policy!
    assert.deepEqual(JSON.parse(policy), k.props.KeyPolicy, `key policy of ${k.id}`)
    assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: k.id }))).KeyMetadata!.KeyState, 'Enabled')
  }
  const policies = resourcesOf('AWS::S3::BucketPolicy')
  assert.equal(policies.length, 1)
  const bucket = policies[0]!.props.Bucket as string
  assert.equal(bucket, first.stacks.find((s) => s.stack === 'my-app-ci-base')!.outputs!.ArtifactBucketName)
  for (const p of policies) {
    const s3 = new S3Client(sdk(p.r.account, p.r.region))
    const text = (await s3.send(new GetBucketPolicyCommand({ Bucket: p.props.Bucket as string }))).Policy!
    assert.deepEqual(JSON.parse(text), p.props.PolicyDocument, `bucket policy of ${String(p.props.Bucket)}`)
  }
  const roles = resourcesOf('AWS::IAM::Role')
  assert.equal(roles.length, 7, roles.map((x) => x.id).join(', '))
  const decode = (doc: string) => JSON.parse(decodeURIComponent(doc)) as unknown
  for (const role of roles) {
    const iam = new IAMClient(sdk(role.r.account))
    const got = (await iam.send(new GetRoleCommand({ RoleName: role.id }))).Role!
    assert.equal(got.Arn, `arn:aws:iam::${role.r.account}:role/${role.id}`)
    if (role.props.RoleName !== undefined) assert.equal(got.RoleName, role.props.RoleName)
    assert.equal(got.Description, role.props.Description, role.id)
    assert.deepEqual(
      decode(got.AssumeRolePolicyDocument!),
      role.props.AssumeRolePolicyDocument,
      `trust of ${role.id}`,
    )
    const inline = (role.props.Policies ?? []) as { PolicyName: string; PolicyDocument: unknown }[]
    const names = (await iam.send(new ListRolePoliciesCommand({ RoleName: role.id }))).PolicyNames ?? []
    assert.deepEqual(
      [...names].sort(),
      inline.map((p) => p.PolicyName).sort(),
      `inline policies of ${role.id}`,
    )
    for (const p of inline) {
      const doc = (await iam.send(new GetRolePolicyCommand({ RoleName: role.id, PolicyName: p.PolicyName })))
        .PolicyDocument!
      assert.deepEqual(decode(doc), p.PolicyDocument, `${role.id}/${p.PolicyName}`)
    }
    const attached =
      (await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: role.id }))).AttachedPolicies ?? []
    assert.deepEqual(
      attached.map((a) => a.PolicyArn).sort(),
      [...((role.props.ManagedPolicyArns ?? []) as string[])].sort(),
      `managed policies of ${role.id}`,
    )
  }
  const pipelines = resourcesOf('AWS::CodePipeline::Pipeline')
  assert.equal(pipelines.length, 1)
  for (const p of pipelines) {
    const cp = new CodePipelineClient(sdk(p.r.account, p.r.region))
    const got = (await cp.send(new GetPipelineCommand({ name: p.id }))).pipeline!
    const { Tags: _tags, ...props } = p.props
    const expected = apiShape(props)
    assert.deepEqual(project(got, expected), expected, 'the pipeline as GetPipeline returns it')
  }

  // 3. A second deploy: no change for every stack, and not one write call.
  const eventCounts = async () =>
    Promise.all(
      out.manifest.stacks.map(async (s) => {
        const cfn = new CloudFormationClient(sdk(s.account, s.region))
        return (await cfn.send(new DescribeStackEventsCommand({ StackName: s.name }))).StackEvents!.length
      }),
    )
  const eventsBefore = await eventCounts()
  const calls: string[] = []
  const second = await deploy({ ...options, credentials: recording(access, calls) })
  assert.deepEqual(
    second.stacks.map((s) => s.outcome),
    out.manifest.stacks.map(() => 'no-change'),
    report(second),
  )
  assert.deepEqual(await eventCounts(), eventsBefore, 'no stack has new events')
  // Not one write call, not even a change set: the plan sees template, parameters and tags as deployed.
  for (const s of out.manifest.stacks)
    assert.deepEqual((await access.cloudFormation(s).describeStack(s.name))?.tags, s.tags ?? {}, s.name)
  assert.ok(calls.length > 0)
  assert.deepEqual(
    calls.filter((c) => !READ_CALL.test(c)),
    [],
    `the second deploy made write calls: ${second.plan.actions.map((a) => `${a.stack}: ${a.action} (${a.reason})`).join('; ')}`,
  )

  // 4. Destroy, with objects in the versioned bucket (two versions of one key).
  const s3 = new S3Client(sdk(CI.account))
  const keyArn = getAtt('ArtifactKey', 'Arn', resolutions.get('my-app-ci-base')!)
  for (const body of ['one', 'two'])
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'artifact.zip',
        Body: body,
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: keyArn,
      }),
    )
  const gone = await destroy({ ...options, yes: true })
  assert.ok(gone.success, report(gone))
  // The application stacks the pipeline would deploy are in the plan first; no execution ran
  // here, so they do not exist.
  const own = new Set(out.manifest.stacks.map((s) => s.name))
  assert.deepEqual(
    gone.stacks.filter((s) => !own.has(s.stack)).map((s) => `${s.stack} ${s.outcome}`),
    ['my-app-dev no-change', 'my-app-prod no-change'],
  )
  assert.ok(gone.stacks.filter((s) => own.has(s.stack)).every((s) => s.outcome === 'deleted'))
  const emptied = gone.emptiedBuckets.find((b) => b.bucket === bucket)
  assert.ok(emptied && emptied.objectsDeleted >= 2, JSON.stringify(gone.emptiedBuckets))
  assert.deepEqual(
    gone.scheduledKeyDeletions.map((k) => k.keyId),
    keys.map((k) => k.id),
  )
  for (const s of out.manifest.stacks)
    assert.match(
      await errorName(
        new CloudFormationClient(sdk(s.account, s.region)).send(
          new DescribeStacksCommand({ StackName: s.name }),
        ),
      ),
      /ValidationError/,
      `${s.name} still exists`,
    )
  for (const role of roles)
    assert.equal(
      await errorName(new IAMClient(sdk(role.r.account)).send(new GetRoleCommand({ RoleName: role.id }))),
      'NoSuchEntityException',
      `role ${role.id} in ${role.r.account}`,
    )
  assert.equal(await errorName(s3.send(new HeadBucketCommand({ Bucket: bucket }))), 'NotFound')
  for (const account of Object.values(ACCOUNTS)) {
    const listed = (await new S3Client(sdk(account)).send(new ListBucketsCommand({}))).Buckets ?? []
    assert.deepEqual(
      listed.map((b) => b.Name),
      [],
      `buckets left in ${account}`,
    )
    const kms = new KMSClient(sdk(account))
    for (const k of (await kms.send(new ListKeysCommand({}))).Keys ?? []) {
      const state = (await kms.send(new DescribeKeyCommand({ KeyId: k.KeyId! }))).KeyMetadata!.KeyState
      assert.equal(state, 'PendingDeletion', `key ${k.KeyId} in ${account}`)
    }
  }
})

/** An app template whose SNS topic the restricted identity may not create (its SSM parameter it may). */
const DENIED_APP = `Resources:
  Setting:
    Type: AWS::SSM::Parameter
    Properties:
      Type: String
      Value: allowed
  Alerts:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: not allowed
`

test('sandbox: a resource the deploying identity may not create fails its stack, which rolls back; deploy names the resource and the AccessDenied reason', async (t) => {
  if (unavailable) return t.skip(unavailable)
  const s = sandbox!
  // The identity of the dev account for this deploy: an IAM user allowed CloudFormation and SSM only.
  const iam = new IAMClient(sdk(DEV.account))
  await iam.send(new CreateUserCommand({ UserName: 'restricted-deployer' }))
  await iam.send(
    new PutUserPolicyCommand({
      UserName: 'restricted-deployer',
      PolicyName: 'cloudformation-and-ssm-only',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: ['cloudformation:*', 'ssm:*'], Resource: '*' }],
      }),
    }),
  )
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'restricted-deployer' }))).AccessKey!
  const credentialsFile = join(dir, 'restricted-credentials')
  const configFile = join(dir, 'restricted-config')
  copyFileSync(s.credentialsFile, credentialsFile)
  copyFileSync(s.configFile, configFile)
  appendFileSync(
    credentialsFile,
    `\n[restricted]\naws_access_key_id = ${key.AccessKeyId}\naws_secret_access_key = ${key.SecretAccessKey}\n`,
  )
  appendFileSync(configFile, `\n[profile restricted]\nregion = ${DEV.region}\n`)
  const restricted = sandboxAccess({
    endpointUrl: s.httpsEndpoint!,
    caFile: s.caFile!,
    credentialsFile,
    configFile,
    profiles: { [DEV.account]: 'restricted' },
  })
  const denied: ManifestDocument = {
    version: 1,
    pipeline: 'denied',
    stacks: [
      { name: 'denied-app', template: 'app.yaml', ...DEV, phase: 1, capabilities: [], parameters: {} },
    ],
  }
  const result = await deploy({
    manifest: denied,
    templates: { 'app.yaml': DENIED_APP },
    credentials: restricted,
    pollIntervalMs: 50,
  })
  assert.equal(result.success, false)
  const r = result.stacks[0]!
  assert.equal(r.outcome, 'failed', JSON.stringify(r))
  assert.equal(r.status, 'ROLLBACK_COMPLETE')
  assert.equal(r.error?.logicalId, 'Alerts', JSON.stringify(r.error))
  assert.equal(r.error?.resourceType, 'AWS::SNS::Topic')
  const userArn = `arn:aws:iam::${DEV.account}:user/restricted-deployer`
  assert.match(r.error?.reason ?? '', /AccessDenied|not authorized/)
  assert.match(
    r.error?.reason ?? '',
    new RegExp(
      `User: ${userArn} is not authorized to perform: sns:CreateTopic on resource: arn:aws:sns:${DEV.region}:${DEV.account}:`,
    ),
  )
  assert.match(r.error?.advice ?? '', /--replace-failed/)
  // The rollback removed what had been created (the SSM parameter).
  const listed = await access.cloudFormation(DEV).listStackResources('denied-app')
  assert.ok(
    listed.every((x) => x.status === 'DELETE_COMPLETE' || x.status === 'CREATE_FAILED'),
    JSON.stringify(listed),
  )
  const gone = await destroy({
    manifest: denied,
    templates: { 'app.yaml': DENIED_APP },
    credentials: access,
    yes: true,
    pollIntervalMs: 50,
  })
  assert.ok(gone.success)
})

test('sandbox: a deploy of the init example interrupted in the middle of phase 2, re-run, converges', async (t) => {
  if (unavailable) return t.skip(unavailable)
  const out = synthesize(parsePipeline(exampleProject()['crosspipe.yml']!, 'crosspipe.yml'))
  const options = { manifest: out.manifest, templates: out.files, credentials: access, pollIntervalMs: 50 }
  const [firstOf2, secondOf2] = out.manifest.stacks.filter((s) => s.phase === 2).map((s) => s.name)
  assert.ok(firstOf2 && secondOf2)
  // One stack at a time; aborted (as Ctrl-C does) when the second stack of phase 2 has its
  // CREATE change set but has not executed it: the first stack of phase 2 is done, the second is
  // interrupted mid-operation, phase 3 never starts.
  const controller = new AbortController()
  const io = recordingIo()
  const abortingIo = {
    notify(m: Parameters<typeof io.notify>[0]) {
      io.notify(m)
      const id = (m.data as { id?: string } | undefined)?.id ?? ''
      if (m.code === 'deploy.stack.changeset' && id.endsWith(`/${secondOf2}`)) controller.abort()
    },
  }
  const interrupted = await deploy({ ...options, concurrency: 1, signal: controller.signal, io: abortingIo })
  const outcomes = Object.fromEntries(interrupted.stacks.map((s) => [s.stack, s.outcome]))
  assert.equal(interrupted.cancelled, true, JSON.stringify(outcomes))
  assert.equal(interrupted.success, false)
  assert.deepEqual(outcomes, {
    'my-app-ci-base': 'created',
    [firstOf2]: 'created',
    [secondOf2]: 'cancelled',
    'my-app-pipeline': 'cancelled',
  })
  assert.ok(io.messages.some((m) => m.code === 'deploy.cancelled'))
  const where = (name: string) => out.manifest.stacks.find((s) => s.name === name)!
  // The interrupted CREATE change set was deleted: no resources exist (the stack is gone, or the
  // empty REVIEW_IN_PROGRESS stack a CREATE change set makes remains); the pipeline never started.
  const leftover = await access.cloudFormation(where(secondOf2)).describeStack(secondOf2)
  assert.ok(leftover === undefined || leftover.status === 'REVIEW_IN_PROGRESS', JSON.stringify(leftover))
  assert.equal(
    await access.cloudFormation(where('my-app-pipeline')).describeStack('my-app-pipeline'),
    undefined,
  )

  const rerun = await deploy(options)
  const report = rerun.stacks.map((s) => `${s.stack}: ${s.outcome} ${s.error?.message ?? ''}`).join('\n')
  assert.ok(rerun.success, report)
  assert.deepEqual(
    Object.fromEntries(rerun.stacks.map((s) => [s.stack, s.outcome])),
    {
      'my-app-ci-base': 'no-change',
      [firstOf2]: 'no-change',
      [secondOf2]: 'created',
      'my-app-pipeline': 'created',
    },
    report,
  )
  for (const s of out.manifest.stacks)
    assert.equal((await access.cloudFormation(s).describeStack(s.name))?.status, 'CREATE_COMPLETE', s.name)
  const third = await deploy(options)
  assert.ok(third.stacks.every((s) => s.outcome === 'no-change'))

  const gone = await destroy({ ...options, yes: true })
  assert.ok(gone.success)
})
