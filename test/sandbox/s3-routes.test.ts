// The S3 route table (issue 13): every row reaches its operation, and what reaches none is
// answered from the table: an unmodelled operation 501, another operation's sub-resource or
// parameter 405, an unknown parameter 400. Table-driven, without a sandbox; then a few rows over
// the wire, signed as a client signs them.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { ROUTES, route, type Level } from '../../src/sandbox/services/s3/routes.js'
import { OPERATIONS, OPERATION_LIST, parametersOf } from '../../src/sandbox/services/s3/operations/index.js'
import { CreateBucketCommand, ListBucketsCommand } from '@aws-sdk/client-s3'
import { harness, s3Raw, type Harness } from './helpers.js'

function routed(
  method: string,
  level: Level,
  query: [string, string][],
  headers: Record<string, string> = {},
): string {
  return route(method, level, query, new Map(Object.entries(headers)), parametersOf).op
}

function refused(
  method: string,
  level: Level,
  query: [string, string][],
  headers: Record<string, string> = {},
): { code: string; status: number } {
  try {
    const op = routed(method, level, query, headers)
    throw new Error(`expected ${method} ${level} ${JSON.stringify(query)} to be refused, it reached ${op}`)
  } catch (e) {
    const err = e as { code?: string; status?: number }
    if (err.code === undefined) throw e
    return { code: err.code, status: err.status! }
  }
}

test('route table: every row reaches its operation (or 501 for the unmodelled ones)', () => {
  let modelled = 0
  for (const r of ROUTES) {
    const query: [string, string][] = r.sub ? [[r.sub, r.value ?? '']] : []
    const headers: Record<string, string> = r.header ? { [r.header]: 'src-bucket/key' } : {}
    if (r.unmodelled) {
      assert.deepEqual(
        refused(r.method, r.level, query, headers),
        { code: 'NotImplemented', status: 501 },
        r.op,
      )
      assert.equal(OPERATIONS.has(r.op), false, `${r.op} is unmodelled and has no operation`)
      continue
    }
    assert.equal(routed(r.method, r.level, query, headers), r.op)
    assert.ok(OPERATIONS.has(r.op), `${r.op} has an operation`)
    modelled++
  }
  // Every operation is reachable by exactly one row, and every row names a distinct operation.
  const names = ROUTES.map((r) => r.op)
  assert.equal(new Set(names).size, names.length, 'no operation named twice')
  for (const op of OPERATION_LIST) assert.ok(names.includes(op.name), `${op.name} has a row`)
  assert.equal(modelled, OPERATION_LIST.length)
  console.log(`route table: ${ROUTES.length} rows, ${modelled} modelled operations`)
})

test('route table: parameters of an operation route with it; signing parameters and cache-busters are ignored', () => {
  assert.equal(
    routed('GET', 'bucket', [
      ['list-type', '2'],
      ['prefix', 'a/'],
      ['max-keys', '5'],
    ]),
    'ListObjectsV2',
  )
  assert.equal(
    routed('GET', 'bucket', [
      ['prefix', 'a/'],
      ['marker', 'x'],
    ]),
    'ListObjects',
  )
  assert.equal(
    routed('GET', 'bucket', [
      ['versions', ''],
      ['key-marker', 'k'],
    ]),
    'ListObjectVersions',
  )
  assert.equal(
    routed('PUT', 'object', [
      ['uploadId', 'u'],
      ['partNumber', '2'],
    ]),
    'UploadPart',
  )
  assert.equal(
    routed(
      'PUT',
      'object',
      [
        ['uploadId', 'u'],
        ['partNumber', '2'],
      ],
      { 'x-amz-copy-source': 'b/k' },
    ),
    'UploadPartCopy',
  )
  assert.equal(routed('PUT', 'object', [], { 'x-amz-copy-source': 'b/k' }), 'CopyObject')
  assert.equal(routed('GET', 'object', [['v', '2']]), 'GetObject')
  assert.equal(
    routed('GET', 'object', [
      ['versionId', 'x'],
      ['response-content-type', 'a/b'],
    ]),
    'GetObject',
  )
  assert.equal(
    routed('GET', 'object', [
      ['tagging', ''],
      ['versionId', 'x'],
    ]),
    'GetObjectTagging',
  )
  assert.equal(
    routed('GET', 'bucket', [
      ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
      ['X-Amz-Signature', 'ab'],
      ['x-id', 'ListObjects'],
    ]),
    'ListObjects',
  )
  assert.equal(routed('GET', 'service', []), 'ListBuckets')
})

test('route table: another operation’s sub-resource or parameter is 405, an unknown one 400, an unmodelled one 501', () => {
  const cases: [string, Level, [string, string][], string, number][] = [
    // Another operation's sub-resource or parameter on the wrong method: 405.
    ['PUT', 'bucket', [['uploads', '']], 'MethodNotAllowed', 405],
    ['PUT', 'bucket', [['uploadId', 'x']], 'MethodNotAllowed', 405],
    ['PUT', 'bucket', [['delete', '']], 'MethodNotAllowed', 405],
    ['PUT', 'bucket', [['versions', '']], 'MethodNotAllowed', 405],
    ['PUT', 'bucket', [['max-keys', '3']], 'MethodNotAllowed', 405],
    ['PUT', 'bucket', [['versionId', 'v']], 'MethodNotAllowed', 405],
    ['PUT', 'bucket', [['policyStatus', '']], 'MethodNotAllowed', 405],
    ['PUT', 'bucket', [['location', '']], 'MethodNotAllowed', 405],
    ['DELETE', 'bucket', [['acl', '']], 'MethodNotAllowed', 405],
    ['DELETE', 'bucket', [['logging', '']], 'MethodNotAllowed', 405],
    ['DELETE', 'bucket', [['versioning', '']], 'MethodNotAllowed', 405],
    ['GET', 'bucket', [['delete', '']], 'MethodNotAllowed', 405],
    ['GET', 'object', [['uploads', '']], 'MethodNotAllowed', 405],
    ['POST', 'object', [], 'MethodNotAllowed', 405],
    ['PUT', 'service', [], 'MethodNotAllowed', 405],
    // A parameter no operation takes, on a bucket: 400.
    ['PUT', 'bucket', [['foo', '']], 'InvalidArgument', 400],
    ['GET', 'bucket', [['nonsense', '1']], 'InvalidArgument', 400],
    ['GET', 'bucket', [['list-type', '3']], 'InvalidArgument', 400],
    // A sub-resource S3 has and the sandbox does not model: 501.
    ['PUT', 'bucket', [['website', '']], 'NotImplemented', 501],
    ['PUT', 'bucket', [['cors', '']], 'NotImplemented', 501],
    ['PUT', 'bucket', [['object-lock', '']], 'NotImplemented', 501],
    [
      'GET',
      'bucket',
      [
        ['analytics', ''],
        ['id', 'a'],
      ],
      'NotImplemented',
      501,
    ],
    ['PUT', 'object', [['acl', '']], 'NotImplemented', 501],
    ['GET', 'object', [['torrent', '']], 'NotImplemented', 501],
  ]
  for (const [method, level, query, code, status] of cases)
    assert.deepEqual(
      refused(method, level, query),
      { code, status },
      `${method} ${level} ${JSON.stringify(query)}`,
    )
})

let h: Harness
before(async () => {
  h = await harness()
  await h.clients(h.creds('ci')).s3.send(new CreateBucketCommand({ Bucket: 'routes' }))
})
after(async () => {
  await h.close()
})

test('route table over the wire: 405, 400 and 501 reach the client as S3 errors', async () => {
  for (const [method, path, code, status] of [
    ['PUT', '/routes?uploads', 'MethodNotAllowed', 405],
    ['PUT', '/routes?max-keys=2', 'MethodNotAllowed', 405],
    ['PUT', '/routes?bogus=1', 'InvalidArgument', 400],
    ['PUT', '/routes?website', 'NotImplemented', 501],
    ['DELETE', '/routes?acl', 'MethodNotAllowed', 405],
  ] as const) {
    const { status: got, text } = await s3Raw(h, h.creds('ci'), { method, path })
    assert.equal(got, status, `${method} ${path}: ${text}`)
    assert.match(text, new RegExp(`<Code>${code}</Code>`))
  }
})

test('ListBuckets takes its parameters (prefix, max-buckets with a continuation token) instead of refusing them', async () => {
  const c = h.clients(h.creds('ci')).s3
  for (const b of ['routes-a1', 'routes-a2', 'routes-a3'])
    await c.send(new CreateBucketCommand({ Bucket: b }))
  const first = await c.send(new ListBucketsCommand({ Prefix: 'routes-a', MaxBuckets: 2 }))
  assert.deepEqual(
    first.Buckets?.map((b) => b.Name),
    ['routes-a1', 'routes-a2'],
  )
  assert.ok(first.ContinuationToken)
  const rest = await c.send(
    new ListBucketsCommand({ Prefix: 'routes-a', MaxBuckets: 2, ContinuationToken: first.ContinuationToken }),
  )
  assert.deepEqual(
    rest.Buckets?.map((b) => b.Name),
    ['routes-a3'],
  )
  assert.equal(rest.ContinuationToken, undefined)
  const other = await c.send(new ListBucketsCommand({ BucketRegion: 'eu-west-3' }))
  assert.deepEqual(other.Buckets ?? [], [])
})
