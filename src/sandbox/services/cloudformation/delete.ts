/**
 * A stack's deletion: refused (as an event) while another stack imports one of its exports;
 * otherwise every resource is deleted in reverse dependency order, `Retain` ones and those named
 * in `RetainResources` kept.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DeleteStack.html
 */
import { importers, type EngineEnv, type OpContext } from './context.js'
import { validationError } from './errors.js'
import { StackOperation, type OperationContext } from './operation.js'
import type { AwsCalls } from '../../cfn-providers.js'
import { findStack } from './stacks.js'
import type { StackRecord } from './store.js'

/** DeleteStack's options (API_DeleteStack.html). */
export interface DeleteInput {
  readonly roleArn?: string
  readonly retainResources?: readonly string[]
  readonly clientRequestToken?: string
}

/**
 * DeleteStack's synchronous part: the stack (undefined when there is none: not an error), after
 * the checks of termination protection and `RetainResources`, and the deploying identity.
 */
export async function beginDelete(
  env: EngineEnv,
  op: OpContext,
  nameOrId: string,
  input: DeleteInput,
): Promise<{ readonly stack: StackRecord; readonly calls: AwsCalls } | undefined> {
  const stack = findStack(env.store, op.scope, nameOrId)
  if (!stack || stack.status === 'DELETE_COMPLETE') return undefined
  if (stack.enableTerminationProtection) {
    throw validationError(
      `Stack [${stack.stackName}] cannot be deleted while TerminationProtection is enabled`,
    )
  }
  if (input.retainResources?.length && stack.status !== 'DELETE_FAILED') {
    throw validationError(
      `Invalid operation on stack [${stack.stackId}]. RetainResources can only be specified when the stack is in the DELETE_FAILED state`,
    )
  }
  const roleArn = input.roleArn ?? stack.roleArn
  const calls = await env.host.deployer({ caller: op.caller, roleArn, scope: op.scope })
  return { stack, calls }
}

/** The context of a deletion. */
export interface DeleteContext extends OperationContext {
  /** Logical ids to keep (DeleteStack `RetainResources`, only from DELETE_FAILED). */
  readonly retain: readonly string[]
  readonly token?: string
}

/** DeleteStack. */
export class DeleteOperation extends StackOperation {
  private readonly retain: readonly string[]
  private readonly token: string | undefined

  constructor(ctx: DeleteContext) {
    super(ctx)
    this.retain = ctx.retain
    this.token = ctx.token
  }

  async run(): Promise<void> {
    const { stack } = this
    if (stack.status === 'DELETE_COMPLETE') return
    for (const o of stack.outputs) {
      if (o.exportName === undefined) continue
      const users = importers(this.env.store, this.op.scope, o.exportName, stack.stackId)
      if (users.length) {
        // The stack stays as it is; the refusal is an event (as AWS reports it).
        this.stackEvent(
          stack.status,
          `Export ${o.exportName} cannot be deleted as it is in use by ${users.join(', ')}`,
        )
        return
      }
    }
    if (stack.status === 'REVIEW_IN_PROGRESS') {
      stack.deletionTime = this.nowIso()
      this.setStatus('DELETE_COMPLETE')
      this.deleteChangeSets()
      return
    }
    this.setStatus('DELETE_IN_PROGRESS', 'User Initiated', this.token)
    for (const id of this.retain) {
      const r = stack.resources[id]
      if (r) r.deletionPolicy = 'Retain'
    }
    const ok = await this.deleteResources(Object.keys(stack.resources), false)
    if (!ok) {
      this.setStatus(
        'DELETE_FAILED',
        `The following resource(s) failed to delete: [${this.failedDeletes().join(', ')}]. `,
      )
      return
    }
    stack.deletionTime = this.nowIso()
    stack.outputs = []
    this.deleteChangeSets()
    this.setStatus('DELETE_COMPLETE')
  }
}
