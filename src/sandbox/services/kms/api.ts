/**
 * KMS over awsJson 1.1 (`TrentService`): symmetric keys with real AES-256-GCM, aliases, key
 * policies authorized by the IAM engine's key-policy rule. Behaviour and citations in SPEC.md.
 *
 * Declared as operations of KMS's model (src/sandbox/operations): JSON types, required members,
 * lengths (`Plaintext` 1–4096 bytes…), ranges (`Limit` 1–1000, `NumberOfBytes` 1–1024) and enums
 * (`KeyUsage`, `KeySpec`…) are checked by the model with AWS's messages; the handlers check what
 * the model cannot say (the `alias/` prefix, 7–30 days of deletion window, one key spec at a time,
 * what the sandbox's symmetric keys support).
 */
import type * as Kms from '@aws-sdk/client-kms'
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto'
import { accountRootArn, formatArn, parseArn } from '../../../iam/arn.js'
import { endpointHost } from '../../../iam/aws-facts.js'
import { validatePolicy } from '../../../iam/index.js'
import type { PolicyDocument } from '../../../iam/types.js'
import { authorize, decide, type CallFacts } from '../../auth/authorize.js'
import { AwsError } from '../../errors.js'
import type { Runtime } from '../../runtime.js'
import { jsonService, operation, type Validated } from '../../operations/index.js'
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
import type { KmsInternal } from '../../internal/contracts.js'
import { KmsStore, scopeOf, type AliasRecord, type KeyRecord } from './store.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const BLOB_MAGIC = Buffer.from('CPK1')

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

/** A stored ISO time as the SDK's `Date` (the layer writes epoch seconds). */
function at(iso: string): Date {
  return new Date(iso)
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

function keyMetadata(k: KeyRecord): Kms.KeyMetadata {
  return {
    AWSAccountId: k.account,
    KeyId: k.keyId,
    Arn: k.arn,
    CreationDate: at(k.created),
    Enabled: k.keyState === 'Enabled',
    Description: k.description,
    KeyUsage: k.keyUsage,
    KeyState: k.keyState,
    ...(k.deletionDate
      ? { DeletionDate: at(k.deletionDate), PendingDeletionWindowInDays: k.pendingWindowInDays }
      : {}),
    Origin: 'AWS_KMS',
    KeyManager: k.keyManager,
    CustomerMasterKeySpec: k.keySpec,
    KeySpec: k.keySpec,
    EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
    MultiRegion: false,
  }
}

/** `alias/aws/<service>`, the alias of an AWS managed key. */
const PREDEFINED_ALIAS = /^alias\/aws\/([a-z0-9-]+)$/
/**
 * Services whose AWS managed key (`aws/<service>`) DescribeKey creates: those the sandbox serves or
 * stores for that encrypt with their AWS managed key by default
 * (https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#aws-managed-key).
 */
const AWS_MANAGED_KEY_SERVICES: ReadonlySet<string> = new Set(['s3', 'ssm', 'ecr', 'codecommit'])

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

  /**
   * An alias name: the model allows any `[a-zA-Z0-9:/_-]+`; the `alias/` prefix is AWS's rule
   * (https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html#API_CreateAlias_RequestSyntax).
   */
  function aliasName(name: string): string {
    if (!/^alias\/[a-zA-Z0-9/_-]+$/.test(name))
      throw validation(
        `1 validation error detected: Value '${name}' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^alias/[a-zA-Z0-9/_-]+$`,
      )
    return name
  }

  /** The ARN of alias `name` in the caller's account and region. */
  function ownAliasArn(ctx: RequestContext, name: string): string {
    return formatArn({
      partition: ctx.partition,
      service: 'kms',
      region: ctx.region,
      account: ctx.identity.account,
      resource: name,
    })
  }

  /**
   * An existing alias of the caller's account and region that UpdateAlias or DeleteAlias may
   * change: not one of AWS's (`alias/aws/`), else NotFoundException.
   */
  function ownAlias(
    ctx: RequestContext,
    aliasNameInput: string,
    verb: 'update' | 'delete',
  ): { name: string; scope: string; alias: AliasRecord; aliasArn: string } {
    const name = aliasName(aliasNameInput)
    if (name.startsWith('alias/aws/')) throw notAuthorized(`Cannot ${verb} alias with prefix alias/aws/`)
    const scope = scopeOf(ctx.identity.account, ctx.region)
    const alias = store.aliases.get(scope, name)
    const aliasArn = ownAliasArn(ctx, name)
    if (!alias) throw notFound(`Alias ${aliasArn} is not found.`)
    return { name, scope, alias, aliasArn }
  }

  function aliasOut(a: AliasRecord): Kms.AliasListEntry {
    return {
      AliasName: a.aliasName,
      AliasArn: a.aliasArn,
      TargetKeyId: a.targetKeyId,
      CreationDate: at(a.created),
      LastUpdatedDate: at(a.updated),
    }
  }

  /** Limit/Marker paging; the model bounds Limit to 1–1000. */
  function page<T>(
    input: { readonly Limit?: number; readonly Marker?: string },
    items: readonly T[],
  ): { items: T[]; NextMarker?: string; Truncated: boolean } {
    const limit = input.Limit ?? 100
    const marker = input.Marker
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

  /**
   * The data key size: exactly one of KeySpec and NumberOfBytes, a rule across members the model
   * cannot state (https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateDataKey.html);
   * each one's own values are the model's.
   */
  function dataKeySize(input: { readonly KeySpec?: string; readonly NumberOfBytes?: number }): number {
    const { KeySpec: spec, NumberOfBytes: n } = input
    if ((spec === undefined) === (n === undefined))
      throw validation('Please specify either number of bytes or key spec.')
    if (spec !== undefined) return spec === 'AES_256' ? 32 : 16
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

  /** An encryption context as the engine's condition keys and the AAD want it. */
  const ec = (m: Readonly<Record<string, string>> | undefined): Record<string, string> => ({ ...(m ?? {}) })
  const b64 = (b: Buffer): Uint8Array => b

  return jsonService({
    name: 'kms',
    signingName: 'kms',
    jsonVersion: '1.1',
    targetPrefix: 'TrentService',
    // A member the sandbox does not act on is refused with KMS's UnsupportedOperationException,
    // "a specified parameter is not supported" (in the errors of the KMS API reference's operation
    // pages, e.g. API_CreateKey.html), as the handlers' own refusals are.
    unsupportedCode: 'UnsupportedOperationException',
    operations: [
      operation<Kms.CreateKeyRequest, Kms.CreateKeyResponse>(
        'CreateKey',
        (input, ctx) => {
          const usage = input.KeyUsage ?? 'ENCRYPT_DECRYPT'
          const spec = input.KeySpec ?? input.CustomerMasterKeySpec ?? 'SYMMETRIC_DEFAULT'
          if (usage !== 'ENCRYPT_DECRYPT' || spec !== 'SYMMETRIC_DEFAULT')
            throw unsupported(
              `The crosspipe sandbox supports only SYMMETRIC_DEFAULT ENCRYPT_DECRYPT keys, not ${spec} ${usage}.`,
            )
          if (input.Origin !== undefined && input.Origin !== 'AWS_KMS')
            throw unsupported('The crosspipe sandbox supports only keys with origin AWS_KMS.')
          authorize(ctx, { action: 'kms:CreateKey', resource: '*' }, 'json')
          const given = input.Policy
          const policy = given ?? defaultKeyPolicy(ctx.partition, ctx.identity.account)
          if (given !== undefined)
            checkKeyPolicy(ctx, given, input.BypassPolicyLockoutSafetyCheck === true, ctx.identity.account)
          const tags = (input.Tags ?? []).map((t) => ({ TagKey: t.TagKey, TagValue: t.TagValue }))
          const k = createKeyRecord(
            ctx.identity.account,
            ctx.region,
            ctx.partition,
            policy,
            input.Description ?? '',
            'CUSTOMER',
            tags,
          )
          return { KeyMetadata: keyMetadata(k) }
        },
        {
          honours: [
            'Policy',
            'Description',
            'KeyUsage',
            'CustomerMasterKeySpec',
            'KeySpec',
            'Origin',
            'BypassPolicyLockoutSafetyCheck',
            'Tags',
          ],
          accepts: {
            MultiRegion: {
              why: 'false is the default: a single-Region key, the only kind the sandbox makes',
              when: false,
            },
          },
          refuses: {
            CustomKeyStoreId: 'custom key stores are not modelled',
            XksKeyId: 'external key stores are not modelled',
            MultiRegion: 'multi-Region keys are not modelled',
          },
        },
      ),
      operation<Kms.DescribeKeyRequest, Kms.DescribeKeyResponse>(
        'DescribeKey',
        (input, ctx) => {
          // "If you specify a predefined AWS alias (an AWS alias with no key ID), KMS associates the
          // alias with an AWS managed key" (https://docs.aws.amazon.com/kms/latest/APIReference/API_DescribeKey.html):
          // the key a service would create on first use is created here, in the caller's account.
          const predefined = PREDEFINED_ALIAS.exec(input.KeyId)?.[1]
          if (predefined && AWS_MANAGED_KEY_SERVICES.has(predefined))
            internal.awsManagedKeyArn(ctx.identity.account, ctx.region, ctx.partition, predefined)
          const k = findKey(ctx, input.KeyId, 'cross-account')
          allow(ctx, 'DescribeKey', k)
          return { KeyMetadata: keyMetadata(k) }
        },
        {
          honours: ['KeyId'],
          refuses: {
            GrantTokens:
              'grants are not modelled (the sandbox has no CreateGrant), so no grant token names a grant here',
          },
        },
      ),
      operation<Kms.ListKeysRequest, Kms.ListKeysResponse>(
        'ListKeys',
        (input, ctx) => {
          authorize(ctx, { action: 'kms:ListKeys', resource: '*' }, 'json')
          const keys = store.keys.list(scopeOf(ctx.identity.account, ctx.region)).map((x) => x.value)
          const pg = page(input, keys)
          return {
            Keys: pg.items.map((k) => ({ KeyId: k.keyId, KeyArn: k.arn })),
            Truncated: pg.Truncated,
            NextMarker: pg.NextMarker,
          }
        },
        { honours: ['Limit', 'Marker'] },
      ),
      operation<Kms.EnableKeyRequest, object>(
        'EnableKey',
        (input, ctx) => setState(input, ctx, 'EnableKey', 'Enabled'),
        { honours: ['KeyId'] },
      ),
      operation<Kms.DisableKeyRequest, object>(
        'DisableKey',
        (input, ctx) => setState(input, ctx, 'DisableKey', 'Disabled'),
        { honours: ['KeyId'] },
      ),
      operation<Kms.GetKeyPolicyRequest, Kms.GetKeyPolicyResponse>(
        'GetKeyPolicy',
        (input, ctx) => {
          const k = findKey(ctx, input.KeyId, 'own-account')
          const name = input.PolicyName ?? 'default'
          allow(ctx, 'GetKeyPolicy', k)
          if (name !== 'default') throw notFound(`No such policy exists`)
          return { Policy: k.policy, PolicyName: 'default' }
        },
        { honours: ['KeyId', 'PolicyName'] },
      ),
      operation<Kms.PutKeyPolicyRequest, object>(
        'PutKeyPolicy',
        (input, ctx) => {
          const k = findKey(ctx, input.KeyId, 'own-account')
          const name = input.PolicyName ?? 'default'
          // The model allows any `\w+` name; a key has one policy, `default` (PutKeyPolicy's page).
          if (name !== 'default')
            throw validation(
              `1 validation error detected: Value '${name}' at 'policyName' failed to satisfy constraint: Member must satisfy regular expression pattern: default`,
            )
          allow(ctx, 'PutKeyPolicy', k)
          if (k.keyManager === 'AWS')
            throw notAuthorized(`${k.arn} is an AWS managed key: its policy cannot be changed.`)
          checkKeyPolicy(ctx, input.Policy, input.BypassPolicyLockoutSafetyCheck === true, k.account)
          k.policy = input.Policy
          save(k)
          return {}
        },
        { honours: ['KeyId', 'PolicyName', 'Policy', 'BypassPolicyLockoutSafetyCheck'] },
      ),
      operation<Kms.EnableKeyRotationRequest, object>(
        'EnableKeyRotation',
        (input, ctx) => rotation(input, ctx, 'EnableKeyRotation', true),
        { honours: ['KeyId', 'RotationPeriodInDays'] },
      ),
      operation<Kms.DisableKeyRotationRequest, object>(
        'DisableKeyRotation',
        (input, ctx) => rotation(input, ctx, 'DisableKeyRotation', false),
        { honours: ['KeyId'] },
      ),
      operation<Kms.GetKeyRotationStatusRequest, Kms.GetKeyRotationStatusResponse>(
        'GetKeyRotationStatus',
        (input, ctx) => {
          const k = findKey(ctx, input.KeyId, 'cross-account')
          allow(ctx, 'GetKeyRotationStatus', k)
          if (k.keyState === 'PendingDeletion') throw invalidState(`${k.arn} is pending deletion.`)
          // With rotation on: its period and "the next scheduled rotation date"
          // (https://docs.aws.amazon.com/kms/latest/APIReference/API_GetKeyRotationStatus.html).
          return {
            KeyRotationEnabled: k.rotation,
            KeyId: k.arn,
            ...(k.rotation
              ? { RotationPeriodInDays: rotationPeriod(k), NextRotationDate: nextRotation(k, ctx.now) }
              : {}),
          }
        },
        { honours: ['KeyId'] },
      ),
      operation<Kms.ScheduleKeyDeletionRequest, Kms.ScheduleKeyDeletionResponse>(
        'ScheduleKeyDeletion',
        (input, ctx) => {
          const k = findKey(ctx, input.KeyId, 'own-account')
          const days = input.PendingWindowInDays ?? 30
          // The model allows 1–365; ScheduleKeyDeletion's page says 7–30 (inclusive).
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
            DeletionDate: at(k.deletionDate),
            KeyState: k.keyState,
            PendingWindowInDays: days,
          }
        },
        { honours: ['KeyId', 'PendingWindowInDays'] },
      ),
      operation<Kms.CancelKeyDeletionRequest, Kms.CancelKeyDeletionResponse>(
        'CancelKeyDeletion',
        (input, ctx) => {
          const k = findKey(ctx, input.KeyId, 'own-account')
          allow(ctx, 'CancelKeyDeletion', k)
          if (k.keyState !== 'PendingDeletion') throw invalidState(`${k.arn} is not pending deletion.`)
          // A key whose deletion is cancelled comes back disabled (https://docs.aws.amazon.com/kms/latest/APIReference/API_CancelKeyDeletion.html).
          k.keyState = 'Disabled'
          delete k.deletionDate
          delete k.pendingWindowInDays
          save(k)
          return { KeyId: k.arn }
        },
        { honours: ['KeyId'] },
      ),
      operation<Kms.CreateAliasRequest, object>(
        'CreateAlias',
        (input, ctx) => {
          const name = aliasName(input.AliasName)
          if (name.startsWith('alias/aws/')) throw notAuthorized('Cannot create alias with prefix alias/aws/')
          const k = findKey(ctx, input.TargetKeyId, 'own-account')
          const aliasArn = ownAliasArn(ctx, name)
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
        { honours: ['AliasName', 'TargetKeyId'] },
      ),
      operation<Kms.UpdateAliasRequest, object>(
        'UpdateAlias',
        (input, ctx) => {
          const { name, scope, alias: a, aliasArn } = ownAlias(ctx, input.AliasName, 'update')
          const k = findKey(ctx, input.TargetKeyId, 'own-account')
          const old = store.keys.get(scope, a.targetKeyId)
          authorize(ctx, { action: 'kms:UpdateAlias', resource: aliasArn }, 'json')
          if (old) allow(ctx, 'UpdateAlias', old)
          allow(ctx, 'UpdateAlias', k)
          a.targetKeyId = k.keyId
          a.updated = new Date().toISOString()
          store.aliases.put(scope, name, a)
          return {}
        },
        { honours: ['AliasName', 'TargetKeyId'] },
      ),
      operation<Kms.DeleteAliasRequest, object>(
        'DeleteAlias',
        (input, ctx) => {
          const { name, scope, alias: a, aliasArn } = ownAlias(ctx, input.AliasName, 'delete')
          authorize(ctx, { action: 'kms:DeleteAlias', resource: aliasArn }, 'json')
          const k = store.keys.get(scope, a.targetKeyId)
          if (k) allow(ctx, 'DeleteAlias', k)
          store.aliases.delete(scope, name)
          return {}
        },
        { honours: ['AliasName'] },
      ),
      operation<Kms.ListAliasesRequest, Kms.ListAliasesResponse>(
        'ListAliases',
        (input, ctx) => {
          authorize(ctx, { action: 'kms:ListAliases', resource: '*' }, 'json')
          const scope = scopeOf(ctx.identity.account, ctx.region)
          let aliases = store.aliases.list(scope, 'alias/').map((x) => x.value)
          if (input.KeyId !== undefined) {
            const k = findKey(ctx, input.KeyId, 'own-account')
            aliases = aliases.filter((a) => a.targetKeyId === k.keyId)
          }
          const pg = page(input, aliases)
          return { Aliases: pg.items.map(aliasOut), Truncated: pg.Truncated, NextMarker: pg.NextMarker }
        },
        { honours: ['KeyId', 'Limit', 'Marker'] },
      ),
      operation<Kms.EncryptRequest, Kms.EncryptResponse>(
        'Encrypt',
        (input, ctx) => {
          const k = findKey(ctx, input.KeyId, 'cross-account')
          const context = ec(input.EncryptionContext)
          algorithm(input.EncryptionAlgorithm)
          allow(ctx, 'Encrypt', k, contextKeys(context))
          usable(k)
          return {
            CiphertextBlob: b64(seal(k, Buffer.from(input.Plaintext), context)),
            KeyId: k.arn,
            EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
          }
        },
        {
          honours: ['KeyId', 'Plaintext', 'EncryptionContext', 'EncryptionAlgorithm'],
          accepts: { DryRun: { why: 'false is the default: the operation runs', when: false } },
          refuses: {
            GrantTokens:
              'grants are not modelled (the sandbox has no CreateGrant), so no grant token names a grant here',
            DryRun: 'dry runs are not modelled: send the request without DryRun to run it',
          },
        },
      ),
      operation<Kms.DecryptRequest, Kms.DecryptResponse>(
        'Decrypt',
        (input, ctx) => {
          algorithm(input.EncryptionAlgorithm)
          const { k, plaintext } = decryptAs(
            ctx,
            ciphertext(input.CiphertextBlob),
            ec(input.EncryptionContext),
            input.KeyId,
          )
          return { KeyId: k.arn, Plaintext: plaintext, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' }
        },
        {
          honours: ['CiphertextBlob', 'EncryptionContext', 'KeyId', 'EncryptionAlgorithm'],
          accepts: { DryRun: { why: 'false is the default: the operation runs', when: false } },
          refuses: {
            GrantTokens:
              'grants are not modelled (the sandbox has no CreateGrant), so no grant token names a grant here',
            DryRun: 'dry runs are not modelled: send the request without DryRun to run it',
            Recipient: 'the sandbox has no Nitro enclaves to encrypt for',
          },
        },
      ),
      operation<Kms.ReEncryptRequest, Kms.ReEncryptResponse>(
        'ReEncrypt',
        (input, ctx) => {
          const destEc = ec(input.DestinationEncryptionContext)
          const dest = findKey(ctx, input.DestinationKeyId, 'cross-account')
          const { k, plaintext } = decryptAs(
            ctx,
            ciphertext(input.CiphertextBlob),
            ec(input.SourceEncryptionContext),
            input.SourceKeyId,
            {},
            'ReEncryptFrom',
          )
          allow(ctx, 'ReEncryptTo', dest, contextKeys(destEc))
          usable(dest)
          return {
            CiphertextBlob: b64(seal(dest, plaintext, destEc)),
            SourceKeyId: k.arn,
            KeyId: dest.arn,
            SourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
            DestinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
          }
        },
        {
          honours: [
            'CiphertextBlob',
            'SourceEncryptionContext',
            'SourceKeyId',
            'DestinationKeyId',
            'DestinationEncryptionContext',
            'SourceEncryptionAlgorithm',
            'DestinationEncryptionAlgorithm',
          ],
          accepts: { DryRun: { why: 'false is the default: the operation runs', when: false } },
          refuses: {
            GrantTokens:
              'grants are not modelled (the sandbox has no CreateGrant), so no grant token names a grant here',
            DryRun: 'dry runs are not modelled: send the request without DryRun to run it',
          },
        },
      ),
      operation<Kms.GenerateDataKeyRequest, Kms.GenerateDataKeyResponse>(
        'GenerateDataKey',
        (input, ctx) => {
          const k = findKey(ctx, input.KeyId, 'cross-account')
          const size = dataKeySize(input)
          const context = ec(input.EncryptionContext)
          allow(ctx, 'GenerateDataKey', k, contextKeys(context))
          usable(k)
          const plaintext = randomBytes(size)
          return { CiphertextBlob: b64(seal(k, plaintext, context)), Plaintext: plaintext, KeyId: k.arn }
        },
        {
          honours: ['KeyId', 'EncryptionContext', 'NumberOfBytes', 'KeySpec'],
          accepts: { DryRun: { why: 'false is the default: the operation runs', when: false } },
          refuses: {
            GrantTokens:
              'grants are not modelled (the sandbox has no CreateGrant), so no grant token names a grant here',
            DryRun: 'dry runs are not modelled: send the request without DryRun to run it',
            Recipient: 'the sandbox has no Nitro enclaves to encrypt for',
          },
        },
      ),
      operation<Kms.GenerateDataKeyWithoutPlaintextRequest, Kms.GenerateDataKeyWithoutPlaintextResponse>(
        'GenerateDataKeyWithoutPlaintext',
        (input, ctx) => {
          const k = findKey(ctx, input.KeyId, 'cross-account')
          const size = dataKeySize(input)
          const context = ec(input.EncryptionContext)
          allow(ctx, 'GenerateDataKeyWithoutPlaintext', k, contextKeys(context))
          usable(k)
          return { CiphertextBlob: b64(seal(k, randomBytes(size), context)), KeyId: k.arn }
        },
        {
          honours: ['KeyId', 'EncryptionContext', 'KeySpec', 'NumberOfBytes'],
          accepts: { DryRun: { why: 'false is the default: the operation runs', when: false } },
          refuses: {
            GrantTokens:
              'grants are not modelled (the sandbox has no CreateGrant), so no grant token names a grant here',
            DryRun: 'dry runs are not modelled: send the request without DryRun to run it',
          },
        },
      ),
      operation<Kms.TagResourceRequest, object>(
        'TagResource',
        (input, ctx) => {
          const k = findKey(ctx, input.KeyId, 'own-account')
          allow(ctx, 'TagResource', k)
          for (const t of input.Tags) {
            k.tags = k.tags.filter((x) => x.TagKey !== t.TagKey)
            k.tags.push({ TagKey: t.TagKey, TagValue: t.TagValue })
          }
          save(k)
          return {}
        },
        { honours: ['KeyId', 'Tags'] },
      ),
      operation<Kms.UntagResourceRequest, object>(
        'UntagResource',
        (input, ctx) => {
          const k = findKey(ctx, input.KeyId, 'own-account')
          allow(ctx, 'UntagResource', k)
          k.tags = k.tags.filter((t) => !input.TagKeys.includes(t.TagKey))
          save(k)
          return {}
        },
        { honours: ['KeyId', 'TagKeys'] },
      ),
      operation<Kms.ListResourceTagsRequest, Kms.ListResourceTagsResponse>(
        'ListResourceTags',
        (input, ctx) => {
          const k = findKey(ctx, input.KeyId, 'own-account')
          allow(ctx, 'ListResourceTags', k)
          const pg = page(input, k.tags)
          return { Tags: pg.items, Truncated: pg.Truncated, NextMarker: pg.NextMarker }
        },
        { honours: ['KeyId', 'Limit', 'Marker'] },
      ),
      // Grants are not modelled (CreateGrant is not served), so a key has none: the answer a key
      // without grants gets. Cross-account callers may list a key's grants by its ARN.
      // https://docs.aws.amazon.com/kms/latest/APIReference/API_ListGrants.html
      operation<Kms.ListGrantsRequest, Kms.ListGrantsResponse>(
        'ListGrants',
        (input, ctx) => {
          const k = findKey(ctx, input.KeyId, 'cross-account')
          allow(ctx, 'ListGrants', k)
          // Filtered (GrantId, GranteePrincipal) and paged (Limit, Marker), an empty list stays empty;
          // a marker this sandbox did not give is still refused.
          const pg = page(input, [])
          return { Grants: pg.items, Truncated: pg.Truncated }
        },
        { honours: ['KeyId', 'Limit', 'Marker', 'GrantId', 'GranteePrincipal'] },
      ),
      operation<Kms.UpdateKeyDescriptionRequest, object>(
        'UpdateKeyDescription',
        (input, ctx) => {
          const k = findKey(ctx, input.KeyId, 'own-account')
          allow(ctx, 'UpdateKeyDescription', k)
          k.description = input.Description
          save(k)
          return {}
        },
        { honours: ['KeyId', 'Description'] },
      ),
    ],
  })

  /**
   * The ciphertext of Decrypt and ReEncrypt. The model leaves it optional (a Decrypt for a Nitro
   * enclave `Recipient` may name none); the sandbox has no enclaves, so it is required, with the
   * model's wording.
   */
  function ciphertext(b: Uint8Array | undefined): Buffer {
    if (b === undefined)
      throw validation(
        "1 validation error detected: Value null at 'ciphertextBlob' failed to satisfy constraint: Member must not be null",
      )
    return Buffer.from(b)
  }

  /** The sandbox's symmetric keys do SYMMETRIC_DEFAULT only; the model's other algorithms are for asymmetric keys. */
  function algorithm(a: string | undefined): void {
    if (a !== undefined && a !== 'SYMMETRIC_DEFAULT')
      throw new AwsError(
        'InvalidKeyUsageException',
        `The crosspipe sandbox's symmetric keys support only SYMMETRIC_DEFAULT, not ${a}.`,
        400,
      )
  }

  function setState(
    input: Validated<Kms.EnableKeyRequest>,
    ctx: RequestContext,
    action: string,
    state: 'Enabled' | 'Disabled',
  ): object {
    const k = findKey(ctx, input.KeyId, 'own-account')
    allow(ctx, action, k)
    if (k.keyState === 'PendingDeletion') throw invalidState(`${k.arn} is pending deletion.`)
    if (k.keyManager === 'AWS') throw notAuthorized(`${k.arn} is an AWS managed key.`)
    k.keyState = state
    save(k)
    return {}
  }

  function rotation(
    input: Validated<Kms.EnableKeyRotationRequest>,
    ctx: RequestContext,
    action: string,
    on: boolean,
  ): object {
    const k = findKey(ctx, input.KeyId, 'own-account')
    allow(ctx, action, k)
    usable(k)
    if (k.keyManager === 'AWS') throw notAuthorized(`${k.arn} is an AWS managed key.`)
    // RotationPeriodInDays: 90–2,560 (the model checks it), 365 when not given
    // (https://docs.aws.amazon.com/kms/latest/APIReference/API_EnableKeyRotation.html).
    const period = on ? input.RotationPeriodInDays : undefined
    if (on && (!k.rotation || period !== undefined)) {
      k.rotationPeriodInDays = period ?? 365
      k.rotationEnabled = ctx.now.toISOString()
    }
    if (!on) {
      delete k.rotationPeriodInDays
      delete k.rotationEnabled
    }
    k.rotation = on
    save(k)
    return {}
  }
}

/** The automatic rotation period of a key whose rotation is on (AWS managed keys: every year). */
function rotationPeriod(k: KeyRecord): number {
  return k.rotationPeriodInDays ?? 365
}

/**
 * The next automatic rotation: the first whole period after rotation was turned on (the key's
 * creation for AWS managed keys) that is still ahead. The sandbox never rotates key material, so
 * past dates roll forward by the period.
 */
function nextRotation(k: KeyRecord, now: Date): Date {
  const day = 86_400_000
  const period = rotationPeriod(k) * day
  const from = Date.parse(k.rotationEnabled ?? k.created)
  const periods = Math.max(1, Math.ceil((now.getTime() - from) / period))
  return new Date(from + periods * period)
}
