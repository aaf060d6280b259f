// Malformed input to every CodePipeline and CodeBuild operation: always a 4xx in AWS's shape,
// never a 5xx (the SDKs retry those) — a seeded random walk over wrong types and shapes.
//
// Every wait is bounded and says what it waited for (this file once hung on a loaded machine):
// the start and stop of the sandbox, each request (with the seed and the input, so that a request
// the sandbox never answers can be replayed with CROSSPIPE_FUZZ_SEED), and each test as a whole.
// The walk is a fixed number of requests, not a wall-clock budget, so a slow machine runs the same
// requests, only slower.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { signRaw, type Harness } from '../helpers.js'
import { sandboxWithBuilds } from '../codebuild/setup.js'
import { codepipelineService } from '../../../src/sandbox/services/codepipeline/api.js'

/** How long one request may take before the test fails naming it. */
const REQUEST_TIMEOUT_MS = 30_000
/** Requests in the random walk. */
const WALK = 150

/** `p`, or a failure naming `what` after `ms`. */
async function bounded<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms / 1000} s`)), ms)
      }),
    ])
  } finally {
    clearTimeout(timer)
  }
}

let h: Harness
before(async () => {
  h = await bounded('starting the sandbox', 60_000, sandboxWithBuilds([codepipelineService]))
})
after(async () => {
  await bounded('stopping the sandbox', 30_000, h.close())
})

let seed = Number(process.env.CROSSPIPE_FUZZ_SEED ?? Date.now() % 1_000_000)
const start = seed

/** A signed awsJson call; fails naming the call when the sandbox does not answer in time. */
async function call(service: string, op: string, body: string): Promise<{ status: number; text: string }> {
  const prefix = service === 'codebuild' ? 'CodeBuild_20161006' : 'CodePipeline_20150709'
  const { url, headers } = await signRaw({
    endpoint: h.sandbox.endpoint,
    creds: h.creds('ci'),
    service,
    method: 'POST',
    path: '/',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `${prefix}.${op}` },
    body,
  })
  const what = `seed ${start}: ${service} ${op} ${body}`
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    })
    return { status: res.status, text: await res.text() }
  } catch (e) {
    if ((e as Error).name === 'TimeoutError')
      throw new Error(`${what}: no answer within ${REQUEST_TIMEOUT_MS / 1000} s`, { cause: e })
    throw e
  }
}
const rnd = () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31
  return seed / 2 ** 31
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!

const OPS = {
  codepipeline: {
    prefix: 'CodePipeline_20150709',
    ops: [
      'CreatePipeline',
      'UpdatePipeline',
      'DeletePipeline',
      'GetPipeline',
      'ListPipelines',
      'StartPipelineExecution',
      'StopPipelineExecution',
      'GetPipelineState',
      'GetPipelineExecution',
      'ListPipelineExecutions',
      'ListActionExecutions',
      'PutApprovalResult',
      'RetryStageExecution',
    ],
  },
  codebuild: {
    prefix: 'CodeBuild_20161006',
    ops: [
      'CreateProject',
      'UpdateProject',
      'DeleteProject',
      'BatchGetProjects',
      'ListProjects',
      'StartBuild',
      'StopBuild',
      'BatchGetBuilds',
      'ListBuildsForProject',
    ],
  },
}
const KEYS = [
  'pipeline',
  'name',
  'pipelineName',
  'pipelineExecutionId',
  'stageName',
  'actionName',
  'token',
  'result',
  'retryMode',
  'filter',
  'source',
  'artifacts',
  'environment',
  'serviceRole',
  'names',
  'ids',
  'id',
  'projectName',
  'environmentVariablesOverride',
  'tags',
  'abandon',
  'version',
  'timeoutInMinutes',
  'secondarySources',
  'secondaryArtifacts',
  'buildspecOverride',
  'sourceVersion',
  'encryptionKey',
  'maxResults',
  'nextToken',
  'sortBy',
  'sortOrder',
  'reason',
  'timeoutInMinutesOverride',
  'queuedTimeoutInMinutes',
  'description',
]
const VALUES: unknown[] = [
  null,
  0,
  -1,
  1.5,
  true,
  '',
  'x',
  'a'.repeat(300),
  [],
  [null],
  [1, 'a'],
  {},
  { type: 'S3' },
  { name: 'p', stages: [null] },
  {
    name: 'p',
    roleArn: 'arn:aws:iam::111111111111:role/r',
    artifactStore: { type: 'S3', location: 'b' },
    stages: [{ name: 's', actions: [{ name: 'a', actionTypeId: {} }] }, 5],
  },
  { status: 'Approved' },
  [{ name: 1, value: {} }],
]

test('malformed input never gets a 5xx', { timeout: 240_000 }, async () => {
  for (let n = 0; n < WALK; n++) {
    const service = pick(['codepipeline', 'codebuild'] as const)
    const op = pick(OPS[service].ops)
    const input: Record<string, unknown> = {}
    for (let i = Math.floor(rnd() * 4); i > 0; i--) input[pick(KEYS)] = pick(VALUES)
    const body = rnd() < 0.05 ? '{"broken' : JSON.stringify(input)
    const { status, text } = await call(service, op, body)
    assert.ok(status < 500, `seed ${start}: ${service} ${op} ${body} → ${status} ${text}`)
    if (status >= 400) assert.ok((JSON.parse(text) as { __type?: string }).__type, text)
  }
})

test('near-valid input with one wrong part gets a 4xx', { timeout: 240_000 }, async () => {
  const project = {
    name: 'p1',
    source: { type: 'NO_SOURCE', buildspec: 'version: 0.2' },
    artifacts: { type: 'NO_ARTIFACTS' },
    environment: { type: 'LINUX_CONTAINER', image: 'i', computeType: 'BUILD_GENERAL1_SMALL' },
    serviceRole: 'arn:aws:iam::111111111111:role/none',
  }
  const decl = {
    name: 'p1',
    roleArn: 'arn:aws:iam::111111111111:role/none',
    artifactStore: { type: 'S3', location: 'bucket' },
    stages: [
      {
        name: 'S',
        actions: [
          {
            name: 'a',
            actionTypeId: { category: 'Source', owner: 'AWS', provider: 'S3', version: '1' },
            configuration: { S3Bucket: 'b', S3ObjectKey: 'k' },
            outputArtifacts: [{ name: 'o' }],
          },
        ],
      },
      {
        name: 'B',
        actions: [
          {
            name: 'b',
            actionTypeId: { category: 'Approval', owner: 'AWS', provider: 'Manual', version: '1' },
          },
        ],
      },
    ],
  }
  const cases: [string, string, unknown][] = [
    ['codebuild', 'CreateProject', { ...project, secondarySources: [null] }],
    [
      'codebuild',
      'CreateProject',
      { ...project, environment: { ...project.environment, environmentVariables: [null] } },
    ],
    ['codebuild', 'CreateProject', { ...project, source: null }],
    ['codebuild', 'StartBuild', { projectName: 'p1', environmentVariablesOverride: [{ name: 'a' }] }],
    [
      'codepipeline',
      'CreatePipeline',
      {
        pipeline: {
          ...decl,
          artifactStore: undefined,
          artifactStores: JSON.parse('{"__proto__": {"type": "S3", "location": "b"}}'),
        },
      },
    ],
    [
      'codepipeline',
      'CreatePipeline',
      { pipeline: { ...decl, stages: [decl.stages[0], { name: 'B', actions: [null] }] } },
    ],
    [
      'codepipeline',
      'CreatePipeline',
      {
        pipeline: {
          ...decl,
          stages: [decl.stages[0], { name: 'B', actions: [{ name: 'x', actionTypeId: null }] }],
        },
      },
    ],
    [
      'codepipeline',
      'CreatePipeline',
      {
        pipeline: {
          ...decl,
          stages: [
            decl.stages[0],
            {
              name: 'B',
              actions: [{ ...decl.stages[1]!.actions[0], configuration: { CustomData: { a: 1 } } }],
            },
          ],
        },
      },
    ],
    [
      'codepipeline',
      'PutApprovalResult',
      { pipelineName: 'none', stageName: 's', actionName: 'a', token: 't', result: 5 },
    ],
    ['codepipeline', 'ListActionExecutions', { pipelineName: 'none', filter: 'x' }],
  ]
  for (const [service, op, input] of cases) {
    const body = JSON.stringify(input)
    const { status, text } = await call(service, op, body)
    assert.ok(status >= 400 && status < 500, `${op} ${body} → ${status} ${text}`)
  }
})
