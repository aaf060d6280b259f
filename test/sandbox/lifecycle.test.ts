// Running the sandbox the way the CLI does: detached in the background, found through its state
// file, given a new account through the admin API, stopped; state survives a restart; --reset.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts'
import { S3Client, CreateBucketCommand, ListBucketsCommand } from '@aws-sdk/client-s3'
import { fromIni } from '@aws-sdk/credential-providers'
import {
  detachSandbox,
  stopSandbox,
  readSandboxState,
  sandboxEnv,
  addSandboxAccount,
  startSandbox,
} from '../../src/sandbox/index.js'
import { CrosspipeError } from '../../src/model/errors.js'

test('detach, find, add an account, stop', { timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'crosspipe-detach-'))
  try {
    const state = await detachSandbox({
      stateDir: dir,
      accounts: { ci: '111111111111', dev: '222222222222' },
    })
    assert.match(state.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.equal(readSandboxState(dir)?.pid, state.pid)
    await assert.rejects(detachSandbox({ stateDir: dir }), CrosspipeError)
    await assert.rejects(startSandbox({ stateDir: dir }), /already running/)

    // The SDK with nothing but the profile files.
    const env = sandboxEnv(dir, 'dev')
    const sts = new STSClient({
      region: env['AWS_REGION'],
      endpoint: env['AWS_ENDPOINT_URL'],
      credentials: fromIni({
        profile: 'dev',
        filepath: env['AWS_SHARED_CREDENTIALS_FILE'],
        configFilepath: env['AWS_CONFIG_FILE'],
      }),
    })
    assert.equal((await sts.send(new GetCallerIdentityCommand({}))).Account, '222222222222')
    sts.destroy()
    assert.throws(() => sandboxEnv(dir, 'nope'), /has no account named nope/)

    await addSandboxAccount(dir, 'test', '444444444444')
    const token = readFileSync(join(dir, 'admin-token'), 'utf8')
    const accounts = await (
      await fetch(`${state.endpoint}/_crosspipe/accounts`, { headers: { 'x-crosspipe-admin-token': token } })
    ).json()
    assert.deepEqual((accounts as { accounts: { name: string }[] }).accounts.map((a) => a.name).sort(), [
      'ci',
      'dev',
      'test',
    ])
    // The profile files list the new account at once.
    assert.match(readFileSync(join(dir, 'credentials'), 'utf8'), /^\[test\]$/m)
    assert.equal(sandboxEnv(dir, 'test')['AWS_PROFILE'], 'test')
    const refused = await fetch(`${state.endpoint}/_crosspipe/accounts`, { method: 'POST', body: '{}' })
    assert.equal(refused.status, 403)

    assert.equal(await stopSandbox(dir), true)
    assert.equal(readSandboxState(dir), undefined)
    assert.equal(await stopSandbox(dir), false)
  } finally {
    await stopSandbox(dir).catch(() => false)
    rmSync(dir, { recursive: true, force: true })
  }
})

test('state persists across restarts; reset starts empty', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'crosspipe-restart-'))
  try {
    const a = await startSandbox({ stateDir: dir, port: 0, accounts: { ci: '111111111111' } })
    const creds = { accessKeyId: a.accounts[0]!.accessKeyId, secretAccessKey: a.accounts[0]!.secretAccessKey }
    const s3a = new S3Client({
      endpoint: a.endpoint,
      region: 'us-east-1',
      credentials: creds,
      forcePathStyle: true,
    })
    await s3a.send(new CreateBucketCommand({ Bucket: 'persisted' }))
    s3a.destroy()
    await a.stop()

    const b = await startSandbox({ stateDir: dir, port: 0 })
    assert.equal(b.accounts[0]!.accessKeyId, creds.accessKeyId, 'root credentials are kept')
    const s3b = new S3Client({
      endpoint: b.endpoint,
      region: 'us-east-1',
      credentials: creds,
      forcePathStyle: true,
    })
    assert.deepEqual(
      (await s3b.send(new ListBucketsCommand({}))).Buckets?.map((x) => x.Name),
      ['persisted'],
    )
    s3b.destroy()
    await b.stop()

    const c = await startSandbox({ stateDir: dir, port: 0, reset: true })
    assert.deepEqual(
      c.accounts.map((x) => x.name).sort(),
      ['ci', 'dev', 'prod'],
      'an empty state gets the default accounts',
    )
    const cc = { accessKeyId: c.accounts[0]!.accessKeyId, secretAccessKey: c.accounts[0]!.secretAccessKey }
    const s3c = new S3Client({
      endpoint: c.endpoint,
      region: 'us-east-1',
      credentials: cc,
      forcePathStyle: true,
    })
    assert.deepEqual((await s3c.send(new ListBucketsCommand({}))).Buckets ?? [], [])
    s3c.destroy()
    await c.stop()
    await assert.rejects(startSandbox({ stateDir: dir, accounts: { bad: '12' } }), /12 digits/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
