// Fuzz: random and malformed requests, signed and unsigned, for a bounded time. The gateway must
// never answer 5xx (the SDKs retry those, turning one bug into duplicate writes) and never crash.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts'
import { CreateBucketCommand } from '@aws-sdk/client-s3'
import { SignatureV4 } from '@smithy/signature-v4'
import { awsChunkedPut, harness, presignByHand, Sha256, signRaw, type Harness } from './helpers.js'

const SECONDS = Number(process.env.CROSSPIPE_FUZZ_SECONDS ?? 8)
let h: Harness
before(async () => {
  h = await harness()
  await h.clients(h.creds('ci')).s3.send(new CreateBucketCommand({ Bucket: 'fuzz-bucket' }))
})
after(async () => {
  await h.close()
})

// A small seeded PRNG, so a failure can be replayed with CROSSPIPE_FUZZ_SEED.
let seed = Number(process.env.CROSSPIPE_FUZZ_SEED ?? Date.now() % 1_000_000)
const startSeed = seed
function rnd(): number {
  seed = (seed * 1103515245 + 12345) % 2 ** 31
  return seed / 2 ** 31
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!
const ACTIONS = {
  sts: ['GetCallerIdentity', 'AssumeRole', 'Nope'],
  iam: [
    'CreateRole',
    'GetRole',
    'PutRolePolicy',
    'GetRolePolicy',
    'CreatePolicy',
    'AttachRolePolicy',
    'CreatePolicyVersion',
    'DeleteRole',
    'ListRoles',
    'CreateUser',
    'CreateAccessKey',
    'UpdateAssumeRolePolicy',
    'TagRole',
    'Bogus',
  ],
  kms: [
    'CreateKey',
    'Encrypt',
    'Decrypt',
    'ReEncrypt',
    'GenerateDataKey',
    'CreateAlias',
    'PutKeyPolicy',
    'DescribeKey',
    'ScheduleKeyDeletion',
    'ListAliases',
    'Bogus',
  ],
}
const PARAMS = [
  'RoleName',
  'PolicyName',
  'PolicyDocument',
  'AssumeRolePolicyDocument',
  'RoleArn',
  'RoleSessionName',
  'DurationSeconds',
  'PolicyArn',
  'Path',
  'MaxItems',
  'Marker',
  'UserName',
  'Tags.member.1.Key',
  'VersionId',
  'ExternalId',
  'Policy',
]
const JSON_FIELDS = [
  'KeyId',
  'Plaintext',
  'CiphertextBlob',
  'EncryptionContext',
  'Policy',
  'AliasName',
  'TargetKeyId',
  'KeySpec',
  'NumberOfBytes',
  'PendingWindowInDays',
  'Limit',
  'Marker',
  'DestinationKeyId',
  'Description',
  'Tags',
]
function value(): string {
  return pick([
    () => '',
    () => 'x'.repeat(Math.floor(rnd() * 3000)),
    () => String(Math.floor(rnd() * 1e6) - 5000),
    () => '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}',
    () =>
      '{"Statement":[{"Effect":"Allow","Principal":{"AWS":"' +
      pick(['*', 'arn:aws:iam::111111111111:root', 'bogus']) +
      '"},"Action":"sts:AssumeRole"}]}',
    () => '{"Statement":' + pick(['null', '[]', '[1]', '"x"', '{"Effect":"Deny"}']) + '}',
    () =>
      'arn:aws:iam::' + pick(['111111111111', '222222222222', '1']) + ':role/' + pick(['a', 'b', '../x', '']),
    () => 'alias/' + pick(['a', 'aws/s3', '', '../../x']),
    () =>
      Buffer.from([...Array(Math.floor(rnd() * 40))].map(() => Math.floor(rnd() * 256))).toString('base64'),
    () => '\u0000\uffff%%%<>&"\'',
    () => 'r' + Math.floor(rnd() * 5),
  ])()
}
function jsonValue(depth = 0): unknown {
  return pick([
    () => value(),
    () => Math.floor(rnd() * 1e9) - 1e3,
    () => rnd() > 0.5,
    () => null,
    () => (depth > 2 ? [] : [jsonValue(depth + 1), jsonValue(depth + 1)]),
    () => (depth > 2 ? {} : { [pick(JSON_FIELDS)]: jsonValue(depth + 1), k: value() }),
  ])()
}

function raw(
  method: string,
  path: string,
  headers: Record<string, string>,
  body: Buffer | string,
): Promise<number> {
  const url = new URL(h.sandbox.endpoint)
  return new Promise((resolve) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', () => resolve(-1)) // a socket the server refused to parse: not a 5xx
    req.end(body)
  })
}

// Authentication mutations (issue 11): a request signed correctly, then changed the way an attacker
// who captured it would, or signed against a rule. Every one must be refused with a 4xx.
const UNSIGNABLE = [
  'x-amz-copy-source',
  'x-amz-meta-owner',
  'x-amz-tagging',
  'x-amz-acl',
  'x-amz-server-side-encryption',
  'x-amz-website-redirect-location',
  'x-amz-target',
  'x-amz-security-token',
]
async function mutation(creds: {
  accessKeyId: string
  secretAccessKey: string
}): Promise<{ desc: string; status: number }> {
  const m = pick(['added-header', 'host-unsigned', 'unsigned-payload', 'long-presign', 'trailer'] as const)
  const endpoint = h.sandbox.endpoint
  if (m === 'added-header') {
    const service = pick(['s3', 'sts', 'kms'] as const)
    const header = pick(UNSIGNABLE)
    const s3 = service === 's3'
    const body = s3 ? '' : service === 'sts' ? 'Action=GetCallerIdentity&Version=2011-06-15' : '{}'
    const headers: Record<string, string> = s3
      ? { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }
      : service === 'sts'
        ? { 'content-type': 'application/x-www-form-urlencoded' }
        : { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.ListKeys' }
    const path = s3 ? '/fuzz-bucket/k' + Math.floor(rnd() * 5) : '/'
    const method = s3 ? pick(['PUT', 'GET', 'DELETE']) : 'POST'
    const signed = await signRaw({ endpoint, creds, service, method, path, headers, body })
    const sent = { ...signed.headers }
    // Replace a signed header's value or add an unsigned one; either way the request is not what was signed.
    const existing = Object.keys(sent).find((k) => k.toLowerCase() === header)
    sent[existing ?? header] = value().replace(/[^\x21-\x7e]/g, 'x') || 'x'
    const status = await raw(method, path, sent, method === 'GET' ? '' : body)
    return { desc: `auth: ${service} ${method} with ${header} not as signed`, status }
  }
  if (m === 'host-unsigned') {
    const url = new URL(endpoint + '/fuzz-bucket/k')
    const signer = new SignatureV4({ service: 's3', region: 'us-east-1', credentials: creds, sha256: Sha256 })
    const signed = await signer.sign({
      method: 'GET',
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query: {},
      headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    })
    return {
      desc: 'auth: s3 GET without host among the signed headers',
      status: await raw('GET', url.pathname, signed.headers, ''),
    }
  }
  if (m === 'unsigned-payload') {
    const service = pick(['sts', 'iam', 'kms'] as const)
    const json = service === 'kms'
    const signedBody = json
      ? '{}'
      : `Action=${service === 'sts' ? 'GetCallerIdentity&Version=2011-06-15' : 'ListRoles&Version=2010-05-08'}`
    const headers: Record<string, string> = json
      ? { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.ListKeys' }
      : { 'content-type': 'application/x-www-form-urlencoded' }
    headers['x-amz-content-sha256'] = pick([
      'UNSIGNED-PAYLOAD',
      'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      '0'.repeat(64),
    ])
    const s = await signRaw({
      endpoint,
      creds,
      service,
      method: 'POST',
      path: '/',
      headers,
      body: signedBody,
    })
    const sent = json
      ? JSON.stringify({ Limit: Math.floor(rnd() * 10) + 1 })
      : `${signedBody}&MaxItems=${Math.floor(rnd() * 9) + 1}`
    return {
      desc: `auth: ${service} body swapped under ${headers['x-amz-content-sha256']}`,
      status: await raw('POST', '/', s.headers, sent),
    }
  }
  if (m === 'long-presign') {
    const expires = pick([604_801, 10 ** 9, -1, -604_800])
    const url = new URL(presignByHand(h, creds, '/fuzz-bucket/k', expires))
    return {
      desc: `auth: presigned X-Amz-Expires=${expires}`,
      status: await raw('GET', url.pathname + url.search, {}, ''),
    }
  }
  const data = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () =>
    Buffer.from(value().slice(0, 2000) || 'x'),
  )
  const r = await awsChunkedPut(
    h,
    creds,
    '/fuzz-bucket/chunked',
    data,
    'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    'unsigned',
  )
  const u = new URL(r.url)
  return {
    desc: 'auth: unsigned trailer after signed chunks',
    status: await raw('PUT', u.pathname, r.headers, r.body),
  }
}

async function one(): Promise<{ desc: string; status: number; mustReject?: boolean }> {
  const creds = pick([h.creds('ci'), h.creds('dev')])
  const kind = pick(['query', 'json', 's3', 'garbage', 'auth'])
  if (kind === 'auth') return { ...(await mutation(creds)), mustReject: true }
  if (kind === 'garbage') {
    const method = pick(['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH', 'OPTIONS'])
    const path = pick([
      '/',
      '/%',
      '/%zz',
      '/_crosspipe/accounts',
      '/fuzz-bucket/' + value().slice(0, 50),
      '/?Action=GetCallerIdentity',
      '/x?X-Amz-Algorithm=AWS4-HMAC-SHA256',
    ])
    const headers: Record<string, string> = {}
    if (rnd() > 0.5)
      headers['authorization'] = pick([
        'AWS4-HMAC-SHA256 ',
        'AWS4-HMAC-SHA256 Credential=a/b/c/d/aws4_request, SignedHeaders=host, Signature=00',
        'Basic x',
        'AWS4-HMAC-SHA256 Credential=' +
          creds.accessKeyId +
          '/20200101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=' +
          '0'.repeat(64),
      ])
    if (rnd() > 0.5)
      headers['x-amz-target'] = pick(['TrentService.ListKeys', 'TrentService.', 'Nope.Nope', '.'])
    if (rnd() > 0.5) headers['x-amz-date'] = pick(['20200101T000000Z', 'garbage', ''])
    if (rnd() > 0.5)
      headers['content-type'] = pick([
        'application/x-www-form-urlencoded',
        'application/x-amz-json-1.1',
        'text/xml',
      ])
    const status = await raw(method, path.replace(/[^\x21-\x7e]/g, 'x'), headers, value())
    return { desc: `garbage ${method} ${path}`, status }
  }
  if (kind === 'query') {
    const service = pick(['sts', 'iam'] as const)
    const params = new URLSearchParams({
      Action: pick(ACTIONS[service]),
      Version: service === 'sts' ? '2011-06-15' : '2010-05-08',
    })
    for (let i = Math.floor(rnd() * 5); i > 0; i--) params.set(pick(PARAMS), value())
    const body = params.toString()
    const s = await signRaw({
      endpoint: h.sandbox.endpoint,
      creds,
      service,
      method: 'POST',
      path: '/',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    })
    const r = await fetch(s.url, { method: 'POST', headers: s.headers, body })
    await r.arrayBuffer()
    return { desc: `${service} ${body.slice(0, 200)}`, status: r.status }
  }
  if (kind === 'json') {
    const target = 'TrentService.' + pick(ACTIONS.kms)
    const doc: Record<string, unknown> = {}
    for (let i = Math.floor(rnd() * 5); i > 0; i--) doc[pick(JSON_FIELDS)] = jsonValue()
    const body = rnd() > 0.9 ? pick(['', '[', 'null', '[]', '"x"', '{"a":']) : JSON.stringify(doc)
    const s = await signRaw({
      endpoint: h.sandbox.endpoint,
      creds,
      service: 'kms',
      method: 'POST',
      path: '/',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target },
      body,
    })
    const r = await fetch(s.url, { method: 'POST', headers: s.headers, body })
    await r.arrayBuffer()
    return { desc: `kms ${target} ${body.slice(0, 200)}`, status: r.status }
  }
  const method = pick(['GET', 'PUT', 'POST', 'DELETE', 'HEAD'])
  const sub = pick([
    '',
    '?policy',
    '?versioning',
    '?encryption',
    '?tagging',
    '?lifecycle',
    '?uploads',
    '?delete',
    '?versions',
    '?list-type=2&max-keys=' + value().slice(0, 5),
    '?uploadId=x&partNumber=' + value().slice(0, 4),
    '?publicAccessBlock',
    '?ownershipControls',
    '?location',
  ])
  const path =
    pick([
      '/fuzz-bucket',
      '/fuzz-bucket/k',
      '/fuzz-bucket/' + encodeURIComponent(value().slice(0, 30)),
      '/' + encodeURIComponent(value().slice(0, 20)),
      '/',
    ]) + sub
  const body = pick([
    '',
    value(),
    '<Delete><Object><Key>k</Key></Object></Delete>',
    '<VersioningConfiguration><Status>' + value().slice(0, 10) + '</Status></VersioningConfiguration>',
    '<a><b>',
    '{"Statement":[]}',
  ])
  const headers: Record<string, string> = {
    'x-amz-content-sha256': pick(['UNSIGNED-PAYLOAD', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'nonsense']),
  }
  if (rnd() > 0.6) headers['range'] = pick(['bytes=0-1', 'bytes=-', 'bytes=5-1', 'items=1-2'])
  if (rnd() > 0.7) headers['x-amz-copy-source'] = pick(['/fuzz-bucket/k', 'nope', '%%', '/no-bucket/x'])
  if (rnd() > 0.7) headers['x-amz-server-side-encryption'] = pick(['aws:kms', 'AES256', 'bogus'])
  if (rnd() > 0.8) headers['content-md5'] = pick(['bad', '1B2M2Y8AsgTpgAmY7PhCfg=='])
  const s = await signRaw({ endpoint: h.sandbox.endpoint, creds, service: 's3', method, path, headers, body })
  const r = await fetch(s.url, {
    method,
    headers: s.headers,
    body: method === 'GET' || method === 'HEAD' ? undefined : body,
  })
  await r.arrayBuffer()
  return { desc: `s3 ${method} ${path}`, status: r.status }
}

test(`fuzz: ${SECONDS}s of random requests, no 5xx and no crash, every authentication mutation refused`, async () => {
  const end = Date.now() + SECONDS * 1000
  let n = 0
  let mutations = 0
  const statuses = new Map<number, number>()
  while (Date.now() < end) {
    const batch = await Promise.all(Array.from({ length: 8 }, () => one()))
    for (const r of batch) {
      n++
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1)
      assert.ok(r.status < 500, `5xx (${r.status}) for ${r.desc} (seed ${startSeed})`)
      if (r.mustReject) {
        mutations++
        assert.ok(r.status >= 400, `accepted (${r.status}): ${r.desc} (seed ${startSeed})`)
      }
    }
  }
  console.log(
    `fuzz: ${n} requests (${mutations} authentication mutations), seed ${startSeed}, statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
  )
  assert.ok(n > 100)
  assert.ok(mutations > 10, `only ${mutations} authentication mutations ran`)
  const id = await h.clients(h.creds('ci')).sts.send(new GetCallerIdentityCommand({}))
  assert.equal(id.Account, '111111111111')
})
