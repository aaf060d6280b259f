// The shape of a pipeline declaration is CodePipeline's model's to check (src/sandbox/operations),
// not declaration.ts's: each case below is a declaration that breaks one constraint of the model
// (botocore's codepipeline/2015-07-09), sent through the SDK v3 — which checks nothing itself — and
// refused with AWS's error and message. The AWS CLI v1 (`aws` on PATH; skipped where missing)
// sends those that botocore does not check on the client (patterns, enums, maxima); a stack's
// AWS::CodePipeline::Pipeline reaches the same validation through CloudFormation's provider.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation'
import {
  CreatePipelineCommand,
  GetPipelineCommand,
  UpdatePipelineCommand,
} from '@aws-sdk/client-codepipeline'
import { clientEnv, failure } from '../helpers.js'
import { until } from '../codebuild/setup.js'
import { CI, buildStage, fixture, pipeline, sourceStage, type Fixture } from './fixture.js'

let f: Fixture
before(async () => {
  f = await fixture()
})
after(async () => {
  await f?.close()
})

type Decl = Record<string, any>

/** A valid declaration (proved valid by the control case), changed by `change`. */
function declaration(name: string, change: (d: Decl) => void = () => undefined): Decl {
  const d = structuredClone(pipeline(f.keyArn, name, [sourceStage, buildStage])) as Decl
  change(d)
  return d
}

const source = (d: Decl): Decl => d['stages'][0]['actions'][0] as Decl
const build = (d: Decl): Decl => d['stages'][1]['actions'][0] as Decl
const ACTION = 'pipeline.stages.1.member.actions.1.member'

/** Each check declaration.ts made by hand, now the model's: the bad input, AWS's error and message. */
const CASES: {
  readonly name: string
  readonly change: (d: Decl) => void
  readonly code: string
  readonly message: string
}[] = [
  {
    name: 'pipeline name: pattern',
    change: (d) => (d['name'] = 'bad name'),
    code: 'ValidationException',
    message:
      "1 validation error detected: Value 'bad name' at 'pipeline.name' failed to satisfy constraint: Member must satisfy regular expression pattern: [A-Za-z0-9.@\\-_]+",
  },
  {
    name: 'pipeline name: length',
    change: (d) => (d['name'] = 'p'.repeat(101)),
    code: 'ValidationException',
    message: `1 validation error detected: Value '${'p'.repeat(101)}' at 'pipeline.name' failed to satisfy constraint: Member must have length less than or equal to 100`,
  },
  {
    name: 'roleArn: required',
    change: (d) => delete d['roleArn'],
    code: 'ValidationException',
    message:
      "1 validation error detected: Value null at 'pipeline.roleArn' failed to satisfy constraint: Member must not be null",
  },
  {
    name: 'roleArn: pattern',
    change: (d) => (d['roleArn'] = `arn:aws:iam::${CI}:user/pipeline`),
    code: 'ValidationException',
    message: `1 validation error detected: Value 'arn:aws:iam::${CI}:user/pipeline' at 'pipeline.roleArn' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:aws(-[\\w]+)*:iam::[0-9]{12}:role/.*`,
  },
  {
    name: 'roleArn: a string',
    change: (d) => (d['roleArn'] = 7),
    code: 'SerializationException',
    message: "Expected a string at 'pipeline.roleArn'.",
  },
  {
    name: 'artifactStore: a structure',
    change: (d) => (d['artifactStore'] = 'artifacts-ci'),
    code: 'SerializationException',
    message: "Expected a structure at 'pipeline.artifactStore'.",
  },
  {
    name: 'artifactStore type: enum',
    change: (d) => (d['artifactStore']['type'] = 'GCS'),
    code: 'ValidationException',
    message:
      "1 validation error detected: Value 'GCS' at 'pipeline.artifactStore.type' failed to satisfy constraint: Member must satisfy enum value set: [S3]",
  },
  {
    name: 'artifactStore location: pattern and length',
    change: (d) => (d['artifactStore']['location'] = 'b_'),
    code: 'ValidationException',
    message:
      "2 validation errors detected: Value 'b_' at 'pipeline.artifactStore.location' failed to satisfy constraint: Member must have length greater than or equal to 3; Value 'b_' at 'pipeline.artifactStore.location' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9\\-\\.]+",
  },
  {
    name: 'encryptionKey: id required, type enum',
    change: (d) => (d['artifactStore']['encryptionKey'] = { type: 'AES' }),
    code: 'ValidationException',
    message:
      "2 validation errors detected: Value null at 'pipeline.artifactStore.encryptionKey.id' failed to satisfy constraint: Member must not be null; Value 'AES' at 'pipeline.artifactStore.encryptionKey.type' failed to satisfy constraint: Member must satisfy enum value set: [KMS]",
  },
  {
    name: 'artifactStores: a map of structures',
    change: (d) => {
      delete d['artifactStore']
      d['artifactStores'] = { 'us-east-1': 'artifacts-ci' }
    },
    code: 'SerializationException',
    message: "Expected a structure at 'pipeline.artifactStores.us-east-1'.",
  },
  {
    name: 'stages: required',
    change: (d) => delete d['stages'],
    code: 'ValidationException',
    message:
      "1 validation error detected: Value null at 'pipeline.stages' failed to satisfy constraint: Member must not be null",
  },
  {
    name: 'stages: a list',
    change: (d) => (d['stages'] = { Source: sourceStage }),
    code: 'SerializationException',
    message: "Expected a list at 'pipeline.stages'.",
  },
  {
    name: 'a stage: a structure',
    change: (d) => (d['stages'][1] = 'Build'),
    code: 'SerializationException',
    message: "Expected a structure at 'pipeline.stages.2.member'.",
  },
  {
    name: 'stage name: pattern',
    change: (d) => (d['stages'][1]['name'] = 'Build it'),
    code: 'ValidationException',
    message:
      "1 validation error detected: Value 'Build it' at 'pipeline.stages.2.member.name' failed to satisfy constraint: Member must satisfy regular expression pattern: [A-Za-z0-9.@\\-_]+",
  },
  {
    name: 'stage actions: required',
    change: (d) => delete d['stages'][1]['actions'],
    code: 'ValidationException',
    message:
      "1 validation error detected: Value null at 'pipeline.stages.2.member.actions' failed to satisfy constraint: Member must not be null",
  },
  {
    name: 'action name: pattern',
    change: (d) => (source(d)['name'] = 'my source'),
    code: 'ValidationException',
    message: `1 validation error detected: Value 'my source' at '${ACTION}.name' failed to satisfy constraint: Member must satisfy regular expression pattern: [A-Za-z0-9.@\\-_]+`,
  },
  {
    name: 'actionTypeId: required',
    change: (d) => delete source(d)['actionTypeId'],
    code: 'ValidationException',
    message: `1 validation error detected: Value null at '${ACTION}.actionTypeId' failed to satisfy constraint: Member must not be null`,
  },
  {
    name: 'actionTypeId: members required, category and owner enums',
    change: (d) => (source(d)['actionTypeId'] = { category: 'Fetch', owner: 'Me', provider: 'S3' }),
    code: 'ValidationException',
    message: `3 validation errors detected: Value 'Fetch' at '${ACTION}.actionTypeId.category' failed to satisfy constraint: Member must satisfy enum value set: [Source, Build, Deploy, Test, Invoke, Approval, Compute]; Value 'Me' at '${ACTION}.actionTypeId.owner' failed to satisfy constraint: Member must satisfy enum value set: [AWS, ThirdParty, Custom]; Value null at '${ACTION}.actionTypeId.version' failed to satisfy constraint: Member must not be null`,
  },
  {
    name: 'configuration: values are strings',
    change: (d) => (source(d)['configuration']['PollForSourceChanges'] = false),
    code: 'SerializationException',
    message: `Expected a string at '${ACTION}.configuration.PollForSourceChanges'.`,
  },
  {
    name: 'configuration: values not empty',
    change: (d) => (source(d)['configuration']['S3ObjectKey'] = ''),
    code: 'ValidationException',
    message: `1 validation error detected: Value at '${ACTION}.configuration' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length greater than or equal to 1]`,
  },
  {
    name: 'runOrder: at least 1',
    change: (d) => (source(d)['runOrder'] = 0),
    code: 'ValidationException',
    message: `1 validation error detected: Value '0' at '${ACTION}.runOrder' failed to satisfy constraint: Member must have value greater than or equal to 1`,
  },
  {
    name: 'runOrder: at most 999',
    change: (d) => (source(d)['runOrder'] = 1000),
    code: 'ValidationException',
    message: `1 validation error detected: Value '1000' at '${ACTION}.runOrder' failed to satisfy constraint: Member must have value less than or equal to 999`,
  },
  {
    name: 'runOrder: an integer',
    change: (d) => (source(d)['runOrder'] = 1.5),
    code: 'SerializationException',
    message: `Expected an integer at '${ACTION}.runOrder'.`,
  },
  {
    name: 'artifact name: pattern',
    change: (d) => (source(d)['outputArtifacts'] = [{ name: 'Source.Output' }]),
    code: 'ValidationException',
    message: `1 validation error detected: Value 'Source.Output' at '${ACTION}.outputArtifacts.1.member.name' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_\\-]+`,
  },
  {
    name: 'artifacts: a list',
    change: (d) => (build(d)['inputArtifacts'] = { name: 'SourceOutput' }),
    code: 'SerializationException',
    message: "Expected a list at 'pipeline.stages.2.member.actions.1.member.inputArtifacts'.",
  },
  {
    name: "action roleArn: a role's ARN",
    change: (d) => (build(d)['roleArn'] = `arn:aws:iam::${CI}:group/builders`),
    code: 'ValidationException',
    message: `1 validation error detected: Value 'arn:aws:iam::${CI}:group/builders' at 'pipeline.stages.2.member.actions.1.member.roleArn' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:aws(-[\\w]+)*:iam::[0-9]{12}:role/.*`,
  },
  {
    name: 'pipelineType: enum',
    change: (d) => (d['pipelineType'] = 'V3'),
    code: 'ValidationException',
    message:
      "1 validation error detected: Value 'V3' at 'pipeline.pipelineType' failed to satisfy constraint: Member must satisfy enum value set: [V1, V2]",
  },
  {
    name: 'executionMode: enum',
    change: (d) => (d['executionMode'] = 'FAST'),
    code: 'ValidationException',
    message:
      "1 validation error detected: Value 'FAST' at 'pipeline.executionMode' failed to satisfy constraint: Member must satisfy enum value set: [QUEUED, SUPERSEDED, PARALLEL]",
  },
]

test('control: the unchanged declaration passes the model and the declaration rules', async () => {
  // A role CodePipeline may not assume is checked after both: reaching that check proves the
  // declaration the cases change is valid, so each case is refused for its own change.
  const r = await failure(
    f.cp.send(
      new CreatePipelineCommand({
        pipeline: declaration('shape', (d) => (d['roleArn'] = `arn:aws:iam::${CI}:role/build-role`)) as any,
      }),
    ),
  )
  assert.equal(r.name, 'InvalidStructureException')
  assert.equal(
    r.message,
    `CodePipeline is not authorized to perform AssumeRole on role arn:aws:iam::${CI}:role/build-role`,
  )
})

test('a missing pipeline is refused by the model', async () => {
  const r = await failure(f.cp.send(new CreatePipelineCommand({} as any)))
  assert.equal(r.name, 'ValidationException')
  assert.equal(
    r.message,
    "1 validation error detected: Value null at 'pipeline' failed to satisfy constraint: Member must not be null",
  )
})

for (const c of CASES)
  test(`CreatePipeline and UpdatePipeline through the SDK: ${c.name}`, async () => {
    for (const send of [
      (p: Decl) => f.cp.send(new CreatePipelineCommand({ pipeline: p as any })),
      (p: Decl) => f.cp.send(new UpdatePipelineCommand({ pipeline: p as any })),
    ]) {
      const r = await failure(send(declaration('shape', c.change)))
      assert.equal(r.name, c.code)
      assert.equal(r.status, 400)
      assert.equal(r.message, c.message)
    }
    assert.equal(
      (await failure(f.cp.send(new GetPipelineCommand({ name: 'shape' })))).name,
      'PipelineNotFoundException',
    )
  })

// The AWS CLI v1 validates required members, types and minima on the client (botocore's
// ParamValidator), so only what it sends on is the server's to refuse: patterns, enums, maxima.
const cliVersion = spawnSync('aws', ['--version'], { encoding: 'utf8' })
const cliSkip =
  cliVersion.status === 0 && (cliVersion.stdout + cliVersion.stderr).startsWith('aws-cli/1.')
    ? false
    : 'the AWS CLI v1 is not `aws` on this PATH'
const CLI_CASES = [
  'pipeline name: pattern',
  'roleArn: pattern',
  'artifactStore type: enum',
  'stage name: pattern',
  'runOrder: at most 999',
  "action roleArn: a role's ARN",
  'pipelineType: enum',
]

test('the AWS CLI gets the same errors', { skip: cliSkip }, async () => {
  const env = clientEnv(f.h.dir, 'ci')
  for (const name of CLI_CASES) {
    const c = CASES.find((x) => x.name === name)!
    const file = join(f.h.dir, 'declaration.json')
    writeFileSync(file, JSON.stringify(declaration('shape', c.change)))
    const err = await new Promise<string>((resolve) =>
      execFile(
        'aws',
        ['codepipeline', 'create-pipeline', '--pipeline', `file://${file}`],
        { env, encoding: 'utf8', timeout: 90_000 },
        (error, _out, stderr) => resolve(error ? stderr : 'the call succeeded'),
      ),
    )
    assert.equal(
      err.trim(),
      `An error occurred (${c.code}) when calling the CreatePipeline operation: ${c.message}`,
      name,
    )
  }
})

test('what the model cannot say stays the declaration rules: region keys, members the sandbox does not run', async () => {
  let r = await failure(
    f.cp.send(
      new CreatePipelineCommand({
        pipeline: declaration('shape', (d) => {
          d['artifactStores'] = { 'mars-north-1': d['artifactStore'] }
          delete d['artifactStore']
        }) as any,
      }),
    ),
  )
  assert.equal(r.name, 'InvalidStructureException')
  assert.equal(r.message, 'artifactStores names an unknown region mars-north-1')
  r = await failure(
    f.cp.send(
      new CreatePipelineCommand({
        pipeline: declaration('shape', (d) => (build(d)['commands'] = ['make'])) as any,
      }),
    ),
  )
  assert.equal(r.name, 'InvalidActionDeclarationException')
  assert.equal(
    r.message,
    'Action Build in stage Build: commands (of the Commands action) is not supported by the crosspipe sandbox',
  )
})

test("a stack's AWS::CodePipeline::Pipeline meets the same model: the resource fails with its message", async () => {
  const cfn = new CloudFormationClient({
    endpoint: f.h.sandbox.endpoint,
    region: 'us-east-1',
    credentials: f.h.creds('ci'),
    maxAttempts: 1,
  })
  try {
    await cfn.send(
      new CreateStackCommand({
        StackName: 'bad-pipeline',
        TemplateBody: JSON.stringify({
          Resources: {
            Pipeline: {
              Type: 'AWS::CodePipeline::Pipeline',
              Properties: {
                RoleArn: `arn:aws:iam::${CI}:role/pipeline-role`,
                ArtifactStore: { Type: 'S3', Location: 'artifacts-ci' },
                Stages: [
                  {
                    Name: 'Source',
                    Actions: [
                      {
                        Name: 'Source',
                        ActionTypeId: { Category: 'Source', Owner: 'AWS', Provider: 'S3', Version: '1' },
                        Configuration: { S3Bucket: 'source-ci', S3ObjectKey: 'app.zip' },
                        OutputArtifacts: [{ Name: 'SourceOutput' }],
                        RunOrder: 0,
                      },
                    ],
                  },
                  {
                    Name: 'Build',
                    Actions: [
                      {
                        Name: 'Build',
                        ActionTypeId: {
                          Category: 'Build',
                          Owner: 'AWS',
                          Provider: 'CodeBuild',
                          Version: '1',
                        },
                        Configuration: { ProjectName: 'app-build' },
                        InputArtifacts: [{ Name: 'SourceOutput' }],
                      },
                    ],
                  },
                ],
              },
            },
          },
        }),
      }),
    )
    const status = await until('the stack to settle', async () => {
      const s = (await cfn.send(new DescribeStacksCommand({ StackName: 'bad-pipeline' }))).Stacks![0]!
      return s.StackStatus!.endsWith('_IN_PROGRESS') ? undefined : s.StackStatus
    })
    assert.equal(status, 'ROLLBACK_COMPLETE')
    const events = (await cfn.send(new DescribeStackEventsCommand({ StackName: 'bad-pipeline' })))
      .StackEvents!
    const failed = events.find(
      (e) => e.LogicalResourceId === 'Pipeline' && e.ResourceStatus === 'CREATE_FAILED',
    )!
    assert.ok(
      failed.ResourceStatusReason!.includes(
        `1 validation error detected: Value '0' at '${ACTION}.runOrder' failed to satisfy constraint: Member must have value greater than or equal to 1`,
      ),
      failed.ResourceStatusReason,
    )
  } finally {
    cfn.destroy()
  }
})
