/**
 * The CloudFormation engine: stack operations (create, update, delete, change sets) as the state
 * machine AWS documents, over a {@link CfnStore}, provisioning through {@link ResourceProvider}s
 * with the identity the {@link EngineHost} gives for the stack (its RoleARN session, or the
 * caller). It knows nothing of HTTP: api.ts maps awsQuery requests onto these methods.
 *
 * API calls validate synchronously (template, parameters, capabilities, states) and return; the
 * work then runs in the background, one operation at a time per stack, independent resources
 * concurrently. Behaviour and sources: SPEC.md.
 */
import { randomUUID } from 'node:crypto'
import { formatArn, parseArn } from '../../../iam/arn.js'
import { dnsSuffix, QUOTAS } from '../../../iam/aws-facts.js'
import { isAwsError } from '../../gateway/errors.js'
import {
  alreadyExists,
  changeSetNotFound,
  invalidChangeSetStatus,
  stackNotFound,
  templateError,
  validationError,
} from './errors.js'
import { dependencies, getAttPairs, pruneIf } from './graph.js'
import {
  NO_VALUE,
  UNKNOWN,
  containsUnknown,
  evaluateConditions,
  resolveValue,
  type IntrinsicContext,
  type ParameterValue,
} from './intrinsics.js'
import { resolveParameters, type ParameterInput, type StoredParameter } from './parameters.js'
import { checkRules } from './rules.js'
import { parseStackPolicy, stackPolicyDenial } from './stack-policy.js'
import type { AwsCalls, ProviderContext, ProviderRegistry, ResourceProvider } from './providers/types.js'
import {
  replacementFor,
  resourceSpec as defaultResourceSpec,
  validateProperties,
  withStackTags,
  type ResourceSpec,
} from './spec.js'
import type {
  CfnStore,
  ChangeSetRecord,
  OutputState,
  ResourceChangeRecord,
  ResourceState,
  ResourceStatus,
  Scope,
  StackEvent,
  StackRecord,
  StackStatus,
  Tag,
} from './store.js'
import {
  LANGUAGE_EXTENSIONS,
  checkCapabilities,
  loadTemplate,
  transformsOf,
  type Template,
} from './template.js'

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

/** Options for {@link CloudFormationEngine}. */
export interface EngineOptions {
  readonly store: CfnStore
  readonly providers: ProviderRegistry
  readonly host: EngineHost
  /** The resource specification lookup (default: `@aws-cdk/aws-service-spec`). */
  readonly resourceSpec?: (type: string) => Promise<ResourceSpec | undefined>
  readonly now?: () => Date
}

/** The template source of a request: a body, a URL, or the stack's current template. */
export interface TemplateSource {
  readonly templateBody?: string
  readonly templateUrl?: string
  readonly usePreviousTemplate?: boolean
}

/** CreateStack / UpdateStack input (API_CreateStack.html, API_UpdateStack.html). */
export interface StackInput extends TemplateSource {
  readonly stackName: string
  readonly parameters?: readonly ParameterInput[]
  readonly capabilities?: readonly string[]
  readonly roleArn?: string
  readonly notificationArns?: readonly string[]
  readonly tags?: readonly Tag[]
  readonly disableRollback?: boolean
  readonly onFailure?: 'DO_NOTHING' | 'ROLLBACK' | 'DELETE'
  readonly timeoutInMinutes?: number
  readonly enableTerminationProtection?: boolean
  /** CreateStack/UpdateStack `StackPolicyBody`: the policy the stack keeps. */
  readonly stackPolicyBody?: string
  /** UpdateStack `StackPolicyDuringUpdateBody`: overrides the stack policy for this update only. */
  readonly stackPolicyDuringUpdateBody?: string
  readonly clientRequestToken?: string
}

/** CreateChangeSet input (API_CreateChangeSet.html). */
export interface ChangeSetInput extends StackInput {
  readonly changeSetName: string
  readonly changeSetType?: 'CREATE' | 'UPDATE'
  readonly description?: string
}

/** Who and where: every engine call gets one. */
export interface OpContext {
  readonly scope: Scope
  readonly partition: string
  readonly caller: Caller
}

/** A template evaluated against parameters: what every operation starts from. */
interface Prepared {
  readonly body: string
  readonly template: Template
  readonly parameters: Map<string, ParameterValue>
  readonly stored: StoredParameter[]
  readonly conditions: Map<string, boolean>
  readonly active: Set<string>
  readonly deps: Map<string, Set<string>>
}

/** A failure of one resource, with the reason its event shows. */
class ResourceFailure extends Error {}

const UPDATABLE: ReadonlySet<StackStatus> = new Set([
  'CREATE_COMPLETE',
  'UPDATE_COMPLETE',
  'UPDATE_ROLLBACK_COMPLETE',
])

const STACK_NAME = /^[a-zA-Z][-a-zA-Z0-9]*$/

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

function same(a: unknown, b: unknown): boolean {
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

/** The CloudFormation engine. */
export class CloudFormationEngine {
  private readonly store: CfnStore
  private readonly providers: ProviderRegistry
  private readonly host: EngineHost
  private readonly specOf: (type: string) => Promise<ResourceSpec | undefined>
  private readonly now: () => Date
  /** The tail of each stack's operation chain: one operation at a time per stack. */
  private readonly ops = new Map<string, Promise<void>>()
  private lastEventTime = 0
  /** Stacks whose update the caller cancelled (CancelUpdateStack): no new resource starts. */
  private readonly cancelled = new Set<string>()
  /** The stack policy that governs each running update (StackPolicyDuringUpdateBody or the stack's). */
  private readonly updatePolicies = new Map<string, string | undefined>()

  constructor(opts: EngineOptions) {
    this.store = opts.store
    this.providers = opts.providers
    this.host = opts.host
    this.specOf = opts.resourceSpec ?? defaultResourceSpec
    this.now = opts.now ?? (() => new Date())
    this.recover()
  }

  /** Resolves when every background operation has finished (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.ops.size) await Promise.allSettled([...this.ops.values()])
  }

  // ---------------------------------------------------------------- reads

  /** A stack by name (live stacks only) or by stack id (also deleted ones), or undefined. */
  findStack(scope: Scope, nameOrId: string): StackRecord | undefined {
    if (nameOrId.startsWith('arn:')) return this.store.getStack(scope, nameOrId)
    return this.store
      .listStacks(scope)
      .find((s) => s.stackName === nameOrId && s.status !== 'DELETE_COMPLETE')
  }

  /** Like {@link findStack}, or `Stack with id X does not exist`. */
  getStack(scope: Scope, nameOrId: string): StackRecord {
    const s = this.findStack(scope, nameOrId)
    if (!s) throw stackNotFound(nameOrId)
    return s
  }

  /** DescribeStacks: one stack, or every live stack (not DELETE_COMPLETE), newest first. */
  describeStacks(scope: Scope, nameOrId?: string): StackRecord[] {
    if (nameOrId !== undefined) return [this.getStack(scope, nameOrId)]
    return this.store
      .listStacks(scope)
      .filter((s) => s.status !== 'DELETE_COMPLETE')
      .sort((a, b) => b.creationTime.localeCompare(a.creationTime))
  }

  /** ListStacks: every stack including deleted ones, optionally filtered by status. */
  listStacks(scope: Scope, statuses: readonly string[] = []): StackRecord[] {
    return this.store
      .listStacks(scope)
      .filter((s) => statuses.length === 0 || statuses.includes(s.status))
      .sort((a, b) => b.creationTime.localeCompare(a.creationTime))
  }

  /** DescribeStackEvents, newest first. */
  events(scope: Scope, nameOrId: string): StackEvent[] {
    return this.store.events(scope, this.getStack(scope, nameOrId).stackId)
  }

  /** The exports of a region: name, value and exporting stack. */
  listExports(scope: Scope): { name: string; value: string; stackId: string }[] {
    const out: { name: string; value: string; stackId: string }[] = []
    for (const s of this.store.listStacks(scope)) {
      if (s.status === 'DELETE_COMPLETE' || s.status === 'REVIEW_IN_PROGRESS') continue
      for (const o of s.outputs)
        if (o.exportName !== undefined) out.push({ name: o.exportName, value: o.value, stackId: s.stackId })
    }
    return out.sort((a, b) => a.name.localeCompare(b.name))
  }

  /** The template of a stack (or of a change set). */
  getTemplate(scope: Scope, nameOrId: string, changeSetName?: string): string {
    if (changeSetName !== undefined) return this.getChangeSet(scope, changeSetName, nameOrId).templateBody
    return this.getStack(scope, nameOrId).templateBody
  }

  /** Reads a template from a source, enforcing the size limits of API_CreateStack.html. */
  async templateText(op: OpContext, src: TemplateSource, stack?: StackRecord): Promise<string> {
    const given = [
      src.templateBody !== undefined,
      src.templateUrl !== undefined,
      src.usePreviousTemplate === true,
    ].filter(Boolean).length
    if (given === 0) throw validationError('Either Template URL or Template Body must be specified.')
    if (given > 1)
      throw validationError('Specify exactly one of TemplateBody, TemplateURL or UsePreviousTemplate.')
    if (src.usePreviousTemplate) {
      if (!stack || !stack.templateBody)
        throw validationError('UsePreviousTemplate can only be used with an existing stack.')
      return stack.templateBody
    }
    if (src.templateBody !== undefined) {
      if (Buffer.byteLength(src.templateBody) > QUOTAS.cloudFormation.templateBodyBytes) {
        throw validationError(
          `1 validation error detected: Value at 'templateBody' failed to satisfy constraint: Member must have length less than or equal to ${QUOTAS.cloudFormation.templateBodyBytes}`,
        )
      }
      return src.templateBody
    }
    const text = await this.host.readTemplateUrl({
      caller: op.caller,
      url: src.templateUrl!,
      scope: op.scope,
    })
    if (Buffer.byteLength(text) > QUOTAS.cloudFormation.templateUrlBytes)
      throw validationError(
        `Template may not exceed ${QUOTAS.cloudFormation.templateUrlBytes} bytes in size.`,
      )
    return text
  }

  // ---------------------------------------------------------------- preparing

  /** Evaluates a template text with parameters: the checks every operation makes before it starts. */
  private async prepare(
    op: OpContext,
    body: string,
    given: readonly ParameterInput[],
    previous: readonly StoredParameter[] | undefined,
    stackName: string,
    stackId: string,
  ): Promise<Prepared> {
    const template = loadTemplate(body)
    const types = [...new Set(Object.values(template.Resources).map((r) => r.Type))]
    const specs = await Promise.all(types.map(async (t) => [t, await this.specOf(t)] as const))
    const unknownTypes = specs.filter(([t, s]) => !s && !this.providers.get(t)).map(([t]) => t)
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
    const local = this.store.local(op.scope)
    const { values, stored } = await resolveParameters({
      template,
      given,
      previous,
      readSsm: async (name) => {
        // CloudFormation reads SSM parameter types with the caller's credentials: a caller not
        // allowed ssm:GetParameters gets that denial as the call's ValidationError.
        const arn = formatArn({
          partition: op.partition,
          service: 'ssm',
          region: op.scope.region,
          account: op.scope.account,
          resource: `parameter/${name.replace(/^\//, '')}`,
        })
        const calls = await this.host.deployer({ caller: op.caller, scope: op.scope })
        try {
          await calls.authorize('ssm:GetParameters', arn)
        } catch (e) {
          throw isAwsError(e) ? validationError(e.message) : e
        }
        const p = local.get<{ value: string }>('ssm-parameter', name)
        if (!p)
          throw validationError(`Unable to fetch parameters [${name}] from parameter store for this account.`)
        return p.value
      },
    })
    const base = this.intrinsicContext(op, template, values, new Map(), stackName, stackId, [], () => {
      throw templateError(
        'Unresolved dependencies. Cannot reference resources in the Conditions block of the template',
      )
    })
    checkRules(template.Rules, base)
    const conditions = evaluateConditions(template.Conditions, base)
    const active = new Set(
      Object.entries(template.Resources)
        .filter(([, r]) => r.Condition === undefined || conditions.get(r.Condition) === true)
        .map(([id]) => id),
    )
    const deps = dependencies(template, active, conditions)
    return { body, template, parameters: values, stored, conditions, active, deps }
  }

  /** The evaluator's view of a stack: parameters, pseudo parameters, resources, exports. */
  private intrinsicContext(
    op: OpContext,
    template: Template,
    parameters: ReadonlyMap<string, ParameterValue>,
    conditions: ReadonlyMap<string, boolean>,
    stackName: string,
    stackId: string,
    notificationArns: readonly string[],
    resource: (id: string, attr?: string) => unknown,
    imports?: Set<string>,
  ): IntrinsicContext {
    return {
      parameters,
      conditions,
      mappings: template.Mappings,
      languageExtensions: transformsOf(template as unknown as Record<string, unknown>).includes(
        LANGUAGE_EXTENSIONS,
      ),
      region: op.scope.region,
      pseudo: {
        'AWS::AccountId': op.scope.account,
        'AWS::Region': op.scope.region,
        'AWS::Partition': op.partition,
        'AWS::URLSuffix': dnsSuffix(op.partition),
        'AWS::StackName': stackName,
        'AWS::StackId': stackId,
        'AWS::NotificationARNs': notificationArns,
      },
      isResource: (name) => name in template.Resources,
      ref: (id) => resource(id),
      getAtt: (id, attr) => resource(id, attr),
      importValue: (name) => {
        imports?.add(name)
        const e = this.listExports(op.scope).find((x) => x.name === name)
        if (!e) throw validationError(`No export named ${name} found.`)
        return e.value
      },
    }
  }

  /** Resource values from a stack's records (provisioning: every referenced resource is done). */
  private resourceValues(
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

  // ---------------------------------------------------------------- create

  /** CreateStack: validates, records CREATE_IN_PROGRESS and starts the work. */
  async createStack(op: OpContext, input: StackInput): Promise<string> {
    this.checkStackName(input.stackName)
    if (this.findStack(op.scope, input.stackName))
      throw alreadyExists(`Stack [${input.stackName}] already exists`)
    const body = await this.templateText(op, input)
    const stackId = this.newStackId(op, input.stackName)
    const prepared = await this.prepare(op, body, input.parameters ?? [], undefined, input.stackName, stackId)
    checkCapabilities(prepared.template, input.capabilities ?? [])
    if (input.stackPolicyBody !== undefined) parseStackPolicy(input.stackPolicyBody)
    this.checkImports(op, prepared, input.stackName, stackId, input.notificationArns ?? [])
    const calls = await this.host.deployer({ caller: op.caller, roleArn: input.roleArn, scope: op.scope })
    const stack = this.newStack(op, input, stackId, prepared)
    stack.status = 'CREATE_IN_PROGRESS'
    this.save(op, stack)
    this.stackEvent(op, stack, 'CREATE_IN_PROGRESS', 'User Initiated', input.clientRequestToken)
    const onFailure = input.onFailure ?? (input.disableRollback ? 'DO_NOTHING' : 'ROLLBACK')
    this.enqueue(stack.stackId, () => this.runCreate(op, stack.stackId, prepared, calls, onFailure))
    return stackId
  }

  private checkStackName(name: string): void {
    if (name.length > QUOTAS.cloudFormation.stackNameLength || !STACK_NAME.test(name)) {
      throw validationError(
        `1 validation error detected: Value '${name}' at 'stackName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*|arn:[-a-zA-Z0-9:/._+]*`,
      )
    }
  }

  private newStackId(op: OpContext, name: string): string {
    return formatArn({
      partition: op.partition,
      service: 'cloudformation',
      region: op.scope.region,
      account: op.scope.account,
      resource: `stack/${name}/${randomUUID()}`,
    })
  }

  private newStack(
    op: OpContext,
    input: StackInput,
    stackId: string,
    prepared: Prepared | undefined,
  ): StackRecord {
    return {
      stackId,
      stackName: input.stackName,
      account: op.scope.account,
      region: op.scope.region,
      partition: op.partition,
      status: 'CREATE_IN_PROGRESS',
      creationTime: this.now().toISOString(),
      templateBody: prepared?.body ?? '',
      description: prepared?.template.Description,
      parameters: prepared?.stored ?? [],
      capabilities: [...(input.capabilities ?? [])],
      roleArn: input.roleArn,
      notificationArns: [...(input.notificationArns ?? [])],
      tags: [...(input.tags ?? [])],
      disableRollback: input.disableRollback ?? input.onFailure === 'DO_NOTHING',
      enableTerminationProtection: input.enableTerminationProtection ?? false,
      stackPolicy: input.stackPolicyBody,
      timeoutInMinutes: input.timeoutInMinutes,
      resources: {},
      outputs: [],
      imports: [],
    }
  }

  /** Fails early, as CreateStack does, when the template imports an export that does not exist. */
  private checkImports(
    op: OpContext,
    prepared: Prepared,
    stackName: string,
    stackId: string,
    arns: readonly string[],
  ): void {
    const ctx = this.intrinsicContext(
      op,
      prepared.template,
      prepared.parameters,
      prepared.conditions,
      stackName,
      stackId,
      arns,
      () => UNKNOWN,
    )
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
    for (const id of prepared.active)
      visit(pruneIf(prepared.template.Resources[id]!.Properties, prepared.conditions))
  }

  private async runCreate(
    op: OpContext,
    stackId: string,
    prepared: Prepared,
    calls: AwsCalls,
    onFailure: 'DO_NOTHING' | 'ROLLBACK' | 'DELETE',
  ): Promise<void> {
    const stack = this.store.getStack(op.scope, stackId)!
    const failed = await this.provision(op, stack, prepared, calls, prepared.active, new Map())
    let reason = failed.length
      ? `The following resource(s) failed to create: [${failed.join(', ')}]. `
      : undefined
    if (!reason) {
      const outErr = this.finishOutputs(op, stack, prepared)
      if (outErr) reason = outErr
    }
    if (!reason) {
      stack.status = 'CREATE_COMPLETE'
      stack.statusReason = undefined
      this.save(op, stack)
      this.stackEvent(op, stack, 'CREATE_COMPLETE')
      return
    }
    if (onFailure === 'DO_NOTHING') {
      this.setStatus(op, stack, 'CREATE_FAILED', reason)
      return
    }
    this.setStatus(
      op,
      stack,
      'ROLLBACK_IN_PROGRESS',
      reason + (failed.length ? 'Rollback requested by user.' : ''),
    )
    const ok = await this.deleteResources(op, stack, calls, Object.keys(stack.resources), true)
    stack.outputs = []
    this.setStatus(
      op,
      stack,
      ok ? 'ROLLBACK_COMPLETE' : 'ROLLBACK_FAILED',
      ok
        ? undefined
        : 'The following resource(s) failed to delete: [' + this.failedDeletes(stack).join(', ') + ']. ',
    )
    if (ok && onFailure === 'DELETE') {
      this.setStatus(op, stack, 'DELETE_IN_PROGRESS', 'User Initiated')
      stack.deletionTime = this.now().toISOString()
      this.setStatus(op, stack, 'DELETE_COMPLETE')
    }
  }

  private failedDeletes(stack: StackRecord): string[] {
    return Object.values(stack.resources)
      .filter((r) => r.status === 'DELETE_FAILED')
      .map((r) => r.logicalId)
  }

  /**
   * Creates or updates a set of resources as a work graph: each starts when its dependencies are
   * done; independent ones run concurrently. After the first failure nothing new starts (as AWS,
   * which cancels the rest). Returns the logical ids that failed.
   */
  private async provision(
    op: OpContext,
    stack: StackRecord,
    prepared: Prepared,
    calls: AwsCalls,
    ids: ReadonlySet<string>,
    touched: Map<string, Touched>,
  ): Promise<string[]> {
    const done = new Set<string>()
    const failed: string[] = []
    const running = new Map<string, Promise<void>>()
    const pending = new Set(ids)
    const ready = (id: string): boolean =>
      [...(prepared.deps.get(id) ?? [])].every((d) => done.has(d) || !ids.has(d))
    while (pending.size || running.size) {
      if (!failed.length && !this.cancelled.has(stack.stackId)) {
        for (const id of [...pending]) {
          if (!ready(id)) continue
          pending.delete(id)
          running.set(
            id,
            this.provisionOne(op, stack, prepared, calls, id, touched).then((ok) => {
              running.delete(id)
              if (ok) done.add(id)
              else failed.push(id)
            }),
          )
        }
      }
      if (!running.size) break
      await Promise.race(running.values())
    }
    return failed
  }

  /** Creates, updates in place, or replaces one resource. True when it succeeded. */
  private async provisionOne(
    op: OpContext,
    stack: StackRecord,
    prepared: Prepared,
    calls: AwsCalls,
    id: string,
    touched: Map<string, Touched>,
  ): Promise<boolean> {
    const decl = prepared.template.Resources[id]!
    const existing = stack.resources[id]
    const policy = this.updatePolicies.get(stack.stackId)
    const isCreate = !existing || existing.physicalId === undefined || existing.status === 'DELETE_COMPLETE'
    let props: Record<string, unknown>
    try {
      const ctx = this.intrinsicContext(
        op,
        prepared.template,
        prepared.parameters,
        prepared.conditions,
        stack.stackName,
        stack.stackId,
        stack.notificationArns,
        this.resourceValues(stack),
      )
      const resolved = resolveValue(decl.Properties ?? {}, ctx)
      props = withStackTags(await this.specOf(decl.Type), isObject(resolved) ? resolved : {}, stack.tags)
    } catch (e) {
      return this.failResource(op, stack, id, decl.Type, isCreate ? 'CREATE' : 'UPDATE', e, existing)
    }
    const base = {
      logicalId: id,
      type: decl.Type,
      dependsOn: [...(prepared.deps.get(id) ?? [])],
      deletionPolicy: typeof decl.DeletionPolicy === 'string' ? decl.DeletionPolicy : undefined,
      updateReplacePolicy:
        typeof decl.UpdateReplacePolicy === 'string' ? decl.UpdateReplacePolicy : undefined,
      metadata: decl.Metadata,
    }
    const provider = this.providers.get(decl.Type)
    const pctx = this.providerContext(op, stack, id, calls)
    if (isCreate) {
      stack.resources[id] = {
        ...base,
        status: 'CREATE_IN_PROGRESS',
        lastUpdated: this.now().toISOString(),
        properties: props,
        attributes: {},
      }
      this.resourceEvent(op, stack, id, 'CREATE_IN_PROGRESS', undefined, props)
      try {
        await this.check(decl.Type, id, props, provider)
        const res = await provider!.create(pctx, props)
        const r = stack.resources[id]
        r.physicalId = res.physicalId
        r.ref = res.ref
        r.attributes = { ...res.attributes }
        this.resourceEvent(op, stack, id, 'CREATE_IN_PROGRESS', 'Resource creation Initiated', props)
        r.status = 'CREATE_COMPLETE'
        r.lastUpdated = this.now().toISOString()
        touched.set(id, { kind: 'created' })
        this.resourceEvent(op, stack, id, 'CREATE_COMPLETE', undefined, props)
        return true
      } catch (e) {
        touched.set(id, { kind: 'created' })
        return this.failResource(op, stack, id, decl.Type, 'CREATE', e, undefined)
      }
    }
    const old = existing
    if (old.type !== decl.Type) {
      return this.failResource(
        op,
        stack,
        id,
        decl.Type,
        'UPDATE',
        new ResourceFailure(
          `Update of resource type is not permitted. The new template modifies resource type of resource ${id}.`,
        ),
        old,
      )
    }
    const metaChanged =
      !same(old.metadata, base.metadata) ||
      old.deletionPolicy !== base.deletionPolicy ||
      old.updateReplacePolicy !== base.updateReplacePolicy
    if (same(old.properties, props)) {
      // Nothing to provision; attributes that only affect CloudFormation are recorded silently.
      if (metaChanged) Object.assign(old, base)
      old.dependsOn = base.dependsOn
      return true
    }
    const spec = await this.specOf(decl.Type)
    const { replacement } = replacementFor(spec, old.properties, props)
    const denial = stackPolicyDenial(
      policy,
      replacement === 'True' ? 'Update:Replace' : 'Update:Modify',
      id,
      decl.Type,
    )
    if (denial) return this.failResource(op, stack, id, decl.Type, 'UPDATE', new ResourceFailure(denial), old)
    const before: ResourceState = structuredClone(old)
    if (replacement === 'True') {
      const nameProp = provider?.nameProperty
      if (
        nameProp !== undefined &&
        props[nameProp] !== undefined &&
        same(props[nameProp], old.properties[nameProp])
      ) {
        return this.failResource(
          op,
          stack,
          id,
          decl.Type,
          'UPDATE',
          new ResourceFailure(
            `CloudFormation cannot update a stack when a custom-named resource requires replacing. Rename ${typeof props[nameProp] === 'string' ? props[nameProp] : JSON.stringify(props[nameProp])} and update the stack again.`,
          ),
          old,
        )
      }
      this.resourceEvent(
        op,
        stack,
        id,
        'UPDATE_IN_PROGRESS',
        'Requested update requires the creation of a new physical resource; hence creating one.',
        props,
      )
      try {
        await this.check(decl.Type, id, props, provider)
        const res = await provider!.create(pctx, props)
        stack.resources[id] = {
          ...base,
          physicalId: res.physicalId,
          ref: res.ref,
          attributes: { ...res.attributes },
          properties: props,
          status: 'UPDATE_IN_PROGRESS',
          lastUpdated: this.now().toISOString(),
        }
        this.resourceEvent(op, stack, id, 'UPDATE_IN_PROGRESS', 'Resource creation Initiated', props)
        stack.resources[id].status = 'UPDATE_COMPLETE'
        touched.set(id, { kind: 'replaced', before })
        this.resourceEvent(op, stack, id, 'UPDATE_COMPLETE', undefined, props)
        return true
      } catch (e) {
        return this.failResource(op, stack, id, decl.Type, 'UPDATE', e, old)
      }
    }
    this.resourceEvent(op, stack, id, 'UPDATE_IN_PROGRESS', undefined, props)
    try {
      await this.check(decl.Type, id, props, provider)
      if (!provider!.update)
        throw new ResourceFailure(`Updating ${decl.Type} in place is not supported by the crosspipe sandbox`)
      touched.set(id, { kind: 'updated', before })
      const res = await provider!.update(
        pctx,
        { physicalId: old.physicalId!, properties: old.properties, attributes: old.attributes },
        props,
      )
      stack.resources[id] = {
        ...base,
        physicalId: res.physicalId,
        ref: res.ref,
        attributes: { ...res.attributes },
        properties: props,
        status: 'UPDATE_COMPLETE',
        lastUpdated: this.now().toISOString(),
      }
      this.resourceEvent(op, stack, id, 'UPDATE_COMPLETE', undefined, props)
      return true
    } catch (e) {
      return this.failResource(op, stack, id, decl.Type, 'UPDATE', e, old)
    }
  }

  /** A provider exists and the properties satisfy the specification, or a ResourceFailure. */
  private async check(
    type: string,
    id: string,
    props: Record<string, unknown>,
    provider: ResourceProvider | undefined,
  ): Promise<void> {
    if (!provider)
      throw new ResourceFailure(`Resource type ${type} is not supported by the crosspipe sandbox`)
    const spec = await this.specOf(type)
    if (!spec) return
    const problems = validateProperties(spec, props)
    if (problems.length)
      throw new ResourceFailure(
        `Properties validation failed for resource ${id} with message: ${problems.join(' ')}`,
      )
  }

  private failResource(
    op: OpContext,
    stack: StackRecord,
    id: string,
    type: string,
    verb: 'CREATE' | 'UPDATE',
    e: unknown,
    old: ResourceState | undefined,
  ): false {
    const reason = failureReason(e, type)
    const status: ResourceStatus = verb === 'CREATE' ? 'CREATE_FAILED' : 'UPDATE_FAILED'
    const r = stack.resources[id] ?? old
    if (r) {
      stack.resources[id] = { ...r, status, statusReason: reason, lastUpdated: this.now().toISOString() }
    } else {
      stack.resources[id] = {
        logicalId: id,
        type,
        status,
        statusReason: reason,
        lastUpdated: this.now().toISOString(),
        properties: {},
        attributes: {},
        dependsOn: [],
      }
    }
    this.resourceEvent(op, stack, id, status, reason)
    return false
  }

  private providerContext(op: OpContext, stack: StackRecord, id: string, calls: AwsCalls): ProviderContext {
    return {
      account: op.scope.account,
      region: op.scope.region,
      partition: op.partition,
      urlSuffix: dnsSuffix(op.partition),
      stackName: stack.stackName,
      stackId: stack.stackId,
      logicalId: id,
      aws: calls,
      local: this.store.local(op.scope),
      physicalName: (o = {}) => {
        // aws-properties-name.html: stack name, logical id and a random string.
        const sep = o.separator ?? '-'
        const rand = randomUUID().replace(/-/g, '').slice(0, 12).toUpperCase()
        const max = o.maxLength ?? 255
        let head = `${stack.stackName}${sep}${id}`
        if (head.length + sep.length + rand.length > max)
          head = head.slice(0, Math.max(1, max - sep.length - rand.length))
        const name = `${head}${sep}${rand}`
        return o.lowercase ? name.toLowerCase() : name
      },
    }
  }

  /**
   * Resolves outputs and registers exports. Returns a failure reason (export name taken, an
   * export in use changed or removed), or undefined. On success the stack's outputs and imports
   * are updated.
   */
  private finishOutputs(op: OpContext, stack: StackRecord, prepared: Prepared): string | undefined {
    const imports = new Set<string>()
    const outputs: OutputState[] = []
    try {
      const ctx = this.intrinsicContext(
        op,
        prepared.template,
        prepared.parameters,
        prepared.conditions,
        stack.stackName,
        stack.stackId,
        stack.notificationArns,
        this.resourceValues(stack),
        imports,
      )
      for (const [key, o] of Object.entries(prepared.template.Outputs ?? {})) {
        if (o.Condition !== undefined && !prepared.conditions.get(o.Condition)) continue
        const value = resolveValue(o.Value, ctx)
        if (value === NO_VALUE) continue
        const exportName = o.Export !== undefined ? resolveValue(o.Export.Name, ctx) : undefined
        const description = o.Description !== undefined ? resolveValue(o.Description, ctx) : undefined
        outputs.push({
          key,
          value: Array.isArray(value)
            ? value.join(',')
            : typeof value === 'string'
              ? value
              : JSON.stringify(value),
          description: typeof description === 'string' ? description : undefined,
          exportName: typeof exportName === 'string' ? exportName : undefined,
        })
      }
      // Imports made by resource properties count too (a stack that imports cannot be left dangling).
      for (const id of prepared.active) {
        collectImportsOf(prepared.template.Resources[id]!.Properties, prepared.conditions, ctx)
      }
    } catch (e) {
      return isAwsError(e) || e instanceof ResourceFailure ? e.message : String(e)
    }
    const others = this.listExports(op.scope).filter((x) => x.stackId !== stack.stackId)
    for (const o of outputs) {
      if (o.exportName === undefined) continue
      const taken = others.find((x) => x.name === o.exportName)
      if (taken) {
        const owner = this.store.getStack(op.scope, taken.stackId)
        return `Export with name ${o.exportName} is already exported by stack ${owner?.stackName ?? taken.stackId}`
      }
    }
    for (const old of stack.outputs) {
      if (old.exportName === undefined) continue
      const now = outputs.find((o) => o.exportName === old.exportName)
      if (now && now.value === old.value) continue
      const users = this.importers(op.scope, old.exportName, stack.stackId)
      if (users.length) {
        return now
          ? `Export ${old.exportName} cannot be updated as it is in use by ${users.join(', ')}`
          : `Export ${old.exportName} cannot be deleted as it is in use by ${users.join(', ')}`
      }
    }
    stack.outputs = outputs
    stack.imports = [...imports]
    return undefined
  }

  /** Names of live stacks (other than one) that import an export. */
  private importers(scope: Scope, exportName: string, except: string): string[] {
    return this.store
      .listStacks(scope)
      .filter(
        (s) => s.stackId !== except && s.status !== 'DELETE_COMPLETE' && importsOf(s).includes(exportName),
      )
      .map((s) => s.stackName)
  }

  // ---------------------------------------------------------------- delete

  /** DeleteStack: a stack that does not exist is not an error (API_DeleteStack.html). */
  async deleteStack(
    op: OpContext,
    nameOrId: string,
    opts: { roleArn?: string; retainResources?: readonly string[]; clientRequestToken?: string } = {},
  ): Promise<void> {
    const stack = this.findStack(op.scope, nameOrId)
    if (!stack || stack.status === 'DELETE_COMPLETE') return
    if (stack.enableTerminationProtection) {
      throw validationError(
        `Stack [${stack.stackName}] cannot be deleted while TerminationProtection is enabled`,
      )
    }
    if (opts.retainResources?.length && stack.status !== 'DELETE_FAILED') {
      throw validationError(
        `Invalid operation on stack [${stack.stackId}]. RetainResources can only be specified when the stack is in the DELETE_FAILED state`,
      )
    }
    const roleArn = opts.roleArn ?? stack.roleArn
    const calls = await this.host.deployer({ caller: op.caller, roleArn, scope: op.scope })
    this.enqueue(stack.stackId, () =>
      this.runDelete(op, stack.stackId, calls, opts.retainResources ?? [], opts.clientRequestToken),
    )
  }

  private async runDelete(
    op: OpContext,
    stackId: string,
    calls: AwsCalls,
    retain: readonly string[],
    token?: string,
  ): Promise<void> {
    const stack = this.store.getStack(op.scope, stackId)
    if (!stack || stack.status === 'DELETE_COMPLETE') return
    for (const o of stack.outputs) {
      if (o.exportName === undefined) continue
      const users = this.importers(op.scope, o.exportName, stack.stackId)
      if (users.length) {
        // The stack stays as it is; the refusal is an event (as AWS reports it).
        this.stackEvent(
          op,
          stack,
          stack.status,
          `Export ${o.exportName} cannot be deleted as it is in use by ${users.join(', ')}`,
        )
        return
      }
    }
    if (stack.status === 'REVIEW_IN_PROGRESS') {
      stack.deletionTime = this.now().toISOString()
      this.setStatus(op, stack, 'DELETE_COMPLETE')
      this.deleteChangeSetsOf(op.scope, stack.stackId)
      return
    }
    this.setStatus(op, stack, 'DELETE_IN_PROGRESS', 'User Initiated', token)
    for (const id of retain) {
      const r = stack.resources[id]
      if (r) r.deletionPolicy = 'Retain'
    }
    const ok = await this.deleteResources(op, stack, calls, Object.keys(stack.resources), false)
    if (!ok) {
      this.setStatus(
        op,
        stack,
        'DELETE_FAILED',
        `The following resource(s) failed to delete: [${this.failedDeletes(stack).join(', ')}]. `,
      )
      return
    }
    stack.deletionTime = this.now().toISOString()
    stack.outputs = []
    this.deleteChangeSetsOf(op.scope, stack.stackId)
    this.setStatus(op, stack, 'DELETE_COMPLETE')
  }

  /**
   * Deletes resources in reverse dependency order, concurrently where independent. `Retain`
   * resources are skipped (DELETE_SKIPPED) — on rollback of a create too, except
   * `RetainExceptOnCreate`. True when none failed.
   */
  private async deleteResources(
    op: OpContext,
    stack: StackRecord,
    calls: AwsCalls,
    ids: readonly string[],
    rollbackOfCreate: boolean,
  ): Promise<boolean> {
    const remaining = new Set(
      ids.filter(
        (id) =>
          stack.resources[id] &&
          stack.resources[id].status !== 'DELETE_COMPLETE' &&
          stack.resources[id].status !== 'DELETE_SKIPPED',
      ),
    )
    let ok = true
    const running = new Map<string, Promise<void>>()
    const blocked = (id: string): boolean =>
      [...remaining, ...running.keys()].some((o) => o !== id && stack.resources[o]?.dependsOn.includes(id))
    while (remaining.size || running.size) {
      for (const id of [...remaining]) {
        if (blocked(id)) continue
        remaining.delete(id)
        running.set(
          id,
          this.deleteOne(op, stack, calls, id, rollbackOfCreate).then((good) => {
            running.delete(id)
            if (!good) ok = false
          }),
        )
      }
      if (!running.size) {
        // Only a dependency cycle among stored resources could leave work blocked; delete the rest.
        for (const id of remaining)
          running.set(
            id,
            this.deleteOne(op, stack, calls, id, rollbackOfCreate).then((g) => void (ok &&= g)),
          )
        remaining.clear()
        await Promise.all(running.values())
        running.clear()
        break
      }
      await Promise.race(running.values())
    }
    return ok
  }

  private async deleteOne(
    op: OpContext,
    stack: StackRecord,
    calls: AwsCalls,
    id: string,
    rollbackOfCreate: boolean,
  ): Promise<boolean> {
    const r = stack.resources[id]!
    const retain =
      r.deletionPolicy === 'Retain' || (r.deletionPolicy === 'RetainExceptOnCreate' && !rollbackOfCreate)
    if (r.physicalId === undefined) {
      // Never created (failed or cancelled): nothing to delete, as AWS reports it.
      r.status = 'DELETE_COMPLETE'
      r.lastUpdated = this.now().toISOString()
      this.resourceEvent(op, stack, id, 'DELETE_COMPLETE')
      return true
    }
    if (retain) {
      r.status = 'DELETE_SKIPPED'
      r.lastUpdated = this.now().toISOString()
      this.resourceEvent(op, stack, id, 'DELETE_SKIPPED')
      return true
    }
    r.status = 'DELETE_IN_PROGRESS'
    this.resourceEvent(op, stack, id, 'DELETE_IN_PROGRESS')
    const provider = this.providers.get(r.type)
    try {
      if (!provider)
        throw new ResourceFailure(`Resource type ${r.type} is not supported by the crosspipe sandbox`)
      await provider.delete(this.providerContext(op, stack, id, calls), {
        physicalId: r.physicalId,
        properties: r.properties,
        attributes: r.attributes,
      })
      r.status = 'DELETE_COMPLETE'
      r.lastUpdated = this.now().toISOString()
      this.resourceEvent(op, stack, id, 'DELETE_COMPLETE')
      return true
    } catch (e) {
      r.status = 'DELETE_FAILED'
      r.statusReason = failureReason(e, r.type)
      r.lastUpdated = this.now().toISOString()
      this.resourceEvent(op, stack, id, 'DELETE_FAILED', r.statusReason)
      return false
    }
  }

  // ---------------------------------------------------------------- update

  /** UpdateStack: `No updates are to be performed.` when nothing would change. */
  async updateStack(op: OpContext, input: StackInput): Promise<string> {
    const stack = this.getStack(op.scope, input.stackName)
    this.checkUpdatable(stack)
    const body = await this.templateText(op, input, stack)
    const prepared = await this.prepare(
      op,
      body,
      this.withPreviousDefaults(input.parameters, stack, input),
      stack.parameters,
      stack.stackName,
      stack.stackId,
    )
    checkCapabilities(prepared.template, input.capabilities ?? [])
    const tags = input.tags ?? stack.tags
    const changes = await this.computeChanges(op, stack, prepared, tags)
    if (!changes.length && !this.outputsChange(op, stack, prepared) && same(tags, stack.tags)) {
      throw validationError('No updates are to be performed.')
    }
    const calls = await this.host.deployer({
      caller: op.caller,
      roleArn: input.roleArn ?? stack.roleArn,
      scope: op.scope,
    })
    if (input.stackPolicyBody !== undefined) {
      parseStackPolicy(input.stackPolicyBody)
      stack.stackPolicy = input.stackPolicyBody
    }
    if (input.stackPolicyDuringUpdateBody !== undefined) parseStackPolicy(input.stackPolicyDuringUpdateBody)
    this.startUpdate(op, stack, prepared, calls, {
      policyDuringUpdate: input.stackPolicyDuringUpdateBody,
      capabilities: [...(input.capabilities ?? [])],
      roleArn: input.roleArn ?? stack.roleArn,
      tags: [...tags],
      notificationArns: input.notificationArns ? [...input.notificationArns] : stack.notificationArns,
      disableRollback: input.disableRollback ?? false,
      token: input.clientRequestToken,
    })
    return stack.stackId
  }

  /** SetStackPolicy (API_SetStackPolicy.html). */
  setStackPolicy(scope: Scope, nameOrId: string, body: string): void {
    parseStackPolicy(body)
    const stack = this.getStack(scope, nameOrId)
    stack.stackPolicy = body
    this.store.putStack(scope, stack)
  }

  /** GetStackPolicy (API_GetStackPolicy.html): the policy text, or undefined. */
  getStackPolicy(scope: Scope, nameOrId: string): string | undefined {
    return this.getStack(scope, nameOrId).stackPolicy
  }

  /** UpdateTerminationProtection (API_UpdateTerminationProtection.html); returns the stack id. */
  updateTerminationProtection(scope: Scope, nameOrId: string, enable: boolean): string {
    const stack = this.getStack(scope, nameOrId)
    stack.enableTerminationProtection = enable
    this.store.putStack(scope, stack)
    return stack.stackId
  }

  /**
   * ContinueUpdateRollback: only in UPDATE_ROLLBACK_FAILED. The resources named in
   * `ResourcesToSkip` are recorded as rolled back (UPDATE_COMPLETE, their physical state left as
   * it is) — the way out AWS documents for a rollback that cannot finish
   * (API_ContinueUpdateRollback.html). A failed resource not skipped keeps the stack failed.
   */
  async continueUpdateRollback(
    op: OpContext,
    nameOrId: string,
    skip: readonly string[],
    roleArn?: string,
  ): Promise<void> {
    const stack = this.getStack(op.scope, nameOrId)
    if (stack.status !== 'UPDATE_ROLLBACK_FAILED') {
      throw validationError(
        `Stack:${stack.stackId} is in ${stack.status} state and can not continue update rollback.`,
      )
    }
    for (const id of skip) {
      if (!stack.resources[id])
        throw validationError(`Resource ${id} does not exist for stack ${stack.stackName}`)
    }
    await this.host.deployer({ caller: op.caller, roleArn: roleArn ?? stack.roleArn, scope: op.scope })
    this.enqueue(stack.stackId, () => {
      const s = this.store.getStack(op.scope, stack.stackId)!
      this.setStatus(op, s, 'UPDATE_ROLLBACK_IN_PROGRESS', 'User Initiated')
      for (const id of skip) {
        const r = s.resources[id]!
        r.lastUpdated = this.now().toISOString()
        this.resourceEvent(op, s, id, 'UPDATE_COMPLETE', 'Resource skipped during UpdateRollback')
      }
      const stuck = Object.values(s.resources)
        .filter((r) => r.status === 'UPDATE_FAILED')
        .map((r) => r.logicalId)
      if (stuck.length) {
        this.setStatus(
          op,
          s,
          'UPDATE_ROLLBACK_FAILED',
          `The following resource(s) failed to update: [${stuck.join(', ')}]. `,
        )
        return Promise.resolve()
      }
      this.setStatus(op, s, 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS')
      this.setStatus(op, s, 'UPDATE_ROLLBACK_COMPLETE')
      return Promise.resolve()
    })
  }

  /**
   * CancelUpdateStack: only while UPDATE_IN_PROGRESS; the update stops starting resources and
   * rolls back (API_CancelUpdateStack.html).
   */
  cancelUpdateStack(scope: Scope, nameOrId: string): void {
    const stack = this.getStack(scope, nameOrId)
    if (stack.status !== 'UPDATE_IN_PROGRESS') {
      throw validationError(`CancelUpdateStack cannot be called from current stack status`)
    }
    this.cancelled.add(stack.stackId)
  }

  /**
   * Parameters not sent on an update keep their previous value when the template still declares
   * them without a default — AWS requires UsePreviousValue for that; the sandbox is as strict.
   */
  private withPreviousDefaults(
    given: readonly ParameterInput[] | undefined,
    _stack: StackRecord,
    _input: StackInput,
  ): readonly ParameterInput[] {
    return given ?? []
  }

  private checkUpdatable(stack: StackRecord): void {
    if (!UPDATABLE.has(stack.status)) {
      throw validationError(`Stack:${stack.stackId} is in ${stack.status} state and can not be updated.`)
    }
  }

  private outputsChange(op: OpContext, stack: StackRecord, prepared: Prepared): boolean {
    const ctx = this.intrinsicContext(
      op,
      prepared.template,
      prepared.parameters,
      prepared.conditions,
      stack.stackName,
      stack.stackId,
      stack.notificationArns,
      this.resourceValues(stack),
    )
    const next: { key: string; value: unknown; exportName: unknown; description: unknown }[] = []
    try {
      for (const [key, o] of Object.entries(prepared.template.Outputs ?? {})) {
        if (o.Condition !== undefined && !prepared.conditions.get(o.Condition)) continue
        next.push({
          key,
          value: resolveValue(o.Value, ctx),
          exportName: o.Export ? resolveValue(o.Export.Name, ctx) : undefined,
          description: o.Description !== undefined ? resolveValue(o.Description, ctx) : undefined,
        })
      }
    } catch {
      return true
    }
    if (next.length !== stack.outputs.length) return true
    return next.some((n) => {
      const o = stack.outputs.find((x) => x.key === n.key)
      const v = Array.isArray(n.value)
        ? n.value.join(',')
        : typeof n.value === 'string'
          ? n.value
          : JSON.stringify(n.value)
      return !o || o.value !== v || o.exportName !== n.exportName || o.description !== n.description
    })
  }

  /**
   * The resource changes an update would make, as DescribeChangeSet reports them: Add, Remove,
   * and Modify with Replacement True / False / Conditional from the specification's create-only
   * properties. Values of resources that are added or replaced are unknown until provisioned;
   * a property that depends on one is a Dynamic change.
   */
  private async computeChanges(
    op: OpContext,
    stack: StackRecord,
    prepared: Prepared,
    tags: readonly Tag[] = stack.tags,
  ): Promise<ResourceChangeRecord[]> {
    const changes: ResourceChangeRecord[] = []
    const unknown = new Set<string>()
    const order = topoOrder(prepared.active, prepared.deps)
    for (const id of order) {
      const decl = prepared.template.Resources[id]!
      const old = stack.resources[id]
      if (!old || old.physicalId === undefined) {
        unknown.add(id)
        changes.push({ action: 'Add', logicalId: id, resourceType: decl.Type, scope: [], details: [] })
        continue
      }
      if (old.type !== decl.Type) {
        throw validationError(
          `Update of resource type is not permitted. The new template modifies resource type of resource ${id}.`,
        )
      }
      const ctx = this.intrinsicContext(
        op,
        prepared.template,
        prepared.parameters,
        prepared.conditions,
        stack.stackName,
        stack.stackId,
        stack.notificationArns,
        this.resourceValues(stack, unknown),
      )
      const resolved = resolveValue(decl.Properties ?? {}, ctx)
      const props = withStackTags(await this.specOf(decl.Type), isObject(resolved) ? resolved : {}, tags)
      const dynamic = new Set(Object.keys(props).filter((k) => containsUnknown(props[k])))
      const spec = await this.specOf(decl.Type)
      const { replacement, changed } = replacementFor(spec, old.properties, props, dynamic)
      if (!changed.length) continue
      if (replacement === 'True') unknown.add(id)
      const tagProp = 'Tags'
      changes.push({
        action: 'Modify',
        logicalId: id,
        physicalId: old.physicalId,
        resourceType: decl.Type,
        replacement,
        scope:
          changed.some((c) => c.name === tagProp) && changed.length === 1
            ? ['Tags']
            : changed.some((c) => c.name === tagProp)
              ? ['Properties', 'Tags']
              : ['Properties'],
        details: changed.map((c) => ({
          name: c.name,
          requiresRecreation:
            c.replacement === 'yes' ? 'Always' : c.replacement === 'maybe' ? 'Conditionally' : 'Never',
          evaluation: c.unknown ? 'Dynamic' : 'Static',
          changeSource: c.unknown ? 'ResourceReference' : 'DirectModification',
        })),
      })
    }
    for (const [id, r] of Object.entries(stack.resources)) {
      if (prepared.active.has(id) || r.physicalId === undefined || r.status === 'DELETE_COMPLETE') continue
      changes.push({
        action: 'Remove',
        logicalId: id,
        physicalId: r.physicalId,
        resourceType: r.type,
        scope: [],
        details: [],
      })
    }
    return changes
  }

  private startUpdate(
    op: OpContext,
    stack: StackRecord,
    prepared: Prepared,
    calls: AwsCalls,
    meta: {
      policyDuringUpdate?: string
      capabilities: string[]
      roleArn?: string
      tags: Tag[]
      notificationArns: string[]
      disableRollback: boolean
      token?: string
      changeSetId?: string
    },
  ): void {
    const previous = structuredClone(stack)
    this.updatePolicies.set(stack.stackId, meta.policyDuringUpdate ?? stack.stackPolicy)
    stack.status = 'UPDATE_IN_PROGRESS'
    stack.statusReason = 'User Initiated'
    stack.lastUpdatedTime = this.now().toISOString()
    stack.templateBody = prepared.body
    stack.description = prepared.template.Description
    stack.parameters = prepared.stored
    stack.capabilities = meta.capabilities
    stack.roleArn = meta.roleArn
    stack.tags = meta.tags
    stack.notificationArns = meta.notificationArns
    if (meta.changeSetId) stack.changeSetId = meta.changeSetId
    this.save(op, stack)
    this.stackEvent(op, stack, 'UPDATE_IN_PROGRESS', 'User Initiated', meta.token)
    this.enqueue(stack.stackId, () =>
      this.runUpdate(op, stack.stackId, prepared, calls, previous, meta.disableRollback),
    )
  }

  private async runUpdate(
    op: OpContext,
    stackId: string,
    prepared: Prepared,
    calls: AwsCalls,
    previous: StackRecord,
    disableRollback: boolean,
  ): Promise<void> {
    const stack = this.store.getStack(op.scope, stackId)!
    const touched = new Map<string, Touched>()
    // Removals are checked against the stack policy before anything changes.
    const policy = this.updatePolicies.get(stackId)
    const deniedRemovals = Object.values(stack.resources)
      .filter((r) => !prepared.active.has(r.logicalId))
      .filter((r) => {
        const denial = stackPolicyDenial(policy, 'Update:Delete', r.logicalId, r.type)
        if (denial) this.resourceEvent(op, stack, r.logicalId, 'UPDATE_FAILED', denial)
        return denial !== undefined
      })
      .map((r) => r.logicalId)
    const failed = deniedRemovals.length
      ? deniedRemovals
      : await this.provision(op, stack, prepared, calls, prepared.active, touched)
    this.updatePolicies.delete(stackId)
    let reason: string | undefined
    const cancelled = this.cancelled.delete(stackId)
    if (cancelled) {
      reason = 'Stack update cancelled'
      disableRollback = false
    } else if (failed.length) {
      const created = failed.filter(
        (id) => !previous.resources[id] || previous.resources[id].physicalId === undefined,
      )
      const updated = failed.filter((id) => !created.includes(id))
      reason = [
        updated.length ? `The following resource(s) failed to update: [${updated.join(', ')}]. ` : '',
        created.length ? `The following resource(s) failed to create: [${created.join(', ')}]. ` : '',
      ].join('')
    } else {
      reason = this.finishOutputs(op, stack, prepared)
    }
    if (!reason) {
      this.setStatus(op, stack, 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS')
      const removed = Object.keys(stack.resources).filter((id) => !prepared.active.has(id))
      for (const [id, t] of touched) {
        if (t.kind === 'replaced') await this.deleteOld(op, stack, calls, id, t.before, 'UpdateReplacePolicy')
      }
      await this.deleteResources(op, stack, calls, removed, false)
      for (const id of removed) delete stack.resources[id]
      this.setStatus(op, stack, 'UPDATE_COMPLETE')
      return
    }
    if (disableRollback) {
      this.setStatus(op, stack, 'UPDATE_FAILED', reason)
      return
    }
    this.setStatus(op, stack, 'UPDATE_ROLLBACK_IN_PROGRESS', reason)
    const replacedNew = new Map<string, ResourceState>()
    for (const [id, t] of [...touched].reverse()) {
      const current = stack.resources[id]
      if (t.kind === 'created') {
        await this.deleteResources(op, stack, calls, [id], true)
        delete stack.resources[id]
      } else if (t.kind === 'replaced') {
        if (current) replacedNew.set(id, current)
        stack.resources[id] = {
          ...t.before,
          status: 'UPDATE_COMPLETE',
          statusReason: undefined,
          lastUpdated: this.now().toISOString(),
        }
        this.resourceEvent(op, stack, id, 'UPDATE_COMPLETE')
      } else {
        const provider = this.providers.get(t.before.type)
        this.resourceEvent(op, stack, id, 'UPDATE_IN_PROGRESS')
        try {
          const res = await provider!.update!(
            this.providerContext(op, stack, id, calls),
            {
              physicalId: current?.physicalId ?? t.before.physicalId!,
              properties: current?.properties ?? {},
              attributes: current?.attributes ?? {},
            },
            t.before.properties,
          )
          stack.resources[id] = {
            ...t.before,
            physicalId: res.physicalId,
            attributes: { ...res.attributes },
            status: 'UPDATE_COMPLETE',
            statusReason: undefined,
            lastUpdated: this.now().toISOString(),
          }
          this.resourceEvent(op, stack, id, 'UPDATE_COMPLETE')
        } catch (e) {
          stack.resources[id] = {
            ...t.before,
            status: 'UPDATE_FAILED',
            statusReason: failureReason(e, t.before.type),
            lastUpdated: this.now().toISOString(),
          }
          this.resourceEvent(op, stack, id, 'UPDATE_FAILED', stack.resources[id].statusReason)
          this.restoreMeta(stack, previous)
          this.setStatus(
            op,
            stack,
            'UPDATE_ROLLBACK_FAILED',
            `The following resource(s) failed to update: [${id}]. `,
          )
          return
        }
      }
    }
    // Resources whose failed update left them untouched go back to their previous record.
    for (const id of failed) {
      if (previous.resources[id] && !touched.has(id))
        stack.resources[id] = { ...previous.resources[id], lastUpdated: this.now().toISOString() }
    }
    this.restoreMeta(stack, previous)
    this.setStatus(op, stack, 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS')
    for (const [id, r] of replacedNew) await this.deleteOld(op, stack, calls, id, r, 'none')
    this.setStatus(op, stack, 'UPDATE_ROLLBACK_COMPLETE')
  }

  private restoreMeta(stack: StackRecord, previous: StackRecord): void {
    stack.templateBody = previous.templateBody
    stack.description = previous.description
    stack.parameters = previous.parameters
    stack.outputs = previous.outputs
    stack.capabilities = previous.capabilities
    stack.roleArn = previous.roleArn
    stack.tags = previous.tags
    stack.notificationArns = previous.notificationArns
    stack.imports = importsOf(previous)
  }

  /** Deletes the physical resource a replacement left behind (or keeps it: UpdateReplacePolicy Retain). */
  private async deleteOld(
    op: OpContext,
    stack: StackRecord,
    calls: AwsCalls,
    id: string,
    old: ResourceState,
    policy: 'UpdateReplacePolicy' | 'none',
  ): Promise<void> {
    if (old.physicalId === undefined) return
    const emit = (status: string, reason?: string): void => {
      this.addEvent(op, stack, {
        logicalResourceId: id,
        physicalResourceId: old.physicalId,
        resourceType: old.type,
        resourceStatus: status,
        resourceStatusReason: reason,
      })
    }
    if (policy === 'UpdateReplacePolicy' && old.updateReplacePolicy === 'Retain') {
      emit('DELETE_SKIPPED')
      return
    }
    emit('DELETE_IN_PROGRESS')
    try {
      await this.providers.get(old.type)!.delete(this.providerContext(op, stack, id, calls), {
        physicalId: old.physicalId,
        properties: old.properties,
        attributes: old.attributes,
      })
      emit('DELETE_COMPLETE')
    } catch (e) {
      emit('DELETE_FAILED', failureReason(e, old.type))
    }
  }

  // ---------------------------------------------------------------- change sets

  /** CreateChangeSet: returns the change set id and stack id; the changes are computed in the background. */
  async createChangeSet(op: OpContext, input: ChangeSetInput): Promise<{ id: string; stackId: string }> {
    const type = input.changeSetType ?? 'UPDATE'
    if (!/^[a-zA-Z][-a-zA-Z0-9]*$/.test(input.changeSetName) || input.changeSetName.length > 128) {
      throw validationError(
        `1 validation error detected: Value '${input.changeSetName}' at 'changeSetName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*`,
      )
    }
    this.checkStackName(input.stackName)
    let stack = this.findStack(op.scope, input.stackName)
    if (type === 'CREATE') {
      if (stack && stack.status !== 'REVIEW_IN_PROGRESS') {
        throw validationError(
          `Stack [${input.stackName}] already exists and cannot be created again with the changeSet [${input.changeSetName}].`,
        )
      }
    } else {
      if (!stack) throw validationError(`Stack [${input.stackName}] does not exist`)
      if (stack.status === 'REVIEW_IN_PROGRESS') {
        throw validationError(`Stack [${input.stackName}] does not exist`)
      }
      this.checkUpdatable(stack)
    }
    if (
      stack &&
      this.store.listChangeSets(op.scope, stack.stackId).some((c) => c.changeSetName === input.changeSetName)
    ) {
      throw alreadyExists(`ChangeSet [${input.changeSetName}] already exists`)
    }
    const body = await this.templateText(op, input, stack)
    const stackId = stack?.stackId ?? this.newStackId(op, input.stackName)
    const prepared = await this.prepare(
      op,
      body,
      input.parameters ?? [],
      stack?.parameters,
      input.stackName,
      stackId,
    )
    checkCapabilities(prepared.template, input.capabilities ?? [])
    if (input.roleArn !== undefined)
      await this.host.deployer({ caller: op.caller, roleArn: input.roleArn, scope: op.scope })
    if (!stack) {
      stack = this.newStack(op, input, stackId, undefined)
      stack.status = 'REVIEW_IN_PROGRESS'
      this.save(op, stack)
      this.stackEvent(op, stack, 'REVIEW_IN_PROGRESS', 'User Initiated')
    }
    const id = formatArn({
      partition: op.partition,
      service: 'cloudformation',
      region: op.scope.region,
      account: op.scope.account,
      resource: `changeSet/${input.changeSetName}/${randomUUID()}`,
    })
    const cs: ChangeSetRecord = {
      changeSetId: id,
      changeSetName: input.changeSetName,
      stackId,
      stackName: input.stackName,
      changeSetType: type,
      description: input.description,
      status: 'CREATE_PENDING',
      executionStatus: 'UNAVAILABLE',
      creationTime: this.now().toISOString(),
      templateBody: body,
      parameters: prepared.stored,
      capabilities: [...(input.capabilities ?? [])],
      roleArn: input.roleArn ?? (type === 'UPDATE' ? stack.roleArn : undefined),
      notificationArns: [...(input.notificationArns ?? stack.notificationArns)],
      tags: [...(input.tags ?? (type === 'UPDATE' ? stack.tags : []))],
      changes: [],
    }
    this.store.putChangeSet(op.scope, cs)
    const current = stack
    // Computing the changes is quick but, as on AWS, asynchronous: clients poll DescribeChangeSet.
    this.enqueue(`changeset:${id}`, async () => {
      const rec = this.store.getChangeSet(op.scope, id)
      if (!rec) return
      try {
        const changes =
          type === 'CREATE'
            ? topoOrder(prepared.active, prepared.deps).map((rid): ResourceChangeRecord => ({
                action: 'Add',
                logicalId: rid,
                resourceType: prepared.template.Resources[rid]!.Type,
                scope: [],
                details: [],
              }))
            : await this.computeChanges(op, current, prepared, rec.tags)
        rec.changes = changes
        const tagsChanged = type === 'UPDATE' && !same(rec.tags, current.tags)
        if (
          type === 'UPDATE' &&
          !changes.length &&
          !tagsChanged &&
          !this.outputsChange(op, current, prepared)
        ) {
          rec.status = 'FAILED'
          rec.statusReason =
            "The submitted information didn't contain changes. Submit different information to create a change set."
          rec.executionStatus = 'UNAVAILABLE'
        } else {
          rec.status = 'CREATE_COMPLETE'
          rec.executionStatus = 'AVAILABLE'
        }
      } catch (e) {
        rec.status = 'FAILED'
        rec.statusReason = isAwsError(e) ? e.message : String(e)
        rec.executionStatus = 'UNAVAILABLE'
      }
      this.store.putChangeSet(op.scope, rec)
    })
    return { id, stackId }
  }

  /** A change set by ARN, or by name within a stack. */
  getChangeSet(scope: Scope, nameOrId: string, stackName?: string): ChangeSetRecord {
    if (nameOrId.startsWith('arn:')) {
      const cs = this.store.getChangeSet(scope, nameOrId)
      if (!cs) throw changeSetNotFound(nameOrId)
      return cs
    }
    if (stackName === undefined) {
      throw validationError('StackName must be specified if ChangeSetName is not specified as an ARN.')
    }
    const stack = this.findStack(scope, stackName)
    if (!stack) throw changeSetNotFound(nameOrId)
    const cs = this.store.listChangeSets(scope, stack.stackId).find((c) => c.changeSetName === nameOrId)
    if (!cs) throw changeSetNotFound(nameOrId)
    return cs
  }

  /** ListChangeSets of a stack, newest first. */
  listChangeSets(scope: Scope, stackName: string): ChangeSetRecord[] {
    const stack = this.getStack(scope, stackName)
    return this.store
      .listChangeSets(scope, stack.stackId)
      .sort((a, b) => b.creationTime.localeCompare(a.creationTime))
  }

  /** DeleteChangeSet: not while it executes. */
  deleteChangeSet(scope: Scope, nameOrId: string, stackName?: string): void {
    const cs = this.getChangeSet(scope, nameOrId, stackName)
    if (cs.executionStatus === 'EXECUTE_IN_PROGRESS') {
      throw invalidChangeSetStatus(
        `Cannot delete ChangeSet [${cs.changeSetId}] because it is in EXECUTE_IN_PROGRESS state.`,
      )
    }
    this.store.deleteChangeSet(scope, cs.changeSetId)
    // Deleting the last change set of a stack that was never created removes the stack (as AWS).
    const stack = this.store.getStack(scope, cs.stackId)
    if (
      stack?.status === 'REVIEW_IN_PROGRESS' &&
      this.store.listChangeSets(scope, stack.stackId).length === 0
    ) {
      stack.status = 'DELETE_COMPLETE'
      stack.deletionTime = this.now().toISOString()
      this.store.putStack(scope, stack)
    }
  }

  /** ExecuteChangeSet: creates or updates the stack from the change set. */
  async executeChangeSet(
    op: OpContext,
    nameOrId: string,
    stackName?: string,
    opts: { disableRollback?: boolean; clientRequestToken?: string } = {},
  ): Promise<void> {
    const cs = this.getChangeSet(op.scope, nameOrId, stackName)
    if (cs.executionStatus !== 'AVAILABLE' || cs.status !== 'CREATE_COMPLETE') {
      throw invalidChangeSetStatus(
        `ChangeSet [${cs.changeSetId}] cannot be executed in its current status of [${cs.status}]`,
      )
    }
    const stack = this.store.getStack(op.scope, cs.stackId)
    if (!stack || stack.status === 'DELETE_COMPLETE') throw stackNotFound(cs.stackName)
    if (cs.changeSetType === 'UPDATE') this.checkUpdatable(stack)
    const given = cs.parameters.map((p) => ({ ParameterKey: p.key, ParameterValue: p.value }))
    const prepared = await this.prepare(
      op,
      cs.templateBody,
      given,
      stack.parameters,
      stack.stackName,
      stack.stackId,
    )
    const calls = await this.host.deployer({ caller: op.caller, roleArn: cs.roleArn, scope: op.scope })
    cs.executionStatus = 'EXECUTE_IN_PROGRESS'
    this.store.putChangeSet(op.scope, cs)
    const finish = (): void => {
      const after = this.store.getStack(op.scope, cs.stackId)
      const okStatus = after && (after.status === 'CREATE_COMPLETE' || after.status === 'UPDATE_COMPLETE')
      const rec = this.store.getChangeSet(op.scope, cs.changeSetId)
      if (rec) {
        rec.executionStatus = okStatus ? 'EXECUTE_COMPLETE' : 'EXECUTE_FAILED'
        this.store.putChangeSet(op.scope, rec)
      }
      // After execution CloudFormation deletes the stack's other change sets (using-cfn-updating-stacks-changesets-execute.html).
      for (const other of this.store.listChangeSets(op.scope, cs.stackId)) {
        if (other.changeSetId !== cs.changeSetId) this.store.deleteChangeSet(op.scope, other.changeSetId)
      }
    }
    if (cs.changeSetType === 'CREATE') {
      stack.templateBody = prepared.body
      stack.description = prepared.template.Description
      stack.parameters = prepared.stored
      stack.capabilities = cs.capabilities
      stack.roleArn = cs.roleArn
      stack.tags = cs.tags
      stack.notificationArns = cs.notificationArns
      stack.changeSetId = cs.changeSetId
      stack.disableRollback = opts.disableRollback ?? false
      stack.status = 'CREATE_IN_PROGRESS'
      this.save(op, stack)
      this.stackEvent(op, stack, 'CREATE_IN_PROGRESS', 'User Initiated', opts.clientRequestToken)
      this.enqueue(stack.stackId, async () => {
        await this.runCreate(
          op,
          stack.stackId,
          prepared,
          calls,
          opts.disableRollback ? 'DO_NOTHING' : 'ROLLBACK',
        )
        finish()
      })
      return
    }
    this.startUpdate(op, stack, prepared, calls, {
      capabilities: cs.capabilities,
      roleArn: cs.roleArn,
      tags: cs.tags,
      notificationArns: cs.notificationArns,
      disableRollback: opts.disableRollback ?? false,
      token: opts.clientRequestToken,
      changeSetId: cs.changeSetId,
    })
    this.enqueue(stack.stackId, () => Promise.resolve(finish()))
  }

  private deleteChangeSetsOf(scope: Scope, stackId: string): void {
    for (const c of this.store.listChangeSets(scope, stackId))
      this.store.deleteChangeSet(scope, c.changeSetId)
  }

  // ---------------------------------------------------------------- summaries

  /** ValidateTemplate / GetTemplateSummary facts: parameters, capabilities, resource types. */
  async summarize(
    op: OpContext,
    src: TemplateSource & { readonly stackName?: string },
  ): Promise<{ template: Template; body: string }> {
    let body: string
    if (src.stackName !== undefined && src.templateBody === undefined && src.templateUrl === undefined) {
      body = this.getStack(op.scope, src.stackName).templateBody
    } else body = await this.templateText(op, src)
    const template = loadTemplate(body)
    const types = [...new Set(Object.values(template.Resources).map((r) => r.Type))]
    const unknownTypes: string[] = []
    for (const t of types) if (!(await this.specOf(t)) && !this.providers.get(t)) unknownTypes.push(t)
    if (unknownTypes.length) throw templateError(`Unrecognized resource types: [${unknownTypes.join(', ')}]`)
    return { template, body }
  }

  // ---------------------------------------------------------------- plumbing

  private enqueue(key: string, work: () => Promise<void>): void {
    const prev = this.ops.get(key) ?? Promise.resolve()
    const next = prev
      .then(work)
      .catch((e: unknown) => {
        // A bug in an operation must not take the sandbox down, nor leave the stack pretending to
        // work: it is marked failed with the error (see recover(), which does the same at start-up).
        this.crashed(key, e)
      })
      .finally(() => {
        if (this.ops.get(key) === next) this.ops.delete(key)
      })
    this.ops.set(key, next)
  }

  private save(op: OpContext, stack: StackRecord): void {
    this.store.putStack(op.scope, stack)
  }

  private setStatus(
    op: OpContext,
    stack: StackRecord,
    status: StackStatus,
    reason?: string,
    token?: string,
  ): void {
    stack.status = status
    stack.statusReason = reason
    this.save(op, stack)
    this.stackEvent(op, stack, status, reason, token)
  }

  private stackEvent(
    op: OpContext,
    stack: StackRecord,
    status: string,
    reason?: string,
    token?: string,
  ): void {
    this.addEvent(op, stack, {
      logicalResourceId: stack.stackName,
      physicalResourceId: stack.stackId,
      resourceType: 'AWS::CloudFormation::Stack',
      resourceStatus: status,
      resourceStatusReason: reason,
      clientRequestToken: token,
    })
  }

  private resourceEvent(
    op: OpContext,
    stack: StackRecord,
    id: string,
    status: ResourceStatus,
    reason?: string,
    props?: unknown,
  ): void {
    const r = stack.resources[id]
    if (r) {
      r.status = status
      if (reason !== undefined && status.endsWith('FAILED')) r.statusReason = reason
      else if (!status.endsWith('FAILED')) r.statusReason = reason
    }
    this.save(op, stack)
    this.addEvent(op, stack, {
      logicalResourceId: id,
      physicalResourceId: r?.physicalId ?? '',
      resourceType: r?.type ?? '',
      resourceStatus: status,
      resourceStatusReason: reason,
      resourceProperties: props !== undefined ? JSON.stringify(props) : undefined,
    })
  }

  private addEvent(
    op: OpContext,
    stack: StackRecord,
    e: Omit<StackEvent, 'eventId' | 'stackId' | 'stackName' | 'timestamp'>,
  ): void {
    // Strictly increasing timestamps keep events in order for clients that sort by time.
    const t = Math.max(this.now().getTime(), this.lastEventTime + 1)
    this.lastEventTime = t
    const eventId =
      e.resourceType === 'AWS::CloudFormation::Stack'
        ? randomUUID()
        : `${e.logicalResourceId}-${e.resourceStatus}-${new Date(t).toISOString()}`
    this.store.addEvent(op.scope, {
      ...e,
      eventId,
      stackId: stack.stackId,
      stackName: stack.stackName,
      timestamp: new Date(t).toISOString(),
    })
  }

  private crashed(key: string, e: unknown): void {
    const reason = `Internal failure of the crosspipe sandbox: ${e instanceof Error ? e.message : String(e)}`
    try {
      for (const s of this.store.allStacks()) {
        if (s.stackId !== key) continue
        this.failInProgress(s, reason)
      }
    } catch {
      // The store itself is gone (the sandbox stopped mid-operation); start-up recovery will
      // mark the stack failed instead.
    }
  }

  private failInProgress(s: StackRecord, reason: string): void {
    const next: Partial<Record<StackStatus, StackStatus>> = {
      CREATE_IN_PROGRESS: 'CREATE_FAILED',
      ROLLBACK_IN_PROGRESS: 'ROLLBACK_FAILED',
      DELETE_IN_PROGRESS: 'DELETE_FAILED',
      UPDATE_IN_PROGRESS: 'UPDATE_ROLLBACK_FAILED',
      UPDATE_COMPLETE_CLEANUP_IN_PROGRESS: 'UPDATE_COMPLETE',
      UPDATE_ROLLBACK_IN_PROGRESS: 'UPDATE_ROLLBACK_FAILED',
      UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS: 'UPDATE_ROLLBACK_COMPLETE',
    }
    const to = next[s.status]
    if (!to) return
    const scope = { account: s.account, region: s.region }
    const op: OpContext = {
      scope,
      partition: s.partition,
      caller: { principal: '', account: s.account, partition: s.partition },
    }
    try {
      this.setStatus(op, s, to, reason)
    } catch {
      // The store is gone (the sandbox is stopping): nothing left to record.
    }
  }

  /**
   * Operations do not survive a restart of the sandbox process: a stack found *_IN_PROGRESS at
   * start-up is marked failed (the operation's final status with the reason), never left
   * pretending to work.
   */
  private recover(): void {
    const reason = 'The crosspipe sandbox stopped while this operation was in progress'
    for (const s of this.store.allStacks()) this.failInProgress(s, reason)
  }
}

/** What an update did to a resource, for rollback and cleanup. */
type Touched =
  | { kind: 'created' }
  | { kind: 'updated'; before: ResourceState }
  | { kind: 'replaced'; before: ResourceState }

/** Names of the exports a stack imports (recorded at its last successful operation). */
function importsOf(s: StackRecord): string[] {
  return s.imports ?? []
}

function collectImportsOf(
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
function topoOrder(ids: ReadonlySet<string>, deps: ReadonlyMap<string, ReadonlySet<string>>): string[] {
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

/** The account of an ARN, for RoleARN checks by hosts. */
export function accountOfArn(arn: string): string | undefined {
  return parseArn(arn)?.account
}
