/**
 * Bucket configuration: policy and policy status, default encryption, versioning, public access
 * block, ownership controls, lifecycle, tags, ACL; and the settings the sandbox does not model,
 * read as S3 answers for a bucket that never had them (SPEC.md, "Bucket settings never set").
 */
import type {
  BucketLifecycleConfiguration,
  DeleteBucketPolicyRequest,
  GetBucketAclOutput,
  GetBucketAclRequest,
  GetBucketEncryptionOutput,
  GetBucketEncryptionRequest,
  GetBucketLifecycleConfigurationOutput,
  GetBucketLifecycleConfigurationRequest,
  GetBucketOwnershipControlsOutput,
  GetBucketOwnershipControlsRequest,
  GetBucketPolicyOutput,
  GetBucketPolicyRequest,
  GetBucketPolicyStatusOutput,
  GetBucketPolicyStatusRequest,
  GetBucketTaggingOutput,
  GetBucketTaggingRequest,
  GetBucketVersioningOutput,
  GetBucketVersioningRequest,
  GetPublicAccessBlockOutput,
  GetPublicAccessBlockRequest,
  Grant,
  LifecycleRule,
  PutBucketAclRequest,
  PutBucketEncryptionRequest,
  PutBucketLifecycleConfigurationRequest,
  PutBucketOwnershipControlsRequest,
  PutBucketPolicyRequest,
  PutBucketTaggingRequest,
  PutBucketVersioningRequest,
  PutPublicAccessBlockRequest,
} from '@aws-sdk/client-s3'
import { validatePolicy } from '../../../../iam/index.js'
import { checkPutBucketAcl } from '../acl.js'
import {
  invalidArgument,
  invalidRequest,
  malformedAcl,
  malformedPolicy,
  malformedXml,
  methodNotAllowed,
  notConfigured,
} from '../errors.js'
import { header, PATH, PAYLOAD, readStoredPayload } from '../http.js'
import { operation, type BucketCall, type BucketOperation } from '../operation.js'
import type { BucketRecord } from '../store.js'
import { canonicalId, checkTags, list } from '../util.js'

const OWNER = { ExpectedBucketOwner: header('x-amz-expected-bucket-owner') }
const BUCKET = { Bucket: PATH, ...OWNER }

/** The ACL of a bucket or object under BucketOwnerEnforced: the owner has FULL_CONTROL, nobody else. */
export function ownerFullControl(account: string): GetBucketAclOutput {
  const id = canonicalId(account)
  return {
    Owner: { ID: id },
    Grants: [{ Grantee: { ID: id, Type: 'CanonicalUser' }, Permission: 'FULL_CONTROL' }],
  }
}

// ---- policy ---------------------------------------------------------------

function ownerOnly({ env, ctx, req, bucket: b }: BucketCall, action: string): void {
  env.allow(ctx, req, action, b)
  // Bucket policy operations are for the owner's account only: 405 otherwise
  // (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketPolicy.html).
  if (ctx.identity.account !== b.account) throw methodNotAllowed(req.method, 'BUCKETPOLICY')
}

function checkBucketPolicy(arn: string, text: string): void {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    throw malformedPolicy("Policies must be valid JSON and the first byte must be '{'")
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc))
    throw malformedPolicy("Policies must be valid JSON and the first byte must be '{'")
  const problems = validatePolicy(doc, 'resource')
  if (problems.length) throw malformedPolicy(problems.map((p) => `${p.element}: ${p.message}`).join('; '))
  for (const s of list((doc as { Statement?: unknown }).Statement) as Record<string, unknown>[])
    for (const r of list<unknown>(s['Resource'] ?? s['NotResource']))
      if (typeof r !== 'string' || !(r === arn || r.startsWith(arn + '/')))
        throw malformedPolicy('Policy has invalid resource')
}

/**
 * Whether a bucket policy makes the bucket public, by the rule S3's policy status documents: a
 * statement that allows to `*` (or `{"AWS": "*"}`) without a condition that fixes the caller
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-policy-status).
 * Conditions are judged conservatively: any condition makes the statement non-public here.
 */
function policyIsPublic(doc: { Statement?: unknown }): boolean {
  const statements = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]
  return statements.some((st) => {
    if (!st || typeof st !== 'object') return false
    const s = st as Record<string, unknown>
    const p = s.Principal
    const everyone =
      p === '*' ||
      (p !== null &&
        typeof p === 'object' &&
        [(p as Record<string, unknown>).AWS].flat().some((x) => x === '*'))
    return s.Effect === 'Allow' && everyone && s.Condition === undefined
  })
}

const noPolicy = (bucket: string): Error =>
  notConfigured('NoSuchBucketPolicy', 'The bucket policy does not exist', bucket)

export const GetBucketPolicy = operation<GetBucketPolicyRequest, GetBucketPolicyOutput>({
  name: 'GetBucketPolicy',
  input: BUCKET,
  output: { contentType: 'application/json' },
  run(_input, call) {
    ownerOnly(call, 'GetBucketPolicy')
    if (!call.bucket.policy) throw noPolicy(call.bucket.name)
    return { Policy: call.bucket.policy }
  },
})

export const PutBucketPolicy = operation<PutBucketPolicyRequest, object>({
  name: 'PutBucketPolicy',
  input: {
    ...BUCKET,
    Policy: PAYLOAD,
    ContentMD5: header('content-md5'),
  },
  members: {
    accepts: {
      // The header confirms a policy that denies the caller further policy changes; S3 makes no
      // such check for the bucket owner, and neither does the sandbox.
      ConfirmRemoveSelfBucketAccess: 'the sandbox makes no check that it would confirm',
    },
  },
  output: { status: 204 },
  run(input, call) {
    ownerOnly(call, 'PutBucketPolicy')
    const b = call.bucket
    checkBucketPolicy(call.env.bucketArn(call.ctx, b.name), input.Policy ?? '')
    b.policy = input.Policy
    call.env.store.putBucket(b)
    return {}
  },
})

export const DeleteBucketPolicy = operation<DeleteBucketPolicyRequest, object>({
  name: 'DeleteBucketPolicy',
  input: BUCKET,
  output: { status: 204 },
  run(_input, call) {
    ownerOnly(call, 'DeleteBucketPolicy')
    delete call.bucket.policy
    call.env.store.putBucket(call.bucket)
    return {}
  },
})

/** GetBucketPolicyStatus: NoSuchBucketPolicy without a policy, else whether it is public. */
export const GetBucketPolicyStatus = operation<GetBucketPolicyStatusRequest, GetBucketPolicyStatusOutput>({
  name: 'GetBucketPolicyStatus',
  input: BUCKET,
  output: {},
  run(_input, { env, ctx, req, bucket: b }) {
    env.allow(ctx, req, 'GetBucketPolicyStatus', b)
    if (!b.policy) throw noPolicy(b.name)
    return { PolicyStatus: { IsPublic: policyIsPublic(env.runtime.iam.parsed(b.policy)) } }
  },
})

// ---- encryption, versioning, public access block, ownership ---------------------

export const GetBucketEncryption = operation<GetBucketEncryptionRequest, GetBucketEncryptionOutput>({
  name: 'GetBucketEncryption',
  input: BUCKET,
  output: {},
  run(_input, { env, ctx, req, bucket: b }) {
    env.allow(ctx, req, 'GetEncryptionConfiguration', b)
    return {
      ServerSideEncryptionConfiguration: {
        Rules: [
          {
            ApplyServerSideEncryptionByDefault: {
              SSEAlgorithm: b.encryption.algorithm,
              KMSMasterKeyID: b.encryption.kmsKeyId,
            },
            BucketKeyEnabled: b.encryption.bucketKeyEnabled,
          },
        ],
      },
    }
  },
})

export const PutBucketEncryption = operation<PutBucketEncryptionRequest, object>({
  name: 'PutBucketEncryption',
  input: {
    ...BUCKET,
    ContentMD5: header('content-md5'),
    ServerSideEncryptionConfiguration: PAYLOAD,
  },
  output: {},
  run(input, { env, ctx, req, bucket: b }) {
    env.allow(ctx, req, 'PutEncryptionConfiguration', b)
    const rule = input.ServerSideEncryptionConfiguration!.Rules![0]
    const def = rule?.ApplyServerSideEncryptionByDefault
    const alg = def?.SSEAlgorithm as string | undefined
    if (alg !== 'AES256' && alg !== 'aws:kms' && alg !== 'aws:kms:dsse') throw malformedXml()
    const keyId = def?.KMSMasterKeyID
    if (alg === 'AES256' && keyId !== undefined)
      throw invalidArgument(
        'a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse',
      )
    b.encryption = { algorithm: alg, kmsKeyId: keyId, bucketKeyEnabled: rule?.BucketKeyEnabled ?? false }
    env.store.putBucket(b)
    return {}
  },
})

/** DeleteBucketEncryption restores SSE-S3 (`s3:PutEncryptionConfiguration`). */
export const DeleteBucketEncryption = operation<GetBucketEncryptionRequest, object>({
  name: 'DeleteBucketEncryption',
  input: BUCKET,
  output: { status: 204 },
  run(_input, { env, ctx, req, bucket: b }) {
    env.allow(ctx, req, 'PutEncryptionConfiguration', b)
    b.encryption = { algorithm: 'AES256', bucketKeyEnabled: false }
    env.store.putBucket(b)
    return {}
  },
})

export const GetBucketVersioning = operation<GetBucketVersioningRequest, GetBucketVersioningOutput>({
  name: 'GetBucketVersioning',
  input: BUCKET,
  output: { root: 'VersioningConfiguration' },
  run(_input, { env, ctx, req, bucket: b }) {
    env.allow(ctx, req, 'GetBucketVersioning', b)
    return { Status: b.versioning }
  },
})

export const PutBucketVersioning = operation<PutBucketVersioningRequest, object>({
  name: 'PutBucketVersioning',
  input: {
    ...BUCKET,
    ContentMD5: header('content-md5'),
    VersioningConfiguration: PAYLOAD,
  },
  members: { refuses: { MFA: 'MFA delete is not modelled' } },
  output: {},
  run(input, { env, ctx, req, bucket: b }) {
    env.allow(ctx, req, 'PutBucketVersioning', b)
    const status = input.VersioningConfiguration?.Status
    if (status !== 'Enabled' && status !== 'Suspended') throw malformedXml()
    // MFA delete (https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiFactorAuthenticationDelete.html)
    // is not modelled: refused rather than ignored.
    if (input.VersioningConfiguration?.MFADelete === 'Enabled')
      throw invalidArgument(
        'PutBucketVersioning: MFADelete Enabled is not supported by the crosspipe sandbox (a limit of the sandbox, not an error in the request): MFA delete is not modelled',
        'MFADelete',
        'Enabled',
      )
    b.versioning = status
    env.store.putBucket(b)
    return {}
  },
})

export const GetPublicAccessBlock = operation<GetPublicAccessBlockRequest, GetPublicAccessBlockOutput>({
  name: 'GetPublicAccessBlock',
  input: BUCKET,
  output: {},
  run(_input, { env, ctx, req, bucket: b }) {
    env.allow(ctx, req, 'GetBucketPublicAccessBlock', b)
    if (!b.publicAccessBlock)
      throw notConfigured(
        'NoSuchPublicAccessBlockConfiguration',
        'The public access block configuration was not found',
        b.name,
      )
    return { PublicAccessBlockConfiguration: { ...b.publicAccessBlock } }
  },
})

export const PutPublicAccessBlock = operation<PutPublicAccessBlockRequest, object>({
  name: 'PutPublicAccessBlock',
  input: {
    ...BUCKET,
    ContentMD5: header('content-md5'),
    PublicAccessBlockConfiguration: PAYLOAD,
  },
  output: {},
  run(input, { env, ctx, req, bucket: b }) {
    env.allow(ctx, req, 'PutBucketPublicAccessBlock', b)
    const c = input.PublicAccessBlockConfiguration!
    b.publicAccessBlock = {
      BlockPublicAcls: c.BlockPublicAcls ?? false,
      IgnorePublicAcls: c.IgnorePublicAcls ?? false,
      BlockPublicPolicy: c.BlockPublicPolicy ?? false,
      RestrictPublicBuckets: c.RestrictPublicBuckets ?? false,
    }
    env.store.putBucket(b)
    return {}
  },
})

export const DeletePublicAccessBlock = operation<GetPublicAccessBlockRequest, object>({
  name: 'DeletePublicAccessBlock',
  input: BUCKET,
  output: { status: 204 },
  run(_input, { env, ctx, req, bucket: b }) {
    env.allow(ctx, req, 'PutBucketPublicAccessBlock', b)
    delete b.publicAccessBlock
    env.store.putBucket(b)
    return {}
  },
})

export const GetBucketOwnershipControls = operation<
  GetBucketOwnershipControlsRequest,
  GetBucketOwnershipControlsOutput
>({
  name: 'GetBucketOwnershipControls',
  input: BUCKET,
  output: {},
  run(_input, { env, ctx, req, bucket: b }) {
    env.allow(ctx, req, 'GetBucketOwnershipControls', b)
    if (!b.ownership)
      throw notConfigured(
        'OwnershipControlsNotFoundError',
        'The bucket ownership controls were not found',
        b.name,
      )
    return { OwnershipControls: { Rules: [{ ObjectOwnership: b.ownership }] } }
  },
})

export const PutBucketOwnershipControls = operation<PutBucketOwnershipControlsRequest, object>({
  name: 'PutBucketOwnershipControls',
  input: {
    ...BUCKET,
    ContentMD5: header('content-md5'),
    OwnershipControls: PAYLOAD,
  },
  output: {},
  run(input, { env, ctx, req, bucket: b }) {
    env.allow(ctx, req, 'PutBucketOwnershipControls', b)
    // One rule (https://docs.aws.amazon.com/AmazonS3/latest/API/API_OwnershipControls.html) with
    // one of the three settings (checked with the body too, when the model has its enum).
    const rules = input.OwnershipControls!.Rules!
    const o = rules[0]?.ObjectOwnership as string | undefined
    if (
      rules.length !== 1 ||
      (o !== 'BucketOwnerEnforced' && o !== 'BucketOwnerPreferred' && o !== 'ObjectWriter')
    )
      throw malformedXml()
    b.ownership = o
    env.store.putBucket(b)
    return {}
  },
})

export const DeleteBucketOwnershipControls = operation<GetBucketOwnershipControlsRequest, object>({
  name: 'DeleteBucketOwnershipControls',
  input: BUCKET,
  output: { status: 204 },
  run(_input, { env, ctx, req, bucket: b }) {
    env.allow(ctx, req, 'PutBucketOwnershipControls', b)
    delete b.ownership
    env.store.putBucket(b)
    return {}
  },
})

// ---- lifecycle, tags ------------------------------------------------------------

/** The rules of a bucket's lifecycle configuration (kept as XML text by an older sandbox). */
function lifecycleRules(b: BucketRecord): LifecycleRule[] | undefined {
  if (b.lifecycleRules) return b.lifecycleRules as LifecycleRule[]
  if (b.lifecycle === undefined) return undefined
  const c = readStoredPayload('PutBucketLifecycleConfiguration', b.lifecycle) as
    BucketLifecycleConfiguration | undefined
  return c?.Rules
}

/** GetBucketLifecycleConfiguration: the rules as they were accepted (stored, not executed). */
export const GetBucketLifecycleConfiguration = operation<
  GetBucketLifecycleConfigurationRequest,
  GetBucketLifecycleConfigurationOutput
>({
  name: 'GetBucketLifecycleConfiguration',
  input: BUCKET,
  output: { root: 'LifecycleConfiguration' },
  run(_input, { env, ctx, req, bucket: b }) {
    env.allow(ctx, req, 'GetLifecycleConfiguration', b)
    const rules = lifecycleRules(b)
    if (!rules)
      throw notConfigured(
        'NoSuchLifecycleConfiguration',
        'The lifecycle configuration does not exist',
        b.name,
      )
    return { Rules: rules }
  },
})

/** The filter's conditions: "A Filter must have exactly one of Prefix, Tag, ObjectSizeGreaterThan, ObjectSizeLessThan, or And". */
const FILTER_CONDITIONS = ['Prefix', 'Tag', 'ObjectSizeGreaterThan', 'ObjectSizeLessThan', 'And'] as const

/** A rule's actions (https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-rules.html#intro-lifecycle-rules-actions). */
const LIFECYCLE_ACTIONS = [
  'Expiration',
  'Transitions',
  'NoncurrentVersionTransitions',
  'NoncurrentVersionExpiration',
  'AbortIncompleteMultipartUpload',
] as const

/**
 * What S3 checks in lifecycle rules beyond the schema, from the LifecycleRule reference
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_LifecycleRule.html): an ID of at most 255
 * characters, a Filter (or the legacy Prefix) with at most one condition, at least one action,
 * positive day counts, and expiration dates at midnight UTC (https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-rules.html).
 */
function checkLifecycle(rules: readonly LifecycleRule[]): void {
  if (rules.length === 0 || rules.length > 1000) throw malformedXml()
  const ids = new Set<string>()
  for (const r of rules) {
    if (r.ID !== undefined) {
      if (r.ID.length > 255)
        throw invalidArgument('ID length should not exceed allowed limit of 255', 'ID', r.ID)
      if (ids.has(r.ID))
        throw invalidArgument('Rule ID must be unique. Found same ID for more than one rule', 'ID', r.ID)
      ids.add(r.ID)
    }
    // "Filter is required if the LifecycleRule does not contain a Prefix element."
    if (r.Filter === undefined && r.Prefix === undefined) throw malformedXml()
    if (r.Filter !== undefined && r.Prefix !== undefined) throw malformedXml()
    const filter = r.Filter as Record<string, unknown> | undefined
    if (filter && FILTER_CONDITIONS.filter((k) => filter[k] !== undefined).length > 1) throw malformedXml()
    if (!LIFECYCLE_ACTIONS.some((a) => r[a] !== undefined && (!Array.isArray(r[a]) || r[a].length > 0)))
      throw invalidRequest('At least one action needs to be specified in a rule')
    // S3's words for a day count that is not positive (as reproduced against S3 in
    // https://github.com/scality/Arsenal/pull/2648).
    const days: [number | undefined, string, string][] = [
      [r.Expiration?.Days, 'Days', 'Expiration'],
      [r.NoncurrentVersionExpiration?.NoncurrentDays, 'NoncurrentDays', 'NoncurrentVersionExpiration'],
      [
        r.AbortIncompleteMultipartUpload?.DaysAfterInitiation,
        'DaysAfterInitiation',
        'AbortIncompleteMultipartUpload',
      ],
    ]
    for (const [n, member, action] of days)
      if (n !== undefined && n <= 0)
        throw invalidArgument(
          `'${member}' for ${action} action must be a positive integer`,
          member,
          String(n),
        )
    const dates = [r.Expiration?.Date, ...(r.Transitions ?? []).map((t) => t.Date)]
    for (const d of dates)
      if (d !== undefined && d.getTime() % 86_400_000 !== 0)
        throw invalidArgument("'Date' must be at midnight GMT", 'Date', d.toISOString())
  }
}

export const PutBucketLifecycleConfiguration = operation<PutBucketLifecycleConfigurationRequest, object>({
  name: 'PutBucketLifecycleConfiguration',
  input: {
    ...BUCKET,
    ChecksumAlgorithm: header('x-amz-sdk-checksum-algorithm'),
    LifecycleConfiguration: PAYLOAD,
  },
  output: {},
  run(input, { env, ctx, req, bucket: b }) {
    env.allow(ctx, req, 'PutLifecycleConfiguration', b)
    // Status is one of the model's values, checked with the body; the rest is S3's own checks.
    const rules = input.LifecycleConfiguration?.Rules ?? []
    checkLifecycle(rules)
    // Kept as accepted: lifecycle rules are returned, not executed (SPEC.md).
    b.lifecycleRules = rules
    delete b.lifecycle
    env.store.putBucket(b)
    return {}
  },
})

export const DeleteBucketLifecycle = operation<GetBucketLifecycleConfigurationRequest, object>({
  name: 'DeleteBucketLifecycle',
  input: BUCKET,
  output: { status: 204 },
  run(_input, { env, ctx, req, bucket: b }) {
    env.allow(ctx, req, 'PutLifecycleConfiguration', b)
    delete b.lifecycle
    delete b.lifecycleRules
    env.store.putBucket(b)
    return {}
  },
})

export const GetBucketTagging = operation<GetBucketTaggingRequest, GetBucketTaggingOutput>({
  name: 'GetBucketTagging',
  input: BUCKET,
  output: { root: 'Tagging' },
  run(_input, { env, ctx, req, bucket: b }) {
    env.allow(ctx, req, 'GetBucketTagging', b)
    if (!b.tags) throw notConfigured('NoSuchTagSet', 'The TagSet does not exist', b.name)
    return { TagSet: b.tags.map((t) => ({ Key: t.Key, Value: t.Value })) }
  },
})

export const PutBucketTagging = operation<PutBucketTaggingRequest, object>({
  name: 'PutBucketTagging',
  input: {
    ...BUCKET,
    ContentMD5: header('content-md5'),
    Tagging: PAYLOAD,
  },
  output: { status: 204 },
  run(input, { env, ctx, req, bucket: b }) {
    env.allow(ctx, req, 'PutBucketTagging', b)
    const tags = input.Tagging!.TagSet!.map((t) => ({ Key: t.Key!, Value: t.Value! }))
    checkTags(tags, invalidRequest)
    b.tags = tags
    env.store.putBucket(b)
    return {}
  },
})

export const DeleteBucketTagging = operation<GetBucketTaggingRequest, object>({
  name: 'DeleteBucketTagging',
  input: BUCKET,
  output: { status: 204 },
  run(_input, { env, ctx, req, bucket: b }) {
    env.allow(ctx, req, 'PutBucketTagging', b)
    delete b.tags
    env.store.putBucket(b)
    return {}
  },
})

// ---- ACL ------------------------------------------------------------------------

/** GetBucketAcl: the owner's FULL_CONTROL, what S3 answers under BucketOwnerEnforced. */
export const GetBucketAcl = operation<GetBucketAclRequest, GetBucketAclOutput>({
  name: 'GetBucketAcl',
  input: BUCKET,
  output: { root: 'AccessControlPolicy' },
  run(_input, { env, ctx, req, bucket: b }) {
    env.allow(ctx, req, 'GetBucketAcl', b)
    return ownerFullControl(b.account)
  },
})

/** Whether an AccessControlPolicy grants exactly the owner's FULL_CONTROL. */
function grantsOwnerOnly(grants: readonly Grant[], owner: string): boolean {
  return grants.length === 1 && grants[0]!.Permission === 'FULL_CONTROL' && grants[0]!.Grantee?.ID === owner
}

/**
 * PutBucketAcl (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketAcl.html): a canned
 * ACL or an AccessControlPolicy body, accepted when it grants nothing beyond the owner's full
 * control (nothing then changes), as `acl.ts` says.
 */
export const PutBucketAcl = operation<PutBucketAclRequest, object>({
  name: 'PutBucketAcl',
  input: {
    ...BUCKET,
    ACL: header('x-amz-acl'),
    ContentMD5: header('content-md5'),
    GrantFullControl: header('x-amz-grant-full-control'),
    GrantRead: header('x-amz-grant-read'),
    GrantReadACP: header('x-amz-grant-read-acp'),
    GrantWrite: header('x-amz-grant-write'),
    GrantWriteACP: header('x-amz-grant-write-acp'),
    // An ACL body that does not validate is MalformedACLError
    // (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList).
    AccessControlPolicy: { in: 'payload', invalid: malformedAcl },
  },
  output: {},
  run(input, { env, ctx, req, bucket: b }) {
    env.allow(
      ctx,
      req,
      'PutBucketAcl',
      b,
      undefined,
      input.ACL !== undefined ? { 's3:x-amz-acl': input.ACL } : {},
    )
    const grants = [
      input.GrantFullControl,
      input.GrantRead,
      input.GrantReadACP,
      input.GrantWrite,
      input.GrantWriteACP,
    ].some((g) => g !== undefined)
    const policy = input.AccessControlPolicy
    checkPutBucketAcl(
      input.ACL,
      policy && { ownerOnly: grantsOwnerOnly(policy.Grants ?? [], canonicalId(b.account)) },
      grants,
      b,
    )
    return {}
  },
})

// ---- settings never set ---------------------------------------------------------

/**
 * Reading (and deleting) a bucket setting the sandbox does not model, as S3 answers for a bucket
 * that never had it: a 404 with the operation's documented code, or its documented empty or
 * default document, after the setting's own permission. From each operation's API reference
 * page (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketCors.html, …) and the error
 * code list (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList).
 */
function neverSet(
  name: string,
  action: string,
  answer:
    { readonly code: string; readonly message: string } | { readonly root: string; readonly body: object },
): BucketOperation<{ Bucket?: string }, object> {
  return operation<{ Bucket?: string; ExpectedBucketOwner?: string }, object>({
    name,
    input: BUCKET,
    output: { root: 'root' in answer ? answer.root : undefined },
    run(_input, { env, ctx, req, bucket: b }) {
      env.allow(ctx, req, action, b)
      if ('code' in answer) throw notConfigured(answer.code, answer.message, b.name)
      return answer.body
    },
  })
}

/** Deleting a setting that is never there: 204, after the permission S3 documents for it. */
function nothingToDelete(name: string, action: string): BucketOperation<{ Bucket?: string }, object> {
  return operation<{ Bucket?: string; ExpectedBucketOwner?: string }, object>({
    name,
    input: BUCKET,
    output: { status: 204 },
    run(_input, { env, ctx, req, bucket: b }) {
      env.allow(ctx, req, action, b)
      return {}
    },
  })
}

export const UNSET_SETTINGS: readonly BucketOperation<{ Bucket?: string }, object>[] = [
  neverSet('GetBucketCors', 'GetBucketCORS', {
    code: 'NoSuchCORSConfiguration',
    message: 'The CORS configuration does not exist',
  }),
  nothingToDelete('DeleteBucketCors', 'PutBucketCORS'),
  neverSet('GetBucketWebsite', 'GetBucketWebsite', {
    code: 'NoSuchWebsiteConfiguration',
    message: 'The specified bucket does not have a website configuration',
  }),
  nothingToDelete('DeleteBucketWebsite', 'DeleteBucketWebsite'),
  neverSet('GetBucketReplication', 'GetReplicationConfiguration', {
    code: 'ReplicationConfigurationNotFoundError',
    message: 'The replication configuration was not found',
  }),
  nothingToDelete('DeleteBucketReplication', 'PutReplicationConfiguration'),
  neverSet('GetObjectLockConfiguration', 'GetBucketObjectLockConfiguration', {
    code: 'ObjectLockConfigurationNotFoundError',
    message: 'Object Lock configuration does not exist for this bucket',
  }),
  neverSet('GetBucketLogging', 'GetBucketLogging', { root: 'BucketLoggingStatus', body: {} }),
  neverSet('GetBucketAccelerateConfiguration', 'GetAccelerateConfiguration', {
    root: 'AccelerateConfiguration',
    body: {},
  }),
  neverSet('GetBucketRequestPayment', 'GetBucketRequestPayment', {
    root: 'RequestPaymentConfiguration',
    body: { Payer: 'BucketOwner' },
  }),
  neverSet('GetBucketNotificationConfiguration', 'GetBucketNotification', {
    root: 'NotificationConfiguration',
    body: {},
  }),
]
