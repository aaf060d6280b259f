/**
 * ECR over awsJson 1.1 (`AmazonEC2ContainerRegistry_V20150921`): private repositories with
 * their settings, lifecycle policies, repository policies (resource policies the IAM engine
 * evaluates) and tags — what `AWS::ECR::Repository` and the CDK bootstrap stack need. Images are
 * not stored: logins, pushes and pulls are refused with a sentence saying so. See SPEC.md.
 *
 * Declared as operations of ECR's model (src/sandbox/operations): JSON types, required members,
 * the repository name's length and pattern, the registry id's pattern, enums
 * (`imageTagMutability`, `encryptionType`), `maxResults` and the policy texts' lengths are the
 * model's, answered as ECR answers bad input: `InvalidParameterException` "Invalid parameter at
 * 'x' failed to satisfy constraint: '…'" ({@link invalidInput}). The handlers keep what the model
 * cannot say: a lifecycle policy's rules, a repository policy's grammar, tag sizes, whose registry
 * a repository may be created in.
 */
import type * as Ecr from '@aws-sdk/client-ecr'
import { formatArn, parseArn, PARTITIONS } from '../../../iam/arn.js'
import { validatePolicy } from '../../../iam/index.js'
import { authorize } from '../../auth/authorize.js'
import type { Runtime } from '../../runtime.js'
import { jsonService, operation, type Violation } from '../../operations/index.js'
import type { JsonService, RequestContext } from '../types.js'
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

/**
 * ECR's answer to input that breaks its model: `InvalidParameterException` naming the first
 * violation, "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have
 * value less than or equal to 1000'", "Invalid parameter at 'registryIds' failed to satisfy
 * constraint: 'Member must satisfy constraint: [Member must satisfy regular expression pattern:
 * [0-9]{12}]'" (the answers quoted in public issues: go-containerregistry#1091,
 * aws-actions/amazon-ecr-login#27). The repository name and registry id are checked by ECR itself,
 * with its own words: "'must have length greater than or equal to 2'", "'must satisfy regular
 * expression '(…)''" (aws-dotnet-deploy#549, localstack#8051) and "'must satisfy regular
 * expression [0-9]{12}'" (BatchGetImage's registryId).
 */
export function invalidInput(found: readonly Violation[]): ReturnType<typeof invalidParameter> {
  const v = found[0]!
  let constraint = v.constraint
  if (v.path === 'repositoryName' || v.path === 'registryId') {
    const pattern = /^Member must satisfy regular expression pattern: (.*)$/.exec(constraint)?.[1]
    constraint = pattern
      ? `must satisfy regular expression ${v.path === 'repositoryName' ? `'${pattern}'` : pattern}`
      : constraint.replace(/^Member /, '')
  }
  return invalidParameter(`Invalid parameter at '${v.path}' failed to satisfy constraint: '${constraint}'`)
}

/**
 * Tag keys of 1–128 and values of at most 256 characters, at most 50 tags (API_Tag.html,
 * InvalidTagParameterException, TooManyTagsException): ECR's model states none of it.
 */
function checkTags(tags: readonly { Key: string; Value: string }[]): { Key: string; Value: string }[] {
  for (const t of tags) {
    if (t.Key.length < 1 || t.Key.length > 128)
      throw invalidTag('Tag keys must be strings of 1 to 128 characters.')
    if (t.Value.length > 256) throw invalidTag('Tag values must be at most 256 characters.')
  }
  if (tags.length > MAX_TAGS) throw tooManyTags()
  return tags.map((t) => ({ Key: t.Key, Value: t.Value }))
}

function repositoryOut(r: RepositoryRecord): Ecr.Repository {
  return {
    repositoryArn: r.repositoryArn,
    registryId: r.registryId,
    repositoryName: r.repositoryName,
    repositoryUri: r.repositoryUri,
    createdAt: new Date(r.createdAt),
    imageTagMutability: r.imageTagMutability as Ecr.ImageTagMutability,
    imageScanningConfiguration: { scanOnPush: r.scanOnPush },
    encryptionConfiguration: { encryptionType: r.encryptionType, kmsKey: r.kmsKey },
  }
}

/**
 * A lifecycle policy's text (its length is the model's) must be JSON with a `rules` list
 * (lifecycle_policy_parameters.html).
 */
function checkLifecyclePolicy(text: string): void {
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

/** Exclusion filters for tag mutability are not modelled: refused rather than ignored. */
function noExclusionFilters(filters: readonly unknown[] | undefined): void {
  if (filters !== undefined)
    throw invalidParameter('imageTagMutabilityExclusionFilters are not supported by the crosspipe sandbox.')
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

  /** `registryId` (its form is the model's) names the account; another account's registry is reached through its repository policies. */
  const registryOf = (input: { registryId?: string }, ctx: RequestContext): string =>
    input.registryId ?? ctx.identity.account

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
  function target(
    input: { registryId?: string; repositoryName: string },
    ctx: RequestContext,
    action: string,
  ): RepositoryRecord {
    const account = registryOf(input, ctx)
    const name = input.repositoryName
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

  /** The repository a policy or setting operation answers for. */
  const named = (r: RepositoryRecord) => ({ registryId: r.registryId, repositoryName: r.repositoryName })

  /**
   * A repository's lifecycle policy or repository policy, removed when asked; none set is the
   * operation's NotFound (API_GetLifecyclePolicy.html, API_GetRepositoryPolicy.html).
   */
  function storedText(
    r: RepositoryRecord,
    slot: 'lifecyclePolicyText' | 'policyText',
    remove?: 'remove',
  ): string {
    const text = r[slot]
    if (text === undefined)
      throw (slot === 'policyText' ? repositoryPolicyNotFound : lifecyclePolicyNotFound)(
        r.repositoryName,
        r.registryId,
      )
    if (remove) {
      delete r[slot]
      save(r)
    }
    return text
  }

  return jsonService({
    name: 'ecr',
    signingName: 'ecr',
    jsonVersion: '1.1',
    targetPrefix: 'AmazonEC2ContainerRegistry_V20150921',
    validationError: invalidInput,
    // Members the sandbox does not act on are refused as ECR refuses bad parameters.
    unsupportedCode: 'InvalidParameterException',
    operations: [
      operation<Ecr.CreateRepositoryRequest, Ecr.CreateRepositoryResponse>(
        'CreateRepository',
        (input, ctx) => {
          const account = registryOf(input, ctx)
          if (account !== ctx.identity.account)
            throw invalidParameter("Repositories can only be created in the caller's own registry.")
          const name = input.repositoryName
          allow(ctx, 'CreateRepository', account, name)
          const tags = checkTags(input.tags ?? [])
          noExclusionFilters(input.imageTagMutabilityExclusionFilters)
          const enc = input.encryptionConfiguration ?? { encryptionType: 'AES256' }
          // A KMS key goes with KMS or KMS_DSSE encryption only; without one ECR uses its AWS managed
          // key (API_EncryptionConfiguration.html).
          if (enc.encryptionType === 'AES256' && enc.kmsKey !== undefined)
            throw invalidParameter(
              'Invalid parameter: kmsKey can only be specified when encryptionType is KMS or KMS_DSSE',
            )
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
            imageTagMutability: input.imageTagMutability ?? 'MUTABLE',
            scanOnPush: input.imageScanningConfiguration?.scanOnPush ?? false,
            encryptionType: enc.encryptionType,
            ...(enc.kmsKey !== undefined ? { kmsKey: enc.kmsKey } : {}),
            tags,
          }
          save(r)
          return { repository: repositoryOut(r) }
        },
        {
          honours: [
            'registryId',
            'repositoryName',
            'tags',
            'imageTagMutability',
            'imageTagMutabilityExclusionFilters',
            'imageScanningConfiguration',
            'encryptionConfiguration',
          ],
        },
      ),

      operation<Ecr.DescribeRepositoriesRequest, Ecr.DescribeRepositoriesResponse>(
        'DescribeRepositories',
        (input, ctx) => {
          const account = registryOf(input, ctx)
          if (input.repositoryNames !== undefined && input.maxResults !== undefined)
            throw invalidParameter('Invalid parameter: maxResults cannot be specified with repositoryNames')
          const scope = scopeOf(account, ctx.region)
          if (input.repositoryNames)
            return {
              repositories: input.repositoryNames.map((n) => {
                const r = store.repositories.get(scope, n)
                allow(ctx, 'DescribeRepositories', account, n, r)
                if (!r) throw repositoryNotFound(n, account)
                return repositoryOut(r)
              }),
            }
          // Listing a registry is authorized on every repository of it (`repository/*`).
          allow(ctx, 'DescribeRepositories', account, '*')
          const size = input.maxResults ?? 100
          const all = store.repositories.list(scope).map((x) => x.value)
          const token = input.nextToken
          const start = token === undefined ? 0 : Number(Buffer.from(token, 'base64url').toString('utf8'))
          if (!Number.isInteger(start) || start < 0 || start > all.length)
            throw invalidParameter(
              "Invalid parameter at 'nextToken' failed to satisfy constraint: 'Invalid token'",
            )
          return {
            repositories: all.slice(start, start + size).map(repositoryOut),
            nextToken:
              start + size < all.length ? Buffer.from(String(start + size)).toString('base64url') : undefined,
          }
        },
        { honours: ['registryId', 'repositoryNames', 'nextToken', 'maxResults'] },
      ),

      // `force` changes nothing: no images are stored.
      operation<Ecr.DeleteRepositoryRequest, Ecr.DeleteRepositoryResponse>(
        'DeleteRepository',
        (input, ctx) => {
          const r = target(input, ctx, 'DeleteRepository')
          store.repositories.delete(scopeOf(r.registryId, ctx.region), r.repositoryName)
          return { repository: repositoryOut(r) }
        },
        {
          honours: ['registryId', 'repositoryName'],
          accepts: {
            force:
              'a repository here holds no images (they are not modelled), so it is deleted alike with or without force',
          },
        },
      ),

      operation<Ecr.PutLifecyclePolicyRequest, Ecr.PutLifecyclePolicyResponse>(
        'PutLifecyclePolicy',
        (input, ctx) => {
          const r = target(input, ctx, 'PutLifecyclePolicy')
          checkLifecyclePolicy(input.lifecyclePolicyText)
          r.lifecyclePolicyText = input.lifecyclePolicyText
          save(r)
          return { ...named(r), lifecyclePolicyText: r.lifecyclePolicyText }
        },
        { honours: ['registryId', 'repositoryName', 'lifecyclePolicyText'] },
      ),

      operation<Ecr.GetLifecyclePolicyRequest, Ecr.GetLifecyclePolicyResponse>(
        'GetLifecyclePolicy',
        (input, ctx) => {
          const r = target(input, ctx, 'GetLifecyclePolicy')
          return { ...named(r), lifecyclePolicyText: storedText(r, 'lifecyclePolicyText') }
        },
        { honours: ['registryId', 'repositoryName'] },
      ),

      operation<Ecr.DeleteLifecyclePolicyRequest, Ecr.DeleteLifecyclePolicyResponse>(
        'DeleteLifecyclePolicy',
        (input, ctx) => {
          const r = target(input, ctx, 'DeleteLifecyclePolicy')
          return { ...named(r), lifecyclePolicyText: storedText(r, 'lifecyclePolicyText', 'remove') }
        },
        { honours: ['registryId', 'repositoryName'] },
      ),

      operation<Ecr.SetRepositoryPolicyRequest, Ecr.SetRepositoryPolicyResponse>(
        'SetRepositoryPolicy',
        (input, ctx) => {
          const r = target(input, ctx, 'SetRepositoryPolicy')
          const text = input.policyText
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
          return { ...named(r), policyText: text }
        },
        {
          honours: ['registryId', 'repositoryName', 'policyText'],
          accepts: {
            force:
              'force skips a check that the new policy does not lock the caller out, which the sandbox does not make',
          },
        },
      ),

      operation<Ecr.GetRepositoryPolicyRequest, Ecr.GetRepositoryPolicyResponse>(
        'GetRepositoryPolicy',
        (input, ctx) => {
          const r = target(input, ctx, 'GetRepositoryPolicy')
          return { ...named(r), policyText: storedText(r, 'policyText') }
        },
        { honours: ['registryId', 'repositoryName'] },
      ),

      operation<Ecr.DeleteRepositoryPolicyRequest, Ecr.DeleteRepositoryPolicyResponse>(
        'DeleteRepositoryPolicy',
        (input, ctx) => {
          const r = target(input, ctx, 'DeleteRepositoryPolicy')
          return { ...named(r), policyText: storedText(r, 'policyText', 'remove') }
        },
        { honours: ['registryId', 'repositoryName'] },
      ),

      operation<Ecr.PutImageScanningConfigurationRequest, Ecr.PutImageScanningConfigurationResponse>(
        'PutImageScanningConfiguration',
        (input, ctx) => {
          const r = target(input, ctx, 'PutImageScanningConfiguration')
          r.scanOnPush = input.imageScanningConfiguration.scanOnPush ?? false
          save(r)
          return { ...named(r), imageScanningConfiguration: { scanOnPush: r.scanOnPush } }
        },
        { honours: ['registryId', 'repositoryName', 'imageScanningConfiguration'] },
      ),

      operation<Ecr.PutImageTagMutabilityRequest, Ecr.PutImageTagMutabilityResponse>(
        'PutImageTagMutability',
        (input, ctx) => {
          const r = target(input, ctx, 'PutImageTagMutability')
          noExclusionFilters(input.imageTagMutabilityExclusionFilters)
          r.imageTagMutability = input.imageTagMutability
          save(r)
          return { ...named(r), imageTagMutability: input.imageTagMutability }
        },
        {
          honours: [
            'registryId',
            'repositoryName',
            'imageTagMutability',
            'imageTagMutabilityExclusionFilters',
          ],
        },
      ),

      operation<Ecr.TagResourceRequest, Ecr.TagResourceResponse>(
        'TagResource',
        (input, ctx) => {
          const r = repositoryFromArn(ctx, input.resourceArn, 'TagResource')
          const merged = new Map(r.tags.map((t) => [t.Key, t.Value]))
          for (const t of checkTags(input.tags)) merged.set(t.Key, t.Value)
          if (merged.size > MAX_TAGS) throw tooManyTags()
          r.tags = [...merged].map(([Key, Value]) => ({ Key, Value }))
          save(r)
          return {}
        },
        { honours: ['resourceArn', 'tags'] },
      ),

      operation<Ecr.UntagResourceRequest, Ecr.UntagResourceResponse>(
        'UntagResource',
        (input, ctx) => {
          const r = repositoryFromArn(ctx, input.resourceArn, 'UntagResource')
          const keys = new Set(input.tagKeys)
          r.tags = r.tags.filter((t) => !keys.has(t.Key))
          save(r)
          return {}
        },
        { honours: ['resourceArn', 'tagKeys'] },
      ),

      operation<Ecr.ListTagsForResourceRequest, Ecr.ListTagsForResourceResponse>(
        'ListTagsForResource',
        (input, ctx) => ({ tags: repositoryFromArn(ctx, input.resourceArn, 'ListTagsForResource').tags }),
        { honours: ['resourceArn'] },
      ),

      // Declared so that their input is still read and checked as ECR does; then refused.
      ...IMAGE_OPERATIONS.map((op) =>
        operation<object, object>(
          op,
          () => {
            throw imagesUnsupported(op)
          },
          { honours: [], refusesEveryRequest: true },
        ),
      ),
    ],
  })
}
