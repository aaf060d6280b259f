// The operation layer (src/sandbox/operations): awsQuery and awsJson input parsing, the validator's
// messages for each constraint, and the output serializers, table-driven over a small model; then
// the same layer over AWS's own models as the build writes them (dist/data/models).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  jsonService,
  operation,
  readJsonInput,
  readQueryInput,
  serviceModel,
  validationMessage,
  violations,
  violationsOf,
  violationText,
  writeJsonOutput,
  writeQueryOutput,
  type ServiceModel,
} from '../../src/sandbox/operations/index.js'
import { AwsError } from '../../src/sandbox/errors.js'
import { toXml } from '../../src/sandbox/gateway/xml.js'

/** A model in the generator's form, with one shape per constraint the validator knows. */
const model: ServiceModel = {
  source: 'test',
  metadata: { apiVersion: '2020-01-01', protocol: 'query', endpointPrefix: 'test' },
  operations: { Op: { input: 'In', output: 'Out', resultWrapper: 'OpResult' } },
  shapes: {
    In: {
      type: 'structure',
      required: ['Name', 'Count'],
      members: {
        Name: { shape: 'name' },
        Count: { shape: 'count' },
        Mode: { shape: 'mode' },
        Flag: { shape: 'bool' },
        When: { shape: 'time' },
        Tags: { shape: 'tags' },
        Ids: { shape: 'ids' },
        Flat: { shape: 'ids', flattened: true },
        Attrs: { shape: 'attrs' },
        Secret: { shape: 'secret' },
        Inner: { shape: 'inner' },
        Data: { shape: 'data' },
      },
    },
    name: { type: 'string', min: 2, max: 8, pattern: '[\\w+=,.@-]*' },
    count: { type: 'integer', min: 900, max: 43200 },
    mode: { type: 'string', enum: ['A', 'B'] },
    bool: { type: 'boolean' },
    time: { type: 'timestamp' },
    tags: { type: 'list', max: 2, member: { shape: 'tag' } },
    tag: {
      type: 'structure',
      required: ['Key'],
      members: { Key: { shape: 'key' }, Value: { shape: 'str' } },
    },
    key: { type: 'string', min: 1, max: 3 },
    str: { type: 'string' },
    ids: { type: 'list', member: { shape: 'key' } },
    attrs: { type: 'map', key: { shape: 'key' }, value: { shape: 'str' } },
    secret: { type: 'string', min: 4, sensitive: true },
    inner: { type: 'structure', required: ['Deep'], members: { Deep: { shape: 'name' } } },
    data: { type: 'blob', max: 2 },
    Out: {
      type: 'structure',
      members: {
        Name: { shape: 'str', locationName: 'TheName' },
        When: { shape: 'time' },
        Ok: { shape: 'bool' },
        Count: { shape: 'count' },
        Tags: { shape: 'tags' },
        Flat: { shape: 'ids', flattened: true },
        Attrs: { shape: 'attrs' },
        Data: { shape: 'data' },
      },
    },
  },
}

const q = (pairs: Record<string, string>) => readQueryInput(model, 'In', new Map(Object.entries(pairs)))

test('awsQuery input: members, lists (member.N and flattened), maps, structures, scalars', () => {
  const input = q({
    Name: 'ab',
    Count: '900',
    Flag: 'true',
    When: '2026-01-02T03:04:05Z',
    'Tags.member.1.Key': 'k1',
    'Tags.member.1.Value': 'v1',
    'Tags.member.2.Key': 'k2',
    'Ids.member.1': 'a',
    'Ids.member.2': 'b',
    'Flat.1': 'x',
    'Attrs.entry.1.key': 'ak',
    'Attrs.entry.1.value': 'av',
    'Inner.Deep': 'deep',
    Data: Buffer.from('hi').toString('base64'),
  })
  assert.deepEqual(input, {
    Name: 'ab',
    Count: 900,
    Flag: true,
    When: new Date('2026-01-02T03:04:05Z'),
    Tags: [{ Key: 'k1', Value: 'v1' }, { Key: 'k2' }],
    Ids: ['a', 'b'],
    Flat: ['x'],
    Attrs: { ak: 'av' },
    Inner: { Deep: 'deep' },
    Data: Buffer.from('hi'),
  })
  assert.deepEqual(q({ Name: 'ab', Count: '900', Ids: '' }).Ids, [])
})

test('awsQuery input: text that is not of the member type is a ValidationError', () => {
  for (const [pairs, message] of [
    [{ Count: 'ten' }, "Value 'ten' at 'count' failed to satisfy constraint: Member must be an integer"],
    [{ Flag: 'yes' }, "Value 'yes' at 'flag' failed to satisfy constraint: Member must be a boolean"],
    [{ When: 'soon' }, "Value 'soon' at 'when' failed to satisfy constraint: Member must be a timestamp"],
  ] as const) {
    assert.throws(
      () => q(pairs),
      (e: unknown) => e instanceof AwsError && e.code === 'ValidationError' && e.message.endsWith(message),
    )
  }
})

test('awsJson input: JSON types are checked against the shapes (SerializationException)', () => {
  const ok = readJsonInput(model, 'In', {
    Name: 'ab',
    Count: 900,
    When: 1767322800.5,
    Tags: [{ Key: 'k' }],
    Attrs: { a: 'b' },
    Data: 'aGk=',
    Unknown: 'ignored',
    Mode: null,
  })
  assert.deepEqual(ok, {
    Name: 'ab',
    Count: 900,
    When: new Date(1767322800500),
    Tags: [{ Key: 'k' }],
    Attrs: { a: 'b' },
    Data: Buffer.from('hi'),
  })
  for (const [doc, message] of [
    [{ Name: 5 }, "Expected a string at 'Name'."],
    [{ Count: 1.5 }, "Expected an integer at 'Count'."],
    [{ Flag: 'true' }, "Expected a boolean at 'Flag'."],
    [{ Tags: {} }, "Expected a list at 'Tags'."],
    [{ Tags: [{ Key: 1 }] }, "Expected a string at 'Tags.1.member.Key'."],
    [{ Attrs: [] }, "Expected a map at 'Attrs'."],
    [{ Inner: 'x' }, "Expected a structure at 'Inner'."],
    [{ Data: 'not base64!' }, "Expected base64 text at 'Data'."],
  ] as const)
    assert.throws(
      () => readJsonInput(model, 'In', doc),
      (e: unknown) => e instanceof AwsError && e.code === 'SerializationException' && e.message === message,
      JSON.stringify(doc),
    )
})

/** One constraint per row: the input (beside a valid Name and Count) and AWS's words for it. */
const constraintCases: readonly { name: string; input: Record<string, unknown>; found: string[] }[] = [
  {
    name: 'required members',
    input: { Name: undefined, Count: undefined },
    found: [
      "Value null at 'name' failed to satisfy constraint: Member must not be null",
      "Value null at 'count' failed to satisfy constraint: Member must not be null",
    ],
  },
  {
    name: 'pattern',
    input: { Name: 'a b' },
    found: [
      "Value 'a b' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
    ],
  },
  {
    name: 'length: below the minimum, and the pattern too',
    input: { Name: ' ' },
    found: [
      "Value ' ' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 2",
      "Value ' ' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
    ],
  },
  {
    name: 'length: above the maximum',
    input: { Name: 'abcdefghi' },
    found: [
      "Value 'abcdefghi' at 'name' failed to satisfy constraint: Member must have length less than or equal to 8",
    ],
  },
  {
    name: 'value range',
    input: { Count: 899 },
    found: [
      "Value '899' at 'count' failed to satisfy constraint: Member must have value greater than or equal to 900",
    ],
  },
  {
    name: 'value range, above',
    input: { Count: 43201 },
    found: [
      "Value '43201' at 'count' failed to satisfy constraint: Member must have value less than or equal to 43200",
    ],
  },
  {
    name: 'enum',
    input: { Mode: 'C' },
    found: ["Value 'C' at 'mode' failed to satisfy constraint: Member must satisfy enum value set: [A, B]"],
  },
  {
    name: 'list length and nested structure members',
    input: { Tags: [{ Key: 'k' }, { Key: 'toolong' }, {}] },
    found: [
      "Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 2",
      "Value 'toolong' at 'tags.2.member.key' failed to satisfy constraint: Member must have length less than or equal to 3",
      "Value null at 'tags.3.member.key' failed to satisfy constraint: Member must not be null",
    ],
  },
  {
    name: 'list of strings: reported once, at the list',
    input: { Ids: ['ok', 'long!', ''] },
    found: [
      "Value '[ok, long!, ]' at 'ids' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 3, Member must have length greater than or equal to 1]",
    ],
  },
  {
    name: 'map keys',
    input: { Attrs: { long: 'v' } },
    found: [
      "Value at 'attrs' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 3]",
    ],
  },
  {
    name: 'sensitive values and blobs are not echoed',
    input: { Secret: 'abc', Data: Buffer.from('abc') },
    found: [
      "Value at 'secret' failed to satisfy constraint: Member must have length greater than or equal to 4",
      "Value at 'data' failed to satisfy constraint: Member must have length less than or equal to 2",
    ],
  },
  {
    name: 'null list items',
    input: { Tags: [null], Ids: ['ok', null] },
    found: [
      "Value null at 'tags.1.member' failed to satisfy constraint: Member must not be null",
      "Value null at 'ids.2.member' failed to satisfy constraint: Member must not be null",
    ],
  },
  {
    name: 'nested structure path',
    input: { Inner: {} },
    found: ["Value null at 'inner.deep' failed to satisfy constraint: Member must not be null"],
  },
]

for (const c of constraintCases)
  test(`validation: ${c.name}`, () => {
    assert.deepEqual(violations(model, 'In', { Name: 'ab', Count: 900, ...c.input }), c.found)
  })

test('validation messages: one error, and N errors joined with "; "', () => {
  assert.equal(
    validationMessage(["Value null at 'a' failed to satisfy constraint: Member must not be null"]),
    "1 validation error detected: Value null at 'a' failed to satisfy constraint: Member must not be null",
  )
  assert.equal(validationMessage(['x', 'y']), '2 validation errors detected: x; y')
  assert.deepEqual(violations(model, 'In', { Name: 'ab', Count: 900 }), [])
})

test('violations one by one: value, path and constraint, for services that word their own answer', () => {
  const found = violationsOf(model, 'In', { Count: 10, Tags: [{ Key: 'long' }] })
  assert.deepEqual(found, [
    { value: 'null', path: 'name', constraint: 'Member must not be null' },
    { value: "'10'", path: 'count', constraint: 'Member must have value greater than or equal to 900' },
    {
      value: "'long'",
      path: 'tags.1.member.key',
      constraint: 'Member must have length less than or equal to 3',
    },
  ])
  assert.deepEqual(found.map(violationText), violations(model, 'In', { Count: 10, Tags: [{ Key: 'long' }] }))
})

test("a service's own validation answer (validationError) replaces the common one; handlers never see bad input", async () => {
  let ran = false
  const kms = jsonService({
    name: 'kms',
    signingName: 'kms',
    jsonVersion: '1.1',
    targetPrefix: 'TrentService',
    operations: [
      operation<{ KeyId: string | undefined }, object>(
        'DescribeKey',
        () => {
          ran = true
          return {}
        },
        { honours: ['KeyId'] },
      ),
    ],
    validationError: (found) =>
      new AwsError('InvalidParameterException', `first: ${found[0]!.path} ${found[0]!.constraint}`, 400),
  })
  const ctx = {} as Parameters<NonNullable<(typeof kms.actions)['DescribeKey']>>[1]
  await assert.rejects(
    Promise.resolve().then(() => kms.actions['DescribeKey']!({}, ctx)),
    (e: unknown) =>
      e instanceof AwsError &&
      e.code === 'InvalidParameterException' &&
      e.message === 'first: keyId Member must not be null',
  )
  assert.equal(ran, false)
})

test('awsQuery output: names, member lists, flattened lists, maps, ISO timestamps, booleans, base64', () => {
  const xml = toXml(
    'OpResult',
    writeQueryOutput(model, 'Out', {
      Name: 'n',
      When: new Date('2026-01-02T03:04:05Z'),
      Ok: false,
      Count: 7,
      Tags: [{ Key: 'k', Value: 'v' }],
      Flat: ['a', 'b'],
      Attrs: { x: 'y' },
      Data: Buffer.from('hi'),
      NotInModel: 'dropped',
    })!,
  )
  assert.equal(
    xml,
    '<?xml version="1.0" encoding="UTF-8"?>\n<OpResult><TheName>n</TheName><When>2026-01-02T03:04:05Z</When><Ok>false</Ok><Count>7</Count>' +
      '<Tags><member><Key>k</Key><Value>v</Value></member></Tags><Flat>a</Flat><Flat>b</Flat>' +
      '<Attrs><entry><key>x</key><value>y</value></entry></Attrs><Data>aGk=</Data></OpResult>',
  )
})

test('awsJson output: epoch-second timestamps, base64 blobs, model members only', () => {
  assert.deepEqual(
    writeJsonOutput(model, 'Out', {
      When: new Date(1767322800500),
      Ok: true,
      Data: Buffer.from('hi'),
      Tags: [{ Key: 'k', Value: undefined }],
      NotInModel: 1,
    }),
    { When: 1767322800.5, Ok: true, Data: 'aGk=', Tags: [{ Key: 'k' }] },
  )
})

test("AWS's own models: STS AssumeRole's constraints and messages come from STS's model", () => {
  const sts = serviceModel('sts')
  const shape = sts.operations['AssumeRole']!.input!
  const input = readQueryInput(
    sts,
    shape,
    new Map([
      ['RoleArn', 'arn:aws:iam::111111111111:role/r'],
      ['RoleSessionName', 'a b'],
      ['DurationSeconds', '60'],
    ]),
  )
  const found = violations(sts, shape, input)
  if (!sts.source.startsWith('botocore@')) {
    // Built without botocore: the aws-sdk package's models carry no constraints (build.mjs says so).
    assert.deepEqual(found, [])
    return
  }
  assert.equal(
    validationMessage(found),
    "2 validation errors detected: Value 'a b' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*; " +
      "Value '60' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900",
  )
})

test("AWS's own models: every served model has its protocol's metadata and the operations the sandbox declares", async () => {
  const { SERVICE_FACTORIES } = await import('../../src/sandbox/services/index.js')
  assert.ok(SERVICE_FACTORIES.length > 0)
  for (const [name, protocol, ops] of [
    ['sts', 'query', ['AssumeRole', 'GetCallerIdentity', 'GetSessionToken']],
    ['iam', 'query', ['CreateRole', 'ListRoles', 'PutRolePolicy', 'CreateAccessKey']],
    ['kms', 'json', ['CreateKey', 'Encrypt', 'Decrypt', 'GenerateDataKey']],
    ['logs', 'json', ['GetLogEvents', 'FilterLogEvents']],
    ['codebuild', 'json', ['CreateProject', 'StartBuild', 'BatchGetBuilds']],
    ['codepipeline', 'json', ['CreatePipeline', 'PutApprovalResult', 'RetryStageExecution']],
    ['ssm', 'json', ['PutParameter', 'GetParametersByPath', 'AddTagsToResource']],
    ['ecr', 'json', ['CreateRepository', 'SetRepositoryPolicy', 'GetAuthorizationToken']],
  ] as const) {
    const m = serviceModel(name)
    assert.equal(m.metadata.protocol, protocol, name)
    for (const op of ops) assert.ok(m.operations[op], `${name} ${op}`)
  }
  assert.equal(serviceModel('kms').metadata.targetPrefix, 'TrentService')
  assert.equal(serviceModel('ssm').metadata.targetPrefix, 'AmazonSSM')
  assert.equal(serviceModel('ecr').metadata.targetPrefix, 'AmazonEC2ContainerRegistry_V20150921')
  assert.equal(serviceModel('sts').metadata.xmlNamespace, 'https://sts.amazonaws.com/doc/2011-06-15/')
})

test("CloudFormation's pipeline properties meet CodePipeline's model: configuration values as text", async () => {
  const { pipelineInputFromCloudFormation } =
    await import('../../src/sandbox/services/codepipeline/declaration.js')
  const cp = serviceModel('codepipeline')
  const input = pipelineInputFromCloudFormation({
    Name: 'p',
    RoleArn: 'arn:aws:iam::111111111111:role/r',
    Stages: [
      {
        Name: 'Source',
        Actions: [
          {
            Name: 'src',
            ActionTypeId: { Category: 'Source', Owner: 'AWS', Provider: 'S3', Version: '1' },
            Configuration: { S3Bucket: 'b', S3ObjectKey: 'k.zip', PollForSourceChanges: false, Depth: 3 },
          },
        ],
      },
    ],
  })
  const read = readJsonInput(cp, 'PipelineDeclaration', input) as {
    stages: { actions: { configuration: Record<string, string> }[] }[]
  }
  assert.deepEqual(read.stages[0]!.actions[0]!.configuration, {
    S3Bucket: 'b',
    S3ObjectKey: 'k.zip',
    PollForSourceChanges: 'false',
    Depth: '3',
  })
  assert.deepEqual(violations(cp, 'PipelineDeclaration', read), [])
})
