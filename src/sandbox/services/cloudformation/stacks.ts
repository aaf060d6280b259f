/**
 * Stack records before any work starts: the inputs of the API calls, finding a stack by name or
 * id, names and ids, new records, template sources and their size limits, and the checks a call
 * makes synchronously (updatable state, imports that exist).
 */
import { randomUUID } from 'node:crypto'
import { QUOTAS } from '../../../iam/aws-facts.js'
import { formatArn } from '../../../iam/arn.js'
import { validationError } from './errors.js'
import { intrinsicContext, visitImports, type EngineEnv, type OpContext, type Prepared } from './context.js'
import { UNKNOWN } from './intrinsics.js'
import type { ParameterInput } from './parameters.js'
import type { CfnStore, Scope, StackRecord, StackStatus, Tag } from './store.js'

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

const UPDATABLE: ReadonlySet<StackStatus> = new Set([
  'CREATE_COMPLETE',
  'UPDATE_COMPLETE',
  'UPDATE_ROLLBACK_COMPLETE',
])

const STACK_NAME = /^[a-zA-Z][-a-zA-Z0-9]*$/

/** A stack by name (live stacks only) or by stack id (also deleted ones), or undefined. */
export function findStack(store: CfnStore, scope: Scope, nameOrId: string): StackRecord | undefined {
  if (nameOrId.startsWith('arn:')) return store.getStack(scope, nameOrId)
  const s = store.summaries(scope).find((x) => x.stackName === nameOrId && x.status !== 'DELETE_COMPLETE')
  return s && store.getStack(scope, s.stackId)
}

/** A stack name's constraint (API_CreateStack.html), or the ValidationError AWS gives. */
export function checkStackName(name: string): void {
  if (name.length > QUOTAS.cloudFormation.stackNameLength || !STACK_NAME.test(name)) {
    throw validationError(
      `1 validation error detected: Value '${name}' at 'stackName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*|arn:[-a-zA-Z0-9:/._+]*`,
    )
  }
}

/** Only a stack in a stable, successful state can be updated. */
export function checkUpdatable(stack: StackRecord): void {
  if (!UPDATABLE.has(stack.status)) {
    throw validationError(`Stack:${stack.stackId} is in ${stack.status} state and can not be updated.`)
  }
}

/** A new stack id: `arn:…:cloudformation:<region>:<account>:stack/<name>/<uuid>`. */
export function newStackId(op: OpContext, name: string): string {
  return formatArn({
    partition: op.partition,
    service: 'cloudformation',
    region: op.scope.region,
    account: op.scope.account,
    resource: `stack/${name}/${randomUUID()}`,
  })
}

/** A new stack record (CREATE_IN_PROGRESS; callers set the status they mean). */
export function newStack(
  env: EngineEnv,
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
    creationTime: env.now().toISOString(),
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

/** Reads a template from a source, enforcing the size limits of API_CreateStack.html. */
export async function templateText(
  env: EngineEnv,
  op: OpContext,
  src: TemplateSource,
  stack?: StackRecord,
): Promise<string> {
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
  const text = await env.host.readTemplateUrl({ caller: op.caller, url: src.templateUrl!, scope: op.scope })
  if (Buffer.byteLength(text) > QUOTAS.cloudFormation.templateUrlBytes)
    throw validationError(`Template may not exceed ${QUOTAS.cloudFormation.templateUrlBytes} bytes in size.`)
  return text
}

/** Fails early, as CreateStack does, when the template imports an export that does not exist. */
export function checkImports(
  env: EngineEnv,
  op: OpContext,
  prepared: Prepared,
  stack: {
    readonly stackName: string
    readonly stackId: string
    readonly notificationArns: readonly string[]
  },
): void {
  const ctx = intrinsicContext(env, op, {
    template: prepared.template,
    parameters: prepared.parameters,
    conditions: prepared.conditions,
    stackName: stack.stackName,
    stackId: stack.stackId,
    notificationArns: stack.notificationArns,
    resource: () => UNKNOWN,
  })
  for (const id of prepared.active)
    visitImports(prepared.template.Resources[id]!.Properties, prepared.conditions, ctx)
}
