/**
 * deploy / destroy against the crosspipe sandbox (src/sandbox, started in-process on a free
 * loopback port), through `sandboxAccess` with the credentials and config files the sandbox writes.
 * This is where outputs cross accounts for real (moto cannot: see moto.test.ts). Skips visibly when
 * the sandbox in this build has no CloudFormation yet.
 *
 * The init example end to end (every synthesized stack CREATE_COMPLETE, read back, destroyed) is
 * the `todo` test at the end: it runs and reports, and becomes a normal test once the sandbox's
 * resource providers create every resource of the example.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sandboxAccess, type AccountAccess } from '../../src/aws/index.js'
import { deploy, destroy, type DeployResult } from '../../src/deploy/index.js'
import { exampleProject, parsePipeline } from '../../src/model/index.js'
import { recordingIo } from '../../src/model/io.js'
import { startSandbox, type RunningSandbox } from '../../src/sandbox/index.js'
import type { ManifestDocument } from '../../src/synth/manifest.js'
import { synthesize } from '../../src/synth/index.js'

const CI = { account: '111111111111', region: 'eu-west-1' }
const DEV = { account: '222222222222', region: 'eu-west-1' }

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
  sandbox = await startSandbox({ stateDir: dir, port: 0 })
  access = sandboxAccess({
    endpointUrl: sandbox.endpoint,
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

test(
  'sandbox: the init example deploys into three accounts, re-deploys as no change, and is destroyed',
  { todo: 'until the sandbox resource providers create every resource of the example' },
  async (t) => {
    if (unavailable) return t.skip(unavailable)
    const out = synthesize(parsePipeline(exampleProject()['crosspipe.yml']!, 'crosspipe.yml'))
    const options = { manifest: out.manifest, templates: out.files, credentials: access, pollIntervalMs: 50 }
    const first = await deploy(options)
    assert.ok(
      first.stacks.every((s) => s.status === 'CREATE_COMPLETE'),
      first.stacks.map((s) => `${s.stack}: ${s.outcome} ${s.error?.message ?? ''}`).join('\n'),
    )
    const second = await deploy(options)
    assert.ok(second.stacks.every((s) => s.outcome === 'no-change'))
    const gone = await destroy({ ...options, yes: true })
    assert.equal(gone.success, true)
  },
)
