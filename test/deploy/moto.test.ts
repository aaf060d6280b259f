/**
 * End to end against moto (needs `python3 -m moto.server`, installed on this machine image; skips
 * visibly without it): the real AWS SDK v3 through src/aws, two accounts selected the way moto
 * documents (credentials from STS AssumeRole belong to the role's account), change sets, a
 * template uploaded to S3 and passed as TemplateURL, idempotency, an interrupted deploy that
 * converges on re-run, and destroy emptying a versioned bucket. Outputs passed across accounts are
 * not tested here (see the comment in manifest()) but in deploy.test.ts and sandbox.test.ts.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DeleteObjectCommand, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3'
import { fromIni } from '@aws-sdk/credential-providers'
import { assumeRoleAccess, profileAccess } from '../../src/aws/index.js'
import { deploy, destroy, type DeployResult } from '../../src/deploy/index.js'
import { CrosspipeError } from '../../src/model/errors.js'
import { recordingIo, type IoMessage } from '../../src/model/io.js'
import type { ManifestDocument } from '../../src/synth/manifest.js'
import { motoMissing, startMoto, type Moto } from '../aws/moto.js'

const skip = motoMissing()
const CI = { account: '111111111111', region: 'eu-west-1' }
const DEV = { account: '222222222222', region: 'eu-west-1' }
const suffix = Math.random().toString(36).slice(2, 8)
const ARTIFACTS = `crosspipe-e2e-artifacts-${suffix}`

const BASE = `AWSTemplateFormatVersion: '2010-09-09'
Description: CI base (moto e2e)
Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: true
      PendingWindowInDays: 7
      KeyPolicy:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: {AWS: !Sub 'arn:\${AWS::Partition}:iam::\${AWS::AccountId}:root'}
            Action: 'kms:*'
            Resource: '*'
  Artifacts:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: ${ARTIFACTS}
      VersioningConfiguration: {Status: Enabled}
Outputs:
  KeyArn:
    Value: !GetAtt Key.Arn
  BucketName:
    Value: !Ref Artifacts
`
const TARGET = `Resources:
  CrossAccountRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: {AWS: 'arn:aws:iam::${CI.account}:root'}
            Action: sts:AssumeRole
Outputs:
  RoleArn:
    Value: !GetAtt CrossAccountRole.Arn
`
const APP = `Parameters:
  KeyArn: {Type: String}
  BucketName: {Type: String}
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      KmsMasterKeyId: !Ref KeyArn
Outputs:
  QueueUrl:
    Value: !Ref Queue
  SeenKey:
    Value: !Ref KeyArn
`
// Over the 51,200-byte TemplateBody limit: deploy must upload it and pass TemplateURL.
const BIG = `Description: a large template
Metadata:
  Padding: "${'x'.repeat(52_000)}"
Resources:
  Topic:
    Type: AWS::SNS::Topic
`

function manifest(): ManifestDocument {
  return {
    version: 1,
    pipeline: 'e2e',
    stacks: [
      { name: 'e2e-base', template: 'base.yaml', ...CI, phase: 1, capabilities: [], parameters: {} },
      {
        name: 'e2e-target',
        template: 'target.yaml',
        ...DEV,
        phase: 1,
        capabilities: ['CAPABILITY_NAMED_IAM'],
        parameters: {},
      },
      {
        name: 'e2e-app',
        template: 'app.yaml',
        ...DEV,
        phase: 2,
        capabilities: [],
        // Literals, not fromStack: moto 5.2.1 computes a stack's outputs when the stack object is
        // made, and a CREATE change set makes it with an empty template, so stacks created by change
        // sets have no outputs in moto (moto/cloudformation/models.py, Stack.__init__ and
        // ChangeSet.apply). Passing outputs across accounts is tested in deploy.test.ts.
        parameters: {
          KeyArn: `arn:aws:kms:eu-west-1:${CI.account}:key/00000000-0000-0000-0000-000000000000`,
          BucketName: ARTIFACTS,
        },
      },
      { name: 'e2e-big', template: 'big.yaml', ...CI, phase: 2, capabilities: [], parameters: {} },
    ],
  }
}
const templates = { 'base.yaml': BASE, 'target.yaml': TARGET, 'app.yaml': APP, 'big.yaml': BIG }
const outcomes = (r: DeployResult) => Object.fromEntries(r.stacks.map((s) => [s.stack, s.outcome]))

let moto: Moto | undefined
let dir = ''
before(async () => {
  if (skip) return
  moto = await startMoto(170)
  dir = mkdtempSync(join(tmpdir(), 'crosspipe-moto-'))
  // A base identity, and sandbox-style profiles per account (role_arn + source_profile): moto gives
  // AssumeRole credentials the role's account.
  writeFileSync(
    join(dir, 'credentials'),
    '[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base-secret\n',
  )
  writeFileSync(
    join(dir, 'config'),
    `[profile ci]\nrole_arn = arn:aws:iam::${CI.account}:role/deployer\nsource_profile = base\n` +
      `[profile dev]\nrole_arn = arn:aws:iam::${DEV.account}:role/deployer\nsource_profile = base\n`,
  )
})
after(() => {
  moto?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

const access = () =>
  assumeRoleAccess({
    roleName: 'OrganizationAccountAccessRole',
    profile: 'base',
    credentialsFile: join(dir, 'credentials'),
    configFile: join(dir, 'config'),
    endpointUrl: moto!.endpoint,
  })
const options = () => ({
  manifest: manifest(),
  templates,
  credentials: access(),
  pollIntervalMs: 50,
  templateBucket: ({ account }: { account: string }) => (account === CI.account ? ARTIFACTS : 'none'),
})

test(
  'moto: deploy across two accounts, re-deploy changes nothing, destroy empties the versioned bucket',
  { skip },
  async () => {
    const io = recordingIo()
    const first = await deploy({ ...options(), io })
    assert.deepEqual(
      outcomes(first),
      { 'e2e-base': 'created', 'e2e-target': 'created', 'e2e-app': 'created', 'e2e-big': 'created' },
      JSON.stringify(first.stacks, null, 1),
    )
    const app = first.stacks.find((s) => s.stack === 'e2e-app')!
    assert.equal(app.status, 'CREATE_COMPLETE')
    assert.deepEqual(app.changes, [{ action: 'Add', logicalId: 'Queue', resourceType: 'AWS::SQS::Queue' }])
    const upload = io.messages.find((m) => m.code === 'deploy.stack.upload')!.data as {
      bucket: string
      url: string
    }
    assert.equal(upload.bucket, ARTIFACTS)
    assert.match(upload.url, new RegExp(`^${moto!.endpoint}/${ARTIFACTS}/crosspipe/e2e/e2e-big/`))

    // Each stack is in its own account, and only there.
    const cfnCi = access().cloudFormation(CI)
    const cfnDev = access().cloudFormation(DEV)
    assert.equal((await cfnDev.describeStack('e2e-app'))?.status, 'CREATE_COMPLETE')
    assert.equal(await cfnCi.describeStack('e2e-app'), undefined)
    assert.equal(await cfnDev.describeStack('e2e-base'), undefined)

    const second = await deploy(options())
    assert.deepEqual(outcomes(second), {
      'e2e-base': 'no-change',
      'e2e-target': 'no-change',
      'e2e-app': 'no-change',
      'e2e-big': 'no-change',
    })

    // moto ignores VersioningConfiguration in templates, so versioning is turned on here; then two
    // versions of one object and a delete marker join the uploaded template: 4 entries to delete.
    const raw = new S3Client({
      region: CI.region,
      endpoint: moto!.endpoint,
      forcePathStyle: true,
      credentials: fromIni({
        profile: 'ci',
        filepath: join(dir, 'credentials'),
        configFilepath: join(dir, 'config'),
        clientConfig: { region: CI.region, endpoint: moto!.endpoint },
      }),
    })
    await raw.send(
      new PutBucketVersioningCommand({ Bucket: ARTIFACTS, VersioningConfiguration: { Status: 'Enabled' } }),
    )
    const s3 = access().s3(CI)
    await s3.putObject(ARTIFACTS, 'artifact.zip', 'one')
    await s3.putObject(ARTIFACTS, 'artifact.zip', 'two')
    await raw.send(new DeleteObjectCommand({ Bucket: ARTIFACTS, Key: 'artifact.zip' }))
    raw.destroy()
    const dio = recordingIo()
    const gone = await destroy({ ...options(), yes: true, io: dio })
    assert.equal(gone.success, true, JSON.stringify(gone.stacks, null, 1))
    assert.deepEqual(outcomes(gone), {
      'e2e-app': 'deleted',
      'e2e-big': 'deleted',
      'e2e-base': 'deleted',
      'e2e-target': 'deleted',
    })
    assert.equal(gone.emptiedBuckets[0]!.bucket, ARTIFACTS)
    assert.equal(gone.emptiedBuckets[0]!.objectsDeleted, 4)
    assert.equal(gone.scheduledKeyDeletions[0]!.pendingWindowInDays, 7)
    assert.ok(
      dio.messages.some((m) => m.code === 'destroy.key.scheduled' && /7-day waiting period/.test(m.message)),
    )
    assert.equal(await cfnCi.describeStack('e2e-base'), undefined)
  },
)

test('moto: an interrupted deploy re-run converges', { skip }, async () => {
  const ac = new AbortController()
  const io = {
    notify(m: IoMessage) {
      if (m.code === 'deploy.stack.done') ac.abort()
    },
  }
  const m = { ...options(), manifest: { ...manifest(), stacks: manifest().stacks.slice(0, 3) } }
  const cut = await deploy({ ...m, io, signal: ac.signal, concurrency: 1 })
  assert.equal(cut.cancelled, true)
  assert.deepEqual(outcomes(cut), {
    'e2e-base': 'created',
    'e2e-target': 'cancelled',
    'e2e-app': 'cancelled',
  })
  const rerun = await deploy(m)
  assert.deepEqual(outcomes(rerun), {
    'e2e-base': 'no-change',
    'e2e-target': 'created',
    'e2e-app': 'created',
  })
  const again = await deploy(m)
  assert.deepEqual(outcomes(again), {
    'e2e-base': 'no-change',
    'e2e-target': 'no-change',
    'e2e-app': 'no-change',
  })
  const gone = await destroy({ ...m, yes: true })
  assert.equal(gone.success, true)
})

test(
  'moto: profiles per account (role_arn profiles); a profile that does not exist is bad input',
  { skip },
  async () => {
    const files = {
      credentialsFile: join(dir, 'credentials'),
      configFile: join(dir, 'config'),
      endpointUrl: moto!.endpoint,
    }
    const good = profileAccess({ profiles: { [CI.account]: 'ci', [DEV.account]: 'dev' }, ...files })
    assert.equal((await good.whoAmI(DEV)).account, DEV.account)
    const swapped = profileAccess({ profiles: { [CI.account]: 'dev', [DEV.account]: 'nope' }, ...files })
    await assert.rejects(
      deploy({ ...options(), credentials: swapped }),
      (e: unknown) =>
        e instanceof CrosspipeError &&
        e.code === 'credentials' &&
        e.problems.some((p) => /belong to account 222222222222/.test(p.message)) &&
        e.problems.some((p) => /profile "nope"/.test(p.message)),
    )
  },
)
