/**
 * Providers for the resources of the sandbox's own services — KMS keys and aliases, S3 buckets
 * and bucket policies, ECR repositories, IAM roles and policies. Each one calls the service's public API (the
 * same actions an SDK would send) through {@link AwsCalls}, as the identity the stack deploys
 * with, so the service authorizes every call exactly as a direct one.
 *
 * Ref/GetAtt values and the calls each handler makes follow the resource pages of the
 * CloudFormation template reference ("Return values"), e.g.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-kms-key.html
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-s3-bucket.html
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-role.html
 * Properties the sandbox cannot honour fail the resource with a sentence saying so.
 */
import { formatArn } from '../../../../iam/arn.js'
import { XML_NAMESPACES } from '../../../../iam/aws-facts.js'
import { AwsError } from '../../../errors.js'
import { escapeXml } from '../../../gateway/xml.js'
import type { XmlObject } from '../../../gateway/xml.js'
import { authorizeCatalogued } from './catalogue.js'
import type { AwsCalls, ProviderContext, ResourceProvider } from '../../../cfn-providers.js'

type Props = Readonly<Record<string, unknown>>

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined
}

function truthy(v: unknown): boolean {
  return v === true || v === 'true'
}

/** Policy documents may be given as objects or as JSON text. */
function docText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v)
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

function unsupported(type: string, props: Props, supported: readonly string[]): void {
  const extra = Object.keys(props).filter((k) => !supported.includes(k))
  if (extra.length) {
    throw new AwsError(
      'NotSupported',
      `Properties [${extra.join(', ')}] of ${type} are not supported by the crosspipe sandbox`,
      400,
    )
  }
}

function tagsOf(v: unknown): { Key: string; Value: string }[] {
  return Array.isArray(v)
    ? (v as { Key?: unknown; Value?: unknown }[]).map((t) => ({
        Key: String(t.Key),
        Value: str(t.Value) ?? '',
      }))
    : []
}

/** Ignores "already gone" on delete: deleting what does not exist succeeds (handler contract). */
async function ignoreMissing(p: Promise<unknown>): Promise<void> {
  try {
    await p
  } catch (e) {
    if (e instanceof AwsError && /NotFound|NoSuch/.test(e.code)) return
    throw e
  }
}

/** A scalar of an XML result as text (dates in ISO form); '' for anything else. */
function txt(v: unknown): string {
  if (v instanceof Date) return v.toISOString()
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : ''
}

function child(o: XmlObject | undefined, name: string): XmlObject {
  const v = o?.[name]
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date)
    ? (v as XmlObject)
    : {}
}

// ---------------------------------------------------------------- KMS

const KEY_PROPS = [
  'Description',
  'Enabled',
  'EnableKeyRotation',
  'KeyPolicy',
  'KeySpec',
  'KeyUsage',
  'MultiRegion',
  'Origin',
  'PendingWindowInDays',
  'Tags',
  'BypassPolicyLockoutSafetyCheck',
  'RotationPeriodInDays',
]

/** AWS::KMS::Key: Ref is the key id; GetAtt Arn, KeyId. */
export const kmsKey: ResourceProvider = {
  type: 'AWS::KMS::Key',
  async create(ctx, props) {
    unsupported(this.type, props, KEY_PROPS)
    // The key's id is known once made: the catalogue's calls on it are for the key/* pattern.
    await authorizeCatalogued(ctx, this.type, 'create', props, '*')
    const input: Record<string, unknown> = {}
    if (props.Description !== undefined) input.Description = str(props.Description)
    if (props.KeyUsage !== undefined) input.KeyUsage = props.KeyUsage
    if (props.KeySpec !== undefined) input.KeySpec = props.KeySpec
    if (props.Origin !== undefined) input.Origin = props.Origin
    if (props.MultiRegion !== undefined) input.MultiRegion = truthy(props.MultiRegion)
    if (props.KeyPolicy !== undefined) input.Policy = docText(props.KeyPolicy)
    if (props.BypassPolicyLockoutSafetyCheck !== undefined)
      input.BypassPolicyLockoutSafetyCheck = truthy(props.BypassPolicyLockoutSafetyCheck)
    const tags = tagsOf(props.Tags)
    if (tags.length) input.Tags = tags.map((t) => ({ TagKey: t.Key, TagValue: t.Value }))
    const out = (await ctx.aws.json('kms', 'CreateKey', input)) as {
      KeyMetadata: { KeyId: string; Arn: string }
    }
    const keyId = out.KeyMetadata.KeyId
    ctx.created(keyId)
    if (truthy(props.EnableKeyRotation)) await ctx.aws.json('kms', 'EnableKeyRotation', { KeyId: keyId })
    if (props.Enabled === false || props.Enabled === 'false')
      await ctx.aws.json('kms', 'DisableKey', { KeyId: keyId })
    return { physicalId: keyId, attributes: { KeyId: keyId, Arn: out.KeyMetadata.Arn } }
  },
  async update(ctx, current, props) {
    unsupported(this.type, props, KEY_PROPS)
    const old = current.properties
    for (const k of ['KeyUsage', 'KeySpec', 'Origin', 'MultiRegion']) {
      if (!same(old[k], props[k]))
        throw new AwsError(
          'NotSupported',
          `Changing ${k} of AWS::KMS::Key is not supported by the crosspipe sandbox`,
          400,
        )
    }
    const KeyId = current.physicalId
    await authorizeCatalogued(ctx, this.type, 'update', props, KeyId)
    if (!same(old.KeyPolicy, props.KeyPolicy) && props.KeyPolicy !== undefined) {
      await ctx.aws.json('kms', 'PutKeyPolicy', {
        KeyId,
        PolicyName: 'default',
        Policy: docText(props.KeyPolicy),
        BypassPolicyLockoutSafetyCheck: truthy(props.BypassPolicyLockoutSafetyCheck),
      })
    }
    if (!same(old.Description, props.Description))
      await ctx.aws.json('kms', 'UpdateKeyDescription', { KeyId, Description: str(props.Description) ?? '' })
    if (truthy(old.EnableKeyRotation) !== truthy(props.EnableKeyRotation)) {
      await ctx.aws.json(
        'kms',
        truthy(props.EnableKeyRotation) ? 'EnableKeyRotation' : 'DisableKeyRotation',
        { KeyId },
      )
    }
    const wasEnabled = old.Enabled !== false && old.Enabled !== 'false'
    const enabled = props.Enabled !== false && props.Enabled !== 'false'
    if (wasEnabled !== enabled) await ctx.aws.json('kms', enabled ? 'EnableKey' : 'DisableKey', { KeyId })
    const tags = tagsOf(props.Tags)
    if (!same(tagsOf(old.Tags), tags)) {
      const removed = tagsOf(old.Tags).filter((t) => !tags.some((n) => n.Key === t.Key))
      if (removed.length)
        await ctx.aws.json('kms', 'UntagResource', { KeyId, TagKeys: removed.map((t) => t.Key) })
      if (tags.length)
        await ctx.aws.json('kms', 'TagResource', {
          KeyId,
          Tags: tags.map((t) => ({ TagKey: t.Key, TagValue: t.Value })),
        })
    }
    return { physicalId: KeyId, attributes: current.attributes }
  },
  async delete(ctx, current) {
    // CloudFormation schedules the key's deletion (PendingWindowInDays, default 30) rather than
    // deleting it (aws-resource-kms-key.html, PendingWindowInDays).
    const days = Number(current.properties.PendingWindowInDays ?? 30)
    await authorizeCatalogued(ctx, this.type, 'delete', current.properties, current.physicalId)
    await ignoreMissing(
      ctx.aws.json('kms', 'ScheduleKeyDeletion', { KeyId: current.physicalId, PendingWindowInDays: days }),
    )
  },
}

/** AWS::KMS::Alias: Ref is the alias name. */
export const kmsAlias: ResourceProvider = {
  type: 'AWS::KMS::Alias',
  async create(ctx, props) {
    const AliasName = String(props.AliasName)
    await authorizeCatalogued(ctx, this.type, 'create', props, AliasName)
    await ctx.aws.json('kms', 'CreateAlias', { AliasName, TargetKeyId: String(props.TargetKeyId) })
    return { physicalId: AliasName, attributes: {} }
  },
  async update(ctx, current, props) {
    await authorizeCatalogued(ctx, this.type, 'update', props, current.physicalId)
    await ctx.aws.json('kms', 'UpdateAlias', {
      AliasName: current.physicalId,
      TargetKeyId: String(props.TargetKeyId),
    })
    return { physicalId: current.physicalId, attributes: {} }
  },
  async delete(ctx, current) {
    await authorizeCatalogued(ctx, this.type, 'delete', current.properties, current.physicalId)
    await ignoreMissing(ctx.aws.json('kms', 'DeleteAlias', { AliasName: current.physicalId }))
  },
}

// ---------------------------------------------------------------- S3

const S3_NS = XML_NAMESPACES.s3

/** Writes a CloudFormation-shaped object as S3 XML (same member names, lists repeated). */
function xmlOf(name: string, v: unknown): string {
  if (v === undefined || v === null) return ''
  if (Array.isArray(v)) return v.map((x) => xmlOf(name, x)).join('')
  if (typeof v === 'object') {
    return `<${name}>${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => xmlOf(k, x))
      .join('')}</${name}>`
  }
  return `<${name}>${escapeXml(txt(v))}</${name}>`
}

function doc(root: string, inner: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><${root} xmlns="${S3_NS}">${inner}</${root}>`
}

async function s3(
  aws: AwsCalls,
  method: string,
  bucket: string,
  sub: string | undefined,
  body?: string,
  headers: Readonly<Record<string, string>> = {},
): Promise<void> {
  await aws.rest('s3', {
    method,
    path: `/${bucket}`,
    query: sub ? [[sub, '']] : [],
    headers: {
      ...(body !== undefined
        ? { 'content-type': sub === 'policy' ? 'application/json' : 'application/xml' }
        : {}),
      ...headers,
    },
    body,
  })
}

/**
 * AccessControl's values and the canned ACLs they are (aws-resource-s3-bucket.html,
 * AccessControl; https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html#canned-acl).
 * S3 itself decides which it accepts: with Object Ownership BucketOwnerEnforced (the default of
 * new buckets) only an ACL that grants nothing beyond the owner, so `PublicRead` fails with
 * `InvalidBucketAclWithObjectOwnership` as on AWS.
 */
const CANNED_ACL: Readonly<Record<string, string>> = {
  AuthenticatedRead: 'authenticated-read',
  AwsExecRead: 'aws-exec-read',
  BucketOwnerFullControl: 'bucket-owner-full-control',
  BucketOwnerRead: 'bucket-owner-read',
  LogDeliveryWrite: 'log-delivery-write',
  Private: 'private',
  PublicRead: 'public-read',
  PublicReadWrite: 'public-read-write',
}

/** The `x-amz-acl` header of an AccessControl value (none when absent). */
function aclHeader(props: Props): Record<string, string> {
  if (props.AccessControl === undefined) return {}
  const v = str(props.AccessControl) ?? JSON.stringify(props.AccessControl)
  const acl = CANNED_ACL[v]
  if (!acl)
    throw new AwsError(
      'ValidationError',
      `AccessControl must be one of ${Object.keys(CANNED_ACL).join(', ')}, not ${v}`,
      400,
    )
  return { 'x-amz-acl': acl }
}

/** The `x-amz-object-ownership` header of OwnershipControls, so CreateBucket sees it with the ACL. */
function ownershipHeader(props: Props): Record<string, string> {
  const rules = (props.OwnershipControls as { Rules?: unknown } | undefined)?.Rules
  const first = Array.isArray(rules) ? (rules[0] as { ObjectOwnership?: unknown } | undefined) : undefined
  return typeof first?.ObjectOwnership === 'string' ? { 'x-amz-object-ownership': first.ObjectOwnership } : {}
}

/** CloudFormation's lifecycle rule shape → S3's (the members CloudFormation renames). */
function lifecycleXml(cfg: unknown): string {
  const rules = Array.isArray((cfg as { Rules?: unknown })?.Rules)
    ? (cfg as { Rules: Record<string, unknown>[] }).Rules
    : []
  const out = rules.map((r) => {
    const parts: string[] = []
    if (r.Id !== undefined) parts.push(xmlOf('ID', r.Id))
    parts.push(r.Prefix !== undefined ? `<Filter>${xmlOf('Prefix', r.Prefix)}</Filter>` : '<Filter></Filter>')
    parts.push(xmlOf('Status', r.Status))
    if (
      r.ExpirationInDays !== undefined ||
      r.ExpirationDate !== undefined ||
      r.ExpiredObjectDeleteMarker !== undefined
    ) {
      parts.push(
        `<Expiration>${xmlOf('Days', r.ExpirationInDays)}${xmlOf('Date', r.ExpirationDate)}${xmlOf('ExpiredObjectDeleteMarker', r.ExpiredObjectDeleteMarker)}</Expiration>`,
      )
    }
    const nve =
      (r.NoncurrentVersionExpiration as Record<string, unknown> | undefined)?.NoncurrentDays ??
      r.NoncurrentVersionExpirationInDays
    if (nve !== undefined)
      parts.push(`<NoncurrentVersionExpiration>${xmlOf('NoncurrentDays', nve)}</NoncurrentVersionExpiration>`)
    const abort = (r.AbortIncompleteMultipartUpload as Record<string, unknown> | undefined)
      ?.DaysAfterInitiation
    if (abort !== undefined)
      parts.push(
        `<AbortIncompleteMultipartUpload>${xmlOf('DaysAfterInitiation', abort)}</AbortIncompleteMultipartUpload>`,
      )
    for (const t of Array.isArray(r.Transitions) ? (r.Transitions as Record<string, unknown>[]) : []) {
      parts.push(
        `<Transition>${xmlOf('Days', t.TransitionInDays)}${xmlOf('Date', t.TransitionDate)}${xmlOf('StorageClass', t.StorageClass)}</Transition>`,
      )
    }
    return `<Rule>${parts.join('')}</Rule>`
  })
  return doc('LifecycleConfiguration', out.join(''))
}

const BUCKET_PROPS = [
  'BucketName',
  'AccessControl',
  'BucketEncryption',
  'VersioningConfiguration',
  'PublicAccessBlockConfiguration',
  'OwnershipControls',
  'LifecycleConfiguration',
  'Tags',
]

/** Applies the bucket's sub-configurations that differ from `old` (all of them on create). */
async function configureBucket(aws: AwsCalls, bucket: string, props: Props, old: Props): Promise<void> {
  const changed = (k: string): boolean => !same(props[k], old[k])
  if (changed('BucketEncryption')) {
    const enc = props.BucketEncryption as { ServerSideEncryptionConfiguration?: unknown } | undefined
    if (enc) {
      // CloudFormation's ServerSideEncryptionByDefault is S3's ApplyServerSideEncryptionByDefault.
      const rules = (
        Array.isArray(enc.ServerSideEncryptionConfiguration) ? enc.ServerSideEncryptionConfiguration : []
      ) as Record<string, unknown>[]
      const xml = rules
        .map((r) =>
          xmlOf('Rule', {
            ApplyServerSideEncryptionByDefault: r.ServerSideEncryptionByDefault,
            BucketKeyEnabled: r.BucketKeyEnabled,
          }),
        )
        .join('')
      await s3(aws, 'PUT', bucket, 'encryption', doc('ServerSideEncryptionConfiguration', xml))
    } else await s3(aws, 'DELETE', bucket, 'encryption')
  }
  if (changed('VersioningConfiguration')) {
    const status =
      str((props.VersioningConfiguration as { Status?: unknown } | undefined)?.Status) ?? 'Suspended'
    await s3(aws, 'PUT', bucket, 'versioning', doc('VersioningConfiguration', xmlOf('Status', status)))
  }
  if (changed('PublicAccessBlockConfiguration')) {
    const c = props.PublicAccessBlockConfiguration
    if (c)
      await s3(
        aws,
        'PUT',
        bucket,
        'publicAccessBlock',
        doc('PublicAccessBlockConfiguration', xmlOf('x', c).slice(3, -4)),
      )
    else await s3(aws, 'DELETE', bucket, 'publicAccessBlock')
  }
  if (changed('OwnershipControls')) {
    const c = props.OwnershipControls as { Rules?: unknown } | undefined
    // CloudFormation's OwnershipControls.Rules is S3's list of <Rule> elements.
    if (c) await s3(aws, 'PUT', bucket, 'ownershipControls', doc('OwnershipControls', xmlOf('Rule', c.Rules)))
    else await s3(aws, 'DELETE', bucket, 'ownershipControls')
  }
  if (changed('LifecycleConfiguration')) {
    if (props.LifecycleConfiguration)
      await s3(aws, 'PUT', bucket, 'lifecycle', lifecycleXml(props.LifecycleConfiguration))
    else await s3(aws, 'DELETE', bucket, 'lifecycle')
  }
  if (changed('Tags')) {
    const tags = tagsOf(props.Tags)
    if (tags.length)
      await s3(
        aws,
        'PUT',
        bucket,
        'tagging',
        doc('Tagging', `<TagSet>${tags.map((t) => xmlOf('Tag', t)).join('')}</TagSet>`),
      )
    else await s3(aws, 'DELETE', bucket, 'tagging')
  }
}

function bucketAttributes(ctx: ProviderContext, name: string): Record<string, string> {
  return {
    Arn: formatArn({ partition: ctx.partition, service: 's3', resource: name }),
    DomainName: `${name}.s3.${ctx.urlSuffix}`,
    RegionalDomainName: `${name}.s3.${ctx.region}.${ctx.urlSuffix}`,
    DualStackDomainName: `${name}.s3.dualstack.${ctx.region}.${ctx.urlSuffix}`,
    WebsiteURL: `http://${name}.s3-website.${ctx.region}.${ctx.urlSuffix}`,
  }
}

/** AWS::S3::Bucket: Ref is the bucket name; GetAtt Arn, DomainName, RegionalDomainName, DualStackDomainName, WebsiteURL. */
export const s3Bucket: ResourceProvider = {
  type: 'AWS::S3::Bucket',
  nameProperty: 'BucketName',
  async create(ctx, props) {
    unsupported(this.type, props, BUCKET_PROPS)
    const name = str(props.BucketName) ?? ctx.physicalName({ maxLength: 63, lowercase: true })
    await authorizeCatalogued(ctx, this.type, 'create', props, name)
    // Outside us-east-1 a bucket is created with its region as LocationConstraint (API_CreateBucket.html).
    const body =
      ctx.region === 'us-east-1'
        ? undefined
        : doc('CreateBucketConfiguration', xmlOf('LocationConstraint', ctx.region))
    // The canned ACL and the object ownership go with CreateBucket, so S3 judges the ACL under
    // the ownership the bucket is created with.
    await s3(ctx.aws, 'PUT', name, undefined, body, { ...aclHeader(props), ...ownershipHeader(props) })
    ctx.created(name)
    await configureBucket(ctx.aws, name, props, {})
    return { physicalId: name, attributes: bucketAttributes(ctx, name) }
  },
  async update(ctx, current, props) {
    unsupported(this.type, props, BUCKET_PROPS)
    await authorizeCatalogued(ctx, this.type, 'update', props, current.physicalId)
    await configureBucket(ctx.aws, current.physicalId, props, current.properties)
    // A changed AccessControl is PutBucketAcl with the canned ACL; a removed one is back to private.
    if (!same(props.AccessControl, current.properties.AccessControl))
      await s3(ctx.aws, 'PUT', current.physicalId, 'acl', undefined, {
        'x-amz-acl': aclHeader(props)['x-amz-acl'] ?? 'private',
      })
    return { physicalId: current.physicalId, attributes: bucketAttributes(ctx, current.physicalId) }
  },
  async delete(ctx, current) {
    // A bucket that still holds objects cannot be deleted: BucketNotEmpty, DELETE_FAILED, as AWS.
    await authorizeCatalogued(ctx, this.type, 'delete', current.properties, current.physicalId)
    await ignoreMissing(s3(ctx.aws, 'DELETE', current.physicalId, undefined))
  },
}

/** AWS::S3::BucketPolicy: Ref is the bucket name (its primary identifier). */
export const s3BucketPolicy: ResourceProvider = {
  type: 'AWS::S3::BucketPolicy',
  async create(ctx, props) {
    const bucket = String(props.Bucket)
    await s3(ctx.aws, 'PUT', bucket, 'policy', docText(props.PolicyDocument))
    return { physicalId: bucket, attributes: {} }
  },
  async update(ctx, current, props) {
    await s3(ctx.aws, 'PUT', current.physicalId, 'policy', docText(props.PolicyDocument))
    return { physicalId: current.physicalId, attributes: {} }
  },
  async delete(ctx, current) {
    await ignoreMissing(s3(ctx.aws, 'DELETE', current.physicalId, 'policy'))
  },
}

// ---------------------------------------------------------------- ECR

const REPOSITORY_PROPS = [
  'RepositoryName',
  'ImageTagMutability',
  'ImageScanningConfiguration',
  'LifecyclePolicy',
  'RepositoryPolicyText',
  'EncryptionConfiguration',
  'EmptyOnDelete',
  'Tags',
]

function repositoryAttributes(repo: Record<string, unknown>): Record<string, unknown> {
  return { Arn: repo.repositoryArn, RepositoryUri: repo.repositoryUri }
}

/** Lifecycle policy, repository policy, scanning and mutability that differ from `old`. */
async function configureRepository(aws: AwsCalls, name: string, props: Props, old: Props): Promise<void> {
  const changed = (k: string): boolean => !same(props[k], old[k])
  if (changed('LifecyclePolicy')) {
    const text = str(
      (props.LifecyclePolicy as { LifecyclePolicyText?: unknown } | undefined)?.LifecyclePolicyText,
    )
    if (text !== undefined)
      await aws.json('ecr', 'PutLifecyclePolicy', { repositoryName: name, lifecyclePolicyText: text })
    else if (old.LifecyclePolicy !== undefined)
      await ignoreMissing(aws.json('ecr', 'DeleteLifecyclePolicy', { repositoryName: name }))
  }
  if (changed('RepositoryPolicyText')) {
    if (props.RepositoryPolicyText !== undefined)
      await aws.json('ecr', 'SetRepositoryPolicy', {
        repositoryName: name,
        policyText: docText(props.RepositoryPolicyText),
      })
    else if (old.RepositoryPolicyText !== undefined)
      await ignoreMissing(aws.json('ecr', 'DeleteRepositoryPolicy', { repositoryName: name }))
  }
}

/**
 * AWS::ECR::Repository: Ref is the repository name; GetAtt Arn, RepositoryUri
 * (aws-resource-ecr-repository.html). Created with CreateRepository, then the lifecycle and
 * repository policies, all through the ECR API as the deploying identity.
 */
export const ecrRepository: ResourceProvider = {
  type: 'AWS::ECR::Repository',
  nameProperty: 'RepositoryName',
  async create(ctx, props) {
    unsupported(this.type, props, REPOSITORY_PROPS)
    const name = str(props.RepositoryName) ?? ctx.physicalName({ maxLength: 256, lowercase: true })
    await authorizeCatalogued(ctx, this.type, 'create', props, name)
    const scan = props.ImageScanningConfiguration as { ScanOnPush?: unknown } | undefined
    const enc = props.EncryptionConfiguration as { EncryptionType?: unknown; KmsKey?: unknown } | undefined
    const tags = tagsOf(props.Tags)
    const out = (await ctx.aws.json('ecr', 'CreateRepository', {
      repositoryName: name,
      ...(props.ImageTagMutability !== undefined
        ? { imageTagMutability: str(props.ImageTagMutability) }
        : {}),
      ...(scan ? { imageScanningConfiguration: { scanOnPush: truthy(scan.ScanOnPush) } } : {}),
      ...(enc
        ? {
            encryptionConfiguration: {
              encryptionType: str(enc.EncryptionType),
              ...(enc.KmsKey !== undefined ? { kmsKey: str(enc.KmsKey) } : {}),
            },
          }
        : {}),
      ...(tags.length ? { tags } : {}),
    })) as { repository: Record<string, unknown> }
    await configureRepository(ctx.aws, name, props, {})
    return { physicalId: name, attributes: repositoryAttributes(out.repository) }
  },
  async update(ctx, current, props) {
    unsupported(this.type, props, REPOSITORY_PROPS)
    const name = current.physicalId
    await authorizeCatalogued(ctx, this.type, 'update', props, name)
    const old = current.properties
    if (!same(props.ImageTagMutability, old.ImageTagMutability))
      await ctx.aws.json('ecr', 'PutImageTagMutability', {
        repositoryName: name,
        imageTagMutability: str(props.ImageTagMutability) ?? 'MUTABLE',
      })
    if (!same(props.ImageScanningConfiguration, old.ImageScanningConfiguration))
      await ctx.aws.json('ecr', 'PutImageScanningConfiguration', {
        repositoryName: name,
        imageScanningConfiguration: {
          scanOnPush: truthy(
            (props.ImageScanningConfiguration as { ScanOnPush?: unknown } | undefined)?.ScanOnPush,
          ),
        },
      })
    await configureRepository(ctx.aws, name, props, old)
    const arn = String(current.attributes.Arn)
    if (!same(props.Tags, old.Tags)) {
      const after = tagsOf(props.Tags)
      const gone = tagsOf(old.Tags)
        .filter((t) => !after.some((x) => x.Key === t.Key))
        .map((t) => t.Key)
      if (gone.length) await ctx.aws.json('ecr', 'UntagResource', { resourceArn: arn, tagKeys: gone })
      if (after.length) await ctx.aws.json('ecr', 'TagResource', { resourceArn: arn, tags: after })
    }
    return { physicalId: name, attributes: current.attributes }
  },
  async delete(ctx, current) {
    await authorizeCatalogued(ctx, this.type, 'delete', current.properties, current.physicalId)
    // The sandbox stores no images, so `force` (EmptyOnDelete) changes nothing.
    await ignoreMissing(
      ctx.aws.json('ecr', 'DeleteRepository', {
        repositoryName: current.physicalId,
        force: truthy(current.properties.EmptyOnDelete),
      }),
    )
  },
}

// ---------------------------------------------------------------- IAM

function iam(
  aws: AwsCalls,
  action: string,
  params: Record<string, string | undefined>,
): Promise<XmlObject | undefined> {
  const p: Record<string, string> = {}
  for (const [k, v] of Object.entries(params)) if (v !== undefined) p[k] = v
  return aws.query('iam', action, p)
}

function tagParams(tags: { Key: string; Value: string }[]): Record<string, string> {
  const p: Record<string, string> = {}
  tags.forEach((t, i) => {
    p[`Tags.member.${i + 1}.Key`] = t.Key
    p[`Tags.member.${i + 1}.Value`] = t.Value
  })
  return p
}

interface InlinePolicy {
  readonly PolicyName: string
  readonly PolicyDocument: unknown
}

function inlinePolicies(v: unknown): InlinePolicy[] {
  return Array.isArray(v) ? (v as InlinePolicy[]) : []
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.map((x) => String(x)) : []
}

const ROLE_PROPS = [
  'RoleName',
  'AssumeRolePolicyDocument',
  'Path',
  'Description',
  'MaxSessionDuration',
  'Policies',
  'ManagedPolicyArns',
  'Tags',
]

/** AWS::IAM::Role: Ref is the role name; GetAtt Arn, RoleId. */
export const iamRole: ResourceProvider = {
  type: 'AWS::IAM::Role',
  nameProperty: 'RoleName',
  async create(ctx, props) {
    unsupported(this.type, props, ROLE_PROPS)
    const name = str(props.RoleName) ?? ctx.physicalName({ maxLength: 64 })
    await authorizeCatalogued(ctx, this.type, 'create', props, `${str(props.Path) ?? '/'}${name}`.slice(1))
    const out = await iam(ctx.aws, 'CreateRole', {
      RoleName: name,
      AssumeRolePolicyDocument: docText(props.AssumeRolePolicyDocument),
      Path: str(props.Path),
      Description: str(props.Description),
      MaxSessionDuration: str(props.MaxSessionDuration),
      ...tagParams(tagsOf(props.Tags)),
    })
    const role = child(out, 'Role')
    ctx.created(name)
    for (const p of inlinePolicies(props.Policies)) {
      await iam(ctx.aws, 'PutRolePolicy', {
        RoleName: name,
        PolicyName: p.PolicyName,
        PolicyDocument: docText(p.PolicyDocument),
      })
    }
    for (const arn of strings(props.ManagedPolicyArns))
      await iam(ctx.aws, 'AttachRolePolicy', { RoleName: name, PolicyArn: arn })
    return { physicalId: name, attributes: { Arn: txt(role.Arn), RoleId: txt(role.RoleId) } }
  },
  async update(ctx, current, props) {
    unsupported(this.type, props, ROLE_PROPS)
    const name = current.physicalId
    const old = current.properties
    await authorizeCatalogued(ctx, this.type, 'update', props, `${str(props.Path) ?? '/'}${name}`.slice(1))
    if (!same(old.AssumeRolePolicyDocument, props.AssumeRolePolicyDocument)) {
      await iam(ctx.aws, 'UpdateAssumeRolePolicy', {
        RoleName: name,
        PolicyDocument: docText(props.AssumeRolePolicyDocument),
      })
    }
    if (
      !same(old.Description, props.Description) ||
      !same(old.MaxSessionDuration, props.MaxSessionDuration)
    ) {
      await iam(ctx.aws, 'UpdateRole', {
        RoleName: name,
        Description: str(props.Description) ?? '',
        MaxSessionDuration: str(props.MaxSessionDuration),
      })
    }
    const before = inlinePolicies(old.Policies)
    const after = inlinePolicies(props.Policies)
    for (const p of after) {
      if (!before.some((b) => same(b, p)))
        await iam(ctx.aws, 'PutRolePolicy', {
          RoleName: name,
          PolicyName: p.PolicyName,
          PolicyDocument: docText(p.PolicyDocument),
        })
    }
    for (const b of before) {
      if (!after.some((p) => p.PolicyName === b.PolicyName))
        await ignoreMissing(iam(ctx.aws, 'DeleteRolePolicy', { RoleName: name, PolicyName: b.PolicyName }))
    }
    const oldArns = strings(old.ManagedPolicyArns)
    const newArns = strings(props.ManagedPolicyArns)
    for (const a of newArns)
      if (!oldArns.includes(a)) await iam(ctx.aws, 'AttachRolePolicy', { RoleName: name, PolicyArn: a })
    for (const a of oldArns)
      if (!newArns.includes(a))
        await ignoreMissing(iam(ctx.aws, 'DetachRolePolicy', { RoleName: name, PolicyArn: a }))
    const oldTags = tagsOf(old.Tags)
    const newTags = tagsOf(props.Tags)
    if (!same(oldTags, newTags)) {
      const removed = oldTags.filter((t) => !newTags.some((n) => n.Key === t.Key)).map((t) => t.Key)
      if (removed.length) {
        const p: Record<string, string> = { RoleName: name }
        removed.forEach((k, i) => (p[`TagKeys.member.${i + 1}`] = k))
        await iam(ctx.aws, 'UntagRole', p)
      }
      if (newTags.length) await iam(ctx.aws, 'TagRole', { RoleName: name, ...tagParams(newTags) })
    }
    return { physicalId: name, attributes: current.attributes }
  },
  async delete(ctx, current) {
    const name = current.physicalId
    await authorizeCatalogued(
      ctx,
      this.type,
      'delete',
      current.properties,
      `${str(current.properties.Path) ?? '/'}${name}`.slice(1),
    )
    for (const a of strings(current.properties.ManagedPolicyArns))
      await ignoreMissing(iam(ctx.aws, 'DetachRolePolicy', { RoleName: name, PolicyArn: a }))
    for (const p of inlinePolicies(current.properties.Policies)) {
      await ignoreMissing(iam(ctx.aws, 'DeleteRolePolicy', { RoleName: name, PolicyName: p.PolicyName }))
    }
    await ignoreMissing(iam(ctx.aws, 'DeleteRole', { RoleName: name }))
  },
}

function onlyRoles(type: string, props: Props): void {
  if (props.Groups !== undefined)
    throw new AwsError('NotSupported', `Groups of ${type} are not supported by the crosspipe sandbox`, 400)
}

/** AWS::IAM::Policy (inline policies on roles and users): Ref and GetAtt Id are a generated id. */
export const iamPolicy: ResourceProvider = {
  type: 'AWS::IAM::Policy',
  async create(ctx, props) {
    onlyRoles(this.type, props)
    await authorizeCatalogued(ctx, this.type, 'create', props, ctx.logicalId)
    await putInline(ctx.aws, props, {})
    const id = ctx.physicalName({ maxLength: 128 })
    return { physicalId: id, attributes: { Id: id } }
  },
  async update(ctx, current, props) {
    onlyRoles(this.type, props)
    await authorizeCatalogued(ctx, this.type, 'update', props, ctx.logicalId)
    await putInline(ctx.aws, props, current.properties)
    return { physicalId: current.physicalId, attributes: current.attributes }
  },
  async delete(ctx, current) {
    await authorizeCatalogued(ctx, this.type, 'delete', current.properties, ctx.logicalId)
    await deleteInline(ctx.aws, current.properties, {})
  },
}

async function putInline(aws: AwsCalls, props: Props, old: Props): Promise<void> {
  const PolicyName = String(props.PolicyName)
  const PolicyDocument = docText(props.PolicyDocument)
  const docChanged =
    !same(props.PolicyDocument, old.PolicyDocument) || !same(props.PolicyName, old.PolicyName)
  for (const r of strings(props.Roles)) {
    if (docChanged || !strings(old.Roles).includes(r))
      await iam(aws, 'PutRolePolicy', { RoleName: r, PolicyName, PolicyDocument })
  }
  for (const u of strings(props.Users)) {
    if (docChanged || !strings(old.Users).includes(u))
      await iam(aws, 'PutUserPolicy', { UserName: u, PolicyName, PolicyDocument })
  }
  await deleteInline(aws, old, props)
}

/** Deletes the inline policy from the roles/users of `props` that `keep` no longer lists under the same name. */
async function deleteInline(aws: AwsCalls, props: Props, keep: Props): Promise<void> {
  const PolicyName = str(props.PolicyName)
  if (PolicyName === undefined) return
  const sameName = str(keep.PolicyName) === PolicyName
  for (const r of strings(props.Roles)) {
    if (!(sameName && strings(keep.Roles).includes(r)))
      await ignoreMissing(iam(aws, 'DeleteRolePolicy', { RoleName: r, PolicyName }))
  }
  for (const u of strings(props.Users)) {
    if (!(sameName && strings(keep.Users).includes(u)))
      await ignoreMissing(iam(aws, 'DeleteUserPolicy', { UserName: u, PolicyName }))
  }
}

/** AWS::IAM::ManagedPolicy: Ref is the policy ARN; GetAtt PolicyArn, PolicyId, DefaultVersionId… */
export const iamManagedPolicy: ResourceProvider = {
  type: 'AWS::IAM::ManagedPolicy',
  nameProperty: 'ManagedPolicyName',
  async create(ctx, props) {
    onlyRoles(this.type, props)
    const name = str(props.ManagedPolicyName) ?? ctx.physicalName({ maxLength: 128 })
    await authorizeCatalogued(ctx, this.type, 'create', props, `${str(props.Path) ?? '/'}${name}`.slice(1))
    const out = await iam(ctx.aws, 'CreatePolicy', {
      PolicyName: name,
      Path: str(props.Path),
      Description: str(props.Description),
      PolicyDocument: docText(props.PolicyDocument),
    })
    const p = child(out, 'Policy')
    const arn = txt(p.Arn)
    ctx.created(arn)
    for (const r of strings(props.Roles))
      await iam(ctx.aws, 'AttachRolePolicy', { RoleName: r, PolicyArn: arn })
    for (const u of strings(props.Users))
      await iam(ctx.aws, 'AttachUserPolicy', { UserName: u, PolicyArn: arn })
    return {
      physicalId: arn,
      attributes: managedAttributes(p, strings(props.Roles).length + strings(props.Users).length),
    }
  },
  async update(ctx, current, props) {
    onlyRoles(this.type, props)
    const arn = current.physicalId
    const old = current.properties
    await authorizeCatalogued(ctx, this.type, 'update', props, arn.split(':policy/')[1] ?? arn)
    let attributes: Record<string, unknown> = { ...current.attributes }
    if (!same(old.PolicyDocument, props.PolicyDocument)) {
      // IAM keeps at most five versions: remove the oldest non-default one first (API_CreatePolicyVersion.html).
      const versions = await iam(ctx.aws, 'ListPolicyVersions', { PolicyArn: arn })
      const members = child(versions, 'Versions').member
      const list = (Array.isArray(members) ? members : members ? [members] : []) as XmlObject[]
      const spare = list.filter((v) => txt(v.IsDefaultVersion) !== 'true').map((v) => txt(v.VersionId))
      const oldest = spare.sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)))[0]
      if (list.length >= 5 && oldest)
        await iam(ctx.aws, 'DeletePolicyVersion', { PolicyArn: arn, VersionId: oldest })
      const out = await iam(ctx.aws, 'CreatePolicyVersion', {
        PolicyArn: arn,
        PolicyDocument: docText(props.PolicyDocument),
        SetAsDefault: 'true',
      })
      attributes = { ...attributes, DefaultVersionId: txt(child(out, 'PolicyVersion').VersionId) }
    }
    const oldRoles = strings(old.Roles)
    const newRoles = strings(props.Roles)
    for (const r of newRoles)
      if (!oldRoles.includes(r)) await iam(ctx.aws, 'AttachRolePolicy', { RoleName: r, PolicyArn: arn })
    for (const r of oldRoles)
      if (!newRoles.includes(r))
        await ignoreMissing(iam(ctx.aws, 'DetachRolePolicy', { RoleName: r, PolicyArn: arn }))
    const oldUsers = strings(old.Users)
    const newUsers = strings(props.Users)
    for (const u of newUsers)
      if (!oldUsers.includes(u)) await iam(ctx.aws, 'AttachUserPolicy', { UserName: u, PolicyArn: arn })
    for (const u of oldUsers)
      if (!newUsers.includes(u))
        await ignoreMissing(iam(ctx.aws, 'DetachUserPolicy', { UserName: u, PolicyArn: arn }))
    return {
      physicalId: arn,
      attributes: { ...attributes, AttachmentCount: String(newRoles.length + newUsers.length) },
    }
  },
  async delete(ctx, current) {
    const arn = current.physicalId
    await authorizeCatalogued(ctx, this.type, 'delete', current.properties, arn.split(':policy/')[1] ?? arn)
    for (const r of strings(current.properties.Roles))
      await ignoreMissing(iam(ctx.aws, 'DetachRolePolicy', { RoleName: r, PolicyArn: arn }))
    for (const u of strings(current.properties.Users))
      await ignoreMissing(iam(ctx.aws, 'DetachUserPolicy', { UserName: u, PolicyArn: arn }))
    try {
      const versions = await iam(ctx.aws, 'ListPolicyVersions', { PolicyArn: arn })
      const members = child(versions, 'Versions').member
      const list = (Array.isArray(members) ? members : members ? [members] : []) as XmlObject[]
      for (const v of list) {
        if (txt(v.IsDefaultVersion) !== 'true')
          await iam(ctx.aws, 'DeletePolicyVersion', { PolicyArn: arn, VersionId: txt(v.VersionId) })
      }
    } catch (e) {
      if (!(e instanceof AwsError && /NoSuch|NotFound/.test(e.code))) throw e
    }
    await ignoreMissing(iam(ctx.aws, 'DeletePolicy', { PolicyArn: arn }))
  },
}

function managedAttributes(p: XmlObject, attachments: number): Record<string, unknown> {
  return {
    PolicyArn: txt(p.Arn),
    PolicyId: txt(p.PolicyId),
    DefaultVersionId: txt(p.DefaultVersionId ?? 'v1'),
    AttachmentCount: String(attachments),
    CreateDate: txt(p.CreateDate),
    UpdateDate: txt(p.UpdateDate ?? p.CreateDate),
    IsAttachable: 'true',
    PermissionsBoundaryUsageCount: '0',
  }
}

/** Every provider of this file. */
export const AWS_PROVIDERS: readonly ResourceProvider[] = [
  kmsKey,
  kmsAlias,
  s3Bucket,
  s3BucketPolicy,
  ecrRepository,
  iamRole,
  iamPolicy,
  iamManagedPolicy,
]
