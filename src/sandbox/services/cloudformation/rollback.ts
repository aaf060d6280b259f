/**
 * Rollbacks: of a failed creation (every resource it made is deleted, whatever its name and
 * however far its creation got) and of a failed or cancelled update (created resources deleted,
 * updated ones reverted, replaced ones restored and their replacements deleted), and
 * ContinueUpdateRollback for a rollback that could not finish.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/troubleshooting.html#troubleshooting-errors-update-rollback-failed
 */
import { failureReason, importsOf, type EngineEnv, type OpContext } from './context.js'
import { stackNotFound, validationError } from './errors.js'
import { StackOperation, type OperationContext } from './operation.js'
import type { AwsCalls } from '../../cfn-providers.js'
import { findStack } from './stacks.js'
import type { Touched } from './provision.js'
import type { ResourceState, StackRecord } from './store.js'

/** The context of a creation's rollback. */
export interface CreateRollbackContext extends OperationContext {
  /** OnFailure DELETE: once rolled back, the stack is deleted too. */
  readonly deleteAfter: boolean
}

/**
 * Rolls back a failed creation (the stack is ROLLBACK_IN_PROGRESS): deletes every resource the
 * stack records — those that failed after their physical resource existed, and those whose
 * creation finished after the failure was noticed, included — so that the next attempt does not
 * meet them (a fixed name would fail with AlreadyExists).
 */
export class CreateRollbackOperation extends StackOperation {
  private readonly deleteAfter: boolean

  constructor(ctx: CreateRollbackContext) {
    super(ctx)
    this.deleteAfter = ctx.deleteAfter
  }

  async run(): Promise<void> {
    const { stack } = this
    const ok = await this.deleteResources(Object.keys(stack.resources), true)
    stack.outputs = []
    this.setStatus(
      ok ? 'ROLLBACK_COMPLETE' : 'ROLLBACK_FAILED',
      ok ? undefined : `The following resource(s) failed to delete: [${this.failedDeletes().join(', ')}]. `,
    )
    if (ok && this.deleteAfter) {
      this.setStatus('DELETE_IN_PROGRESS', 'User Initiated')
      stack.deletionTime = this.nowIso()
      this.setStatus('DELETE_COMPLETE')
    }
  }
}

/** The context of an update's rollback. */
export interface UpdateRollbackContext extends OperationContext {
  /** What the update did, in order. */
  readonly touched: ReadonlyMap<string, Touched>
  /** The stack as it was before the update. */
  readonly previous: StackRecord
  /** The logical ids whose update failed. */
  readonly failed: readonly string[]
}

/** Rolls back an update (the stack is UPDATE_ROLLBACK_IN_PROGRESS), undoing what it did last first. */
export class UpdateRollbackOperation extends StackOperation {
  private readonly touched: ReadonlyMap<string, Touched>
  private readonly previous: StackRecord
  private readonly failed: readonly string[]

  constructor(ctx: UpdateRollbackContext) {
    super(ctx)
    this.touched = ctx.touched
    this.previous = ctx.previous
    this.failed = ctx.failed
  }

  async run(): Promise<void> {
    const { stack, previous } = this
    const replacedNew = new Map<string, ResourceState>()
    for (const [id, t] of [...this.touched].reverse()) {
      const current = stack.resources[id]
      if (t.kind === 'created') {
        await this.deleteResources([id], true)
        delete stack.resources[id]
      } else if (t.kind === 'replaced') {
        if (current) replacedNew.set(id, current)
        stack.resources[id] = {
          ...t.before,
          status: 'UPDATE_COMPLETE',
          statusReason: undefined,
          lastUpdated: this.nowIso(),
        }
        this.resourceEvent(id, 'UPDATE_COMPLETE')
      } else if (!(await this.revert(id, t.before, current))) {
        this.restoreMeta()
        this.setStatus('UPDATE_ROLLBACK_FAILED', `The following resource(s) failed to update: [${id}]. `)
        return
      }
    }
    // Resources whose failed update left them untouched go back to their previous record.
    for (const id of this.failed) {
      if (previous.resources[id] && !this.touched.has(id))
        stack.resources[id] = { ...previous.resources[id], lastUpdated: this.nowIso() }
    }
    this.restoreMeta()
    this.setStatus('UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS')
    for (const [id, r] of replacedNew) await this.deleteOld(id, r, 'none')
    this.setStatus('UPDATE_ROLLBACK_COMPLETE')
  }

  /** Updates a resource back to its previous properties. False (recorded UPDATE_FAILED) when it cannot. */
  private async revert(
    id: string,
    before: ResourceState,
    current: ResourceState | undefined,
  ): Promise<boolean> {
    const { stack } = this
    const provider = this.env.providers.get(before.type)
    this.resourceEvent(id, 'UPDATE_IN_PROGRESS')
    try {
      const res = await provider!.update!(
        this.providerContext(id),
        {
          physicalId: current?.physicalId ?? before.physicalId!,
          properties: current?.properties ?? {},
          attributes: current?.attributes ?? {},
        },
        before.properties,
      )
      stack.resources[id] = {
        ...before,
        physicalId: res.physicalId,
        attributes: { ...res.attributes },
        status: 'UPDATE_COMPLETE',
        statusReason: undefined,
        lastUpdated: this.nowIso(),
      }
      this.resourceEvent(id, 'UPDATE_COMPLETE')
      return true
    } catch (e) {
      stack.resources[id] = {
        ...before,
        status: 'UPDATE_FAILED',
        statusReason: failureReason(e, before.type),
        lastUpdated: this.nowIso(),
      }
      this.resourceEvent(id, 'UPDATE_FAILED', stack.resources[id].statusReason)
      return false
    }
  }

  /** The stack's template, parameters, outputs and settings as they were before the update. */
  private restoreMeta(): void {
    const { stack, previous } = this
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
}

/**
 * ContinueUpdateRollback's synchronous part: only in UPDATE_ROLLBACK_FAILED, every resource to
 * skip must exist; then the deploying identity.
 */
export async function beginContinueUpdateRollback(
  env: EngineEnv,
  op: OpContext,
  nameOrId: string,
  input: { readonly skip: readonly string[]; readonly roleArn?: string | undefined },
): Promise<{ readonly stack: StackRecord; readonly calls: AwsCalls }> {
  const stack = findStack(env.store, op.scope, nameOrId)
  if (!stack) throw stackNotFound(nameOrId)
  if (stack.status !== 'UPDATE_ROLLBACK_FAILED') {
    throw validationError(
      `Stack:${stack.stackId} is in ${stack.status} state and can not continue update rollback.`,
    )
  }
  for (const id of input.skip) {
    if (!stack.resources[id])
      throw validationError(`Resource ${id} does not exist for stack ${stack.stackName}`)
  }
  const calls = await env.host.deployer({
    caller: op.caller,
    roleArn: input.roleArn ?? stack.roleArn,
    scope: op.scope,
  })
  return { stack, calls }
}

/** The context of ContinueUpdateRollback. */
export interface ContinueRollbackContext extends OperationContext {
  /** `ResourcesToSkip`: recorded as rolled back, their physical state left as it is. */
  readonly skip: readonly string[]
}

/**
 * ContinueUpdateRollback (the stack is UPDATE_ROLLBACK_FAILED): the resources to skip are
 * recorded as rolled back; a failed resource not skipped keeps the stack failed
 * (API_ContinueUpdateRollback.html).
 */
export class ContinueUpdateRollbackOperation extends StackOperation {
  private readonly skip: readonly string[]

  constructor(ctx: ContinueRollbackContext) {
    super(ctx)
    this.skip = ctx.skip
  }

  run(): Promise<void> {
    const { stack } = this
    this.setStatus('UPDATE_ROLLBACK_IN_PROGRESS', 'User Initiated')
    for (const id of this.skip) {
      stack.resources[id]!.lastUpdated = this.nowIso()
      this.resourceEvent(id, 'UPDATE_COMPLETE', 'Resource skipped during UpdateRollback')
    }
    const stuck = Object.values(stack.resources)
      .filter((r) => r.status === 'UPDATE_FAILED')
      .map((r) => r.logicalId)
    if (stuck.length) {
      this.setStatus(
        'UPDATE_ROLLBACK_FAILED',
        `The following resource(s) failed to update: [${stuck.join(', ')}]. `,
      )
      return Promise.resolve()
    }
    this.setStatus('UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS')
    this.setStatus('UPDATE_ROLLBACK_COMPLETE')
    return Promise.resolve()
  }
}
