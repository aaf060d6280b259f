/**
 * The base of every stack operation (create, update, delete, and their rollbacks): one object
 * per operation that carries its own context — the stack, who asked, the calls provisioning makes
 * — instead of passing them from method to method. What all of them share lives here: recording
 * status and events, the provider context, and deleting resources in reverse dependency order as
 * one work graph (src/workgraph).
 */
import { randomUUID } from 'node:crypto'
import { dnsSuffix } from '../../../iam/aws-facts.js'
import { WorkGraphError, runWorkGraph, type WorkNode } from '../../../workgraph/index.js'
import { ResourceFailure, failureReason, type EngineEnv, type OpContext } from './context.js'
import type { AwsCalls, ProviderContext } from '../../cfn-providers.js'
import type { ResourceState, ResourceStatus, StackRecord, StackStatus } from './store.js'

/** What an operation works with. */
export interface OperationContext {
  readonly env: EngineEnv
  readonly op: OpContext
  /** The stack as stored when the operation's turn came (one operation at a time per stack). */
  readonly stack: StackRecord
  /** The calls provisioning makes: as the stack's role session, or as the caller. */
  readonly calls: AwsCalls
}

/** One operation on one stack. */
export abstract class StackOperation {
  protected readonly env: EngineEnv
  protected readonly op: OpContext
  protected readonly stack: StackRecord
  protected readonly calls: AwsCalls

  constructor(ctx: OperationContext) {
    this.env = ctx.env
    this.op = ctx.op
    this.stack = ctx.stack
    this.calls = ctx.calls
  }

  /** Runs the operation to its final stack status. */
  abstract run(): Promise<void>

  /** The context a follow-up operation (a rollback) continues with. */
  protected get context(): OperationContext {
    return { env: this.env, op: this.op, stack: this.stack, calls: this.calls }
  }

  protected nowIso(): string {
    return this.env.now().toISOString()
  }

  protected save(): void {
    this.env.store.putStack(this.op.scope, this.stack)
  }

  protected setStatus(status: StackStatus, reason?: string, token?: string): void {
    this.env.events.setStatus(this.op.scope, this.stack, status, reason, token)
  }

  protected stackEvent(status: string, reason?: string, token?: string): void {
    this.env.events.stack(this.op.scope, this.stack, status, reason, token)
  }

  protected resourceEvent(
    id: string,
    status: ResourceStatus,
    reason?: string,
    props?: unknown,
    save = true,
  ): void {
    this.env.events.resource(this.op.scope, this.stack, id, status, reason, props, save)
  }

  /** The logical ids whose deletion failed. */
  protected failedDeletes(): string[] {
    return Object.values(this.stack.resources)
      .filter((r) => r.status === 'DELETE_FAILED')
      .map((r) => r.logicalId)
  }

  /** Deletes every change set of the stack. */
  protected deleteChangeSets(): void {
    for (const c of this.env.store.listChangeSets(this.op.scope, this.stack.stackId))
      this.env.store.deleteChangeSet(this.op.scope, c.changeSetId)
  }

  /**
   * Where and for whom a provider works on resource `id`. `created` hears of a physical resource
   * that exists before its create has finished (see {@link ProviderContext.created}).
   */
  protected providerContext(id: string, created: (physicalId: string) => void = () => {}): ProviderContext {
    const { op, stack } = this
    return {
      account: op.scope.account,
      region: op.scope.region,
      partition: op.partition,
      urlSuffix: dnsSuffix(op.partition),
      stackName: stack.stackName,
      stackId: stack.stackId,
      logicalId: id,
      aws: this.calls,
      local: this.env.store.local(op.scope),
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
      created,
    }
  }

  /**
   * Deletes resources as a reverse work graph: each after every resource that depends on it,
   * independent ones concurrently; a failed deletion does not stop the others. `Retain`
   * resources are skipped (DELETE_SKIPPED) — on rollback of a create too, except
   * `RetainExceptOnCreate`. True when none failed.
   */
  protected async deleteResources(ids: readonly string[], rollbackOfCreate: boolean): Promise<boolean> {
    const { resources } = this.stack
    const nodes = ids
      .filter(
        (id) =>
          resources[id] &&
          resources[id].status !== 'DELETE_COMPLETE' &&
          resources[id].status !== 'DELETE_SKIPPED',
      )
      .map((id): WorkNode<string> => ({ id, dependsOn: resources[id]!.dependsOn, value: id }))
    const run = (graph: readonly WorkNode<string>[]) =>
      runWorkGraph({
        nodes: graph,
        direction: 'reverse',
        succeeded: (ok: boolean) => ok,
        run: (n) => this.deleteOne(n.id, rollbackOfCreate),
      })
    let outcomes
    try {
      outcomes = await run(nodes)
    } catch (e) {
      if (!(e instanceof WorkGraphError)) throw e
      // Only a dependency cycle among stored resources gets here: delete them all at once.
      outcomes = await run(nodes.map((n) => ({ ...n, dependsOn: [] })))
    }
    const thrown = [...outcomes.values()].find((o) => o.state === 'failed' && 'error' in o)
    if (thrown?.state === 'failed') throw thrown.error
    return [...outcomes.values()].every((o) => o.state === 'succeeded')
  }

  /** Deletes one resource (or skips it: Retain, never created). True unless its deletion failed. */
  protected async deleteOne(id: string, rollbackOfCreate: boolean): Promise<boolean> {
    const r = this.stack.resources[id]!
    const retain =
      r.deletionPolicy === 'Retain' || (r.deletionPolicy === 'RetainExceptOnCreate' && !rollbackOfCreate)
    if (r.physicalId === undefined) {
      // Never created (failed or cancelled): nothing to delete, as AWS reports it.
      r.status = 'DELETE_COMPLETE'
      r.lastUpdated = this.nowIso()
      this.resourceEvent(id, 'DELETE_COMPLETE')
      return true
    }
    if (retain) {
      r.status = 'DELETE_SKIPPED'
      r.lastUpdated = this.nowIso()
      this.resourceEvent(id, 'DELETE_SKIPPED')
      return true
    }
    r.status = 'DELETE_IN_PROGRESS'
    this.resourceEvent(id, 'DELETE_IN_PROGRESS')
    const provider = this.env.providers.get(r.type)
    try {
      if (!provider)
        throw new ResourceFailure(`Resource type ${r.type} is not supported by the crosspipe sandbox`)
      await provider.delete(this.providerContext(id), {
        physicalId: r.physicalId,
        properties: r.properties,
        attributes: r.attributes,
      })
      r.status = 'DELETE_COMPLETE'
      r.lastUpdated = this.nowIso()
      this.resourceEvent(id, 'DELETE_COMPLETE')
      return true
    } catch (e) {
      r.status = 'DELETE_FAILED'
      r.statusReason = failureReason(e, r.type)
      r.lastUpdated = this.nowIso()
      this.resourceEvent(id, 'DELETE_FAILED', r.statusReason)
      return false
    }
  }

  /**
   * Deletes a physical resource the stack no longer records — the old one a replacement left
   * behind, or a replacement that a rollback discards — or keeps it (UpdateReplacePolicy Retain).
   */
  protected async deleteOld(
    id: string,
    old: ResourceState,
    policy: 'UpdateReplacePolicy' | 'none',
  ): Promise<void> {
    if (old.physicalId === undefined) return
    const emit = (status: string, reason?: string): void => {
      this.env.events.add(this.op.scope, this.stack, {
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
      await this.env.providers.get(old.type)!.delete(this.providerContext(id), {
        physicalId: old.physicalId,
        properties: old.properties,
        attributes: old.attributes,
      })
      emit('DELETE_COMPLETE')
    } catch (e) {
      emit('DELETE_FAILED', failureReason(e, old.type))
    }
  }
}
