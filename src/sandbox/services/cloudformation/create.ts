/**
 * A stack's creation: provisions every resource of the template, then its outputs; on failure
 * `OnFailure` decides: `DO_NOTHING` leaves CREATE_FAILED, `ROLLBACK` deletes what was made
 * ({@link CreateRollbackOperation}), `DELETE` also deletes the stack.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html
 */
import { ProvisioningOperation, type ProvisioningContext } from './provision.js'
import { CreateRollbackOperation } from './rollback.js'

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
