// Hostile CloudFormation templates (issue 11, item 7): a YAML alias bomb or intrinsic functions
// nested 2,000 deep are `400 ValidationError` with a message that says what is wrong — not a 500
// from a stack overflow — and the sandbox keeps answering.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import {
  CloudFormationClient,
  CreateStackCommand,
  ValidateTemplateCommand,
} from '@aws-sdk/client-cloudformation'
import { failure, harness, type Harness } from '../helpers.js'

let h: Harness
let cf: CloudFormationClient
before(async () => {
  h = await harness()
  cf = new CloudFormationClient({
    endpoint: h.sandbox.endpoint,
    region: 'us-east-1',
    credentials: h.creds('ci'),
    maxAttempts: 1,
  })
})
after(async () => {
  cf.destroy()
  await h.close()
})

const bucket = (props: string) => `Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n${props}\n`

function bomb(): string {
  const lines = ['Metadata:', '  l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
  for (let i = 1; i < 9; i++)
    lines.push(
      `  l${i}: &l${i} [${Array(10)
        .fill(`*l${i - 1}`)
        .join(',')}]`,
    )
  return `${lines.join('\n')}\n${bucket('      Tags: *l8')}`
}
function deepJson(): string {
  let v = '"x"'
  for (let i = 0; i < 2000; i++) v = `{"Fn::Join":["",[${v}]]}`
  return `{"Resources":{"B":{"Type":"AWS::S3::Bucket","Properties":{"BucketName":${v}}}}}`
}
function deepYaml(): string {
  let v = "'x'"
  for (let i = 0; i < 2000; i++) v = `!Join ['', [${v}]]`
  return bucket(`      BucketName: ${v}`)
}
function deepPlainLists(): string {
  let v = '"x"'
  for (let i = 0; i < 20_000; i++) v = `[${v}]`
  return `{"Resources":{"B":{"Type":"AWS::S3::Bucket","Properties":{"Tags":${v}}}}}`
}

const CASES = [
  {
    name: 'YAML alias bomb',
    body: bomb,
    message: /Template format error: the YAML cannot be read: Excessive alias count/,
  },
  {
    name: 'Fn::Join nested 2,000 deep (JSON)',
    body: deepJson,
    message: /Template format error: values are nested more than 100 levels deep/,
  },
  {
    name: '!Join nested 2,000 deep (YAML short form)',
    body: deepYaml,
    message:
      /Template format error: values are nested more than 100 levels deep .* \(line 5, column \d+\)\.$/,
  },
  {
    name: 'lists nested 20,000 deep',
    body: deepPlainLists,
    message: /Template format error: values are nested more than 100 levels deep/,
  },
]

for (const c of CASES) {
  test(`hostile template: ${c.name} is 400 ValidationError for ValidateTemplate and CreateStack`, async () => {
    const body = c.body()
    assert.ok(Buffer.byteLength(body) <= 51_200, 'within the TemplateBody quota, so the parser must face it')
    for (const send of [
      () => cf.send(new ValidateTemplateCommand({ TemplateBody: body })),
      () => cf.send(new CreateStackCommand({ StackName: 'hostile', TemplateBody: body })),
    ]) {
      const e = await failure(send())
      assert.deepEqual([e.name, e.status], ['ValidationError', 400], e.message)
      assert.match(e.message, c.message)
    }
  })
}

test('after the hostile templates, an ordinary one still validates (control)', async () => {
  const r = await cf.send(
    new ValidateTemplateCommand({
      TemplateBody: bucket("      BucketName: !Join ['-', [a, !Join ['', [b, c]]]]"),
    }),
  )
  assert.deepEqual(r.Parameters, [])
})
