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
 */
import type { CallFacts } from '../auth/authorize.js'
import type { BuildRecord, EnvVar, PipelineBuildInput } from '../services/codebuild/store.js'
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

/** StartBuild's input, as the API names it (the subset the sandbox honours). */
export interface StartBuildInput {
  readonly projectName: string
  readonly sourceVersion?: string
  readonly buildspecOverride?: string
  readonly environmentVariablesOverride?: readonly EnvVar[]
  readonly timeoutInMinutesOverride?: number
}

/** What CodePipeline's CodeBuild action uses (`runtime.internal('codebuild')`). */
export interface CodeBuildInternal {
  /** StartBuild as the caller in `ctx`, with the pipeline's artifacts as source and outputs. */
  startBuild(ctx: RequestContext, input: StartBuildInput, pipeline?: PipelineBuildInput): BuildRecord
  /** A build by id, in an account and region. */
  build(account: string, region: string, id: string): BuildRecord | undefined
  /** A build's log text. */
  buildLog(id: string): string
}

/** Every internal contract, by the name of the service that provides it. */
export interface Internals {
  kms: KmsInternal
  codebuild: CodeBuildInternal
}
