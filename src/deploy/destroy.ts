/**
 * `destroy`: deletes every stack of a manifest, in reverse phase order, after emptying the
 * versioned buckets CloudFormation could not delete otherwise, and says which KMS keys are now
 * scheduled for deletion and after how many days.
 *
 * DeleteStack returns at once; the stack goes DELETE_IN_PROGRESS → DELETE_COMPLETE (after which
 * DescribeStacks by name no longer finds it) or DELETE_FAILED
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DeleteStack.html).
 * A KMS key removed from a stack is not deleted at once: CloudFormation schedules its deletion
 * after `PendingWindowInDays` (7–30 days, default 30)
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-kms-key.html).
 */
import { verifyAccess } from '../aws/index.js'
import { CrosspipeError } from '../model/errors.js'
import {
  applicationEntries,
  applicationStacks,
  formatPlan,
  planDestroy,
  type PlanAction,
} from '../plan/index.js'
import { summaryText } from './deploy.js'
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_POLL_MS,
  OK_OUTCOMES,
  follow,
  readState,
  rootCause,
  runPhases,
  say,
  resultOf,
} from './engine.js'
import type {
  DeployResult,
  DestroyOptions,
  EmptiedBucket,
  ScheduledKeyDeletion,
  StackResult,
} from './types.js'

/**
 * Deletes every stack of the manifest. Without `yes: true` (and not a dry run) it throws a
 * `CrosspipeError` (`usage`) before changing anything: the CLI asks for confirmation first.
 */
export async function destroy(options: DestroyOptions): Promise<DeployResult> {
  const started = Date.now()
  const io = options.io
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_MS
  const stacks = options.manifest.stacks
  if (!options.yes && !options.dryRun)
    throw new CrosspipeError(
      'usage',
      `destroy deletes ${stacks.length} stack(s) of "${options.manifest.pipeline}" and everything in them; confirm with --yes (library: yes: true). Nothing was changed.`,
    )
  const accounts = [...new Set(stacks.map((s) => s.account))]
  say(
    io,
    'info',
    'destroy.start',
    `destroying "${options.manifest.pipeline}": ${stacks.length} stack(s) in ${accounts.length} account(s)`,
    {
      pipeline: options.manifest.pipeline,
      stacks: stacks.length,
      accounts,
    },
  )
  const applications = options.keepAppStacks ? [] : applicationStacks(options.manifest, options.templates)
  const appEntries = applicationEntries(options.manifest, applications)
  await verifyAccess(options.credentials, [...stacks, ...appEntries])
  const deployed = await readState({
    stacks: [...stacks, ...appEntries],
    credentials: options.credentials,
    concurrency,
    pollIntervalMs,
    io,
    signal: options.signal,
  })
  const plan = planDestroy({
    manifest: options.manifest,
    templates: options.templates,
    deployed,
    applications,
  })
  const lines = formatPlan(plan)
  say(io, 'info', 'destroy.plan', lines.join('\n'), { plan, lines })

  const keys: ScheduledKeyDeletion[] = []
  const buckets: EmptiedBucket[] = []
  const results = await runPhases({
    actions: plan.actions,
    concurrency,
    signal: options.signal,
    io,
    run: (a) => deleteOne(a, options, pollIntervalMs, keys, buckets),
  })
  const list = plan.actions.map((a) => results.get(a.id)!)
  const result: DeployResult = {
    kind: 'destroy',
    plan,
    stacks: list,
    success: list.every((r) => OK_OUTCOMES.has(r.outcome)),
    cancelled: options.signal?.aborted === true,
    dryRun: options.dryRun === true,
    durationMs: Date.now() - started,
    scheduledKeyDeletions: keys,
    emptiedBuckets: buckets,
  }
  say(io, 'result', 'destroy.summary', summaryText(result), { result })
  return result
}

async function deleteOne(
  a: PlanAction,
  options: DestroyOptions,
  pollIntervalMs: number,
  keys: ScheduledKeyDeletion[],
  buckets: EmptiedBucket[],
): Promise<StackResult> {
  const done = resultOf(a)
  const io = options.io
  if (a.action === 'no-change') return done({ outcome: 'no-change' })
  if (a.action === 'blocked')
    return done({
      outcome: 'blocked',
      ...(a.currentStatus ? { status: a.currentStatus } : {}),
      error: { message: a.reason, kind: 'blocked' },
    })
  if (options.dryRun)
    return done({ outcome: 'planned', ...(a.currentStatus ? { status: a.currentStatus } : {}) })

  const cfn = options.credentials.cloudFormation(a)
  const notes = a.notes ?? []
  const resources = notes.length > 0 ? await cfn.listStackResources(a.stack) : []
  // Only resources that exist now: after a rollback, ListStackResources still lists the ones it
  // deleted (DELETE_COMPLETE) or never created (CREATE_FAILED).
  const gone = new Set(['DELETE_COMPLETE', 'DELETE_SKIPPED', 'CREATE_FAILED'])
  const physical = (logicalId: string) =>
    resources.find((r) => r.logicalId === logicalId && !gone.has(r.status))?.physicalId
  for (const n of notes.filter((x) => x.kind === 'empty-bucket')) {
    const bucket = physical(n.logicalId)
    if (bucket === undefined) continue
    const objectsDeleted = await options.credentials.s3(a).emptyBucket(bucket, options.signal)
    buckets.push({ stack: a.stack, bucket, objectsDeleted })
    say(
      io,
      'info',
      'destroy.bucket.emptied',
      `${a.stack}: emptied bucket ${bucket} (${objectsDeleted} object version(s) and delete marker(s))`,
      {
        id: a.id,
        bucket,
        objectsDeleted,
      },
    )
  }
  if (options.signal?.aborted)
    return done({ outcome: 'cancelled', ...(a.currentStatus ? { status: a.currentStatus } : {}) })

  const stackId = (await cfn.describeStack(a.stack))?.stackId
  const seen = new Set((await cfn.describeStackEvents(a.stack)).map((e) => e.eventId))
  await cfn.deleteStack(a.stack, a.roleArn)
  const f = await follow({
    cfn,
    stackName: a.stack,
    ...(stackId ? { stackId } : {}),
    id: a.id,
    seen,
    expectedResources: resources.length,
    pollIntervalMs,
    io,
    signal: undefined,
  })
  if (f.status !== 'DELETE_COMPLETE')
    return done({
      outcome: 'failed',
      status: f.status,
      error: {
        ...(rootCause(f.events, a.stack) ?? {
          message: `the stack ended ${f.status}${f.statusReason ? `: ${f.statusReason}` : ''}`,
          kind: 'aws' as const,
        }),
        advice: 'fix the cause (the failing resource above) and run destroy again',
      },
    })
  for (const n of notes.filter((x) => x.kind === 'key-deletion')) {
    const keyId = physical(n.logicalId)
    if (keyId === undefined) continue
    const days = n.pendingWindowInDays ?? 30
    keys.push({
      stack: a.stack,
      account: a.account,
      region: a.region,
      logicalId: n.logicalId,
      keyId,
      pendingWindowInDays: days,
    })
    say(
      io,
      'warn',
      'destroy.key.scheduled',
      `${a.stack}: KMS key ${keyId} (${n.logicalId}) is scheduled for deletion by CloudFormation; it is deleted after a ${days}-day waiting period (PendingWindowInDays) and can be recovered until then with kms cancel-key-deletion`,
      { id: a.id, logicalId: n.logicalId, keyId, pendingWindowInDays: days },
    )
  }
  return done({ outcome: 'deleted', status: 'DELETE_COMPLETE' })
}
