/**
 * What every stack operation starts from: who calls and where ({@link OpContext}), the engine's
 * shared services ({@link EngineEnv}), and a template evaluated against its parameters
 * ({@link Prepared}) with the intrinsic-function view of a stack that provisioning resolves
 * properties and outputs with.
 */
import { randomUUID } from 'node:crypto'
import { dnsSuffix } from '../../../iam/aws-facts.js'
import { isAwsError } from '../../errors.js'
import { templateError, validationError } from './errors.js'
import type { StackEvents } from './events.js'
import { dependencies, getAttPairs, pruneIf } from './graph.js'
import {
  UNKNOWN,
  evaluateConditions,
  resolveValue,
  type IntrinsicContext,
  type ParameterValue,
} from './intrinsics.js'
import { resolveParameters, type ParameterInput, type StoredParameter } from './parameters.js'
import type { AwsCalls, ProviderRegistry } from '../../cfn-providers.js'
import { checkRules } from './rules.js'
import type { ResourceSpec } from './spec.js'
import type { CfnStore, Scope, StackRecord } from './store.js'
import { LANGUAGE_EXTENSIONS, loadTemplate, transformsOf, type Template } from './template.js'

/** Who called: the principal and whatever the host needs to act for it. */
export interface Caller {
  readonly principal: string
  readonly account: string
  readonly partition: string
  /** The host's own representation (the sandbox's Identity). */
  readonly handle?: unknown
}

/** What the engine needs from the sandbox around it. */
export interface EngineHost {
  /**
   * The calls provisioning makes. With a RoleARN: checks that the caller may `iam:PassRole` it
   * and that CloudFormation may assume it, and returns calls made as that role's session; without
   * one, calls made as the caller. Throws the AwsError the API call should return.
   */
  deployer(opts: {
    readonly caller: Caller
    readonly roleArn?: string
    readonly scope: Scope
  }): Promise<AwsCalls>
  /** Reads a template from a TemplateURL (an object in the sandbox's S3), as the caller. */
  readTemplateUrl(opts: {
    readonly caller: Caller
    readonly url: string
    readonly scope: Scope
  }): Promise<string>
}

/** Who and where: every engine call gets one. */
export interface OpContext {
  readonly scope: Scope
  readonly partition: string
  readonly caller: Caller
}

/** The engine's services that every operation shares. */
export interface EngineEnv {
  readonly store: CfnStore
  readonly providers: ProviderRegistry
  readonly host: EngineHost
  /** The resource specification lookup. */
  readonly specOf: (type: string) => Promise<ResourceSpec | undefined>
  readonly now: () => Date
  readonly events: StackEvents
  /** Stacks whose update the caller cancelled (CancelUpdateStack): no new resource starts. */
  readonly cancelled: Set<string>
}

/** A template evaluated against parameters: what every operation starts from. */
export interface Prepared {
  readonly body: string
  readonly template: Template
  readonly parameters: Map<string, ParameterValue>
  readonly stored: StoredParameter[]
  readonly conditions: Map<string, boolean>
  readonly active: Set<string>
  readonly deps: Map<string, Set<string>>
}

/** A failure of one resource, with the reason its event shows. */
export class ResourceFailure extends Error {}

/** True for a plain object. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/** Structural equality of JSON values (key order matters, as for stored properties). */
export function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

/** `AWS::S3::Bucket` → `S3`, the service name handler messages carry. */
function serviceOf(type: string): string {
  return type.split('::')[1] ?? type
}

/** The registry handler error codes: https://docs.aws.amazon.com/cloudformation-cli/latest/userguide/resource-type-test-contract-errors.html */
function handlerErrorCode(code: string): string {
  if (/AccessDenied|NotAuthorized|Unauthorized/i.test(code)) return 'AccessDenied'
  if (/AlreadyExists|EntityAlreadyExists|BucketAlreadyOwnedByYou|BucketAlreadyExists/.test(code))
    return 'AlreadyExists'
  if (/NotFound|NoSuch/.test(code)) return 'NotFound'
  if (/Throttl/.test(code)) return 'Throttling'
  if (/LimitExceeded/.test(code)) return 'ServiceLimitExceeded'
  if (/Validation|Invalid|Malformed/.test(code)) return 'InvalidRequest'
  return 'GeneralServiceException'
}

/** The reason a failed resource's event shows, in the registry handlers' words. */
export function failureReason(e: unknown, type: string): string {
  if (e instanceof ResourceFailure) return e.message
  if (isAwsError(e)) {
    return `Resource handler returned message: "${e.message} (Service: ${serviceOf(type)}, Status Code: ${e.status}, Request ID: ${randomUUID()})" (RequestToken: ${randomUUID()}, HandlerErrorCode: ${handlerErrorCode(e.code)})`
  }
  return `Internal Failure: ${e instanceof Error ? e.message : String(e)}`
}

/** The exports of a region: name, value and exporting stack, sorted by name. */
export function listExports(
  store: CfnStore,
  scope: Scope,
): { name: string; value: string; stackId: string }[] {
  const out: { name: string; value: string; stackId: string }[] = []
  for (const s of store.summaries(scope)) {
    if (s.status === 'DELETE_COMPLETE' || s.status === 'REVIEW_IN_PROGRESS') continue
    for (const e of s.exports) out.push({ name: e.name, value: e.value, stackId: s.stackId })
  }
  return out.sort((a, b) => a.name.localeCompare(b.name))
}

/** Names of the exports a stack imports (recorded at its last successful operation). */
export function importsOf(s: StackRecord): string[] {
  return s.imports ?? []
}

/** Names of live stacks (other than `except`) that import an export. */
export function importers(store: CfnStore, scope: Scope, exportName: string, except: string): string[] {
  return store
    .summaries(scope)
    .filter((s) => s.stackId !== except && s.status !== 'DELETE_COMPLETE' && s.imports.includes(exportName))
    .map((s) => s.stackName)
}

/** Options of {@link intrinsicContext}: the stack a template is evaluated for. */
export interface IntrinsicOptions {
  readonly template: Template
  readonly parameters: ReadonlyMap<string, ParameterValue>
  readonly conditions: ReadonlyMap<string, boolean>
  readonly stackName: string
  readonly stackId: string
  readonly notificationArns: readonly string[]
  /** A resource's `Ref` value (no `attr`) or `Fn::GetAtt` attribute. */
  readonly resource: (id: string, attr?: string) => unknown
  /** Collects the names of the exports `Fn::ImportValue` reads. */
  readonly imports?: Set<string>
}

/** The evaluator's view of a stack: parameters, pseudo parameters, resources, exports. */
export function intrinsicContext(env: EngineEnv, op: OpContext, o: IntrinsicOptions): IntrinsicContext {
  return {
    parameters: o.parameters,
    conditions: o.conditions,
    mappings: o.template.Mappings,
    languageExtensions: transformsOf(o.template as unknown as Record<string, unknown>).includes(
      LANGUAGE_EXTENSIONS,
    ),
    region: op.scope.region,
    pseudo: {
      'AWS::AccountId': op.scope.account,
      'AWS::Region': op.scope.region,
      'AWS::Partition': op.partition,
      'AWS::URLSuffix': dnsSuffix(op.partition),
      'AWS::StackName': o.stackName,
      'AWS::StackId': o.stackId,
      'AWS::NotificationARNs': o.notificationArns,
    },
    isResource: (name) => name in o.template.Resources,
    ref: (id) => o.resource(id),
    getAtt: (id, attr) => o.resource(id, attr),
    importValue: (name) => {
      o.imports?.add(name)
      const e = listExports(env.store, op.scope).find((x) => x.name === name)
      if (!e) throw validationError(`No export named ${name} found.`)
      return e.value
    },
  }
}

/** {@link intrinsicContext} for a stack's prepared template, its resources as recorded. */
export function stackIntrinsics(
  env: EngineEnv,
  op: OpContext,
  stack: StackRecord,
  prepared: Prepared,
  extra: { readonly unknown?: ReadonlySet<string>; readonly imports?: Set<string> } = {},
): IntrinsicContext {
  return intrinsicContext(env, op, {
    template: prepared.template,
    parameters: prepared.parameters,
    conditions: prepared.conditions,
    stackName: stack.stackName,
    stackId: stack.stackId,
    notificationArns: stack.notificationArns,
    resource: resourceValues(stack, extra.unknown),
    ...(extra.imports ? { imports: extra.imports } : {}),
  })
}

/** Resource values from a stack's records (provisioning: every referenced resource is done). */
export function resourceValues(
  stack: StackRecord,
  unknown: ReadonlySet<string> = new Set(),
): (id: string, attr?: string) => unknown {
  return (id, attr) => {
    if (unknown.has(id)) return UNKNOWN
    const r = stack.resources[id]
    if (!r || r.physicalId === undefined) {
      throw new ResourceFailure(`Resource ${id} is not available (it has not been created)`)
    }
    if (attr === undefined) return r.ref ?? r.physicalId
    if (!(attr in r.attributes)) {
      throw new ResourceFailure(
        `Attribute '${attr}' of ${r.type} is not supported by the crosspipe sandbox (resource ${id})`,
      )
    }
    return r.attributes[attr]
  }
}

/** Options of {@link prepare}. */
export interface PrepareOptions {
  readonly body: string
  readonly given: readonly ParameterInput[]
  /** The stack's parameters, for `UsePreviousValue`. */
  readonly previous: readonly StoredParameter[] | undefined
  readonly stackName: string
  readonly stackId: string
}

/** Evaluates a template text with parameters: the checks every operation makes before it starts. */
export async function prepare(env: EngineEnv, op: OpContext, o: PrepareOptions): Promise<Prepared> {
  const template = loadTemplate(o.body)
  const types = [...new Set(Object.values(template.Resources).map((r) => r.Type))]
  const specs = await Promise.all(types.map(async (t) => [t, await env.specOf(t)] as const))
  const unknownTypes = specs.filter(([t, s]) => !s && !env.providers.get(t)).map(([t]) => t)
  if (unknownTypes.length) throw templateError(`Unrecognized resource types: [${unknownTypes.join(', ')}]`)
  const specByType = new Map(specs)
  for (const [res, attr] of getAttPairs({ r: template.Resources, o: template.Outputs })) {
    const type = template.Resources[res]?.Type
    const spec = type !== undefined ? specByType.get(type) : undefined
    if (spec && !spec.attributes.includes(attr)) {
      throw validationError(
        `Template error: resource ${res} does not support attribute type ${attr} in Fn::GetAtt`,
      )
    }
  }
  const { values, stored } = await resolveParameters({
    template,
    given: o.given,
    previous: o.previous,
    readSsm: async (name) => {
      // CloudFormation reads SSM parameter types from the SSM service with the caller's
      // credentials: a caller not allowed ssm:GetParameters gets that denial as the call's
      // ValidationError.
      const calls = await env.host.deployer({ caller: op.caller, scope: op.scope })
      let found: { Parameters?: { Value?: string }[] }
      try {
        found = (await calls.json('ssm', 'GetParameters', { Names: [name] })) as typeof found
      } catch (e) {
        throw isAwsError(e) ? validationError(e.message) : e
      }
      const p = found.Parameters?.[0]
      if (p?.Value === undefined)
        throw validationError(`Unable to fetch parameters [${name}] from parameter store for this account.`)
      return p.Value
    },
  })
  const base = intrinsicContext(env, op, {
    template,
    parameters: values,
    conditions: new Map(),
    stackName: o.stackName,
    stackId: o.stackId,
    notificationArns: [],
    resource: () => {
      throw templateError(
        'Unresolved dependencies. Cannot reference resources in the Conditions block of the template',
      )
    },
  })
  checkRules(template.Rules, base)
  const conditions = evaluateConditions(template.Conditions, base)
  const active = new Set(
    Object.entries(template.Resources)
      .filter(([, r]) => r.Condition === undefined || conditions.get(r.Condition) === true)
      .map(([id]) => id),
  )
  const deps = dependencies(template, active, conditions)
  return { body: o.body, template, parameters: values, stored, conditions, active, deps }
}

/**
 * Resolves every `Fn::ImportValue` in a value (untaken `Fn::If` branches removed): with a context
 * whose `importValue` throws for a missing export, this is CreateStack's early check; with one
 * that collects names, it records what a stack imports.
 */
export function visitImports(
  value: unknown,
  conditions: ReadonlyMap<string, boolean>,
  ctx: IntrinsicContext,
): void {
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(visit)
    else if (isObject(v)) {
      const keys = Object.keys(v)
      if (keys.length === 1 && keys[0] === 'Fn::ImportValue') {
        resolveValue(v, ctx)
        return
      }
      Object.values(v).forEach(visit)
    }
  }
  visit(pruneIf(value, conditions))
}

/** Logical ids in dependency order (dependencies first), ties by name. */
export function topoOrder(
  ids: ReadonlySet<string>,
  deps: ReadonlyMap<string, ReadonlySet<string>>,
): string[] {
  const out: string[] = []
  const seen = new Set<string>()
  const visit = (id: string): void => {
    if (seen.has(id)) return
    seen.add(id)
    for (const d of [...(deps.get(id) ?? [])].sort()) if (ids.has(d)) visit(d)
    out.push(id)
  }
  for (const id of [...ids].sort()) visit(id)
  return out
}
