/** Types shared by the stack builders of src/synth. */
import type { ResolvedPipeline, ResolvedStage } from '../model/schema.js'
import type { ManifestParameterValue } from './manifest.js'

/** Tags applied to resources. */
export type Tags = Readonly<Record<string, string>>

/** One stack to write: its manifest entry fields, its template and the comments for YAML. */
export interface StackPlan {
  readonly name: string
  readonly account: string
  readonly region: string
  readonly phase: number
  readonly description: string
  readonly capabilities: readonly ('CAPABILITY_IAM' | 'CAPABILITY_NAMED_IAM' | 'CAPABILITY_AUTO_EXPAND')[]
  readonly parameters: Readonly<Record<string, ManifestParameterValue>>
  readonly body: Record<string, unknown>
  readonly comments: Readonly<Record<string, string>>
}

/** A stage's deployment into one target: what the target stack and the pipeline both need to know. */
export interface Deployment {
  readonly stage: ResolvedStage
  /** Index of the stage in the definition (for messages: `stages[2]`). */
  readonly stageIndex: number
  readonly account: string
  readonly region: string
}

/** The pipeline with everything synth derives once: names, regions, deployments. */
export interface SynthContext {
  readonly pipeline: ResolvedPipeline
  /** Regions with an artifact store: the CI region first, then target regions in definition order. */
  readonly regions: readonly string[]
  /** Every stage × target, in definition order. */
  readonly deployments: readonly Deployment[]
  /** Target account × region pairs in definition order, each with its deployments. */
  readonly targets: readonly TargetGroup[]
  /** The CodeCommit source account when it is not the CI account. */
  readonly sourceAccount?: string
  /** Stage name → unique alphanumeric fragment for logical ids (`prod-eu` → `ProdEu`). */
  readonly stageIds: ReadonlyMap<string, string>
}

/** The deployments of one target stack (one account × region). */
export interface TargetGroup {
  readonly account: string
  readonly region: string
  readonly deployments: readonly Deployment[]
}
