/**
 * An application template's resources as the deployment role meets them, before deployment:
 * names resolved where the template fixes them (literals, `Ref` of parameters and pseudo
 * parameters, `Fn::Sub`, `Fn::Join`), with `*` for the parts known only at deployment, and the
 * deployment role statements derived from them through the resource call catalogue.
 * Pure: synth derives the statements, check evaluates the calls.
 *
 * Intrinsic functions: https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference.html
 * Pseudo parameters: https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/pseudo-parameter-reference.html
 */
import {
  alwaysTagsOnCreate,
  generatedNamePattern,
  handlerActions,
  isTagAction,
  nameProperty,
  needsNoPermissions,
  onlyOnOthers,
  resourceArn,
  resourceCalls,
  withStackTags,
} from './resource-calls.js'
import type { ResourceEnv } from './resource-calls.js'

/** Where the stack is deployed; any field may be a `${AWS::…}` placeholder for `Fn::Sub`. */
export interface StackEnv {
  readonly partition: string
  readonly account: string
  readonly region: string
  readonly stackName: string
}

/** One resource of an application template, resolved as far as it can be before deployment. */
export interface AppResource {
  readonly logicalId: string
  readonly type: string
  /** Properties with known text resolved; unknown parts are `*`. */
  readonly props: Readonly<Record<string, unknown>>
  /** The name (or name pattern) of the resource. */
  readonly name: string
  /** Whether the template names it (otherwise CloudFormation generates the name). */
  readonly named: boolean
  readonly env: ResourceEnv
}

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Types whose `Ref` is their name (resource pages, "Return values"). */
const REF_IS_NAME = new Set([
  'AWS::DynamoDB::Table',
  'AWS::KMS::Alias',
  'AWS::Logs::LogGroup',
  'AWS::IAM::Role',
  'AWS::S3::Bucket',
  'AWS::SSM::Parameter',
  'AWS::Lambda::Function',
])

/**
 * Resolves the resources of a parsed template body (intrinsics as `{ Ref }`, `{ 'Fn::Sub' }`…).
 *
 * @param parameters the stage's parameter values; a template parameter without one uses its Default
 */
export function appResources(
  body: unknown,
  stack: StackEnv,
  parameters: Readonly<Record<string, string>> = {},
): AppResource[] {
  const t = isObj(body) ? body : {}
  const resources = isObj(t.Resources) ? t.Resources : {}
  const params: Record<string, string> = {}
  for (const [k, v] of Object.entries(isObj(t.Parameters) ? t.Parameters : {}))
    if (isObj(v) && (typeof v.Default === 'string' || typeof v.Default === 'number'))
      params[k] = String(v.Default)
  Object.assign(params, parameters)
  const pseudo: Record<string, string> = {
    'AWS::StackName': stack.stackName,
    'AWS::AccountId': stack.account,
    'AWS::Region': stack.region,
    'AWS::Partition': stack.partition,
    'AWS::URLSuffix': '*',
    'AWS::StackId': '*',
    'AWS::NoValue': '',
  }
  const names = new Map<string, string>()
  const envOf = (logicalId: string): ResourceEnv => ({ ...stack, logicalId })
  const nameOf = (id: string, seen: Set<string>): string => {
    const cached = names.get(id)
    if (cached !== undefined) return cached
    const r = resources[id]
    if (!isObj(r) || typeof r.Type !== 'string') return '*'
    const prop = nameProperty(r.Type)
    const given = prop && isObj(r.Properties) ? r.Properties[prop] : undefined
    const n =
      given !== undefined && !seen.has(id)
        ? text(given, new Set([...seen, id]))
        : generatedNamePattern(r.Type, envOf(id))
    names.set(id, n)
    return n
  }
  const text = (v: unknown, seen: Set<string>): string => {
    if (typeof v === 'string') return v
    if (typeof v === 'number' || typeof v === 'boolean') return String(v)
    if (!isObj(v)) return '*'
    if (typeof v.Ref === 'string') {
      const ref = v.Ref
      if (ref in pseudo) return pseudo[ref]!
      if (ref in params) return params[ref]!
      const r = resources[ref]
      if (isObj(r) && typeof r.Type === 'string' && REF_IS_NAME.has(r.Type)) return nameOf(ref, seen)
      return '*'
    }
    const sub = v['Fn::Sub']
    if (sub !== undefined) {
      const list: readonly unknown[] = Array.isArray(sub) ? (sub as unknown[]) : [sub]
      const tpl = list[0]
      const vars: Obj = isObj(list[1]) ? list[1] : {}
      if (typeof tpl !== 'string') return '*'
      return tpl.replace(/\$\{([^}!][^}]*)\}/g, (_, name: string) => {
        if (name in vars) return text(vars[name], seen)
        const [id, att] = name.split('.')
        if (att) return text({ 'Fn::GetAtt': [id, att] }, seen)
        return text({ Ref: name }, seen)
      })
    }
    const join = v['Fn::Join']
    if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1]))
      return (join[1] as unknown[]).map((x) => text(x, seen)).join(join[0])
    const att = v['Fn::GetAtt']
    const parts: readonly unknown[] = Array.isArray(att)
      ? (att as unknown[])
      : typeof att === 'string'
        ? att.split('.')
        : []
    const [id, attr] = parts
    if (typeof id === 'string' && attr === 'Arn') {
      const r = resources[id]
      if (isObj(r) && typeof r.Type === 'string')
        return resourceArn(r.Type, envOf(id), nameOf(id, seen)) ?? '*'
    }
    return '*'
  }
  const deep = (v: unknown, seen: Set<string>): unknown => {
    if (Array.isArray(v)) return v.map((x) => deep(x, seen))
    if (!isObj(v)) return v
    const keys = Object.keys(v)
    if (keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::'))) return text(v, seen)
    return Object.fromEntries(keys.map((k) => [k, deep(v[k], seen)]))
  }
  return Object.entries(resources).flatMap(([logicalId, r]) => {
    if (!isObj(r) || typeof r.Type !== 'string') return []
    const prop = nameProperty(r.Type)
    const props = deep(isObj(r.Properties) ? r.Properties : {}, new Set([logicalId])) as Obj
    return [
      {
        logicalId,
        type: r.Type,
        props,
        name: nameOf(logicalId, new Set()),
        named: prop !== undefined && props[prop] !== undefined,
        env: envOf(logicalId),
      },
    ]
  })
}

const hasTags = (p: Readonly<Record<string, unknown>>): boolean => {
  const t = p.Tags
  return Array.isArray(t) ? t.length > 0 : isObj(t) ? Object.keys(t).length > 0 : t !== undefined
}

/** A derived statement of the deployment role. */
export interface DerivedStatement {
  readonly Sid: string
  readonly Effect: 'Allow'
  readonly Action: string[]
  readonly Resource: string[]
  readonly Condition?: Record<string, Record<string, string>>
}

/** The result of {@link deriveStatements}: the statements and what the user should know. */
export interface DerivedPermissions {
  readonly statements: DerivedStatement[]
  /** Sentences for synth's output: what was left out or could not be scoped, and why. */
  readonly notes: string[]
}

/** What the derivation knows of the stack beyond its template. */
export interface DeriveOptions {
  /**
   * The stack has tags, or may have (a template configuration file whose `Tags` are known only
   * at deployment): CloudFormation then tags every resource with them.
   */
  readonly stackTagged?: boolean
}

/**
 * The deployment role's statements for a template's resources: per resource, its handlers'
 * own-service permissions on its ARN (its name, or `<stack>-*` when CloudFormation names it), and
 * the calls it makes on other resources (`iam:PassRole` only of roles the template creates, with
 * `iam:PassedToService`). Types the catalogue cannot scope get their handler permissions on `*`,
 * said in a note; a type without known permissions is an error for the caller to report.
 *
 * @returns the statements, or `unknownTypes` listing types with no known permissions
 */
export function deriveStatements(
  resources: readonly AppResource[],
  opts: DeriveOptions = {},
): DerivedPermissions & { readonly unknownTypes: string[] } {
  const statements: DerivedStatement[] = []
  const notes: string[] = []
  const unknownTypes: string[] = []
  const onOthers = new Set<string>()
  const createdRoles = new Set(
    resources.filter((r) => r.type === 'AWS::IAM::Role').map((r) => resourceArn(r.type, r.env, r.name)!),
  )
  for (const r of resources) {
    if (needsNoPermissions(r.type)) continue
    const actions = handlerActions(r.type)
    if (!actions) {
      unknownTypes.push(r.type)
      continue
    }
    const arn = resourceArn(r.type, r.env, r.name)
    if (!arn) {
      statements.push({
        Sid: r.logicalId,
        Effect: 'Allow',
        Action: [...actions.own, ...actions.other],
        Resource: ['*'],
      })
      notes.push(
        `${r.logicalId} (${r.type}): crosspipe cannot scope this type to its name; its handler permissions are allowed on "*"`,
      )
      continue
    }
    // With the stack's tags, as CloudFormation passes them to the handlers (and check evaluates).
    const props = opts.stackTagged ? withStackTags(r.type, r.props, { '*': '*' }) : r.props
    const calls = [
      ...(resourceCalls(r.type, 'create', props, r.env, r.name) ?? []),
      ...(resourceCalls(r.type, 'update', props, r.env, r.name) ?? []),
      ...(resourceCalls(r.type, 'delete', props, r.env, r.name) ?? []),
    ]
    // The resource's own statement: its handlers' actions of its service, on it, but for the
    // actions the catalogue makes only on other resources (kms:CreateKey on "*", iam:AttachRolePolicy
    // of a managed policy on the role), which get statements on those; and the tag actions, in a
    // statement of their own, only when the resource is tagged: by the template, by the stack's
    // tags, or always by its create handler (resource-calls.ts, withStackTags).
    const here = new Set(calls.filter((c) => c.resource === arn).map((c) => c.action))
    const elsewhere = new Set(calls.filter((c) => c.resource !== arn).map((c) => c.action))
    const own = actions.own.filter((a) => !isTagAction(a) && (here.has(a) || !elsewhere.has(a)))
    const tagging = actions.own.filter((a) => isTagAction(a) && (here.has(a) || !elsewhere.has(a)))
    if (!onlyOnOthers(r.type))
      statements.push({ Sid: r.logicalId, Effect: 'Allow', Action: own, Resource: [arn] })
    const tagged = hasTags(r.props) || opts.stackTagged === true || alwaysTagsOnCreate(r.type)
    if (tagging.length && tagged && !onlyOnOthers(r.type))
      statements.push({ Sid: `${r.logicalId}Tags`, Effect: 'Allow', Action: tagging, Resource: [arn] })
    const other = new Map<string, { actions: string[]; resource: string; context?: Record<string, string> }>()
    for (const c of calls) {
      if (c.resource === arn && !onlyOnOthers(r.type)) continue
      // A tag call elsewhere (kms:TagResource of CreateKey) only when the resource is tagged.
      if (isTagAction(c.action) && !tagged) continue
      if (c.action === 's3:GetObject' && c.resource.includes(':::*')) {
        notes.push(
          `${r.logicalId}: reads its code from a bucket known only at deployment (the build artifact?); give the stage readArtifacts: true, or a statement for that bucket`,
        )
        continue
      }
      if (c.action === 'iam:PassRole' && !createdRoles.has(c.resource)) {
        notes.push(
          `${r.logicalId}: passes role ${c.resource}, which the template does not create; add iam:PassRole for it to deployPermissions.statements if it is meant`,
        )
        continue
      }
      // One statement per resource (and request context): its actions together.
      const key = `${c.resource} ${JSON.stringify(c.context ?? {})}`
      const prev = other.get(key)
      if (prev) {
        if (!prev.actions.includes(c.action)) prev.actions.push(c.action)
      } else
        other.set(key, {
          actions: [c.action],
          resource: c.resource,
          ...(c.context ? { context: { ...c.context } } : {}),
        })
    }
    let n = 0
    for (const c of other.values()) {
      const cond = c.context ? { StringEquals: Object.fromEntries(Object.entries(c.context)) } : undefined
      const sid = `${r.logicalId}${c.actions[0]!.split(':')[1]}${n++ ? n : ''}`.replace(/[^A-Za-z0-9]/g, '')
      onOthers.add(sid)
      statements.push({
        Sid: sid,
        Effect: 'Allow',
        Action: c.actions,
        Resource: [c.resource],
        ...(cond ? { Condition: cond } : {}),
      })
    }
    const left = actions.other.filter((a) => ![...other.values()].some((c) => c.actions.includes(a)))
    if (left.length)
      notes.push(
        `${r.logicalId}: not derived, only needed with properties the template does not use: ${left.join(', ')}`,
      )
    if (!r.named && !onlyOnOthers(r.type))
      notes.push(`${r.logicalId}: named by CloudFormation, so scoped to ${arn}`)
  }
  // A call on another resource of the template that its own statement already allows (an
  // inline policy put in a role the template creates) needs no statement of its own.
  const own = statements.filter((x) => !onOthers.has(x.Sid) && !x.Condition)
  const covered = (action: string, resource: string): boolean =>
    own.some((x) => x.Resource.length === 1 && x.Resource[0] === resource && x.Action.includes(action))
  const kept = statements.flatMap((x) => {
    if (!onOthers.has(x.Sid) || x.Condition) return [x]
    const left = x.Action.filter((a) => !covered(a, x.Resource[0]!))
    return left.length ? [{ ...x, Action: left }] : []
  })
  return { statements: kept, notes, unknownTypes: [...new Set(unknownTypes)] }
}
