/**
 * The CloudFormation engine: the facade api.ts calls. Stack operations (create, update, delete,
 * their rollbacks) are {@link StackOperation}s as the state machine AWS documents, over a
 * {@link CfnStore}, provisioning through {@link ResourceProvider}s with the identity the
 * {@link EngineHost} gives for the stack (its RoleARN session, or the caller). It knows nothing
 * of HTTP: api.ts maps awsQuery requests onto these methods.
 *
 * API calls validate synchronously (template, parameters, capabilities, states) and return; the
 * work then runs in the background, one operation at a time per stack, independent resources
 * concurrently (one work graph, src/workgraph). Behaviour and sources: SPEC.md.
 *
 * Where the rest lives: context.ts (what operations share, template preparation), stacks.ts
 * (inputs, records, checks), operation.ts (the base operation, deletion), provision.ts
 * (provisioning, outputs), create.ts, update.ts, delete.ts, rollback.ts, changesets.ts, events.ts.
 */
import { parseArn } from '../../../iam/arn.js'
import { ChangeSets } from './changesets.js'
import { listExports, type EngineEnv, type EngineHost, type OpContext } from './context.js'
import { CreateOperation, beginCreate, type BegunCreate } from './create.js'
import { DeleteOperation, beginDelete, type DeleteInput } from './delete.js'
import { stackNotFound, templateError, validationError } from './errors.js'
import { StackEvents } from './events.js'
import type { ProviderRegistry } from '../../cfn-providers.js'
import { ContinueUpdateRollbackOperation, beginContinueUpdateRollback } from './rollback.js'
import { resourceSpec as defaultResourceSpec, type ResourceSpec } from './spec.js'
import { parseStackPolicy } from './stack-policy.js'
import {
  findStack,
  templateText,
  type ChangeSetInput,
  type StackInput,
  type TemplateSource,
} from './stacks.js'
import type { CfnStore, ChangeSetRecord, Scope, StackEvent, StackRecord, StackStatus } from './store.js'
import { loadTemplate, type Template } from './template.js'
import { UpdateOperation, beginUpdate, prepareUpdate, type UpdateStart } from './update.js'

export type { Caller, EngineHost, OpContext } from './context.js'
export { failureReason } from './context.js'
export type { ChangeSetInput, StackInput, TemplateSource } from './stacks.js'

/** Options for {@link CloudFormationEngine}. */
export interface EngineOptions {
  readonly store: CfnStore
  readonly providers: ProviderRegistry
  readonly host: EngineHost
  /** The resource specification lookup (default: `@aws-cdk/aws-service-spec`). */
  readonly resourceSpec?: (type: string) => Promise<ResourceSpec | undefined>
  readonly now?: () => Date
}

/** The CloudFormation engine. */
export class CloudFormationEngine {
  private readonly env: EngineEnv
  private readonly changeSets: ChangeSets
  /** The tail of each stack's operation chain: one operation at a time per stack. */
  private readonly ops = new Map<string, Promise<void>>()

  constructor(opts: EngineOptions) {
    const now = opts.now ?? (() => new Date())
    this.env = {
      store: opts.store,
      providers: opts.providers,
      host: opts.host,
      specOf: opts.resourceSpec ?? defaultResourceSpec,
      now,
      events: new StackEvents(opts.store, now),
      cancelled: new Set(),
    }
    this.changeSets = new ChangeSets(this.env, {
      enqueue: (key, work) => this.enqueue(key, work),
      create: (o) => this.startCreate(o),
      update: (o) => this.startUpdate(o),
    })
    this.recover()
  }

  private get store(): CfnStore {
    return this.env.store
  }

  /** Resolves when every background operation has finished (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.ops.size) await Promise.allSettled([...this.ops.values()])
  }

  // ---------------------------------------------------------------- reads

  /** A stack by name (live stacks only) or by stack id (also deleted ones), or undefined. */
  findStack(scope: Scope, nameOrId: string): StackRecord | undefined {
    return findStack(this.store, scope, nameOrId)
  }

  /** Like {@link findStack}, or `Stack with id X does not exist`. */
  getStack(scope: Scope, nameOrId: string): StackRecord {
    const s = this.findStack(scope, nameOrId)
    if (!s) throw stackNotFound(nameOrId)
    return s
  }

  /** DescribeStacks: one stack, or every live stack (not DELETE_COMPLETE), newest first. */
  describeStacks(scope: Scope, nameOrId?: string): StackRecord[] {
    if (nameOrId !== undefined) return [this.getStack(scope, nameOrId)]
    return this.store
      .listStacks(scope)
      .filter((s) => s.status !== 'DELETE_COMPLETE')
      .sort((a, b) => b.creationTime.localeCompare(a.creationTime))
  }

  /** ListStacks: every stack including deleted ones, optionally filtered by status. */
  listStacks(scope: Scope, statuses: readonly string[] = []): StackRecord[] {
    return this.store
      .listStacks(scope)
      .filter((s) => statuses.length === 0 || statuses.includes(s.status))
      .sort((a, b) => b.creationTime.localeCompare(a.creationTime))
  }

  /** DescribeStackEvents, newest first. */
  events(scope: Scope, nameOrId: string): StackEvent[] {
    return this.store.events(scope, this.getStack(scope, nameOrId).stackId)
  }

  /** The exports of a region: name, value and exporting stack. */
  listExports(scope: Scope): { name: string; value: string; stackId: string }[] {
    return listExports(this.store, scope)
  }

  /** The template of a stack (or of a change set). */
  getTemplate(scope: Scope, nameOrId: string, changeSetName?: string): string {
    if (changeSetName !== undefined) return this.getChangeSet(scope, changeSetName, nameOrId).templateBody
    return this.getStack(scope, nameOrId).templateBody
  }

  /** Reads a template from a source, enforcing the size limits of API_CreateStack.html. */
  templateText(op: OpContext, src: TemplateSource, stack?: StackRecord): Promise<string> {
    return templateText(this.env, op, src, stack)
  }

  // ---------------------------------------------------------------- create

  /** CreateStack: validates, records CREATE_IN_PROGRESS and starts the work. */
  async createStack(op: OpContext, input: StackInput): Promise<string> {
    const b = await beginCreate(this.env, op, input)
    this.startCreate({ op, ...b })
    return b.stackId
  }

  /** Queues the creation of a stack recorded CREATE_IN_PROGRESS. */
  private startCreate(o: { readonly op: OpContext } & BegunCreate): void {
    const { op, stackId, prepared, calls, onFailure } = o
    this.enqueue(stackId, () => {
      const stack = this.store.getStack(op.scope, stackId)!
      return new CreateOperation({ env: this.env, op, stack, calls, prepared, onFailure }).run()
    })
  }

  // ---------------------------------------------------------------- delete

  /** DeleteStack: a stack that does not exist is not an error (API_DeleteStack.html). */
  async deleteStack(op: OpContext, nameOrId: string, opts: DeleteInput = {}): Promise<void> {
    const b = await beginDelete(this.env, op, nameOrId, opts)
    if (!b) return
    this.enqueue(b.stack.stackId, async () => {
      const current = this.store.getStack(op.scope, b.stack.stackId)
      if (!current) return
      await new DeleteOperation({
        env: this.env,
        op,
        stack: current,
        calls: b.calls,
        retain: opts.retainResources ?? [],
        ...(opts.clientRequestToken !== undefined ? { token: opts.clientRequestToken } : {}),
      }).run()
    })
  }

  // ---------------------------------------------------------------- update

  /** UpdateStack: `No updates are to be performed.` when nothing would change. */
  async updateStack(op: OpContext, input: StackInput): Promise<string> {
    const u = await prepareUpdate(this.env, op, input)
    this.startUpdate({ op, ...u })
    return u.stack.stackId
  }

  /** Records the start of an update and queues it. */
  private startUpdate(o: UpdateStart): void {
    const { op, stack, prepared, calls } = o
    const begun = beginUpdate({ env: this.env, ...o })
    this.enqueue(stack.stackId, () => {
      const current = this.store.getStack(op.scope, stack.stackId)!
      return new UpdateOperation({ env: this.env, op, stack: current, calls, prepared, ...begun }).run()
    })
  }

  /** SetStackPolicy (API_SetStackPolicy.html). */
  setStackPolicy(scope: Scope, nameOrId: string, body: string): void {
    parseStackPolicy(body)
    const stack = this.getStack(scope, nameOrId)
    stack.stackPolicy = body
    this.store.putStack(scope, stack)
  }

  /** GetStackPolicy (API_GetStackPolicy.html): the policy text, or undefined. */
  getStackPolicy(scope: Scope, nameOrId: string): string | undefined {
    return this.getStack(scope, nameOrId).stackPolicy
  }

  /** UpdateTerminationProtection (API_UpdateTerminationProtection.html); returns the stack id. */
  updateTerminationProtection(scope: Scope, nameOrId: string, enable: boolean): string {
    const stack = this.getStack(scope, nameOrId)
    stack.enableTerminationProtection = enable
    this.store.putStack(scope, stack)
    return stack.stackId
  }

  /**
   * ContinueUpdateRollback: only in UPDATE_ROLLBACK_FAILED. The resources named in
   * `ResourcesToSkip` are recorded as rolled back (UPDATE_COMPLETE, their physical state left as
   * it is) — the way out AWS documents for a rollback that cannot finish
   * (API_ContinueUpdateRollback.html). A failed resource not skipped keeps the stack failed.
   */
  async continueUpdateRollback(
    op: OpContext,
    nameOrId: string,
    skip: readonly string[],
    roleArn?: string,
  ): Promise<void> {
    const b = await beginContinueUpdateRollback(this.env, op, nameOrId, { skip, roleArn })
    this.enqueue(b.stack.stackId, () => {
      const current = this.store.getStack(op.scope, b.stack.stackId)!
      return new ContinueUpdateRollbackOperation({
        env: this.env,
        op,
        stack: current,
        calls: b.calls,
        skip,
      }).run()
    })
  }

  /**
   * CancelUpdateStack: only while UPDATE_IN_PROGRESS; the update stops starting resources and
   * rolls back (API_CancelUpdateStack.html).
   */
  cancelUpdateStack(scope: Scope, nameOrId: string): void {
    const stack = this.getStack(scope, nameOrId)
    if (stack.status !== 'UPDATE_IN_PROGRESS') {
      throw validationError(`CancelUpdateStack cannot be called from current stack status`)
    }
    this.env.cancelled.add(stack.stackId)
  }

  // ---------------------------------------------------------------- change sets

  /** CreateChangeSet: returns the change set id and stack id; the changes are computed in the background. */
  createChangeSet(op: OpContext, input: ChangeSetInput): Promise<{ id: string; stackId: string }> {
    return this.changeSets.create(op, input)
  }

  /** A change set by ARN, or by name within a stack. */
  getChangeSet(scope: Scope, nameOrId: string, stackName?: string): ChangeSetRecord {
    return this.changeSets.get(scope, nameOrId, stackName)
  }

  /** ListChangeSets of a stack, newest first. */
  listChangeSets(scope: Scope, stackName: string): ChangeSetRecord[] {
    return this.changeSets.list(scope, stackName)
  }

  /** DeleteChangeSet: not while it executes. */
  deleteChangeSet(scope: Scope, nameOrId: string, stackName?: string): void {
    this.changeSets.delete(scope, nameOrId, stackName)
  }

  /** ExecuteChangeSet: creates or updates the stack from the change set. */
  executeChangeSet(
    op: OpContext,
    nameOrId: string,
    stackName?: string,
    opts: { disableRollback?: boolean; clientRequestToken?: string } = {},
  ): Promise<void> {
    return this.changeSets.execute(op, nameOrId, stackName, opts)
  }

  // ---------------------------------------------------------------- summaries

  /** ValidateTemplate / GetTemplateSummary facts: parameters, capabilities, resource types. */
  async summarize(
    op: OpContext,
    src: TemplateSource & { readonly stackName?: string },
  ): Promise<{ template: Template; body: string }> {
    let body: string
    if (src.stackName !== undefined && src.templateBody === undefined && src.templateUrl === undefined) {
      body = this.getStack(op.scope, src.stackName).templateBody
    } else body = await this.templateText(op, src)
    const template = loadTemplate(body)
    const types = [...new Set(Object.values(template.Resources).map((r) => r.Type))]
    const unknownTypes: string[] = []
    for (const t of types) if (!(await this.env.specOf(t)) && !this.env.providers.get(t)) unknownTypes.push(t)
    if (unknownTypes.length) throw templateError(`Unrecognized resource types: [${unknownTypes.join(', ')}]`)
    return { template, body }
  }

  // ---------------------------------------------------------------- plumbing

  private enqueue(key: string, work: () => Promise<void>): void {
    const prev = this.ops.get(key) ?? Promise.resolve()
    const next = prev
      .then(work)
      .catch((e: unknown) => {
        // A bug in an operation must not take the sandbox down, nor leave the stack pretending to
        // work: it is marked failed with the error (see recover(), which does the same at start-up).
        this.crashed(key, e)
      })
      .finally(() => {
        if (this.ops.get(key) === next) this.ops.delete(key)
      })
    this.ops.set(key, next)
  }

  private crashed(key: string, e: unknown): void {
    const reason = `Internal failure of the crosspipe sandbox: ${e instanceof Error ? e.message : String(e)}`
    try {
      for (const s of this.store.allStacks()) {
        if (s.stackId !== key) continue
        this.failInProgress(s, reason)
      }
    } catch {
      // The store itself is gone (the sandbox stopped mid-operation); start-up recovery will
      // mark the stack failed instead.
    }
  }

  private failInProgress(s: StackRecord, reason: string): void {
    const next: Partial<Record<StackStatus, StackStatus>> = {
      CREATE_IN_PROGRESS: 'CREATE_FAILED',
      ROLLBACK_IN_PROGRESS: 'ROLLBACK_FAILED',
      DELETE_IN_PROGRESS: 'DELETE_FAILED',
      UPDATE_IN_PROGRESS: 'UPDATE_ROLLBACK_FAILED',
      UPDATE_COMPLETE_CLEANUP_IN_PROGRESS: 'UPDATE_COMPLETE',
      UPDATE_ROLLBACK_IN_PROGRESS: 'UPDATE_ROLLBACK_FAILED',
      UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS: 'UPDATE_ROLLBACK_COMPLETE',
    }
    const to = next[s.status]
    if (!to) return
    try {
      this.env.events.setStatus({ account: s.account, region: s.region }, s, to, reason)
    } catch {
      // The store is gone (the sandbox is stopping): nothing left to record.
    }
  }

  /**
   * Operations do not survive a restart of the sandbox process: a stack found *_IN_PROGRESS at
   * start-up is marked failed (the operation's final status with the reason), never left
   * pretending to work.
   */
  private recover(): void {
    const reason = 'The crosspipe sandbox stopped while this operation was in progress'
    for (const s of this.store.allStacks()) this.failInProgress(s, reason)
  }
}

/** The account of an ARN, for RoleARN checks by hosts. */
export function accountOfArn(arn: string): string | undefined {
  return parseArn(arn)?.account
}
