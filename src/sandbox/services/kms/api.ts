/**
 * KMS over awsJson 1.1 (`TrentService`): symmetric keys with real AES-256-GCM, aliases, key
 * policies authorized by the IAM engine's key-policy rule. Behaviour and citations in SPEC.md.
 */
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto'
import { accountRootArn, formatArn, parseArn } from '../../../iam/arn.js'
import { endpointHost } from '../../../iam/aws-facts.js'
import { validatePolicy } from '../../../iam/index.js'
import type { PolicyDocument } from '../../../iam/types.js'
import { authorize, decide, type CallFacts } from '../../auth/authorize.js'
import { AwsError } from '../../gateway/errors.js'
import type { Runtime } from '../../runtime.js'
import type { JsonService, RequestContext } from '../types.js'
import {
  alreadyExists,
  disabled,
  incorrectKey,
  invalidCiphertext,
  invalidMarker,
  invalidState,
  malformedPolicy,
  notAuthorized,
  notFound,
  unsupported,
  validation,
} from './errors.js'
import { KmsStore, scopeOf, type AliasRecord, type KeyRecord } from './store.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const BLOB_MAGIC = Buffer.from('CPK1')

/** What services that encrypt on a caller's behalf (S3) get from KMS. */
export interface KmsInternal {
  /** GenerateDataKey (AES_256) as the caller, via a service (`kms:ViaService`). */
  generateDataKey(
    f: CallFacts,
    keyId: string,
    context: Readonly<Record<string, string>>,
    viaService: string,
  ): { keyArn: string; plaintext: Buffer; ciphertext: Buffer }
  /** Decrypt as the caller, via a service. */
  decrypt(
    f: CallFacts,
    ciphertext: Buffer,
    context: Readonly<Record<string, string>>,
    viaService: string,
  ): { keyArn: string; plaintext: Buffer }
  /** The ARN of the AWS managed key `aws/<service>` of an account, created on first use as AWS does. */
  awsManagedKeyArn(account: string, region: string, partition: string, service: string): string
}

// ---- input helpers -------------------------------------------------------

function str(input: Readonly<Record<string, unknown>>, name: string, required: true): string
function str(input: Readonly<Record<string, unknown>>, name: string, required?: false): string | undefined
function str(input: Readonly<Record<string, unknown>>, name: string, required = false): string | undefined {
  const v = input[name]
  if (v === undefined || v === null) {
    if (required)
      throw validation(
        `1 validation error detected: Value null at '${name.charAt(0).toLowerCase() + name.slice(1)}' failed to satisfy constraint: Member must not be null`,
      )
    return undefined
  }
  if (typeof v !== 'string')
    throw new AwsError('SerializationException', `Expected a string for ${name}`, 400)
  return v
}

function num(input: Readonly<Record<string, unknown>>, name: string): number | undefined {
  const v = input[name]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw new AwsError('SerializationException', `Expected an integer for ${name}`, 400)
  return v
}

function blob(input: Readonly<Record<string, unknown>>, name: string, max: number): Buffer {
  const s = str(input, name, true)
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s))
    throw new AwsError('SerializationException', `${name} is not valid base64`, 400)
  const b = Buffer.from(s, 'base64')
  if (b.length < 1 || b.length > max)
    throw validation(
      `1 validation error detected: Value at '${name.charAt(0).toLowerCase() + name.slice(1)}' failed to satisfy constraint: Member must have length ${b.length < 1 ? 'greater than or equal to 1' : `less than or equal to ${max}`}`,
    )
  return b
}

function encryptionContext(input: Readonly<Record<string, unknown>>, name: string): Record<string, string> {
  const v = input[name]
  if (v === undefined || v === null) return {}
  if (typeof v !== 'object' || Array.isArray(v))
    throw new AwsError('SerializationException', `${name} must be a map`, 400)
  const out: Record<string, string> = {}
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (typeof val !== 'string')
      throw new AwsError('SerializationException', `${name} values must be strings`, 400)
    out[k] = val
  }
  return out
}

/** The encryption context as additional authenticated data: keys sorted, so order never matters (as in KMS). */
function aad(keyArn: string, ctx: Readonly<Record<string, string>>): Buffer {
  const sorted = Object.keys(ctx)
    .sort()
    .map((k) => [k, ctx[k]!])
  return Buffer.from(JSON.stringify([keyArn, sorted]), 'utf8')
}

/** Condition keys for the encryption context (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html). */
function contextKeys(
  ctx: Readonly<Record<string, string>>,
  prefix = 'kms:EncryptionContext',
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [k, v] of Object.entries(ctx)) out[`${prefix}:${k}`] = v
  if (Object.keys(ctx).length) out['kms:EncryptionContextKeys'] = Object.keys(ctx)
  return out
}

function epoch(iso: string): number {
  return Date.parse(iso) / 1000
}

/** The default key policy (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html). */
function defaultKeyPolicy(partition: string, account: string): string {
  return JSON.stringify(
    {
      Version: '2012-10-17',
      Id: 'key-default-1',
      Statement: [
        {
          Sid: 'Enable IAM User Permissions',
          Effect: 'Allow',
          Principal: { AWS: accountRootArn(partition, account) },
          Action: 'kms:*',
          Resource: '*',
        },
      ],
    },
    null,
    2,
  )
}

/**
 * The key policy of an AWS managed key: usable by principals of the account only through the
 * service (https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#aws-managed-key,
 * policy shape as shown by GetKeyPolicy on `aws/s3`).
 */
function awsManagedKeyPolicy(partition: string, account: string, region: string, service: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Id: `auto-${service}-2`,
    Statement: [
      {
        Sid: `Allow access through ${service.toUpperCase()} for all principals in the account that are authorized to use ${service.toUpperCase()}`,
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
        Resource: '*',
        Condition: {
          StringEquals: {
            'kms:CallerAccount': account,
            'kms:ViaService': endpointHost(service, region),
          },
        },
      },
      {
        Sid: 'Allow direct access to key metadata to the account',
        Effect: 'Allow',
        Principal: { AWS: accountRootArn(partition, account) },
        Action: ['kms:Describe*', 'kms:Get*', 'kms:List*'],
        Resource: '*',
      },
    ],
  })
}

function keyMetadata(k: KeyRecord): Record<string, unknown> {
  return {
    AWSAccountId: k.account,
    KeyId: k.keyId,
    Arn: k.arn,
    CreationDate: epoch(k.created),
    Enabled: k.keyState === 'Enabled',
    Description: k.description,
    KeyUsage: k.keyUsage,
    KeyState: k.keyState,
    ...(k.deletionDate
      ? { DeletionDate: epoch(k.deletionDate), PendingDeletionWindowInDays: k.pendingWindowInDays }
      : {}),
    Origin: 'AWS_KMS',
    KeyManager: k.keyManager,
    CustomerMasterKeySpec: k.keySpec,
    KeySpec: k.keySpec,
    EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
    MultiRegion: false,
  }
}

/** The KMS service; also registers {@link KmsInternal} as `kms` on the runtime. */
export function kmsService(runtime: Runtime): JsonService {
  const store = new KmsStore(runtime.db)
  const parsedPolicy = (k: KeyRecord): PolicyDocument => runtime.iam.parsed(k.policy)

  /** Which operations accept a key in another account (the "Cross-account use" line of each API page). */
  type Use = 'cross-account' | 'own-account'

  function findKey(f: CallFacts, keyIdParam: string, use: Use): KeyRecord {
    const partition = runtime.partition(f.region)
    let account = f.identity.account
    let region = f.region
    let keyId: string | undefined
    if (keyIdParam.startsWith('arn:')) {
      const arn = parseArn(keyIdParam)
      if (!arn || arn.service !== 'kms') throw notFound(`Invalid arn ${f.region}`)
      account = arn.account
      region = arn.region
      if (arn.resource.startsWith('key/')) keyId = arn.resource.slice(4)
      else if (arn.resource.startsWith('alias/')) {
        const al = store.aliases.get(scopeOf(account, region), arn.resource)
        if (!al || (use === 'own-account' && account !== f.identity.account))
          throw notFound(`Alias ${keyIdParam} is not found.`)
        keyId = al.targetKeyId
      } else throw notFound(`Invalid arn ${f.region}`)
    } else if (keyIdParam.startsWith('alias/')) {
      const al = store.aliases.get(scopeOf(account, region), keyIdParam)
      if (!al)
        throw notFound(
          `Alias ${formatArn({ partition, service: 'kms', region, account, resource: keyIdParam })} is not found.`,
        )
      keyId = al.targetKeyId
    } else if (UUID.test(keyIdParam)) keyId = keyIdParam
    else throw notFound(`Invalid keyId '${keyIdParam}'`)
    const k = region === f.region ? store.keys.get(scopeOf(account, region), keyId ?? '') : undefined
    if (!k || (use === 'own-account' && account !== f.identity.account))
      throw notFound(
        `Key '${formatArn({ partition, service: 'kms', region, account, resource: `key/${keyId ?? ''}` })}' does not exist`,
      )
    return k
  }

  function allow(
    f: CallFacts,
    action: string,
    k: KeyRecord,
    context: Record<string, string | string[]> = {},
  ): void {
    authorize(
      f,
      {
        action: `kms:${action}`,
        resource: k.arn,
        resourcePolicy: parsedPolicy(k),
        resourcePolicyName: `key policy of ${k.arn}`,
        context: { 'kms:CallerAccount': f.identity.account, ...context },
      },
      'json',
    )
  }

  function usable(k: KeyRecord): void {
    if (k.keyState === 'Disabled') throw disabled(k.arn)
    if (k.keyState === 'PendingDeletion') throw invalidState(`${k.arn} is pending deletion.`)
  }

  function save(k: KeyRecord): void {
    store.keys.put(scopeOf(k.account, k.region), k.keyId, k)
  }

  function seal(k: KeyRecord, plaintext: Buffer, ctx: Readonly<Record<string, string>>): Buffer {
    const iv = randomBytes(12)
    const c = createCipheriv('aes-256-gcm', Buffer.from(k.material, 'base64'), iv)
    c.setAAD(aad(k.arn, ctx))
    const ct = Buffer.concat([c.update(plaintext), c.final()])
    const arn = Buffer.from(k.arn, 'utf8')
    const len = Buffer.alloc(2)
    len.writeUInt16BE(arn.length)
    return Buffer.concat([BLOB_MAGIC, len, arn, iv, c.getAuthTag(), ct])
  }

  /** The key ARN a ciphertext blob names, or undefined when it is not one of ours. */
  function blobKeyArn(b: Buffer): string | undefined {
    if (b.length < 6 + 28 || !b.subarray(0, 4).equals(BLOB_MAGIC)) return undefined
    const n = b.readUInt16BE(4)
    if (b.length < 6 + n + 28) return undefined
    return b.toString('utf8', 6, 6 + n)
  }

  function open(k: KeyRecord, b: Buffer, ctx: Readonly<Record<string, string>>): Buffer {
    const n = b.readUInt16BE(4)
    const iv = b.subarray(6 + n, 6 + n + 12)
    const tag = b.subarray(6 + n + 12, 6 + n + 28)
    const d = createDecipheriv('aes-256-gcm', Buffer.from(k.material, 'base64'), iv)
    d.setAAD(aad(k.arn, ctx))
    d.setAuthTag(tag)
    try {
      return Buffer.concat([d.update(b.subarray(6 + n + 28)), d.final()])
    } catch {
      // A different encryption context, or an altered blob: KMS cannot tell which, and neither do we.
      throw invalidCiphertext()
    }
  }

  function decryptAs(
    f: CallFacts,
    b: Buffer,
    ctx: Readonly<Record<string, string>>,
    keyIdParam: string | undefined,
    extra: Record<string, string> = {},
    action = 'Decrypt',
  ): { k: KeyRecord; plaintext: Buffer } {
    const arn = blobKeyArn(b)
    if (!arn) throw invalidCiphertext()
    const k = findKeyByArn(arn)
    if (!k) throw invalidCiphertext()
    if (keyIdParam !== undefined) {
      const named = findKey(f, keyIdParam, 'cross-account')
      if (named.arn !== k.arn) throw incorrectKey()
    }
    allow(f, action, k, { ...contextKeys(ctx), ...extra })
    usable(k)
    return { k, plaintext: open(k, b, ctx) }
  }

  function findKeyByArn(arn: string): KeyRecord | undefined {
    const a = parseArn(arn)
    if (!a) return undefined
    return store.keys.get(scopeOf(a.account, a.region), a.resource.slice(4))
  }

  function createKeyRecord(
    account: string,
    region: string,
    partition: string,
    policy: string,
    description: string,
    manager: 'CUSTOMER' | 'AWS',
    tags: KeyRecord['tags'],
  ): KeyRecord {
    const keyId = randomUUID()
    const k: KeyRecord = {
      keyId,
      arn: formatArn({ partition, service: 'kms', region, account, resource: `key/${keyId}` }),
      account,
      region,
      created: new Date().toISOString(),
      description,
      keyUsage: 'ENCRYPT_DECRYPT',
      keySpec: 'SYMMETRIC_DEFAULT',
      keyState: 'Enabled',
      keyManager: manager,
      policy,
      material: randomBytes(32).toString('base64'),
      rotation: manager === 'AWS',
      tags,
    }
    save(k)
    return k
  }

  function checkKeyPolicy(f: CallFacts, text: string, bypass: boolean, account: string): void {
    if (text.length > 32768) throw malformedPolicy('Policy exceeds 32768 characters.')
    let doc: unknown
    try {
      doc = JSON.parse(text)
    } catch {
      throw malformedPolicy('The new key policy is not valid JSON.')
    }
    const problems = validatePolicy(doc, 'resource')
    if (problems.length) throw malformedPolicy(problems.map((p) => `${p.element}: ${p.message}`).join('; '))
    // The policy lockout safety check: the caller must still be able to PutKeyPolicy afterwards
    // (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-bypass-policy-lockout-safety-check).
    if (!bypass) {
      const probe = decide(f, {
        action: 'kms:PutKeyPolicy',
        resource: formatArn({
          partition: runtime.partition(f.region),
          service: 'kms',
          region: f.region,
          account,
          resource: 'key/00000000-0000-0000-0000-000000000000',
        }),
        resourcePolicy: doc as PolicyDocument,
      })
      if (probe.decision !== 'Allowed')
        throw malformedPolicy('The new key policy will not allow you to update the key policy in the future.')
    }
  }

  function aliasName(input: Readonly<Record<string, unknown>>): string {
    const name = str(input, 'AliasName', true)
    if (!/^alias\/[a-zA-Z0-9/_-]+$/.test(name) || name.length > 256)
      throw validation(
        `1 validation error detected: Value '${name}' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^alias/[a-zA-Z0-9/_-]+$`,
      )
    return name
  }

  function aliasJson(a: AliasRecord): Record<string, unknown> {
    return {
      AliasName: a.aliasName,
      AliasArn: a.aliasArn,
      TargetKeyId: a.targetKeyId,
      CreationDate: epoch(a.created),
      LastUpdatedDate: epoch(a.updated),
    }
  }

  function page<T>(
    input: Readonly<Record<string, unknown>>,
    items: readonly T[],
  ): { items: T[]; NextMarker?: string; Truncated: boolean } {
    const limit = num(input, 'Limit') ?? 100
    if (limit < 1 || limit > 1000)
      throw validation(
        `1 validation error detected: Value '${limit}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 1000`,
      )
    const marker = str(input, 'Marker')
    const start = marker === undefined ? 0 : Number(Buffer.from(marker, 'base64url').toString('utf8'))
    if (!Number.isInteger(start) || start < 0) throw invalidMarker()
    const slice = items.slice(start, start + limit)
    const more = start + limit < items.length
    return {
      items: slice,
      Truncated: more,
      ...(more ? { NextMarker: Buffer.from(String(start + limit)).toString('base64url') } : {}),
    }
  }

  function dataKeySize(input: Readonly<Record<string, unknown>>): number {
    const spec = str(input, 'KeySpec')
    const n = num(input, 'NumberOfBytes')
    if (spec !== undefined && n !== undefined)
      throw validation('Please specify either number of bytes or key spec.')
    if (spec === undefined && n === undefined)
      throw validation('Please specify either number of bytes or key spec.')
    if (spec !== undefined) {
      if (spec !== 'AES_256' && spec !== 'AES_128')
        throw validation(
          `1 validation error detected: Value '${spec}' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [AES_256, AES_128]`,
        )
      return spec === 'AES_256' ? 32 : 16
    }
    if (n! < 1 || n! > 1024)
      throw validation(
        `1 validation error detected: Value '${n}' at 'numberOfBytes' failed to satisfy constraint: Member must have value ${n! < 1 ? 'greater than or equal to 1' : 'less than or equal to 1024'}`,
      )
    return n!
  }

  const internal: KmsInternal = {
    generateDataKey(f, keyId, context, viaService) {
      const k = findKey(f, keyId, 'cross-account')
      allow(f, 'GenerateDataKey', k, { ...contextKeys(context), 'kms:ViaService': viaService })
      usable(k)
      const plaintext = randomBytes(32)
      return { keyArn: k.arn, plaintext, ciphertext: seal(k, plaintext, context) }
    },
    decrypt(f, ciphertext, context, viaService) {
      const { k, plaintext } = decryptAs(f, ciphertext, context, undefined, { 'kms:ViaService': viaService })
      return { keyArn: k.arn, plaintext }
    },
    awsManagedKeyArn(account, region, partition, service) {
      const name = `alias/aws/${service}`
      const existing = store.aliases.get(scopeOf(account, region), name)
      if (existing)
        return formatArn({
          partition,
          service: 'kms',
          region,
          account,
          resource: `key/${existing.targetKeyId}`,
        })
      return runtime.db.transaction(() => {
        const k = createKeyRecord(
          account,
          region,
          partition,
          awsManagedKeyPolicy(partition, account, region, service),
          `Default key that protects my ${service.toUpperCase()} objects when no other key is defined`,
          'AWS',
          [],
        )
        const t = new Date().toISOString()
        store.aliases.put(scopeOf(account, region), name, {
          aliasName: name,
          aliasArn: formatArn({ partition, service: 'kms', region, account, resource: name }),
          targetKeyId: k.keyId,
          created: t,
          updated: t,
        })
        return k.arn
      })()
    },
  }
  runtime.provide('kms', internal)

  const idOrArn = (ctx: RequestContext, input: Readonly<Record<string, unknown>>, use: Use): KeyRecord =>
    findKey(ctx, str(input, 'KeyId', true), use)

  return {
    name: 'kms',
    signingName: 'kms',
    protocol: 'json',
    jsonVersion: '1.1',
    targetPrefix: 'TrentService',
    actions: {
      CreateKey: (input, ctx) => {
        const usage = str(input, 'KeyUsage') ?? 'ENCRYPT_DECRYPT'
        const spec = str(input, 'KeySpec') ?? str(input, 'CustomerMasterKeySpec') ?? 'SYMMETRIC_DEFAULT'
        if (usage !== 'ENCRYPT_DECRYPT' || spec !== 'SYMMETRIC_DEFAULT')
          throw unsupported(
            `The crosspipe sandbox supports only SYMMETRIC_DEFAULT ENCRYPT_DECRYPT keys, not ${spec} ${usage}.`,
          )
        if (str(input, 'Origin') !== undefined && str(input, 'Origin') !== 'AWS_KMS')
          throw unsupported('The crosspipe sandbox supports only keys with origin AWS_KMS.')
        authorize(ctx, { action: 'kms:CreateKey', resource: '*' }, 'json')
        const given = str(input, 'Policy')
        const policy = given ?? defaultKeyPolicy(ctx.partition, ctx.identity.account)
        if (given !== undefined)
          checkKeyPolicy(ctx, given, input['BypassPolicyLockoutSafetyCheck'] === true, ctx.identity.account)
        const tags = Array.isArray(input['Tags'])
          ? (input['Tags'] as { TagKey?: unknown; TagValue?: unknown }[]).map((t) => ({
              TagKey: typeof t.TagKey === 'string' ? t.TagKey : '',
              TagValue: typeof t.TagValue === 'string' ? t.TagValue : '',
            }))
          : []
        const k = createKeyRecord(
          ctx.identity.account,
          ctx.region,
          ctx.partition,
          policy,
          str(input, 'Description') ?? '',
          'CUSTOMER',
          tags,
        )
        return { KeyMetadata: keyMetadata(k) }
      },
      DescribeKey: (input, ctx) => {
        const k = idOrArn(ctx, input, 'cross-account')
        allow(ctx, 'DescribeKey', k)
        return { KeyMetadata: keyMetadata(k) }
      },
      ListKeys: (input, ctx) => {
        authorize(ctx, { action: 'kms:ListKeys', resource: '*' }, 'json')
        const keys = store.keys.list(scopeOf(ctx.identity.account, ctx.region)).map((x) => x.value)
        const pg = page(input, keys)
        return {
          Keys: pg.items.map((k) => ({ KeyId: k.keyId, KeyArn: k.arn })),
          Truncated: pg.Truncated,
          NextMarker: pg.NextMarker,
        }
      },
      EnableKey: (input, ctx) => setState(input, ctx, 'EnableKey', 'Enabled'),
      DisableKey: (input, ctx) => setState(input, ctx, 'DisableKey', 'Disabled'),
      GetKeyPolicy: (input, ctx) => {
        const k = idOrArn(ctx, input, 'own-account')
        const name = str(input, 'PolicyName') ?? 'default'
        allow(ctx, 'GetKeyPolicy', k)
        if (name !== 'default') throw notFound(`No such policy exists`)
        return { Policy: k.policy, PolicyName: 'default' }
      },
      PutKeyPolicy: (input, ctx) => {
        const k = idOrArn(ctx, input, 'own-account')
        const name = str(input, 'PolicyName') ?? 'default'
        const policy = str(input, 'Policy', true)
        if (name !== 'default')
          throw validation(
            `1 validation error detected: Value '${name}' at 'policyName' failed to satisfy constraint: Member must satisfy regular expression pattern: default`,
          )
        allow(ctx, 'PutKeyPolicy', k)
        if (k.keyManager === 'AWS')
          throw notAuthorized(`${k.arn} is an AWS managed key: its policy cannot be changed.`)
        checkKeyPolicy(ctx, policy, input['BypassPolicyLockoutSafetyCheck'] === true, k.account)
        k.policy = policy
        save(k)
        return {}
      },
      EnableKeyRotation: (input, ctx) => rotation(input, ctx, 'EnableKeyRotation', true),
      DisableKeyRotation: (input, ctx) => rotation(input, ctx, 'DisableKeyRotation', false),
      GetKeyRotationStatus: (input, ctx) => {
        const k = idOrArn(ctx, input, 'cross-account')
        allow(ctx, 'GetKeyRotationStatus', k)
        if (k.keyState === 'PendingDeletion') throw invalidState(`${k.arn} is pending deletion.`)
        return {
          KeyRotationEnabled: k.rotation,
          KeyId: k.arn,
          ...(k.rotation ? { RotationPeriodInDays: 365 } : {}),
        }
      },
      ScheduleKeyDeletion: (input, ctx) => {
        const k = idOrArn(ctx, input, 'own-account')
        const days = num(input, 'PendingWindowInDays') ?? 30
        if (days < 7 || days > 30)
          throw validation(
            `1 validation error detected: Value '${days}' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value ${days < 7 ? 'greater than or equal to 7' : 'less than or equal to 30'}`,
          )
        allow(ctx, 'ScheduleKeyDeletion', k)
        if (k.keyManager === 'AWS')
          throw notAuthorized(`${k.arn} is an AWS managed key and cannot be deleted.`)
        if (k.keyState === 'PendingDeletion') throw invalidState(`${k.arn} is pending deletion.`)
        k.keyState = 'PendingDeletion'
        k.pendingWindowInDays = days
        k.deletionDate = new Date(ctx.now.getTime() + days * 86400_000).toISOString()
        save(k)
        return {
          KeyId: k.arn,
          DeletionDate: epoch(k.deletionDate),
          KeyState: k.keyState,
          PendingWindowInDays: days,
        }
      },
      CancelKeyDeletion: (input, ctx) => {
        const k = idOrArn(ctx, input, 'own-account')
        allow(ctx, 'CancelKeyDeletion', k)
        if (k.keyState !== 'PendingDeletion') throw invalidState(`${k.arn} is not pending deletion.`)
        // A key whose deletion is cancelled comes back disabled (https://docs.aws.amazon.com/kms/latest/APIReference/API_CancelKeyDeletion.html).
        k.keyState = 'Disabled'
        delete k.deletionDate
        delete k.pendingWindowInDays
        save(k)
        return { KeyId: k.arn }
      },
      CreateAlias: (input, ctx) => {
        const name = aliasName(input)
        if (name.startsWith('alias/aws/')) throw notAuthorized('Cannot create alias with prefix alias/aws/')
        const k = findKey(ctx, str(input, 'TargetKeyId', true), 'own-account')
        const aliasArn = formatArn({
          partition: ctx.partition,
          service: 'kms',
          region: ctx.region,
          account: ctx.identity.account,
          resource: name,
        })
        authorize(ctx, { action: 'kms:CreateAlias', resource: aliasArn }, 'json')
        allow(ctx, 'CreateAlias', k)
        const scope = scopeOf(ctx.identity.account, ctx.region)
        if (store.aliases.get(scope, name))
          throw alreadyExists(`An alias with the name ${aliasArn} already exists`)
        if (k.keyState === 'PendingDeletion') throw invalidState(`${k.arn} is pending deletion.`)
        const t = new Date().toISOString()
        store.aliases.put(scope, name, {
          aliasName: name,
          aliasArn,
          targetKeyId: k.keyId,
          created: t,
          updated: t,
        })
        return {}
      },
      UpdateAlias: (input, ctx) => {
        const name = aliasName(input)
        if (name.startsWith('alias/aws/')) throw notAuthorized('Cannot update alias with prefix alias/aws/')
        const scope = scopeOf(ctx.identity.account, ctx.region)
        const a = store.aliases.get(scope, name)
        const aliasArn = formatArn({
          partition: ctx.partition,
          service: 'kms',
          region: ctx.region,
          account: ctx.identity.account,
          resource: name,
        })
        if (!a) throw notFound(`Alias ${aliasArn} is not found.`)
        const k = findKey(ctx, str(input, 'TargetKeyId', true), 'own-account')
        const old = store.keys.get(scope, a.targetKeyId)
        authorize(ctx, { action: 'kms:UpdateAlias', resource: aliasArn }, 'json')
        if (old) allow(ctx, 'UpdateAlias', old)
        allow(ctx, 'UpdateAlias', k)
        a.targetKeyId = k.keyId
        a.updated = new Date().toISOString()
        store.aliases.put(scope, name, a)
        return {}
      },
      DeleteAlias: (input, ctx) => {
        const name = aliasName(input)
        if (name.startsWith('alias/aws/')) throw notAuthorized('Cannot delete alias with prefix alias/aws/')
        const scope = scopeOf(ctx.identity.account, ctx.region)
        const a = store.aliases.get(scope, name)
        const aliasArn = formatArn({
          partition: ctx.partition,
          service: 'kms',
          region: ctx.region,
          account: ctx.identity.account,
          resource: name,
        })
        if (!a) throw notFound(`Alias ${aliasArn} is not found.`)
        authorize(ctx, { action: 'kms:DeleteAlias', resource: aliasArn }, 'json')
        const k = store.keys.get(scope, a.targetKeyId)
        if (k) allow(ctx, 'DeleteAlias', k)
        store.aliases.delete(scope, name)
        return {}
      },
      ListAliases: (input, ctx) => {
        authorize(ctx, { action: 'kms:ListAliases', resource: '*' }, 'json')
        const scope = scopeOf(ctx.identity.account, ctx.region)
        let aliases = store.aliases.list(scope, 'alias/').map((x) => x.value)
        const keyId = str(input, 'KeyId')
        if (keyId !== undefined) {
          const k = findKey(ctx, keyId, 'own-account')
          aliases = aliases.filter((a) => a.targetKeyId === k.keyId)
        }
        const pg = page(input, aliases)
        return { Aliases: pg.items.map(aliasJson), Truncated: pg.Truncated, NextMarker: pg.NextMarker }
      },
      Encrypt: (input, ctx) => {
        const k = idOrArn(ctx, input, 'cross-account')
        const plaintext = blob(input, 'Plaintext', 4096)
        const ec = encryptionContext(input, 'EncryptionContext')
        algorithm(input, 'EncryptionAlgorithm')
        allow(ctx, 'Encrypt', k, contextKeys(ec))
        usable(k)
        return {
          CiphertextBlob: seal(k, plaintext, ec).toString('base64'),
          KeyId: k.arn,
          EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        }
      },
      Decrypt: (input, ctx) => {
        const b = blob(input, 'CiphertextBlob', 6144)
        const ec = encryptionContext(input, 'EncryptionContext')
        algorithm(input, 'EncryptionAlgorithm')
        const { k, plaintext } = decryptAs(ctx, b, ec, str(input, 'KeyId'))
        return {
          KeyId: k.arn,
          Plaintext: plaintext.toString('base64'),
          EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        }
      },
      ReEncrypt: (input, ctx) => {
        const b = blob(input, 'CiphertextBlob', 6144)
        const sourceEc = encryptionContext(input, 'SourceEncryptionContext')
        const destEc = encryptionContext(input, 'DestinationEncryptionContext')
        const dest = findKey(ctx, str(input, 'DestinationKeyId', true), 'cross-account')
        const { k, plaintext } = decryptAs(ctx, b, sourceEc, str(input, 'SourceKeyId'), {}, 'ReEncryptFrom')
        allow(ctx, 'ReEncryptTo', dest, contextKeys(destEc))
        usable(dest)
        return {
          CiphertextBlob: seal(dest, plaintext, destEc).toString('base64'),
          SourceKeyId: k.arn,
          KeyId: dest.arn,
          SourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
          DestinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        }
      },
      GenerateDataKey: (input, ctx) => {
        const k = idOrArn(ctx, input, 'cross-account')
        const size = dataKeySize(input)
        const ec = encryptionContext(input, 'EncryptionContext')
        allow(ctx, 'GenerateDataKey', k, contextKeys(ec))
        usable(k)
        const plaintext = randomBytes(size)
        return {
          CiphertextBlob: seal(k, plaintext, ec).toString('base64'),
          Plaintext: plaintext.toString('base64'),
          KeyId: k.arn,
        }
      },
      GenerateDataKeyWithoutPlaintext: (input, ctx) => {
        const k = idOrArn(ctx, input, 'cross-account')
        const size = dataKeySize(input)
        const ec = encryptionContext(input, 'EncryptionContext')
        allow(ctx, 'GenerateDataKeyWithoutPlaintext', k, contextKeys(ec))
        usable(k)
        return { CiphertextBlob: seal(k, randomBytes(size), ec).toString('base64'), KeyId: k.arn }
      },
      TagResource: (input, ctx) => {
        const k = idOrArn(ctx, input, 'own-account')
        allow(ctx, 'TagResource', k)
        const tags = Array.isArray(input['Tags'])
          ? (input['Tags'] as { TagKey?: unknown; TagValue?: unknown }[])
          : []
        for (const t of tags) {
          const key = typeof t.TagKey === 'string' ? t.TagKey : ''
          k.tags = k.tags.filter((x) => x.TagKey !== key)
          k.tags.push({
            TagKey: key,
            TagValue: typeof t.TagValue === 'string' ? t.TagValue : '',
          })
        }
        save(k)
        return {}
      },
      UntagResource: (input, ctx) => {
        const k = idOrArn(ctx, input, 'own-account')
        allow(ctx, 'UntagResource', k)
        const keys = Array.isArray(input['TagKeys']) ? (input['TagKeys'] as unknown[]).map(String) : []
        k.tags = k.tags.filter((t) => !keys.includes(t.TagKey))
        save(k)
        return {}
      },
      ListResourceTags: (input, ctx) => {
        const k = idOrArn(ctx, input, 'own-account')
        allow(ctx, 'ListResourceTags', k)
        return { Tags: k.tags, Truncated: false }
      },
      // Grants are not modelled (CreateGrant is not served), so a key has none: the answer a key
      // without grants gets. Cross-account callers may list a key's grants by its ARN.
      // https://docs.aws.amazon.com/kms/latest/APIReference/API_ListGrants.html
      ListGrants: (input, ctx) => {
        const k = idOrArn(ctx, input, 'cross-account')
        allow(ctx, 'ListGrants', k)
        return { Grants: [], Truncated: false }
      },
      UpdateKeyDescription: (input, ctx) => {
        const k = idOrArn(ctx, input, 'own-account')
        const d = str(input, 'Description', true)
        allow(ctx, 'UpdateKeyDescription', k)
        k.description = d
        save(k)
        return {}
      },
    },
  }

  function algorithm(input: Readonly<Record<string, unknown>>, name: string): void {
    const a = str(input, name)
    if (a !== undefined && a !== 'SYMMETRIC_DEFAULT')
      throw new AwsError(
        'InvalidKeyUsageException',
        `The crosspipe sandbox's symmetric keys support only SYMMETRIC_DEFAULT, not ${a}.`,
        400,
      )
  }

  function setState(
    input: Readonly<Record<string, unknown>>,
    ctx: RequestContext,
    action: string,
    state: 'Enabled' | 'Disabled',
  ): object {
    const k = idOrArn(ctx, input, 'own-account')
    allow(ctx, action, k)
    if (k.keyState === 'PendingDeletion') throw invalidState(`${k.arn} is pending deletion.`)
    if (k.keyManager === 'AWS') throw notAuthorized(`${k.arn} is an AWS managed key.`)
    k.keyState = state
    save(k)
    return {}
  }

  function rotation(
    input: Readonly<Record<string, unknown>>,
    ctx: RequestContext,
    action: string,
    on: boolean,
  ): object {
    const k = idOrArn(ctx, input, 'own-account')
    allow(ctx, action, k)
    usable(k)
    if (k.keyManager === 'AWS') throw notAuthorized(`${k.arn} is an AWS managed key.`)
    k.rotation = on
    save(k)
    return {}
  }
}
