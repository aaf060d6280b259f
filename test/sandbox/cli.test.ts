// The AWS CLI against the sandbox, configured only by the credentials and config files the sandbox
// writes (`crosspipe sandbox env`). Needs `aws` on PATH (v1 or v2): skipped with a message otherwise.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { sandboxEnv, formatEnvExports } from '../../src/sandbox/index.js'
import { clientEnv, harness, type Harness } from './helpers.js'

const hasAws = spawnSync('aws', ['--version'], { stdio: 'ignore' }).status === 0
let h: Harness
before(async () => {
  if (hasAws) h = await harness()
})
after(async () => {
  if (hasAws) await h.close()
})

/** Runs `aws` asynchronously: the sandbox answers from this process's event loop. */
function aws(
  profile: string,
  ...args: string[]
): Promise<{ status: number | null; out: string; err: string }> {
  const env = clientEnv(h.dir, profile)
  return new Promise((resolve) => {
    execFile(
      'aws',
      [...args, '--output', 'json'],
      { env, encoding: 'utf8', timeout: 60_000 },
      (error, out, err) => {
        resolve({ status: error ? (typeof error.code === 'number' ? error.code : null) : 0, out, err })
      },
    )
  })
}

test(
  'the AWS CLI works with the sandbox profiles',
  { skip: hasAws ? false : 'the AWS CLI (`aws`) is not installed on this machine' },
  async () => {
    const exports = formatEnvExports(sandboxEnv(h.dir, 'dev'))
    assert.match(exports, /^export AWS_PROFILE='dev'$/m)
    assert.match(exports, /^export AWS_ENDPOINT_URL='http:\/\/127\.0\.0\.1:\d+'$/m)

    const id = await aws('dev', 'sts', 'get-caller-identity')
    assert.equal(id.status, 0, id.err)
    assert.equal(JSON.parse(id.out).Account, '222222222222')

    const key = await aws('dev', 'kms', 'create-key', '--description', 'cli')
    assert.equal(key.status, 0, key.err)
    const keyId = JSON.parse(key.out).KeyMetadata.KeyId as string
    const enc = await aws(
      'dev',
      'kms',
      'encrypt',
      '--key-id',
      keyId,
      '--plaintext',
      'aGVsbG8=',
      '--encryption-context',
      'purpose=test',
    )
    assert.equal(enc.status, 0, enc.err)
    assert.equal(JSON.parse(enc.out).KeyId, `arn:aws:kms:us-east-1:222222222222:key/${keyId}`)

    const mb = await aws('dev', 's3', 'mb', 's3://cli-bucket')
    assert.equal(mb.status, 0, mb.err)
    const file = join(h.dir, 'upload.txt')
    writeFileSync(file, 'from the aws cli\n')
    const cp = await aws(
      'dev',
      's3',
      'cp',
      file,
      's3://cli-bucket/dir/upload.txt',
      '--sse',
      'aws:kms',
      '--sse-kms-key-id',
      keyId,
    )
    assert.equal(cp.status, 0, cp.err)
    const head = await aws('dev', 's3api', 'head-object', '--bucket', 'cli-bucket', '--key', 'dir/upload.txt')
    assert.equal(head.status, 0, head.err)
    assert.equal(JSON.parse(head.out).ServerSideEncryption, 'aws:kms')
    const ls = await aws('dev', 's3', 'ls', 's3://cli-bucket/dir/')
    assert.equal(ls.status, 0, ls.err)
    assert.match(ls.out, /upload\.txt/)
    const out = join(h.dir, 'download.txt')
    const get = await aws('dev', 's3', 'cp', 's3://cli-bucket/dir/upload.txt', out)
    assert.equal(get.status, 0, get.err)

    const role = await aws(
      'dev',
      'iam',
      'create-role',
      '--role-name',
      'cli-role',
      '--assume-role-policy-document',
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'codebuild.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ],
      }),
    )
    assert.equal(role.status, 0, role.err)
    // The CLI decodes the URL-encoded policy document IAM returns.
    const got = await aws('dev', 'iam', 'get-role', '--role-name', 'cli-role')
    assert.equal(
      JSON.parse(got.out).Role.AssumeRolePolicyDocument.Statement[0].Principal.Service,
      'codebuild.amazonaws.com',
    )

    // Cross-account: prod cannot read dev's bucket.
    const denied = await aws('prod', 's3', 'cp', 's3://cli-bucket/dir/upload.txt', out)
    assert.notEqual(denied.status, 0)
    assert.match(denied.err, /403|AccessDenied|Forbidden/)
  },
)

test(
  'a service the sandbox does not serve answers in its own protocol, and the AWS CLI shows the message',
  { skip: hasAws ? false : 'the AWS CLI (`aws`) is not installed on this machine' },
  async () => {
    // One service of each protocol: AWS JSON 1.1 (Secrets Manager, ECS, Organizations), AWS JSON 1.0
    // (DynamoDB), REST-JSON (Lambda), AWS query (SNS), REST-XML (Route 53), RPC v2 CBOR or JSON
    // (CloudWatch, by the CLI's botocore version).
    const calls: [string, string[], string][] = [
      ['secretsmanager', ['secretsmanager', 'list-secrets'], 'UnknownOperationException'],
      ['ecs', ['ecs', 'list-clusters'], 'UnknownOperationException'],
      ['organizations', ['organizations', 'describe-organization'], 'UnknownOperationException'],
      ['dynamodb', ['dynamodb', 'list-tables'], 'UnknownOperationException'],
      ['lambda', ['lambda', 'list-functions'], 'UnknownOperationException'],
      ['sns', ['sns', 'list-topics'], 'InvalidAction'],
      ['route53', ['route53', 'list-hosted-zones'], 'InvalidAction'],
      ['monitoring', ['cloudwatch', 'list-metrics'], '(UnknownOperationException|InvalidAction)'],
    ]
    for (const [name, args, code] of calls) {
      const r = await aws('dev', ...args)
      assert.notEqual(r.status, 0, `${args.join(' ')} succeeded`)
      assert.match(
        r.err,
        new RegExp(
          `\\(${code}\\) when calling the \\w+ operation: ${name} is not supported by the crosspipe sandbox: it serves `,
        ),
        `${args.join(' ')}: ${r.err}`,
      )
    }
  },
)
