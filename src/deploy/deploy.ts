/**
 * `deploy`: plan, then apply. Every stack by change set, phases in order, stacks of a phase in
 * parallel, values passed between accounts as parameters from earlier phases' outputs.
 *
 * The change set life cycle followed here is the one the CloudFormation API documents:
 * - CreateChangeSet returns at once; DescribeChangeSet `Status` goes CREATE_PENDING →
 *   CREATE_IN_PROGRESS → CREATE_COMPLETE, or FAILED with a `StatusReason`; only an
 *   `ExecutionStatus` of AVAILABLE can be executed
 *   (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeChangeSet.html,
 *   https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ChangeSetSummary.html).
 *   These are the acceptors of the SDK's `waitUntilChangeSetCreateComplete` waiter (success on
 *   CREATE_COMPLETE, failure on FAILED or a ValidationError); crosspipe polls itself so that it
 *   can report progress and use a short interval against local endpoints.
 * - A change set with nothing to change ends FAILED with the reason "The submitted information
 *   didn't contain changes. Submit different information to create a change set." (sometimes
 *   "No updates are to be performed."); that is "no change", and the change set is deleted.
 * - ExecuteChangeSet starts the stack operation; the stack is then followed through
 *   DescribeStacks/DescribeStackEvents until a status that does not end in `_IN_PROGRESS`.
 */
import { createHash } from 'node:crypto'
import { QUOTAS } from '../iam/aws-facts.js'
import type { ChangeSetDescription, CloudFormationApi, ResourceChange, StackLocation } from '../aws/index.js'
import { verifyAccess } from '../aws/index.js'
import { parseTemplate, TemplateBodies } from '../model/cfn-yaml.js'
import { CrosspipeError } from '../model/errors.js'
import { formatPlan, planDeploy, stackId, type PlanAction } from '../plan/index.js'
import type { ManifestStackEntry } from '../synth/manifest.js'
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_POLL_MS,
  OK_OUTCOMES,
  describeResult,
  follow,
  readState,
  rootCause,
  runPhases,
  say,
  sleep,
  resultOf,
} from './engine.js'
import { pipelineStartedText, startedPipelines } from './pipeline-start.js'
import type { DeployOptions, DeployResult, StackError, StackResult } from './types.js'

/**
 * CloudFormation's limit on a template passed as TemplateBody; larger templates (up to 1 MB) must
 * be passed as TemplateURL, an object in S3
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html).
 */
export const TEMPLATE_BODY_LIMIT = QUOTAS.cloudFormation.templateBodyBytes

/** Reasons DescribeChangeSet gives for a change set that would change nothing. */
const NO_CHANGES = /didn't contain changes|No updates are to be performed/i

/** Change set statuses that are final (the waiter's acceptors, plus deletions). */
const CHANGE_SET_DONE = new Set(['CREATE_COMPLETE', 'FAILED', 'DELETE_COMPLETE', 'DELETE_FAILED'])

/**
 * Deploys every stack of a manifest into its account and region. Returns a typed result; throws
 * only `CrosspipeError` for bad input (missing template files, unresolvable references,
 * credentials that are missing or belong to the wrong account), before anything is changed.
 */
export async function deploy(options: DeployOptions): Promise<DeployResult> {
  const startedAt = Date.now()
  const io = options.io
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_MS
  const stacks = options.manifest.stacks
  const accounts = [...new Set(stacks.map((s) => s.account))]
  say(
    io,
    'info',
    'deploy.start',
    `deploying "${options.manifest.pipeline}": ${stacks.length} stack(s) in ${accounts.length} account(s)`,
    {
      pipeline: options.manifest.pipeline,
      stacks: stacks.length,
      accounts,
    },
  )

  checkUploads(options)
  await verifyAccess(options.credentials, stacks)
  const deployed = await readState({
    stacks,
    credentials: options.credentials,
    concurrency,
    pollIntervalMs,
    io,
    signal: options.signal,
  })
  // The plan parses every template; the report of started pipelines reads the pipeline's again.
  const bodies = new TemplateBodies()
  const plan = planDeploy({
    manifest: options.manifest,
    templates: options.templates,
    deployed,
    bodies,
    ...(options.replaceFailed !== undefined ? { replaceFailed: options.replaceFailed } : {}),
    ...(options.manifestFile !== undefined ? { manifestFile: options.manifestFile } : {}),
  })
  const lines = formatPlan(plan)
  say(io, 'info', 'deploy.plan', lines.join('\n'), { plan, lines })

  const entries = new Map(stacks.map((s) => [stackId(s), s]))
  // Outputs known so far: deployed ones first, replaced by fresh ones as stacks finish.
  const outputs = new Map<string, Readonly<Record<string, string>>>()
  for (const [id, d] of Object.entries(deployed)) if (d) outputs.set(id, d.outputs)
  const byName = new Map(stacks.map((s) => [s.name, s]))

  const results = await runPhases({
    actions: plan.actions,
    concurrency,
    signal: options.signal,
    io,
    run: (a) =>
      runStack({
        action: a,
        entry: entries.get(a.id)!,
        options,
        pollIntervalMs,
        outputs,
        byName,
      }),
  })

  const list = plan.actions.map((a) => results.get(a.id)!)
  const cancelled = options.signal?.aborted === true
  const started = options.dryRun ? [] : await startedPipelines(options, list, bodies)
  const result: DeployResult = {
    kind: 'deploy',
    plan,
    stacks: list,
    success: list.every((r) => OK_OUTCOMES.has(r.outcome)),
    cancelled,
    dryRun: options.dryRun === true,
    durationMs: Date.now() - startedAt,
    scheduledKeyDeletions: [],
    emptiedBuckets: [],
    ...(started.length ? { pipelinesStarted: started } : {}),
  }
  say(io, 'result', 'deploy.summary', summaryText(result), { result })
  for (const p of started) say(io, 'warn', 'deploy.pipeline.started', pipelineStartedText(p), { started: p })
  return result
}

/** Text of the summary message: one line per stack and the totals. */
export function summaryText(r: DeployResult): string {
  const counts = new Map<string, number>()
  for (const s of r.stacks) counts.set(s.outcome, (counts.get(s.outcome) ?? 0) + 1)
  const head = `${r.kind}${r.dryRun ? ' (dry run)' : ''} ${r.success ? 'succeeded' : r.cancelled ? 'was interrupted' : 'failed'} in ${(r.durationMs / 1000).toFixed(1)} s: ${[...counts].map(([k, n]) => `${n} ${k}`).join(', ')}`
  // A dry run shows which resources would change, per stack (a creation: every resource added).
  return [
    head,
    ...r.stacks.flatMap((s) => [
      `  ${describeResult(s)}`,
      ...(r.dryRun && s.changes?.length ? changeLines(s.changes) : []),
    ]),
  ].join('\n')
}

/** The outputs of crosspipe's CI base stack that name the artifact bucket and its key. */
const ARTIFACT_OUTPUTS = { bucket: 'ArtifactBucketName', key: 'ArtifactKeyArn' } as const

/**
 * The stack, deployed in an earlier phase in the same account and region, whose outputs name an
 * artifact bucket and its KMS key: crosspipe's CI base stack. A template too large for TemplateBody
 * is uploaded there (the pipeline's own bucket exists before the pipeline stack is deployed).
 */
function artifactStore(o: DeployOptions, s: ManifestStackEntry): ManifestStackEntry | undefined {
  return o.manifest.stacks.find((p) => {
    if (p.account !== s.account || p.region !== s.region || p.phase >= s.phase) return false
    const text = o.templates[p.template] ?? ''
    return text.includes(ARTIFACT_OUTPUTS.bucket) && text.includes(ARTIFACT_OUTPUTS.key)
  })
}

/** Templates that must be uploaded need a bucket; say so before anything changes. */
function checkUploads(o: DeployOptions): void {
  if (o.templateBucket !== undefined || o.dryRun) return
  const big = o.manifest.stacks.filter((s) => needsUpload(s, o.templates[s.template]) && !artifactStore(o, s))
  if (big.length > 0)
    throw new CrosspipeError(
      'limit-exceeded',
      `${big.length} template(s) exceed CloudFormation's ${TEMPLATE_BODY_LIMIT}-byte TemplateBody limit and must be uploaded to S3, and no earlier stack in their account and region has an artifact bucket (outputs ${ARTIFACT_OUTPUTS.bucket} and ${ARTIFACT_OUTPUTS.key}, as crosspipe's CI base stack has); name a bucket in each stack's region (templateBucket / --template-bucket)`,
      big.map((s) => ({
        location: { file: s.template },
        message: `${Buffer.byteLength(o.templates[s.template] ?? '')} bytes (stack ${s.name}, ${s.account} ${s.region})`,
      })),
    )
}

function needsUpload(s: ManifestStackEntry, text: string | undefined): boolean {
  const flagged = (s as { readonly upload?: boolean }).upload === true
  return flagged || (text !== undefined && Buffer.byteLength(text) > TEMPLATE_BODY_LIMIT)
}

interface RunStack {
  readonly action: PlanAction
  readonly entry: ManifestStackEntry
  readonly options: DeployOptions
  readonly pollIntervalMs: number
  readonly outputs: Map<string, Readonly<Record<string, string>>>
  readonly byName: ReadonlyMap<string, ManifestStackEntry>
}

async function runStack(r: RunStack): Promise<StackResult> {
  const { action: a, options } = r
  const io = options.io
  const done = resultOf(a)

  if (a.action === 'blocked')
    return done({
      outcome: 'blocked',
      ...(a.currentStatus ? { status: a.currentStatus } : {}),
      error: {
        message: a.reason,
        kind: 'blocked',
        ...(adviceFor(a.currentStatus) ? { advice: adviceFor(a.currentStatus) } : {}),
      },
    })
  if (a.action === 'no-change')
    return done({
      outcome: 'no-change',
      ...(a.currentStatus ? { status: a.currentStatus } : {}),
      outputs: r.outputs.get(a.id) ?? {},
    })

  const params = resolveParameters(r)
  if ('error' in params) return done({ outcome: 'failed', error: params.error })
  if (options.dryRun && Object.values(a.parameters).some((v) => typeof v !== 'string') && params.unknown)
    // Values from stacks not deployed yet: no change set can be made, but a creation still adds
    // every resource of its template.
    return done({
      outcome: 'planned',
      ...(a.currentStatus ? { status: a.currentStatus } : {}),
      ...(a.action === 'create'
        ? { changes: templateAdds(options.templates[a.template] ?? '', a.template) }
        : {}),
    })

  say(io, 'info', 'deploy.stack.start', `${a.stack} (${a.account} ${a.region}): ${a.action} — ${a.reason}`, {
    id: a.id,
    action: a.action,
  })
  const cfn = options.credentials.cloudFormation(a)

  if (a.action === 'replace-failed') {
    if (options.dryRun)
      return done({ outcome: 'planned', ...(a.currentStatus ? { status: a.currentStatus } : {}) })
    const existingId = (await cfn.describeStack(a.stack))?.stackId
    const seen = new Set((await cfn.describeStackEvents(a.stack)).map((e) => e.eventId))
    await cfn.deleteStack(a.stack)
    const gone = await follow({
      cfn,
      stackName: a.stack,
      ...(existingId ? { stackId: existingId } : {}),
      id: a.id,
      seen,
      expectedResources: 0,
      pollIntervalMs: r.pollIntervalMs,
      io,
      signal: undefined,
    })
    if (gone.status !== 'DELETE_COMPLETE')
      return done({
        outcome: 'failed',
        status: gone.status,
        error: rootCause(gone.events, a.stack) ?? {
          message: `deleting the failed stack ended ${gone.status}`,
          kind: 'aws',
        },
      })
    if (options.signal?.aborted)
      return done({
        outcome: 'cancelled',
        error: {
          message: 'the failed stack was deleted; the deploy was interrupted before creating it again',
        },
      })
  }

  const creating = a.action === 'create' || a.action === 'replace-failed'
  if (options.dryRun && creating)
    // A CREATE change set would itself create a (REVIEW_IN_PROGRESS) stack: a dry run previews
    // creations from the template instead, where every resource is an Add.
    return done({
      outcome: 'planned',
      changes: templateAdds(options.templates[a.template] ?? '', a.template),
    })
  const template = await templateSource(r)
  const changeSetName = `crosspipe-${Date.now().toString(36)}-${createHash('sha256').update(a.id).digest('hex').slice(0, 6)}`
  const cs = await cfn.createChangeSet({
    stackName: a.stack,
    changeSetName,
    changeSetType: creating ? 'CREATE' : 'UPDATE',
    ...template,
    parameters: params.values,
    capabilities: a.capabilities,
    ...(a.tags ? { tags: a.tags } : {}),
    description: `crosspipe deploy of ${options.manifest.pipeline}`,
  })
  const desc = await waitForChangeSet(cfn, a.stack, cs.id, r.pollIntervalMs)
  if (desc.status === 'FAILED') {
    await cfn.deleteChangeSet(a.stack, cs.id).catch(() => undefined)
    if (NO_CHANGES.test(desc.statusReason ?? ''))
      return done({
        outcome: 'no-change',
        ...(a.currentStatus ? { status: a.currentStatus } : {}),
        outputs: r.outputs.get(a.id) ?? {},
      })
    return done({
      outcome: 'failed',
      ...(a.currentStatus ? { status: a.currentStatus } : {}),
      error: { message: `the change set failed: ${desc.statusReason ?? 'no reason given'}`, kind: 'aws' },
    })
  }
  say(io, 'info', 'deploy.stack.changeset', changeSetText(a, desc), {
    id: a.id,
    changeSetId: desc.id,
    changes: desc.changes,
  })

  if (options.dryRun || options.signal?.aborted) {
    // A preview, or interrupted before anything was executed: leave no change set behind. A
    // CREATE change set leaves a REVIEW_IN_PROGRESS stack with no resources; the next deploy
    // creates it (the plan treats REVIEW_IN_PROGRESS as absent).
    await cfn.deleteChangeSet(a.stack, cs.id).catch(() => undefined)
    return done({
      outcome: options.dryRun ? 'planned' : 'cancelled',
      ...(a.currentStatus ? { status: a.currentStatus } : {}),
      changes: desc.changes,
    })
  }

  // A stack that a CREATE change set made has no events but REVIEW_IN_PROGRESS ones until its
  // first execution (REVIEW_IN_PROGRESS: "without any templates or resources",
  // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/view-stack-events.html), so
  // those are skipped instead of reading the events beforehand: one call fewer per new stack.
  const seen = creating
    ? new Set<string>()
    : new Set((await cfn.describeStackEvents(a.stack)).map((e) => e.eventId))
  await cfn.executeChangeSet(a.stack, cs.id)
  const f = await follow({
    cfn,
    stackName: a.stack,
    id: a.id,
    seen,
    ...(creating ? { skipReviewEvents: true } : {}),
    expectedResources: creating ? desc.changes.length : 0,
    pollIntervalMs: r.pollIntervalMs,
    io,
    signal: options.signal,
  })
  if (f.status === 'CREATE_COMPLETE' || f.status === 'UPDATE_COMPLETE') {
    const after = f.stack ?? (await cfn.describeStack(a.stack))
    const outs = after?.outputs ?? {}
    r.outputs.set(a.id, outs)
    return done({
      outcome: a.action === 'replace-failed' ? 'replaced' : creating ? 'created' : 'updated',
      status: f.status,
      changes: desc.changes,
      outputs: outs,
    })
  }
  if (f.cancelledUpdate && f.status === 'UPDATE_ROLLBACK_COMPLETE')
    return done({
      outcome: 'cancelled',
      status: f.status,
      changes: desc.changes,
      error: {
        message: 'the update was cancelled (CancelUpdateStack) and rolled back to the previous configuration',
      },
    })
  const cause = rootCause(f.events, a.stack)
  return done({
    outcome: 'failed',
    status: f.status,
    changes: desc.changes,
    error: {
      ...(cause ?? {
        message: `the stack ended ${f.status}${f.statusReason ? `: ${f.statusReason}` : ''}`,
        kind: 'aws' as const,
      }),
      ...(adviceFor(f.status) ? { advice: adviceFor(f.status) } : {}),
    },
  })
}

/** What to do about a stack left in a status, when crosspipe knows. */
function adviceFor(status: string | undefined): string {
  if (status === 'ROLLBACK_COMPLETE' || status === 'ROLLBACK_FAILED' || status === 'CREATE_FAILED')
    return 'the stack can now only be deleted: fix the cause, then deploy again with --replace-failed to delete and recreate it'
  if (status === 'UPDATE_ROLLBACK_COMPLETE')
    return 'the stack is back to its previous configuration: fix the cause and deploy again'
  if (status === 'UPDATE_ROLLBACK_FAILED')
    return 'continue the rollback (aws cloudformation continue-update-rollback), then deploy again'
  return ''
}

/** Parameter values, with `fromStack` references replaced by the producers' current outputs. */
function resolveParameters(
  r: RunStack,
): { values: Record<string, string>; unknown: boolean } | { error: StackError } {
  const values: Record<string, string> = {}
  let unknown = false
  for (const [key, v] of Object.entries(r.action.parameters)) {
    if (typeof v === 'string') {
      values[key] = v
      continue
    }
    const producer = r.byName.get(v.fromStack)
    const outs = producer ? r.outputs.get(stackId(producer)) : undefined
    const value = outs?.[v.output]
    if (value === undefined) {
      if (r.options.dryRun) {
        unknown = true
        continue
      }
      return {
        error: {
          kind: 'unresolvable',
          message: `parameter ${key} needs output "${v.output}" of stack "${v.fromStack}", which ${outs ? `has no such output (it has: ${Object.keys(outs).join(', ') || 'none'})` : 'has not been deployed'}`,
        },
      }
    }
    values[key] = value
  }
  return { values, unknown }
}

/** TemplateBody, or TemplateURL after uploading a template over the body limit. */
async function templateSource(r: RunStack): Promise<{ templateBody: string } | { templateUrl: string }> {
  const text = r.options.templates[r.action.template] ?? ''
  if (!needsUpload(r.entry, text)) return { templateBody: text }
  const location: StackLocation = { account: r.action.account, region: r.action.region }
  const b = r.options.templateBucket
  let bucket = typeof b === 'function' ? b(location) : b
  let kmsKeyId: string | undefined
  if (bucket === undefined) {
    // The pipeline's own artifact bucket, whose policy takes only uploads encrypted with its key.
    const store = artifactStore(r.options, r.entry)
    const outs = store ? r.outputs.get(stackId(store)) : undefined
    bucket = outs?.[ARTIFACT_OUTPUTS.bucket]
    kmsKeyId = outs?.[ARTIFACT_OUTPUTS.key]
    if (bucket === undefined)
      throw new Error(
        `the artifact bucket of ${store?.name ?? 'the CI base stack'} is not known: it has no ${ARTIFACT_OUTPUTS.bucket} output`,
      )
  }
  // Content-addressed key: re-uploading the same template writes the same object.
  const hash = createHash('sha256').update(text).digest('hex')
  const key = `crosspipe/${r.options.manifest.pipeline}/${r.action.stack}/${hash}.template`
  const s3 = r.options.credentials.s3(location)
  await s3.putObject(bucket, key, text, kmsKeyId ? { kmsKeyId } : {})
  const url = s3.objectUrl(bucket, key)
  say(
    r.options.io,
    'info',
    'deploy.stack.upload',
    `${r.action.stack}: template (${Buffer.byteLength(text)} bytes) uploaded to s3://${bucket}/${key}`,
    {
      id: r.action.id,
      bucket,
      key,
      url,
      bytes: Buffer.byteLength(text),
    },
  )
  return { templateUrl: url }
}

async function waitForChangeSet(
  cfn: CloudFormationApi,
  stackName: string,
  id: string,
  pollIntervalMs: number,
): Promise<ChangeSetDescription> {
  for (;;) {
    const d = await cfn.describeChangeSet(stackName, id)
    if (CHANGE_SET_DONE.has(d.status)) return d
    await sleep(pollIntervalMs)
  }
}

/** The resources of a template, as the Adds a CREATE change set would list. */
function templateAdds(text: string, file: string): ResourceChange[] {
  try {
    const resources = parseTemplate(text, file).body.Resources
    if (resources === null || typeof resources !== 'object') return []
    return Object.entries(resources as Record<string, { Type?: unknown }>).map(([logicalId, res]) => ({
      action: 'Add',
      logicalId,
      resourceType: typeof res?.Type === 'string' ? res.Type : '',
    }))
  } catch {
    return []
  }
}

function changeSetText(a: PlanAction, d: ChangeSetDescription): string {
  const n = (act: string) => d.changes.filter((c) => c.action === act).length
  const replaced = d.changes.filter((c) => c.replacement === 'True').map((c) => c.logicalId)
  return [
    `${a.stack}: change set with ${d.changes.length} change(s): ${n('Add')} add, ${n('Modify')} modify, ${n('Remove')} remove${replaced.length ? `; replaces ${replaced.join(', ')}` : ''}`,
    ...changeLines(d.changes),
  ].join('\n')
}

const CHANGE_SYMBOL: Readonly<Record<string, string>> = {
  Add: '+',
  Modify: '~',
  Remove: '-',
  Import: '←',
  Dynamic: '?',
}

/**
 * One line per resource change, as a plan shows it: `+ Add`, `~ Modify` (with whether
 * CloudFormation replaces it: `Replacement` True / Conditional,
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ResourceChange.html),
 * `- Remove`.
 */
export function changeLines(changes: readonly ResourceChange[]): string[] {
  return changes.map(
    (c) =>
      `    ${CHANGE_SYMBOL[c.action] ?? '·'} ${c.action.padEnd(6)} ${c.logicalId} (${c.resourceType})${c.replacement === 'True' ? ' — replaced' : c.replacement === 'Conditional' ? ' — may be replaced' : ''}`,
  )
}
