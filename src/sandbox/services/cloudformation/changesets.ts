/**
 * Change sets: CreateChangeSet computes, in the background as AWS does, the resource changes an
 * update would make (or the Adds of a creation); ExecuteChangeSet starts the creation or update
 * and then deletes the stack's other change sets.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-changesets.html
 */
import { randomUUID } from 'node:crypto'
import { formatArn } from '../../../iam/arn.js'
import { isAwsError } from '../../errors.js'
import {
  alreadyExists,
  changeSetNotFound,
  invalidChangeSetStatus,
  stackNotFound,
  validationError,
} from './errors.js'
import {
  isObject,
  prepare,
  same,
  stackIntrinsics,
  topoOrder,
  type EngineEnv,
  type OpContext,
  type Prepared,
} from './context.js'
import { containsUnknown, resolveValue } from './intrinsics.js'
import { replacementFor, withStackTags } from './spec.js'
import {
  checkStackName,
  checkUpdatable,
  findStack,
  newStack,
  newStackId,
  templateText,
  type ChangeSetInput,
} from './stacks.js'
import type { ChangeSetRecord, ResourceChangeRecord, Scope, StackRecord, Tag } from './store.js'
import { checkCapabilities } from './template.js'
import type { BegunCreate } from './create.js'
import type { UpdateStart } from './update.js'

/** How change sets start work: the engine's operation queue. */
export interface ChangeSetRunner {
  /** Queues work under a key (a stack id, a change set id): one piece at a time per key. */
  enqueue(key: string, work: () => Promise<void>): void
  /** Queues the creation of a stack already recorded CREATE_IN_PROGRESS. */
  create(o: { readonly op: OpContext } & BegunCreate): void
  /** Records the start of an update and queues it. */
  update(o: UpdateStart): void
}

/** Options of {@link computeChanges}. */
export interface ChangesOptions {
  readonly env: EngineEnv
  readonly op: OpContext
  readonly stack: StackRecord
  readonly prepared: Prepared
  readonly tags?: readonly Tag[]
}

/**
 * The resource changes an update would make, as DescribeChangeSet reports them: Add, Remove,
 * and Modify with Replacement True / False / Conditional from the specification's create-only
 * properties. Values of resources that are added or replaced are unknown until provisioned;
 * a property that depends on one is a Dynamic change.
 */
export async function computeChanges(o: ChangesOptions): Promise<ResourceChangeRecord[]> {
  const { env, op, stack, prepared } = o
  const tags = o.tags ?? stack.tags
  const changes: ResourceChangeRecord[] = []
  const unknown = new Set<string>()
  for (const id of topoOrder(prepared.active, prepared.deps)) {
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
    const ctx = stackIntrinsics(env, op, stack, prepared, { unknown })
    const resolved = resolveValue(decl.Properties ?? {}, ctx)
    const props = withStackTags(await env.specOf(decl.Type), isObject(resolved) ? resolved : {}, tags)
    const dynamic = new Set(Object.keys(props).filter((k) => containsUnknown(props[k])))
    const spec = await env.specOf(decl.Type)
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

/** True when the new template's outputs (values, exports, descriptions) differ from the stack's. */
export function outputsChange(
  env: EngineEnv,
  op: OpContext,
  stack: StackRecord,
  prepared: Prepared,
): boolean {
  const ctx = stackIntrinsics(env, op, stack, prepared)
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

/** The change set calls of the API. */
export class ChangeSets {
  constructor(
    private readonly env: EngineEnv,
    private readonly runner: ChangeSetRunner,
  ) {}

  /** CreateChangeSet: returns the change set id and stack id; the changes are computed in the background. */
  async create(op: OpContext, input: ChangeSetInput): Promise<{ id: string; stackId: string }> {
    const { env } = this
    const type = input.changeSetType ?? 'UPDATE'
    if (!/^[a-zA-Z][-a-zA-Z0-9]*$/.test(input.changeSetName) || input.changeSetName.length > 128) {
      throw validationError(
        `1 validation error detected: Value '${input.changeSetName}' at 'changeSetName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*`,
      )
    }
    checkStackName(input.stackName)
    let stack = findStack(env.store, op.scope, input.stackName)
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
      checkUpdatable(stack)
    }
    if (
      stack &&
      env.store.listChangeSets(op.scope, stack.stackId).some((c) => c.changeSetName === input.changeSetName)
    ) {
      throw alreadyExists(`ChangeSet [${input.changeSetName}] already exists`)
    }
    const body = await templateText(env, op, input, stack)
    const stackId = stack?.stackId ?? newStackId(op, input.stackName)
    const prepared = await prepare(env, op, {
      body,
      given: input.parameters ?? [],
      previous: stack?.parameters,
      stackName: input.stackName,
      stackId,
    })
    checkCapabilities(prepared.template, input.capabilities ?? [])
    if (input.roleArn !== undefined)
      await env.host.deployer({ caller: op.caller, roleArn: input.roleArn, scope: op.scope })
    if (!stack) {
      stack = newStack(env, op, input, stackId, undefined)
      stack.status = 'REVIEW_IN_PROGRESS'
      env.store.putStack(op.scope, stack)
      env.events.stack(op.scope, stack, 'REVIEW_IN_PROGRESS', 'User Initiated')
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
      creationTime: env.now().toISOString(),
      templateBody: body,
      parameters: prepared.stored,
      capabilities: [...(input.capabilities ?? [])],
      roleArn: input.roleArn ?? (type === 'UPDATE' ? stack.roleArn : undefined),
      notificationArns: [...(input.notificationArns ?? stack.notificationArns)],
      tags: [...(input.tags ?? (type === 'UPDATE' ? stack.tags : []))],
      changes: [],
    }
    env.store.putChangeSet(op.scope, cs)
    const current = stack
    // Computing the changes is quick but, as on AWS, asynchronous: clients poll DescribeChangeSet.
    this.runner.enqueue(`changeset:${id}`, async () => {
      const rec = env.store.getChangeSet(op.scope, id)
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
            : await computeChanges({ env, op, stack: current, prepared, tags: rec.tags })
        rec.changes = changes
        const tagsChanged = type === 'UPDATE' && !same(rec.tags, current.tags)
        if (
          type === 'UPDATE' &&
          !changes.length &&
          !tagsChanged &&
          !outputsChange(env, op, current, prepared)
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
      env.store.putChangeSet(op.scope, rec)
    })
    return { id, stackId }
  }

  /** A change set by ARN, or by name within a stack. */
  get(scope: Scope, nameOrId: string, stackName?: string): ChangeSetRecord {
    const { store } = this.env
    if (nameOrId.startsWith('arn:')) {
      const cs = store.getChangeSet(scope, nameOrId)
      if (!cs) throw changeSetNotFound(nameOrId)
      return cs
    }
    if (stackName === undefined) {
      throw validationError('StackName must be specified if ChangeSetName is not specified as an ARN.')
    }
    const stack = findStack(store, scope, stackName)
    if (!stack) throw changeSetNotFound(nameOrId)
    const cs = store.listChangeSets(scope, stack.stackId).find((c) => c.changeSetName === nameOrId)
    if (!cs) throw changeSetNotFound(nameOrId)
    return cs
  }

  /** ListChangeSets of a stack, newest first. */
  list(scope: Scope, stackName: string): ChangeSetRecord[] {
    const stack = findStack(this.env.store, scope, stackName)
    if (!stack) throw stackNotFound(stackName)
    return this.env.store
      .listChangeSets(scope, stack.stackId)
      .sort((a, b) => b.creationTime.localeCompare(a.creationTime))
  }

  /** DeleteChangeSet: not while it executes. */
  delete(scope: Scope, nameOrId: string, stackName?: string): void {
    const { store } = this.env
    const cs = this.get(scope, nameOrId, stackName)
    if (cs.executionStatus === 'EXECUTE_IN_PROGRESS') {
      throw invalidChangeSetStatus(
        `Cannot delete ChangeSet [${cs.changeSetId}] because it is in EXECUTE_IN_PROGRESS state.`,
      )
    }
    store.deleteChangeSet(scope, cs.changeSetId)
    // Deleting the last change set of a stack that was never created removes the stack (as AWS).
    const stack = store.getStack(scope, cs.stackId)
    if (stack?.status === 'REVIEW_IN_PROGRESS' && store.listChangeSets(scope, stack.stackId).length === 0) {
      stack.status = 'DELETE_COMPLETE'
      stack.deletionTime = this.env.now().toISOString()
      store.putStack(scope, stack)
    }
  }

  /** ExecuteChangeSet: creates or updates the stack from the change set. */
  async execute(
    op: OpContext,
    nameOrId: string,
    stackName?: string,
    opts: { readonly disableRollback?: boolean; readonly clientRequestToken?: string } = {},
  ): Promise<void> {
    const { env } = this
    const cs = this.get(op.scope, nameOrId, stackName)
    if (cs.executionStatus !== 'AVAILABLE' || cs.status !== 'CREATE_COMPLETE') {
      throw invalidChangeSetStatus(
        `ChangeSet [${cs.changeSetId}] cannot be executed in its current status of [${cs.status}]`,
      )
    }
    const stack = env.store.getStack(op.scope, cs.stackId)
    if (!stack || stack.status === 'DELETE_COMPLETE') throw stackNotFound(cs.stackName)
    if (cs.changeSetType === 'UPDATE') checkUpdatable(stack)
    const prepared = await prepare(env, op, {
      body: cs.templateBody,
      given: cs.parameters.map((p) => ({ ParameterKey: p.key, ParameterValue: p.value })),
      previous: stack.parameters,
      stackName: stack.stackName,
      stackId: stack.stackId,
    })
    const calls = await env.host.deployer({ caller: op.caller, roleArn: cs.roleArn, scope: op.scope })
    cs.executionStatus = 'EXECUTE_IN_PROGRESS'
    env.store.putChangeSet(op.scope, cs)
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
      env.store.putStack(op.scope, stack)
      env.events.stack(op.scope, stack, 'CREATE_IN_PROGRESS', 'User Initiated', opts.clientRequestToken)
      this.runner.create({
        op,
        stackId: stack.stackId,
        prepared,
        calls,
        onFailure: opts.disableRollback ? 'DO_NOTHING' : 'ROLLBACK',
      })
    } else {
      this.runner.update({
        op,
        stack,
        prepared,
        calls,
        settings: {
          capabilities: cs.capabilities,
          roleArn: cs.roleArn,
          tags: cs.tags,
          notificationArns: cs.notificationArns,
          disableRollback: opts.disableRollback ?? false,
          token: opts.clientRequestToken,
          changeSetId: cs.changeSetId,
        },
      })
    }
    this.runner.enqueue(stack.stackId, () => Promise.resolve(this.finishExecution(op.scope, cs)))
  }

  /** Records how the execution ended and deletes the stack's other change sets. */
  private finishExecution(scope: Scope, cs: ChangeSetRecord): void {
    const { store } = this.env
    const after = store.getStack(scope, cs.stackId)
    const okStatus = after && (after.status === 'CREATE_COMPLETE' || after.status === 'UPDATE_COMPLETE')
    const rec = store.getChangeSet(scope, cs.changeSetId)
    if (rec) {
      rec.executionStatus = okStatus ? 'EXECUTE_COMPLETE' : 'EXECUTE_FAILED'
      store.putChangeSet(scope, rec)
    }
    // After execution CloudFormation deletes the stack's other change sets (using-cfn-updating-stacks-changesets-execute.html).
    for (const other of store.listChangeSets(scope, cs.stackId)) {
      if (other.changeSetId !== cs.changeSetId) store.deleteChangeSet(scope, other.changeSetId)
    }
  }
}
