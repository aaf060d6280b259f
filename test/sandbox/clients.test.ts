// Clients nobody here wrote, over every served service: the same calls through the AWS CLI v1
// (`aws` on PATH) and the AWS CLI v2 (`/usr/bin/aws` from Debian's awscli package, v2.9, which
// ignores AWS_ENDPOINT_URL, so it gets --endpoint-url), each answer checked against what the AWS
// documentation says the operation returns: exit code, error code, output members. A CLI that is
// not installed is skipped with a message (the CI machine has both).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { serviceModel } from '../../src/sandbox/operations/index.js'
import { clientEnv, harness, type Harness } from './helpers.js'

interface Cli {
  readonly name: string
  readonly bin: string
  /** v2.9 reads no endpoint from the environment or the config file. */
  readonly endpointFlag: boolean
}

function version(bin: string): string | undefined {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' })
  return r.status === 0 ? (r.stdout + r.stderr).trim() : undefined
}

// `aws` on PATH is v1 on this machine (pyenv); Debian's package installs v2 as /usr/bin/aws.
const pathAws = version('aws')
const systemAws = version('/usr/bin/aws')
const CLIS: { cli: Cli; skip: string | false }[] = [
  {
    cli: { name: 'v1', bin: 'aws', endpointFlag: false },
    skip: pathAws?.startsWith('aws-cli/1.') ? false : 'the AWS CLI v1 is not `aws` on this PATH',
  },
  {
    cli: { name: 'v2', bin: '/usr/bin/aws', endpointFlag: true },
    skip: systemAws?.startsWith('aws-cli/2.')
      ? false
      : 'the AWS CLI v2 is not installed as /usr/bin/aws (apt-get install awscli)',
  },
]

let h: Harness
before(async () => {
  if (CLIS.some((c) => !c.skip)) h = await harness()
})
after(async () => {
  if (h) await h.close()
})

interface Answer {
  readonly status: number | null
  readonly out: string
  readonly err: string
  readonly json: any
}

/** Runs the CLI asynchronously (the sandbox answers from this process's event loop). */
function run(cli: Cli, profile: string, args: readonly string[]): Promise<Answer> {
  const env = clientEnv(h.dir, profile)
  const all = [
    ...args,
    '--output',
    'json',
    ...(cli.endpointFlag ? ['--endpoint-url', h.sandbox.endpoint] : []),
  ]
  return new Promise((resolve) => {
    execFile(cli.bin, all, { env, encoding: 'utf8', timeout: 90_000, cwd: h.dir }, (error, out, err) => {
      let json: unknown
      try {
        json = out.trim() ? JSON.parse(out) : undefined
      } catch {
        json = undefined
      }
      resolve({ status: error ? (typeof error.code === 'number' ? error.code : null) : 0, out, err, json })
    })
  })
}

/** An error the CLI reports: `An error occurred (Code) when calling the Op operation: …`. */
function errorCode(a: Answer): string | undefined {
  return /An error occurred \(([^)]+)\)/.exec(a.err)?.[1]
}

for (const { cli, skip } of CLIS) {
  test(`AWS CLI ${cli.name}: every served service answers as AWS documents`, { skip }, async () => {
    const ok = async (args: readonly string[], profile = 'dev'): Promise<Answer> => {
      const a = await run(cli, profile, args)
      assert.equal(a.status, 0, `aws ${args.join(' ')}: ${a.err}${a.out}`)
      return a
    }
    const fails = async (code: string, args: readonly string[], profile = 'dev'): Promise<Answer> => {
      const a = await run(cli, profile, args)
      assert.notEqual(a.status, 0, `aws ${args.join(' ')} should fail with ${code}: ${a.out}`)
      assert.equal(errorCode(a), code, `aws ${args.join(' ')}: ${a.err}`)
      return a
    }
    const n = (s: string) => `${s}-${cli.name}`

    // STS: https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
    const me = await ok(['sts', 'get-caller-identity'])
    assert.equal(me.json.Account, '222222222222')
    assert.equal(me.json.Arn, 'arn:aws:iam::222222222222:root')
    // Root may not assume roles; AssumeRole's RoleSessionName pattern is [\w+=,.@-]*.
    const trust = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::222222222222:root' }, Action: 'sts:AssumeRole' },
      ],
    })

    // IAM: https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html
    const role = await ok([
      'iam',
      'create-role',
      '--role-name',
      n('role'),
      '--assume-role-policy-document',
      trust,
    ])
    assert.equal(role.json.Role.RoleName, n('role'))
    assert.match(role.json.Role.RoleId, /^AROA[A-Z0-9]{17}$/)
    assert.equal(role.json.Role.Arn, `arn:aws:iam::222222222222:role/${n('role')}`)
    await fails('EntityAlreadyExists', [
      'iam',
      'create-role',
      '--role-name',
      n('role'),
      '--assume-role-policy-document',
      trust,
    ])
    await fails('ValidationError', [
      'iam',
      'create-role',
      '--role-name',
      'bad/name',
      '--assume-role-policy-document',
      trust,
    ])
    await fails('NoSuchEntity', ['iam', 'get-role', '--role-name', n('missing')])
    await fails('MalformedPolicyDocument', [
      'iam',
      'put-role-policy',
      '--role-name',
      n('role'),
      '--policy-name',
      'p',
      '--policy-document',
      '{"Statement":[{"Effect":"Maybe","Action":"s3:GetObject","Resource":"*"}]}',
    ])
    await ok([
      'iam',
      'put-role-policy',
      '--role-name',
      n('role'),
      '--policy-name',
      'p',
      '--policy-document',
      '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}',
    ])
    // GetRolePolicy returns the document URL-encoded; the CLI decodes it.
    const inline = await ok(['iam', 'get-role-policy', '--role-name', n('role'), '--policy-name', 'p'])
    assert.equal(inline.json.PolicyDocument.Statement[0].Action, 's3:GetObject')
    await ok([
      'iam',
      'attach-role-policy',
      '--role-name',
      n('role'),
      '--policy-arn',
      'arn:aws:iam::aws:policy/ReadOnlyAccess',
    ])
    const attached = await ok(['iam', 'list-attached-role-policies', '--role-name', n('role')])
    assert.deepEqual(
      attached.json.AttachedPolicies.map((p: { PolicyName: string }) => p.PolicyName),
      ['ReadOnlyAccess'],
    )
    const managed = await ok(['iam', 'get-policy', '--policy-arn', 'arn:aws:iam::aws:policy/PowerUserAccess'])
    assert.equal(managed.json.Policy.PolicyName, 'PowerUserAccess')
    assert.equal(managed.json.Policy.Path, '/')
    const got = await ok(['iam', 'get-role', '--role-name', n('role')])
    assert.ok('RoleLastUsed' in got.json.Role, 'GetRole has RoleLastUsed')
    await ok(['iam', 'tag-role', '--role-name', n('role'), '--tags', 'Key=team,Value=platform'])
    const tags = await ok(['iam', 'list-role-tags', '--role-name', n('role')])
    assert.deepEqual(tags.json.Tags, [{ Key: 'team', Value: 'platform' }])
    await fails('DeleteConflict', ['iam', 'delete-role', '--role-name', n('role')])
    await ok(['iam', 'create-user', '--user-name', n('user')])
    const key = await ok(['iam', 'create-access-key', '--user-name', n('user')])
    assert.match(key.json.AccessKey.AccessKeyId, /^AKIA[A-Z0-9]{16}$/)
    assert.equal(key.json.AccessKey.Status, 'Active')

    // STS again, now that a role exists: the root user is refused
    // (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html).
    await fails('AccessDenied', [
      'sts',
      'assume-role',
      '--role-arn',
      role.json.Role.Arn,
      '--role-session-name',
      'ok-name',
    ])
    const session = await ok(['sts', 'get-session-token'])
    assert.match(session.json.Credentials.AccessKeyId, /^ASIA/)
    assert.ok(session.json.Credentials.SessionToken)

    // KMS: https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html
    const created = await ok(['kms', 'create-key', '--description', n('key')])
    const keyId = created.json.KeyMetadata.KeyId as string
    assert.equal(created.json.KeyMetadata.KeySpec, 'SYMMETRIC_DEFAULT')
    assert.equal(created.json.KeyMetadata.KeyState, 'Enabled')
    await ok(['kms', 'create-alias', '--alias-name', `alias/${n('key')}`, '--target-key-id', keyId])
    await fails('AlreadyExistsException', [
      'kms',
      'create-alias',
      '--alias-name',
      `alias/${n('key')}`,
      '--target-key-id',
      keyId,
    ])
    // fileb:// for blobs: v1 sends a blob argument's text as is, v2 reads it as base64.
    const plain = join(h.dir, `plain-${cli.name}`)
    writeFileSync(plain, 'hello')
    const enc = await ok([
      'kms',
      'encrypt',
      '--key-id',
      `alias/${n('key')}`,
      '--plaintext',
      `fileb://${plain}`,
    ])
    assert.equal(enc.json.KeyId, `arn:aws:kms:us-east-1:222222222222:key/${keyId}`)
    const blob = join(h.dir, `blob-${cli.name}`)
    writeFileSync(blob, Buffer.from(enc.json.CiphertextBlob, 'base64'))
    const dec = await ok(['kms', 'decrypt', '--ciphertext-blob', `fileb://${blob}`])
    assert.equal(Buffer.from(dec.json.Plaintext, 'base64').toString(), 'hello')
    const dk = await ok(['kms', 'generate-data-key', '--key-id', keyId, '--key-spec', 'AES_256'])
    assert.equal(Buffer.from(dk.json.Plaintext, 'base64').length, 32)
    await fails('ValidationException', [
      'kms',
      'schedule-key-deletion',
      '--key-id',
      keyId,
      '--pending-window-in-days',
      '3',
    ])
    await fails('NotFoundException', ['kms', 'describe-key', '--key-id', 'alias/none-such'])
    // A predefined AWS alias names the AWS managed key, created on first use
    // (https://docs.aws.amazon.com/kms/latest/APIReference/API_DescribeKey.html).
    const managedKey = await ok(['kms', 'describe-key', '--key-id', 'alias/aws/ssm'])
    assert.equal(managedKey.json.KeyMetadata.KeyManager, 'AWS')
    const again = await ok(['kms', 'describe-key', '--key-id', 'alias/aws/ssm'])
    assert.equal(again.json.KeyMetadata.KeyId, managedKey.json.KeyMetadata.KeyId)
    await fails('NotFoundException', ['kms', 'describe-key', '--key-id', 'alias/aws/no-such-service'])
    const policy = await ok(['kms', 'get-key-policy', '--key-id', keyId, '--policy-name', 'default'])
    assert.equal(JSON.parse(policy.json.Policy).Statement[0].Principal.AWS, 'arn:aws:iam::222222222222:root')

    // S3: https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html
    const bucket = n('cli-bucket')
    await ok(['s3api', 'create-bucket', '--bucket', bucket])
    const file = join(h.dir, `up-${cli.name}.txt`)
    writeFileSync(file, 'from the cli\n')
    await ok(['s3', 'cp', file, `s3://${bucket}/a/b.txt`])
    const head = await ok(['s3api', 'head-object', '--bucket', bucket, '--key', 'a/b.txt'])
    assert.equal(head.json.ContentLength, 13)
    assert.equal(head.json.ServerSideEncryption, 'AES256')
    const list = await ok(['s3api', 'list-objects-v2', '--bucket', bucket, '--prefix', 'a/'])
    assert.deepEqual(
      list.json.Contents.map((o: { Key: string }) => o.Key),
      ['a/b.txt'],
    )
    const location = await ok(['s3api', 'get-bucket-location', '--bucket', bucket])
    assert.equal(location.json.LocationConstraint, null)
    await fails('NoSuchTagSet', ['s3api', 'get-bucket-tagging', '--bucket', bucket])
    await fails('NoSuchBucketPolicy', ['s3api', 'get-bucket-policy', '--bucket', bucket])
    await fails('NoSuchCORSConfiguration', ['s3api', 'get-bucket-cors', '--bucket', bucket])
    await fails('NoSuchKey', [
      's3api',
      'get-object',
      '--bucket',
      bucket,
      '--key',
      'none',
      join(h.dir, 'none'),
    ])
    await fails('NoSuchBucket', ['s3api', 'list-objects-v2', '--bucket', n('no-such-bucket')])
    const owner = await ok(['s3api', 'get-bucket-ownership-controls', '--bucket', bucket])
    assert.equal(owner.json.OwnershipControls.Rules[0].ObjectOwnership, 'BucketOwnerEnforced')
    // Under BucketOwnerEnforced the ACL grants the owner FULL_CONTROL only; the grantee's type is
    // the xsi:type attribute (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketAcl.html).
    const acl = await ok(['s3api', 'get-bucket-acl', '--bucket', bucket])
    assert.equal(acl.json.Grants[0].Grantee.Type, 'CanonicalUser')
    assert.equal(acl.json.Grants[0].Permission, 'FULL_CONTROL')
    const objectAcl = await ok(['s3api', 'get-object-acl', '--bucket', bucket, '--key', 'a/b.txt'])
    assert.equal(objectAcl.json.Grants[0].Grantee.ID, acl.json.Owner.ID)
    const pab = await ok(['s3api', 'get-public-access-block', '--bucket', bucket])
    assert.equal(pab.json.PublicAccessBlockConfiguration.BlockPublicAcls, true)
    await ok(['s3', 'rm', `s3://${bucket}/a/b.txt`])
    await ok(['s3api', 'delete-bucket', '--bucket', bucket])

    // CloudFormation: https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_Operations.html
    const template = join(h.dir, `t-${cli.name}.yml`)
    writeFileSync(
      template,
      `Parameters:\n  Name:\n    Type: String\nResources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !Ref Name\nOutputs:\n  Arn:\n    Value: !Ref Topic\n`,
    )
    const valid = await ok(['cloudformation', 'validate-template', '--template-body', `file://${template}`])
    assert.deepEqual(
      valid.json.Parameters.map((p: { ParameterKey: string }) => p.ParameterKey),
      ['Name'],
    )
    await ok([
      'cloudformation',
      'deploy',
      '--stack-name',
      n('stack'),
      '--template-file',
      template,
      '--parameter-overrides',
      `Name=${n('topic')}`,
    ])
    const stack = await ok(['cloudformation', 'describe-stacks', '--stack-name', n('stack')])
    assert.equal(stack.json.Stacks[0].StackStatus, 'CREATE_COMPLETE')
    assert.equal(
      stack.json.Stacks[0].Outputs[0].OutputValue,
      `arn:aws:sns:us-east-1:222222222222:${n('topic')}`,
    )
    const resources = await ok(['cloudformation', 'list-stack-resources', '--stack-name', n('stack')])
    assert.equal(resources.json.StackResourceSummaries[0].ResourceStatus, 'CREATE_COMPLETE')
    await fails('ValidationError', ['cloudformation', 'describe-stacks', '--stack-name', n('no-stack')])
    await ok(['cloudformation', 'delete-stack', '--stack-name', n('stack')])
    await ok(['cloudformation', 'wait', 'stack-delete-complete', '--stack-name', n('stack')])

    // CodeBuild, CodePipeline, CloudWatch Logs: the calls a user makes around a pipeline.
    const builds = await ok(['codebuild', 'list-builds'])
    assert.ok(Array.isArray(builds.json.ids))
    await fails('ResourceNotFoundException', ['codebuild', 'start-build', '--project-name', n('no-project')])
    const pipelines = await ok(['codepipeline', 'list-pipelines'])
    assert.ok(Array.isArray(pipelines.json.pipelines))
    await fails('PipelineNotFoundException', ['codepipeline', 'get-pipeline', '--name', n('no-pipeline')])
    await ok(['logs', 'create-log-group', '--log-group-name', `/cli/${cli.name}`])
    await fails('ResourceAlreadyExistsException', [
      'logs',
      'create-log-group',
      '--log-group-name',
      `/cli/${cli.name}`,
    ])
    const groups = await ok(['logs', 'describe-log-groups', '--log-group-name-prefix', '/cli/'])
    assert.ok(
      groups.json.logGroups.some((g: { logGroupName: string }) => g.logGroupName === `/cli/${cli.name}`),
    )
    const events = await ok(['logs', 'filter-log-events', '--log-group-name', `/cli/${cli.name}`])
    assert.deepEqual(events.json.events, [])

    // SSM Parameter Store (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html)
    // and ECR repositories (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html).
    const param = `/cli/${cli.name}/version`
    const put = await ok(['ssm', 'put-parameter', '--name', param, '--type', 'String', '--value', '21'])
    assert.equal(put.json.Version, 1)
    await fails('ParameterAlreadyExists', [
      'ssm',
      'put-parameter',
      '--name',
      param,
      '--type',
      'String',
      '--value',
      '22',
    ])
    const read = await ok(['ssm', 'get-parameter', '--name', param])
    assert.equal(read.json.Parameter.Value, '21')
    assert.equal(read.json.Parameter.ARN, `arn:aws:ssm:us-east-1:222222222222:parameter${param}`)
    await fails('ParameterNotFound', ['ssm', 'get-parameter', '--name', `${param}-none`])
    const repo = await ok(['ecr', 'create-repository', '--repository-name', n('repo')])
    assert.equal(repo.json.repository.repositoryName, n('repo'))
    assert.match(
      repo.json.repository.repositoryUri,
      new RegExp(`^222222222222\\.dkr\\.ecr\\.us-east-1\\.amazonaws\\.com/${n('repo')}$`),
    )
    await fails('RepositoryAlreadyExistsException', [
      'ecr',
      'create-repository',
      '--repository-name',
      n('repo'),
    ])
    await fails('RepositoryNotFoundException', [
      'ecr',
      'describe-repositories',
      '--repository-names',
      n('none'),
    ])

    // Bad input the CLI sends as it is (neither CLI checks enums or patterns) is answered from the
    // services' models with AWS's codes and words (models built with their constraints, from botocore).
    if (serviceModel('ssm').source.startsWith('botocore@')) {
      const badType = await fails('ValidationException', [
        'ssm',
        'put-parameter',
        '--name',
        `${param}-typed`,
        '--type',
        'Text',
        '--value',
        'v',
      ])
      assert.match(
        badType.err,
        /1 validation error detected: Value 'Text' at 'type' failed to satisfy constraint: Member must satisfy enum value set: \[String, StringList, SecureString\]/,
      )
      const badName = await fails('InvalidParameterException', [
        'ecr',
        'create-repository',
        '--repository-name',
        n('Repo'),
      ])
      assert.match(
        badName.err,
        /Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '/,
      )
    }

    // A service the sandbox does not serve answers in its own protocol (JSON here), so the CLI
    // shows a clear message instead of failing to parse.
    const lambda = await run(cli, 'dev', ['lambda', 'list-functions'])
    assert.notEqual(lambda.status, 0)
    assert.match(lambda.err, /lambda is not supported by the crosspipe sandbox/)
  })
}
