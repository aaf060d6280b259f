/**
 * What deploy and destroy share: reading the deployed state, running a plan's stacks as a work
 * graph with bounded concurrency, following a stack operation through its events until a terminal status,
 * and finding the resource that caused a failure.
 */
import type { CloudFormationApi, StackDescription, StackEvent } from '../aws/index.js'
import { emit, type IoHost, type MessageLevel } from '../model/io.js'
import { isInProgress, stackId, type DeployedState, type PlanAction } from '../plan/index.js'
import type { ManifestStackEntry } from '../synth/manifest.js'
import type { AccountAccess } from '../aws/index.js'
import { mapConcurrent, runWorkGraph } from '../workgraph/index.js'
import type {
  DeployMessageCode,
  LatestEvent,
  ResourceCounts,
  StackError,
  StackOutcome,
  StackResult,
} from './types.js'

/** Stacks worked on at once within a phase, by default: well under CloudFormation's API rate limits. */
export const DEFAULT_CONCURRENCY = 8
/**
 * Milliseconds between polls, by default. The SDK v3 CloudFormation waiters wait 30 to 120 s
 * between polls (`minDelay: 30, maxDelay: 120` in @aws-sdk/client-cloudformation), too slow for
 * live progress; 2 s keeps progress live while the retry strategy absorbs occasional throttling.
 */
export const DEFAULT_POLL_MS = 2000

/** Typed emit for this module's codes. */
export function say(
  io: IoHost | undefined,
  level: MessageLevel,
  code: DeployMessageCode,
  message: string,
  data?: unknown,
) {
  emit(io, level, code, message, data)
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

/**
 * Reads every stack's current state (DescribeStacks, and GetTemplate for existing stacks). A
 * stack with an operation running is waited for first — a deploy interrupted by a killed process
 * leaves one, and planning against a moving target would be wrong.
 */
export async function readState(o: {
  readonly stacks: readonly ManifestStackEntry[]
  readonly credentials: AccountAccess
  readonly concurrency: number
  readonly pollIntervalMs: number
  readonly io: IoHost | undefined
  readonly signal: AbortSignal | undefined
}): Promise<DeployedState> {
  const entries = await mapConcurrent(o.stacks, o.concurrency * 2, async (s) => {
    const cfn = o.credentials.cloudFormation(s)
    let d = await cfn.describeStack(s.name)
    let announced = false
    while (d && isInProgress(d.status) && !o.signal?.aborted) {
      if (!announced)
        say(
          o.io,
          'info',
          'deploy.waiting',
          `${s.name} (${s.account} ${s.region}) is ${d.status}; waiting for it to finish`,
          {
            id: stackId(s),
            status: d.status,
          },
        )
      announced = true
      await sleep(o.pollIntervalMs)
      d = await cfn.describeStack(s.name)
    }
    if (!d) return [stackId(s), undefined] as const
    const template = await cfn.getTemplate(s.name)
    return [stackId(s), { ...d, ...(template !== undefined ? { template } : {}) }] as const
  })
  return Object.fromEntries(entries)
}

/** Outcome of following one stack operation. */
export interface Followed {
  /** The final status; `DELETE_COMPLETE` when the stack is gone. */
  readonly status: string
  readonly statusReason?: string
  readonly events: readonly StackEvent[]
  /** True when CancelUpdateStack was called. */
  readonly cancelledUpdate: boolean
  /** The last DescribeStacks answer (absent once the stack is deleted): outputs without another call. */
  readonly stack?: StackDescription
}

/**
 * Polls DescribeStacks and DescribeStackEvents until the stack leaves `*_IN_PROGRESS` (a stack
 * status ending in `_IN_PROGRESS` is not terminal; see the stack status table,
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/view-stack-events.html). Emits
 * one `deploy.stack.status` per stack status change, with resource counts and the latest event.
 *
 * When `signal` aborts during an update, it calls CancelUpdateStack, which "cancels an update on
 * the specified stack … the stack rolls back the update and reverts to the previous stack
 * configuration"; only UPDATE_IN_PROGRESS can be cancelled
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CancelUpdateStack.html).
 * Creations and deletions are left to finish: cancelling them leaves nothing cleaner.
 */
export async function follow(o: {
  readonly cfn: CloudFormationApi
  readonly stackName: string
  /** The stack's id when known (a deletion may finish before the first poll sees it). */
  readonly stackId?: string
  readonly id: string
  /** Event ids that existed before this operation started (they are not this operation's). */
  readonly seen: ReadonlySet<string>
  /**
   * True for the first execution of a stack a CREATE change set made: its REVIEW_IN_PROGRESS
   * events, which CreateChangeSet wrote, are not this operation's either.
   */
  readonly skipReviewEvents?: boolean
  readonly expectedResources: number
  readonly pollIntervalMs: number
  readonly io: IoHost | undefined
  readonly signal: AbortSignal | undefined
}): Promise<Followed> {
  const seen = new Set(o.seen)
  const events: StackEvent[] = []
  const latestByResource = new Map<string, string>()
  let lastStatus = ''
  let cancelled = false
  // Events are read by stack id once known: after a deletion, DescribeStackEvents by name no
  // longer finds the stack, but by id it still returns the deletion's events.
  let ref = o.stackId ?? o.stackName
  for (;;) {
    const d = await o.cfn.describeStack(o.stackName)
    if (d?.stackId) ref = d.stackId
    let all: readonly StackEvent[] = []
    if (d || ref !== o.stackName) all = await o.cfn.describeStackEvents(ref).catch(() => [])
    const fresh = all.filter(
      (e) => !seen.has(e.eventId) && !(o.skipReviewEvents && e.status === 'REVIEW_IN_PROGRESS'),
    )
    // DescribeStackEvents lists newest first; replay oldest first.
    for (const e of [...fresh].reverse()) {
      seen.add(e.eventId)
      events.push(e)
      if (e.logicalId !== o.stackName || e.resourceType !== 'AWS::CloudFormation::Stack')
        latestByResource.set(e.logicalId, e.status)
      say(
        o.io,
        'debug',
        'deploy.stack.event',
        `${o.stackName}: ${e.logicalId} ${e.status}${e.reason ? ` (${e.reason})` : ''}`,
        {
          id: o.id,
          event: e,
        },
      )
    }
    const status = d?.status ?? 'DELETE_COMPLETE'
    if (status !== lastStatus) {
      lastStatus = status
      const counts = countResources(latestByResource, o.expectedResources)
      const latest = latestEvent(events, o.stackName)
      say(
        o.io,
        status.endsWith('FAILED') || status.includes('ROLLBACK') ? 'warn' : 'info',
        'deploy.stack.status',
        `${o.stackName}: ${status} (${counts.complete}/${counts.total} resources${counts.failed ? `, ${counts.failed} failed` : ''})${latest ? ` — ${latest.logicalId} ${latest.status}${latest.reason ? `: ${latest.reason}` : ''}` : ''}`,
        { id: o.id, status, counts, latest },
      )
    }
    if (!isInProgress(status))
      return {
        status,
        ...(d?.statusReason !== undefined ? { statusReason: d.statusReason } : {}),
        events,
        cancelledUpdate: cancelled,
        ...(d ? { stack: d } : {}),
      }
    if (o.signal?.aborted && !cancelled && status === 'UPDATE_IN_PROGRESS') {
      cancelled = true
      try {
        await o.cfn.cancelUpdateStack(o.stackName)
      } catch {
        // The update may have just moved past UPDATE_IN_PROGRESS; following it to its end is still right.
      }
    }
    await sleep(o.pollIntervalMs)
  }
}

function countResources(latest: ReadonlyMap<string, string>, expected: number): ResourceCounts {
  let complete = 0
  let inProgress = 0
  let failed = 0
  for (const s of latest.values()) {
    if (s.endsWith('_COMPLETE') || s === 'DELETE_SKIPPED') complete++
    else if (s.endsWith('_IN_PROGRESS')) inProgress++
    else if (s.endsWith('_FAILED')) failed++
  }
  return { total: Math.max(expected, latest.size), complete, inProgress, failed }
}

function latestEvent(events: readonly StackEvent[], stackName: string): LatestEvent | undefined {
  const e = [...events].reverse().find((x) => x.logicalId !== stackName) ?? events.at(-1)
  return e
    ? {
        logicalId: e.logicalId,
        resourceType: e.resourceType,
        status: e.status,
        ...(e.reason ? { reason: e.reason } : {}),
      }
    : undefined
}

/**
 * The resource that caused a failed operation: the earliest `*_FAILED` resource event whose
 * reason is not a consequence of another failure ("Resource creation cancelled" is what
 * CloudFormation writes for resources stopped because a sibling failed).
 */
export function rootCause(events: readonly StackEvent[], stackName: string): StackError | undefined {
  const failed = events.filter((e) => e.status.endsWith('_FAILED') && e.logicalId !== stackName)
  const cause = failed.find((e) => !/cancelled/i.test(e.reason ?? '')) ?? failed[0]
  if (!cause) return undefined
  return {
    message: `${cause.logicalId} (${cause.resourceType}) ${cause.status}: ${cause.reason ?? 'no reason given'}`,
    logicalId: cause.logicalId,
    resourceType: cause.resourceType,
    ...(cause.reason !== undefined ? { reason: cause.reason } : {}),
    kind: 'aws',
  }
}

/** A result for an action that never ran. */
export function notRun(a: PlanAction, outcome: StackOutcome, error?: StackError): StackResult {
  return {
    ...stackIdentity(a),
    outcome,
    ...(a.currentStatus ? { status: a.currentStatus } : {}),
    durationMs: 0,
    ...(error ? { error } : {}),
  }
}

/** The fields of a result that say which stack and planned action it is about. */
function stackIdentity(a: PlanAction) {
  return { id: a.id, stack: a.stack, account: a.account, region: a.region, phase: a.phase, action: a.action }
}

/** What a stack operation produced, minus the fields {@link resultOf} fills in. */
export type StackOutcomeFields = Omit<
  StackResult,
  'id' | 'stack' | 'account' | 'region' | 'phase' | 'action' | 'durationMs'
>

/**
 * Builds results for one planned action, timed from when this is called: deploy and destroy
 * both report every exit of a stack operation through it.
 */
export function resultOf(a: PlanAction): (x: StackOutcomeFields) => StackResult {
  const t0 = Date.now()
  return (x) => ({ ...stackIdentity(a), ...x, durationMs: Date.now() - t0 })
}

/** Outcomes that let dependents go ahead. */
export const OK_OUTCOMES: ReadonlySet<StackOutcome> = new Set([
  'created',
  'updated',
  'replaced',
  'deleted',
  'no-change',
  'planned',
])

/** The level of a `deploy.stack.done` message for an outcome. */
export function levelOf(outcome: StackOutcome): MessageLevel {
  if (outcome === 'failed' || outcome === 'blocked') return 'error'
  if (outcome === 'skipped' || outcome === 'cancelled') return 'warn'
  return 'info'
}

/** One text line for a finished stack. */
export function describeResult(r: StackResult): string {
  const where = `${r.stack} (${r.account} ${r.region})`
  const took = r.durationMs > 0 ? ` in ${(r.durationMs / 1000).toFixed(1)} s` : ''
  const err = r.error ? `: ${r.error.message}${r.error.advice ? ` — ${r.error.advice}` : ''}` : ''
  return `${where}: ${r.outcome}${r.status ? ` [${r.status}]` : ''}${took}${err}`
}

/**
 * Runs a plan's actions as one work graph over their `dependsOn` (which holds the previous phase
 * and the stacks whose outputs an action reads, so phases keep their order): at most
 * `concurrency` at once; an action whose dependencies did not all succeed is skipped; once the
 * signal aborts, nothing new starts.
 */
export async function runPhases(o: {
  readonly actions: readonly PlanAction[]
  readonly concurrency: number
  readonly signal: AbortSignal | undefined
  readonly io: IoHost | undefined
  readonly run: (a: PlanAction) => Promise<StackResult>
}): Promise<Map<string, StackResult>> {
  const results = new Map<string, StackResult>()
  const inFlight = new Set<string>()
  let reportedCancel = false
  const reportCancel = () => {
    if (reportedCancel) return
    reportedCancel = true
    const notStarted = o.actions.filter((a) => !results.has(a.id) && !inFlight.has(a.id)).map((a) => a.id)
    say(
      o.io,
      'warn',
      'deploy.cancelled',
      `interrupted: ${results.size} stack(s) done, ${inFlight.size} finishing (${[...inFlight].join(', ') || 'none'}), ${notStarted.length} not started`,
      { done: [...results.keys()], inFlight: [...inFlight], notStarted },
    )
  }
  const byId = new Map(o.actions.map((a) => [a.id, a]))
  o.signal?.addEventListener('abort', reportCancel, { once: true })
  try {
    await runWorkGraph({
      nodes: o.actions.map((a) => ({ id: a.id, dependsOn: a.dependsOn, value: a })),
      concurrency: o.concurrency,
      onFailure: 'skip-dependents',
      stopped: () => o.signal?.aborted === true,
      succeeded: (r: StackResult) => OK_OUTCOMES.has(r.outcome),
      run: async ({ value: a }) => {
        inFlight.add(a.id)
        try {
          return await o.run(a)
        } catch (err) {
          return notRun(a, 'failed', {
            message: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
            kind: 'aws',
          })
        } finally {
          inFlight.delete(a.id)
        }
      },
      onOutcome: ({ value: a }, outcome) => {
        let r: StackResult
        if (outcome.state === 'succeeded' || (outcome.state === 'failed' && outcome.result))
          r = outcome.result!
        else if (outcome.state === 'skipped') {
          const dep = results.get(outcome.because)
          const d = byId.get(outcome.because)!
          r = notRun(a, 'skipped', {
            message: `not started: ${d.stack} (${d.account} ${d.region}), which it depends on, ended ${dep?.outcome ?? 'skipped'}`,
          })
        } else r = notRun(a, 'cancelled', { message: 'not started: the deploy was interrupted' })
        results.set(a.id, r)
        say(o.io, levelOf(r.outcome), 'deploy.stack.done', describeResult(r), { result: r })
      },
    })
  } finally {
    o.signal?.removeEventListener('abort', reportCancel)
  }
  return results
}
