/**
 * ECR over awsJson 1.1 (`AmazonEC2ContainerRegistry_V20150921`): private repositories with
 * their settings, lifecycle policies, repository policies (resource policies the IAM engine
 * evaluates) and tags — what `AWS::ECR::Repository` and the CDK bootstrap stack need. Images are
 * not stored: logins, pushes and pulls are refused with a sentence saying so. See SPEC.md.
 */
import { formatArn, parseArn, PARTITIONS } from '../../../iam/arn.js'
import { validatePolicy } from '../../../iam/index.js'
import { authorize } from '../../auth/authorize.js'
import { AwsError } from '../../gateway/errors.js'
import type { Runtime } from '../../runtime.js'
import type { JsonAction, JsonService, RequestContext } from '../types.js'
import {
  imagesUnsupported,
  invalidParameter,
  invalidTag,
  lifecyclePolicyNotFound,
  repositoryExists,
  repositoryNotFound,
  repositoryPolicyNotFound,
  tooManyTags,
} from './errors.js'
import { EcrStore, scopeOf, type RepositoryRecord } from './store.js'

type Input = Readonly<Record<string, unknown>>

/** Repository names (API_CreateRepository.html, repositoryName). */
const REPOSITORY_NAME = /^(?=.{2,256}$)((?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*)$/
const MUTABILITY = ['MUTABLE', 'IMMUTABLE', 'IMMUTABLE_WITH_EXCLUSION', 'MUTABLE_WITH_EXCLUSION']
const MAX_TAGS = 50

/** The image operations of ECR's API reference, refused (see SPEC.md). */
const IMAGE_OPERATIONS = [
  'GetAuthorizationToken',
  'BatchCheckLayerAvailability',
  'BatchDeleteImage',
  'BatchGetImage',
  'CompleteLayerUpload',
  'DescribeImages',
  'DescribeImageScanFindings',
  'GetDownloadUrlForLayer',
  'InitiateLayerUpload',
  'ListImages',
  'PutImage',
  'StartImageScan',
  'UploadLayerPart',
]

function str(input: Input, name: string, required: true): string
function str(input: Input, name: string, required?: false): string | undefined
function str(input: Input, name: string, required = false): string | undefined {
  const v = input[name]
  if (v === undefined || v === null) {
    if (required)
      throw invalidParameter(
        `1 validation error detected: Value null at '${name}' failed to satisfy constraint: Member must not be null`,
      )
    return undefined
  }
  if (typeof v !== 'string')
    throw new AwsError('SerializationException', `Expected a string for ${name}`, 400)
  return v
}

function tagsOf(input: Input, name: string): { Key: string; Value: string }[] {
  const v = input[name]
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) throw new AwsError('SerializationException', `Expected a list for ${name}`, 400)
  const tags = (v as { Key?: unknown; Value?: unknown }[]).map((t) => {
    // Tag keys 1–128, values 0–256 characters (API_Tag.html).
    if (typeof t?.Key !== 'string' || t.Key.length < 1 || t.Key.length > 128)
      throw invalidTag('Tag keys must be strings of 1 to 128 characters.')
    const value = typeof t.Value === 'string' ? t.Value : ''
    if (value.length > 256) throw invalidTag('Tag values must be at most 256 characters.')
    return { Key: t.Key, Value: value }
  })
  if (tags.length > MAX_TAGS) throw tooManyTags()
  return tags
}

function epoch(iso: string): number {
  return Date.parse(iso) / 1000
}

function repositoryJson(r: RepositoryRecord): Record<string, unknown> {
  return {
    repositoryArn: r.repositoryArn,
    registryId: r.registryId,
    repositoryName: r.repositoryName,
    repositoryUri: r.repositoryUri,
    createdAt: epoch(r.createdAt),
    imageTagMutability: r.imageTagMutability,
    imageScanningConfiguration: { scanOnPush: r.scanOnPush },
    encryptionConfiguration: {
      encryptionType: r.encryptionType,
      ...(r.kmsKey !== undefined ? { kmsKey: r.kmsKey } : {}),
    },
  }
}

/** A lifecycle policy's text must be JSON with a `rules` list (lifecyclepolicy_parameters.html). */
function checkLifecyclePolicy(text: string): void {
  if (text.length < 100 || text.length > 30720)
    throw invalidParameter(
      `Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy text must be between 100 and 30720 characters'`,
    )
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    throw invalidParameter(
      `Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: the text is not valid JSON'`,
    )
  }
  const rules = (doc as { rules?: unknown } | null)?.rules
  if (!Array.isArray(rules) || rules.length === 0)
    throw invalidParameter(
      `Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: object has missing required properties (["rules"])'`,
    )
  for (const r of rules as Record<string, unknown>[]) {
    if (
      typeof r?.rulePriority !== 'number' ||
      typeof r.selection !== 'object' ||
      r.selection === null ||
      (r.action as { type?: unknown } | undefined)?.type !== 'expire'
    )
      throw invalidParameter(
        `Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: each rule needs rulePriority, selection and action {"type": "expire"}'`,
      )
  }
}

/**
 * A repository policy as the IAM engine evaluates it. Repository policies name no Resource: a
 * statement applies to the repository it is set on (the examples of
 * https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-policy-examples.html have no
 * Resource element), so a statement without Resource or NotResource gets the repository's ARN.
 */
function effectivePolicy(doc: unknown, repositoryArn: string): unknown {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return doc
  const d = doc as Record<string, unknown>
  const fill = (st: unknown): unknown =>
    st !== null &&
    typeof st === 'object' &&
    !Array.isArray(st) &&
    !('Resource' in st) &&
    !('NotResource' in st)
      ? { ...st, Resource: repositoryArn }
      : st
  return {
    ...d,
    Statement: Array.isArray(d.Statement) ? d.Statement.map(fill) : fill(d.Statement),
  }
}

/** The ECR service. */
export function ecrService(runtime: Runtime): JsonService {
  const store = new EcrStore(runtime.db)

  function repositoryArn(ctx: RequestContext, account: string, name: string): string {
    return formatArn({
      partition: ctx.partition,
      service: 'ecr',
      region: ctx.region,
      account,
      resource: `repository/${name}`,
    })
  }

  /** `registryId` names the account (another account's registry is reached through its repository policies). */
  function registryOf(input: Input, ctx: RequestContext): string {
    const id = str(input, 'registryId') ?? ctx.identity.account
    if (!/^\d{12}$/.test(id))
      throw invalidParameter(
        `1 validation error detected: Value '${id}' at 'registryId' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9]{12}`,
      )
    return id
  }

  function repositoryName(input: Input): string {
    const name = str(input, 'repositoryName', true)
    if (!REPOSITORY_NAME.test(name))
      throw invalidParameter(
        `Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''`,
      )
    return name
  }

  /**
   * Authorizes an action on a repository with the caller's policies and the repository policy
   * (ecr/latest/userguide/repository-policies.html): another account's repository is reachable
   * only when its policy allows the caller.
   */
  function allow(
    ctx: RequestContext,
    action: string,
    account: string,
    name: string,
    r?: RepositoryRecord,
  ): void {
    const arn = r?.repositoryArn ?? repositoryArn(ctx, account, name)
    authorize(
      ctx,
      {
        action: `ecr:${action}`,
        resource: arn,
        resourceAccount: account,
        ...(r?.policyText !== undefined
          ? {
              resourcePolicy: runtime.iam.parsed(
                JSON.stringify(effectivePolicy(JSON.parse(r.policyText), arn)),
              ),
              resourcePolicyName: `repository policy of ${arn}`,
            }
          : {}),
      },
      'json',
    )
  }

  /** Finds a repository, authorizing the action first (a denial never reveals whether it exists). */
  function target(input: Input, ctx: RequestContext, action: string): RepositoryRecord {
    const account = registryOf(input, ctx)
    const name = repositoryName(input)
    const r = store.repositories.get(scopeOf(account, ctx.region), name)
    allow(ctx, action, account, name, r)
    if (!r) throw repositoryNotFound(name, account)
    return r
  }

  function save(r: RepositoryRecord): void {
    const arn = parseArn(r.repositoryArn)!
    store.repositories.put(scopeOf(r.registryId, arn.region), r.repositoryName, r)
  }

  function repositoryFromArn(ctx: RequestContext, resourceArn: string, action: string): RepositoryRecord {
    const a = parseArn(resourceArn)
    if (!a || a.service !== 'ecr' || !a.resource.startsWith('repository/') || a.region !== ctx.region)
      throw invalidParameter(`Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Invalid ARN'`)
    const name = a.resource.slice('repository/'.length)
    const r = store.repositories.get(scopeOf(a.account, a.region), name)
    allow(ctx, action, a.account, name, r)
    if (!r) throw repositoryNotFound(name, a.account)
    return r
  }

  const refused: Record<string, JsonAction> = {}
  for (const op of IMAGE_OPERATIONS)
    refused[op] = () => {
      throw imagesUnsupported(op)
    }

  return {
    name: 'ecr',
    signingName: 'ecr',
    protocol: 'json',
    jsonVersion: '1.1',
    targetPrefix: 'AmazonEC2ContainerRegistry_V20150921',
    actions: {
      CreateRepository: (input, ctx) => {
        const account = registryOf(input, ctx)
        if (account !== ctx.identity.account)
          throw invalidParameter("Repositories can only be created in the caller's own registry.")
        const name = repositoryName(input)
        allow(ctx, 'CreateRepository', account, name)
        const tags = tagsOf(input, 'tags')
        const mutability = str(input, 'imageTagMutability') ?? 'MUTABLE'
        if (!MUTABILITY.includes(mutability))
          throw invalidParameter(
            `1 validation error detected: Value '${mutability}' at 'imageTagMutability' failed to satisfy constraint: Member must satisfy enum value set: [${MUTABILITY.join(', ')}]`,
          )
        if (input['imageTagMutabilityExclusionFilters'] !== undefined)
          throw invalidParameter(
            'imageTagMutabilityExclusionFilters are not supported by the crosspipe sandbox.',
          )
        const scan = input['imageScanningConfiguration'] as { scanOnPush?: unknown } | undefined
        const enc = (input['encryptionConfiguration'] ?? {}) as { encryptionType?: unknown; kmsKey?: unknown }
        const encryptionType = enc.encryptionType ?? 'AES256'
        if (encryptionType !== 'AES256' && encryptionType !== 'KMS')
          throw invalidParameter(
            `1 validation error detected: Value '${JSON.stringify(encryptionType)}' at 'encryptionConfiguration.encryptionType' failed to satisfy constraint: Member must satisfy enum value set: [AES256, KMS]`,
          )
        if (encryptionType === 'AES256' && enc.kmsKey !== undefined)
          throw invalidParameter('Invalid parameter: kmsKey can only be specified when encryptionType is KMS')
        const scope = scopeOf(account, ctx.region)
        if (store.repositories.get(scope, name)) throw repositoryExists(name, account)
        const suffix = PARTITIONS[ctx.partition]?.dnsSuffix
        if (!suffix) throw new Error(`no DNS suffix for partition ${ctx.partition}`)
        const r: RepositoryRecord = {
          repositoryName: name,
          repositoryArn: repositoryArn(ctx, account, name),
          registryId: account,
          // Repository URIs: <registry>.dkr.ecr.<region>.<suffix>/<name> (Registries.html).
          repositoryUri: `${account}.dkr.ecr.${ctx.region}.${suffix}/${name}`,
          createdAt: ctx.now.toISOString(),
          imageTagMutability: mutability,
          scanOnPush: scan?.scanOnPush === true,
          encryptionType,
          ...(typeof enc.kmsKey === 'string' ? { kmsKey: enc.kmsKey } : {}),
          tags,
        }
        save(r)
        return { repository: repositoryJson(r) }
      },
      DescribeRepositories: (input, ctx) => {
        const account = registryOf(input, ctx)
        const names = input['repositoryNames']
        const max = input['maxResults']
        if (names !== undefined && (!Array.isArray(names) || names.some((n) => typeof n !== 'string')))
          throw new AwsError('SerializationException', 'Expected a list of strings for repositoryNames', 400)
        if (names !== undefined && max !== undefined)
          throw invalidParameter('Invalid parameter: maxResults cannot be specified with repositoryNames')
        const scope = scopeOf(account, ctx.region)
        if (Array.isArray(names)) {
          const out = (names as string[]).map((n) => {
            const r = store.repositories.get(scope, n)
            allow(ctx, 'DescribeRepositories', account, n, r)
            if (!r) throw repositoryNotFound(n, account)
            return repositoryJson(r)
          })
          return { repositories: out }
        }
        // Listing a registry is authorized on every repository of it (`repository/*`).
        allow(ctx, 'DescribeRepositories', account, '*')
        const size = max === undefined ? 100 : Number(max)
        if (!Number.isInteger(size) || size < 1 || size > 1000)
          throw invalidParameter(
            `1 validation error detected: Value '${String(max)}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 1000`,
          )
        const all = store.repositories.list(scope).map((x) => x.value)
        const token = str(input, 'nextToken')
        const start = token === undefined ? 0 : Number(Buffer.from(token, 'base64url').toString('utf8'))
        if (!Number.isInteger(start) || start < 0 || start > all.length)
          throw invalidParameter(
            "Invalid parameter at 'nextToken' failed to satisfy constraint: 'Invalid token'",
          )
        const more = start + size < all.length
        return {
          repositories: all.slice(start, start + size).map(repositoryJson),
          ...(more ? { nextToken: Buffer.from(String(start + size)).toString('base64url') } : {}),
        }
      },
      DeleteRepository: (input, ctx) => {
        const r = target(input, ctx, 'DeleteRepository')
        store.repositories.delete(scopeOf(r.registryId, ctx.region), r.repositoryName)
        return { repository: repositoryJson(r) }
      },
      PutLifecyclePolicy: (input, ctx) => {
        const r = target(input, ctx, 'PutLifecyclePolicy')
        const text = str(input, 'lifecyclePolicyText', true)
        checkLifecyclePolicy(text)
        r.lifecyclePolicyText = text
        save(r)
        return { registryId: r.registryId, repositoryName: r.repositoryName, lifecyclePolicyText: text }
      },
      GetLifecyclePolicy: (input, ctx) => {
        const r = target(input, ctx, 'GetLifecyclePolicy')
        if (r.lifecyclePolicyText === undefined) throw lifecyclePolicyNotFound(r.repositoryName, r.registryId)
        return {
          registryId: r.registryId,
          repositoryName: r.repositoryName,
          lifecyclePolicyText: r.lifecyclePolicyText,
        }
      },
      DeleteLifecyclePolicy: (input, ctx) => {
        const r = target(input, ctx, 'DeleteLifecyclePolicy')
        const text = r.lifecyclePolicyText
        if (text === undefined) throw lifecyclePolicyNotFound(r.repositoryName, r.registryId)
        delete r.lifecyclePolicyText
        save(r)
        return { registryId: r.registryId, repositoryName: r.repositoryName, lifecyclePolicyText: text }
      },
      SetRepositoryPolicy: (input, ctx) => {
        const r = target(input, ctx, 'SetRepositoryPolicy')
        const text = str(input, 'policyText', true)
        let doc: unknown
        try {
          doc = JSON.parse(text)
        } catch {
          doc = undefined
        }
        const problems =
          doc === undefined
            ? [{ element: 'Policy', message: 'not JSON' }]
            : validatePolicy(effectivePolicy(doc, r.repositoryArn), 'resource')
        if (problems.length)
          throw invalidParameter(
            `Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided' (${problems.map((p) => `${p.element}: ${p.message}`).join('; ')})`,
          )
        r.policyText = text
        save(r)
        return { registryId: r.registryId, repositoryName: r.repositoryName, policyText: text }
      },
      GetRepositoryPolicy: (input, ctx) => {
        const r = target(input, ctx, 'GetRepositoryPolicy')
        if (r.policyText === undefined) throw repositoryPolicyNotFound(r.repositoryName, r.registryId)
        return { registryId: r.registryId, repositoryName: r.repositoryName, policyText: r.policyText }
      },
      DeleteRepositoryPolicy: (input, ctx) => {
        const r = target(input, ctx, 'DeleteRepositoryPolicy')
        const text = r.policyText
        if (text === undefined) throw repositoryPolicyNotFound(r.repositoryName, r.registryId)
        delete r.policyText
        save(r)
        return { registryId: r.registryId, repositoryName: r.repositoryName, policyText: text }
      },
      PutImageScanningConfiguration: (input, ctx) => {
        const r = target(input, ctx, 'PutImageScanningConfiguration')
        const c = input['imageScanningConfiguration'] as { scanOnPush?: unknown } | undefined
        if (typeof c?.scanOnPush !== 'boolean')
          throw invalidParameter(
            "Invalid parameter at 'imageScanningConfiguration' failed to satisfy constraint: 'scanOnPush must be a boolean'",
          )
        r.scanOnPush = c.scanOnPush
        save(r)
        return {
          registryId: r.registryId,
          repositoryName: r.repositoryName,
          imageScanningConfiguration: { scanOnPush: r.scanOnPush },
        }
      },
      PutImageTagMutability: (input, ctx) => {
        const r = target(input, ctx, 'PutImageTagMutability')
        const m = str(input, 'imageTagMutability', true)
        if (!MUTABILITY.includes(m))
          throw invalidParameter(
            `1 validation error detected: Value '${m}' at 'imageTagMutability' failed to satisfy constraint: Member must satisfy enum value set: [${MUTABILITY.join(', ')}]`,
          )
        r.imageTagMutability = m
        save(r)
        return { registryId: r.registryId, repositoryName: r.repositoryName, imageTagMutability: m }
      },
      TagResource: (input, ctx) => {
        const r = repositoryFromArn(ctx, str(input, 'resourceArn', true), 'TagResource')
        const merged = new Map(r.tags.map((t) => [t.Key, t.Value]))
        for (const t of tagsOf(input, 'tags')) merged.set(t.Key, t.Value)
        if (merged.size > MAX_TAGS) throw tooManyTags()
        r.tags = [...merged].map(([Key, Value]) => ({ Key, Value }))
        save(r)
        return {}
      },
      UntagResource: (input, ctx) => {
        const r = repositoryFromArn(ctx, str(input, 'resourceArn', true), 'UntagResource')
        const keys = input['tagKeys']
        if (!Array.isArray(keys))
          throw new AwsError('SerializationException', 'Expected a list for tagKeys', 400)
        r.tags = r.tags.filter((t) => !keys.includes(t.Key))
        save(r)
        return {}
      },
      ListTagsForResource: (input, ctx) => {
        const r = repositoryFromArn(ctx, str(input, 'resourceArn', true), 'ListTagsForResource')
        return { tags: r.tags }
      },
      ...refused,
    },
  }
}
