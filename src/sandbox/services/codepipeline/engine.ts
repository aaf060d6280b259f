/**
 * The execution engine: runs pipeline executions as CodePipeline does
 * (https://docs.aws.amazon.com/codepipeline/latest/userguide/concepts-how-it-works.html):
 * stages in order; within a stage, actions by runOrder, equal run orders in parallel; a stage
 * holds one execution at a time, and an execution that finished a stage waits before the next
 * one while it is busy. In SUPERSEDED mode (the default, and V1's only mode) a newer waiting
 * execution replaces an older one, which ends `Superseded`; QUEUED waits in order; PARALLEL
 * never waits.
 *
 * The service assumes the pipeline role (trust policy for `codepipeline.amazonaws.com`, decided
 * by the IAM engine); an action with a roleArn runs as that role, assumed by the pipeline role's
 * session through STS's own AssumeRole. Everything an action does afterwards goes through the
 * other services' handlers as that identity.
 *
 * State is written at every change. After a restart, executions waiting between stages or on a
 * manual approval resume; work that was in flight (builds, stack operations) cannot, and those
 * executions end `Failed` with a summary saying so.
 */
import { randomUUID } from 'node:crypto'
import type { Identity } from '../../auth/identity.js'
import { formatArn } from '../../../iam/arn.js'
import type { Runtime } from '../../runtime.js'
import { assumeRoleAsService } from '../../auth/sessions.js'
import { assumeRoleAs, describeError, type Acting } from '../../internal/client.js'
import { registerShutdown } from '../../shutdown.js'
import {
  ACTIONS,
  Abandoned,
  codeCommitRevision,
  s3SourceRevision,
  type ActionContext,
  type PlannedOutput,
} from './actions.js'
import { ActionFailure, artifactKey, readArtifact, storeFor, writeArtifact } from './artifacts.js'
import { typeKey } from './declaration.js'
import {
  approvalCompleted,
  duplicatedStop,
  invalidApprovalToken,
  notStoppable,
  stageNotRetryable,
} from './errors.js'
import type {
  ActionDeclaration,
  ActionRun,
  ArtifactRef,
  ExecutionRecord,
  PipelineDeclaration,
  PipelineRecord,
  PipelineStore,
  StageDeclaration,
  StageRun,
} from './store.js'

/** Where a pipeline lives. */
interface Where {
  readonly account: string
  readonly region: string
}

interface Waiter {
  readonly executionId: string
  readonly resolve: (entered: boolean) => void
}

interface Lock {
  holder?: string
  waiting: Waiter[]
}

interface Live {
  readonly where: Where
  readonly exec: ExecutionRecord
  readonly controllers: Set<AbortController>
  waiter?: { lock: Lock; waiter: Waiter; stage: string }
  /** The first stage is done (the poller does not start a second execution for the same change). */
  sourced: boolean
}

interface PendingApproval {
  readonly token: string
  readonly resolve: (r: { status: 'Approved' | 'Rejected'; summary: string; by: string }) => void
}

/** Options for {@link PipelineEngine}. */
export interface PipelineEngineOptions {
  readonly runtime: Runtime
  readonly store: PipelineStore
  /** How often source changes are polled (ms); default 1000. */
  readonly pollIntervalMs?: number
}

const now = (): string => new Date().toISOString()

/** Runs executions; one per sandbox. */
export class PipelineEngine {
  private readonly runtime: Runtime
  private readonly store: PipelineStore
  private readonly locks = new Map<string, Lock>()
  private readonly live = new Map<string, Live>()
  private readonly approvals = new Map<string, PendingApproval>()
  private readonly pollSessions = new Map<string, { identity: Identity; until: number }>()
  private timer?: NodeJS.Timeout
  private polling = false
  private closed = false
  private seq = Date.now()

  constructor(private readonly o: PipelineEngineOptions) {
    this.runtime = o.runtime
    this.store = o.store
    this.recover()
    registerShutdown(this.runtime, () => this.shutdown())
    this.timer = setInterval(() => void this.poll(), o.pollIntervalMs ?? 1000)
    this.timer.unref()
  }

  /** Stops polling and abandons everything in flight (the sandbox is stopping). */
  shutdown(): void {
    this.closed = true
    clearInterval(this.timer)
    for (const l of this.live.values()) for (const c of l.controllers) c.abort()
  }

  // ---- persistence -----------------------------------------------------------

  private save(where: Where, e: ExecutionRecord): void {
    if (this.closed) return
    e.lastUpdateTime = now()
    this.store.saveExecution(where.account, where.region, e)
  }

  private mutatePipeline(where: Where, name: string, f: (p: PipelineRecord) => void): void {
    if (this.closed) return
    const p = this.store.pipeline(where.account, where.region, name)
    if (!p) return
    f(p)
    this.store.savePipeline(p)
  }

  /**
   * Executions that were running when the sandbox stopped. What waited on a person or on a free
   * stage resumes — an execution between stages enters the next one, a stage whose only
   * unfinished actions are manual approvals asks for approval again (with a new token). Work
   * that was in flight (a build, a stack operation) cannot resume: such executions end Failed.
   */
  private recover(): void {
    const message =
      'The crosspipe sandbox stopped while this execution ran; it cannot resume. Start a new execution.'
    const resume: {
      where: Where
      e: ExecutionRecord
      from: number
      retry?: { stage: string; mode: string }
    }[] = []
    for (const { scope, value: e } of this.store.executions.all()) {
      if (e.status !== 'InProgress' && e.status !== 'Stopping') continue
      const [account = '', region = ''] = scope.split('/')
      const where = { account, region }
      const stages = e.declaration.stages
      const current = stages.findIndex((s) => {
        const st = e.stages[s.name]?.status
        return st === 'InProgress' || st === 'Stopping'
      })
      if (e.status === 'InProgress' && current >= 0) {
        const decl = stages[current]!
        const run = e.stages[decl.name]!
        const unfinished = decl.actions.filter((a) => run.actions[a.name]?.status !== 'Succeeded')
        const inFlight = unfinished.filter((a) => run.actions[a.name]?.status === 'InProgress')
        if (inFlight.length && inFlight.every((a) => typeKey(a) === 'Approval/AWS/Manual/1')) {
          resume.push({ where, e, from: current, retry: { stage: decl.name, mode: 'FAILED_ACTIONS' } })
          continue
        }
      }
      if (e.status === 'InProgress' && current < 0) {
        // Between stages: the last stage it entered succeeded, the next one was busy.
        let last = -1
        stages.forEach((s, i) => {
          if (e.stages[s.name]) last = i
        })
        if (last >= 0 && e.stages[stages[last]!.name]!.status === 'Succeeded' && last + 1 < stages.length) {
          resume.push({ where, e, from: last + 1 })
          continue
        }
      }
      for (const s of Object.values(e.stages)) {
        if (s.status !== 'InProgress' && s.status !== 'Stopping') continue
        s.status = 'Failed'
        s.endTime = now()
        for (const a of Object.values(s.actions))
          if (a.status === 'InProgress') {
            a.status = 'Failed'
            a.errorDetails = { code: 'JobFailed', message }
            a.lastUpdateTime = now()
          }
      }
      e.status = 'Failed'
      e.statusSummary = message
      this.save(where, e)
    }
    for (const { value: p } of this.store.pipelines.all())
      if (Object.keys(p.stageInbound).length) {
        p.stageInbound = {}
        this.store.savePipeline(p)
      }
    // Resumed in their start order, once every service is registered.
    resume.sort((a, b) => a.e.seq - b.e.seq)
    if (resume.length)
      setImmediate(() => {
        for (const r of resume) if (!this.closed) this.launch(r.where, r.e, r.from, r.retry)
      })
  }

  // ---- stage locks -----------------------------------------------------------

  private lockOf(where: Where, pipeline: string, stage: string): Lock {
    const k = `${where.account}/${where.region}/${pipeline}/${stage}`
    let l = this.locks.get(k)
    if (!l) {
      l = { waiting: [] }
      this.locks.set(k, l)
    }
    return l
  }

  private setInbound(where: Where, pipeline: string, stage: string, lock: Lock): void {
    this.mutatePipeline(where, pipeline, (p) => {
      if (lock.waiting.length) p.stageInbound[stage] = lock.waiting.map((w) => w.executionId)
      else delete p.stageInbound[stage]
    })
  }

  /** Waits until the execution may enter the stage; false when it was superseded or stopped meanwhile. */
  private enter(l: Live, stage: string): Promise<boolean> {
    const e = l.exec
    if (e.executionMode === 'PARALLEL') return Promise.resolve(true)
    const lock = this.lockOf(l.where, e.pipelineName, stage)
    if (lock.holder === undefined) {
      lock.holder = e.pipelineExecutionId
      return Promise.resolve(true)
    }
    return new Promise((resolve) => {
      const waiter: Waiter = { executionId: e.pipelineExecutionId, resolve }
      if (e.executionMode === 'SUPERSEDED') {
        // A newer execution replaces the one already waiting for this stage.
        for (const w of lock.waiting.splice(0)) {
          const other = this.live.get(this.liveKey(l.where, e.pipelineName, w.executionId))
          if (other) {
            other.waiter = undefined
            other.exec.status = 'Superseded'
            other.exec.statusSummary = `Superseded by execution ${e.pipelineExecutionId}`
            this.save(l.where, other.exec)
          }
          w.resolve(false)
        }
      }
      lock.waiting.push(waiter)
      l.waiter = { lock, waiter, stage }
      this.setInbound(l.where, e.pipelineName, stage, lock)
    })
  }

  private leave(l: Live, stage: string): void {
    if (l.exec.executionMode === 'PARALLEL') return
    const lock = this.lockOf(l.where, l.exec.pipelineName, stage)
    if (lock.holder !== l.exec.pipelineExecutionId) return
    lock.holder = undefined
    const next = lock.waiting.shift()
    if (next) {
      lock.holder = next.executionId
      const other = this.live.get(this.liveKey(l.where, l.exec.pipelineName, next.executionId))
      if (other) other.waiter = undefined
      this.setInbound(l.where, l.exec.pipelineName, stage, lock)
      next.resolve(true)
    }
  }

  private liveKey(where: Where, pipeline: string, id: string): string {
    return `${where.account}/${where.region}/${pipeline}/${id}`
  }

  // ---- executions ------------------------------------------------------------

  /** Starts an execution of a pipeline's current declaration. */
  startExecution(
    p: PipelineRecord,
    trigger: { triggerType: string; triggerDetail?: string },
  ): ExecutionRecord {
    const where = { account: p.account, region: p.region }
    const e: ExecutionRecord = {
      pipelineName: p.declaration.name,
      pipelineExecutionId: randomUUID(),
      pipelineVersion: p.version,
      seq: ++this.seq,
      declaration: p.declaration,
      status: 'InProgress',
      trigger,
      executionMode: p.declaration.executionMode ?? 'SUPERSEDED',
      startTime: now(),
      lastUpdateTime: now(),
      stages: {},
      artifacts: {},
      variables: {},
    }
    this.save(where, e)
    this.launch(where, e, 0)
    return e
  }

  private launch(
    where: Where,
    e: ExecutionRecord,
    from: number,
    retry?: { stage: string; mode: string },
  ): void {
    const l: Live = { where, exec: e, controllers: new Set(), sourced: from > 0 }
    const key = this.liveKey(where, e.pipelineName, e.pipelineExecutionId)
    this.live.set(key, l)
    void this.run(l, from, retry)
      .catch((err: unknown) => {
        // A bug must still end the execution, or clients would wait forever.
        e.status = 'Failed'
        e.statusSummary = `Internal error in the crosspipe sandbox: ${describeError(err)}`
        this.save(where, e)
      })
      .finally(() => this.live.delete(key))
  }

  private finish(l: Live, status: ExecutionRecord['status'], summary?: string): void {
    l.exec.status = status
    if (summary !== undefined) l.exec.statusSummary = summary
    this.save(l.where, l.exec)
  }

  private async run(l: Live, from: number, retry?: { stage: string; mode: string }): Promise<void> {
    const e = l.exec
    const d = e.declaration
    // Read through a function: a stop request arrives while this loop awaits.
    const stop = (): ExecutionRecord['stopRequested'] => e.stopRequested
    for (let i = from; i < d.stages.length; i++) {
      const s = d.stages[i]!
      if (stop()) return this.finish(l, 'Stopped', stop()?.reason)
      const entered = await this.enter(l, s.name)
      if (!entered) {
        // Superseded (already recorded) or stopped while waiting.
        if (stop()) this.finish(l, 'Stopped', stop()?.reason)
        return
      }
      if (this.closed) return
      const outcome = await this.runStage(l, s, retry?.stage === s.name ? retry.mode : undefined)
      if (i === 0) l.sourced = true
      this.leave(l, s.name)
      if (outcome === 'Stopped') return this.finish(l, 'Stopped', stop()?.reason)
      if (outcome === 'Failed') return this.finish(l, 'Failed', `Stage ${s.name} failed`)
    }
    this.finish(l, 'Succeeded')
  }

  private async runStage(
    l: Live,
    s: StageDeclaration,
    retryMode?: string,
  ): Promise<'Succeeded' | 'Failed' | 'Stopped'> {
    const e = l.exec
    const previous = e.stages[s.name]
    const sr: StageRun = {
      status: 'InProgress',
      startTime: now(),
      actions: retryMode === 'FAILED_ACTIONS' && previous ? previous.actions : {},
    }
    e.stages[s.name] = sr
    this.save(l.where, e)
    this.mutatePipeline(l.where, e.pipelineName, (p) => {
      p.stageLatest[s.name] = e.pipelineExecutionId
    })
    const orders = [...new Set(s.actions.map((a) => a.runOrder ?? 1))].sort((a, b) => a - b)
    let failed = false
    for (const order of orders) {
      if (e.stopRequested) break
      const group = s.actions.filter((a) => (a.runOrder ?? 1) === order)
      const results = await Promise.all(
        group.map((a) =>
          sr.actions[a.name]?.status === 'Succeeded' ? Promise.resolve('Succeeded') : this.runAction(l, s, a),
        ),
      )
      if (results.some((r) => r !== 'Succeeded')) {
        failed = results.some((r) => r === 'Failed')
        break
      }
    }
    sr.endTime = now()
    sr.status = e.stopRequested ? 'Stopped' : failed ? 'Failed' : 'Succeeded'
    this.save(l.where, e)
    return sr.status === 'Stopped' ? 'Stopped' : sr.status === 'Failed' ? 'Failed' : 'Succeeded'
  }

  /** Resolves `#{namespace.variable}` in configuration values (reference-variables.html). */
  private resolveVariables(
    e: ExecutionRecord,
    cfg: Readonly<Record<string, string>>,
  ): Record<string, string> {
    const out: Record<string, string> = {}
    for (const [k, v] of Object.entries(cfg))
      out[k] = v.replace(/#\{([A-Za-z0-9@\-_]+)\.([A-Za-z0-9@\-_.]+)\}/g, (m, ns: string, name: string) => {
        if (ns === 'codepipeline') {
          if (name === 'PipelineExecutionId') return e.pipelineExecutionId
          return m
        }
        const val = e.variables[ns]?.[name]
        if (val === undefined)
          throw new ActionFailure(`Variable #{${ns}.${name}} in ${k} is not defined by any earlier action`)
        return val
      })
    return out
  }

  private pipelineActing(d: PipelineDeclaration, where: Where, region: string): Acting {
    const identity = assumeRoleAsService({
      runtime: this.runtime,
      roleArn: d.roleArn,
      service: 'codepipeline',
      sessionName: String(Date.now()),
      sourceArn: formatArn({
        partition: this.runtime.partition(where.region),
        service: 'codepipeline',
        region: where.region,
        account: where.account,
        resource: d.name,
      }),
    })
    if (!identity)
      throw new ActionFailure(`CodePipeline is not authorized to perform AssumeRole on role ${d.roleArn}`)
    return { identity, region }
  }

  private async actingFor(
    d: PipelineDeclaration,
    a: ActionDeclaration,
    region: string,
    pipeline: Acting,
  ): Promise<Acting> {
    if (!a.roleArn) return { identity: pipeline.identity, region }
    try {
      const identity = await assumeRoleAs(this.runtime, pipeline, a.roleArn, String(Date.now()))
      return { identity, region }
    } catch (e) {
      throw new ActionFailure(
        `CodePipeline is not authorized to perform AssumeRole on role ${a.roleArn} (as ${d.roleArn}). Underlying error: ${describeError(e)}`,
      )
    }
  }

  /** Copies an artifact into another region's store, as the pipeline role (cross-region actions). */
  private async inRegion(
    ref: ArtifactRef,
    region: string,
    d: PipelineDeclaration,
    pipeline: Acting,
    e: ExecutionRecord,
  ): Promise<ArtifactRef> {
    if (ref.region === region) return ref
    const cached = e.artifacts[`${ref.name}@${region}`]
    if (cached) return cached
    const body = await readArtifact(this.runtime, { identity: pipeline.identity, region: ref.region }, ref)
    const store = storeFor(d, region)
    const key = artifactKey(e.pipelineName, ref.name)
    await writeArtifact(this.runtime, { identity: pipeline.identity, region }, store, key, body)
    const copy: ArtifactRef = { name: ref.name, bucket: store.location, key, region, revision: ref.revision }
    e.artifacts[`${ref.name}@${region}`] = copy
    return copy
  }

  private async runAction(
    l: Live,
    s: StageDeclaration,
    a: ActionDeclaration,
  ): Promise<'Succeeded' | 'Failed' | 'Abandoned'> {
    const e = l.exec
    const d = e.declaration
    const region = a.region ?? l.where.region
    const started = now()
    const run: ActionRun = {
      actionExecutionId: randomUUID(),
      status: 'InProgress',
      startTime: started,
      lastUpdateTime: started,
      roleArn: a.roleArn,
      region,
      configuration: { ...(a.configuration ?? {}) },
      inputArtifacts: [],
      outputArtifacts: [],
      outputVariables: {},
    }
    const sr = e.stages[s.name]!
    sr.actions[a.name] = run
    this.save(l.where, e)
    const controller = new AbortController()
    l.controllers.add(controller)
    const approvalKey = `${this.liveKey(l.where, e.pipelineName, e.pipelineExecutionId)}/${s.name}/${a.name}`
    try {
      const impl = ACTIONS[typeKey(a)]
      if (!impl)
        throw new ActionFailure(`Action type ${typeKey(a)} is not supported by the crosspipe sandbox`)
      const config = this.resolveVariables(e, a.configuration ?? {})
      Object.assign(run.configuration, config)
      const pipeline = this.pipelineActing(d, l.where, region)
      const acting = await this.actingFor(d, a, region, pipeline)
      const inputs: ArtifactRef[] = []
      for (const i of a.inputArtifacts ?? []) {
        const ref = e.artifacts[i.name]
        if (!ref) throw new ActionFailure(`Input artifact ${i.name} was not produced in this execution`)
        inputs.push(await this.inRegion(ref, region, d, pipeline, e))
      }
      run.inputArtifacts = inputs
      const store = storeFor(d, region)
      const outputs: PlannedOutput[] = (a.outputArtifacts ?? []).map((o) => ({
        name: o.name,
        bucket: store.location,
        key: artifactKey(e.pipelineName, o.name),
        region,
      }))
      this.save(l.where, e)
      const ctx: ActionContext = {
        runtime: this.runtime,
        store: this.store,
        pipelineName: e.pipelineName,
        executionId: e.pipelineExecutionId,
        stageName: s.name,
        action: a,
        config,
        region,
        acting,
        inputs,
        outputs,
        signal: controller.signal,
        putOutput: async (name, body, revision) => {
          const planned = outputs.find((o) => o.name === name)
          if (!planned) throw new ActionFailure(`Action ${a.name} has no output artifact ${name}`)
          await writeArtifact(this.runtime, acting, store, planned.key, body)
          return { name, bucket: planned.bucket, key: planned.key, region, revision }
        },
        external: (id, url) => {
          run.externalExecutionId = id
          run.externalExecutionUrl = url
          this.save(l.where, e)
        },
        waitForApproval: (token) =>
          new Promise((resolve, reject) => {
            run.token = token
            this.save(l.where, e)
            this.approvals.set(approvalKey, { token, resolve })
            const onAbort = (): void => reject(new Abandoned())
            if (controller.signal.aborted) onAbort()
            else controller.signal.addEventListener('abort', onAbort, { once: true })
          }),
      }
      const result = await impl(ctx)
      if (this.closed) return 'Abandoned'
      if (controller.signal.aborted) throw new Abandoned()
      for (const o of result.outputs) e.artifacts[o.name] = o
      run.outputArtifacts = [...result.outputs]
      run.outputVariables = { ...(result.outputVariables ?? {}) }
      if (a.namespace) e.variables[a.namespace] = { ...(result.outputVariables ?? {}) }
      if (result.revision) {
        run.revision = result.revision
        const rev = result.revision.revisionId
        this.mutatePipeline(l.where, e.pipelineName, (p) => {
          p.lastRevisions[a.name] = rev
        })
      }
      run.summary = result.summary ?? run.summary
      run.status = 'Succeeded'
      run.lastUpdateTime = now()
      this.save(l.where, e)
      return 'Succeeded'
    } catch (err) {
      if (this.closed) return 'Abandoned'
      if (err instanceof Abandoned) {
        run.status = 'Abandoned'
        run.lastUpdateTime = now()
        this.save(l.where, e)
        return 'Abandoned'
      }
      run.status = 'Failed'
      run.errorDetails = {
        code: err instanceof ActionFailure ? err.code : 'JobFailed',
        message: err instanceof ActionFailure ? err.message : describeError(err),
      }
      run.lastUpdateTime = now()
      this.save(l.where, e)
      return 'Failed'
    } finally {
      l.controllers.delete(controller)
      this.approvals.delete(approvalKey)
    }
  }

  // ---- API operations on executions -------------------------------------------

  /** StopPipelineExecution (API_StopPipelineExecution.html). */
  stopExecution(where: Where, pipeline: string, id: string, abandon: boolean, reason?: string): void {
    const l = this.live.get(this.liveKey(where, pipeline, id))
    const e = l?.exec ?? this.store.execution(where.account, where.region, pipeline, id)
    if (!l || !e || (e.status !== 'InProgress' && e.status !== 'Stopping'))
      throw notStoppable(
        `Unable to stop pipeline execution ${id} of pipeline ${pipeline}: its status is ${e?.status ?? 'unknown'}.`,
      )
    if (e.status === 'Stopping' && (!abandon || e.stopRequested?.abandon))
      throw duplicatedStop(`A stop request for execution ${id} is already in progress.`)
    e.status = 'Stopping'
    e.stopRequested = { abandon, reason }
    for (const sr of Object.values(e.stages)) if (sr.status === 'InProgress') sr.status = 'Stopping'
    this.save(where, e)
    if (l.waiter) {
      const { lock, waiter, stage } = l.waiter
      lock.waiting = lock.waiting.filter((w) => w !== waiter)
      l.waiter = undefined
      this.setInbound(where, pipeline, stage, lock)
      waiter.resolve(false)
    }
    if (abandon) for (const c of l.controllers) c.abort()
  }

  /** RetryStageExecution (API_RetryStageExecution.html). */
  retryStage(p: PipelineRecord, stage: string, id: string, mode: string): void {
    const where = { account: p.account, region: p.region }
    const e = this.store.execution(where.account, where.region, p.declaration.name, id)
    const sr = e?.stages[stage]
    if (
      !e ||
      !sr ||
      p.stageLatest[stage] !== id ||
      (sr.status !== 'Failed' && sr.status !== 'Stopped') ||
      this.live.has(this.liveKey(where, p.declaration.name, id))
    )
      throw stageNotRetryable(
        `Stage ${stage} of execution ${id} cannot be retried: only a failed or stopped stage of the latest execution in that stage can be retried.`,
      )
    const idx = e.declaration.stages.findIndex((s) => s.name === stage)
    e.status = 'InProgress'
    delete e.statusSummary
    delete e.stopRequested
    this.save(where, e)
    this.launch(where, e, idx, { stage, mode })
  }

  /** PutApprovalResult (API_PutApprovalResult.html): returns when it was recorded. */
  approve(
    p: PipelineRecord,
    stage: string,
    action: string,
    token: string,
    status: 'Approved' | 'Rejected',
    summary: string,
    by: string,
  ): string {
    const where = { account: p.account, region: p.region }
    const id = p.stageLatest[stage]
    const e = id ? this.store.execution(where.account, where.region, p.declaration.name, id) : undefined
    const run = e?.stages[stage]?.actions[action]
    if (!id || !e || !run || run.token === undefined)
      throw invalidApprovalToken(`The token ${token} is not valid for action ${action} in stage ${stage}.`)
    if (run.token !== token)
      throw invalidApprovalToken(`The token ${token} is not valid for action ${action} in stage ${stage}.`)
    const pending = this.approvals.get(`${this.liveKey(where, p.declaration.name, id)}/${stage}/${action}`)
    if (run.status !== 'InProgress' || !pending)
      throw approvalCompleted(`The approval action ${action} in stage ${stage} has already been completed.`)
    const l = this.live.get(this.liveKey(where, p.declaration.name, id))
    const at = now()
    if (l) {
      const r = l.exec.stages[stage]?.actions[action]
      if (r) {
        r.updatedBy = by
        r.summary = summary
      }
    }
    pending.resolve({ status, summary, by })
    return at
  }

  // ---- source change detection -------------------------------------------------

  private pollActing(
    roleArn: string,
    pipelineArn: string,
    region: string,
    actionRole?: string,
  ): Promise<Acting | undefined> {
    const key = `${roleArn}|${pipelineArn}|${actionRole ?? ''}`
    const c = this.pollSessions.get(key)
    if (c && c.until > Date.now()) return Promise.resolve({ identity: c.identity, region })
    const base = assumeRoleAsService({
      runtime: this.runtime,
      roleArn,
      service: 'codepipeline',
      sessionName: String(Date.now()),
      sourceArn: pipelineArn,
    })
    if (!base) return Promise.resolve(undefined)
    const done = (identity: Identity): Acting => {
      // Sessions last an hour; reuse them for 50 minutes rather than minting one per poll.
      this.pollSessions.set(key, { identity, until: Date.now() + 50 * 60_000 })
      return { identity, region }
    }
    if (!actionRole) return Promise.resolve(done(base))
    return assumeRoleAs(this.runtime, { identity: base, region }, actionRole, String(Date.now())).then(
      done,
      () => undefined,
    )
  }

  /**
   * Polls every pipeline's source actions (PollForSourceChanges not `false`) and starts an
   * execution when one sees a revision it has not run (action-reference-S3.html,
   * action-reference-CodeCommit.html: polling as the change detection method).
   */
  private async poll(): Promise<void> {
    if (this.polling || this.closed) return
    this.polling = true
    try {
      for (const { value: p } of this.store.pipelines.all()) {
        if (this.closed) return
        const where = { account: p.account, region: p.region }
        const busy = [...this.live.values()].some(
          (l) =>
            l.exec.pipelineName === p.declaration.name &&
            l.where.account === p.account &&
            l.where.region === p.region &&
            !l.sourced,
        )
        if (busy) continue
        const first = p.declaration.stages[0]
        if (!first) continue
        for (const a of first.actions) {
          const cfg = a.configuration ?? {}
          if (cfg['PollForSourceChanges'] === 'false') continue
          const region = a.region ?? p.region
          const revision = await this.sourceRevision(p, a, region).catch(() => undefined)
          if (revision === undefined || revision === p.lastRevisions[a.name]) continue
          const fresh = this.store.pipeline(where.account, where.region, p.declaration.name)
          if (!fresh || fresh.lastRevisions[a.name] === revision) continue
          fresh.lastRevisions[a.name] = revision
          if (this.closed) return
          this.store.savePipeline(fresh)
          this.startExecution(fresh, { triggerType: 'PollForSourceChanges', triggerDetail: a.name })
          break
        }
      }
    } finally {
      this.polling = false
    }
  }

  private async sourceRevision(
    p: PipelineRecord,
    a: ActionDeclaration,
    region: string,
  ): Promise<string | undefined> {
    const as = await this.pollActing(p.declaration.roleArn, p.arn, region, a.roleArn)
    if (!as) return undefined
    const cfg = a.configuration ?? {}
    if (a.actionTypeId.provider === 'S3')
      return s3SourceRevision(this.runtime, as, cfg['S3Bucket'] ?? '', cfg['S3ObjectKey'] ?? '')
    if (a.actionTypeId.provider === 'CodeCommit')
      return codeCommitRevision(
        this.runtime,
        this.store,
        as,
        region,
        cfg['RepositoryName'] ?? '',
        cfg['BranchName'] ?? '',
      )
    return undefined
  }

  /** Abandons a pipeline's executions (DeletePipeline). */
  abandonAll(where: Where, pipeline: string): void {
    for (const l of this.live.values())
      if (
        l.exec.pipelineName === pipeline &&
        l.where.account === where.account &&
        l.where.region === where.region
      ) {
        l.exec.stopRequested = { abandon: true, reason: 'Pipeline deleted' }
        if (l.waiter) {
          const { lock, waiter } = l.waiter
          lock.waiting = lock.waiting.filter((w) => w !== waiter)
          waiter.resolve(false)
        }
        for (const c of l.controllers) c.abort()
      }
    for (const k of [...this.locks.keys()])
      if (k.startsWith(`${where.account}/${where.region}/${pipeline}/`)) this.locks.delete(k)
  }

  /** Whether an execution is running in this process. */
  isLive(where: Where, pipeline: string, id: string): boolean {
    return this.live.has(this.liveKey(where, pipeline, id))
  }
}
