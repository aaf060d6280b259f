/**
 * CloudFormation's state: stacks (with their resources, parameters and outputs), stack events,
 * change sets, and the small store of resources whose services the sandbox does not run yet.
 * Keyed by account and region (a {@link Scope}), as CloudFormation is a regional service.
 *
 * Two implementations: {@link MemoryCfnStore} for engine tests, and {@link SqlCfnStore} over the
 * sandbox's SQLite store, so stacks survive a restart.
 */
import type { Db } from '../../store/db.js'
import { ItemTable } from '../../store/db.js'
import type { StoredParameter } from './parameters.js'
import type { LocalResources } from '../../cfn-providers.js'

/** The account and region a stack lives in. */
export interface Scope {
  readonly account: string
  readonly region: string
}

/** Stack statuses: https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_Stack.html */
export type StackStatus =
  | 'CREATE_IN_PROGRESS'
  | 'CREATE_FAILED'
  | 'CREATE_COMPLETE'
  | 'ROLLBACK_IN_PROGRESS'
  | 'ROLLBACK_FAILED'
  | 'ROLLBACK_COMPLETE'
  | 'DELETE_IN_PROGRESS'
  | 'DELETE_FAILED'
  | 'DELETE_COMPLETE'
  | 'UPDATE_IN_PROGRESS'
  | 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS'
  | 'UPDATE_COMPLETE'
  | 'UPDATE_FAILED'
  | 'UPDATE_ROLLBACK_IN_PROGRESS'
  | 'UPDATE_ROLLBACK_FAILED'
  | 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS'
  | 'UPDATE_ROLLBACK_COMPLETE'
  | 'REVIEW_IN_PROGRESS'

/** Resource statuses: API_StackResource.html. */
export type ResourceStatus =
  | 'CREATE_IN_PROGRESS'
  | 'CREATE_FAILED'
  | 'CREATE_COMPLETE'
  | 'DELETE_IN_PROGRESS'
  | 'DELETE_FAILED'
  | 'DELETE_COMPLETE'
  | 'DELETE_SKIPPED'
  | 'UPDATE_IN_PROGRESS'
  | 'UPDATE_FAILED'
  | 'UPDATE_COMPLETE'

/** A tag. */
export interface Tag {
  readonly Key: string
  readonly Value: string
}

/** One resource of a stack. */
export interface ResourceState {
  readonly logicalId: string
  readonly type: string
  physicalId?: string
  status: ResourceStatus
  statusReason?: string
  lastUpdated: string
  /** Resolved properties as last provisioned. */
  properties: Record<string, unknown>
  attributes: Record<string, unknown>
  /** The Ref value when it is not the physical id. */
  ref?: string
  /** Logical ids this resource depends on (for delete order). */
  dependsOn: string[]
  deletionPolicy?: string
  updateReplacePolicy?: string
  metadata?: unknown
}

/** One output. */
export interface OutputState {
  readonly key: string
  readonly value: string
  readonly description?: string
  readonly exportName?: string
}

/** A stack. */
export interface StackRecord {
  readonly stackId: string
  readonly stackName: string
  readonly account: string
  readonly region: string
  readonly partition: string
  status: StackStatus
  statusReason?: string
  readonly creationTime: string
  lastUpdatedTime?: string
  deletionTime?: string
  /** The template text as submitted (GetTemplate returns it unchanged); empty in REVIEW_IN_PROGRESS. */
  templateBody: string
  description?: string
  parameters: StoredParameter[]
  capabilities: string[]
  roleArn?: string
  notificationArns: string[]
  tags: Tag[]
  disableRollback: boolean
  enableTerminationProtection: boolean
  /** The stack policy (JSON text), when one is set. */
  stackPolicy?: string
  timeoutInMinutes?: number
  resources: Record<string, ResourceState>
  outputs: OutputState[]
  /** Export names this stack imports (recorded at its last successful operation). */
  imports?: string[]
  changeSetId?: string
}

/** One stack event: API_StackEvent.html. */
export interface StackEvent {
  readonly eventId: string
  readonly stackId: string
  readonly stackName: string
  readonly logicalResourceId: string
  readonly physicalResourceId?: string
  readonly resourceType: string
  readonly timestamp: string
  readonly resourceStatus: string
  readonly resourceStatusReason?: string
  readonly resourceProperties?: string
  readonly clientRequestToken?: string
}

/** One resource change of a change set: API_ResourceChange.html. */
export interface ResourceChangeRecord {
  readonly action: 'Add' | 'Modify' | 'Remove'
  readonly logicalId: string
  readonly physicalId?: string
  readonly resourceType: string
  readonly replacement?: 'True' | 'False' | 'Conditional'
  readonly scope: string[]
  readonly details: {
    readonly name: string
    readonly requiresRecreation: 'Never' | 'Conditionally' | 'Always'
    readonly evaluation: 'Static' | 'Dynamic'
    readonly changeSource: 'DirectModification' | 'ResourceReference' | 'ParameterReference'
    readonly causingEntity?: string
  }[]
}

/** A change set: API_DescribeChangeSet.html. */
export interface ChangeSetRecord {
  readonly changeSetId: string
  readonly changeSetName: string
  readonly stackId: string
  readonly stackName: string
  readonly changeSetType: 'CREATE' | 'UPDATE'
  readonly description?: string
  status:
    | 'CREATE_PENDING'
    | 'CREATE_IN_PROGRESS'
    | 'CREATE_COMPLETE'
    | 'DELETE_PENDING'
    | 'DELETE_IN_PROGRESS'
    | 'DELETE_COMPLETE'
    | 'DELETE_FAILED'
    | 'FAILED'
  statusReason?: string
  executionStatus:
    'UNAVAILABLE' | 'AVAILABLE' | 'EXECUTE_IN_PROGRESS' | 'EXECUTE_COMPLETE' | 'EXECUTE_FAILED' | 'OBSOLETE'
  readonly creationTime: string
  readonly templateBody: string
  readonly parameters: StoredParameter[]
  readonly capabilities: string[]
  readonly roleArn?: string
  readonly notificationArns: string[]
  readonly tags: Tag[]
  changes: ResourceChangeRecord[]
}

/**
 * What the store keeps at hand of every stack of a scope (deleted ones too): enough to find a
 * stack by name, list a region's exports and find who imports one, without reading and parsing
 * every stack record (template included) of the region at every API call by stack name and at
 * every stack's outputs.
 */
export interface StackSummary {
  readonly stackId: string
  readonly stackName: string
  readonly status: StackStatus
  /** The stack's exported outputs. */
  readonly exports: readonly { readonly name: string; readonly value: string }[]
  /** Export names this stack imports. */
  readonly imports: readonly string[]
}

/** The summary of a stack record. */
export function summarize(s: StackRecord): StackSummary {
  return {
    stackId: s.stackId,
    stackName: s.stackName,
    status: s.status,
    exports: s.outputs.flatMap((o) =>
      o.exportName !== undefined ? [{ name: o.exportName, value: o.value }] : [],
    ),
    imports: [...(s.imports ?? [])],
  }
}

/** The store the engine uses. */
export interface CfnStore {
  getStack(scope: Scope, stackId: string): StackRecord | undefined
  putStack(scope: Scope, stack: StackRecord): void
  listStacks(scope: Scope): StackRecord[]
  /** The summary of every stack of a scope, deleted ones too, as last put. */
  summaries(scope: Scope): StackSummary[]
  /** Every stack of every scope (start-up recovery). */
  allStacks(): StackRecord[]
  addEvent(scope: Scope, event: StackEvent): void
  /** A stack's events, newest first. */
  events(scope: Scope, stackId: string): StackEvent[]
  getChangeSet(scope: Scope, changeSetId: string): ChangeSetRecord | undefined
  putChangeSet(scope: Scope, cs: ChangeSetRecord): void
  deleteChangeSet(scope: Scope, changeSetId: string): void
  listChangeSets(scope: Scope, stackId: string): ChangeSetRecord[]
  /** The local resource store of a scope. */
  local(scope: Scope): LocalResources
}

function scopeKey(s: Scope): string {
  return `${s.account}/${s.region}`
}

/** In-memory store (tests; a sandbox without a state directory). */
export class MemoryCfnStore implements CfnStore {
  private readonly stacks = new Map<string, Map<string, StackRecord>>()
  private readonly eventLog = new Map<string, StackEvent[]>()
  private readonly changeSets = new Map<string, Map<string, ChangeSetRecord>>()
  private readonly locals = new Map<string, Map<string, unknown>>()

  private bucket<T>(m: Map<string, Map<string, T>>, s: Scope): Map<string, T> {
    const k = scopeKey(s)
    let b = m.get(k)
    if (!b) m.set(k, (b = new Map<string, T>()))
    return b
  }

  getStack(scope: Scope, stackId: string): StackRecord | undefined {
    const s = this.bucket(this.stacks, scope).get(stackId)
    return s && structuredClone(s)
  }
  putStack(scope: Scope, stack: StackRecord): void {
    this.bucket(this.stacks, scope).set(stack.stackId, structuredClone(stack))
  }
  listStacks(scope: Scope): StackRecord[] {
    return [...this.bucket(this.stacks, scope).values()].map((s) => structuredClone(s))
  }
  summaries(scope: Scope): StackSummary[] {
    return [...this.bucket(this.stacks, scope).values()].map(summarize)
  }
  allStacks(): StackRecord[] {
    return [...this.stacks.values()].flatMap((b) => [...b.values()]).map((s) => structuredClone(s))
  }
  addEvent(scope: Scope, event: StackEvent): void {
    const k = `${scopeKey(scope)}|${event.stackId}`
    let list = this.eventLog.get(k)
    if (!list) this.eventLog.set(k, (list = []))
    list.push(event)
  }
  events(scope: Scope, stackId: string): StackEvent[] {
    return [...(this.eventLog.get(`${scopeKey(scope)}|${stackId}`) ?? [])].reverse()
  }
  getChangeSet(scope: Scope, id: string): ChangeSetRecord | undefined {
    const c = this.bucket(this.changeSets, scope).get(id)
    return c && structuredClone(c)
  }
  putChangeSet(scope: Scope, cs: ChangeSetRecord): void {
    this.bucket(this.changeSets, scope).set(cs.changeSetId, structuredClone(cs))
  }
  deleteChangeSet(scope: Scope, id: string): void {
    this.bucket(this.changeSets, scope).delete(id)
  }
  listChangeSets(scope: Scope, stackId: string): ChangeSetRecord[] {
    return [...this.bucket(this.changeSets, scope).values()]
      .filter((c) => c.stackId === stackId)
      .map((c) => structuredClone(c))
  }
  local(scope: Scope): LocalResources {
    const b = this.bucket(this.locals, scope)
    return {
      get: <T>(kind: string, id: string) => structuredClone(b.get(`${kind}|${id}`)) as T | undefined,
      put: <T>(kind: string, id: string, value: T) => void b.set(`${kind}|${id}`, structuredClone(value)),
      delete: (kind, id) => b.delete(`${kind}|${id}`),
      list: <T>(kind: string) =>
        [...b.entries()]
          .filter(([k]) => k.startsWith(`${kind}|`))
          .map(([k, v]) => ({ id: k.slice(kind.length + 1), value: structuredClone(v) as T })),
    }
  }
}

/**
 * The store over the sandbox's SQLite database (ItemTable namespaces `cloudformation.*`). Event
 * ids sort by time (a zero-padded sequence), so a prefix listing gives them in order.
 */
export class SqlCfnStore implements CfnStore {
  private readonly stacks: ItemTable<StackRecord>
  private readonly eventTable: ItemTable<StackEvent>
  private readonly changeSets: ItemTable<ChangeSetRecord>
  private readonly locals: ItemTable<unknown>
  private seq = 0
  /**
   * Writes not yet in the database, by table and key (a later write of a key replaces an earlier
   * one). A stack operation writes its stack and an event at every step of every resource; each
   * write on its own is a transaction of its own (a WAL append and a system call). They are
   * applied together, in one transaction, after the current turn of the event loop, and before
   * any read of this store (so every read, of any request, sees every write).
   */
  private readonly pending = new Map<string, () => void>()
  /**
   * The summaries of the stacks of each scope read so far, by stack id: built from the database at
   * the first use of a scope, then kept by {@link putStack} (this process is the only writer: the
   * sandbox holds its state directory's lock). Derived from the records, so nothing to persist.
   */
  private readonly stackIndex = new Map<string, Map<string, StackSummary>>()
  /** The change set ids of each scope read so far, with their stack's id: kept like {@link stackIndex}. */
  private readonly changeSetIndex = new Map<string, Map<string, string>>()

  constructor(private readonly db: Db) {
    this.stacks = new ItemTable(db, 'cloudformation.stack')
    this.eventTable = new ItemTable(db, 'cloudformation.event')
    this.changeSets = new ItemTable(db, 'cloudformation.changeset')
    this.locals = new ItemTable(db, 'cloudformation.local')
  }

  /**
   * Queues a write; callers pass values serialized now (JSON.stringify, the copy and the row body
   * at once: a stack is written at every step of every resource, and most of those writes are
   * replaced before the flush), so later changes to them are not written.
   */
  private write(key: string, op: () => void): void {
    if (this.pending.size === 0)
      setImmediate(() => {
        try {
          this.flush()
        } catch {
          // The writes stay queued: the next read of this store applies them or throws the
          // error (a full disk, a closed database) to a caller that can report it.
        }
      })
    this.pending.delete(key)
    this.pending.set(key, op)
  }

  /** Applies the queued writes in one transaction (all or none: on error they stay queued). */
  flush(): void {
    if (this.pending.size === 0) return
    const ops = [...this.pending.values()]
    this.db.transaction(() => {
      for (const op of ops) op()
    })()
    this.pending.clear()
  }

  getStack(scope: Scope, stackId: string): StackRecord | undefined {
    this.flush()
    return this.stacks.get(scopeKey(scope), stackId)
  }
  putStack(scope: Scope, stack: StackRecord): void {
    const { stackId } = stack
    const json = JSON.stringify(stack)
    this.stackIndex.get(scopeKey(scope))?.set(stackId, summarize(stack))
    this.write(`stack|${scopeKey(scope)}|${stackId}`, () =>
      this.stacks.putJson(scopeKey(scope), stackId, json),
    )
  }
  listStacks(scope: Scope): StackRecord[] {
    this.flush()
    return this.stacks.list(scopeKey(scope)).map((r) => r.value)
  }
  summaries(scope: Scope): StackSummary[] {
    const k = scopeKey(scope)
    let index = this.stackIndex.get(k)
    if (!index) {
      index = new Map(this.listStacks(scope).map((s) => [s.stackId, summarize(s)]))
      this.stackIndex.set(k, index)
    }
    return [...index.values()]
  }
  allStacks(): StackRecord[] {
    this.flush()
    return this.stacks.all().map((r) => r.value)
  }
  addEvent(scope: Scope, event: StackEvent): void {
    // Time first, then a process-local sequence: ids sort in the order events happened, also
    // across restarts (the clock moves on).
    const id = `${event.stackId}|${event.timestamp}|${String(++this.seq).padStart(10, '0')}`
    const json = JSON.stringify(event)
    this.write(`event|${id}`, () => this.eventTable.putJson(scopeKey(scope), id, json))
  }
  events(scope: Scope, stackId: string): StackEvent[] {
    this.flush()
    return this.eventTable
      .list(scopeKey(scope), `${stackId}|`)
      .map((r) => r.value)
      .reverse()
  }
  getChangeSet(scope: Scope, id: string): ChangeSetRecord | undefined {
    this.flush()
    return this.changeSets.get(scopeKey(scope), id)
  }
  putChangeSet(scope: Scope, cs: ChangeSetRecord): void {
    const { changeSetId } = cs
    const json = JSON.stringify(cs)
    this.changeSetIndex.get(scopeKey(scope))?.set(changeSetId, cs.stackId)
    this.write(`changeset|${scopeKey(scope)}|${changeSetId}`, () =>
      this.changeSets.putJson(scopeKey(scope), changeSetId, json),
    )
  }
  deleteChangeSet(scope: Scope, id: string): void {
    this.changeSetIndex.get(scopeKey(scope))?.delete(id)
    this.write(`changeset|${scopeKey(scope)}|${id}`, () => void this.changeSets.delete(scopeKey(scope), id))
  }
  listChangeSets(scope: Scope, stackId: string): ChangeSetRecord[] {
    this.flush()
    const k = scopeKey(scope)
    const index = this.changeSetIndex.get(k)
    if (!index) {
      const all = this.changeSets.list(k).map((r) => r.value)
      this.changeSetIndex.set(k, new Map(all.map((c) => [c.changeSetId, c.stackId])))
      return all.filter((c) => c.stackId === stackId)
    }
    // Only this stack's records are read and parsed (each carries its template).
    const out: ChangeSetRecord[] = []
    for (const [id, owner] of index) {
      if (owner !== stackId) continue
      const c = this.changeSets.get(k, id)
      if (c) out.push(c)
    }
    // In id order, as a listing of the table gives them.
    return out.sort((a, b) => (a.changeSetId < b.changeSetId ? -1 : 1))
  }
  local(scope: Scope): LocalResources {
    const k = scopeKey(scope)
    const t = this.locals
    return {
      get: <T>(kind: string, id: string) => t.get(k, `${kind}|${id}`) as T | undefined,
      put: <T>(kind: string, id: string, value: T) => t.put(k, `${kind}|${id}`, value),
      delete: (kind, id) => t.delete(k, `${kind}|${id}`),
      list: <T>(kind: string) =>
        t.list(k, `${kind}|`).map((r) => ({ id: r.id.slice(kind.length + 1), value: r.value as T })),
    }
  }
}
