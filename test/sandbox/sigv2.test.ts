// Signature Version 2 (the AWS CLI v1's and boto3's default for presigned S3 URLs in us-east-1):
// refused with an error that says so and how to sign with SigV4, never a bare 403 (issue 13); the
// profiles the sandbox writes make the AWS CLI presign with SigV4.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawnSync } from 'node:child_process'
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { clientEnv, harness, type Harness } from './helpers.js'

const hasAws = spawnSync('aws', ['--version'], { stdio: 'ignore' }).status === 0
let h: Harness
before(async () => {
  h = await harness()
  const s3 = h.clients(h.creds('ci')).s3
  await s3.send(new CreateBucketCommand({ Bucket: 'v2-bucket' }))
  await s3.send(new PutObjectCommand({ Bucket: 'v2-bucket', Key: 'k', Body: 'hello' }))
})
after(async () => {
  await h.close()
})

test('SigV2, presigned or in the Authorization header, is 400 InvalidRequest naming SigV4', async () => {
  const akid = h.creds('ci').accessKeyId
  const presigned = await fetch(
    `${h.sandbox.endpoint}/v2-bucket/k?AWSAccessKeyId=${akid}&Expires=${Math.floor(Date.now() / 1000) + 600}&Signature=abc%3D`,
  )
  const p = await presigned.text()
  assert.equal(presigned.status, 400)
  assert.match(
    p,
    /<Code>InvalidRequest<\/Code><Message>The authorization mechanism you have provided is not supported\. Please use AWS4-HMAC-SHA256\. The crosspipe sandbox accepts Signature Version 4 only; this presigned URL is signed with Signature Version 2/,
  )
  const header = await fetch(`${h.sandbox.endpoint}/v2-bucket/k`, {
    headers: { authorization: `AWS ${akid}:abc=`, date: new Date().toUTCString() },
  })
  assert.equal(header.status, 400)
  assert.match(await header.text(), /this request is signed with Signature Version 2/)
})

test(
  'aws s3 presign with the sandbox profile signs with SigV4, and the URL works',
  { skip: hasAws ? false : 'the AWS CLI (`aws`) is not installed on this machine' },
  async () => {
    const env = clientEnv(h.dir, 'ci')
    const url = await new Promise<string>((resolve, reject) =>
      execFile(
        'aws',
        ['s3', 'presign', 's3://v2-bucket/k'],
        { env, encoding: 'utf8', timeout: 60_000 },
        (e, out, err) => (e ? reject(new Error(err)) : resolve(out.trim())),
      ),
    )
    assert.match(url, /X-Amz-Algorithm=AWS4-HMAC-SHA256/)
    const res = await fetch(url)
    assert.equal(res.status, 200)
    assert.equal(await res.text(), 'hello')
  },
)
