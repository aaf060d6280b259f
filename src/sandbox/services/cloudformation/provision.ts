/**
 * What creating and updating a stack share: provisioning the template's resources as a forward
 * work graph (src/workgraph), creating, updating in place or replacing each one, and resolving
 * the outputs and exports once they are done.
 */
import { isAwsError } from '../../errors.js'
import { runWorkGraph } from '../../../workgraph/index.js'
import {
  ResourceFailure,
  failureReason,
  importers,
  isObject,
  listExports,
  same,
  stackIntrinsics,
  visitImports,
  type Prepared,
} from './context.js'
import { NO_VALUE, resolveValue } from './intrinsics.js'
import { StackOperation, type OperationContext } from './operation.js'
import type { ResourceProvider } from '../../cfn-providers.js'
import { replacementFor, validateProperties, withStackTags } from './spec.js'
import { stackPolicyDenial } from './stack-policy.js'
import type { OutputState, ResourceState } from './store.js'

/** What an update did to a resource, for rollback and cleanup. */
export type Touched =
  | { kind: 'created' }
  | { kind: 'updated'; before: ResourceState }
  | { kind: 'replaced'; before: ResourceState }

/** The context of an operation that provisions a template. */
export interface ProvisioningContext extends OperationContext {
  readonly prepared: Prepared
  /** The stack policy that governs this operation (updates: StackPolicyDuringUpdateBody or the stack's). */
  readonly policy?: string | undefined
}

/** An operation that provisions a prepared template: create and update. */
export abstract class ProvisioningOperation extends StackOperation {
  protected readonly prepared: Prepared
  protected readonly policy: string | undefined
  /** What this operation did to each resource, in the order it happened. */
  protected readonly touched = new Map<string, Touched>()

  constructor(ctx: ProvisioningContext) {
    super(ctx)
    this.prepared = ctx.prepared
    this.policy = ctx.policy
  }

  /**
   * Creates or updates a set of resources as a work graph: each starts when its dependencies are
   * done; independent ones run concurrently. After the first failure, or once the update is
   * cancelled, nothing new starts (as AWS, which cancels the rest), while those already running
   * finish and are recorded, so that a rollback knows every resource that exists. Returns the
   * logical ids that failed, in the order they failed.
   */
  protected async provision(ids: ReadonlySet<string>): Promise<string[]> {
    const failed: string[] = []
    const outcomes = await runWorkGraph({
      nodes: [...ids].map((id) => ({ id, dependsOn: this.prepared.deps.get(id) ?? [], value: id })),
      onFailure: 'stop',
      stopped: () => this.env.cancelled.has(this.stack.stackId),
      succeeded: (ok: boolean) => ok,
      run: (n) => this.provisionOne(n.id),
      onOutcome: (n, o) => {
        if (o.state === 'failed') failed.push(n.id)
      },
    })
    // provisionOne records a resource's failure itself; a throw is a bug, for the engine to report.
    for (const o of outcomes.values()) if (o.state === 'failed' && 'error' in o) throw o.error
    return failed
  }

  /** Creates, updates in place, or replaces one resource. True when it succeeded. */
  private async provisionOne(id: string): Promise<boolean> {
    const { stack, prepared } = this
    const decl = prepared.template.Resources[id]!
    const existing = stack.resources[id]
    const isCreate = !existing || existing.physicalId === undefined || existing.status === 'DELETE_COMPLETE'
    let props: Record<string, unknown>
    try {
      const resolved = resolveValue(
        decl.Properties ?? {},
        stackIntrinsics(this.env, this.op, stack, prepared),
      )
      props = withStackTags(await this.env.specOf(decl.Type), isObject(resolved) ? resolved : {}, stack.tags)
    } catch (e) {
      return this.failResource(id, decl.Type, isCreate ? 'CREATE' : 'UPDATE', e, existing)
    }
    const base = {
      logicalId: id,
      type: decl.Type,
      dependsOn: [...(prepared.deps.get(id) ?? [])],
      deletionPolicy: typeof decl.DeletionPolicy === 'string' ? decl.DeletionPolicy : undefined,
      updateReplacePolicy:
        typeof decl.UpdateReplacePolicy === 'string' ? decl.UpdateReplacePolicy : undefined,
      metadata: decl.Metadata,
    }
    const provider = this.env.providers.get(decl.Type)
    // A create that fails after its physical resource exists leaves that resource to delete.
    let partial: string | undefined
    const pctx = this.providerContext(id, (pid) => {
      partial = pid
      if (isCreate && stack.resources[id]) stack.resources[id].physicalId = pid
    })
    if (isCreate) {
      stack.resources[id] = {
        ...base,
        status: 'CREATE_IN_PROGRESS',
        lastUpdated: this.nowIso(),
        properties: props,
        attributes: {},
      }
      this.resourceEvent(id, 'CREATE_IN_PROGRESS', undefined, props)
      try {
        await this.check(decl.Type, id, props, provider)
        const res = await provider!.create(pctx, props)
        const r = stack.resources[id]
        r.physicalId = res.physicalId
        r.ref = res.ref
        r.attributes = { ...res.attributes }
        // Saved with CREATE_COMPLETE below, in the same step.
        this.resourceEvent(id, 'CREATE_IN_PROGRESS', 'Resource creation Initiated', props, false)
        r.status = 'CREATE_COMPLETE'
        r.lastUpdated = this.nowIso()
        this.touched.set(id, { kind: 'created' })
        this.resourceEvent(id, 'CREATE_COMPLETE', undefined, props)
        return true
      } catch (e) {
        this.touched.set(id, { kind: 'created' })
        return this.failResource(id, decl.Type, 'CREATE', e, undefined)
      }
    }
    const old = existing
    if (old.type !== decl.Type) {
      return this.failResource(
        id,
        decl.Type,
        'UPDATE',
        new ResourceFailure(
          `Update of resource type is not permitted. The new template modifies resource type of resource ${id}.`,
        ),
        old,
      )
    }
    const metaChanged =
      !same(old.metadata, base.metadata) ||
      old.deletionPolicy !== base.deletionPolicy ||
      old.updateReplacePolicy !== base.updateReplacePolicy
    if (same(old.properties, props)) {
      // Nothing to provision; attributes that only affect CloudFormation are recorded silently.
      if (metaChanged) Object.assign(old, base)
      old.dependsOn = base.dependsOn
      return true
    }
    const spec = await this.env.specOf(decl.Type)
    const { replacement } = replacementFor(spec, old.properties, props)
    const denial = stackPolicyDenial(
      this.policy,
      replacement === 'True' ? 'Update:Replace' : 'Update:Modify',
      id,
      decl.Type,
    )
    if (denial) return this.failResource(id, decl.Type, 'UPDATE', new ResourceFailure(denial), old)
    const before: ResourceState = structuredClone(old)
    if (replacement === 'True') {
      const nameProp = provider?.nameProperty
      if (
        nameProp !== undefined &&
        props[nameProp] !== undefined &&
        same(props[nameProp], old.properties[nameProp])
      ) {
        return this.failResource(
          id,
          decl.Type,
          'UPDATE',
          new ResourceFailure(
            `CloudFormation cannot update a stack when a custom-named resource requires replacing. Rename ${typeof props[nameProp] === 'string' ? props[nameProp] : JSON.stringify(props[nameProp])} and update the stack again.`,
          ),
          old,
        )
      }
      this.resourceEvent(
        id,
        'UPDATE_IN_PROGRESS',
        'Requested update requires the creation of a new physical resource; hence creating one.',
        props,
      )
      try {
        await this.check(decl.Type, id, props, provider)
        const res = await provider!.create(pctx, props)
        stack.resources[id] = {
          ...base,
          physicalId: res.physicalId,
          ref: res.ref,
          attributes: { ...res.attributes },
          properties: props,
          status: 'UPDATE_IN_PROGRESS',
          lastUpdated: this.nowIso(),
        }
        // Saved with UPDATE_COMPLETE below, in the same step.
        this.resourceEvent(id, 'UPDATE_IN_PROGRESS', 'Resource creation Initiated', props, false)
        stack.resources[id].status = 'UPDATE_COMPLETE'
        this.touched.set(id, { kind: 'replaced', before })
        this.resourceEvent(id, 'UPDATE_COMPLETE', undefined, props)
        return true
      } catch (e) {
        const failed = this.failResource(id, decl.Type, 'UPDATE', e, old)
        // The replacement exists but never became the resource: nothing else would delete it.
        if (partial !== undefined)
          await this.deleteOld(id, { ...old, physicalId: partial, properties: props }, 'none')
        return failed
      }
    }
    this.resourceEvent(id, 'UPDATE_IN_PROGRESS', undefined, props)
    try {
      await this.check(decl.Type, id, props, provider)
      if (!provider!.update)
        throw new ResourceFailure(`Updating ${decl.Type} in place is not supported by the crosspipe sandbox`)
      this.touched.set(id, { kind: 'updated', before })
      const res = await provider!.update(
        pctx,
        { physicalId: old.physicalId!, properties: old.properties, attributes: old.attributes },
        props,
      )
      stack.resources[id] = {
        ...base,
        physicalId: res.physicalId,
        ref: res.ref,
        attributes: { ...res.attributes },
        properties: props,
        status: 'UPDATE_COMPLETE',
        lastUpdated: this.nowIso(),
      }
      this.resourceEvent(id, 'UPDATE_COMPLETE', undefined, props)
      return true
    } catch (e) {
      return this.failResource(id, decl.Type, 'UPDATE', e, old)
    }
  }

  /** A provider exists and the properties satisfy the specification, or a ResourceFailure. */
  private async check(
    type: string,
    id: string,
    props: Record<string, unknown>,
    provider: ResourceProvider | undefined,
  ): Promise<void> {
    if (!provider)
      throw new ResourceFailure(`Resource type ${type} is not supported by the crosspipe sandbox`)
    const spec = await this.env.specOf(type)
    if (!spec) return
    const problems = validateProperties(spec, props)
    if (problems.length)
      throw new ResourceFailure(
        `Properties validation failed for resource ${id} with message: ${problems.join(' ')}`,
      )
  }

  /** Records a resource's failure (its status, reason and event). Always false. */
  private failResource(
    id: string,
    type: string,
    verb: 'CREATE' | 'UPDATE',
    e: unknown,
    old: ResourceState | undefined,
  ): false {
    const { stack } = this
    const reason = failureReason(e, type)
    const status = verb === 'CREATE' ? 'CREATE_FAILED' : 'UPDATE_FAILED'
    const r = stack.resources[id] ?? old
    if (r) {
      stack.resources[id] = { ...r, status, statusReason: reason, lastUpdated: this.nowIso() }
    } else {
      stack.resources[id] = {
        logicalId: id,
        type,
        status,
        statusReason: reason,
        lastUpdated: this.nowIso(),
        properties: {},
        attributes: {},
        dependsOn: [],
      }
    }
    this.resourceEvent(id, status, reason)
    return false
  }

  /**
   * Resolves outputs and registers exports. Returns a failure reason (export name taken, an
   * export in use changed or removed), or undefined. On success the stack's outputs and imports
   * are updated.
   */
  protected finishOutputs(): string | undefined {
    const { stack, prepared } = this
    const { store } = this.env
    const imports = new Set<string>()
    const outputs: OutputState[] = []
    try {
      const ctx = stackIntrinsics(this.env, this.op, stack, prepared, { imports })
      for (const [key, o] of Object.entries(prepared.template.Outputs ?? {})) {
        if (o.Condition !== undefined && !prepared.conditions.get(o.Condition)) continue
        const value = resolveValue(o.Value, ctx)
        if (value === NO_VALUE) continue
        const exportName = o.Export !== undefined ? resolveValue(o.Export.Name, ctx) : undefined
        const description = o.Description !== undefined ? resolveValue(o.Description, ctx) : undefined
        outputs.push({
          key,
          value: Array.isArray(value)
            ? value.join(',')
            : typeof value === 'string'
              ? value
              : JSON.stringify(value),
          description: typeof description === 'string' ? description : undefined,
          exportName: typeof exportName === 'string' ? exportName : undefined,
        })
      }
      // Imports made by resource properties count too (a stack that imports cannot be left dangling).
      for (const id of prepared.active) {
        visitImports(prepared.template.Resources[id]!.Properties, prepared.conditions, ctx)
      }
    } catch (e) {
      return isAwsError(e) || e instanceof ResourceFailure ? e.message : String(e)
    }
    const others = listExports(store, this.op.scope).filter((x) => x.stackId !== stack.stackId)
    for (const o of outputs) {
      if (o.exportName === undefined) continue
      const taken = others.find((x) => x.name === o.exportName)
      if (taken) {
        const owner = store.getStack(this.op.scope, taken.stackId)
        return `Export with name ${o.exportName} is already exported by stack ${owner?.stackName ?? taken.stackId}`
      }
    }
    for (const old of stack.outputs) {
      if (old.exportName === undefined) continue
      const now = outputs.find((o) => o.exportName === old.exportName)
      if (now && now.value === old.value) continue
      const users = importers(store, this.op.scope, old.exportName, stack.stackId)
      if (users.length) {
        return now
          ? `Export ${old.exportName} cannot be updated as it is in use by ${users.join(', ')}`
          : `Export ${old.exportName} cannot be deleted as it is in use by ${users.join(', ')}`
      }
    }
    stack.outputs = outputs
    stack.imports = [...imports]
    return undefined
  }
}
