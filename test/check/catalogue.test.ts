// Targeted assertions on the call catalogue: for each action type, exactly the calls it derives
// (who, what, on which resource), so a change to the catalogue cannot pass unnoticed.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { checkSetup } from '../../src/check/index.js'
import type { CheckResult } from '../../src/check/index.js'
import { goodSetup, props } from './helpers.js'

const opsOf = (r: CheckResult, stage: string, action: string) =>
  r.calls
    .filter((c) => c.stage === stage && c.action === action)
    .map((c) => `${c.principal.replace(/^arn:aws:iam::(\d+):role\//, '$1/')} ${c.operation} ${c.resource}`)

const KEY = 'arn:aws:kms:eu-west-1:111111111111:key/{ci-base.ArtifactKey.KeyId}'
const BUCKET = 'arn:aws:s3:::{ci-base.ArtifactBucket.Name}'

test('CloudFormation CHANGE_SET_REPLACE in another account', () => {
  const r = checkSetup(goodSetup())
  assert.deepEqual(opsOf(r, 'StagingDev', 'create-changeset'), [
    `111111111111/pipeline-role sts:AssumeRole arn:aws:iam::222222222222:role/cross-account-role`,
    `222222222222/cross-account-role cloudformation:DescribeStacks arn:aws:cloudformation:eu-west-1:222222222222:stack/app-stack-dev/{stack-id}`,
    `222222222222/cross-account-role cloudformation:DescribeChangeSet arn:aws:cloudformation:eu-west-1:222222222222:stack/app-stack-dev/{stack-id}`,
    `222222222222/cross-account-role cloudformation:DeleteChangeSet arn:aws:cloudformation:eu-west-1:222222222222:stack/app-stack-dev/{stack-id}`,
    `222222222222/cross-account-role cloudformation:CreateChangeSet arn:aws:cloudformation:eu-west-1:222222222222:stack/app-stack-dev/{stack-id}`,
    `222222222222/cross-account-role s3:GetObject ${BUCKET}/pipeline/BuildArtifact/{object}`,
    `222222222222/cross-account-role kms:Decrypt ${KEY}`,
    `222222222222/cross-account-role iam:PassRole arn:aws:iam::222222222222:role/cloudformation-role`,
    `cloudformation.amazonaws.com sts:AssumeRole arn:aws:iam::222222222222:role/cloudformation-role`,
  ])
  assert.deepEqual(opsOf(r, 'StagingDev', 'execute-changeset'), [
    `111111111111/pipeline-role sts:AssumeRole arn:aws:iam::222222222222:role/cross-account-role`,
    `222222222222/cross-account-role cloudformation:DescribeStacks arn:aws:cloudformation:eu-west-1:222222222222:stack/app-stack-dev/{stack-id}`,
    `222222222222/cross-account-role cloudformation:DescribeChangeSet arn:aws:cloudformation:eu-west-1:222222222222:stack/app-stack-dev/{stack-id}`,
    `222222222222/cross-account-role cloudformation:ExecuteChangeSet arn:aws:cloudformation:eu-west-1:222222222222:stack/app-stack-dev/{stack-id}`,
  ])
  assert.deepEqual(
    opsOf(r, 'Production', 'approve'),
    [],
    'a manual approval without notification makes no call',
  )
})

test('CodeCommit source and CodeBuild build', () => {
  const r = checkSetup(goodSetup())
  assert.deepEqual(opsOf(r, 'Source', 'Source'), [
    '111111111111/pipeline-role codecommit:GetBranch arn:aws:codecommit:eu-west-1:111111111111:app',
    '111111111111/pipeline-role codecommit:GetCommit arn:aws:codecommit:eu-west-1:111111111111:app',
    '111111111111/pipeline-role codecommit:UploadArchive arn:aws:codecommit:eu-west-1:111111111111:app',
    '111111111111/pipeline-role codecommit:GetUploadArchiveStatus arn:aws:codecommit:eu-west-1:111111111111:app',
    `111111111111/pipeline-role s3:PutObject ${BUCKET}/pipeline/SourceArtifact/{object}`,
    `111111111111/pipeline-role kms:GenerateDataKey ${KEY}`,
  ])
  const build = opsOf(r, 'Build', 'Build')
  assert.deepEqual(
    build.map((x) => x.split(' ').slice(0, 2).join(' ')),
    [
      '111111111111/pipeline-role codebuild:StartBuild',
      '111111111111/pipeline-role codebuild:BatchGetBuilds',
      'codebuild.amazonaws.com sts:AssumeRole',
      '111111111111/{ci-pipeline.BuildRole.Name} logs:CreateLogGroup',
      '111111111111/{ci-pipeline.BuildRole.Name} logs:CreateLogStream',
      '111111111111/{ci-pipeline.BuildRole.Name} logs:PutLogEvents',
      '111111111111/{ci-pipeline.BuildRole.Name} s3:GetObject',
      '111111111111/{ci-pipeline.BuildRole.Name} kms:Decrypt',
      '111111111111/{ci-pipeline.BuildRole.Name} s3:PutObject',
      '111111111111/{ci-pipeline.BuildRole.Name} kms:GenerateDataKey',
    ],
  )
})

test('S3 and connection sources, approval with notification, Lambda invoke, S3 deploy', () => {
  const s = goodSetup()
  const stages = props(s, 'ci-pipeline.yaml', 'Pipeline').Stages
  stages[0].Actions[0] = {
    Name: 'Source',
    ActionTypeId: { Category: 'Source', Owner: 'AWS', Provider: 'S3', Version: '1' },
    Configuration: { S3Bucket: 'src-bucket', S3ObjectKey: 'app.zip' },
    OutputArtifacts: [{ Name: 'SourceArtifact' }],
  }
  stages[0].Actions.push({
    Name: 'Other',
    ActionTypeId: { Category: 'Source', Owner: 'AWS', Provider: 'CodeStarSourceConnection', Version: '1' },
    Configuration: {
      ConnectionArn: 'arn:aws:codeconnections:eu-west-1:111111111111:connection/x',
      FullRepositoryId: 'o/r',
      BranchName: 'main',
    },
    OutputArtifacts: [{ Name: 'Other' }],
  })
  stages[3].Actions[0].Configuration = { NotificationArn: 'arn:aws:sns:eu-west-1:111111111111:approvals' }
  stages[3].Actions.push(
    {
      Name: 'smoke',
      ActionTypeId: { Category: 'Invoke', Owner: 'AWS', Provider: 'Lambda', Version: '1' },
      Configuration: { FunctionName: 'smoke' },
      RunOrder: 4,
    },
    {
      Name: 'site',
      ActionTypeId: { Category: 'Deploy', Owner: 'AWS', Provider: 'S3', Version: '1' },
      Configuration: { BucketName: 'site', Extract: 'true' },
      InputArtifacts: [{ Name: 'BuildArtifact' }],
      RunOrder: 4,
    },
  )
  const r = checkSetup(s)
  assert.deepEqual(
    opsOf(r, 'Source', 'Source').map((x) => x.split(' ').slice(1).join(' ')),
    [
      's3:GetObject arn:aws:s3:::src-bucket/app.zip',
      's3:GetObjectVersion arn:aws:s3:::src-bucket/app.zip',
      's3:GetBucketVersioning arn:aws:s3:::src-bucket',
      `s3:PutObject ${BUCKET}/pipeline/SourceArtifact/{object}`,
      `kms:GenerateDataKey ${KEY}`,
    ],
  )
  assert.equal(
    opsOf(r, 'Source', 'Other')[0],
    '111111111111/pipeline-role codeconnections:UseConnection arn:aws:codeconnections:eu-west-1:111111111111:connection/x',
  )
  assert.deepEqual(opsOf(r, 'Production', 'approve'), [
    '111111111111/pipeline-role sns:Publish arn:aws:sns:eu-west-1:111111111111:approvals',
  ])
  assert.deepEqual(opsOf(r, 'Production', 'smoke'), [
    '111111111111/pipeline-role lambda:InvokeFunction arn:aws:lambda:eu-west-1:111111111111:function:smoke',
  ])
  assert.deepEqual(
    opsOf(r, 'Production', 'site').map((x) => x.split(' ').slice(1, 2).join(' ')),
    ['s3:GetObject', 'kms:Decrypt', 's3:PutObject'],
  )
  // The pipeline role's policy does not allow these new calls: each is reported, with its fix.
  assert.ok(r.findings.every((f) => f.rule === 'call-denied'))
  assert.ok(
    r.findings.some(
      (f) => f.message.includes('lambda:InvokeFunction') && f.fix?.includes('Action: lambda:InvokeFunction'),
    ),
  )
})
