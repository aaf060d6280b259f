/**
 * The public contract of the IAM engine. `crosspipe check` and the sandbox both decide every
 * authorization through `simulate` / `compilePolicy` + `evaluate`, so these types are shared.
 *
 * Expected outcomes are values (a denial is a `Decision`, not a throw); a malformed policy is a
 * `PolicyValidationError` naming the statement and element.
 */

/** A policy document as parsed from JSON or from a template (already free of intrinsics). */
export type PolicyDocument = Readonly<Record<string, unknown>>

/** A context value: single strings, or a list for multi-valued keys (aws:CalledVia, aws:TagKeys). */
export type ContextValue = string | readonly string[]

/** The three outcomes of AWS's evaluation logic. */
export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied'

/** Where a policy came from, for explanations ("the bucket policy of …", "inline policy X of role Y"). */
export interface PolicySource {
  readonly kind: 'identity' | 'resource' | 'scp' | 'rcp' | 'permission-boundary' | 'session'
  /** A human name, e.g. `inline policy "Deploy" of role pipeline-role` or `key policy of key 1234…`. */
  readonly name?: string
}

/** One request to authorize. */
export interface SimulateRequest {
  /**
   * The caller: an IAM role, user or root ARN, an assumed-role session ARN
   * (`arn:aws:sts::<acct>:assumed-role/<role>/<session>`), or a service principal
   * (`codepipeline.amazonaws.com`).
   */
  readonly principal: string
  /** `service:Action`, e.g. `kms:Decrypt`. */
  readonly action: string
  /** The resource ARN (or `*` for actions without a resource). */
  readonly resource: string
  /** The resource's account; required where the ARN has none (S3). */
  readonly resourceAccount?: string
  /** Context keys added to, or overriding, those derived from the request. */
  readonly context?: Readonly<Record<string, ContextValue>>
  /** Identity-based policies of the principal (for a session: of its role). */
  readonly identityPolicies?: readonly (PolicyDocument | CompiledPolicy)[]
  /** The resource-based policy: bucket policy, key policy, role trust policy. */
  readonly resourcePolicy?: PolicyDocument | CompiledPolicy
  /** Service control policies of the principal's account: one array per level (root, OU…, account); each level must allow. */
  readonly serviceControlPolicies?: readonly (readonly (PolicyDocument | CompiledPolicy)[])[]
  /** Resource control policies of the resource's account, by level like SCPs. */
  readonly resourceControlPolicies?: readonly (readonly (PolicyDocument | CompiledPolicy)[])[]
  readonly permissionBoundary?: PolicyDocument | CompiledPolicy
  readonly sessionPolicy?: PolicyDocument | CompiledPolicy
  /** Names for the policies above, for the reasons (optional). */
  readonly policyNames?: Readonly<{ resource?: string; identity?: readonly string[] }>
}

/** The decision and why. */
export interface SimulateResult {
  readonly decision: Decision
  /** Human sentences, AWS-style: which policy and statement allowed or denied, or what was missing. */
  readonly reasons: readonly string[]
  /**
   * When denied, the AWS error phrase that ends an AccessDenied message, e.g.
   * `because no resource-based policy allows the kms:Decrypt action`.
   */
  readonly denialReason?: string
}

/** A policy parsed and validated once, to evaluate many requests against. */
export interface CompiledPolicy {
  readonly compiled: true
  readonly source: PolicyDocument
}
