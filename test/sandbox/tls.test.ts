// aws:SecureTransport: the HTTPS listener (a self-signed certificate made with openssl) lets a
// bucket policy that denies insecure transport work as on AWS — plain HTTP is denied, TLS allowed.
// Needs `openssl` on PATH: skipped with a message otherwise.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { Agent } from 'node:https'
import {
  S3Client,
  CreateBucketCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  GetObjectCommand,
} from '@aws-sdk/client-s3'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { sandboxEnv } from '../../src/sandbox/index.js'
import { harness, failure, type Harness } from './helpers.js'

const hasOpenssl = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0
const hasAws = spawnSync('aws', ['--version'], { stdio: 'ignore' }).status === 0
let h: Harness
before(async () => {
  if (hasOpenssl) h = await harness()
})
after(async () => {
  if (hasOpenssl) await h.close()
})

test(
  'a DenyInsecureTransport bucket policy denies HTTP and allows HTTPS',
  { skip: hasOpenssl ? false : 'openssl is not installed on this machine' },
  async () => {
    assert.match(h.sandbox.httpsEndpoint!, /^https:\/\/127\.0\.0\.1:\d+$/)
    const creds = h.creds('ci')
    const plain = h.clients(creds).s3
    const agent = new Agent({ ca: readFileSync(h.sandbox.caFile!) })
    const secure = new S3Client({
      endpoint: h.sandbox.httpsEndpoint,
      region: 'us-east-1',
      credentials: creds,
      forcePathStyle: true,
      requestHandler: new NodeHttpHandler({ httpsAgent: agent }),
    })
    await plain.send(new CreateBucketCommand({ Bucket: 'secure-only' }))
    await plain.send(
      new PutBucketPolicyCommand({
        Bucket: 'secure-only',
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'DenyInsecureTransport',
              Effect: 'Deny',
              Principal: '*',
              Action: 's3:*',
              Resource: ['arn:aws:s3:::secure-only', 'arn:aws:s3:::secure-only/*'],
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            },
          ],
        }),
      }),
    )
    const denied = await failure(
      plain.send(new PutObjectCommand({ Bucket: 'secure-only', Key: 'k', Body: 'x' })),
    )
    assert.equal(denied.name, 'AccessDenied')
    assert.match(denied.message, /with an explicit deny in a resource-based policy/)
    await secure.send(new PutObjectCommand({ Bucket: 'secure-only', Key: 'k', Body: 'over tls' }))
    assert.equal(
      await (
        await secure.send(new GetObjectCommand({ Bucket: 'secure-only', Key: 'k' }))
      ).Body!.transformToString(),
      'over tls',
    )
    secure.destroy()
    agent.destroy()

    if (!hasAws)
      return console.log('the AWS CLI (`aws`) is not installed on this machine: its HTTPS check is skipped')
    const env = { ...process.env, ...sandboxEnv(h.dir, 'ci', { secure: true }) }
    const r = await new Promise<{ code: number; out: string; err: string }>((resolve) =>
      execFile('aws', ['s3', 'cp', 's3://secure-only/k', '-'], { env, encoding: 'utf8' }, (e, out, err) =>
        resolve({ code: e ? 1 : 0, out, err }),
      ),
    )
    assert.equal(r.code, 0, r.err)
    assert.equal(r.out, 'over tls')
  },
)
