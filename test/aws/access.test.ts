/**
 * src/aws against a tiny local endpoint that speaks CloudFormation's and STS's query protocol:
 * the profile a request is signed with, retries with backoff on throttling and transient errors
 * (and none on a client error), credentials checked against the account they belong to, and the
 * template URLs built for AWS and for custom endpoints.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { profileAccess, sandboxAccess, verifyAccess } from '../../src/aws/index.js'
import { CrosspipeError } from '../../src/model/errors.js'

const CI = { account: '111111111111', region: 'eu-west-1' }
const DEV = { account: '222222222222', region: 'eu-west-1' }
const KEYS: Record<string, string> = { AKIDCI: CI.account, AKIDDEV: DEV.account }

interface Seen {
  action: string
  accessKey: string
  region: string
}
let server: Server
let endpoint = ''
let dir = ''
const seen: Seen[] = []
/** Responses queued per action: each is [status, errorCode] or 'ok'. */
const script = new Map<string, (readonly [number, string] | 'ok')[]>()

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'crosspipe-aws-'))
  writeFileSync(
    join(dir, 'credentials'),
    '[ci]\naws_access_key_id = AKIDCI\naws_secret_access_key = s1\n[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = s2\n',
  )
  server = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      const params = new URLSearchParams(body)
      const action = params.get('Action') ?? ''
      const m = /Credential=([^/]+)\/\d+\/([^/]+)\//.exec(req.headers.authorization ?? '')
      const accessKey = m?.[1] ?? ''
      seen.push({ action, accessKey, region: m?.[2] ?? '' })
      const next = script.get(action)?.shift() ?? 'ok'
      res.setHeader('content-type', 'text/xml')
      if (next !== 'ok') {
        res.statusCode = next[0]
        res.end(
          `<ErrorResponse><Error><Type>Sender</Type><Code>${next[1]}</Code><Message>${next[1] === 'ValidationError' ? 'Stack with id x does not exist' : 'Rate exceeded'}</Message></Error><RequestId>r</RequestId></ErrorResponse>`,
        )
        return
      }
      if (action === 'GetCallerIdentity') {
        const account = KEYS[accessKey] ?? '999999999999'
        res.end(
          `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::${account}:user/u</Arn><UserId>U</UserId><Account>${account}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
        )
        return
      }
      res.end(
        `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member><StackName>s</StackName><StackId>arn:aws:cloudformation:eu-west-1:${CI.account}:stack/s/1</StackId><StackStatus>CREATE_COMPLETE</StackStatus><CreationTime>2020-01-01T00:00:00Z</CreationTime><Outputs><member><OutputKey>KeyArn</OutputKey><OutputValue>arn:k</OutputValue></member></Outputs><Parameters><member><ParameterKey>P</ParameterKey><ParameterValue>v</ParameterValue></member></Parameters></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DescribeStacksResponse>`,
      )
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const a = server.address()
  endpoint = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`
})
after(() => {
  server.close()
  rmSync(dir, { recursive: true, force: true })
})

const access = () =>
  sandboxAccess({
    endpointUrl: endpoint,
    credentialsFile: join(dir, 'credentials'),
    profiles: { [CI.account]: 'ci', [DEV.account]: 'dev' },
  })

test('each account signs with its own profile, in the stack region', async () => {
  seen.length = 0
  const a = access()
  const d = await a.cloudFormation(DEV).describeStack('s')
  assert.equal(d?.status, 'CREATE_COMPLETE')
  assert.deepEqual(d?.outputs, { KeyArn: 'arn:k' })
  assert.deepEqual(d?.parameters, { P: 'v' })
  await a.cloudFormation({ ...CI, region: 'us-east-2' }).describeStack('s')
  assert.deepEqual(seen, [
    { action: 'DescribeStacks', accessKey: 'AKIDDEV', region: 'eu-west-1' },
    { action: 'DescribeStacks', accessKey: 'AKIDCI', region: 'us-east-2' },
  ])
})

test('throttling and transient server errors are retried with backoff; the call then succeeds', async () => {
  seen.length = 0
  script.set('DescribeStacks', [
    [400, 'Throttling'],
    [503, 'ServiceUnavailable'],
    [500, 'InternalFailure'],
  ])
  const d = await access().cloudFormation(CI).describeStack('s')
  assert.equal(d?.status, 'CREATE_COMPLETE')
  assert.equal(seen.filter((s) => s.action === 'DescribeStacks').length, 4)
  // Three retries: more than the SDK's default of three attempts in all (crosspipe sets eight).
})

test('a client error is not retried; a missing stack is undefined', async () => {
  seen.length = 0
  script.set('DescribeStacks', [[400, 'ValidationError']])
  assert.equal(await access().cloudFormation(CI).describeStack('s'), undefined)
  assert.equal(seen.length, 1)
})

test('verifyAccess: credentials that belong to another account, and an account without a profile, are bad input', async () => {
  const swapped = sandboxAccess({
    endpointUrl: endpoint,
    credentialsFile: join(dir, 'credentials'),
    profiles: { [CI.account]: 'dev' },
  })
  await assert.rejects(verifyAccess(swapped, [CI, DEV]), (e: unknown) => {
    assert.ok(e instanceof CrosspipeError)
    assert.equal(e.code, 'credentials')
    assert.deepEqual(
      e.problems.map((p) => p.message),
      [
        `the credentials for account ${CI.account} (sandbox profile "dev" at ${endpoint}) belong to account ${DEV.account} (arn:aws:iam::${DEV.account}:user/u)`,
        `account ${DEV.account} is not an account of the sandbox at ${endpoint} (it has: dev ${CI.account}); start the sandbox with that account or fix the manifest`,
      ],
    )
    return true
  })
  const ok = await verifyAccess(access(), [CI, DEV, CI])
  assert.deepEqual(
    ok.map((v) => [v.account, v.identity.account]),
    [
      [CI.account, CI.account],
      [DEV.account, DEV.account],
    ],
  )
})

test('profileAccess: an account missing from the profile map, and a profile missing from the files', async () => {
  const a = profileAccess({
    profiles: { [CI.account]: 'nope' },
    credentialsFile: join(dir, 'credentials'),
    endpointUrl: endpoint,
  })
  await assert.rejects(verifyAccess(a, [CI, DEV]), (e: unknown) => {
    assert.ok(e instanceof CrosspipeError)
    assert.match(e.problems[0]!.message, /cannot use profile "nope": .*nope/)
    assert.match(
      e.problems[1]!.message,
      /no profile for account 222222222222: .*--profile-map 222222222222=<profile>/,
    )
    return true
  })
})

test('template URLs: virtual-hosted on AWS with the partition DNS suffix; path-style under an endpoint', () => {
  const saved = process.env.AWS_ENDPOINT_URL
  delete process.env.AWS_ENDPOINT_URL
  try {
    const aws = profileAccess({ profiles: { [CI.account]: 'ci' } })
    assert.equal(
      aws.s3(CI).objectUrl('b', 'crosspipe/p/s/h.template'),
      'https://b.s3.eu-west-1.amazonaws.com/crosspipe/p/s/h.template',
    )
    assert.equal(
      aws.s3({ ...CI, region: 'cn-north-1' }).objectUrl('b', 'k'),
      'https://b.s3.cn-north-1.amazonaws.com.cn/k',
    )
    process.env.AWS_ENDPOINT_URL = 'http://localhost:4566/'
    const local = profileAccess({ profiles: { [CI.account]: 'ci' } })
    assert.equal(local.s3(CI).objectUrl('b', 'a b/c'), 'http://localhost:4566/b/a%20b/c')
  } finally {
    if (saved === undefined) delete process.env.AWS_ENDPOINT_URL
    else process.env.AWS_ENDPOINT_URL = saved
  }
})
