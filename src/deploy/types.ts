/**
 * The library API of deploy and destroy: options, typed results, and the messages they emit
 * through the I/O host (DESIGN.md "Library first, CLI thin": the CLI renders these; the library
 * never prints).
 */
import type { AccountAccess, ResourceChange, StackLocation } from '../aws/index.js'
import type { IoHost } from '../model/io.js'
import type { Plan, PlanActionKind } from '../plan/index.js'
import type { ManifestDocument } from '../synth/manifest.js'

/** Options deploy and destroy share. */
export interface CommonOptions {
  readonly manifest: ManifestDocument
  /** Template file → text, for every template the manifest names. */
  readonly templates: Readonly<Record<string, string>>
  /** Credentials for every account (src/aws: profileAccess, assumeRoleAccess, sandboxAccess). */
  readonly credentials: AccountAccess
  /** Stacks worked on at once within a phase. Default 8. */
  readonly concurrency?: number
  /** Plan only (deploy: plus a preview change set for each update); change nothing. */
  readonly dryRun?: boolean
  /** Stop starting new work when aborted (Ctrl-C); in-flight operations finish or are cancelled. */
  readonly signal?: AbortSignal
  readonly io?: IoHost
  /** Milliseconds between DescribeStacks/DescribeStackEvents polls. Default 2,000. */
  readonly pollIntervalMs?: number
  /** The manifest's file name, for messages. */
  readonly manifestFile?: string
}

/** Options of `deploy`. */
export interface DeployOptions extends CommonOptions {
  /** Delete and recreate stacks whose creation failed (ROLLBACK_COMPLETE, ROLLBACK_FAILED, CREATE_FAILED). */
  readonly replaceFailed?: boolean
  /**
   * The S3 bucket for templates over CloudFormation's 51,200-byte TemplateBody limit, per stack
   * location (it must be in the stack's region and readable by the deploying credentials). Without
   * it, such a template is a `CrosspipeError` before anything changes.
   */
  readonly templateBucket?: string | ((location: StackLocation) => string)
}

/** Options of `destroy`. */
export interface DestroyOptions extends CommonOptions {
  /** Must be true to delete anything (the CLI asks for confirmation or takes `--yes`). */
  readonly yes?: boolean
  /**
   * Leave the application stacks the pipeline deployed (`my-app-dev`, …). By default they are
   * deleted first, through their deployment role, which the target stacks hold: once those are
   * deleted, an application stack can no longer be deleted.
   */
  readonly keepAppStacks?: boolean
}

/**
 * What happened to one stack:
 * `created`, `updated`, `replaced`, `deleted`, `no-change` — success;
 * `failed` — the operation failed (see `error`); `blocked` — the plan could not deploy it;
 * `skipped` — something it depends on did not succeed; `cancelled` — stopped by the signal;
 * `planned` — dry run.
 */
export type StackOutcome =
  | 'created'
  | 'updated'
  | 'replaced'
  | 'deleted'
  | 'no-change'
  | 'failed'
  | 'blocked'
  | 'skipped'
  | 'cancelled'
  | 'planned'

/** Why a stack failed, with the resource that failed first when CloudFormation named one. */
export interface StackError {
  readonly message: string
  readonly logicalId?: string
  readonly resourceType?: string
  /** The resource's status reason, as CloudFormation wrote it (e.g. an AccessDenied message). */
  readonly reason?: string
  /** What to do about it, when crosspipe knows. */
  readonly advice?: string
  /** `unresolvable`: a fromStack output was missing (bad input, exit 2). */
  readonly kind?: 'aws' | 'unresolvable' | 'blocked'
}

/** The result for one stack. */
export interface StackResult {
  readonly id: string
  readonly stack: string
  readonly account: string
  readonly region: string
  readonly phase: number
  readonly action: PlanActionKind
  readonly outcome: StackOutcome
  /** The CloudFormation status at the end (absent for a stack that does not exist). */
  readonly status?: string
  readonly durationMs: number
  readonly changes?: readonly ResourceChange[]
  readonly outputs?: Readonly<Record<string, string>>
  readonly error?: StackError
}

/** A KMS key whose deletion CloudFormation scheduled when its stack was deleted. */
export interface ScheduledKeyDeletion {
  readonly stack: string
  readonly account: string
  readonly region: string
  readonly logicalId: string
  readonly keyId?: string
  readonly pendingWindowInDays: number
}

/** A bucket destroy emptied before deleting its stack. */
export interface EmptiedBucket {
  readonly stack: string
  readonly bucket: string
  readonly objectsDeleted: number
}

/**
 * A pipeline this deploy created, and the execution CodePipeline started by itself when it was
 * created: where it is, and the Manual approvals it will wait at.
 */
export interface PipelineStarted {
  readonly pipeline: string
  readonly account: string
  readonly region: string
  readonly executionId: string
  /** The execution's status when deploy ended. */
  readonly status: string
  /** The stage it was in when deploy ended. */
  readonly stage?: string
  /** The pipeline's Manual approval actions, in order. */
  readonly approvals: readonly { readonly stage: string; readonly action: string }[]
}

/** The result of `deploy` or `destroy`. */
export interface DeployResult {
  readonly kind: 'deploy' | 'destroy'
  readonly plan: Plan
  readonly stacks: readonly StackResult[]
  /** True when every stack ended in a success outcome (or, for a dry run, nothing was blocked). */
  readonly success: boolean
  /** True when the signal stopped the run. */
  readonly cancelled: boolean
  readonly dryRun: boolean
  readonly durationMs: number
  readonly scheduledKeyDeletions: readonly ScheduledKeyDeletion[]
  readonly emptiedBuckets: readonly EmptiedBucket[]
  /** deploy: pipelines it created and the execution each started by itself. */
  readonly pipelinesStarted?: readonly PipelineStarted[]
}

/** Resource counts of a stack operation in progress, from its events. */
export interface ResourceCounts {
  readonly total: number
  readonly complete: number
  readonly inProgress: number
  readonly failed: number
}

/** The latest resource event of a stack, for progress lines. */
export interface LatestEvent {
  readonly logicalId: string
  readonly resourceType: string
  readonly status: string
  readonly reason?: string
}

/**
 * Message codes and their `data` (stable for `--json`). Levels: `info` unless noted.
 * - `deploy.start` / `destroy.start`: `{ pipeline, stacks, accounts }`
 * - `deploy.waiting`: a stack has an operation running; waiting before planning. `{ id, status }`
 * - `deploy.plan` / `destroy.plan`: `{ plan, lines }` — `lines` is the printable plan
 * - `deploy.stack.start`: `{ id, action }`
 * - `deploy.stack.upload`: a template over 51,200 bytes was uploaded. `{ id, bucket, key, url, bytes }`
 * - `deploy.stack.changeset`: `{ id, changeSetId, changes }`
 * - `deploy.stack.status`: one per stack status change: `{ id, status, counts, latest }`
 * - `deploy.stack.event` (debug): every new resource event `{ id, event }`
 * - `deploy.stack.done`: `{ result }` (level `error` for failed/blocked, `warn` for skipped/cancelled)
 * - `destroy.bucket.emptied`: `{ id, bucket, objectsDeleted }`
 * - `destroy.key.scheduled` (warn): `{ id, logicalId, keyId, pendingWindowInDays }`
 * - `deploy.cancelled` (warn): `{ done, inFlight, notStarted }` stack ids
 * - `deploy.summary` / `destroy.summary` (result): `{ result }`
 * - `deploy.pipeline.started` (warn, after the summary): `{ started }` — a created pipeline's
 *   first execution, which CodePipeline starts by itself
 */
export type DeployMessageCode =
  | 'deploy.start'
  | 'destroy.start'
  | 'deploy.waiting'
  | 'deploy.plan'
  | 'destroy.plan'
  | 'deploy.stack.start'
  | 'deploy.stack.upload'
  | 'deploy.stack.changeset'
  | 'deploy.stack.status'
  | 'deploy.stack.event'
  | 'deploy.stack.done'
  | 'destroy.bucket.emptied'
  | 'destroy.key.scheduled'
  | 'deploy.cancelled'
  | 'deploy.summary'
  | 'destroy.summary'
  | 'deploy.pipeline.started'
