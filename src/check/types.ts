/**
 * The result of `crosspipe check`, exactly the shape of `crosspipe check --json` (issue 4):
 * every AWS call the pipeline will make with its decision, and every finding with its fix.
 */
import type { Decision } from '../iam/types.js'

/** The stable rule ids (documented in RULES.md). */
export type RuleId =
  | 'call-denied'
  | 'no-calls-derived'
  | 'artifact-key-not-arn'
  | 'artifact-key-default'
  | 'codebuild-key-mismatch'
  | 'passrole-cross-account'
  | 'principal-not-yet-created'
  | 'output-not-yet-available'
  | 'stage-action-limit'
  | 'action-config-too-long'
  | 'policy-too-large'
  | 'wildcard-cross-account'
  | 'sensitive-action-any-resource'
  | 'passrole-unrestricted'
  | 'trust-unconditioned'
  | 'bucket-insecure-transport'
  | 'bucket-unencrypted-uploads'
  | 'key-rotation-off'
  | 'key-unused-principal'
  | 'managed-policy-unknown'
  | 'action-not-catalogued'
  | 'duplicate-key'
  | 'deploy-role-escalation'
  | 'admin-equivalent-role'
  | 'repository-read-any'
  | 'unknown-action'
  | 'pipeline-stage-limit'
  | 'template-too-large'

/** Errors make `check` fail (exit 1); warnings are reported but do not. */
export type Severity = 'error' | 'warning'

/** One AWS call the pipeline will make when it runs, and whether IAM allows it. */
export interface CheckCall {
  /** The pipeline stage, or `(pipeline)` for calls that are not one action's (the service assuming the pipeline role). */
  readonly stage: string
  /** The action name, or the role of the call outside actions (`service role`). */
  readonly action: string
  /** Who calls: a role ARN (the caller is a session of it) or a service principal. */
  readonly principal: string
  /** The IAM action, e.g. `kms:Decrypt`. */
  readonly operation: string
  /** The resource ARN; values unknown before deployment appear as `{stack.LogicalId.Attribute}`. */
  readonly resource: string
  readonly decision: Decision
  /** The IAM engine's reasons: which policy and statement decided, or what was missing. */
  readonly reasons: readonly string[]
}

/** Where a finding points in a template (for SARIF and editors). */
export interface FindingLocation {
  readonly file: string
  readonly line?: number
  readonly column?: number
}

/** A problem found: a denied call, a structural pitfall, or excess privilege. */
export interface CheckFinding {
  readonly rule: RuleId
  readonly severity: Severity
  /** The stack whose template to change (the manifest's stack name). */
  readonly stack: string
  /** The resource in that template to change. */
  readonly logicalId: string
  readonly message: string
  /** The change that fixes it, as YAML to put into the template (null when it is a removal or a choice). */
  readonly fix: string | null
  /**
   * True when the fix was applied to the model and checked again before it was printed: the
   * call became allowed (or the finding went away), no allowed call became denied, no error was
   * added. A fix that could not be proven is not printed (`fix` is null).
   */
  readonly fixVerified?: boolean
  /** The template position of the resource, when known. */
  readonly location?: FindingLocation
}

/** What `check` returns. `ok` is true when every call is allowed and no finding is an error. */
export interface CheckResult {
  readonly ok: boolean
  readonly calls: readonly CheckCall[]
  readonly findings: readonly CheckFinding[]
}
