/**
 * A stack's creation: provisions every resource of the template, then its outputs; on failure
 * `OnFailure` decides: `DO_NOTHING` leaves CREATE_FAILED, `ROLLBACK` deletes what was made
 * ({@link CreateRollbackOperation}), `DELETE` also deletes the stack.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html
 */
import { prepare, type EngineEnv, type OpContext, type Prepared } from './context.js'
import { alreadyExists } from './errors.js'
import type { AwsCalls } from '../../cfn-providers.js'
import { ProvisioningOperation, type ProvisioningContext } from './provision.js'
import { CreateRollbackOperation } from './rollback.js'
import { parseStackPolicy } from './stack-policy.js'
import {
  checkImports,
  checkStackName,
  findStack,
  newStack,
  newStackId,
  templateText,
  type StackInput,
} from './stacks.js'
import { checkCapabilities } from './template.js'

/** What {@link beginCreate} hands to the {@link CreateOperation} that runs later. */
export interface BegunCreate {
  readonly stackId: string
  readonly prepared: Prepared
  readonly calls: AwsCalls
  readonly onFailure: 'DO_NOTHING' | 'ROLLBACK' | 'DELETE'
}

/**
 * CreateStack's synchronous part: validates the name, template, parameters, capabilities, stack
 * policy and imports, gets the deploying identity, and records the stack CREATE_IN_PROGRESS.
 */
export async function beginCreate(env: EngineEnv, op: OpContext, input: StackInput): Promise<BegunCreate> {
  checkStackName(input.stackName)
  if (findStack(env.store, op.scope, input.stackName))
    throw alreadyExists(`Stack [${input.stackName}] already exists`)
  const body = await templateText(env, op, input)
  const stackId = newStackId(op, input.stackName)
  const prepared = await prepare(env, op, {
    body,
    given: input.parameters ?? [],
    previous: undefined,
    stackName: input.stackName,
    stackId,
  })
  checkCapabilities(prepared.template, input.capabilities ?? [])
  if (input.stackPolicyBody !== undefined) parseStackPolicy(input.stackPolicyBody)
  checkImports(env, op, prepared, {
    stackName: input.stackName,
    stackId,
    notificationArns: input.notificationArns ?? [],
  })
  const calls = await env.host.deployer({ caller: op.caller, roleArn: input.roleArn, scope: op.scope })
  const stack = newStack(env, op, input, stackId, prepared)
  stack.status = 'CREATE_IN_PROGRESS'
  env.store.putStack(op.scope, stack)
  env.events.stack(op.scope, stack, 'CREATE_IN_PROGRESS', 'User Initiated', input.clientRequestToken)
  const onFailure = input.onFailure ?? (input.disableRollback ? 'DO_NOTHING' : 'ROLLBACK')
  return { stackId, prepared, calls, onFailure }
}

/** The context of a creation. */
export interface CreateContext extends ProvisioningContext {
  readonly onFailure: 'DO_NOTHING' | 'ROLLBACK' | 'DELETE'
}

/** CreateStack, or ExecuteChangeSet of a CREATE change set, once the stack is CREATE_IN_PROGRESS. */
export class CreateOperation extends ProvisioningOperation {
  private readonly onFailure: CreateContext['onFailure']

  constructor(ctx: CreateContext) {
    super(ctx)
    this.onFailure = ctx.onFailure
  }

  async run(): Promise<void> {
    const failed = await this.provision(this.prepared.active)
    let reason = failed.length
      ? `The following resource(s) failed to create: [${failed.join(', ')}]. `
      : undefined
    if (!reason) reason = this.finishOutputs()
    if (!reason) {
      this.stack.status = 'CREATE_COMPLETE'
      this.stack.statusReason = undefined
      this.save()
      this.stackEvent('CREATE_COMPLETE')
      return
    }
    if (this.onFailure === 'DO_NOTHING') {
      this.setStatus('CREATE_FAILED', reason)
      return
    }
    this.setStatus('ROLLBACK_IN_PROGRESS', reason + (failed.length ? 'Rollback requested by user.' : ''))
    await new CreateRollbackOperation({
      ...this.context,
      deleteAfter: this.onFailure === 'DELETE',
    }).run()
  }
}
