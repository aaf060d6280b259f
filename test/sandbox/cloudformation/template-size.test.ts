// CloudFormation's template size quotas in the sandbox, from the one table of AWS facts: 51,200
// bytes as TemplateBody, 1,000,000 (a decimal megabyte, as CloudFormation's own refusal says) from
// a TemplateURL. The sandbox used to accept up to 1,048,576 bytes, which synth and check did not.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { CloudFormationClient, ValidateTemplateCommand } from '@aws-sdk/client-cloudformation'
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { QUOTAS } from '../../../src/iam/aws-facts.js'
import { failure, harness, type Harness } from '../helpers.js'

let h: Harness
let cfn: CloudFormationClient
before(async () => {
  h = await harness()
  cfn = new CloudFormationClient({
    endpoint: h.sandbox.endpoint,
    region: 'us-east-1',
    credentials: h.creds('ci'),
    maxAttempts: 1,
  })
  await h.clients(h.creds('ci')).s3.send(new CreateBucketCommand({ Bucket: 'sized-templates' }))
})
after(async () => {
  cfn?.destroy()
  await h.close()
})

/** A valid template of exactly `bytes` bytes: one resource, then comment lines as padding. */
function templateOf(bytes: number): string {
  let t = 'Resources:\n  Handle:\n    Type: AWS::CloudFormation::WaitConditionHandle\n'
  while (t.length < bytes) {
    const room = bytes - t.length
    t += room >= 2 ? `#${'x'.repeat(Math.min(room - 2, 98))}\n` : '\n'
  }
  assert.equal(Buffer.byteLength(t), bytes)
  return t
}

async function viaUrl(bytes: number): Promise<unknown> {
  const key = `t-${bytes}.yaml`
  await h
    .clients(h.creds('ci'))
    .s3.send(new PutObjectCommand({ Bucket: 'sized-templates', Key: key, Body: templateOf(bytes) }))
  return cfn.send(
    new ValidateTemplateCommand({ TemplateURL: `${h.sandbox.endpoint}/sized-templates/${key}` }),
  )
}

test('TemplateBody: 51,200 bytes pass, one more is refused with the API constraint', async () => {
  const max = QUOTAS.cloudFormation.templateBodyBytes
  assert.equal(max, 51_200)
  await cfn.send(new ValidateTemplateCommand({ TemplateBody: templateOf(max) }))
  const f = await failure(cfn.send(new ValidateTemplateCommand({ TemplateBody: templateOf(max + 1) })))
  assert.equal(f.name, 'ValidationError')
  assert.match(f.message, /Member must have length less than or equal to 51200/)
})

test('TemplateURL: 1,000,000 bytes pass, one more is refused as CloudFormation words it', async () => {
  const max = QUOTAS.cloudFormation.templateUrlBytes
  assert.equal(max, 1_000_000)
  await viaUrl(max)
  const f = await failure(viaUrl(max + 1))
  assert.equal(f.name, 'ValidationError')
  assert.equal(f.message, 'Template may not exceed 1000000 bytes in size.')
})
