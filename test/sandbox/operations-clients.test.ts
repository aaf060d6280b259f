// Operations declared from AWS's models, driven by clients nobody here wrote: the AWS CLI v1, boto3
// and the AWS SDK for JavaScript v3. Validation errors carry the model's constraints in AWS's
// words, and outputs parse in each client. Needs `aws` and `python3` with boto3 on PATH: each test
// says why it is skipped otherwise. The messages need models built with constraints (botocore).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawnSync } from 'node:child_process'
import { AssumeRoleCommand, GetAccessKeyInfoCommand } from '@aws-sdk/client-sts'
import { CreateGrantCommand, CreateKeyCommand } from '@aws-sdk/client-kms'
import { serviceModel } from '../../src/sandbox/operations/index.js'
import { clientEnv, failure, harness, trustAccount, type Harness, skipModelMessages } from './helpers.js'

const hasAws = spawnSync('aws', ['--version'], { stdio: 'ignore' }).status === 0
const hasBoto3 = spawnSync('python3', ['-c', 'import boto3'], { stdio: 'ignore' }).status === 0
// Why a test of the model's messages cannot run here, or false (helpers.ts).
const noConstraints = skipModelMessages('sts')

let h: Harness
before(async () => {
  h = await harness()
})
after(async () => {
  await h.close()
})

/** Runs a command asynchronously (the sandbox answers from this process's event loop). */
function run(
  cmd: string,
  args: string[],
  profile: string,
): Promise<{ status: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { env: clientEnv(h.dir, profile), encoding: 'utf8', timeout: 60_000 },
      (error, out, err) =>
        resolve({ status: error ? (typeof error.code === 'number' ? error.code : -1) : 0, out, err }),
    )
  })
}

const aws = (profile: string, ...args: string[]) => run('aws', [...args, '--output', 'json'], profile)

test(
  'AWS CLI v1: sts assume-role with a bad session name is the model pattern ValidationError',
  { skip: !hasAws ? 'the AWS CLI (`aws`) is not installed' : noConstraints },
  async () => {
    // The AWS CLI checks no patterns itself, so the request reaches the sandbox.
    const r = await aws(
      'dev',
      'sts',
      'assume-role',
      '--role-arn',
      'arn:aws:iam::222222222222:role/any',
      '--role-session-name',
      'a b',
    )
    assert.notEqual(r.status, 0)
    assert.match(
      r.err,
      /An error occurred \(ValidationError\) when calling the AssumeRole operation: 1 validation error detected: Value 'a b' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: \[\\w\+=,\.@-\]\*/,
    )
  },
)

test(
  'AWS CLI v1: iam list-roles output (member lists, dates, numbers) parses',
  { skip: hasAws ? false : 'the AWS CLI (`aws`) is not installed' },
  async () => {
    const c = await aws(
      'dev',
      'iam',
      'create-role',
      '--role-name',
      'cli-role',
      '--path',
      '/ops/',
      '--assume-role-policy-document',
      trustAccount('222222222222'),
      '--tags',
      'Key=team,Value=ops',
    )
    assert.equal(c.status, 0, c.err)
    const r = await aws('dev', 'iam', 'list-roles', '--path-prefix', '/ops/')
    assert.equal(r.status, 0, r.err)
    const roles = (JSON.parse(r.out) as { Roles: Record<string, unknown>[] }).Roles
    assert.equal(roles.length, 1)
    assert.equal(roles[0]!['RoleName'], 'cli-role')
    assert.equal(roles[0]!['Path'], '/ops/')
    assert.equal(roles[0]!['MaxSessionDuration'], 3600)
    assert.match(String(roles[0]!['CreateDate']), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\+00:00|Z)$/)
    // ListRoles leaves Tags out (API_ListRoles.html); GetRole has them.
    assert.equal(roles[0]!['Tags'], undefined)
    // The CLI decodes IAM's URL-encoded policy documents into JSON.
    assert.deepEqual(roles[0]!['AssumeRolePolicyDocument'], JSON.parse(trustAccount('222222222222')))
  },
)

test(
  'AWS CLI v1: kms create-key with a key usage outside the enum is the model enum ValidationException',
  { skip: !hasAws ? 'the AWS CLI (`aws`) is not installed' : noConstraints },
  async () => {
    const values = serviceModel('kms').shapes['KeyUsageType']!.enum!
    assert.ok(values.includes('ENCRYPT_DECRYPT'))
    const r = await aws('dev', 'kms', 'create-key', '--key-usage', 'NOPE')
    assert.notEqual(r.status, 0)
    assert.ok(
      r.err.includes(
        `An error occurred (ValidationException) when calling the CreateKey operation: 1 validation error detected: Value 'NOPE' at 'keyUsage' failed to satisfy constraint: Member must satisfy enum value set: [${values.join(', ')}]`,
      ),
      r.err,
    )
  },
)

/** A boto3 script's JSON result. */
async function boto3(script: string): Promise<Record<string, unknown>> {
  const r = await run('python3', ['-c', script], 'dev')
  assert.equal(r.status, 0, r.err)
  return JSON.parse(r.out) as Record<string, unknown>
}

const BOTO3_PRELUDE = `
import json, boto3
from botocore.config import Config
from botocore.exceptions import ClientError
# Without client-side checks, so that every constraint is the server's to find.
raw = Config(parameter_validation=False, retries={'max_attempts': 1})
def err(f):
    try:
        f()
    except ClientError as e:
        return {'code': e.response['Error']['Code'], 'message': e.response['Error']['Message'], 'status': e.response['ResponseMetadata']['HTTPStatusCode']}
    return None
`

test(
  'boto3: validation errors (one and several) with the codes and statuses of each protocol, and outputs',
  { skip: !hasBoto3 ? 'python3 with boto3 is not installed' : noConstraints },
  async () => {
    const out = await boto3(`${BOTO3_PRELUDE}
iam = boto3.client('iam', config=raw)
sts = boto3.client('sts', config=raw)
kms = boto3.client('kms', config=raw)
result = {
  'twoErrors': err(lambda: iam.create_role(RoleName='bad name!')),
  'session': err(lambda: sts.get_session_token(DurationSeconds=129601)),
  'dataKey': err(lambda: kms.generate_data_key(KeyId='alias/x', NumberOfBytes=2048)),
  'wrongType': err(lambda: kms.describe_key(KeyId=5)),
}
key = kms.create_key(Description='boto3')['KeyMetadata']
result['key'] = {'state': key['KeyState'], 'created': key['CreationDate'].isoformat(), 'enabled': key['Enabled']}
print(json.dumps(result))
`)
    assert.deepEqual(out['twoErrors'], {
      code: 'ValidationError',
      status: 400,
      message:
        "2 validation errors detected: Value 'bad name!' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+; " +
        "Value null at 'assumeRolePolicyDocument' failed to satisfy constraint: Member must not be null",
    })
    assert.deepEqual(out['session'], {
      code: 'ValidationError',
      status: 400,
      message:
        "1 validation error detected: Value '129601' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 129600",
    })
    assert.deepEqual(out['dataKey'], {
      code: 'ValidationException',
      status: 400,
      message:
        "1 validation error detected: Value '2048' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024",
    })
    assert.equal((out['wrongType'] as { code: string }).code, 'SerializationException')
    const key = out['key'] as { state: string; created: string; enabled: boolean }
    assert.equal(key.state, 'Enabled')
    assert.equal(key.enabled, true)
    assert.ok(Math.abs(Date.parse(key.created) - Date.now()) < 60_000, key.created)
  },
)

test(
  'SDK v3: AssumeRole with two broken members lists both; CreateKey answers the model output',
  { skip: noConstraints },
  async () => {
    const { sts, kms } = h.clients(h.creds('dev'))
    const e = await failure(
      sts.send(
        new AssumeRoleCommand({
          RoleArn: 'arn:aws:iam::222222222222:role/any',
          RoleSessionName: 'a b',
          DurationSeconds: 43201,
        }),
      ),
    )
    assert.deepEqual(e, {
      name: 'ValidationError',
      status: 400,
      message:
        "2 validation errors detected: Value 'a b' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*; " +
        "Value '43201' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200",
    })
    const k = await kms.send(new CreateKeyCommand({ Tags: [{ TagKey: 'a', TagValue: 'b' }] }))
    assert.ok(k.KeyMetadata!.CreationDate instanceof Date)
    assert.equal(k.KeyMetadata!.KeyManager, 'CUSTOMER')
    const badTag = await failure(kms.send(new CreateKeyCommand({ Tags: [{ TagKey: '', TagValue: 'b' }] })))
    assert.deepEqual(badTag, {
      name: 'ValidationException',
      status: 400,
      message:
        "1 validation error detected: Value '' at 'tags.1.member.tagKey' failed to satisfy constraint: Member must have length greater than or equal to 1",
    })
  },
)

test('SDK v3: operations in the model that a service does not declare answer "not supported" in its protocol', async () => {
  const { sts, kms } = h.clients(h.creds('dev'))
  assert.ok(
    serviceModel('sts').operations['GetAccessKeyInfo'] && serviceModel('kms').operations['CreateGrant'],
  )
  const q = await failure(sts.send(new GetAccessKeyInfoCommand({ AccessKeyId: 'AKIAIOSFODNN7EXAMPLE' })))
  assert.equal(q.name, 'InvalidAction')
  assert.equal(q.status, 400)
  assert.match(q.message, /GetAccessKeyInfo .*the crosspipe sandbox does not support it/)
  const j = await failure(
    kms.send(new CreateGrantCommand({ KeyId: 'k', GranteePrincipal: 'p', Operations: ['Decrypt'] })),
  )
  assert.equal(j.name, 'UnknownOperationException')
  assert.equal(j.status, 400)
  assert.match(j.message, /CreateGrant of kms is not supported by the crosspipe sandbox/)
})
