/**
 * CodePipeline through the SDK, behind an SDK-free interface: what `crosspipe run`, `status` and
 * `approve` need, against AWS or any endpoint (the sandbox).
 *
 * API reference: https://docs.aws.amazon.com/codepipeline/latest/APIReference/Welcome.html
 * - GetPipelineState gives each stage's latest execution and each action's latest execution,
 *   including the approval `token` of a Manual approval that is InProgress (API_ActionExecution).
 * - ListActionExecutions gives every action execution of one pipeline execution with its
 *   status, summary and error details (API_ActionExecutionDetail).
 * - PutApprovalResult needs that token (API_PutApprovalResult).
 */
import type { CodePipelineClient } from '@aws-sdk/client-codepipeline'
import {
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  ListActionExecutionsCommand,
  ListPipelineExecutionsCommand,
  ListPipelinesCommand,
  PutApprovalResultCommand,
  StartPipelineExecutionCommand,
} from '@aws-sdk/client-codepipeline'
import { CrosspipeError } from '../model/errors.js'
import type { BuildLogTail } from './codebuild-logs.js'

/** One action's latest state in a stage. */
export interface ActionStateView {
  readonly name: string
  readonly status?: string
  readonly summary?: string
  readonly errorCode?: string
  readonly errorMessage?: string
  readonly lastStatusChange?: Date
  /** The approval token of a Manual approval waiting for a result. */
  readonly token?: string
  readonly executionId?: string
}

/** One stage's latest state. */
export interface StageStateView {
  readonly name: string
  readonly status?: string
  readonly executionId?: string
  /**
   * Executions that finished the stage before and wait to enter this one while it is busy
   * (StageState inboundExecution(s): a stage processes one execution at a time;
   * https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_StageState.html,
   * https://docs.aws.amazon.com/codepipeline/latest/userguide/concepts-how-it-works.html).
   */
  readonly inboundExecutionIds?: readonly string[]
  readonly actions: readonly ActionStateView[]
}

/** GetPipelineState, SDK-free. */
export interface PipelineStateView {
  readonly name: string
  readonly version?: number
  readonly stages: readonly StageStateView[]
}

/** A pipeline execution summary. */
export interface ExecutionView {
  readonly executionId: string
  readonly status: string
  readonly statusReason?: string
  readonly startTime?: Date
  readonly lastUpdateTime?: Date
}

/** One action execution of a pipeline execution (ListActionExecutions). */
export interface ActionExecutionView {
  readonly stageName: string
  readonly actionName: string
  readonly status: string
  readonly startTime?: Date
  readonly lastUpdateTime?: Date
  readonly summary?: string
  readonly errorCode?: string
  readonly errorMessage?: string
  readonly externalExecutionId?: string
  readonly roleArn?: string
  readonly region?: string
  /** The action type's category and provider (`Build` / `CodeBuild`, …), from the action's input. */
  readonly category?: string
  readonly provider?: string
}

/** What crosspipe does with CodePipeline. */
export interface CodePipelineApi {
  /**
   * The last lines of a CodeBuild build's log, for a build in this pipeline's account, in `region`
   * (default: the pipeline's). A CodeBuild action's external execution id is the build id. Absent
   * when the access that made this client cannot read build logs.
   */
  readonly buildLogTail?: (
    buildId: string,
    region?: string,
    lines?: number,
  ) => Promise<BuildLogTail | undefined>
  listPipelines(): Promise<string[]>
  startExecution(pipeline: string): Promise<string>
  getState(pipeline: string): Promise<PipelineStateView>
  getExecution(pipeline: string, executionId: string): Promise<ExecutionView>
  listExecutions(pipeline: string, max?: number): Promise<ExecutionView[]>
  listActionExecutions(pipeline: string, executionId: string): Promise<ActionExecutionView[]>
  putApprovalResult(o: {
    readonly pipeline: string
    readonly stage: string
    readonly action: string
    readonly token: string
    readonly approved: boolean
    readonly summary: string
  }): Promise<void>
}

/**
 * Errors that mean the user named something that is not there (CodePipeline API "Errors"
 * sections): bad input, reported with AWS's message and exit code 2.
 */
const NOT_THERE = new Set([
  'PipelineNotFoundException',
  'PipelineExecutionNotFoundException',
  'StageNotFoundException',
  'ActionNotFoundException',
  'InvalidApprovalTokenException',
  'ApprovalAlreadyCompletedException',
])

/** Turns the "not there" errors into user errors. */
async function named<T>(call: () => Promise<T>, where?: string): Promise<T> {
  try {
    return await call()
  } catch (e) {
    // Before the first deploy the pipeline does not exist yet: say what to do, not only AWS's words.
    if (e instanceof Error && e.name === 'PipelineNotFoundException')
      throw new CrosspipeError(
        'usage',
        `the pipeline does not exist${where ? ` in ${where}` : ''}: deploy it first with crosspipe deploy (same access options), then run it. (${e.name}: ${e.message})`,
      )
    if (e instanceof Error && NOT_THERE.has(e.name))
      throw new CrosspipeError('usage', `${e.name}: ${e.message}`)
    throw e
  }
}

/** The ids of the executions waiting to enter a stage (inboundExecutions, or the one inboundExecution). */
function inbound(s: {
  readonly inboundExecution?: { readonly pipelineExecutionId?: string }
  readonly inboundExecutions?: readonly { readonly pipelineExecutionId?: string }[]
}): { inboundExecutionIds?: string[] } {
  const ids = [...(s.inboundExecutions ?? []), ...(s.inboundExecution ? [s.inboundExecution] : [])]
    .map((e) => e.pipelineExecutionId)
    .filter((id): id is string => typeof id === 'string' && id !== '')
  return ids.length ? { inboundExecutionIds: [...new Set(ids)] } : {}
}

/** Wraps an SDK client. */
export class SdkCodePipeline implements CodePipelineApi {
  readonly buildLogTail?: CodePipelineApi['buildLogTail']

  constructor(
    private readonly client: CodePipelineClient,
    private readonly credentialsGuard: <T>(call: () => Promise<T>) => Promise<T>,
    buildLogTail?: CodePipelineApi['buildLogTail'],
    /** `account region`, for messages. */
    private readonly where?: string,
  ) {
    if (buildLogTail) this.buildLogTail = buildLogTail
  }

  private guard<T>(call: () => Promise<T>): Promise<T> {
    return this.credentialsGuard(() => named(call, this.where))
  }

  async listPipelines(): Promise<string[]> {
    const names: string[] = []
    let nextToken: string | undefined
    do {
      const r = await this.guard(() => this.client.send(new ListPipelinesCommand({ nextToken })))
      for (const p of r.pipelines ?? []) if (p.name) names.push(p.name)
      nextToken = r.nextToken
    } while (nextToken)
    return names.sort()
  }

  async startExecution(pipeline: string): Promise<string> {
    const r = await this.guard(() => this.client.send(new StartPipelineExecutionCommand({ name: pipeline })))
    return r.pipelineExecutionId ?? ''
  }

  async getState(pipeline: string): Promise<PipelineStateView> {
    const r = await this.guard(() => this.client.send(new GetPipelineStateCommand({ name: pipeline })))
    return {
      name: r.pipelineName ?? pipeline,
      ...(r.pipelineVersion !== undefined ? { version: r.pipelineVersion } : {}),
      stages: (r.stageStates ?? []).map((s) => ({
        name: s.stageName ?? '',
        ...(s.latestExecution?.status ? { status: s.latestExecution.status } : {}),
        ...(s.latestExecution?.pipelineExecutionId
          ? { executionId: s.latestExecution.pipelineExecutionId }
          : {}),
        ...inbound(s),
        actions: (s.actionStates ?? []).map((a) => {
          const e = a.latestExecution
          return {
            name: a.actionName ?? '',
            ...(e?.status ? { status: e.status } : {}),
            ...(e?.summary ? { summary: e.summary } : {}),
            ...(e?.errorDetails?.code ? { errorCode: e.errorDetails.code } : {}),
            ...(e?.errorDetails?.message ? { errorMessage: e.errorDetails.message } : {}),
            ...(e?.lastStatusChange ? { lastStatusChange: e.lastStatusChange } : {}),
            ...(e?.token ? { token: e.token } : {}),
            ...(e?.actionExecutionId ? { executionId: e.actionExecutionId } : {}),
          }
        }),
      })),
    }
  }

  async getExecution(pipeline: string, executionId: string): Promise<ExecutionView> {
    const r = await this.guard(() =>
      this.client.send(
        new GetPipelineExecutionCommand({ pipelineName: pipeline, pipelineExecutionId: executionId }),
      ),
    )
    const e = r.pipelineExecution
    return {
      executionId: e?.pipelineExecutionId ?? executionId,
      status: e?.status ?? 'Unknown',
      ...(e?.statusSummary ? { statusReason: e.statusSummary } : {}),
    }
  }

  async listExecutions(pipeline: string, max = 10): Promise<ExecutionView[]> {
    const r = await this.guard(() =>
      this.client.send(new ListPipelineExecutionsCommand({ pipelineName: pipeline, maxResults: max })),
    )
    return (r.pipelineExecutionSummaries ?? []).map((e) => ({
      executionId: e.pipelineExecutionId ?? '',
      status: e.status ?? 'Unknown',
      ...(e.statusSummary ? { statusReason: e.statusSummary } : {}),
      ...(e.startTime ? { startTime: e.startTime } : {}),
      ...(e.lastUpdateTime ? { lastUpdateTime: e.lastUpdateTime } : {}),
    }))
  }

  async listActionExecutions(pipeline: string, executionId: string): Promise<ActionExecutionView[]> {
    const out: ActionExecutionView[] = []
    let nextToken: string | undefined
    do {
      const r = await this.guard(() =>
        this.client.send(
          new ListActionExecutionsCommand({
            pipelineName: pipeline,
            filter: { pipelineExecutionId: executionId },
            nextToken,
          }),
        ),
      )
      for (const d of r.actionExecutionDetails ?? []) {
        const o = d.output?.executionResult
        out.push({
          stageName: d.stageName ?? '',
          actionName: d.actionName ?? '',
          status: d.status ?? 'Unknown',
          ...(d.startTime ? { startTime: d.startTime } : {}),
          ...(d.lastUpdateTime ? { lastUpdateTime: d.lastUpdateTime } : {}),
          ...(o?.externalExecutionSummary ? { summary: o.externalExecutionSummary } : {}),
          ...(o?.externalExecutionId ? { externalExecutionId: o.externalExecutionId } : {}),
          ...(o?.errorDetails?.code ? { errorCode: o.errorDetails.code } : {}),
          ...(o?.errorDetails?.message ? { errorMessage: o.errorDetails.message } : {}),
          ...(d.input?.roleArn ? { roleArn: d.input.roleArn } : {}),
          ...(d.input?.region ? { region: d.input.region } : {}),
          ...(d.input?.actionTypeId?.category ? { category: d.input.actionTypeId.category } : {}),
          ...(d.input?.actionTypeId?.provider ? { provider: d.input.actionTypeId.provider } : {}),
        })
      }
      nextToken = r.nextToken
    } while (nextToken)
    return out
  }

  async putApprovalResult(o: {
    readonly pipeline: string
    readonly stage: string
    readonly action: string
    readonly token: string
    readonly approved: boolean
    readonly summary: string
  }): Promise<void> {
    await this.guard(() =>
      this.client.send(
        new PutApprovalResultCommand({
          pipelineName: o.pipeline,
          stageName: o.stage,
          actionName: o.action,
          token: o.token,
          result: { status: o.approved ? 'Approved' : 'Rejected', summary: o.summary },
        }),
      ),
    )
  }
}
