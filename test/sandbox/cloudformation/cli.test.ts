// `aws cloudformation deploy` (AWS CLI v1) against the sandbox unchanged, TemplateURL from the
// sandbox's S3, and stacks surviving a restart of the sandbox.
// Needs the AWS CLI (`aws`); without it the CLI test is skipped and says so.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStacksCommand,
  DescribeStackEventsCommand,
  waitUntilStackCreateComplete,
} from '@aws-sdk/client-cloudformation'
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { harness, type Harness } from '../helpers.js'

const run = promisify(execFile)
const hasAws = await run('aws', ['--version']).then(
  () => true,
  () => false,
)

let h: Harness
let dir: string
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'crosspipe-cfn-cli-'))
  h = await harness({ stateDir: join(dir, 'state') })
})
after(async () => {
  await h?.close()
  rmSync(dir, { recursive: true, force: true })
})

function cfn(): CloudFormationClient {
  return new CloudFormationClient({
    endpoint: h.sandbox.endpoint,
    region: 'us-east-1',
    credentials: h.creds('ci'),
    maxAttempts: 1,
  })
}

const TEMPLATE = `AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Greeting:
    Type: String
Resources:
  Topic:
    Type: AWS::SNS::Topic
  Param:
    Type: AWS::SSM::Parameter
    Properties:
      Name: !Sub /\${AWS::StackName}/greeting
      Type: String
      Value: !Sub "\${Greeting} from \${Topic.TopicName}"
Outputs:
  Value:
    Value: !GetAtt Param.Value
`

let lastCall = 0

async function aws(args: string[]): Promise<{ code: number; out: string }> {
  // `aws cloudformation deploy` names its change set after the current second
  // (awscli-cloudformation-package-deploy-<epoch>); two deploys within one second would collide
  // with the executed change set still there, on AWS as here. The name is taken while the previous
  // call runs, so start each call in a second after the previous one ended.
  const wait = Math.floor(lastCall / 1000) * 1000 + 1000 - Date.now()
  if (wait > 0) await new Promise((r) => setTimeout(r, wait))
  const env = {
    ...process.env,
    AWS_SHARED_CREDENTIALS_FILE: h.sandbox.credentialsFile,
    AWS_CONFIG_FILE: h.sandbox.configFile,
    AWS_PROFILE: 'ci',
    AWS_DEFAULT_REGION: 'us-east-1',
  }
  try {
    const r = await run('aws', ['--endpoint-url', h.sandbox.endpoint, ...args], { env, timeout: 120_000 })
    return { code: 0, out: r.stdout + r.stderr }
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string }
    return { code: x.code, out: x.stdout + x.stderr }
  } finally {
    lastCall = Date.now()
  }
}

test(
  'aws cloudformation deploy creates, updates, and reports "No changes to deploy" (needs the AWS CLI)',
  { skip: hasAws ? false : 'the AWS CLI (aws) is not installed on this machine' },
  async () => {
    const file = join(dir, 'app.yaml')
    writeFileSync(file, TEMPLATE)
    const first = await aws([
      'cloudformation',
      'deploy',
      '--stack-name',
      'cli-app',
      '--template-file',
      file,
      '--parameter-overrides',
      'Greeting=hello',
    ])
    assert.equal(first.code, 0, first.out)
    assert.match(first.out, /Successfully created\/updated stack - cli-app/)
    const value = async (): Promise<string | undefined> =>
      (await cfn().send(new DescribeStacksCommand({ StackName: 'cli-app' }))).Stacks![0]!.Outputs!.find(
        (o) => o.OutputKey === 'Value',
      )?.OutputValue
    assert.match((await value())!, /^hello from cli-app-Topic-[A-Z0-9]{12}$/)

    const second = await aws([
      'cloudformation',
      'deploy',
      '--stack-name',
      'cli-app',
      '--template-file',
      file,
      '--parameter-overrides',
      'Greeting=bonjour',
    ])
    assert.equal(second.code, 0, second.out)
    assert.match((await value())!, /^bonjour from /)

    // The CLI recognises the empty change set by its status reason; it exits 255 unless told not to.
    const third = await aws(['cloudformation', 'deploy', '--stack-name', 'cli-app', '--template-file', file])
    assert.equal(third.code, 255, third.out)
    assert.match(third.out, /No changes to deploy\. Stack cli-app is up to date/)
    const fourth = await aws([
      'cloudformation',
      'deploy',
      '--stack-name',
      'cli-app',
      '--template-file',
      file,
      '--no-fail-on-empty-changeset',
    ])
    assert.equal(fourth.code, 0, fourth.out)
    assert.match(fourth.out, /No changes to deploy\. Stack cli-app is up to date/)

    const bad = await aws(['cloudformation', 'deploy', '--stack-name', 'cli-bad', '--template-file', file])
    assert.notEqual(bad.code, 0)
    assert.match(bad.out, /Parameters: \[Greeting\] must have values/)
  },
)

test('TemplateURL reads the template from the sandbox S3 (path-style URL), as the caller', async () => {
  const { s3 } = h.clients(h.creds('ci'))
  await s3.send(new CreateBucketCommand({ Bucket: 'templates' }))
  await s3.send(new PutObjectCommand({ Bucket: 'templates', Key: 'app.yaml', Body: TEMPLATE }))
  const c = cfn()
  await c.send(
    new CreateStackCommand({
      StackName: 'from-url',
      TemplateURL: `${h.sandbox.endpoint}/templates/app.yaml`,
      Parameters: [{ ParameterKey: 'Greeting', ParameterValue: 'hi' }],
    }),
  )
  await waitUntilStackCreateComplete(
    { client: c, minDelay: 1, maxDelay: 1, maxWaitTime: 20 },
    { StackName: 'from-url' },
  )
  // Another account cannot read the object: S3's answer becomes the ValidationError of the call.
  const dev = new CloudFormationClient({
    endpoint: h.sandbox.endpoint,
    region: 'us-east-1',
    credentials: h.creds('dev'),
    maxAttempts: 1,
  })
  const err = await dev
    .send(
      new CreateStackCommand({
        StackName: 'x',
        TemplateURL: `${h.sandbox.endpoint}/templates/app.yaml`,
        Parameters: [{ ParameterKey: 'Greeting', ParameterValue: 'hi' }],
      }),
    )
    .catch((e: Error) => e)
  assert.ok(err instanceof Error && err.name === 'ValidationError', JSON.stringify(err))
  assert.match(err.message, /^S3 error: Access Denied/)
})

test('stacks, events and exports survive a restart of the sandbox', async () => {
  const before = await cfn().send(new DescribeStacksCommand({ StackName: 'from-url' }))
  const events = (await cfn().send(new DescribeStackEventsCommand({ StackName: 'from-url' }))).StackEvents!
    .length
  await h.sandbox.stop()
  const { startSandbox } = await import('../../../src/sandbox/index.js')
  const again = await startSandbox({ port: 0, stateDir: join(dir, 'state') })
  try {
    const a = again.accounts.find((x) => x.name === 'ci')!
    const c = new CloudFormationClient({
      endpoint: again.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: a.accessKeyId, secretAccessKey: a.secretAccessKey },
      maxAttempts: 1,
    })
    const after = await c.send(new DescribeStacksCommand({ StackName: 'from-url' }))
    assert.equal(after.Stacks![0]!.StackStatus, 'CREATE_COMPLETE')
    assert.deepEqual(after.Stacks![0]!.Outputs, before.Stacks![0]!.Outputs)
    assert.equal(
      (await c.send(new DescribeStackEventsCommand({ StackName: 'from-url' }))).StackEvents!.length,
      events,
    )
    c.destroy()
  } finally {
    await again.stop()
  }
})
