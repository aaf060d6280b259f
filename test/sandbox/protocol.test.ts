// Bad input in each protocol gets AWS's 4xx error shape, code and request id — never a 5xx.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { CreateBucketCommand } from '@aws-sdk/client-s3'
import { harness, signRaw, type Harness } from './helpers.js'

let h: Harness
before(async () => {
  h = await harness()
  await h.clients(h.creds('ci')).s3.send(new CreateBucketCommand({ Bucket: 'proto' }))
})
after(async () => {
  await h.close()
})

async function call(
  service: string,
  o: { method?: string; path?: string; headers?: Record<string, string>; body?: string },
) {
  const s = await signRaw({
    endpoint: h.sandbox.endpoint,
    creds: h.creds('ci'),
    service,
    method: o.method ?? 'POST',
    path: o.path ?? '/',
    headers: o.headers ?? {},
    body: o.body,
  })
  const r = await fetch(s.url, { method: o.method ?? 'POST', headers: s.headers, body: o.body })
  return { status: r.status, headers: r.headers, text: await r.text() }
}
const form = { 'content-type': 'application/x-www-form-urlencoded' }
const json = (target: string) => ({ 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target })

test('awsQuery: unknown and missing actions, missing parameters', async () => {
  const unknown = await call('sts', { headers: form, body: 'Action=Nope&Version=2011-06-15' })
  assert.equal(unknown.status, 400)
  assert.match(
    unknown.text,
    /<ErrorResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/"><Error><Type>Sender<\/Type><Code>InvalidAction<\/Code><Message>Could not find operation Nope for version 2011-06-15: the crosspipe sandbox does not support it \(src\/sandbox\/services\/sts\/SPEC.md lists what it does\).<\/Message><\/Error><RequestId>[0-9a-f-]{36}<\/RequestId><\/ErrorResponse>/,
  )
  assert.match(unknown.headers.get('x-amzn-requestid') ?? '', /^[0-9a-f-]{36}$/)
  const missing = await call('iam', { headers: form, body: 'Version=2010-05-08' })
  assert.equal(missing.status, 400)
  assert.match(missing.text, /<Code>MissingAction<\/Code>/)
  const param = await call('iam', { headers: form, body: 'Action=CreateRole&Version=2010-05-08&RoleName=x' })
  assert.equal(param.status, 400)
  assert.match(
    param.text,
    /<Code>ValidationError<\/Code><Message>1 validation error detected: Value null at &apos;assumeRolePolicyDocument&apos; failed to satisfy constraint: Member must not be null<\/Message>/,
  )
})

test('awsJson: unknown operation, malformed JSON, missing and invalid members', async () => {
  const unknown = await call('kms', { headers: json('TrentService.Nope'), body: '{}' })
  assert.equal(unknown.status, 400)
  assert.equal(unknown.headers.get('x-amzn-errortype'), 'UnknownOperationException')
  const bad = await call('kms', { headers: json('TrentService.Encrypt'), body: '{"KeyId":' })
  assert.equal(bad.status, 400)
  assert.equal(JSON.parse(bad.text).__type, 'SerializationException')
  const missing = await call('kms', { headers: json('TrentService.Encrypt'), body: '{"Plaintext":"eA=="}' })
  assert.equal(missing.status, 400)
  assert.deepEqual(JSON.parse(missing.text), {
    __type: 'ValidationException',
    message:
      "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null",
  })
  const wrongType = await call('kms', {
    headers: json('TrentService.Encrypt'),
    body: '{"KeyId":5,"Plaintext":"eA=="}',
  })
  assert.equal(JSON.parse(wrongType.text).__type, 'SerializationException')
  const notFound = await call('kms', {
    headers: json('TrentService.DescribeKey'),
    body: '{"KeyId":"alias/none"}',
  })
  assert.deepEqual(JSON.parse(notFound.text), {
    __type: 'NotFoundException',
    message: 'Alias arn:aws:kms:us-east-1:111111111111:alias/none is not found.',
  })
})

test('restXml: malformed XML, unsupported sub-resources, unknown services', async () => {
  const sha = { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }
  const xml = await call('s3', {
    method: 'PUT',
    path: '/proto?versioning',
    headers: sha,
    body: '<VersioningConfiguration><Status>Sometimes',
  })
  assert.equal(xml.status, 400)
  assert.match(xml.text, /<Error><Code>MalformedXML<\/Code>/)
  assert.ok(xml.headers.get('x-amz-request-id'))
  const sub = await call('s3', { method: 'GET', path: '/proto?website', headers: sha })
  assert.equal(sub.status, 404)
  assert.match(
    sub.text,
    /<Code>NoSuchWebsiteConfiguration<\/Code><Message>The specified bucket does not have a website configuration<\/Message><BucketName>proto<\/BucketName>/,
  )
  // A sub-resource S3 has and the sandbox does not model (GetBucketInventoryConfiguration): 501,
  // from the route table, which no SDK retries.
  const unknown = await call('s3', { method: 'GET', path: '/proto?inventory', headers: sha })
  assert.equal(unknown.status, 501)
  assert.match(
    unknown.text,
    /<Code>NotImplemented<\/Code><Message>The crosspipe sandbox does not implement GetBucketInventoryConfiguration \(GET \/bucket\?inventory\)/,
  )
  const svc = await call('sns', { headers: form, body: 'Action=ListTopics' })
  assert.equal(svc.status, 400)
  assert.match(
    svc.text,
    /<Code>InvalidAction<\/Code><Message>sns is not supported by the crosspipe sandbox: it serves /,
  )
  const huge = await fetch(h.sandbox.endpoint + '/', {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'TrentService.ListKeys',
      'content-length': String(17 * 1024 * 1024),
    },
    body: Buffer.alloc(17 * 1024 * 1024),
  })
  assert.ok(huge.status >= 400 && huge.status < 500, `status ${huge.status}`)
})
