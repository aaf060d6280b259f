/**
 * Systems Manager Parameter Store over awsJson 1.1 (`AmazonSSM`): String and StringList
 * parameters with versions, hierarchies, tags and IAM authorization on the parameter ARN.
 * Behaviour and citations in SPEC.md. CloudFormation's `AWS::SSM::Parameter` provider and its
 * `AWS::SSM::Parameter::Value<…>` template parameters call this API, so a stack's parameters are
 * the ones `aws ssm get-parameter` reads.
 */
import { formatArn } from '../../../iam/arn.js'
import { authorize } from '../../auth/authorize.js'
import { AwsError } from '../../gateway/errors.js'
import type { Runtime } from '../../runtime.js'
import type { JsonService, RequestContext } from '../types.js'
import {
  alreadyExists,
  hierarchyTooDeep,
  invalidFilter,
  invalidNextToken,
  invalidPattern,
  invalidResourceId,
  invalidResourceType,
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

type Input = Readonly<Record<string, unknown>>

/** Parameter Store keeps the last 100 versions of a parameter (sysman-paramstore-versions.html). */
const MAX_VERSIONS = 100
/** Value sizes by tier (parameter-store-advanced-parameters.html). */
const MAX_VALUE = { Standard: 4096, Advanced: 8192 } as const
const MAX_TAGS = 50

// ---- input helpers -------------------------------------------------------

const memberName = (name: string): string => name.charAt(0).toLowerCase() + name.slice(1)

function str(input: Input, name: string, required: true): string
function str(input: Input, name: string, required?: false): string | undefined
function str(input: Input, name: string, required = false): string | undefined {
  const v = input[name]
  if (v === undefined || v === null) {
    if (required)
      throw validation(
        `1 validation error detected: Value null at '${memberName(name)}' failed to satisfy constraint: Member must not be null`,
      )
    return undefined
  }
  if (typeof v !== 'string')
    throw new AwsError('SerializationException', `Expected a string for ${name}`, 400)
  return v
}

function bool(input: Input, name: string): boolean {
  const v = input[name]
  if (v === undefined || v === null) return false
  if (typeof v !== 'boolean')
    throw new AwsError('SerializationException', `Expected a boolean for ${name}`, 400)
  return v
}

function strings(input: Input, name: string, required: boolean): string[] {
  const v = input[name]
  if (v === undefined || v === null) {
    if (required)
      throw validation(
        `1 validation error detected: Value null at '${memberName(name)}' failed to satisfy constraint: Member must not be null`,
      )
    return []
  }
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
    throw new AwsError('SerializationException', `Expected a list of strings for ${name}`, 400)
  return v as string[]
}

function maxResults(input: Input, max: number): number {
  const v = input['MaxResults']
  if (v === undefined || v === null) return max
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw new AwsError('SerializationException', 'Expected an integer for MaxResults', 400)
  if (v < 1 || v > max)
    throw validation(
      `1 validation error detected: Value '${v}' at 'maxResults' failed to satisfy constraint: Member must have value ${v < 1 ? 'greater than or equal to 1' : `less than or equal to ${max}`}`,
    )
  return v
}

function tagsOf(input: Input, name: string): { Key: string; Value: string }[] {
  const v = input[name]
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) throw new AwsError('SerializationException', `Expected a list for ${name}`, 400)
  return (v as { Key?: unknown; Value?: unknown }[]).map((t) => {
    if (typeof t?.Key !== 'string' || typeof t.Value !== 'string')
      throw validation(`1 validation error detected: Tags need a Key and a Value (strings)`)
    // Tag keys and values: https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_Tag.html
    if (
      t.Key.length < 1 ||
      t.Key.length > 128 ||
      t.Value.length > 256 ||
      t.Key.toLowerCase().startsWith('aws:')
    )
      throw validation(
        `1 validation error detected: Tag key '${t.Key}' must be 1 to 128 characters, its value at most 256, and the key may not start with aws:`,
      )
    return { Key: t.Key, Value: t.Value }
  })
}

/** Page tokens: the offset of the next item, opaque to callers. */
function page<T>(input: Input, items: readonly T[], size: number): { items: T[]; NextToken?: string } {
  const token = str(input, 'NextToken')
  const start = token === undefined ? 0 : Number(Buffer.from(token, 'base64url').toString('utf8'))
  if (!Number.isInteger(start) || start < 0 || (token !== undefined && start > items.length))
    throw invalidNextToken()
  const more = start + size < items.length
  return {
    items: items.slice(start, start + size),
    ...(more ? { NextToken: Buffer.from(String(start + size)).toString('base64url') } : {}),
  }
}

/**
 * Name constraints (sysman-paramstore-su-create.html, "Requirements and constraints for
 * parameter names"): letters, digits and `_.-/`; a name with a `/` is fully qualified (starts
 * with `/`); no `aws` or `ssm` prefix, case-insensitively, on the name or its first level; at
 * most 1011 characters and 15 levels.
 */
function checkName(name: string): void {
  if (name.length < 1 || name.length > 1011)
    throw validation(
      `1 validation error detected: Value '${name}' at 'name' failed to satisfy constraint: Member must have length between 1 and 1011`,
    )
  if (!/^[A-Za-z0-9_.\-/]+$/.test(name))
    throw validation(
      'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_',
    )
  if (name.includes('/') && !name.startsWith('/'))
    throw validation('Parameter name must be a fully qualified name.')
  if (/^\/?(aws|ssm)/i.test(name))
    throw validation(
      'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_',
    )
  if (name.split('/').filter((s) => s !== '').length > 15) throw hierarchyTooDeep()
}

function epoch(iso: string): number {
  return Date.parse(iso) / 1000
}

function current(p: ParameterRecord): ParameterVersion {
  return p.versions[p.versions.length - 1]!
}

function parameterJson(p: ParameterRecord, v: ParameterVersion, selector?: string): Record<string, unknown> {
  return {
    Name: p.name,
    Type: v.type,
    Value: v.value,
    Version: v.version,
    ...(selector !== undefined ? { Selector: selector } : {}),
    LastModifiedDate: epoch(v.lastModified),
    ARN: p.arn,
    DataType: v.dataType,
  }
}

function metadataJson(p: ParameterRecord): Record<string, unknown> {
  const v = current(p)
  return {
    Name: p.name,
    ARN: p.arn,
    Type: v.type,
    LastModifiedDate: epoch(v.lastModified),
    LastModifiedUser: v.lastModifiedUser,
    ...(v.description !== undefined ? { Description: v.description } : {}),
    ...(v.allowedPattern !== undefined ? { AllowedPattern: v.allowedPattern } : {}),
    Version: v.version,
    Tier: v.tier,
    Policies: [],
    DataType: v.dataType,
  }
}

function historyJson(p: ParameterRecord, v: ParameterVersion): Record<string, unknown> {
  return {
    Name: p.name,
    Type: v.type,
    LastModifiedDate: epoch(v.lastModified),
    LastModifiedUser: v.lastModifiedUser,
    ...(v.description !== undefined ? { Description: v.description } : {}),
    Value: v.value,
    ...(v.allowedPattern !== undefined ? { AllowedPattern: v.allowedPattern } : {}),
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

/** The SSM service. */
export function ssmService(runtime: Runtime): JsonService {
  const store = new SsmStore(runtime.db)

  /**
   * The ARN of a parameter: `parameter/` then the name without its leading slash, so
   * `/a/b` and `a` are `parameter/a/b` and `parameter/a` (sysman-paramstore-access.html).
   */
  function parameterArn(ctx: RequestContext, name: string): string {
    return formatArn({
      partition: ctx.partition,
      service: 'ssm',
      region: ctx.region,
      account: ctx.identity.account,
      resource: `parameter/${name.replace(/^\//, '')}`,
    })
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

  function checkWithDecryption(input: Input): void {
    // WithDecryption only matters for SecureString, which the sandbox refuses to store.
    bool(input, 'WithDecryption')
  }

  function putParameter(input: Input, ctx: RequestContext): Record<string, unknown> {
    const name = str(input, 'Name', true)
    const value = str(input, 'Value', true)
    checkName(name)
    const arn = parameterArn(ctx, name)
    const overwrite = bool(input, 'Overwrite')
    // ssm:Overwrite (parameter-store-policy-conditions.html) lets a policy allow creating only.
    allow(ctx, 'PutParameter', arn, { 'ssm:Overwrite': String(overwrite) })
    const tags = tagsOf(input, 'Tags')
    if (overwrite && tags.length)
      throw validation(
        "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.",
      )
    if (tags.length > MAX_TAGS) throw tooManyTags()
    const existing = store.parameters.get(scope(ctx), name)
    if (existing && !overwrite) throw alreadyExists()
    const type = str(input, 'Type') ?? (existing ? current(existing).type : undefined)
    if (type === undefined) throw validation('A parameter type is required when you create a parameter.')
    if (type === 'SecureString')
      throw unsupportedType(
        'SecureString parameters are not supported by the crosspipe sandbox: use String or StringList (values are stored unencrypted).',
      )
    if (type !== 'String' && type !== 'StringList')
      throw validation(
        `1 validation error detected: Value '${type}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]`,
      )
    if (existing && current(existing).type !== type) throw typeMismatch()
    if (str(input, 'KeyId') !== undefined)
      throw validation('KeyId is required for SecureString type parameter only.')
    const dataType = str(input, 'DataType') ?? 'text'
    if (dataType !== 'text')
      throw unsupported(
        `DataType ${dataType} is not supported by the crosspipe sandbox (it has no EC2 images or integrations to validate against): use text.`,
      )
    if (str(input, 'Policies') !== undefined)
      throw unsupported('Parameter policies (Policies) are not supported by the crosspipe sandbox.')
    const tierIn = str(input, 'Tier') ?? 'Standard'
    if (tierIn !== 'Standard' && tierIn !== 'Advanced' && tierIn !== 'Intelligent-Tiering')
      throw validation(
        `1 validation error detected: Value '${tierIn}' at 'tier' failed to satisfy constraint: Member must satisfy enum value set: [Advanced, Intelligent-Tiering, Standard]`,
      )
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
    if (value.length < 1)
      throw validation(
        "1 validation error detected: Value '' at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1",
      )
    const allowedPattern = str(input, 'AllowedPattern')
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
    const version: ParameterVersion = {
      version: (previous?.version ?? 0) + 1,
      type,
      value,
      ...((str(input, 'Description') ?? previous?.description) !== undefined
        ? { description: str(input, 'Description') ?? previous?.description }
        : {}),
      ...(allowedPattern !== undefined ? { allowedPattern } : {}),
      tier,
      dataType: 'text',
      lastModified: ctx.now.toISOString(),
      lastModifiedUser: ctx.identity.arn,
    }
    const rec: ParameterRecord = existing ?? { name, arn, versions: [], tags }
    rec.versions = [...rec.versions, version].slice(-MAX_VERSIONS)
    store.parameters.put(scope(ctx), name, rec)
    return { Version: version.version, Tier: tier }
  }

  function getParameter(input: Input, ctx: RequestContext): Record<string, unknown> {
    const given = str(input, 'Name', true)
    checkWithDecryption(input)
    const s = selected(ctx, given)
    allow(ctx, 'GetParameter', parameterArn(ctx, s.name))
    const r = read(ctx, given)
    if (!r) throw parameterNotFound(s.name)
    return { Parameter: parameterJson(r.p, r.v, r.selector) }
  }

  function getParameters(input: Input, ctx: RequestContext): Record<string, unknown> {
    const names = strings(input, 'Names', true)
    checkWithDecryption(input)
    if (names.length < 1 || names.length > 10)
      throw validation(
        `1 validation error detected: Value '[${names.join(', ')}]' at 'names' failed to satisfy constraint: Member must have length ${names.length < 1 ? 'greater than or equal to 1' : 'less than or equal to 10'}`,
      )
    // Each name is authorized; one denial denies the call (sysman-paramstore-access.html).
    for (const n of names) allow(ctx, 'GetParameters', parameterArn(ctx, selected(ctx, n).name))
    const found: Record<string, unknown>[] = []
    const invalid: string[] = []
    for (const n of [...new Set(names)]) {
      let r: ReturnType<typeof read>
      try {
        r = read(ctx, n)
      } catch (e) {
        if (e instanceof AwsError && /VersionNotFound|LabelNotFound/.test(e.code)) r = undefined
        else throw e
      }
      if (r) found.push(parameterJson(r.p, r.v, r.selector))
      else invalid.push(n)
    }
    return { Parameters: found, InvalidParameters: invalid }
  }

  function getParametersByPath(input: Input, ctx: RequestContext): Record<string, unknown> {
    const path = str(input, 'Path', true)
    if (!path.startsWith('/') || !/^[A-Za-z0-9_.\-/]+$/.test(path))
      throw validation(
        'The parameter doesn\'t meet the parameter name requirements. The parameter name must begin with a forward slash "/".',
      )
    checkWithDecryption(input)
    const recursive = bool(input, 'Recursive')
    const size = maxResults(input, 10)
    // Authorized on the path, not the parameters returned (ps-retrieval-authorization.html), with
    // ssm:Recursive (parameter-store-policy-conditions.html).
    allow(ctx, 'GetParametersByPath', parameterArn(ctx, path.replace(/\/$/, '') || '/'), {
      'ssm:Recursive': String(recursive),
    })
    // GetParametersByPath accepts Type, KeyId and Label filters (API_GetParametersByPath.html).
    const filters = parameterFilters(input, ['Type', 'KeyId', 'Label'])
    const all = store.parameters
      .list(scope(ctx), path === '/' ? '/' : path.endsWith('/') ? path : `${path}/`)
      .map((x) => x.value)
      .filter((p) => underPath(p.name, path, recursive))
      .filter((p) => filters(p))
    const r = page(input, all, size)
    return {
      Parameters: r.items.map((p) => parameterJson(p, current(p))),
      ...(r.NextToken ? { NextToken: r.NextToken } : {}),
    }
  }

  /**
   * ParameterStringFilter (API_ParameterStringFilter.html): Name (Equals, BeginsWith, Contains),
   * Type, Tier, DataType (Equals), Path (Recursive, OneLevel), `tag:<key>` (Equals), KeyId and
   * Label (which match nothing here: no SecureString, no labels).
   */
  function parameterFilters(input: Input, allowed: readonly string[]): (p: ParameterRecord) => boolean {
    if (input['Filters'] !== undefined && input['Filters'] !== null)
      throw unsupported(
        'The legacy Filters member is not supported by the crosspipe sandbox: use ParameterFilters.',
      )
    const raw = input['ParameterFilters']
    if (raw === undefined || raw === null) return () => true
    if (!Array.isArray(raw))
      throw new AwsError('SerializationException', 'Expected a list for ParameterFilters', 400)
    const tests = (raw as { Key?: unknown; Option?: unknown; Values?: unknown }[]).map((f) => {
      const key = typeof f?.Key === 'string' ? f.Key : ''
      const option = typeof f.Option === 'string' ? f.Option : undefined
      const values = Array.isArray(f.Values) ? f.Values.map(String) : []
      const isTag = key.startsWith('tag:')
      if (!isTag && !allowed.includes(key))
        throw invalidFilter(
          'InvalidFilterKey',
          `The following filter key is not valid: ${key}. Valid filter keys include: [${allowed.join(', ')}].`,
        )
      if (isTag && !allowed.includes('tag'))
        throw invalidFilter('InvalidFilterKey', `The following filter key is not valid: ${key}.`)
      const options: Record<string, readonly string[]> = {
        Name: ['Equals', 'BeginsWith', 'Contains'],
        Path: ['Recursive', 'OneLevel'],
      }
      const opt = option ?? (key === 'Path' ? 'OneLevel' : 'Equals')
      if (!(options[key] ?? ['Equals']).includes(opt))
        throw invalidFilter(
          'InvalidFilterOption',
          `The following filter option is not valid: ${opt}. Valid options include: [${(options[key] ?? ['Equals']).join(', ')}].`,
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

  function describeParameters(input: Input, ctx: RequestContext): Record<string, unknown> {
    // DescribeParameters has no resource type: it is authorized on `*` (list_awssystemsmanager.html).
    allow(ctx, 'DescribeParameters', '*')
    const size = maxResults(input, 50)
    const filters = parameterFilters(input, [
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
    const r = page(input, all, size)
    return { Parameters: r.items.map(metadataJson), ...(r.NextToken ? { NextToken: r.NextToken } : {}) }
  }

  function deleteOne(ctx: RequestContext, name: string): boolean {
    return store.parameters.delete(scope(ctx), name)
  }

  function deleteParameter(input: Input, ctx: RequestContext): Record<string, unknown> {
    const name = nameOf(ctx, str(input, 'Name', true))
    allow(ctx, 'DeleteParameter', parameterArn(ctx, name))
    if (!deleteOne(ctx, name)) throw parameterNotFound(name)
    return {}
  }

  function deleteParameters(input: Input, ctx: RequestContext): Record<string, unknown> {
    const names = strings(input, 'Names', true)
    if (names.length < 1 || names.length > 10)
      throw validation(
        `1 validation error detected: Value '[${names.join(', ')}]' at 'names' failed to satisfy constraint: Member must have length ${names.length < 1 ? 'greater than or equal to 1' : 'less than or equal to 10'}`,
      )
    for (const n of names) allow(ctx, 'DeleteParameters', parameterArn(ctx, nameOf(ctx, n)))
    const deleted: string[] = []
    const invalid: string[] = []
    for (const n of [...new Set(names)]) (deleteOne(ctx, nameOf(ctx, n)) ? deleted : invalid).push(n)
    return { DeletedParameters: deleted, InvalidParameters: invalid }
  }

  function getParameterHistory(input: Input, ctx: RequestContext): Record<string, unknown> {
    const name = nameOf(ctx, str(input, 'Name', true))
    checkWithDecryption(input)
    allow(ctx, 'GetParameterHistory', parameterArn(ctx, name))
    const size = maxResults(input, 50)
    const p = store.parameters.get(scope(ctx), name)
    if (!p) throw parameterNotFound(name)
    const r = page(input, p.versions, size)
    return {
      Parameters: r.items.map((v) => historyJson(p, v)),
      ...(r.NextToken ? { NextToken: r.NextToken } : {}),
    }
  }

  /** The parameter a tagging call names (`ResourceType: Parameter`, `ResourceId`: its name). */
  function tagTarget(input: Input, ctx: RequestContext, action: string): ParameterRecord {
    const type = str(input, 'ResourceType', true)
    if (type !== 'Parameter') {
      const known = [
        'Document',
        'ManagedInstance',
        'MaintenanceWindow',
        'PatchBaseline',
        'OpsItem',
        'OpsMetadata',
        'Automation',
        'Association',
      ]
      if (known.includes(type))
        throw unsupported(
          `Tagging ${type} resources is not supported by the crosspipe sandbox: it serves Parameter Store only.`,
        )
      throw invalidResourceType()
    }
    const name = nameOf(ctx, str(input, 'ResourceId', true))
    allow(ctx, action, parameterArn(ctx, name))
    const p = store.parameters.get(scope(ctx), name)
    if (!p) throw invalidResourceId()
    return p
  }

  return {
    name: 'ssm',
    signingName: 'ssm',
    protocol: 'json',
    jsonVersion: '1.1',
    targetPrefix: 'AmazonSSM',
    actions: {
      PutParameter: putParameter,
      GetParameter: getParameter,
      GetParameters: getParameters,
      GetParametersByPath: getParametersByPath,
      GetParameterHistory: getParameterHistory,
      DescribeParameters: describeParameters,
      DeleteParameter: deleteParameter,
      DeleteParameters: deleteParameters,
      AddTagsToResource: (input, ctx) => {
        const p = tagTarget(input, ctx, 'AddTagsToResource')
        const tags = tagsOf(input, 'Tags')
        if (tags.length === 0)
          throw validation(
            "1 validation error detected: Value '[]' at 'tags' failed to satisfy constraint: Member must have length greater than or equal to 1",
          )
        const merged = new Map(p.tags.map((t) => [t.Key, t.Value]))
        for (const t of tags) merged.set(t.Key, t.Value)
        if (merged.size > MAX_TAGS) throw tooManyTags()
        p.tags = [...merged].map(([Key, Value]) => ({ Key, Value }))
        store.parameters.put(scope(ctx), p.name, p)
        return {}
      },
      RemoveTagsFromResource: (input, ctx) => {
        const p = tagTarget(input, ctx, 'RemoveTagsFromResource')
        const keys = new Set(strings(input, 'TagKeys', true))
        p.tags = p.tags.filter((t) => !keys.has(t.Key))
        store.parameters.put(scope(ctx), p.name, p)
        return {}
      },
      ListTagsForResource: (input, ctx) => {
        const p = tagTarget(input, ctx, 'ListTagsForResource')
        return { TagList: p.tags }
      },
    },
  }
}
