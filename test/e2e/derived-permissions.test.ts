/**
 * Issue 15, part 2: deployment roles derived from the application template
 * (`deployPermissions: { fromTemplate: true }`), end to end with the built CLI in the sandbox.
 * 1. The init example, with derived permissions in dev and prod, deploys through the pipeline.
 * 2. A template with an IAM role, a Lambda function whose code is the build artifact, an SQS
 *    queue, an SNS topic, SSM parameters, a DynamoDB table, a log group, a managed and an inline
 *    IAM policy, an EventBridge rule, a KMS key and its alias deploys with derived permissions,
 *    no AccessDenied.
 *    The stacks have tags (the stage's template configuration file, parametersFile), which
 *    CloudFormation puts on every resource: the derived tag statements cover them. An SSM
 *    parameter without a name is scoped to the name its handler generates, CFN-<logical id>-*.
 * 3. Removing any one derived statement of the dev deployment role (tag statements included)
 *    makes `crosspipe check` deny a call of that resource and the sandbox deploy fail on that
 *    resource, naming the same action.
 * Needs git.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { sandboxAccess } from '../../src/aws/index.js'
import { readSandboxState } from '../../src/sandbox/index.js'
import { cli, commit, edit, expectExit, tempDir } from './helpers.js'

const dir = tempDir('crosspipe-e2e-derived-')
const state = join(dir, '.crosspipe', 'sandbox')
const DEV = '222222222222'
const PROD = '333333333333'
const devTarget = join(dir, 'crosspipe.out', `my-app-target-${DEV}-eu-west-1.template.yaml`)

before(() => {
  expectExit(cli(['init'], { cwd: dir }), 0, 'init')
  // Both stages derive their deployment role from template.yml.
  for (const env of ['dev', 'prod'])
    edit(
      join(dir, 'crosspipe.yml'),
      `      Environment: ${env}\n`,
      `      Environment: ${env}\n    deployPermissions:\n      fromTemplate: true\n`,
    )
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: dir })
  commit(dir, 'The init example with derived deployment permissions')
  expectExit(
    cli(['sandbox', '--detach', '--port', '0', '--reset', '--state', state], { cwd: dir }),
    0,
    'sandbox',
  )
  expectExit(
    cli(['sandbox', 'repo', 'add', 'my-app', dir, '--region', 'eu-west-1', '--state', state], { cwd: dir }),
    0,
    'repo add',
  )
})
after(() => cli(['sandbox', 'stop', '--state', state], { cwd: dir }))

function access() {
  const s = readSandboxState(state)!
  return sandboxAccess({
    endpointUrl: s.endpoint,
    credentialsFile: s.credentialsFile,
    configFile: s.configFile,
    profiles: Object.fromEntries(s.accounts.map((a) => [a.id, a.name])),
  })
}
const stackStatus = async (account: string, name: string) =>
  (await access().cloudFormation({ account, region: 'eu-west-1' }).describeStack(name))?.status

/** Runs the pipeline to its end (approving prod with review) and returns the last run's output. */
async function runThrough(): Promise<string> {
  let r = cli(['run', '--sandbox', '--state', state, '--timeout', '120'], { cwd: dir })
  if (/waiting for approval at prod/.test(r.stdout)) {
    expectExit(cli(['approve', 'prod', '--sandbox', '--state', state], { cwd: dir }), 0, 'approve')
    for (let i = 0; i < 150; i++) {
      r = cli(['status', '--sandbox', '--state', state], { cwd: dir })
      if (!/InProgress/.test(r.stdout.split('\n')[0]!)) break
      await new Promise((res) => setTimeout(res, 200))
    }
  }
  return r.stdout + r.stderr
}

test('the init example deploys with deployment roles derived from its template', async () => {
  const synth = expectExit(cli(['synth'], { cwd: dir }), 0, 'synth')
  assert.match(synth.stdout, /stage prod: deployment role statements derived from template\.yml/)
  assert.match(
    synth.stdout,
    /BucketNameParameter: ssm:DeleteParameter, ssm:GetParameters, ssm:PutParameter\n {4}on arn:aws:ssm:eu-west-1:333333333333:parameter\/my-app\/prod\/data-bucket/,
  )
  // CloudFormation always tags a parameter it creates (aws-resource-ssm-parameter.html); the
  // stack has no tags and the bucket none of its own, so the bucket gets no tag statement.
  assert.match(
    synth.stdout,
    /BucketNameParameterTags: ssm:AddTagsToResource, ssm:RemoveTagsFromResource\n {4}on arn:aws:ssm:eu-west-1:333333333333:parameter\/my-app\/prod\/data-bucket/,
  )
  assert.doesNotMatch(synth.stdout, /DataBucketTags/)
  assert.doesNotMatch(readFileSync(devTarget, 'utf8'), /PowerUserAccess/)
  expectExit(cli(['check'], { cwd: dir }), 0, 'check')
  expectExit(cli(['deploy', '--sandbox', '--state', state], { cwd: dir }), 0, 'deploy')
  // The pipeline started when it was created; wait for it at the prod approval, then approve.
  for (let i = 0; i < 300; i++) {
    const s = cli(['status', '--sandbox', '--state', state], { cwd: dir })
    if (/waiting for approval at prod/.test(s.stdout)) break
    await new Promise((res) => setTimeout(res, 200))
  }
  expectExit(cli(['approve', 'prod', '--sandbox', '--state', state], { cwd: dir }), 0, 'approve')
  for (let i = 0; i < 150 && (await stackStatus(PROD, 'my-app-prod')) !== 'CREATE_COMPLETE'; i++)
    await new Promise((res) => setTimeout(res, 200))
  assert.equal(await stackStatus(DEV, 'my-app-dev'), 'CREATE_COMPLETE')
  assert.equal(await stackStatus(PROD, 'my-app-prod'), 'CREATE_COMPLETE')
})

const RICH = `AWSTemplateFormatVersion: "2010-09-09"
Description: A role, a function whose code is the build artifact, a queue, a topic and a parameter.
Parameters:
  Environment: { Type: String }
  CodeBucket: { Type: String }
  CodeKey: { Type: String }
Resources:
  FnRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !Sub \${AWS::StackName}-fn
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: { Service: lambda.amazonaws.com }
            Action: sts:AssumeRole
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: nodejs20.x
      Handler: index.handler
      Role: !GetAtt FnRole.Arn
      Code:
        S3Bucket: !Ref CodeBucket
        S3Key: !Ref CodeKey
  Queue:
    Type: AWS::SQS::Queue
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: !Sub \${AWS::StackName}-events
  Param:
    Type: AWS::SSM::Parameter
    Properties:
      Name: !Sub /my-app/\${Environment}/queue
      Type: String
      Value: !GetAtt Queue.Arn
  Unnamed:
    Type: AWS::SSM::Parameter
    Properties:
      Type: String
      Value: !GetAtt Topic.TopicName
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub \${AWS::StackName}-items
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{ AttributeName: id, AttributeType: S }]
      KeySchema: [{ AttributeName: id, KeyType: HASH }]
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      RetentionInDays: 7
  Managed:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      Roles: [!Ref FnRole]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - { Effect: Allow, Action: dynamodb:GetItem, Resource: !GetAtt Table.Arn }
  Inline:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: logs
      Roles: [!Ref FnRole]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - { Effect: Allow, Action: logs:PutLogEvents, Resource: !GetAtt Logs.Arn }
  Rule:
    Type: AWS::Events::Rule
    Properties:
      ScheduleExpression: rate(1 day)
      Targets: [{ Id: fn, Arn: !GetAtt Fn.Arn }]
  Key:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: true
  KeyAlias:
    Type: AWS::KMS::Alias
    Properties:
      AliasName: !Sub alias/\${AWS::StackName}-data
      TargetKeyId: !Ref Key
`
/** The stages' template configuration file: stack tags, which CloudFormation puts on every resource. */
const CONFIG = JSON.stringify({ Tags: { team: 'payments', 'cost-center': '42' } })

test('a role, a Lambda function (code from the artifact), a queue, a topic and a parameter deploy with derived permissions', async () => {
  writeFileSync(join(dir, 'template.yml'), RICH)
  writeFileSync(join(dir, 'stack-config.json'), CONFIG)
  edit(join(dir, 'buildspec.yml'), '    - template.yml\n', '    - template.yml\n    - stack-config.json\n')
  for (const env of ['dev', 'prod'])
    edit(
      join(dir, 'crosspipe.yml'),
      `      Environment: ${env}\n`,
      `      Environment: ${env}\n      CodeBucket: { "Fn::GetArtifactAtt": [BuildOutput, BucketName] }\n      CodeKey: { "Fn::GetArtifactAtt": [BuildOutput, ObjectKey] }\n    parametersFile: stack-config.json\n    capabilities: [CAPABILITY_NAMED_IAM]\n    readArtifacts: true\n`,
    )
  execFileSync('git', ['add', 'stack-config.json'], { cwd: dir })
  commit(dir, 'A richer application')
  const synth = expectExit(cli(['synth'], { cwd: dir }), 0, 'synth')
  assert.match(
    synth.stdout,
    /FnPassRole: iam:PassRole\n {4}on arn:aws:iam::333333333333:role\/my-app-prod-fn if \{"StringEquals":\{"iam:PassedToService":"lambda.amazonaws.com"\}\}/,
  )
  assert.match(
    synth.stdout,
    /Queue: sqs:CreateQueue.*\n {4}on arn:aws:sqs:eu-west-1:333333333333:my-app-prod-\*/,
  )
  // The stack's tags reach every resource: each gets its type's tag actions.
  for (const [sid, actions] of [
    ['FnRoleTags', 'iam:TagRole, iam:UntagRole'],
    ['FnTags', 'lambda:TagResource, lambda:UntagResource'],
    ['QueueTags', 'sqs:TagQueue, sqs:UntagQueue'],
    ['TopicTags', 'sns:TagResource, sns:UntagResource'],
  ])
    assert.match(synth.stdout, new RegExp(`${sid}: ${actions}\n`), sid)
  // A parameter without a name: its handler names it CFN-<logical id>-<random>.
  assert.match(
    synth.stdout,
    /Unnamed: ssm:DeleteParameter, ssm:GetParameters, ssm:PutParameter\n {4}on arn:aws:ssm:eu-west-1:333333333333:parameter\/CFN-Unnamed-\*/,
  )
  // check reads the stack's tags from the configuration file next to the definition.
  const checked = expectExit(cli(['check', '--json'], { cwd: dir }), 0, 'check')
  const calls = JSON.parse(checked.stdout).calls as { operation: string; decision: string }[]
  for (const op of ['iam:TagRole', 'lambda:TagResource', 'sqs:TagQueue', 'sns:TagResource'])
    assert.ok(
      calls.some((c) => c.operation === op && c.decision === 'Allowed'),
      `check evaluates ${op} for the stack's tags`,
    )
  expectExit(cli(['deploy', '--sandbox', '--state', state], { cwd: dir }), 0, 'deploy')
  const out = await runThrough()
  assert.doesNotMatch(out, /AccessDenied|not authorized/)
  for (let i = 0; i < 150 && (await stackStatus(PROD, 'my-app-prod')) !== 'UPDATE_COMPLETE'; i++)
    await new Promise((res) => setTimeout(res, 200))
  assert.equal(await stackStatus(DEV, 'my-app-dev'), 'UPDATE_COMPLETE')
  assert.equal(await stackStatus(PROD, 'my-app-prod'), 'UPDATE_COMPLETE')
})

/** The Sid of every statement of the dev deployment role's inline policy. */
function sids(): string[] {
  const t = readFileSync(devTarget, 'utf8')
  const start = t.indexOf('\n  DeploymentRoleDev:')
  const end = t.slice(start + 1).search(/\n {2}[A-Za-z]/)
  const role = t.slice(start, end < 0 ? undefined : start + 1 + end)
  return [...role.matchAll(/- Sid: (\w+)/g)].map((m) => m[1]!)
}

/** Removes one statement (by Sid) from the dev deployment role in the synthesized template. */
function withoutStatement(sid: string): void {
  const t = readFileSync(devTarget, 'utf8')
  const start = t.indexOf(`- Sid: ${sid}\n`)
  assert.ok(start > 0, `statement ${sid}`)
  const indent = t.lastIndexOf('\n', start)
  const pad = start - indent - 1
  const next = t.slice(start + 1).search(new RegExp(`\\n {${pad}}- |\\n {0,${pad - 1}}\\S`))
  writeFileSync(devTarget, t.slice(0, indent + 1) + t.slice(start + 1 + next + 1))
}

test('removing any one derived statement: check and the sandbox deploy fail on the same resource and action', async () => {
  expectExit(cli(['synth'], { cwd: dir }), 0, 'synth')
  const original = readFileSync(devTarget, 'utf8')
  const resources = [
    'FnRole',
    'Fn',
    'FnPassRole',
    'Queue',
    'Topic',
    'Param',
    'Unnamed',
    'Table',
    'Logs',
    'Managed',
    'Rule',
    // Key and KeyAliasCreateAlias (calls on the key) are decided by the key policy too, which
    // check cannot see before the key exists: the sandbox alone checks them.
    'KeyCreateKey',
    'KeyAlias',
  ]
  const tagStatements = [
    'FnRoleTags',
    'FnTags',
    'QueueTags',
    'TopicTags',
    'ParamTags',
    'UnnamedTags',
    'TableTags',
    'LogsTags',
  ]
  // Attaching Managed to FnRole and putting Inline in it are allowed by FnRole's own statement
  // (its handlers' iam:AttachRolePolicy, iam:PutRolePolicy on it): no statement of their own.
  assert.ok(!sids().some((s) => /^(Managed|Inline)./.test(s)), sids().join())
  const derived = sids().filter((s) => [...resources, ...tagStatements].includes(s))
  assert.deepEqual(derived.sort(), [...resources, ...tagStatements].sort())
  const cfn = access().cloudFormation({ account: DEV, region: 'eu-west-1' })
  const gone = async () => {
    for (let i = 0; i < 100 && (await stackStatus(DEV, 'my-app-dev')) !== undefined; i++)
      await new Promise((res) => setTimeout(res, 100))
    assert.equal(await stackStatus(DEV, 'my-app-dev'), undefined)
  }
  // Each round creates the dev stack from scratch; delete it while the role still has every statement.
  await cfn.deleteStack('my-app-dev')
  await gone()
  for (const sid of derived) {
    writeFileSync(devTarget, original)
    withoutStatement(sid)
    const manifest = join(dir, 'crosspipe.out', 'manifest.json')
    const check = expectExit(
      cli(['check', '-m', manifest, '--app-template', 'template.yml', '--json'], { cwd: dir }),
      1,
      `check without ${sid}`,
    )
    const denied = (
      JSON.parse(check.stdout).calls as { decision: string; operation: string; principal: string }[]
    ).filter((c) => c.decision !== 'Allowed')
    assert.ok(
      denied.length > 0 && denied.every((c) => c.principal.endsWith(':role/my-app-dev-cfn-eu-west-1')),
      sid,
    )
    // The same change deployed: the dev stack created from scratch fails on that resource.
    expectExit(
      cli(['deploy', '--sandbox', '--state', state, '-m', manifest], { cwd: dir }),
      0,
      `deploy without ${sid}`,
    )
    const run = cli(['run', '--sandbox', '--state', state, '--timeout', '120'], { cwd: dir })
    assert.equal(run.code, 1, `run without ${sid}:\n${run.stdout}${run.stderr}`)
    const said = /not authorized to perform: ([\w-]+:\w+)/.exec(run.stdout + run.stderr)?.[1]
    assert.ok(said, `the sandbox names the action (without ${sid}):\n${run.stdout}${run.stderr}`)
    assert.ok(
      denied.some((c) => c.operation === said),
      `without ${sid}: the sandbox denied ${said}; check denied ${denied.map((c) => c.operation).join(', ')}`,
    )
    const events = await cfn.describeStackEvents('my-app-dev')
    const failed = events.find((e) => e.status === 'CREATE_FAILED' && e.reason?.includes(said))
    const logical = sid.replace(/(PassRole|CreateKey|CreateAlias|Tags)$/, '')
    assert.equal(failed?.logicalId, logical, `without ${sid} the failed resource`)
    if (tagStatements.includes(sid))
      assert.match(said, /:(Tag|AddTags)/, `without ${sid} the denied action tags the resource`)
    // The failed creation rolled back what it made; the empty stack goes.
    await cfn.deleteStack('my-app-dev')
    await gone()
  }
  writeFileSync(devTarget, original)
})
