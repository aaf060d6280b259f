// The AWS CDK against the sandbox, over HTTPS, as an IAM user: the real `cdk bootstrap` with the
// stock bootstrap template (KMS conditions, the staging bucket with AccessControl, lifecycle rules
// and its SSL-only policy, the ECR repository with its lifecycle policy, the five IAM roles, the
// version SSM parameter), then `cdk deploy` of a one-bucket app (the template published to the
// staging bucket through the file-publishing role, the deploy role reading the bootstrap version
// from SSM, a change set), then `cdk destroy`. Needs the CDK CLI (`aws-cdk`) and `aws-cdk-lib`
// (devDependencies) and `openssl` (the HTTPS listener): skipped with a message where absent.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { Agent } from 'node:https'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import {
  IAMClient,
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreateUserCommand,
} from '@aws-sdk/client-iam'
import { ECRClient, DescribeRepositoriesCommand, GetLifecyclePolicyCommand } from '@aws-sdk/client-ecr'
import {
  S3Client,
  HeadBucketCommand,
  GetBucketEncryptionCommand,
  GetBucketVersioningCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3'
import { SSMClient, GetParameterCommand } from '@aws-sdk/client-ssm'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { startSandbox, type RunningSandbox } from '../../src/sandbox/index.js'

const ACCOUNT = '111111111111'
const REGION = 'eu-west-1'
const require = createRequire(import.meta.url)

function resolved(id: string): string | undefined {
  try {
    return require.resolve(id)
  } catch {
    return undefined
  }
}

const cdkPackage = resolved('aws-cdk/package.json')
const cdkLib = resolved('aws-cdk-lib')
const hasOpenssl = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0
const skip = !cdkPackage
  ? 'the CDK CLI (aws-cdk) is not installed (npm install): cdk bootstrap/deploy against the sandbox is skipped'
  : !cdkLib
    ? 'aws-cdk-lib is not installed (npm install): the CDK app cannot be synthesized'
    : !hasOpenssl
      ? 'openssl is not installed on this machine: the sandbox has no HTTPS listener'
      : false
if (skip) console.log(`# ${skip}`)

let sandbox: RunningSandbox
let state = ''
let work = ''
let agent: Agent
let env: Record<string, string> = {}
let creds = { accessKeyId: '', secretAccessKey: '' }

/** Runs the CDK CLI in the app directory; resolves with its exit code and output. */
function cdk(args: readonly string[]): Promise<{ code: number; out: string }> {
  const bin = join(dirname(cdkPackage!), 'bin', 'cdk')
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args, '--no-notices', '--no-version-reporting', '--no-color'],
      { cwd: work, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 5 * 60_000 },
      (e, stdout, stderr) =>
        resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    )
  })
}

function client<T>(make: new (c: object) => T, extra: object = {}): T {
  return new make({
    endpoint: sandbox.httpsEndpoint,
    region: REGION,
    credentials: creds,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ httpsAgent: agent }),
    ...extra,
  })
}

before(async () => {
  if (skip) return
  state = mkdtempSync(join(tmpdir(), 'crosspipe-cdk-state-'))
  work = mkdtempSync(join(tmpdir(), 'crosspipe-cdk-app-'))
  sandbox = await startSandbox({ port: 0, stateDir: state, region: REGION, accounts: { dev: ACCOUNT } })
  assert.ok(sandbox.httpsEndpoint && sandbox.caFile, 'the sandbox listens on HTTPS')
  agent = new Agent({ ca: readFileSync(sandbox.caFile) })
  // An administrator, made as a user would make one: an IAM user with AdministratorAccess and an access key.
  const root = sandbox.accounts.find((a) => a.id === ACCOUNT)!
  creds = { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey }
  const iam = client(IAMClient, { region: 'us-east-1' })
  await iam.send(new CreateUserCommand({ UserName: 'cdk-admin' }))
  await iam.send(
    new AttachUserPolicyCommand({
      UserName: 'cdk-admin',
      PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess',
    }),
  )
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'cdk-admin' }))).AccessKey!
  iam.destroy()
  creds = { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! }
  // Only the user's keys and the sandbox's HTTPS endpoint: no profile, no config file, no AWS_* left over.
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(AWS_|CDK_)/.test(k)))
  env = {
    ...(base as Record<string, string>),
    AWS_ACCESS_KEY_ID: creds.accessKeyId,
    AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_ENDPOINT_URL: sandbox.httpsEndpoint,
    AWS_CONFIG_FILE: join(work, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(work, 'no-credentials'),
    NODE_EXTRA_CA_CERTS: sandbox.caFile,
    AWS_CA_BUNDLE: sandbox.caFile,
    CDK_DISABLE_VERSION_CHECK: '1',
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    CI: 'true',
  }
  // A one-bucket app, using aws-cdk-lib from this package's node_modules.
  writeFileSync(
    join(work, 'app.mjs'),
    `import cdk from ${JSON.stringify(cdkLib)}
const app = new cdk.App()
const stack = new cdk.Stack(app, 'OneBucket', { env: { account: '${ACCOUNT}', region: '${REGION}' } })
const bucket = new cdk.aws_s3.Bucket(stack, 'Data', { versioned: true, removalPolicy: cdk.RemovalPolicy.DESTROY })
new cdk.CfnOutput(stack, 'BucketName', { value: bucket.bucketName })
app.synth()
`,
  )
  writeFileSync(
    join(work, 'cdk.json'),
    JSON.stringify({ app: `${JSON.stringify(process.execPath)} app.mjs` }),
  )
})

after(async () => {
  if (skip) return
  agent?.destroy()
  await sandbox?.stop()
  rmSync(state, { recursive: true, force: true })
  rmSync(work, { recursive: true, force: true })
})

test(
  'cdk bootstrap (stock template), cdk deploy and cdk destroy of a one-bucket app, over HTTPS, as an IAM user',
  { skip, timeout: 15 * 60_000 },
  async () => {
    // 1. cdk bootstrap with the stock template.
    const boot = await cdk(['bootstrap', `aws://${ACCOUNT}/${REGION}`])
    assert.equal(boot.code, 0, `cdk bootstrap failed:\n${boot.out}`)
    assert.match(boot.out, /Environment aws:\/\/111111111111\/eu-west-1 bootstrapped/)

    // 2. What the bootstrap stack made, read back through the services' own APIs.
    const ssm = client(SSMClient)
    const version = await ssm.send(new GetParameterCommand({ Name: '/cdk-bootstrap/hnb659fds/version' }))
    assert.match(version.Parameter!.Value!, /^\d+$/)
    ssm.destroy()
    const ecr = client(ECRClient)
    const repoName = `cdk-hnb659fds-container-assets-${ACCOUNT}-${REGION}`
    const repos = await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [repoName] }))
    assert.equal(repos.repositories![0]!.imageTagMutability, 'IMMUTABLE')
    const lifecycle = await ecr.send(new GetLifecyclePolicyCommand({ repositoryName: repoName }))
    assert.match(lifecycle.lifecyclePolicyText!, /"countNumber": 365/)
    ecr.destroy()

    // 3. cdk deploy of the app: the template goes to the staging bucket, the stack is created.
    const outputs = join(work, 'outputs.json')
    const deploy = await cdk(['deploy', '--require-approval', 'never', '--outputs-file', outputs])
    assert.equal(deploy.code, 0, `cdk deploy failed:\n${deploy.out}`)
    assert.ok(existsSync(outputs), deploy.out)
    const bucket = (JSON.parse(readFileSync(outputs, 'utf8')) as { OneBucket: { BucketName: string } })
      .OneBucket.BucketName
    assert.match(bucket, /^onebucket-data/)
    const s3 = client(S3Client, { forcePathStyle: true })
    await s3.send(new HeadBucketCommand({ Bucket: bucket }))
    // The CLI published the stack's template to the staging bucket (as the file-publishing role).
    const staging = `cdk-hnb659fds-assets-${ACCOUNT}-${REGION}`
    const published = await s3.send(new ListObjectsV2Command({ Bucket: staging }))
    assert.ok(
      published.Contents?.some((o) => o.Key!.endsWith('.json')),
      JSON.stringify(published.Contents?.map((o) => o.Key)),
    )
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status, 'Enabled')

    // 4. cdk destroy removes the stack and, with RemovalPolicy.DESTROY, the bucket.
    const destroy = await cdk(['destroy', '--force'])
    assert.equal(destroy.code, 0, `cdk destroy failed:\n${destroy.out}`)
    const gone = await s3.send(new HeadBucketCommand({ Bucket: bucket })).then(
      () => 'exists',
      (e: { name: string }) => e.name,
    )
    assert.equal(gone, 'NotFound')

    // 5. Bootstrapping again with a customer managed key updates the bootstrap stack: the key and
    // its alias are created (the CreateNewKey condition) and the staging bucket encrypts with it.
    const again = await cdk(['bootstrap', `aws://${ACCOUNT}/${REGION}`, '--bootstrap-customer-key'])
    assert.equal(again.code, 0, `cdk bootstrap --bootstrap-customer-key failed:\n${again.out}`)
    const enc = await s3.send(new GetBucketEncryptionCommand({ Bucket: staging }))
    const rule = enc.ServerSideEncryptionConfiguration!.Rules![0]!.ApplyServerSideEncryptionByDefault!
    assert.equal(rule.SSEAlgorithm, 'aws:kms')
    assert.match(rule.KMSMasterKeyID!, new RegExp(`^arn:aws:kms:${REGION}:${ACCOUNT}:key/`))
    s3.destroy()
  },
)
