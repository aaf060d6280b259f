/**
 * The deploy plan (DESIGN.md "Plan, then apply"): one action per stack × account × region, with
 * its reason and its dependencies. Plain data, serializable as JSON for `--dry-run --json`.
 */
import type { ManifestParameterValue } from '../synth/manifest.js'

/** What a stack currently is, as read from CloudFormation before planning. */
export interface DeployedStack {
  /** A CloudFormation stack status, e.g. `CREATE_COMPLETE`, `ROLLBACK_COMPLETE`. */
  readonly status: string
  readonly statusReason?: string
  /** The template body CloudFormation has (GetTemplate, `Original` stage). */
  readonly template?: string
  readonly parameters: Readonly<Record<string, string>>
  readonly outputs: Readonly<Record<string, string>>
  readonly tags?: Readonly<Record<string, string>>
}

/** Deployed state by stack id ({@link stackId}); a missing entry means the stack does not exist. */
export type DeployedState = Readonly<Record<string, DeployedStack | undefined>>

/**
 * - `create`: the stack does not exist (or was only reviewed, never created).
 * - `update`: it exists and something may differ; the change set decides whether anything does.
 * - `no-change`: template, parameters and tags are exactly as deployed; nothing is called.
 * - `replace-failed`: it is in a state that can only be deleted; it is deleted and created again.
 * - `delete`: destroy deletes it.
 * - `blocked`: it cannot be deployed as it is; `reason` says what to do.
 */
export type PlanActionKind = 'create' | 'update' | 'no-change' | 'replace-failed' | 'delete' | 'blocked'

/** A resource that destroy must prepare before deleting the stack, or report. */
export interface DestroyNote {
  readonly logicalId: string
  /** `empty-bucket`: delete all versions first; `key-deletion`: KMS schedules deletion after `pendingWindowInDays`. */
  readonly kind: 'empty-bucket' | 'key-deletion' | 'retained'
  readonly resourceType: string
  readonly pendingWindowInDays?: number
}

/** One step of the plan. */
export interface PlanAction {
  /** `<account>/<region>/<stack>`: unique across the manifest. */
  readonly id: string
  readonly stack: string
  readonly account: string
  readonly region: string
  readonly phase: number
  /** The template file (relative to the manifest). */
  readonly template: string
  readonly action: PlanActionKind
  /** Why this action, in words. */
  readonly reason: string
  /** The status the stack has now, when it exists. */
  readonly currentStatus?: string
  /** Ids of actions that must succeed first (the previous phase, and stacks this one reads outputs of). */
  readonly dependsOn: readonly string[]
  readonly parameters: Readonly<Record<string, ManifestParameterValue>>
  readonly capabilities: readonly string[]
  readonly tags?: Readonly<Record<string, string>>
  /** For destroy: buckets to empty, keys whose deletion is scheduled, resources retained. */
  readonly notes?: readonly DestroyNote[]
  /** An application stack the pipeline deployed (destroy deletes it first). */
  readonly application?: { readonly stage: string; readonly pipelineStack: string }
  /** The role CloudFormation deletes the stack with (DeleteStack RoleARN): an application's deployment role. */
  readonly roleArn?: string
}

/** An ordered, serializable plan. Actions are in execution order: by phase, then manifest order. */
export interface Plan {
  readonly kind: 'deploy' | 'destroy'
  readonly pipeline: string
  /** The phases in execution order (descending for destroy). */
  readonly phases: readonly number[]
  readonly actions: readonly PlanAction[]
}
