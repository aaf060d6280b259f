/**
 * Stack events (DescribeStackEvents) as operations record them: the stack's own status changes
 * and each resource's, with strictly increasing timestamps.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_StackEvent.html
 */
import { randomUUID } from 'node:crypto'
import type { CfnStore, ResourceStatus, Scope, StackEvent, StackRecord, StackStatus } from './store.js'

/** A resource or stack event without the fields {@link StackEvents} fills in. */
export type EventFields = Omit<StackEvent, 'eventId' | 'stackId' | 'stackName' | 'timestamp'>

/** Records a region's stack events and the status changes they report. */
export class StackEvents {
  private lastEventTime = 0

  constructor(
    private readonly store: CfnStore,
    private readonly now: () => Date,
  ) {}

  /** Sets and saves a stack's status, with its event. */
  setStatus(scope: Scope, stack: StackRecord, status: StackStatus, reason?: string, token?: string): void {
    stack.status = status
    stack.statusReason = reason
    this.store.putStack(scope, stack)
    this.stack(scope, stack, status, reason, token)
  }

  /** An event of the stack itself (`AWS::CloudFormation::Stack`). */
  stack(scope: Scope, stack: StackRecord, status: string, reason?: string, token?: string): void {
    this.add(scope, stack, {
      logicalResourceId: stack.stackName,
      physicalResourceId: stack.stackId,
      resourceType: 'AWS::CloudFormation::Stack',
      resourceStatus: status,
      resourceStatusReason: reason,
      clientRequestToken: token,
    })
  }

  /**
   * Sets a resource's status (and reason) in the stack record, saves it, and records the event.
   * `save: false` leaves the saving to the caller's next step, for an event that the same
   * synchronous step follows with another saved one: no read can come in between, and each save
   * serializes the whole record.
   */
  resource(
    scope: Scope,
    stack: StackRecord,
    id: string,
    status: ResourceStatus,
    reason?: string,
    props?: unknown,
    save = true,
  ): void {
    const r = stack.resources[id]
    if (r) {
      r.status = status
      if (reason !== undefined && status.endsWith('FAILED')) r.statusReason = reason
      else if (!status.endsWith('FAILED')) r.statusReason = reason
    }
    if (save) this.store.putStack(scope, stack)
    this.add(scope, stack, {
      logicalResourceId: id,
      physicalResourceId: r?.physicalId ?? '',
      resourceType: r?.type ?? '',
      resourceStatus: status,
      resourceStatusReason: reason,
      resourceProperties: props !== undefined ? JSON.stringify(props) : undefined,
    })
  }

  /** Records one event as given. */
  add(scope: Scope, stack: StackRecord, e: EventFields): void {
    // Strictly increasing timestamps keep events in order for clients that sort by time.
    const t = Math.max(this.now().getTime(), this.lastEventTime + 1)
    this.lastEventTime = t
    const eventId =
      e.resourceType === 'AWS::CloudFormation::Stack'
        ? randomUUID()
        : `${e.logicalResourceId}-${e.resourceStatus}-${new Date(t).toISOString()}`
    this.store.addEvent(scope, {
      ...e,
      eventId,
      stackId: stack.stackId,
      stackName: stack.stackName,
      timestamp: new Date(t).toISOString(),
    })
  }
}
