/**
 * The internal contracts: what one sandbox service offers the others, declared below them all so
 * that no service imports another. A service registers its side with `runtime.provide(name, api)`
 * and a sibling reaches it with `runtime.internal(name)`, both typed by {@link Internals} — no
 * string-keyed lookup with a cast.
 *
 * These are the calls that have no wire form of their own on AWS (a service acting inside another
 * on its caller's behalf); everything a service does as a role session goes through the other
 * services' own handlers with `internal/client.ts`, so IAM decides it exactly as a direct request.
 * Each method says which authorization it keeps.
 *
 * A contract names only what it declares here (small views, in the API's member names), never a
 * service's storage types: the providing service maps its records to them, so its store can change
 * without its siblings knowing (test/sandbox/siblings-lint.test.ts checks the imports).
 */
import type { CallFacts } from '../auth/authorize.js'
import type { RequestContext } from '../services/types.js'

/** What services that encrypt on a caller's behalf (S3) get from KMS (`runtime.internal('kms')`). */
export interface KmsInternal {
  /** GenerateDataKey (AES_256) as the caller, via a service (`kms:ViaService`). */
  generateDataKey(
    f: CallFacts,
    keyId: string,
    context: Readonly<Record<string, string>>,
    viaService: string,
  ): { keyArn: string; plaintext: Buffer; ciphertext: Buffer }
  /** Decrypt as the caller, via a service. */
  decrypt(
    f: CallFacts,
    ciphertext: Buffer,
    context: Readonly<Record<string, string>>,
    viaService: string,
  ): { keyArn: string; plaintext: Buffer }
  /** The ARN of the AWS managed key `aws/<service>` of an account, created on first use as AWS does. */
  awsManagedKeyArn(account: string, region: string, partition: string, service: string): string
}

/**
 * An environment variable of a build override (StartBuild's `EnvironmentVariable`): CodePipeline's
 * `EnvironmentVariables` configuration, as the action reference gives it.
 */
export interface BuildEnvironmentVariable {
  readonly name: string
  readonly value: string
  readonly type?: 'PLAINTEXT' | 'PARAMETER_STORE' | 'SECRETS_MANAGER'
}

/** StartBuild's input, as the API names it (the subset the sandbox honours). */
export interface StartBuildInput {
  readonly projectName: string
  readonly sourceVersion?: string
  readonly buildspecOverride?: string
  readonly environmentVariablesOverride?: readonly BuildEnvironmentVariable[]
  readonly timeoutInMinutesOverride?: number
}

/** An artifact of a pipeline's artifact store (an S3 object) that a build reads or writes. */
export interface PipelineArtifact {
  readonly name: string
  readonly bucket: string
  readonly key: string
}

/**
 * What a CodePipeline action gives the build it starts, which has no StartBuild member on the wire:
 * the action's input artifacts as the build's sources and its output artifacts as the places the
 * build writes (action-reference-CodeBuild.html, Input and Output artifacts).
 */
export interface PipelineBuildInput {
  readonly pipelineName: string
  readonly inputs: readonly PipelineArtifact[]
  readonly outputs: readonly PipelineArtifact[]
  /** The input artifact that is the primary source (Configuration.PrimarySource). */
  readonly primarySource?: string
}

/** A build's status, as BatchGetBuilds names it (API_Build.html, buildStatus and phaseStatus). */
export type BuildStatus = 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'FAULT' | 'TIMED_OUT' | 'STOPPED'

/** One phase of a build (API_BuildPhase.html), with the first of its contexts: why it ended so. */
export interface BuildPhaseView {
  readonly phaseType: string
  readonly phaseStatus?: BuildStatus
  readonly context?: { readonly statusCode: string; readonly message: string }
}

/**
 * A build as CodePipeline's CodeBuild action follows it: the members of BatchGetBuilds' `Build`
 * it reads (API_Build.html) — CodeBuild's own records stay CodeBuild's.
 */
export interface BuildView {
  readonly id: string
  readonly account: string
  readonly region: string
  readonly projectName: string
  readonly buildStatus: BuildStatus
  readonly buildComplete: boolean
  readonly phases: readonly BuildPhaseView[]
  /** The variables the buildspec exports (`env.exported-variables`): the action's output variables. */
  readonly exportedEnvironmentVariables: readonly { readonly name: string; readonly value: string }[]
}

/** What CodePipeline's CodeBuild action uses (`runtime.internal('codebuild')`). */
export interface CodeBuildInternal {
  /**
   * StartBuild as the caller in `ctx` — authorized as `codebuild:StartBuild` on the project, as the
   * API authorizes it — with the pipeline's artifacts as source and outputs.
   */
  startBuild(ctx: RequestContext, input: StartBuildInput, pipeline?: PipelineBuildInput): BuildView
  /**
   * A build by id, in an account and region, without authorization: the action reads it only after
   * its BatchGetBuilds through the internal client, which IAM decides.
   */
  build(account: string, region: string, id: string): BuildView | undefined
}

/** Every internal contract, by the name of the service that provides it. */
export interface Internals {
  kms: KmsInternal
  codebuild: CodeBuildInternal
}
