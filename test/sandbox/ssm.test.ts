// SSM Parameter Store through the SDK v3 client (and the AWS CLI where installed): versions,
// names, hierarchies, tags, AWS's errors, IAM on the parameter ARN, and one store with
// CloudFormation's AWS::SSM::Parameter and SSM template parameters.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawnSync } from 'node:child_process'
import {
  SSMClient,
  PutParameterCommand,
  GetParameterCommand,
  GetParametersCommand,
  GetParametersByPathCommand,
  GetParameterHistoryCommand,
  DescribeParametersCommand,
  DeleteParameterCommand,
  DeleteParametersCommand,
  AddTagsToResourceCommand,
  ListTagsForResourceCommand,
  RemoveTagsFromResourceCommand,
  type PutParameterCommandInput,
  type ResourceTypeForTagging,
} from '@aws-sdk/client-ssm'
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStacksCommand,
  DeleteStackCommand,
} from '@aws-sdk/client-cloudformation'
import { CreateAccessKeyCommand, CreateUserCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam'
import { sandboxEnv } from '../../src/sandbox/index.js'
import {
  harness,
  failure,
  runPython,
  boto3Client,
  skipModelMessages,
  type Harness,
  type Creds,
} from './helpers.js'

let h: Harness
const made: { destroy(): void }[] = []
before(async () => {
  h = await harness()
})
after(async () => {
  for (const c of made) c.destroy()
  await h.close()
})

function ssmAs(c: Creds): SSMClient {
  const s = new SSMClient({
    endpoint: h.sandbox.endpoint,
    region: 'us-east-1',
    credentials: c,
    maxAttempts: 1,
  })
  made.push(s)
  return s
}

test('versions, overwrite, selectors and history; AWS errors for existing names, types and versions', async () => {
  const ssm = ssmAs(h.creds('ci'))
  const put = await ssm.send(new PutParameterCommand({ Name: '/app/db/host', Value: 'db1', Type: 'String' }))
  assert.deepEqual([put.Version, put.Tier], [1, 'Standard'])
  const again = await failure(
    ssm.send(new PutParameterCommand({ Name: '/app/db/host', Value: 'x', Type: 'String' })),
  )
  assert.deepEqual([again.name, again.status], ['ParameterAlreadyExists', 400])
  assert.equal(
    (await ssm.send(new PutParameterCommand({ Name: '/app/db/host', Value: 'db2', Overwrite: true })))
      .Version,
    2,
  )
  const got = (await ssm.send(new GetParameterCommand({ Name: '/app/db/host' }))).Parameter!
  assert.equal(got.Value, 'db2')
  assert.equal(got.Version, 2)
  assert.equal(got.Type, 'String')
  assert.equal(got.ARN, 'arn:aws:ssm:us-east-1:111111111111:parameter/app/db/host')
  assert.ok(got.LastModifiedDate instanceof Date)
  const v1 = (await ssm.send(new GetParameterCommand({ Name: '/app/db/host:1' }))).Parameter!
  assert.deepEqual([v1.Value, v1.Selector], ['db1', ':1'])
  assert.equal(
    (await failure(ssm.send(new GetParameterCommand({ Name: '/app/db/host:9' })))).name,
    'ParameterVersionNotFound',
  )
  const byArn = (await ssm.send(new GetParameterCommand({ Name: got.ARN! }))).Parameter!
  assert.equal(byArn.Value, 'db2')
  const history = await ssm.send(new GetParameterHistoryCommand({ Name: '/app/db/host' }))
  assert.deepEqual(
    history.Parameters!.map((p) => [p.Version, p.Value, p.LastModifiedUser]),
    [
      [1, 'db1', 'arn:aws:iam::111111111111:root'],
      [2, 'db2', 'arn:aws:iam::111111111111:root'],
    ],
  )
  const mismatch = await failure(
    ssm.send(
      new PutParameterCommand({ Name: '/app/db/host', Value: 'a,b', Type: 'StringList', Overwrite: true }),
    ),
  )
  assert.equal(mismatch.name, 'HierarchyTypeMismatchException')
  const missing = await failure(ssm.send(new GetParameterCommand({ Name: '/nope' })))
  assert.deepEqual([missing.name, missing.status], ['ParameterNotFound', 400])
  const tagsAndOverwrite = await failure(
    ssm.send(
      new PutParameterCommand({
        Name: '/app/db/host',
        Value: 'x',
        Overwrite: true,
        Tags: [{ Key: 'a', Value: 'b' }],
      }),
    ),
  )
  assert.equal(tagsAndOverwrite.name, 'ValidationException')
  assert.match(tagsAndOverwrite.message, /tags and overwrite can't be used together/)
})

test('names, types, patterns and sizes are checked as Parameter Store does; SecureString is refused plainly', async () => {
  const ssm = ssmAs(h.creds('ci'))
  const bad = async (Name: string, extra: object = {}) =>
    failure(ssm.send(new PutParameterCommand({ Name, Value: 'v', Type: 'String', ...extra })))
  assert.match((await bad('a/b')).message, /fully qualified/)
  assert.equal((await bad('awsThing')).name, 'ValidationException')
  assert.equal((await bad('/SSM/x')).name, 'ValidationException')
  assert.equal((await bad('/a b')).name, 'ValidationException')
  assert.equal(
    (await bad('/' + Array.from({ length: 16 }, (_, i) => `l${i}`).join('/'))).name,
    'HierarchyLevelLimitExceededException',
  )
  assert.equal((await bad('/p', { AllowedPattern: '^[0-9]+$' })).name, 'ParameterPatternMismatchException')
  assert.equal((await bad('/p', { AllowedPattern: '(' })).name, 'InvalidAllowedPatternException')
  const secure = await bad('/secret', { Type: 'SecureString' })
  assert.equal(secure.name, 'UnsupportedParameterType')
  assert.match(secure.message, /not supported by the crosspipe sandbox/)
  const big = await failure(
    ssm.send(new PutParameterCommand({ Name: '/big', Value: 'x'.repeat(4097), Type: 'String' })),
  )
  assert.match(big.message, /Standard tier parameters support a maximum parameter value of 4096 characters/)
  const adv = await ssm.send(
    new PutParameterCommand({
      Name: '/big',
      Value: 'x'.repeat(4097),
      Type: 'String',
      Tier: 'Intelligent-Tiering',
    }),
  )
  assert.equal(adv.Tier, 'Advanced')
  await ssm.send(new PutParameterCommand({ Name: 'plain', Value: 'a,b', Type: 'StringList' }))
  assert.equal((await ssm.send(new GetParameterCommand({ Name: 'plain' }))).Parameter!.Type, 'StringList')
})

test(
  "bad input is answered from SSM's model with AWS's ValidationException messages",
  { skip: skipModelMessages('ssm') },
  async () => {
    const ssm = ssmAs(h.creds('ci'))
    const bad = async (input: object) => {
      const e = await failure(ssm.send(new PutParameterCommand(input as PutParameterCommandInput)))
      assert.deepEqual([e.name, e.status], ['ValidationException', 400], e.message)
      return e.message
    }
    // The model's Name length (2048), before the name rules.
    const long = '/' + 'n'.repeat(2048)
    assert.equal(
      await bad({ Name: long, Value: 'v', Type: 'String' }),
      `1 validation error detected: Value '${long}' at 'name' failed to satisfy constraint: Member must have length less than or equal to 2048`,
    )
    // Within the model's 2048 but over 1011 with the ARN prefix (API_PutParameter.html, Name).
    // The documented example: `arn:aws:ssm:us-east-2:111122223333:parameter/` counts 45 characters.
    const fits = '/' + 'n'.repeat(1011 - 45 - 1)
    assert.equal(
      (await ssm.send(new PutParameterCommand({ Name: fits, Value: 'v', Type: 'String' }))).Version,
      1,
    )
    await ssm.send(new DeleteParameterCommand({ Name: fits }))
    assert.match(
      await bad({ Name: fits + 'n', Value: 'v', Type: 'String' }),
      /^Parameter name: 967 characters is too long: with the 45 characters of the ARN before it \(arn:aws:ssm:us-east-1:111111111111:parameter\/\) a name may have at most 1011/,
    )
    assert.equal(
      await bad({ Name: '/t', Value: 'v', Type: 'Text' }),
      "1 validation error detected: Value 'Text' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [String, StringList, SecureString]",
    )
    assert.equal(
      await bad({ Name: '/t', Type: 'String' }),
      "1 validation error detected: Value null at 'value' failed to satisfy constraint: Member must not be null",
    )
    // The value is sensitive: never echoed.
    assert.equal(
      await bad({ Name: '/t', Value: '', Type: 'String' }),
      "1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1",
    )
    assert.equal(
      await bad({ Name: '/t', Value: 'v', Type: 'Text', Tier: 'Gold', Tags: [{ Key: 'a b!', Value: 'x' }] }),
      "3 validation errors detected: Value 'Text' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [String, StringList, SecureString]; " +
        "Value 'a b!' at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$; " +
        "Value 'Gold' at 'tier' failed to satisfy constraint: Member must satisfy enum value set: [Standard, Advanced, Intelligent-Tiering]",
    )
    const eleven = Array.from({ length: 11 }, (_, i) => `/p${i}`)
    const names = await failure(ssm.send(new GetParametersCommand({ Names: eleven })))
    assert.equal(names.name, 'ValidationException')
    assert.equal(
      names.message,
      `1 validation error detected: Value '[${eleven.join(', ')}]' at 'names' failed to satisfy constraint: Member must have length less than or equal to 10`,
    )
    const max = await failure(ssm.send(new GetParametersByPathCommand({ Path: '/svc', MaxResults: 11 })))
    assert.equal(
      max.message,
      "1 validation error detected: Value '11' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 10",
    )
    const type = await failure(
      ssm.send(
        new ListTagsForResourceCommand({
          ResourceType: 'Bucket' as ResourceTypeForTagging,
          ResourceId: '/t',
        }),
      ),
    )
    assert.equal(type.name, 'ValidationException')
    assert.match(
      type.message,
      /Value 'Bucket' at 'resourceType' failed to satisfy constraint: Member must satisfy enum value set: \[Document, /,
    )
    // A type of the enum that Parameter Store does not serve is refused plainly.
    const doc = await failure(
      ssm.send(new ListTagsForResourceCommand({ ResourceType: 'Document', ResourceId: 'd' })),
    )
    assert.deepEqual(
      [doc.name, doc.message.includes('not supported by the crosspipe sandbox')],
      ['UnsupportedOperationException', true],
    )
    // Nothing was written by any of these.
    assert.equal((await failure(ssm.send(new GetParameterCommand({ Name: '/t' })))).name, 'ParameterNotFound')
  },
)

test('GetParameters, paths, DescribeParameters filters, DeleteParameters and tags', async () => {
  const ssm = ssmAs(h.creds('dev'))
  for (const n of ['/svc/a', '/svc/b', '/svc/deep/c', '/other/d'])
    await ssm.send(new PutParameterCommand({ Name: n, Value: n, Type: 'String' }))
  const two = await ssm.send(new GetParametersCommand({ Names: ['/svc/a', '/svc/missing', '/svc/b'] }))
  assert.deepEqual(two.Parameters!.map((p) => p.Name).sort(), ['/svc/a', '/svc/b'])
  assert.deepEqual(two.InvalidParameters, ['/svc/missing'])
  const level = await ssm.send(new GetParametersByPathCommand({ Path: '/svc' }))
  assert.deepEqual(level.Parameters!.map((p) => p.Name).sort(), ['/svc/a', '/svc/b'])
  const deep = await ssm.send(
    new GetParametersByPathCommand({ Path: '/svc/', Recursive: true, MaxResults: 2 }),
  )
  assert.equal(deep.Parameters!.length, 2)
  assert.ok(deep.NextToken)
  const rest = await ssm.send(
    new GetParametersByPathCommand({
      Path: '/svc/',
      Recursive: true,
      MaxResults: 2,
      NextToken: deep.NextToken,
    }),
  )
  assert.deepEqual([...deep.Parameters!, ...rest.Parameters!].map((p) => p.Name).sort(), [
    '/svc/a',
    '/svc/b',
    '/svc/deep/c',
  ])
  const badFilter = await failure(
    ssm.send(
      new GetParametersByPathCommand({ Path: '/svc', ParameterFilters: [{ Key: 'Name', Values: ['x'] }] }),
    ),
  )
  assert.equal(badFilter.name, 'InvalidFilterKey')
  const notAPath = await failure(ssm.send(new GetParametersByPathCommand({ Path: 'svc' })))
  assert.equal(notAPath.name, 'ValidationException')
  assert.match(notAPath.message, /The parameter name must begin with a forward slash "\/"/)
  const shared = await failure(ssm.send(new DescribeParametersCommand({ Shared: true })))
  assert.equal(shared.name, 'UnsupportedOperationException')
  assert.match(shared.message, /shared with this account .* not supported by the crosspipe sandbox/)
  await ssm.send(
    new AddTagsToResourceCommand({
      ResourceType: 'Parameter',
      ResourceId: '/svc/a',
      Tags: [{ Key: 'team', Value: 'x' }],
    }),
  )
  const described = await ssm.send(
    new DescribeParametersCommand({
      ParameterFilters: [
        { Key: 'Name', Option: 'BeginsWith', Values: ['/svc/'] },
        { Key: 'tag:team', Values: ['x'] },
      ],
    }),
  )
  assert.deepEqual(
    described.Parameters!.map((p) => [p.Name, p.Version, p.Tier]),
    [['/svc/a', 1, 'Standard']],
  )
  const tags = await ssm.send(
    new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: '/svc/a' }),
  )
  assert.deepEqual(tags.TagList, [{ Key: 'team', Value: 'x' }])
  await ssm.send(
    new RemoveTagsFromResourceCommand({ ResourceType: 'Parameter', ResourceId: '/svc/a', TagKeys: ['team'] }),
  )
  assert.deepEqual(
    (await ssm.send(new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: '/svc/a' })))
      .TagList,
    [],
  )
  assert.equal(
    (
      await failure(
        ssm.send(new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: '/gone' })),
      )
    ).name,
    'InvalidResourceId',
  )
  const del = await ssm.send(new DeleteParametersCommand({ Names: ['/svc/a', '/svc/zzz'] }))
  assert.deepEqual([del.DeletedParameters, del.InvalidParameters], [['/svc/a'], ['/svc/zzz']])
  await ssm.send(new DeleteParameterCommand({ Name: '/svc/b' }))
  assert.equal(
    (await failure(ssm.send(new DeleteParameterCommand({ Name: '/svc/b' })))).name,
    'ParameterNotFound',
  )
  // Per account: the ci account does not see dev's parameters.
  const ci = ssmAs(h.creds('ci'))
  assert.equal(
    (await failure(ci.send(new GetParameterCommand({ Name: '/other/d' })))).name,
    'ParameterNotFound',
  )
})

test('IAM decides on the parameter ARN (hierarchical names without their leading slash)', async () => {
  const { iam } = h.clients(h.creds('prod'))
  await iam.send(new CreateUserCommand({ UserName: 'reader' }))
  await iam.send(
    new PutUserPolicyCommand({
      UserName: 'reader',
      PolicyName: 'read-app',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['ssm:GetParameter', 'ssm:GetParameters'],
            Resource: 'arn:aws:ssm:us-east-1:333333333333:parameter/app/*',
          },
        ],
      }),
    }),
  )
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'reader' }))).AccessKey!
  const admin = ssmAs(h.creds('prod'))
  await admin.send(new PutParameterCommand({ Name: '/app/x', Value: 'ok', Type: 'String' }))
  await admin.send(new PutParameterCommand({ Name: '/secret/y', Value: 'no', Type: 'String' }))
  const reader = ssmAs({ accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! })
  assert.equal((await reader.send(new GetParameterCommand({ Name: '/app/x' }))).Parameter!.Value, 'ok')
  const denied = await failure(reader.send(new GetParameterCommand({ Name: '/secret/y' })))
  assert.deepEqual([denied.name, denied.status], ['AccessDeniedException', 400])
  assert.match(
    denied.message,
    /^User: arn:aws:iam::333333333333:user\/reader is not authorized to perform: ssm:GetParameter on resource: arn:aws:ssm:us-east-1:333333333333:parameter\/secret\/y/,
  )
  // One name denied denies the whole GetParameters call.
  assert.equal(
    (await failure(reader.send(new GetParametersCommand({ Names: ['/app/x', '/secret/y'] })))).name,
    'AccessDeniedException',
  )
  assert.equal(
    (await failure(reader.send(new PutParameterCommand({ Name: '/app/z', Value: 'v', Type: 'String' }))))
      .name,
    'AccessDeniedException',
  )
  assert.equal((await failure(reader.send(new DescribeParametersCommand({})))).name, 'AccessDeniedException')

  // ssm:Overwrite: a writer that may create parameters but not change them.
  await iam.send(new CreateUserCommand({ UserName: 'creator' }))
  await iam.send(
    new PutUserPolicyCommand({
      UserName: 'creator',
      PolicyName: 'create-only',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 'ssm:PutParameter', Resource: '*' },
          {
            Effect: 'Deny',
            Action: 'ssm:PutParameter',
            Resource: '*',
            Condition: { StringEquals: { 'ssm:Overwrite': 'true' } },
          },
        ],
      }),
    }),
  )
  const ck = (await iam.send(new CreateAccessKeyCommand({ UserName: 'creator' }))).AccessKey!
  const creator = ssmAs({ accessKeyId: ck.AccessKeyId!, secretAccessKey: ck.SecretAccessKey! })
  await creator.send(new PutParameterCommand({ Name: '/created', Value: 'v', Type: 'String' }))
  const over = await failure(
    creator.send(new PutParameterCommand({ Name: '/created', Value: 'w', Overwrite: true })),
  )
  assert.equal(over.name, 'AccessDeniedException')
  assert.match(over.message, /with an explicit deny in an identity-based policy/)
})

test('CloudFormation: AWS::SSM::Parameter writes the SSM store, SSM template parameters read it', async () => {
  const c = h.creds('ci')
  const cfn = new CloudFormationClient({
    endpoint: h.sandbox.endpoint,
    region: 'us-east-1',
    credentials: c,
    maxAttempts: 1,
  })
  made.push(cfn)
  const ssm = ssmAs(c)
  await ssm.send(new PutParameterCommand({ Name: '/cfn/input', Value: 'from-ssm', Type: 'String' }))
  await cfn.send(
    new CreateStackCommand({
      StackName: 'params',
      TemplateBody: JSON.stringify({
        Parameters: { In: { Type: 'AWS::SSM::Parameter::Value<String>', Default: '/cfn/input' } },
        Resources: {
          P: {
            Type: 'AWS::SSM::Parameter',
            Properties: { Name: '/cfn/output', Type: 'String', Value: { 'Fn::Sub': '${In}-copied' } },
          },
        },
        Outputs: { In: { Value: { Ref: 'In' } } },
      }),
    }),
  )
  let status = ''
  for (let i = 0; i < 100 && !/COMPLETE|FAILED/.test(status); i++) {
    await new Promise((r) => setTimeout(r, 50))
    status = (await cfn.send(new DescribeStacksCommand({ StackName: 'params' }))).Stacks![0]!.StackStatus!
  }
  assert.equal(status, 'CREATE_COMPLETE')
  const out = (await ssm.send(new GetParameterCommand({ Name: '/cfn/output' }))).Parameter!
  assert.deepEqual([out.Value, out.Version], ['from-ssm-copied', 1])
  // A parameter the stack would create but that already exists fails as on AWS.
  await cfn.send(new DeleteStackCommand({ StackName: 'params' }))
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 50))
    if (
      (await failure(ssm.send(new GetParameterCommand({ Name: '/cfn/output' })))).name === 'ParameterNotFound'
    )
      break
  }
  assert.equal(
    (await failure(ssm.send(new GetParameterCommand({ Name: '/cfn/output' })))).name,
    'ParameterNotFound',
  )
})

const hasAws = spawnSync('aws', ['--version'], { stdio: 'ignore' }).status === 0
test(
  'the AWS CLI reads and writes parameters',
  { skip: hasAws ? false : 'the AWS CLI (`aws`) is not installed on this machine' },
  async () => {
    const env = { ...process.env, ...sandboxEnv(h.dir, 'ci') }
    const run = (args: string[]) =>
      new Promise<{ code: number; out: string; err: string }>((resolve) =>
        execFile('aws', args, { env, encoding: 'utf8' }, (e, out, err) =>
          resolve({ code: e ? 1 : 0, out, err }),
        ),
      )
    const put = await run([
      'ssm',
      'put-parameter',
      '--name',
      '/cli/p',
      '--value',
      'hello',
      '--type',
      'String',
    ])
    assert.equal(put.code, 0, put.err)
    const get = await run([
      'ssm',
      'get-parameter',
      '--name',
      '/cli/p',
      '--query',
      'Parameter.Value',
      '--output',
      'text',
    ])
    assert.equal(get.out.trim(), 'hello')
    const missing = await run(['ssm', 'get-parameter', '--name', '/cli/none'])
    assert.notEqual(missing.code, 0)
    assert.match(missing.err, /ParameterNotFound/)
  },
)

test(
  "boto3 (a client nobody here wrote) parses the model's output shapes and gets the model's errors",
  { skip: skipModelMessages('ssm', 'boto3') },
  async () => {
    const script = `${boto3Client('ssm')}
put = ssm.put_parameter(Name='/boto/p', Value='one', Type='StringList', Description='d', Tags=[{'Key': 'k', 'Value': 'v'}])
ssm.put_parameter(Name='/boto/p', Value='one,two', Overwrite=True)
p = ssm.get_parameter(Name='/boto/p')['Parameter']
h = ssm.get_parameter_history(Name='/boto/p')['Parameters']
d = ssm.describe_parameters(ParameterFilters=[{'Key': 'Name', 'Values': ['/boto/p']}])['Parameters'][0]
print(json.dumps({
  'put': [put['Version'], put['Tier']],
  'param': [p['Name'], p['Type'], p['Value'], p['Version'], isinstance(p['LastModifiedDate'], datetime.datetime), p['ARN'], p['DataType']],
  'history': [[x['Version'], x['Value'], x['Description'], x['Labels'], x['Policies'], isinstance(x['LastModifiedDate'], datetime.datetime)] for x in h],
  'described': [d['Name'], d['Type'], d['Version'], d['Tier'], d['Description'], d['LastModifiedUser'], d['Policies']],
  'tags': ssm.list_tags_for_resource(ResourceType='Parameter', ResourceId='/boto/p')['TagList'],
  'noName': err(lambda: ssm.get_parameter()),
  'tooMany': err(lambda: ssm.get_parameter_history(Name='/boto/p', MaxResults=51)),
}))
`
    const out = await runPython(h, 'prod', script)
    assert.deepEqual(JSON.parse(out), {
      put: [1, 'Standard'],
      param: [
        '/boto/p',
        'StringList',
        'one,two',
        2,
        true,
        'arn:aws:ssm:us-east-1:333333333333:parameter/boto/p',
        'text',
      ],
      history: [
        [1, 'one', 'd', [], [], true],
        [2, 'one,two', 'd', [], [], true],
      ],
      described: ['/boto/p', 'StringList', 2, 'Standard', 'd', 'arn:aws:iam::333333333333:root', []],
      tags: [{ Key: 'k', Value: 'v' }],
      noName: [
        'ValidationException',
        "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null",
      ],
      tooMany: [
        'ValidationException',
        "1 validation error detected: Value '51' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 50",
      ],
    })
  },
)
