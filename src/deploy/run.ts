/**
 * Pipeline executions as library functions: start one and follow it, show one, approve a manual
 * approval. They work against any CodePipeline endpoint (AWS or the sandbox) through src/aws.
 *
 * Statuses as the CodePipeline API reports them:
 * - a pipeline execution: Cancelled | InProgress | Stopped | Stopping | Succeeded | Superseded |
 *   Failed (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_PipelineExecution.html);
 * - an action execution: InProgress | Abandoned | Succeeded | Failed
 *   (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_ActionExecutionDetail.html).
 * A Manual approval is an action that stays InProgress until PutApprovalResult
 * (https://docs.aws.amazon.com/codepipeline/latest/userguide/approvals.html).
 */
import type {
  ActionExecutionView,
  BuildLogTail,
  CodePipelineApi,
  ExecutionView,
  PipelineStateView,
} from '../aws/index.js'
import { servicePrincipal } from '../iam/aws-facts.js'
import { CrosspipeError } from '../model/errors.js'
import { emit } from '../model/io.js'
import type { IoHost } from '../model/io.js'

/** Execution statuses after which nothing more happens. */
const TERMINAL = new Set(['Succeeded', 'Failed', 'Stopped', 'Superseded', 'Cancelled'])

/** One action of an execution report. */
export type ActionReport = ActionExecutionView & {
  readonly hint?: string
  /**
   * For a failed CodeBuild action (Build or Test): the last lines of its build's log (the action's
   * external execution id is the build id), oldest first, when the build log could be read.
   */
  readonly logTail?: readonly string[]
}

/** The state of one execution: its status and every action so far. */
export interface ExecutionReport {
  readonly pipeline: string
  readonly execution: ExecutionView
  readonly actions: readonly ActionReport[]
  /** A Manual approval of this execution waiting for a result, if any. */
  readonly waitingForApproval?: { readonly stage: string; readonly action: string }
  /**
   * This execution finished a stage and waits to enter the next, which another execution holds (a
   * stage processes one execution at a time). `heldAtApproval`: the holder waits there for a
   * Manual approval, so only a person can move either on.
   */
  readonly waitingForStage?: StageWait
  readonly durationMs?: number
}

/** Where an execution waits to enter a stage another execution holds. */
export interface StageWait {
  readonly stage: string
  /** The execution in the stage. */
  readonly heldBy: string
  /** The Manual approval the holder waits at, in that stage. */
  readonly heldAtApproval?: { readonly stage: string; readonly action: string }
}

/** The approval waiting for a result in a pipeline's state, for one execution (or any). */
function approvalIn(
  state: PipelineStateView,
  executionId?: string,
): { stage: string; action: string; executionId?: string } | undefined {
  for (const s of state.stages) {
    if (executionId !== undefined && s.executionId !== executionId) continue
    for (const a of s.actions)
      if (a.status === 'InProgress' && a.token)
        return { stage: s.name, action: a.name, ...(s.executionId ? { executionId: s.executionId } : {}) }
  }
  return undefined
}

/** The stage an execution waits to enter, from GetPipelineState's inbound executions. */
function stageWait(state: PipelineStateView, executionId: string): StageWait | undefined {
  for (const s of state.stages) {
    if (!s.inboundExecutionIds?.includes(executionId)) continue
    if (!s.executionId || s.executionId === executionId) continue
    const approval = approvalIn({ ...state, stages: [s] }, s.executionId)
    return {
      stage: s.name,
      heldBy: s.executionId,
      ...(approval ? { heldAtApproval: { stage: approval.stage, action: approval.action } } : {}),
    }
  }
  return undefined
}

/** One line for an execution waiting to enter a stage. */
export function stageWaitText(pipeline: string, executionId: string, w: StageWait): string {
  const head = `execution ${executionId} waits to enter stage ${w.stage}, which execution ${w.heldBy} holds (a stage runs one execution at a time)`
  return w.heldAtApproval
    ? `${head}; ${w.heldBy} waits for approval at ${w.heldAtApproval.stage} › ${w.heldAtApproval.action}: approve it with crosspipe approve ${pipeline} ${w.heldAtApproval.stage} (or reject it with --reject), then ${executionId} goes on`
    : `${head}; it goes on when ${w.heldBy} leaves the stage`
}

/**
 * What `crosspipe check` would have flagged for an action error, as a hint. The patterns are the
 * AccessDenied message forms AWS documents
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html).
 */
export function hintFor(message: string | undefined): string | undefined {
  if (!message) return undefined
  // CloudFormation refuses a template with IAM resources unless the capability is acknowledged
  // (InsufficientCapabilities, "Requires capabilities : [CAPABILITY_IAM]";
  // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/control-access-with-iam.html#using-iam-capabilities).
  const caps = /Requires capabilities\s*:\s*\[([A-Z_, ]+)\]/.exec(message)
  if (caps)
    return `the application template creates IAM resources: add capabilities: [${caps[1]!.trim()}] to this stage in crosspipe.yml, then deploy again (crosspipe deploy) and rerun`
  // The deployment role (Configuration.RoleArn) creates the application's resources; what it may
  // create is the stage's deployPermissions. check proves the pipeline's own calls, not what an
  // application template creates, so it cannot flag this.
  const role = /assumed-role\/([^/\s]+)\//.exec(message)?.[1]
  const denied = /not authorized to perform:? (\S+)/.exec(message)?.[1]
  if (role && denied && (/-cfn-/.test(role) || role === 'cloudformation-role'))
    return `the deployment role ${role} may not ${denied}, which the application template needs: allow it in this stage's deployPermissions in crosspipe.yml (managedPolicies or statements), deploy again (crosspipe deploy) and rerun. crosspipe check proves the pipeline's own calls, not what the application template creates, so it does not flag this`
  if (/Cross-account pass role is not allowed/i.test(message))
    return 'the action role and Configuration.RoleArn must be in the same account (check rule passrole-cross-account)'
  if (/kms:(Decrypt|GenerateDataKey|Encrypt)/.test(message))
    return 'the artifact key policy must allow this role (check rule call-denied on the kms call); crosspipe check reports it before a run'
  // S3 answers a denied cross-account read with a bare "Access Denied" that names no action; the
  // action's message still names the s3:// object it could not read.
  if (/s3:(GetObject|PutObject)/.test(message) || /s3:\/\/\S+.*Access Denied/.test(message))
    return 'the artifact bucket policy and the role policy must both allow this call (check rule call-denied); crosspipe check reports it before a run'
  if (/sts:AssumeRole/.test(message))
    return "the role's trust policy must allow the pipeline role, and the pipeline role's policy must allow sts:AssumeRole on it (check rule call-denied)"
  if (/iam:PassRole/.test(message))
    return `the action role needs iam:PassRole on the deployment role, passed to ${servicePrincipal('cloudformation')} (check rule call-denied)`
  if (/AccessDenied|not authorized/i.test(message))
    return 'run crosspipe check: it evaluates every call of the pipeline offline and names the missing grant'
  return undefined
}

/** Options of {@link executionReport}. */
export interface ExecutionReportOptions {
  /** Lines of a failed build's log to show (default 20; 0 reads no log). */
  readonly logTailLines?: number
  /**
   * Log tails already read, by build id: a follower passes one map for all its polls, so that a
   * failed build's log is read once.
   */
  readonly logTails?: Map<string, Promise<BuildLogTail | undefined>>
}

/** The build log tail of a failed CodeBuild action, or undefined (no log, or it cannot be read). */
async function failedBuildLog(
  api: CodePipelineApi,
  a: ActionExecutionView,
  o: ExecutionReportOptions,
): Promise<readonly string[] | undefined> {
  const lines = o.logTailLines ?? 20
  if (a.status !== 'Failed' || a.provider !== 'CodeBuild' || !a.externalExecutionId || lines <= 0)
    return undefined
  if (!api.buildLogTail) return undefined
  const buildId = a.externalExecutionId
  let tail = o.logTails?.get(buildId)
  if (!tail) {
    // A log that cannot be read (no logs:GetLogEvents, a deleted build) leaves the report without
    // it: the action's error is the finding, the log only explains it.
    tail = api.buildLogTail(buildId, a.region, lines).catch(() => undefined)
    o.logTails?.set(buildId, tail)
  }
  return (await tail)?.lines
}

/** Reads an execution and its actions; a failed CodeBuild action gets its build log's tail. */
export async function executionReport(
  api: CodePipelineApi,
  pipeline: string,
  executionId: string,
  options: ExecutionReportOptions = {},
): Promise<ExecutionReport> {
  const [execution, actions, state] = await Promise.all([
    api.getExecution(pipeline, executionId),
    api.listActionExecutions(pipeline, executionId),
    api.getState(pipeline),
  ])
  const approval = approvalIn(state, executionId)
  const waiting = approval ? { stage: approval.stage, action: approval.action } : undefined
  const held = execution.status === 'InProgress' && !waiting ? stageWait(state, executionId) : undefined
  const sorted = [...actions].sort((a, b) => (a.startTime?.getTime() ?? 0) - (b.startTime?.getTime() ?? 0))
  return {
    pipeline,
    execution,
    actions: await Promise.all(
      sorted.map(async (a): Promise<ActionReport> => {
        const hint = a.status === 'Failed' ? hintFor(a.errorMessage) : undefined
        const logTail = await failedBuildLog(api, a, options)
        return { ...a, ...(hint ? { hint } : {}), ...(logTail?.length ? { logTail } : {}) }
      }),
    ),
    ...(waiting ? { waitingForApproval: waiting } : {}),
    ...(held ? { waitingForStage: held } : {}),
  }
}

/** Options of {@link runPipeline}. */
export interface RunPipelineOptions {
  readonly api: CodePipelineApi
  readonly pipeline: string
  /** Follow an execution already started instead of starting one. */
  readonly executionId?: string
  /** Stop following at a Manual approval of this execution (default true). */
  readonly stopAtApproval?: boolean
  readonly pollIntervalMs?: number
  /** Give up following after this long (the execution goes on). Default 1 hour. */
  readonly timeoutMs?: number
  readonly signal?: AbortSignal
  readonly io?: IoHost
  /** Lines of a failed build's log to show (default 20). */
  readonly logTailLines?: number
}

/**
 * Starts an execution (or takes one) and follows it until it ends or waits for approval,
 * emitting `run.action` for every action status change and `run.done` at the end.
 */
export async function runPipeline(o: RunPipelineOptions): Promise<ExecutionReport> {
  const started = Date.now()
  // An execution already waiting at an approval holds its stage: a new one will queue behind it.
  const before = o.executionId ? undefined : approvalIn(await o.api.getState(o.pipeline))
  const executionId = o.executionId ?? (await o.api.startExecution(o.pipeline))
  emit(o.io, 'info', 'run.started', `pipeline ${o.pipeline}: execution ${executionId}`, { executionId })
  if (before?.executionId && before.executionId !== executionId)
    emit(
      o.io,
      'warn',
      'run.waiting',
      `execution ${before.executionId} already waits for approval at ${before.stage} › ${before.action} (crosspipe approve ${o.pipeline} ${before.stage}); this execution will wait behind it to enter ${before.stage}`,
      { approval: before },
    )
  const seen = new Map<string, string>()
  const deadline = started + (o.timeoutMs ?? 3_600_000)
  const logTails = new Map<string, Promise<BuildLogTail | undefined>>()
  let lastWait = ''
  for (;;) {
    const r = await executionReport(o.api, o.pipeline, executionId, {
      logTails,
      ...(o.logTailLines !== undefined ? { logTailLines: o.logTailLines } : {}),
    })
    for (const a of r.actions) {
      const key = `${a.stageName}/${a.actionName}`
      if (seen.get(key) === a.status) continue
      seen.set(key, a.status)
      const took =
        a.startTime && a.lastUpdateTime && a.status !== 'InProgress'
          ? ` (${((a.lastUpdateTime.getTime() - a.startTime.getTime()) / 1000).toFixed(1)} s)`
          : ''
      const detail = a.status === 'Failed' ? `: ${a.errorMessage ?? a.errorCode ?? 'failed'}` : ''
      emit(
        o.io,
        a.status === 'Failed' ? 'error' : 'info',
        'run.action',
        `${a.stageName} › ${a.actionName}  ${a.status}${took}${detail}`,
        {
          action: a,
        },
      )
      if (a.logTail)
        emit(
          o.io,
          'info',
          'run.log',
          `  last ${a.logTail.length} lines of the build log:\n${a.logTail.map((l) => `    │ ${l}`).join('\n')}`,
          { action: a },
        )
      if (a.hint) emit(o.io, 'warn', 'run.hint', `hint: ${a.hint}`, { action: a })
    }
    const w = r.waitingForStage
    const waitKey = w ? `${w.stage}/${w.heldBy}/${w.heldAtApproval?.action ?? ''}` : ''
    const stopAtApproval = o.stopAtApproval ?? true
    // Said once per wait; a wait that ends the run is said by run.done instead.
    if (w && waitKey !== lastWait && !(stopAtApproval && w.heldAtApproval))
      emit(o.io, 'warn', 'run.waiting', stageWaitText(o.pipeline, executionId, w), { wait: w })
    lastWait = waitKey
    const done = TERMINAL.has(r.execution.status)
    const waiting = stopAtApproval && r.waitingForApproval !== undefined
    // Behind another execution's approval, nothing moves until a person acts: return, as at our own.
    const blocked = stopAtApproval && w?.heldAtApproval !== undefined
    if (done || waiting || blocked || o.signal?.aborted || Date.now() > deadline) {
      const result = { ...r, durationMs: Date.now() - started }
      emit(
        o.io,
        'result',
        'run.done',
        waiting && !done
          ? `execution ${executionId} waits for approval at ${r.waitingForApproval.stage} › ${r.waitingForApproval.action}: crosspipe approve ${o.pipeline} ${r.waitingForApproval.stage}`
          : blocked && w && !done
            ? stageWaitText(o.pipeline, executionId, w)
            : `execution ${executionId} ${r.execution.status}${done ? '' : ' (no longer followed)'}`,
        { result },
      )
      return result
    }
    await new Promise((res) => setTimeout(res, o.pollIntervalMs ?? 1000))
  }
}

/** The latest execution's id, or the one given. */
export async function resolveExecution(
  api: CodePipelineApi,
  pipeline: string,
  executionId?: string,
): Promise<string> {
  if (executionId) return executionId
  const [latest] = await api.listExecutions(pipeline, 1)
  if (!latest)
    throw new CrosspipeError(
      'usage',
      `pipeline ${pipeline} has no executions yet; start one with crosspipe run.`,
    )
  return latest.executionId
}

/** Options of {@link pipelineStatus}. */
export interface PipelineStatusOptions {
  readonly api: CodePipelineApi
  readonly pipeline: string
  /** The execution to show (default: the latest). */
  readonly executionId?: string
}

/** `crosspipe status`: an execution (the latest by default), action by action, and where it waits. */
export async function pipelineStatus(o: PipelineStatusOptions): Promise<ExecutionReport> {
  return executionReport(o.api, o.pipeline, await resolveExecution(o.api, o.pipeline, o.executionId))
}

/** Options of {@link approve}. */
export interface ApproveOptions {
  readonly api: CodePipelineApi
  readonly pipeline: string
  readonly stage: string
  readonly reject?: boolean
  readonly comment?: string
}

/** Approves (or rejects) the Manual approval waiting in a stage; a stage with none is a user error. */
export async function approve(
  o: ApproveOptions,
): Promise<{ readonly stage: string; readonly action: string; readonly approved: boolean }> {
  const state = await o.api.getState(o.pipeline)
  // A definition stage with more actions than CodePipeline allows in one stage (50) is synthesized
  // as consecutive stages <name>-part1, -part2, … (the approval is in part 1): the definition's
  // name approves the part that waits.
  const parts = state.stages.filter(
    (s) => s.name.startsWith(`${o.stage}-part`) && /^\d+$/.test(s.name.slice(o.stage.length + 5)),
  )
  const stage =
    state.stages.find((s) => s.name === o.stage) ??
    parts.find((s) => s.actions.some((a) => a.status === 'InProgress' && a.token)) ??
    parts[0]
  if (!stage) {
    throw new CrosspipeError(
      'usage',
      `pipeline ${o.pipeline} has no stage "${o.stage}"; its stages are ${state.stages.map((s) => s.name).join(', ')}.`,
    )
  }
  const waiting = stage.actions.find((a) => a.status === 'InProgress' && a.token)
  if (!waiting?.token) {
    throw new CrosspipeError(
      'usage',
      `stage ${stage.name} of pipeline ${o.pipeline} has no approval waiting for a result.`,
    )
  }
  await o.api.putApprovalResult({
    pipeline: o.pipeline,
    stage: stage.name,
    action: waiting.name,
    token: waiting.token,
    approved: !o.reject,
    summary:
      o.comment ??
      (o.reject ? 'Rejected with crosspipe approve --reject' : 'Approved with crosspipe approve'),
  })
  return { stage: stage.name, action: waiting.name, approved: !o.reject }
}
