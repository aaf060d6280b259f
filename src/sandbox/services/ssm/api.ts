/**
 * Systems Manager Parameter Store over awsJson 1.1 (`AmazonSSM`): String and StringList
 * parameters with versions, hierarchies, tags and IAM authorization on the parameter ARN.
 * Behaviour and citations in SPEC.md. CloudFormation's `AWS::SSM::Parameter` provider and its
 * `AWS::SSM::Parameter::Value<…>` template parameters call this API, so a stack's parameters are
 * the ones `aws ssm get-parameter` reads.
 *
 * Declared as operations of SSM's model (src/sandbox/operations): JSON types, required members,
 * lengths (`Name` 1–2048, `Description` up to 1024, tag keys 1–128…), list sizes (`Names` 1–10),
 * ranges (`MaxResults`), patterns (tag keys, filter keys) and enums (`Type`, `Tier`,
 * `ResourceType`) are checked by the model and answered as SSM answers, `ValidationException`
 * "N validation errors detected: …". The handlers keep what the model cannot say: the name rules
 * of Parameter Store, versions and selectors, tiers and their value sizes, SecureString refused.
 */
import type * as Ssm from '@aws-sdk/client-ssm'
import { formatArn } from '../../../iam/arn.js'
import { authorize } from '../../auth/authorize.js'
import { AwsError } from '../../errors.js'
import type { Runtime } from '../../runtime.js'
import { jsonService, operation } from '../../operations/index.js'
import type { JsonService, RequestContext } from '../types.js'
import {
  alreadyExists,
  hierarchyTooDeep,
  invalidFilter,
  invalidNextToken,
  invalidPattern,
  invalidResourceId,
  parameterNotFound,
  patternMismatch,
  tooManyTags,
  typeMismatch,
  unsupported,
  unsupportedType,
  validation,
  versionNotFound,
} from './errors.js'
import { SsmStore, scopeOf, type ParameterRecord, type ParameterVersion } from './store.js'

/** Parameter Store keeps the last 100 versions of a parameter (sysman-paramstore-versions.html). */
const MAX_VERSIONS = 100
/** Value sizes by tier (parameter-store-advanced-parameters.html). */
const MAX_VALUE = { Standard: 4096, Advanced: 8192 } as const
/** Tags per resource (API_AddTagsToResource.html, TooManyTagsError). */
const MAX_TAGS = 50
/**
 * A name and the ARN prefix before it (`arn:aws:ssm:us-east-2:111122223333:parameter/`) may have
 * at most 1011 characters; the model's 2048 includes characters Systems Manager reserves
 * (API_PutParameter.html, Name).
 */
const MAX_NAME_WITH_ARN = 1011

/** The message of a name (or path) that breaks Parameter Store's name rules, as SSM words it. */
const NAME_RULES =
  'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_'
/** GetParametersByPath's message for a path that is not one (as SSM answers it, quoted in public issues). */
const PATH_RULES =
  'The parameter doesn\'t meet the parameter name requirements. The parameter name must begin with a forward slash "/". It can\'t be prefixed with \\"aws\\" or \\"ssm\\" (case-insensitive). It must use only letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore). Special characters are not allowed. All sub-paths, if specified, must use the forward slash symbol "/". Valid example: /get/parameters2-/by1./path0_.'

type Tag = { Key: string; Value: string }

/**
 * Tag keys may not start with `aws:`, which AWS reserves
 * (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_Tag.html); lengths and
 * characters are the model's.
 */
function checkTags(tags: readonly Tag[]): Tag[] {
  for (const t of tags)
    if (t.Key.toLowerCase().startsWith('aws:'))
      throw validation(`Tag key '${t.Key}' is not valid: the prefix aws: is reserved for AWS use.`)
  if (tags.length > MAX_TAGS) throw tooManyTags()
  return tags.map((t) => ({ Key: t.Key, Value: t.Value }))
}

/** Page tokens: the offset of the next item, opaque to callers. */
function page<T>(
  token: string | undefined,
  items: readonly T[],
  size: number,
): { items: T[]; next?: string } {
  const start = token === undefined ? 0 : Number(Buffer.from(token, 'base64url').toString('utf8'))
  if (!Number.isInteger(start) || start < 0 || (token !== undefined && start > items.length))
    throw invalidNextToken()
  return {
    items: items.slice(start, start + size),
    next: start + size < items.length ? Buffer.from(String(start + size)).toString('base64url') : undefined,
  }
}

/**
 * Name rules the model cannot say (sysman-paramstore-su-create.html, "Requirements and constraints
 * for parameter names"): letters, digits and `_.-/`; a name with a `/` is fully qualified (starts
 * with `/`); no `aws` or `ssm` prefix, case-insensitively, on the name or its first level; with
 * the ARN prefix before it, at most 1011 characters; at most 15 levels.
 */
function checkName(name: string, arnPrefix: string): void {
  if (!/^[A-Za-z0-9_.\-/]+$/.test(name)) throw validation(NAME_RULES)
  if (name.includes('/') && !name.startsWith('/'))
    throw validation('Parameter name must be a fully qualified name.')
  if (/^\/?(aws|ssm)/i.test(name)) throw validation(NAME_RULES)
  if (arnPrefix.length + name.length > MAX_NAME_WITH_ARN)
    throw validation(
      `Parameter name: ${name.length} characters is too long: with the ${arnPrefix.length} characters of the ARN before it (${arnPrefix}) a name may have at most ${MAX_NAME_WITH_ARN}.`,
    )
  if (name.split('/').filter((s) => s !== '').length > 15) throw hierarchyTooDeep()
}

function current(p: ParameterRecord): ParameterVersion {
  return p.versions[p.versions.length - 1]!
}

/** A stored ISO time as the SDK's `Date` (the layer writes epoch seconds). */
function at(iso: string): Date {
  return new Date(iso)
}

function parameterOut(p: ParameterRecord, v: ParameterVersion, selector?: string): Ssm.Parameter {
  return {
    Name: p.name,
    Type: v.type,
    Value: v.value,
    Version: v.version,
    Selector: selector,
    LastModifiedDate: at(v.lastModified),
    ARN: p.arn,
    DataType: v.dataType,
  }
}

function metadataOut(p: ParameterRecord): Ssm.ParameterMetadata {
  const v = current(p)
  return {
    Name: p.name,
    ARN: p.arn,
    Type: v.type,
    LastModifiedDate: at(v.lastModified),
    LastModifiedUser: v.lastModifiedUser,
    Description: v.description,
    AllowedPattern: v.allowedPattern,
    Version: v.version,
    Tier: v.tier,
    Policies: [],
    DataType: v.dataType,
  }
}

function historyOut(p: ParameterRecord, v: ParameterVersion): Ssm.ParameterHistory {
  return {
    Name: p.name,
    Type: v.type,
    LastModifiedDate: at(v.lastModified),
    LastModifiedUser: v.lastModifiedUser,
    Description: v.description,
    Value: v.value,
    AllowedPattern: v.allowedPattern,
    Version: v.version,
    Labels: [],
    Tier: v.tier,
    Policies: [],
    DataType: v.dataType,
  }
}

/** Whether `name` is under `path` (one level, or any depth when recursive). */
function underPath(name: string, path: string, recursive: boolean): boolean {
  const base = path.endsWith('/') ? path : `${path}/`
  if (!name.startsWith(base)) return false
  return recursive || !name.slice(base.length).includes('/')
}

/** The filter options each key accepts (API_ParameterStringFilter.html, Option). */
const FILTER_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  Name: ['Equals', 'BeginsWith', 'Contains'],
  Path: ['Recursive', 'OneLevel'],
}

/**
 * ParameterStringFilter (API_ParameterStringFilter.html): Name (Equals, BeginsWith, Contains),
 * Type, Tier, DataType (Equals), Path (Recursive, OneLevel), `tag:<key>` (Equals), KeyId and
 * Label (which match nothing here: no SecureString, no labels). The key's form, the option's and
 * values' lengths are the model's; which keys an operation accepts and the options of each are
 * checked here.
 */
function parameterFilters(
  filters: readonly { Key: string; Option?: string; Values?: readonly string[] }[] | undefined,
  allowed: readonly string[],
): (p: ParameterRecord) => boolean {
  const tests = (filters ?? []).map(({ Key: key, Option: option, Values }) => {
    const values = Values ?? []
    const isTag = key.startsWith('tag:')
    if (!isTag && !allowed.includes(key))
      throw invalidFilter(
        'InvalidFilterKey',
        `The following filter key is not valid: ${key}. Valid filter keys include: [${allowed.join(', ')}].`,
      )
    if (isTag && !allowed.includes('tag'))
      throw invalidFilter('InvalidFilterKey', `The following filter key is not valid: ${key}.`)
    const options = FILTER_OPTIONS[key] ?? ['Equals']
    const opt = option ?? (key === 'Path' ? 'OneLevel' : 'Equals')
    if (!options.includes(opt))
      throw invalidFilter(
        'InvalidFilterOption',
        `The following filter option is not valid: ${opt}. Valid options include: [${options.join(', ')}].`,
      )
    if (!isTag && values.length === 0)
      throw invalidFilter(
        'InvalidFilterValue',
        `The following filter values are missing : null for filter key ${key}.`,
      )
    return (p: ParameterRecord): boolean => {
      const v = current(p)
      switch (key) {
        case 'Name':
          return values.some((x) =>
            opt === 'Equals'
              ? p.name === x
              : opt === 'BeginsWith'
                ? p.name.startsWith(x)
                : p.name.includes(x),
          )
        case 'Type':
          return values.includes(v.type)
        case 'Tier':
          return values.includes(v.tier)
        case 'DataType':
          return values.includes(v.dataType)
        case 'Path':
          return values.some((x) => underPath(p.name, x, opt === 'Recursive'))
        case 'KeyId':
        case 'Label':
          return false
        default: {
          const t = p.tags.find((x) => x.Key === key.slice(4))
          return t !== undefined && (values.length === 0 || values.includes(t.Value))
        }
      }
    }
  })
  return (p) => tests.every((t) => t(p))
}

/** The SSM service. */
export function ssmService(runtime: Runtime): JsonService {
  const store = new SsmStore(runtime.db)

  /** `arn:<partition>:ssm:<region>:<account>:parameter/`, what precedes a parameter's name in its ARN. */
  function arnPrefix(ctx: RequestContext): string {
    return formatArn({
      partition: ctx.partition,
      service: 'ssm',
      region: ctx.region,
      account: ctx.identity.account,
      resource: 'parameter/',
    })
  }

  /**
   * The ARN of a parameter: `parameter/` then the name without its leading slash, so
   * `/a/b` and `a` are `parameter/a/b` and `parameter/a` (sysman-paramstore-access.html).
   */
  function parameterArn(ctx: RequestContext, name: string): string {
    return arnPrefix(ctx) + name.replace(/^\//, '')
  }

  const scope = (ctx: RequestContext): string => scopeOf(ctx.identity.account, ctx.region)

  function allow(
    ctx: RequestContext,
    action: string,
    resource: string,
    context: Readonly<Record<string, string>> = {},
  ): void {
    authorize(ctx, { action: `ssm:${action}`, resource, context }, 'json')
  }

  /**
   * A parameter named by name or ARN in the caller's account and region. Parameters shared from
   * other accounts (advanced tier, through AWS RAM) are not modelled.
   */
  function nameOf(ctx: RequestContext, given: string): string {
    if (!given.startsWith('arn:')) return given
    const m = /^arn:[^:]+:ssm:([^:]*):(\d{12}):parameter(\/.*)$/.exec(given)
    if (!m) throw validation(`Invalid parameter ARN: ${given}`)
    if (m[2] !== ctx.identity.account || m[1] !== ctx.region)
      throw unsupported(
        'Parameters of other accounts or regions (shared through AWS RAM) are not supported by the crosspipe sandbox.',
      )
    const tail = m[3]!
    // `parameter/a` names `a`, unless only `/a` exists (both have that ARN).
    const plain = tail.slice(1)
    if (!plain.includes('/') && store.parameters.get(scope(ctx), plain)) return plain
    return tail
  }

  /** `name`, `name:version` or `name:label` (API_GetParameter.html, Name). */
  function selected(
    ctx: RequestContext,
    given: string,
  ): { name: string; selector?: string; version?: number } {
    // In an ARN the name follows `:parameter`, and only a selector adds a colon after it.
    const from = given.startsWith('arn:') ? given.indexOf(':parameter/') : 0
    const last = given.lastIndexOf(':')
    const at = from >= 0 && last > from ? last : -1
    if (at < 0) return { name: nameOf(ctx, given) }
    const sel = given.slice(at + 1)
    const name = nameOf(ctx, given.slice(0, at))
    if (/^\d+$/.test(sel)) return { name, selector: `:${sel}`, version: Number(sel) }
    return { name, selector: `:${sel}` }
  }

  /** Reads one selected parameter version; undefined when the parameter does not exist. */
  function read(
    ctx: RequestContext,
    given: string,
  ): { p: ParameterRecord; v: ParameterVersion; selector?: string } | undefined {
    const s = selected(ctx, given)
    const p = store.parameters.get(scope(ctx), s.name)
    if (!p) return undefined
    if (s.selector === undefined) return { p, v: current(p) }
    if (s.version === undefined)
      // Labels (LabelParameterVersion) are not modelled, so a label selector names no version.
      throw new AwsError(
        'ParameterVersionLabelNotFound',
        `Label ${s.selector.slice(1)} was not found on parameter ${s.name}: the crosspipe sandbox does not support parameter labels.`,
        400,
      )
    const v = p.versions.find((x) => x.version === s.version)
    if (!v) throw versionNotFound(`${s.name}${s.selector}`)
    return { p, v, selector: s.selector }
  }

  /** The parameter a tagging call names (`ResourceType: Parameter`, `ResourceId`: its name). */
  function tagTarget(
    input: { ResourceType: Ssm.ResourceTypeForTagging; ResourceId: string },
    ctx: RequestContext,
    action: string,
  ): ParameterRecord {
    // The other types of the model's enum are Systems Manager resources the sandbox does not serve.
    if (input.ResourceType !== 'Parameter')
      throw unsupported(
        `Tagging ${input.ResourceType} resources is not supported by the crosspipe sandbox: it serves Parameter Store only.`,
      )
    const name = nameOf(ctx, input.ResourceId)
    allow(ctx, action, parameterArn(ctx, name))
    const p = store.parameters.get(scope(ctx), name)
    if (!p) throw invalidResourceId()
    return p
  }

  function save(ctx: RequestContext, p: ParameterRecord): void {
    store.parameters.put(scope(ctx), p.name, p)
  }

  return jsonService({
    name: 'ssm',
    signingName: 'ssm',
    jsonVersion: '1.1',
    targetPrefix: 'AmazonSSM',
    // A member the sandbox does not act on is refused as its handlers refuse what they do not support.
    unsupportedCode: 'UnsupportedOperationException',
    operations: [
      operation<Ssm.PutParameterRequest, Ssm.PutParameterResult>(
        'PutParameter',
        (input, ctx) => {
          const { Name: name, Value: value } = input
          checkName(name, arnPrefix(ctx))
          const arn = parameterArn(ctx, name)
          const overwrite = input.Overwrite ?? false
          // ssm:Overwrite (parameter-store-policy-conditions.html) lets a policy allow creating only.
          allow(ctx, 'PutParameter', arn, { 'ssm:Overwrite': String(overwrite) })
          const tags = checkTags(input.Tags ?? [])
          if (overwrite && tags.length)
            throw validation(
              "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.",
            )
          const existing = store.parameters.get(scope(ctx), name)
          if (existing && !overwrite) throw alreadyExists()
          const type = input.Type ?? (existing ? current(existing).type : undefined)
          if (type === undefined)
            throw validation('A parameter type is required when you create a parameter.')
          if (type === 'SecureString')
            throw unsupportedType(
              'SecureString parameters are not supported by the crosspipe sandbox: use String or StringList (values are stored unencrypted).',
            )
          if (existing && current(existing).type !== type) throw typeMismatch()
          if (input.KeyId !== undefined)
            throw validation('KeyId is required for SecureString type parameter only.')
          const dataType = input.DataType ?? 'text'
          if (dataType !== 'text')
            throw unsupported(
              `DataType ${dataType} is not supported by the crosspipe sandbox (it has no EC2 images or integrations to validate against): use text.`,
            )
          if (input.Policies !== undefined)
            throw unsupported('Parameter policies (Policies) are not supported by the crosspipe sandbox.')
          // The model no longer states Value's minimum, but SSM still refuses an empty value, and
          // does not echo it (it is sensitive).
          if (value.length < 1)
            throw validation(
              "1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1",
            )
          const tierIn = input.Tier ?? 'Standard'
          // Intelligent-Tiering picks Advanced only when the value needs it; an Advanced parameter
          // stays Advanced (parameter-store-advanced-parameters.html, parameter-store-working-with-tiers…).
          const wasAdvanced = existing !== undefined && current(existing).tier === 'Advanced'
          const tier: 'Standard' | 'Advanced' =
            tierIn === 'Advanced' ||
            wasAdvanced ||
            (tierIn === 'Intelligent-Tiering' && value.length > MAX_VALUE.Standard)
              ? 'Advanced'
              : 'Standard'
          if (tierIn === 'Standard' && wasAdvanced)
            throw validation(
              "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced parameter and recreate it as a standard parameter.",
            )
          if (value.length > MAX_VALUE[tier])
            throw validation(
              tier === 'Standard'
                ? 'Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html'
                : 'Advanced tier parameters support a maximum parameter value of 8192 characters.',
            )
          const allowedPattern = input.AllowedPattern
          if (allowedPattern !== undefined) {
            let re: RegExp
            try {
              re = new RegExp(allowedPattern)
            } catch {
              throw invalidPattern()
            }
            if (!re.test(value)) throw patternMismatch(allowedPattern)
          }
          const previous = existing ? current(existing) : undefined
          const description = input.Description ?? previous?.description
          const version: ParameterVersion = {
            version: (previous?.version ?? 0) + 1,
            type,
            value,
            ...(description !== undefined ? { description } : {}),
            ...(allowedPattern !== undefined ? { allowedPattern } : {}),
            tier,
            dataType: 'text',
            lastModified: ctx.now.toISOString(),
            lastModifiedUser: ctx.identity.arn,
          }
          const rec: ParameterRecord = existing ?? { name, arn, versions: [], tags }
          rec.versions = [...rec.versions, version].slice(-MAX_VERSIONS)
          save(ctx, rec)
          return { Version: version.version, Tier: tier }
        },
        {
          honours: [
            'Name',
            'Description',
            'Value',
            'Type',
            'KeyId',
            'Overwrite',
            'AllowedPattern',
            'Tags',
            'Tier',
            'Policies',
            'DataType',
          ],
        },
      ),

      // WithDecryption is accepted and changes nothing: the sandbox stores no SecureString.
      operation<Ssm.GetParameterRequest, Ssm.GetParameterResult>(
        'GetParameter',
        (input, ctx) => {
          const s = selected(ctx, input.Name)
          allow(ctx, 'GetParameter', parameterArn(ctx, s.name))
          const r = read(ctx, input.Name)
          if (!r) throw parameterNotFound(s.name)
          return { Parameter: parameterOut(r.p, r.v, r.selector) }
        },
        {
          honours: ['Name'],
          accepts: {
            WithDecryption:
              'SecureString parameters are refused (PutParameter), and AWS ignores WithDecryption for String and StringList ones (API_GetParameter.html)',
          },
        },
      ),

      operation<Ssm.GetParametersRequest, Ssm.GetParametersResult>(
        'GetParameters',
        (input, ctx) => {
          // Each name is authorized; one denial denies the call (sysman-paramstore-access.html).
          for (const n of input.Names) allow(ctx, 'GetParameters', parameterArn(ctx, selected(ctx, n).name))
          const found: Ssm.Parameter[] = []
          const invalid: string[] = []
          for (const n of [...new Set(input.Names)]) {
            let r: ReturnType<typeof read>
            try {
              r = read(ctx, n)
            } catch (e) {
              if (e instanceof AwsError && /VersionNotFound|LabelNotFound/.test(e.code)) r = undefined
              else throw e
            }
            if (r) found.push(parameterOut(r.p, r.v, r.selector))
            else invalid.push(n)
          }
          return { Parameters: found, InvalidParameters: invalid }
        },
        {
          honours: ['Names'],
          accepts: {
            WithDecryption:
              'SecureString parameters are refused (PutParameter), and AWS ignores WithDecryption for String and StringList ones (API_GetParameter.html)',
          },
        },
      ),

      operation<Ssm.GetParametersByPathRequest, Ssm.GetParametersByPathResult>(
        'GetParametersByPath',
        (input, ctx) => {
          const path = input.Path
          if (!path.startsWith('/') || !/^[A-Za-z0-9_.\-/]+$/.test(path)) throw validation(PATH_RULES)
          const recursive = input.Recursive ?? false
          // Authorized on the path, not the parameters returned (ps-retrieval-authorization.html), with
          // ssm:Recursive (parameter-store-policy-conditions.html).
          allow(ctx, 'GetParametersByPath', parameterArn(ctx, path.replace(/\/$/, '') || '/'), {
            'ssm:Recursive': String(recursive),
          })
          // GetParametersByPath accepts Type, KeyId and Label filters (API_GetParametersByPath.html).
          const filters = parameterFilters(input.ParameterFilters, ['Type', 'KeyId', 'Label'])
          const all = store.parameters
            .list(scope(ctx), path === '/' ? '/' : path.endsWith('/') ? path : `${path}/`)
            .map((x) => x.value)
            .filter((p) => underPath(p.name, path, recursive))
            .filter((p) => filters(p))
          const r = page(input.NextToken, all, input.MaxResults ?? 10)
          return { Parameters: r.items.map((p) => parameterOut(p, current(p))), NextToken: r.next }
        },
        {
          honours: ['Path', 'Recursive', 'ParameterFilters', 'MaxResults', 'NextToken'],
          accepts: {
            WithDecryption:
              'SecureString parameters are refused (PutParameter), and AWS ignores WithDecryption for String and StringList ones (API_GetParameter.html)',
          },
        },
      ),

      operation<Ssm.GetParameterHistoryRequest, Ssm.GetParameterHistoryResult>(
        'GetParameterHistory',
        (input, ctx) => {
          const name = nameOf(ctx, input.Name)
          allow(ctx, 'GetParameterHistory', parameterArn(ctx, name))
          const p = store.parameters.get(scope(ctx), name)
          if (!p) throw parameterNotFound(name)
          const r = page(input.NextToken, p.versions, input.MaxResults ?? 50)
          return { Parameters: r.items.map((v) => historyOut(p, v)), NextToken: r.next }
        },
        {
          honours: ['Name', 'MaxResults', 'NextToken'],
          accepts: {
            WithDecryption:
              'SecureString parameters are refused (PutParameter), and AWS ignores WithDecryption for String and StringList ones (API_GetParameter.html)',
          },
        },
      ),

      operation<Ssm.DescribeParametersRequest, Ssm.DescribeParametersResult>(
        'DescribeParameters',
        (input, ctx) => {
          // DescribeParameters has no resource type: it is authorized on `*` (list_awssystemsmanager.html).
          allow(ctx, 'DescribeParameters', '*')
          if (input.Filters !== undefined)
            throw unsupported(
              'The legacy Filters member is not supported by the crosspipe sandbox: use ParameterFilters.',
            )
          if (input.Shared)
            throw unsupported(
              'Parameters shared with this account (Shared, through AWS RAM) are not supported by the crosspipe sandbox.',
            )
          const filters = parameterFilters(input.ParameterFilters, [
            'Name',
            'Type',
            'KeyId',
            'Path',
            'Tier',
            'DataType',
            'Label',
            'tag',
          ])
          const all = store.parameters
            .list(scope(ctx))
            .map((x) => x.value)
            .filter((p) => filters(p))
          const r = page(input.NextToken, all, input.MaxResults ?? 50)
          return { Parameters: r.items.map(metadataOut), NextToken: r.next }
        },
        { honours: ['Filters', 'ParameterFilters', 'MaxResults', 'NextToken', 'Shared'] },
      ),

      operation<Ssm.DeleteParameterRequest, Ssm.DeleteParameterResult>(
        'DeleteParameter',
        (input, ctx) => {
          const name = nameOf(ctx, input.Name)
          allow(ctx, 'DeleteParameter', parameterArn(ctx, name))
          if (!store.parameters.delete(scope(ctx), name)) throw parameterNotFound(name)
          return {}
        },
        { honours: ['Name'] },
      ),

      operation<Ssm.DeleteParametersRequest, Ssm.DeleteParametersResult>(
        'DeleteParameters',
        (input, ctx) => {
          for (const n of input.Names) allow(ctx, 'DeleteParameters', parameterArn(ctx, nameOf(ctx, n)))
          const deleted: string[] = []
          const invalid: string[] = []
          for (const n of [...new Set(input.Names)])
            (store.parameters.delete(scope(ctx), nameOf(ctx, n)) ? deleted : invalid).push(n)
          return { DeletedParameters: deleted, InvalidParameters: invalid }
        },
        { honours: ['Names'] },
      ),

      operation<Ssm.AddTagsToResourceRequest, Ssm.AddTagsToResourceResult>(
        'AddTagsToResource',
        (input, ctx) => {
          const p = tagTarget(input, ctx, 'AddTagsToResource')
          const merged = new Map(p.tags.map((t) => [t.Key, t.Value]))
          for (const t of checkTags(input.Tags)) merged.set(t.Key, t.Value)
          if (merged.size > MAX_TAGS) throw tooManyTags()
          p.tags = [...merged].map(([Key, Value]) => ({ Key, Value }))
          save(ctx, p)
          return {}
        },
        { honours: ['ResourceType', 'ResourceId', 'Tags'] },
      ),

      operation<Ssm.RemoveTagsFromResourceRequest, Ssm.RemoveTagsFromResourceResult>(
        'RemoveTagsFromResource',
        (input, ctx) => {
          const p = tagTarget(input, ctx, 'RemoveTagsFromResource')
          const keys = new Set(input.TagKeys)
          p.tags = p.tags.filter((t) => !keys.has(t.Key))
          save(ctx, p)
          return {}
        },
        { honours: ['ResourceType', 'ResourceId', 'TagKeys'] },
      ),

      operation<Ssm.ListTagsForResourceRequest, Ssm.ListTagsForResourceResult>(
        'ListTagsForResource',
        (input, ctx) => ({ TagList: tagTarget(input, ctx, 'ListTagsForResource').tags }),
        { honours: ['ResourceType', 'ResourceId'] },
      ),
    ],
  })
}
