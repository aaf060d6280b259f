// Durability: a sandbox in a child process takes writes under concurrent load and is killed with
// SIGKILL at a random moment, three times over. After each restart every acknowledged object, key
// and role is there and intact, and no object is torn (each body hashes to what was sent).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  S3Client,
  CreateBucketCommand,
  PutObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3'
import { KMSClient, CreateKeyCommand, EncryptCommand, DecryptCommand } from '@aws-sdk/client-kms'
import { IAMClient, CreateRoleCommand, GetRoleCommand } from '@aws-sdk/client-iam'
import { startSandboxProcess, type SandboxProcess } from './helpers.js'

type Started = SandboxProcess
const start = (dir: string): Promise<Started> => startSandboxProcess(dir)

function clients(s: Started) {
  const base = { endpoint: s.endpoint, region: 'us-east-1', credentials: s.creds, maxAttempts: 1 }
  return {
    s3: new S3Client({ ...base, forcePathStyle: true }),
    kms: new KMSClient(base),
    iam: new IAMClient(base),
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((r) => child.once('exit', () => r()))
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

test(
  'acknowledged writes survive SIGKILL at random points; no torn objects',
  { timeout: 120_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crosspipe-durability-'))
    const ackedObjects = new Map<string, string>()
    const attempted = new Map<string, string>()
    const ackedKeys: { keyId: string; probe: Uint8Array }[] = []
    const ackedRoles: string[] = []
    let seq = 0
    try {
      for (let round = 0; round < 3; round++) {
        const s = await start(dir)
        const c = clients(s)
        if (round === 0) await c.s3.send(new CreateBucketCommand({ Bucket: 'durable' }))
        let stop = false
        const worker = async (w: number) => {
          while (!stop) {
            const n = seq++
            try {
              if (n % 10 === 0) {
                const probe = randomBytes(32)
                const k = await c.kms.send(new CreateKeyCommand({}))
                const enc = await c.kms.send(
                  new EncryptCommand({ KeyId: k.KeyMetadata!.KeyId!, Plaintext: probe }),
                )
                ackedKeys.push({ keyId: k.KeyMetadata!.KeyId!, probe: enc.CiphertextBlob! })
              } else if (n % 10 === 1) {
                await c.iam.send(
                  new CreateRoleCommand({
                    RoleName: `role-${n}`,
                    AssumeRolePolicyDocument: JSON.stringify({
                      Version: '2012-10-17',
                      Statement: [
                        {
                          Effect: 'Allow',
                          Principal: { AWS: 'arn:aws:iam::111111111111:root' },
                          Action: 'sts:AssumeRole',
                        },
                      ],
                    }),
                  }),
                )
                ackedRoles.push(`role-${n}`)
              } else {
                const body = randomBytes(n % 3 === 0 ? 256 * 1024 : 1024 + (n % 5000))
                const key = `obj-${round}-${w}-${n}`
                attempted.set(key, sha(body))
                await c.s3.send(new PutObjectCommand({ Bucket: 'durable', Key: key, Body: body }))
                ackedObjects.set(key, sha(body))
              }
            } catch {
              return // the process died under us
            }
          }
        }
        const workers = Array.from({ length: 8 }, (_, i) => worker(i))
        await new Promise((r) => setTimeout(r, 600 + Math.random() * 1200))
        s.child.kill('SIGKILL')
        stop = true
        await Promise.all(workers)
        await exited(s.child)
        for (const x of Object.values(c)) x.destroy()
      }

      const s = await start(dir)
      const c = clients(s)
      try {
        assert.ok(ackedObjects.size > 20, `only ${ackedObjects.size} objects were acknowledged`)
        for (const [key, hash] of ackedObjects) {
          const got = await c.s3.send(new GetObjectCommand({ Bucket: 'durable', Key: key }))
          assert.equal(sha(await got.Body!.transformToByteArray()), hash, `object ${key}`)
        }
        // Every object that exists — acknowledged or not — is whole.
        let token: string | undefined
        let listed = 0
        do {
          const page = await c.s3.send(
            new ListObjectsV2Command({ Bucket: 'durable', ContinuationToken: token }),
          )
          for (const o of page.Contents ?? []) {
            listed++
            const got = await c.s3.send(new GetObjectCommand({ Bucket: 'durable', Key: o.Key! }))
            assert.equal(
              sha(await got.Body!.transformToByteArray()),
              attempted.get(o.Key!),
              `torn object ${o.Key}`,
            )
          }
          token = page.NextContinuationToken
        } while (token)
        assert.ok(listed >= ackedObjects.size)
        for (const k of ackedKeys) {
          const d = await c.kms.send(new DecryptCommand({ CiphertextBlob: k.probe, KeyId: k.keyId }))
          assert.equal(d.Plaintext!.length, 32)
        }
        for (const r of ackedRoles) await c.iam.send(new GetRoleCommand({ RoleName: r }))
        console.log(
          `durability: ${ackedObjects.size} objects, ${ackedKeys.length} keys, ${ackedRoles.length} roles acknowledged and intact after 3 SIGKILLs`,
        )
      } finally {
        for (const x of Object.values(c)) x.destroy()
        s.child.kill('SIGTERM')
        await exited(s.child)
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  },
)
