/**
 * A stack's update: provisions the new template (resources added, updated in place or replaced,
 * under the stack policy), then its outputs; on success the replaced and removed resources are
 * deleted (UPDATE_COMPLETE_CLEANUP_IN_PROGRESS); on failure or CancelUpdateStack it rolls back
 * ({@link UpdateRollbackOperation}) unless rollback is disabled.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks.html
 */
import { computeChanges, outputsChange } from './changesets.js'
import { prepare, same, type EngineEnv, type OpContext, type Prepared } from './context.js'
import { stackNotFound, validationError } from './errors.js'
import type { AwsCalls } from '../../cfn-providers.js'
import { ProvisioningOperation, type ProvisioningContext } from './provision.js'
import { UpdateRollbackOperation } from './rollback.js'
import { parseStackPolicy, stackPolicyDenial } from './stack-policy.js'
import { checkUpdatable, findStack, templateText, type StackInput } from './stacks.js'
import type { StackRecord, Tag } from './store.js'
import { checkCapabilities } from './template.js'

/** What an update changes besides the template (UpdateStack or an UPDATE change set). */
export interface UpdateSettings {
  readonly policyDuringUpdate?: string
  readonly capabilities: string[]
  readonly roleArn?: string
  readonly tags: Tag[]
  readonly notificationArns: string[]
  readonly disableRollback: boolean
  readonly token?: string
  readonly changeSetId?: string
}

/**
 * UpdateStack's synchronous part: validates the template, parameters and capabilities, refuses
 * an update that changes nothing (`No updates are to be performed.`), gets the deploying
 * identity and parses the stack policies. What it returns is what {@link beginUpdate} records.
 */
export async function prepareUpdate(
  env: EngineEnv,
  op: OpContext,
  input: StackInput,
): Promise<Omit<UpdateStart, 'op'>> {
  const stack = findStack(env.store, op.scope, input.stackName)
  if (!stack) throw stackNotFound(input.stackName)
  checkUpdatable(stack)
  const body = await templateText(env, op, input, stack)
  // Parameters not sent keep no value: AWS requires UsePreviousValue for that, and so does the sandbox.
  const prepared = await prepare(env, op, {
    body,
    given: input.parameters ?? [],
    previous: stack.parameters,
    stackName: stack.stackName,
    stackId: stack.stackId,
  })
  checkCapabilities(prepared.template, input.capabilities ?? [])
  const tags = input.tags ?? stack.tags
  const changes = await computeChanges({ env, op, stack, prepared, tags })
  if (!changes.length && !outputsChange(env, op, stack, prepared) && same(tags, stack.tags)) {
    throw validationError('No updates are to be performed.')
  }
  const calls = await env.host.deployer({
    caller: op.caller,
    roleArn: input.roleArn ?? stack.roleArn,
    scope: op.scope,
  })
  if (input.stackPolicyBody !== undefined) {
    parseStackPolicy(input.stackPolicyBody)
    stack.stackPolicy = input.stackPolicyBody
  }
  if (input.stackPolicyDuringUpdateBody !== undefined) parseStackPolicy(input.stackPolicyDuringUpdateBody)
  const settings: UpdateSettings = {
    ...(input.stackPolicyDuringUpdateBody !== undefined
      ? { policyDuringUpdate: input.stackPolicyDuringUpdateBody }
      : {}),
    capabilities: [...(input.capabilities ?? [])],
    roleArn: input.roleArn ?? stack.roleArn,
    tags: [...tags],
    notificationArns: input.notificationArns ? [...input.notificationArns] : stack.notificationArns,
    disableRollback: input.disableRollback ?? false,
    token: input.clientRequestToken,
  }
  return { stack, prepared, calls, settings }
}

/** What {@link beginUpdate} hands to the {@link UpdateOperation} that runs later. */
export interface BegunUpdate {
  /** The stack as it was before the update, for the rollback. */
  readonly previous: StackRecord
  /** The stack policy that governs this update. */
  readonly policy: string | undefined
  readonly disableRollback: boolean
}

/** An update ready to start: the stack, its prepared template, the calls and the settings. */
export interface UpdateStart {
  readonly op: OpContext
  readonly stack: StackRecord
  readonly prepared: Prepared
  readonly calls: AwsCalls
  readonly settings: UpdateSettings
}

/**
 * Records the start of an update (UPDATE_IN_PROGRESS, the new template and settings), as the
 * API call does before it returns; the work itself is an {@link UpdateOperation}.
 */
export function beginUpdate(o: UpdateStart & { readonly env: EngineEnv }): BegunUpdate {
  const { env, op, stack, prepared, settings } = o
  const previous = structuredClone(stack)
  const policy = settings.policyDuringUpdate ?? stack.stackPolicy
  stack.status = 'UPDATE_IN_PROGRESS'
  stack.statusReason = 'User Initiated'
  stack.lastUpdatedTime = env.now().toISOString()
  stack.templateBody = prepared.body
  stack.description = prepared.template.Description
  stack.parameters = prepared.stored
  stack.capabilities = settings.capabilities
  stack.roleArn = settings.roleArn
  stack.tags = settings.tags
  stack.notificationArns = settings.notificationArns
  if (settings.changeSetId) stack.changeSetId = settings.changeSetId
  env.store.putStack(op.scope, stack)
  env.events.stack(op.scope, stack, 'UPDATE_IN_PROGRESS', 'User Initiated', settings.token)
  return { previous, policy, disableRollback: settings.disableRollback }
}

/** The context of an update. */
export interface UpdateContext extends ProvisioningContext, Omit<BegunUpdate, 'policy'> {}

/** UpdateStack, or ExecuteChangeSet of an UPDATE change set, once the stack is UPDATE_IN_PROGRESS. */
export class UpdateOperation extends ProvisioningOperation {
  private readonly previous: StackRecord
  private readonly disableRollback: boolean

  constructor(ctx: UpdateContext) {
    super(ctx)
    this.previous = ctx.previous
    this.disableRollback = ctx.disableRollback
  }

  async run(): Promise<void> {
    const { stack, prepared, previous } = this
    // Removals are checked against the stack policy before anything changes.
    const deniedRemovals = Object.values(stack.resources)
      .filter((r) => !prepared.active.has(r.logicalId))
      .filter((r) => {
        const denial = stackPolicyDenial(this.policy, 'Update:Delete', r.logicalId, r.type)
        if (denial) this.resourceEvent(r.logicalId, 'UPDATE_FAILED', denial)
        return denial !== undefined
      })
      .map((r) => r.logicalId)
    const failed = deniedRemovals.length ? deniedRemovals : await this.provision(prepared.active)
    let reason: string | undefined
    let disableRollback = this.disableRollback
    if (this.env.cancelled.delete(stack.stackId)) {
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
      reason = this.finishOutputs()
    }
    if (!reason) {
      this.setStatus('UPDATE_COMPLETE_CLEANUP_IN_PROGRESS')
      const removed = Object.keys(stack.resources).filter((id) => !prepared.active.has(id))
      for (const [id, t] of this.touched) {
        if (t.kind === 'replaced') await this.deleteOld(id, t.before, 'UpdateReplacePolicy')
      }
      await this.deleteResources(removed, false)
      for (const id of removed) delete stack.resources[id]
      this.setStatus('UPDATE_COMPLETE')
      return
    }
    if (disableRollback) {
      this.setStatus('UPDATE_FAILED', reason)
      return
    }
    this.setStatus('UPDATE_ROLLBACK_IN_PROGRESS', reason)
    await new UpdateRollbackOperation({
      ...this.context,
      touched: this.touched,
      previous,
      failed,
    }).run()
  }
}
