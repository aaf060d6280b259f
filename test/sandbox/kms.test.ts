// KMS through the SDK v3 client: keys, aliases, real encryption bound to its context, key policies.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import {
  CreateKeyCommand,
  DescribeKeyCommand,
  EncryptCommand,
  DecryptCommand,
  ReEncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  CreateAliasCommand,
  ListAliasesCommand,
  UpdateAliasCommand,
  DeleteAliasCommand,
  GetKeyPolicyCommand,
  PutKeyPolicyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  ScheduleKeyDeletionCommand,
  CancelKeyDeletionCommand,
  EnableKeyRotationCommand,
  DisableKeyRotationCommand,
  GetKeyRotationStatusCommand,
  ListKeysCommand,
  ListGrantsCommand,
} from '@aws-sdk/client-kms'
import {
  CreateRoleCommand,
  PutRolePolicyCommand,
  CreateUserCommand,
  PutUserPolicyCommand,
  CreateAccessKeyCommand,
} from '@aws-sdk/client-iam'
import { AssumeRoleCommand } from '@aws-sdk/client-sts'
import { harness, failure, allowAll, type Harness, type Creds } from './helpers.js'

let h: Harness
before(async () => {
  h = await harness()
})
after(async () => {
  await h.close()
})

const text = (s: string) => new TextEncoder().encode(s)

test('default key policy, encrypt/decrypt with the encryption context bound, aliases by name and ARN', async () => {
  const { kms } = h.clients(h.creds('ci'))
  const k = await kms.send(new CreateKeyCommand({ Description: 'artifacts' }))
  const keyId = k.KeyMetadata!.KeyId!
  assert.match(k.KeyMetadata!.Arn!, /^arn:aws:kms:us-east-1:111111111111:key\/[0-9a-f-]{36}$/)
  assert.equal(k.KeyMetadata!.KeyState, 'Enabled')
  const pol = JSON.parse(
    (await kms.send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' }))).Policy!,
  )
  assert.deepEqual(pol.Statement[0].Principal, { AWS: 'arn:aws:iam::111111111111:root' })

  const enc = await kms.send(
    new EncryptCommand({ KeyId: keyId, Plaintext: text('hello'), EncryptionContext: { a: '1', b: '2' } }),
  )
  assert.equal(enc.KeyId, k.KeyMetadata!.Arn)
  const dec = await kms.send(
    new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { b: '2', a: '1' } }),
  )
  assert.equal(Buffer.from(dec.Plaintext!).toString(), 'hello')
  const wrong = await failure(
    kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { a: '1' } })),
  )
  assert.equal(wrong.name, 'InvalidCiphertextException')
  assert.equal(wrong.status, 400)
  const tampered = Buffer.from(enc.CiphertextBlob!)
  tampered[tampered.length - 1]! ^= 1
  assert.equal(
    (
      await failure(
        kms.send(new DecryptCommand({ CiphertextBlob: tampered, EncryptionContext: { a: '1', b: '2' } })),
      )
    ).name,
    'InvalidCiphertextException',
  )

  await kms.send(new CreateAliasCommand({ AliasName: 'alias/artifacts', TargetKeyId: keyId }))
  const viaAlias = await kms.send(new EncryptCommand({ KeyId: 'alias/artifacts', Plaintext: text('x') }))
  assert.equal(viaAlias.KeyId, k.KeyMetadata!.Arn)
  const byAliasArn = await kms.send(
    new DescribeKeyCommand({ KeyId: 'arn:aws:kms:us-east-1:111111111111:alias/artifacts' }),
  )
  assert.equal(byAliasArn.KeyMetadata!.KeyId, keyId)
  assert.equal(
    (await failure(kms.send(new CreateAliasCommand({ AliasName: 'alias/artifacts', TargetKeyId: keyId }))))
      .name,
    'AlreadyExistsException',
  )
  const aliases = await kms.send(new ListAliasesCommand({ KeyId: keyId }))
  assert.deepEqual(
    aliases.Aliases?.map((a) => a.AliasName),
    ['alias/artifacts'],
  )
  const k2 = await kms.send(new CreateKeyCommand({}))
  await kms.send(
    new UpdateAliasCommand({ AliasName: 'alias/artifacts', TargetKeyId: k2.KeyMetadata!.KeyId! }),
  )
  assert.equal(
    (await kms.send(new DescribeKeyCommand({ KeyId: 'alias/artifacts' }))).KeyMetadata!.KeyId,
    k2.KeyMetadata!.KeyId,
  )
  const re = await kms.send(
    new ReEncryptCommand({ CiphertextBlob: viaAlias.CiphertextBlob, DestinationKeyId: 'alias/artifacts' }),
  )
  assert.equal(re.SourceKeyId, k.KeyMetadata!.Arn)
  assert.equal(re.KeyId, k2.KeyMetadata!.Arn)
  assert.equal(
    Buffer.from(
      (await kms.send(new DecryptCommand({ CiphertextBlob: re.CiphertextBlob }))).Plaintext!,
    ).toString(),
    'x',
  )
  const incorrect = await failure(
    kms.send(new DecryptCommand({ CiphertextBlob: re.CiphertextBlob, KeyId: keyId })),
  )
  assert.equal(incorrect.name, 'IncorrectKeyException')
  await kms.send(new DeleteAliasCommand({ AliasName: 'alias/artifacts' }))
  assert.equal(
    (await failure(kms.send(new DescribeKeyCommand({ KeyId: 'alias/artifacts' })))).name,
    'NotFoundException',
  )
  // A deleted alias cannot be changed again; AWS's own aliases cannot be changed at all.
  const gone = await failure(kms.send(new DeleteAliasCommand({ AliasName: 'alias/artifacts' })))
  assert.equal(gone.name, 'NotFoundException')
  assert.match(gone.message, /^Alias arn:aws:kms:[a-z0-9-]+:\d{12}:alias\/artifacts is not found\.$/)
  assert.equal(
    (await failure(kms.send(new UpdateAliasCommand({ AliasName: 'alias/artifacts', TargetKeyId: keyId }))))
      .name,
    'NotFoundException',
  )
  const awsUpdate = await failure(
    kms.send(new UpdateAliasCommand({ AliasName: 'alias/aws/s3', TargetKeyId: keyId })),
  )
  assert.deepEqual(
    [awsUpdate.name, awsUpdate.message],
    ['NotAuthorizedException', 'Cannot update alias with prefix alias/aws/'],
  )
  const awsDelete = await failure(kms.send(new DeleteAliasCommand({ AliasName: 'alias/aws/s3' })))
  assert.deepEqual(
    [awsDelete.name, awsDelete.message],
    ['NotAuthorizedException', 'Cannot delete alias with prefix alias/aws/'],
  )

  const dk = await kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256' }))
  assert.equal(dk.Plaintext!.length, 32)
  assert.deepEqual(
    Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob }))).Plaintext!),
    Buffer.from(dk.Plaintext!),
  )
  const dk2 = await kms.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: keyId, NumberOfBytes: 16 }))
  assert.equal(
    (await kms.send(new DecryptCommand({ CiphertextBlob: dk2.CiphertextBlob }))).Plaintext!.length,
    16,
  )
  assert.equal(
    (await failure(kms.send(new GenerateDataKeyCommand({ KeyId: keyId })))).name,
    'ValidationException',
  )
  assert.ok((await kms.send(new ListKeysCommand({}))).Keys!.some((x) => x.KeyId === keyId))
})

test('key states: disabled, rotation, pending deletion and cancel', async () => {
  const { kms } = h.clients(h.creds('dev'))
  const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!
  await kms.send(new DisableKeyCommand({ KeyId: keyId }))
  const d = await failure(kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: text('x') })))
  assert.equal(d.name, 'DisabledException')
  await kms.send(new EnableKeyCommand({ KeyId: keyId }))
  await kms.send(new EnableKeyRotationCommand({ KeyId: keyId }))
  assert.equal((await kms.send(new GetKeyRotationStatusCommand({ KeyId: keyId }))).KeyRotationEnabled, true)
  const s = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }))
  assert.equal(s.KeyState, 'PendingDeletion')
  assert.ok(s.DeletionDate instanceof Date)
  assert.equal(
    (await failure(kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: text('x') })))).name,
    'KMSInvalidStateException',
  )
  await kms.send(new CancelKeyDeletionCommand({ KeyId: keyId }))
  assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!.KeyState, 'Disabled')
  assert.equal(
    (await failure(kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 3 })))).name,
    'ValidationException',
  )
})

test('GetKeyRotationStatus: the period EnableKeyRotation set (365 days by default) and the next rotation date', async () => {
  // https://docs.aws.amazon.com/kms/latest/APIReference/API_GetKeyRotationStatus.html
  const { kms } = h.clients(h.creds('dev'))
  const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!
  const off = await kms.send(new GetKeyRotationStatusCommand({ KeyId: keyId }))
  assert.deepEqual(
    [off.KeyRotationEnabled, off.RotationPeriodInDays, off.NextRotationDate],
    [false, undefined, undefined],
  )
  const day = 86_400_000
  const near = (d: Date | undefined, days: number) =>
    assert.ok(
      d && Math.abs(d.getTime() - (Date.now() + days * day)) < 120_000,
      `${d?.toISOString()} is not in ${days} days`,
    )
  await kms.send(new EnableKeyRotationCommand({ KeyId: keyId }))
  const yearly = await kms.send(new GetKeyRotationStatusCommand({ KeyId: keyId }))
  assert.equal(yearly.RotationPeriodInDays, 365)
  near(yearly.NextRotationDate, 365)
  await kms.send(new EnableKeyRotationCommand({ KeyId: keyId, RotationPeriodInDays: 90 }))
  const quarterly = await kms.send(new GetKeyRotationStatusCommand({ KeyId: keyId }))
  assert.equal(quarterly.RotationPeriodInDays, 90)
  near(quarterly.NextRotationDate, 90)
  await kms.send(new DisableKeyRotationCommand({ KeyId: keyId }))
  const again = await kms.send(new GetKeyRotationStatusCommand({ KeyId: keyId }))
  assert.deepEqual(
    [again.KeyRotationEnabled, again.RotationPeriodInDays, again.NextRotationDate],
    [false, undefined, undefined],
  )
})

test('cross-account use: the key policy and the caller identity policy must both allow', async () => {
  const ci = h.clients(h.creds('ci'))
  const key = await ci.kms.send(new CreateKeyCommand({}))
  const keyArn = key.KeyMetadata!.Arn!
  // A user in dev with an identity policy for kms:Encrypt on the key.
  const dev = h.clients(h.creds('dev'))
  await dev.iam.send(new CreateUserCommand({ UserName: 'builder' }))
  await dev.iam.send(
    new PutUserPolicyCommand({
      UserName: 'builder',
      PolicyName: 'k',
      PolicyDocument: allowAll('kms:Encrypt', keyArn),
    }),
  )
  const ak = (await dev.iam.send(new CreateAccessKeyCommand({ UserName: 'builder' }))).AccessKey!
  const builder: Creds = { accessKeyId: ak.AccessKeyId!, secretAccessKey: ak.SecretAccessKey! }
  const denied = await failure(
    h.clients(builder).kms.send(new EncryptCommand({ KeyId: keyArn, Plaintext: text('x') })),
  )
  assert.equal(denied.name, 'AccessDeniedException')
  assert.equal(
    denied.message,
    `User: arn:aws:iam::222222222222:user/builder is not authorized to perform: kms:Encrypt on resource: ${keyArn} because no resource-based policy allows the kms:Encrypt action`,
  )
  // By key id alone, another account's key is not found: cross-account use needs the ARN.
  assert.equal(
    (
      await failure(
        h
          .clients(builder)
          .kms.send(new EncryptCommand({ KeyId: key.KeyMetadata!.KeyId!, Plaintext: text('x') })),
      )
    ).name,
    'NotFoundException',
  )
  const policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'root',
        Effect: 'Allow',
        Principal: { AWS: 'arn:aws:iam::111111111111:root' },
        Action: 'kms:*',
        Resource: '*',
      },
      {
        Sid: 'dev',
        Effect: 'Allow',
        Principal: { AWS: 'arn:aws:iam::222222222222:root' },
        Action: ['kms:Encrypt', 'kms:Decrypt'],
        Resource: '*',
      },
    ],
  })
  await ci.kms.send(
    new PutKeyPolicyCommand({ KeyId: key.KeyMetadata!.KeyId!, PolicyName: 'default', Policy: policy }),
  )
  const ok = await h.clients(builder).kms.send(new EncryptCommand({ KeyId: keyArn, Plaintext: text('x') }))
  assert.equal(ok.KeyId, keyArn)
  // Decrypt: the key policy allows it, the identity policy does not.
  const noId = await failure(
    h.clients(builder).kms.send(new DecryptCommand({ CiphertextBlob: ok.CiphertextBlob })),
  )
  assert.match(noId.message, /because no identity-based policy allows the kms:Decrypt action/)
  // Own-account-only operations are not reachable across accounts.
  assert.equal(
    (await failure(h.clients(builder).kms.send(new GetKeyPolicyCommand({ KeyId: keyArn })))).name,
    'NotFoundException',
  )
  // The lockout safety check.
  const lockout = await failure(
    ci.kms.send(
      new PutKeyPolicyCommand({
        KeyId: keyArn,
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: 'arn:aws:iam::222222222222:root' },
              Action: 'kms:Decrypt',
              Resource: '*',
            },
          ],
        }),
      }),
    ),
  )
  assert.equal(lockout.name, 'MalformedPolicyDocumentException')
})

test('an assumed role session uses a key granted to its role', async () => {
  const prod = h.clients(h.creds('prod'))
  await prod.iam.send(
    new CreateRoleCommand({
      RoleName: 'decrypter',
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::333333333333:root' }, Action: 'sts:AssumeRole' },
        ],
      }),
    }),
  )
  await prod.iam.send(
    new PutRolePolicyCommand({ RoleName: 'decrypter', PolicyName: 'p', PolicyDocument: allowAll('kms:*') }),
  )
  await prod.iam.send(new CreateUserCommand({ UserName: 'ops' }))
  await prod.iam.send(
    new PutUserPolicyCommand({
      UserName: 'ops',
      PolicyName: 'p',
      PolicyDocument: allowAll('sts:AssumeRole'),
    }),
  )
  const ak = (await prod.iam.send(new CreateAccessKeyCommand({ UserName: 'ops' }))).AccessKey!
  const ops = h.clients({ accessKeyId: ak.AccessKeyId!, secretAccessKey: ak.SecretAccessKey! })
  const s = await ops.sts.send(
    new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::333333333333:role/decrypter', RoleSessionName: 'job' }),
  )
  const session = h.clients({
    accessKeyId: s.Credentials!.AccessKeyId!,
    secretAccessKey: s.Credentials!.SecretAccessKey!,
    sessionToken: s.Credentials!.SessionToken!,
  })
  const k = await session.kms.send(new CreateKeyCommand({}))
  const e = await session.kms.send(new EncryptCommand({ KeyId: k.KeyMetadata!.KeyId!, Plaintext: text('y') }))
  assert.equal(
    Buffer.from(
      (await session.kms.send(new DecryptCommand({ CiphertextBlob: e.CiphertextBlob }))).Plaintext!,
    ).toString(),
    'y',
  )
})

test('ListGrants: a key has no grants here; the key must exist and the key policy must allow', async () => {
  const { kms } = h.clients(h.creds('dev'))
  const k = await kms.send(new CreateKeyCommand({ Description: 'grants' }))
  const g = await kms.send(new ListGrantsCommand({ KeyId: k.KeyMetadata!.KeyId! }))
  assert.deepEqual([g.Grants, g.Truncated], [[], false])
  const missing = await failure(
    kms.send(new ListGrantsCommand({ KeyId: '11111111-2222-3333-4444-555555555555' })),
  )
  assert.equal(missing.name, 'NotFoundException')
  // Another account may name the key by ARN, and the default key policy does not let it.
  const other = await failure(
    h.clients(h.creds('ci')).kms.send(new ListGrantsCommand({ KeyId: k.KeyMetadata!.Arn! })),
  )
  assert.equal(other.name, 'AccessDeniedException')
})

test('an encryption context key named __proto__ is a key like any other: Decrypt needs it back', async () => {
  const { kms } = h.clients(h.creds('ci'))
  const key = await kms.send(new CreateKeyCommand({}))
  const context = { ['__proto__']: 'a', other: 'b' }
  assert.deepEqual(Object.keys(context), ['__proto__', 'other'])
  const enc = await kms.send(
    new EncryptCommand({
      KeyId: key.KeyMetadata!.KeyId,
      Plaintext: Buffer.from('x'),
      EncryptionContext: context,
    }),
  )
  const dec = await kms.send(
    new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: context }),
  )
  assert.equal(Buffer.from(dec.Plaintext!).toString(), 'x')
  await assert.rejects(
    kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { other: 'b' } })),
    (e: Error) => e.name === 'InvalidCiphertextException',
  )
})
