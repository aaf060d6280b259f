// CloudFormation's wire side, declared from AWS's model (src/sandbox/services/cloudformation/api.ts
// over src/sandbox/operations): bad input answered with AWS's validation messages, through the SDK
// v3, the AWS CLI v1 and v2 and boto3; answers that parse in boto3 into the model's types, and whose
// XML has the model's member order and list shapes.
// Needs `aws` (v1), `/usr/bin/aws` (v2, `apt-get install awscli`) and python3 with boto3: each test
// says why it is skipped otherwise. The messages need models built with constraints (botocore).
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawnSync } from 'node:child_process'
import {
  CloudFormationClient,
  CreateChangeSetCommand,
  CreateStackCommand,
  DescribeStacksCommand,
  GetTemplateCommand,
  type CreateStackCommandInput,
} from '@aws-sdk/client-cloudformation'
import { serviceModel } from '../../../src/sandbox/operations/index.js'
import { clientEnv, failure, harness, signRaw, type Harness, skipModelMessages } from '../helpers.js'

const hasV1 = /^aws-cli\/1\./.test(spawnSync('aws', ['--version'], { encoding: 'utf8' }).stdout ?? '')
const v2Out = spawnSync('/usr/bin/aws', ['--version'], { encoding: 'utf8' })
const hasV2 = /^aws-cli\/2\./.test(`${v2Out.stdout ?? ''}${v2Out.stderr ?? ''}`)
const hasBoto3 = spawnSync('python3', ['-c', 'import boto3'], { stdio: 'ignore' }).status === 0
// Why a test of the model's messages cannot run here, or false (helpers.ts).
const noConstraints = skipModelMessages('cloudformation')

let h: Harness
let cfn: CloudFormationClient
before(async () => {
  h = await harness()
  cfn = new CloudFormationClient({
    endpoint: h.sandbox.endpoint,
    region: 'us-east-1',
    credentials: h.creds('dev'),
    maxAttempts: 1,
  })
})
after(async () => {
  cfn?.destroy()
  await h?.close()
})

const TOPIC = JSON.stringify({ Resources: { T: { Type: 'AWS::SNS::Topic' } } })

function run(bin: string, args: string[]): Promise<{ status: number; out: string; err: string }> {
  const env = clientEnv(h.dir, 'dev')
  return new Promise((resolve) => {
    execFile(bin, args, { env, encoding: 'utf8', timeout: 90_000 }, (error, out, err) =>
      resolve({ status: error ? (typeof error.code === 'number' ? error.code : -1) : 0, out, err }),
    )
  })
}

test('SDK v3: CreateStack without StackName is the model ValidationError (the SDK checks nothing)', async () => {
  const f = await failure(
    cfn.send(new CreateStackCommand({ TemplateBody: TOPIC } as unknown as CreateStackCommandInput)),
  )
  assert.deepEqual(f, {
    name: 'ValidationError',
    status: 400,
    message:
      "1 validation error detected: Value null at 'stackName' failed to satisfy constraint: Member must not be null",
  })
})

test('SDK v3: a stack name over 128 characters is refused before anything is created', async () => {
  const long = 'a'.repeat(129)
  for (const send of [
    () => cfn.send(new CreateStackCommand({ StackName: long, TemplateBody: TOPIC })),
    () =>
      cfn.send(
        new CreateChangeSetCommand({
          StackName: long,
          ChangeSetName: 'cs',
          ChangeSetType: 'CREATE',
          TemplateBody: TOPIC,
        }),
      ),
  ]) {
    const f = await failure(send())
    assert.deepEqual(f, {
      name: 'ValidationError',
      status: 400,
      message: 'Stack name cannot exceed 128 characters',
    })
  }
  // 128 characters is a valid name.
  const ok = await cfn.send(new CreateStackCommand({ StackName: 'a'.repeat(128), TemplateBody: TOPIC }))
  assert.match(ok.StackId ?? '', /:stack\/a{128}\//)
  const gone = await failure(cfn.send(new DescribeStacksCommand({ StackName: long })))
  assert.equal(gone.message, `Stack with id ${long} does not exist`)
})

test(
  'AWS CLI v1: create-stack with an OnFailure outside the enum is the model enum ValidationError',
  { skip: !hasV1 ? 'the AWS CLI v1 is not `aws` on this PATH' : noConstraints },
  async () => {
    // The CLI checks no enums itself, so the request reaches the sandbox.
    const r = await run('aws', [
      'cloudformation',
      'create-stack',
      '--stack-name',
      'enum-v1',
      '--template-body',
      TOPIC,
      '--on-failure',
      'EXPLODE',
    ])
    assert.notEqual(r.status, 0)
    assert.ok(
      r.err.includes(
        "An error occurred (ValidationError) when calling the CreateStack operation: 1 validation error detected: Value 'EXPLODE' at 'onFailure' failed to satisfy constraint: Member must satisfy enum value set: [DO_NOTHING, ROLLBACK, DELETE]",
      ),
      r.err,
    )
    const d = await run('aws', ['cloudformation', 'describe-stacks', '--stack-name', 'enum-v1'])
    assert.match(d.err, /Stack with id enum-v1 does not exist/)
  },
)

test(
  'AWS CLI v2: create-change-set with a bad name and type lists both violations in model order',
  {
    skip: !hasV2 ? 'the AWS CLI v2 is not installed as /usr/bin/aws (apt-get install awscli)' : noConstraints,
  },
  async () => {
    const r = await run('/usr/bin/aws', [
      'cloudformation',
      'create-change-set',
      '--stack-name',
      'cs-v2',
      '--change-set-name',
      '1bad',
      '--change-set-type',
      'REPLACE',
      '--template-body',
      TOPIC,
      '--endpoint-url',
      h.sandbox.endpoint,
    ])
    assert.notEqual(r.status, 0)
    assert.ok(
      r.err.includes(
        "An error occurred (ValidationError) when calling the CreateChangeSet operation: 2 validation errors detected: Value '1bad' at 'changeSetName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*; Value 'REPLACE' at 'changeSetType' failed to satisfy constraint: Member must satisfy enum value set: [CREATE, UPDATE, IMPORT]",
      ),
      r.err,
    )
  },
)

/** One item of a list in a boto3 answer. */
type Row = Record<string, unknown>

/** A boto3 script's JSON result; the prelude makes `cfn` (without client-side checks) and `err`. */
async function boto3(script: string): Promise<any> {
  const prelude = `
import json, datetime, boto3
from botocore.config import Config
from botocore.exceptions import ClientError
# Without client-side checks, so that every constraint is the server's to find.
cfn = boto3.client('cloudformation', config=Config(parameter_validation=False, retries={'max_attempts': 1}))
def err(f):
    try:
        f()
    except ClientError as e:
        return {'code': e.response['Error']['Code'], 'message': e.response['Error']['Message'], 'status': e.response['ResponseMetadata']['HTTPStatusCode']}
    return None
def types(v):
    if isinstance(v, dict): return {k: types(x) for k, x in v.items() if k != 'ResponseMetadata'}
    if isinstance(v, list): return [types(x) for x in v]
    if isinstance(v, datetime.datetime): return 'datetime' if v.tzinfo is not None else 'naive datetime'
    return v
`
  const r = await run('python3', ['-c', prelude + script])
  assert.equal(r.status, 0, r.err)
  return JSON.parse(r.out)
}

test(
  'boto3: nested members and list items are validated at their model paths',
  { skip: !hasBoto3 ? 'python3 with boto3 is not installed' : noConstraints },
  async () => {
    const out = await boto3(`
print(json.dumps({
  'tag': err(lambda: cfn.create_stack(StackName='tags', TemplateBody=${JSON.stringify(TOPIC)}, Tags=[{'Key': 'team'}])),
  'filter': err(lambda: cfn.list_stacks(StackStatusFilter=['CREATE_COMPLETE', 'NOPE'])),
  'token': err(lambda: cfn.describe_stacks(NextToken='')),
}))
`)
    assert.deepEqual(out.tag, {
      code: 'ValidationError',
      status: 400,
      message:
        "1 validation error detected: Value null at 'tags.1.member.value' failed to satisfy constraint: Member must not be null",
    })
    const statuses = serviceModel('cloudformation').shapes['StackStatus']!.enum!
    assert.equal(
      out.filter.message,
      `1 validation error detected: Value '[CREATE_COMPLETE, NOPE]' at 'stackStatusFilter' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [${statuses.join(', ')}]]`,
    )
    assert.equal(
      out.token.message,
      "1 validation error detected: Value '' at 'nextToken' failed to satisfy constraint: Member must have length greater than or equal to 1",
    )
  },
)

const FULL = JSON.stringify({
  Description: 'wire shapes',
  Parameters: {
    Size: { Type: 'Number', Default: 2, AllowedValues: [1, 2, 3], Description: 'how many' },
    Secret: { Type: 'String', NoEcho: true },
  },
  Resources: {
    Topic: { Type: 'AWS::SNS::Topic', Metadata: { note: 'kept' } },
    Role: {
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { Service: 'codebuild.amazonaws.com' }, Action: 'sts:AssumeRole' },
          ],
        },
      },
    },
  },
  Outputs: {
    TopicArn: { Value: { Ref: 'Topic' }, Description: 'the topic', Export: { Name: 'wire-topic' } },
  },
})

test(
  'boto3: every answer parses into the model types (dates, booleans, integers, lists, nested structures)',
  { skip: hasBoto3 ? false : 'python3 with boto3 is not installed' },
  async () => {
    const out = await boto3(`
body = ${JSON.stringify(FULL)}
more = json.loads(body)
more['Resources']['Extra'] = {'Type': 'AWS::SNS::Topic'}
more = json.dumps(more)
sid = cfn.create_stack(StackName='wire', TemplateBody=body, Capabilities=['CAPABILITY_IAM'], TimeoutInMinutes=5,
  Parameters=[{'ParameterKey': 'Secret', 'ParameterValue': 'hush'}], Tags=[{'Key': 'team', 'Value': 'ops'}])['StackId']
cfn.get_waiter('stack_create_complete').wait(StackName='wire', WaiterConfig={'Delay': 1, 'MaxAttempts': 60})
cs = cfn.create_change_set(StackName='wire', ChangeSetName='more', TemplateBody=more, Capabilities=['CAPABILITY_IAM'],
  Parameters=[{'ParameterKey': 'Size', 'ParameterValue': '3'}, {'ParameterKey': 'Secret', 'UsePreviousValue': True}])
cfn.get_waiter('change_set_create_complete').wait(StackName='wire', ChangeSetName='more', WaiterConfig={'Delay': 1, 'MaxAttempts': 60})
print(json.dumps({
  'sid': sid,
  'stack': types(cfn.describe_stacks(StackName='wire')['Stacks'][0]),
  'summaries': types([s for s in cfn.list_stacks()['StackSummaries'] if s['StackName'] == 'wire']),
  'events': types(cfn.describe_stack_events(StackName='wire')['StackEvents'][0]),
  'resource': types(cfn.describe_stack_resource(StackName='wire', LogicalResourceId='Topic')['StackResourceDetail']),
  'resources': types(cfn.describe_stack_resources(StackName='wire')['StackResources']),
  'listed': types(cfn.list_stack_resources(StackName='wire')['StackResourceSummaries']),
  'template': types(cfn.get_template(StackName='wire')),
  'summary': types(cfn.get_template_summary(StackName='wire')),
  'validated': types(cfn.validate_template(TemplateBody=body)),
  'changeSet': types(cfn.describe_change_set(StackName='wire', ChangeSetName='more')),
  'changeSets': types(cfn.list_change_sets(StackName='wire')['Summaries']),
  'exports': types(cfn.list_exports()['Exports']),
  'policy': types(cfn.get_stack_policy(StackName='wire')),
  'protection': types(cfn.update_termination_protection(StackName='wire', EnableTerminationProtection=True)),
}))
`)
    const s = out.stack
    assert.equal(s.StackId, out.sid)
    assert.equal(s.StackStatus, 'CREATE_COMPLETE')
    assert.equal(s.Description, 'wire shapes')
    assert.equal(s.CreationTime, 'datetime')
    assert.equal(s.DisableRollback, false)
    assert.equal(s.EnableTerminationProtection, false)
    assert.equal(s.TimeoutInMinutes, 5)
    assert.deepEqual(s.Capabilities, ['CAPABILITY_IAM'])
    assert.deepEqual(s.NotificationARNs, [])
    assert.deepEqual(s.Tags, [{ Key: 'team', Value: 'ops' }])
    assert.deepEqual(s.RollbackConfiguration, {})
    assert.deepEqual(s.DriftInformation, { StackDriftStatus: 'NOT_CHECKED' })
    assert.deepEqual(
      [...s.Parameters].sort((a: Row, b: Row) =>
        String(a['ParameterKey']).localeCompare(String(b['ParameterKey'])),
      ),
      [
        { ParameterKey: 'Secret', ParameterValue: '****' },
        { ParameterKey: 'Size', ParameterValue: '2' },
      ],
    )
    assert.equal(s.Outputs.length, 1)
    assert.equal(s.Outputs[0].OutputKey, 'TopicArn')
    assert.equal(s.Outputs[0].Description, 'the topic')
    assert.equal(s.Outputs[0].ExportName, 'wire-topic')
    assert.match(s.Outputs[0].OutputValue, /^arn:aws:sns:us-east-1:222222222222:/)

    assert.deepEqual(
      { ...out.summaries[0], StackId: undefined },
      {
        StackId: undefined,
        StackName: 'wire',
        TemplateDescription: 'wire shapes',
        CreationTime: 'datetime',
        StackStatus: 'CREATE_COMPLETE',
        DriftInformation: { StackDriftStatus: 'NOT_CHECKED' },
      },
    )
    assert.equal(out.events.Timestamp, 'datetime')
    assert.equal(out.events.StackName, 'wire')
    assert.equal(out.resource.LastUpdatedTimestamp, 'datetime')
    assert.equal(out.resource.Metadata, JSON.stringify({ note: 'kept' }))
    assert.deepEqual(out.resource.DriftInformation, { StackResourceDriftStatus: 'NOT_CHECKED' })
    assert.deepEqual(out.resources.map((r: Row) => r['LogicalResourceId']).sort(), ['Role', 'Topic'])
    assert.ok(
      out.resources.every((r: any) => r.Timestamp === 'datetime' && r.ResourceStatus === 'CREATE_COMPLETE'),
    )
    assert.deepEqual(out.listed.map((r: Row) => r['ResourceType']).sort(), [
      'AWS::IAM::Role',
      'AWS::SNS::Topic',
    ])

    // boto3 parses a JSON TemplateBody into a dict (its own customization).
    assert.equal(out.template.TemplateBody.Description, 'wire shapes')
    assert.deepEqual(out.template.StagesAvailable, ['Original', 'Processed'])

    const size = out.summary.Parameters.find((p: any) => p.ParameterKey === 'Size')
    assert.deepEqual(size, {
      ParameterKey: 'Size',
      DefaultValue: '2',
      ParameterType: 'Number',
      NoEcho: false,
      Description: 'how many',
      ParameterConstraints: { AllowedValues: ['1', '2', '3'] },
    })
    assert.equal(out.summary.Parameters.find((p: any) => p.ParameterKey === 'Secret').NoEcho, true)
    assert.deepEqual(out.summary.Capabilities, ['CAPABILITY_IAM'])
    assert.equal(
      out.summary.CapabilitiesReason,
      'The following resource(s) require capabilities: [AWS::IAM::Role]',
    )
    assert.deepEqual(out.summary.ResourceTypes, ['AWS::SNS::Topic', 'AWS::IAM::Role'])
    assert.deepEqual(out.summary.ResourceIdentifierSummaries, [
      { ResourceType: 'AWS::SNS::Topic', LogicalResourceIds: ['Topic'] },
      { ResourceType: 'AWS::IAM::Role', LogicalResourceIds: ['Role'] },
    ])
    assert.deepEqual(out.validated.Capabilities, ['CAPABILITY_IAM'])
    assert.equal(out.validated.Parameters.length, 2)

    const cs = out.changeSet
    assert.equal(cs.Status, 'CREATE_COMPLETE')
    assert.equal(cs.ExecutionStatus, 'AVAILABLE')
    assert.equal(cs.CreationTime, 'datetime')
    assert.equal(cs.IncludeNestedStacks, false)
    assert.deepEqual(cs.Capabilities, ['CAPABILITY_IAM'])
    assert.deepEqual(cs.Tags, [{ Key: 'team', Value: 'ops' }])
    assert.deepEqual(cs.Changes, [
      {
        Type: 'Resource',
        ResourceChange: {
          Action: 'Add',
          LogicalResourceId: 'Extra',
          ResourceType: 'AWS::SNS::Topic',
          Scope: [],
          Details: [],
        },
      },
    ])
    assert.deepEqual(
      [...cs.Parameters].sort((a: Row, b: Row) =>
        String(a['ParameterKey']).localeCompare(String(b['ParameterKey'])),
      ),
      [
        { ParameterKey: 'Secret', ParameterValue: '****' },
        { ParameterKey: 'Size', ParameterValue: '3' },
      ],
    )
    assert.deepEqual(
      out.changeSets.map((c: Row) => [c['ChangeSetName'], c['CreationTime']]),
      [['more', 'datetime']],
    )
    assert.deepEqual(
      out.exports.map((e: Row) => [e['Name'], e['ExportingStackId']]),
      [['wire-topic', out.sid]],
    )
    assert.deepEqual(out.policy, {})
    assert.deepEqual(out.protection, { StackId: out.sid })
  },
)

/** An awsQuery request as sent, signed for the `dev` account: its status and XML. */
async function query(body: string): Promise<{ status: number; xml: string }> {
  const signed = await signRaw({
    endpoint: h.sandbox.endpoint,
    creds: h.creds('dev'),
    service: 'cloudformation',
    method: 'POST',
    path: '/',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
  })
  const res = await fetch(signed.url, { method: 'POST', headers: signed.headers, body })
  return { status: res.status, xml: await res.text() }
}

test('a parameter that is not of its member type is refused with its model path', async () => {
  const r = await query(
    'Action=UpdateTerminationProtection&Version=2010-05-15&StackName=any&EnableTerminationProtection=maybe',
  )
  assert.equal(r.status, 400)
  assert.match(r.xml, /<Code>ValidationError<\/Code>/)
  assert.match(
    r.xml.replace(/&apos;/g, "'"),
    /<Message>1 validation error detected: Value 'maybe' at 'enableTerminationProtection' failed to satisfy constraint: Member must be a boolean<\/Message>/,
  )
})

test('the XML answer has the model member order and `member` lists', async () => {
  await cfn.send(
    new CreateStackCommand({ StackName: 'order', TemplateBody: TOPIC, Tags: [{ Key: 'k', Value: 'v' }] }),
  )
  const { status, xml } = await query('Action=DescribeStacks&Version=2010-05-15&StackName=order')
  assert.equal(status, 200)
  const stack = /<Stacks><member>([\s\S]*)<\/member><\/Stacks>/.exec(xml.replace(/>\s+</g, '><'))?.[1]
  assert.ok(stack, xml)
  // The Stack's own children, in the order they appear (nested elements skipped).
  const children: string[] = []
  let depth = 0
  for (const m of stack.matchAll(/<(\/?)([A-Za-z]+)(\/?)>/g)) {
    if (m[1]) depth--
    else {
      if (depth === 0) children.push(m[2]!)
      if (!m[3]) depth++
    }
  }
  const order = Object.keys(serviceModel('cloudformation').shapes['Stack']!.members!)
  assert.deepEqual(
    children,
    order.filter((m) => children.includes(m)),
  )
  assert.ok(children.indexOf('StackId') === 0 && children.includes('DriftInformation'), children.join(' '))
  assert.match(stack, /<Tags><member><Key>k<\/Key><Value>v<\/Value><\/member><\/Tags>/)
})

test('GetTemplate Processed: the submitted text without a Transform, refused with one', async () => {
  await cfn.send(new CreateStackCommand({ StackName: 'plain', TemplateBody: TOPIC }))
  const plain = await cfn.send(new GetTemplateCommand({ StackName: 'plain', TemplateStage: 'Processed' }))
  assert.equal(plain.TemplateBody, TOPIC)
  assert.deepEqual(plain.StagesAvailable, ['Original', 'Processed'])
  const transformed = JSON.stringify({
    Transform: 'AWS::LanguageExtensions',
    Resources: { T: { Type: 'AWS::SNS::Topic' } },
  })
  await cfn.send(new CreateStackCommand({ StackName: 'transformed', TemplateBody: transformed }))
  const original = await cfn.send(
    new GetTemplateCommand({ StackName: 'transformed', TemplateStage: 'Original' }),
  )
  assert.equal(original.TemplateBody, transformed)
  const f = await failure(
    cfn.send(new GetTemplateCommand({ StackName: 'transformed', TemplateStage: 'Processed' })),
  )
  assert.deepEqual(f, {
    name: 'ValidationError',
    status: 400,
    message:
      'TemplateStage Processed for a template that declares a Transform is not supported by the crosspipe sandbox',
  })
})
