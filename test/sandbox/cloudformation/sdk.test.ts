// End to end: the real AWS SDK v3 CloudFormation client (and its waiters) against a sandbox on a
// free loopback port. Resources are provisioned through the sandbox's own KMS, S3 and IAM, as the
// caller or as the stack's RoleARN session, so IAM decides for stacks as for direct calls.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  CloudFormationClient,
  CreateChangeSetCommand,
  CreateStackCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  GetTemplateCommand,
  GetTemplateSummaryCommand,
  ListExportsCommand,
  ListStackResourcesCommand,
  ListStacksCommand,
  UpdateStackCommand,
  ValidateTemplateCommand,
  waitUntilChangeSetCreateComplete,
  waitUntilStackCreateComplete,
  waitUntilStackDeleteComplete,
  waitUntilStackUpdateComplete,
} from '@aws-sdk/client-cloudformation'
import { DescribeKeyCommand, GetKeyPolicyCommand } from '@aws-sdk/client-kms'
import { GetBucketPolicyCommand, GetBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import {
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  GetRoleCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam'
import { ACCOUNTS, failure, harness, type Creds, type Harness } from '../helpers.js'

let h: Harness
const wait = { minDelay: 1, maxDelay: 1, maxWaitTime: 20 }

/** Runs a waiter; on failure the error carries the stack's failure events. */
async function until(
  waiter: typeof waitUntilStackCreateComplete,
  c: CloudFormationClient,
  StackName: string,
): Promise<void> {
  try {
    await waiter({ client: c, ...wait }, { StackName })
  } catch (e) {
    const ev = (await c.send(new DescribeStackEventsCommand({ StackName }))).StackEvents ?? []
    const lines = ev.map((x) => `${x.LogicalResourceId} ${x.ResourceStatus} ${x.ResourceStatusReason}`)
    throw new Error(`${StackName}: ${(e as Error).message.slice(0, 80)}\n${lines.reverse().join('\n')}`, {
      cause: e,
    })
  }
}

/** Polls until the stack's status no longer ends in _IN_PROGRESS; returns it. */
async function settled(c: CloudFormationClient, StackName: string): Promise<string> {
  for (let i = 0; i < 300; i++) {
    const s = (await c.send(new DescribeStacksCommand({ StackName }))).Stacks![0]!.StackStatus!
    if (!s.endsWith('_IN_PROGRESS')) return s
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`${StackName} did not settle`)
}

function cfn(c: Creds): CloudFormationClient {
  return new CloudFormationClient({
    endpoint: h.sandbox.endpoint,
    region: 'us-east-1',
    credentials: c,
    maxAttempts: 1,
  })
}

const ci = ACCOUNTS.ci

export const BASE_TEMPLATE = `AWSTemplateFormatVersion: "2010-09-09"
Description: CI base stack
Parameters:
  TargetAccount:
    Type: String
    AllowedPattern: "\\\\d{12}"
Resources:
  ArtifactKey:
    Type: AWS::KMS::Key
    Properties:
      Description: artifact key
      EnableKeyRotation: true
      KeyPolicy:
        Version: "2012-10-17"
        Statement:
          - Sid: Admin
            Effect: Allow
            Principal: { AWS: !Sub "arn:\${AWS::Partition}:iam::\${AWS::AccountId}:root" }
            Action: "kms:*"
            Resource: "*"
          - Sid: Target
            Effect: Allow
            Principal: { AWS: !Sub "arn:\${AWS::Partition}:iam::\${TargetAccount}:root" }
            Action: [kms:Decrypt, kms:DescribeKey]
            Resource: "*"
  ArtifactKeyAlias:
    Type: AWS::KMS::Alias
    Properties:
      AliasName: !Sub alias/\${AWS::StackName}-artifacts
      TargetKeyId: !Ref ArtifactKey
  ArtifactBucket:
    Type: AWS::S3::Bucket
    Properties:
      VersioningConfiguration: { Status: Enabled }
      BucketEncryption:
        ServerSideEncryptionConfiguration:
          - ServerSideEncryptionByDefault: { SSEAlgorithm: aws:kms, KMSMasterKeyID: !GetAtt ArtifactKey.Arn }
      PublicAccessBlockConfiguration:
        BlockPublicAcls: true
        BlockPublicPolicy: true
        IgnorePublicAcls: true
        RestrictPublicBuckets: true
  ArtifactBucketPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref ArtifactBucket
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Sid: TargetRead
            Effect: Allow
            Principal: { AWS: !Sub "arn:\${AWS::Partition}:iam::\${TargetAccount}:root" }
            Action: [s3:GetObject, s3:GetObjectVersion]
            Resource: !Sub "\${ArtifactBucket.Arn}/*"
Outputs:
  KeyArn:
    Value: !GetAtt ArtifactKey.Arn
    Export: { Name: !Sub "\${AWS::StackName}-key-arn" }
  Bucket:
    Value: !Ref ArtifactBucket
`

before(async () => {
  h = await harness()
})
after(async () => {
  await h?.close()
})

test('1. CreateStack of a KMS key, alias, versioned encrypted bucket and bucket policy reaches CREATE_COMPLETE (SDK waiter); resources read back through KMS and S3', async () => {
  const c = cfn(h.creds('ci'))
  const { StackId } = await c.send(
    new CreateStackCommand({
      StackName: 'base',
      TemplateBody: BASE_TEMPLATE,
      Parameters: [{ ParameterKey: 'TargetAccount', ParameterValue: ACCOUNTS.dev }],
    }),
  )
  assert.match(StackId!, new RegExp(`^arn:aws:cloudformation:us-east-1:${ci}:stack/base/`))
  await until(waitUntilStackCreateComplete, c, 'base')
  const { Stacks } = await c.send(new DescribeStacksCommand({ StackName: 'base' }))
  const s = Stacks![0]!
  assert.equal(s.StackStatus, 'CREATE_COMPLETE')
  assert.equal(s.Description, 'CI base stack')
  assert.deepEqual(s.Parameters, [{ ParameterKey: 'TargetAccount', ParameterValue: ACCOUNTS.dev }])
  const out = Object.fromEntries(s.Outputs!.map((o) => [o.OutputKey, o]))
  assert.match(out.KeyArn!.OutputValue!, new RegExp(`^arn:aws:kms:us-east-1:${ci}:key/[0-9a-f-]{36}$`))
  assert.equal(out.KeyArn!.ExportName, 'base-key-arn')
  const bucket = out.Bucket!.OutputValue!
  assert.match(bucket, /^base-artifactbucket-[a-z0-9]{12}$/)

  const { kms, s3 } = h.clients(h.creds('ci'))
  const key = await kms.send(new DescribeKeyCommand({ KeyId: 'alias/base-artifacts' }))
  assert.equal(key.KeyMetadata!.Arn, out.KeyArn!.OutputValue)
  const policy = JSON.parse(
    (await kms.send(new GetKeyPolicyCommand({ KeyId: key.KeyMetadata!.KeyId!, PolicyName: 'default' })))
      .Policy!,
  )
  assert.deepEqual(policy.Statement[1].Principal, { AWS: `arn:aws:iam::${ACCOUNTS.dev}:root` })
  assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status, 'Enabled')
  const bp = JSON.parse((await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy!)
  assert.equal(bp.Statement[0].Resource, `arn:aws:s3:::${bucket}/*`)

  const res = await c.send(new ListStackResourcesCommand({ StackName: 'base' }))
  assert.deepEqual(res.StackResourceSummaries!.map((r) => [r.LogicalResourceId, r.ResourceStatus]).sort(), [
    ['ArtifactBucket', 'CREATE_COMPLETE'],
    ['ArtifactBucketPolicy', 'CREATE_COMPLETE'],
    ['ArtifactKey', 'CREATE_COMPLETE'],
    ['ArtifactKeyAlias', 'CREATE_COMPLETE'],
  ])
  const exports = await c.send(new ListExportsCommand({}))
  assert.deepEqual(
    exports.Exports!.map((e) => [e.Name, e.Value]),
    [['base-key-arn', out.KeyArn!.OutputValue]],
  )
  const tpl = await c.send(new GetTemplateCommand({ StackName: 'base' }))
  assert.equal(tpl.TemplateBody, BASE_TEMPLATE)
})

test('2. change sets through the SDK: an unchanged template gives the exact FAILED reason; a change executes to UPDATE_COMPLETE', async () => {
  const c = cfn(h.creds('ci'))
  await c.send(
    new CreateChangeSetCommand({
      StackName: 'base',
      ChangeSetName: 'same',
      UsePreviousTemplate: true,
      Parameters: [{ ParameterKey: 'TargetAccount', UsePreviousValue: true }],
    }),
  )
  const failed = await waitUntilChangeSetCreateComplete(
    { client: c, ...wait },
    { StackName: 'base', ChangeSetName: 'same' },
  ).catch((e: Error) => e)
  assert.ok(failed instanceof Error)
  const same = await c.send(new DescribeChangeSetCommand({ StackName: 'base', ChangeSetName: 'same' }))
  assert.equal(same.Status, 'FAILED')
  assert.equal(
    same.StatusReason,
    "The submitted information didn't contain changes. Submit different information to create a change set.",
  )

  const err = await failure(
    c.send(
      new UpdateStackCommand({
        StackName: 'base',
        UsePreviousTemplate: true,
        Parameters: [{ ParameterKey: 'TargetAccount', UsePreviousValue: true }],
      }),
    ),
  )
  assert.deepEqual(
    [err.name, err.status, err.message],
    ['ValidationError', 400, 'No updates are to be performed.'],
  )

  await c.send(
    new CreateChangeSetCommand({
      StackName: 'base',
      ChangeSetName: 'target',
      UsePreviousTemplate: true,
      Parameters: [{ ParameterKey: 'TargetAccount', ParameterValue: ACCOUNTS.prod }],
    }),
  )
  await waitUntilChangeSetCreateComplete(
    { client: c, ...wait },
    { StackName: 'base', ChangeSetName: 'target' },
  )
  const cs = await c.send(new DescribeChangeSetCommand({ StackName: 'base', ChangeSetName: 'target' }))
  assert.deepEqual(
    cs
      .Changes!.map((x) => [
        x.ResourceChange!.LogicalResourceId,
        x.ResourceChange!.Action,
        x.ResourceChange!.Replacement,
      ])
      .sort(),
    [
      ['ArtifactBucketPolicy', 'Modify', 'False'],
      ['ArtifactKey', 'Modify', 'False'],
    ],
  )
  await c.send(new ExecuteChangeSetCommand({ StackName: 'base', ChangeSetName: 'target' }))
  await until(waitUntilStackUpdateComplete, c, 'base')
  const { kms } = h.clients(h.creds('ci'))
  const key = await kms.send(new DescribeKeyCommand({ KeyId: 'alias/base-artifacts' }))
  const policy = JSON.parse(
    (await kms.send(new GetKeyPolicyCommand({ KeyId: key.KeyMetadata!.KeyId!, PolicyName: 'default' })))
      .Policy!,
  )
  assert.deepEqual(policy.Statement[1].Principal, { AWS: `arn:aws:iam::${ACCOUNTS.prod}:root` })
})

test('3. RoleARN: the caller needs iam:PassRole; provisioning runs as the role, and a permission it lacks fails the resource with AccessDenied and rolls back', async () => {
  const { iam } = h.clients(h.creds('dev'))
  const dev = ACCOUNTS.dev
  await iam.send(
    new CreateRoleCommand({
      RoleName: 'cloudformation-role',
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'cloudformation.amazonaws.com' },
            Action: 'sts:AssumeRole',
          },
        ],
      }),
    }),
  )
  // The deployment role may manage SSM parameters and nothing else.
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: 'cloudformation-role',
      PolicyName: 'ssm-only',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        // Creating a parameter needs ssm:AddTagsToResource too: CloudFormation tags it
        // (aws-resource-ssm-parameter.html).
        Statement: [
          {
            Effect: 'Allow',
            Action: ['ssm:PutParameter', 'ssm:AddTagsToResource', 'ssm:DeleteParameter'],
            Resource: '*',
          },
        ],
      }),
    }),
  )
  // The caller: an IAM user allowed CloudFormation, but not yet iam:PassRole.
  await iam.send(new CreateUserCommand({ UserName: 'deployer' }))
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'deployer' }))).AccessKey!
  await iam.send(
    new PutUserPolicyCommand({
      UserName: 'deployer',
      PolicyName: 'cfn',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 'cloudformation:*', Resource: '*' }],
      }),
    }),
  )
  const asDeployer = cfn({ accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! })
  const roleArn = `arn:aws:iam::${dev}:role/cloudformation-role`
  const template = JSON.stringify({
    Resources: {
      Param: { Type: 'AWS::SSM::Parameter', Properties: { Name: 'allowed', Type: 'String', Value: 'v' } },
      Topic: { Type: 'AWS::SNS::Topic', DependsOn: 'Param', Properties: { TopicName: 'not-allowed' } },
    },
  })
  const denied = await failure(
    asDeployer.send(new CreateStackCommand({ StackName: 'app', TemplateBody: template, RoleARN: roleArn })),
  )
  assert.equal(denied.name, 'AccessDenied')
  assert.match(
    denied.message,
    /^User: arn:aws:iam::222222222222:user\/deployer is not authorized to perform: iam:PassRole on resource: arn:aws:iam::222222222222:role\/cloudformation-role/,
  )

  await iam.send(
    new PutUserPolicyCommand({
      UserName: 'deployer',
      PolicyName: 'pass',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'iam:PassRole',
            Resource: roleArn,
            Condition: { StringEquals: { 'iam:PassedToService': 'cloudformation.amazonaws.com' } },
          },
        ],
      }),
    }),
  )
  await asDeployer.send(
    new CreateStackCommand({ StackName: 'app', TemplateBody: template, RoleARN: roleArn }),
  )
  // (The SDK's StackRollbackComplete waiter is for UPDATE_ROLLBACK_COMPLETE; a failed create ends in ROLLBACK_COMPLETE.)
  assert.equal(await settled(asDeployer, 'app'), 'ROLLBACK_COMPLETE')
  const events = (await asDeployer.send(new DescribeStackEventsCommand({ StackName: 'app' }))).StackEvents!
  const failedEvent = events.find((e) => e.ResourceStatus === 'CREATE_FAILED')!
  assert.equal(failedEvent.LogicalResourceId, 'Topic')
  assert.match(
    failedEvent.ResourceStatusReason!,
    /^Resource handler returned message: "User: arn:aws:sts::222222222222:assumed-role\/cloudformation-role\/AWSCloudFormation is not authorized to perform: sns:CreateTopic on resource: arn:aws:sns:us-east-1:222222222222:not-allowed because no identity-based policy allows the sns:CreateTopic action .*HandlerErrorCode: AccessDenied\)$/,
  )
  const resources = (await asDeployer.send(new DescribeStackResourcesCommand({ StackName: 'app' })))
    .StackResources!
  assert.deepEqual(resources.map((r) => [r.LogicalResourceId, r.ResourceStatus]).sort(), [
    ['Param', 'DELETE_COMPLETE'],
    ['Topic', 'DELETE_COMPLETE'],
  ])

  // A role whose trust policy does not name CloudFormation cannot be used.
  await iam.send(
    new CreateRoleCommand({
      RoleName: 'untrusted',
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${dev}:root` }, Action: 'sts:AssumeRole' },
        ],
      }),
    }),
  )
  const untrusted = await failure(
    asDeployer.send(
      new CreateStackCommand({
        StackName: 'app2',
        TemplateBody: template,
        RoleARN: `arn:aws:iam::${dev}:role/untrusted`,
      }),
    ),
  )
  // PassRole on it is not granted either: the PassRole check comes first.
  assert.equal(untrusted.name, 'AccessDenied', untrusted.message)
})

test('4. capabilities, template errors and unknown stacks answer with AWS error codes and texts', async () => {
  const c = cfn(h.creds('ci'))
  const trust = {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { Service: 'codebuild.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ],
  }
  const role = JSON.stringify({
    Resources: {
      R: { Type: 'AWS::IAM::Role', Properties: { RoleName: 'named', AssumeRolePolicyDocument: trust } },
    },
  })
  const caps = await failure(c.send(new CreateStackCommand({ StackName: 'iam', TemplateBody: role })))
  assert.deepEqual(
    [caps.name, caps.status, caps.message],
    ['InsufficientCapabilitiesException', 400, 'Requires capabilities : [CAPABILITY_NAMED_IAM]'],
  )
  const missing = await failure(c.send(new DescribeStacksCommand({ StackName: 'nope' })))
  assert.deepEqual([missing.name, missing.message], ['ValidationError', 'Stack with id nope does not exist'])
  const v = await c.send(new ValidateTemplateCommand({ TemplateBody: role }))
  assert.deepEqual(v.Capabilities, ['CAPABILITY_NAMED_IAM'])
  assert.equal(v.CapabilitiesReason, 'The following resource(s) require capabilities: [AWS::IAM::Role]')
  const summary = await c.send(new GetTemplateSummaryCommand({ TemplateBody: BASE_TEMPLATE }))
  assert.deepEqual(summary.ResourceTypes!.sort(), [
    'AWS::KMS::Alias',
    'AWS::KMS::Key',
    'AWS::S3::Bucket',
    'AWS::S3::BucketPolicy',
  ])
  assert.equal(summary.Parameters![0]!.ParameterKey, 'TargetAccount')
  // NoEcho parameters are masked in DescribeStacks.
  await c.send(
    new CreateStackCommand({
      StackName: 'secret',
      TemplateBody: JSON.stringify({
        Parameters: { Token: { Type: 'String', NoEcho: true } },
        Resources: { H: { Type: 'AWS::CloudFormation::WaitConditionHandle' } },
      }),
      Parameters: [{ ParameterKey: 'Token', ParameterValue: 'hunter2' }],
    }),
  )
  assert.deepEqual(
    (await c.send(new DescribeStacksCommand({ StackName: 'secret' }))).Stacks![0]!.Parameters,
    [{ ParameterKey: 'Token', ParameterValue: '****' }],
  )
  const bad = await failure(c.send(new ValidateTemplateCommand({ TemplateBody: '{"Resources": {}}' })))
  assert.deepEqual(
    [bad.name, bad.message],
    ['ValidationError', 'Template format error: At least one Resources member must be defined.'],
  )

  await c.send(
    new CreateStackCommand({ StackName: 'iam', TemplateBody: role, Capabilities: ['CAPABILITY_NAMED_IAM'] }),
  )
  await until(waitUntilStackCreateComplete, c, 'iam')
  const { iam } = h.clients(h.creds('ci'))
  assert.equal(
    (await iam.send(new GetRoleCommand({ RoleName: 'named' }))).Role!.Arn,
    `arn:aws:iam::${ci}:role/named`,
  )
  await c.send(new DeleteStackCommand({ StackName: 'iam' }))
  await waitUntilStackDeleteComplete({ client: c, ...wait }, { StackName: 'iam' })
  assert.equal(
    (await failure(iam.send(new GetRoleCommand({ RoleName: 'named' })))).name,
    'NoSuchEntityException',
  )
})

test('5. DeleteStack: a bucket with objects fails to delete (DELETE_FAILED) until emptied; ListStacks keeps deleted stacks', async () => {
  const c = cfn(h.creds('ci'))
  const { Stacks } = await c.send(new DescribeStacksCommand({ StackName: 'base' }))
  const bucket = Stacks![0]!.Outputs!.find((o) => o.OutputKey === 'Bucket')!.OutputValue!
  const { s3 } = h.clients(h.creds('ci'))
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'a.zip', Body: 'x' }))
  await c.send(new DeleteStackCommand({ StackName: 'base' }))
  const failed = await waitUntilStackDeleteComplete({ client: c, ...wait }, { StackName: 'base' }).catch(
    (e: Error) => e,
  )
  assert.ok(failed instanceof Error)
  const s = (await c.send(new DescribeStacksCommand({ StackName: 'base' }))).Stacks![0]!
  assert.equal(s.StackStatus, 'DELETE_FAILED')
  assert.equal(s.StackStatusReason, 'The following resource(s) failed to delete: [ArtifactBucket]. ')
  const all = await c.send(new ListStacksCommand({ StackStatusFilter: ['DELETE_FAILED'] }))
  assert.deepEqual(
    all.StackSummaries!.map((x) => x.StackName),
    ['base'],
  )
})
