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

/**
 * What a policy is, which decides the elements it may contain: identity policies name no
 * Principal, resource and trust policies must, trust policies name no Resource.
 */
export type PolicyKind = 'identity' | 'resource' | 'trust' | 'scp' | 'rcp' | 'boundary' | 'session'

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
  /**
   * Context keys added to, or overriding, those derived from the request. Key names are
   * case-insensitive. The object is read once and its normalized form cached: do not mutate it
   * after passing it (build a new one per request).
   */
  readonly context?: Readonly<Record<string, ContextValue>>
  /** Identity-based policies of the principal (for a session: of its role). */
  readonly identityPolicies?: readonly (PolicyDocument | CompiledPolicy)[]
  /** The resource-based policy: bucket policy, key policy, role trust policy. */
  readonly resourcePolicy?: PolicyDocument | CompiledPolicy
  /** Service control policies of the principal's account: one array per level (root, OU…, account); each level must allow. */
  readonly serviceControlPolicies?: readonly (readonly (PolicyDocument | CompiledPolicy)[])[]
  /** Resource control policies of the resource's account, by level like SCPs. */
  readonly resourceControlPolicies?: readonly (readonly (PolicyDocument | CompiledPolicy)[])[]
  /** The permissions boundary of the principal (for a session: of its role). */
  readonly permissionBoundary?: PolicyDocument | CompiledPolicy
  /** The session policy passed to AssumeRole / GetFederationToken, for a session principal. */
  readonly sessionPolicy?: PolicyDocument | CompiledPolicy
  /** Names for the policies above, for the reasons (optional). */
  readonly policyNames?: Readonly<{ resource?: string; identity?: readonly string[] }>
  /**
   * The caller's unique ID (AROA… for a role, AIDA… for a user), from which `aws:userid` is derived
   * (`<role-id>:<session>` for a session). Without it `aws:userid` is absent unless `context` sets it.
   */
  readonly principalId?: string
  /** The request time, for `aws:CurrentTime` / `aws:EpochTime` (default: now). */
  readonly now?: Date
}

/**
 * The decision and why. `reasons` and `matched` may be computed on first read (getters), so read
 * them as fields; `JSON.stringify` writes all four, object spread copies only the plain fields.
 */
export interface SimulateResult {
  readonly decision: Decision
  /** Human sentences, AWS-style: which policy and statement allowed or denied, or what was missing. */
  readonly reasons: readonly string[]
  /**
   * When denied, the AWS error phrase that ends an AccessDenied message, e.g.
   * `because no resource-based policy allows the kms:Decrypt action`.
   */
  readonly denialReason?: string
  /** The statements that decided, for tools that point at a line of a template. */
  readonly matched: readonly MatchedStatement[]
}

/** A statement that took part in the decision. */
export interface MatchedStatement {
  readonly policyType: PolicyTypeName
  readonly policyName?: string
  readonly effect: 'Allow' | 'Deny'
  readonly statementIndex: number
  readonly sid?: string
}

/** The policy types of AWS's evaluation logic, with the names its AccessDenied messages use. */
export type PolicyTypeName =
  | 'service control policy'
  | 'resource control policy'
  | 'resource-based policy'
  | 'identity-based policy'
  | 'permissions boundary'
  | 'session policy'

/** One problem in a policy document: where it is and what is wrong. */
export interface PolicyProblem {
  /** Index in the Statement array (0 for a single statement object); absent for document-level problems. */
  readonly statementIndex?: number
  readonly sid?: string
  /** The element at fault: `Effect`, `Action`, `Condition`, `Principal`, `Version`… */
  readonly element: string
  readonly message: string
}

/** A policy parsed and validated once, to evaluate many requests against. */
export interface CompiledPolicy {
  readonly compiled: true
  readonly source: PolicyDocument
  /** The kind it was compiled as. */
  readonly kind?: PolicyKind
  /** A human name for explanations. */
  readonly name?: string
}
