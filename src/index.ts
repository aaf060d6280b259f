/**
 * crosspipe's library API. Every CLI command is a function here that returns a typed result;
 * the library never prints (progress goes to an optional `IoHost`).
 */
export {
  definePipeline,
  parsePipeline,
  loadPipeline,
  pipelineJsonSchema,
  exampleProject,
} from './model/index.js'
export type {
  Pipeline,
  PipelineDefinitionInput,
  ResolvedPipeline,
  ResolvedStage,
  ResolvedTarget,
} from './model/index.js'
export { CrosspipeError, formatError, formatLocation } from './model/errors.js'
export type { ErrorCode, InputProblem, SourceLocation } from './model/errors.js'
export type { IoHost, IoMessage, MessageLevel } from './model/io.js'
export { parseTemplate, stringifyTemplate } from './model/cfn-yaml.js'
export type { ParsedTemplate } from './model/cfn-yaml.js'

export { compilePolicy, validatePolicy, PolicyValidationError } from './iam/index.js'
export type {
  SimulateRequest,
  SimulateResult,
  Decision,
  PolicyDocument,
  CompiledPolicy,
  ContextValue,
} from './iam/index.js'

export { synthesize } from './synth/index.js'
export type { SynthOutput, SynthOptions, SynthTemplate } from './synth/index.js'
export { Manifest } from './synth/manifest.js'
export type { ManifestDocument, ManifestStackEntry, ManifestParameterValue } from './synth/manifest.js'

// The commands as library functions (issue 12 item 9). Each returns a typed result and never
// prints; progress goes to an optional `io` host. README "Library" shows them in order.
export { checkPipeline, checkManifestFile, checkSetup, renderCheck, toSarif } from './check/index.js'
export type { CheckResult, CheckCall, CheckFinding, CheckInput, RuleId, Severity } from './check/index.js'
export { limitsReached } from './synth/index.js'
export type { LimitReached } from './synth/index.js'
export { deploy, destroy, runPipeline, pipelineStatus, approve } from './deploy/index.js'
export type {
  DeployOptions,
  DestroyOptions,
  DeployResult,
  StackResult,
  StackOutcome,
  StackError,
  PipelineStarted,
  ExecutionReport,
  ActionReport,
  StageWait,
  RunPipelineOptions,
  PipelineStatusOptions,
  ApproveOptions,
} from './deploy/index.js'
export type { Plan, PlanAction, PlanActionKind, ApplicationStack } from './plan/index.js'
export { profileAccess, assumeRoleAccess, sandboxAccess } from './aws/index.js'
export type {
  AccountAccess,
  CodePipelineApi,
  ProfileAccessOptions,
  AssumeRoleAccessOptions,
  SandboxAccessOptions,
} from './aws/index.js'
export { startSandbox } from './sandbox/index.js'
export type { StartSandboxOptions, RunningSandbox, SandboxAccount } from './sandbox/index.js'
export { registerRepository as addSandboxRepository } from './sandbox/services/codepipeline/repositories.js'
export type { RegisterRepositoryOptions as SandboxRepositoryOptions } from './sandbox/services/codepipeline/repositories.js'
export type { RepositoryRecord as SandboxRepository } from './sandbox/services/codepipeline/store.js'

import {
  checkManifestFile as checkManifestFileImpl,
  checkPipeline as checkPipelineImpl,
} from './check/index.js'
import type { CheckResult as CheckResultType } from './check/index.js'
import { sandboxAccess as sandboxAccessImpl } from './aws/index.js'
import type { AccountAccess as AccountAccessType } from './aws/index.js'
import type { ResolvedPipeline as ResolvedPipelineType } from './model/index.js'
import { simulate as simulateImpl } from './iam/index.js'
import type {
  SimulateRequest as SimulateRequestType,
  SimulateResult as SimulateResultType,
} from './iam/index.js'
import { CrosspipeError as CrosspipeErrorImpl } from './model/errors.js'

/**
 * `crosspipe check`: proves offline that every call of a pipeline across accounts is allowed, and
 * flags what is allowed but should not be. Takes a loaded definition (`loadPipeline`) or the path
 * of a manifest of templates.
 */
export async function check(
  input: ResolvedPipelineType | { readonly manifestFile: string },
): Promise<CheckResultType> {
  return 'manifestFile' in input ? checkManifestFileImpl(input.manifestFile) : checkPipelineImpl(input)
}

/**
 * Access to every account of a running sandbox (`startSandbox`), for `deploy`, `destroy` and the
 * CodePipeline client of `runPipeline`/`pipelineStatus`/`approve`: over HTTPS when the sandbox
 * has it (the artifact bucket policy denies requests without TLS, as on AWS).
 */
export function sandboxAccessFor(s: {
  readonly endpoint: string
  readonly httpsEndpoint?: string
  readonly caFile?: string
  readonly credentialsFile: string
  readonly configFile: string
  readonly accounts: readonly { readonly name: string; readonly id: string }[]
}): AccountAccessType {
  const secure = s.httpsEndpoint !== undefined && s.caFile !== undefined
  return sandboxAccessImpl({
    endpointUrl: secure ? s.httpsEndpoint : s.endpoint,
    ...(secure ? { caFile: s.caFile } : {}),
    credentialsFile: s.credentialsFile,
    configFile: s.configFile,
    profiles: Object.fromEntries(s.accounts.map((a) => [a.id, a.name])),
  })
}

/** The CloudFormation intrinsic functions a synthesized policy may hold, which IAM never sees. */
function intrinsicAt(value: unknown, path: string): string | undefined {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const found = intrinsicAt(v, `${path}[${i}]`)
      if (found) return found
    }
    return undefined
  }
  if (value === null || typeof value !== 'object') return undefined
  const keys = Object.keys(value)
  if (keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::')))
    return `${path}: ${keys[0]} ${JSON.stringify((value as Record<string, unknown>)[keys[0]!])}`
  for (const k of keys) {
    const found = intrinsicAt((value as Record<string, unknown>)[k], path ? `${path}.${k}` : k)
    if (found) return found
  }
  return undefined
}

/**
 * Evaluates one request against IAM's documented evaluation logic. Policies must be IAM JSON:
 * a template's policy still holding CloudFormation intrinsics (`Fn::Sub`, `Ref`, `Fn::GetAtt`…)
 * is a `CrosspipeError` (`invalid-policy`) naming where, because IAM only ever sees resolved
 * values — `check` resolves them for a whole template set.
 */
export function simulate(request: SimulateRequestType): SimulateResultType {
  const found = intrinsicAt(request, '')
  if (found)
    throw new CrosspipeErrorImpl(
      'invalid-policy',
      `simulate takes IAM policy JSON, but the request holds a CloudFormation intrinsic at ${found}: resolve it to the value CloudFormation would give (for example the ARN), or run check on the templates, which resolves them`,
    )
  return simulateImpl(request)
}
