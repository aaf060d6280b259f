/**
 * AWS's authorization decision, as the IAM User Guide documents it:
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-basics.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
 * Denial phrases: https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
 *
 * 1. An explicit Deny in any applicable policy (SCP, RCP, resource-based, identity-based, permissions
 *    boundary, session policy) denies.
 * 2. Every SCP level of the caller's account must allow (SCPs do not apply to service principals).
 *    RCPs can only deny: RCPFullAWSAccess is attached at every level and cannot be detached.
 * 3. Within one account, a resource-based policy that names the exact user or session allows on its
 *    own; one that allows everyone (`*`) needs no identity-based policy but a session policy still
 *    limits it; one that names the role of a session allows unless the permissions boundary or
 *    session policy implicitly denies; one that names only the account defers to identity-based policies.
 * 4. Otherwise an identity-based policy must allow, and the permissions boundary and session policy
 *    (where present) must allow too.
 * 5. Across accounts, the resource-based policy and the caller's identity-based policy must both allow.
 * Service rules (KMS key policies, role trust policies, iam:PassRole) are in rules.ts.
 */
import { parseArn, type Arn } from './arn.js'
import { dynamicMatcher, evaluateCondition } from './conditions.js'
import { toCompiled, type CompiledPolicyImpl, type CompiledStatement } from './compile.js'
import { RequestContext } from './context.js'
import {
  excludedByNotPrincipal,
  matchPrincipal,
  parseCaller,
  type Caller,
  type PrincipalMatch,
} from './principal.js'
import { serviceRuleFor, type ServiceRule } from './rules.js'
import type {
  ContextValue,
  Decision,
  MatchedStatement,
  PolicyKind,
  PolicyTypeName,
  SimulateRequest,
  SimulateResult,
} from './types.js'

/** A request that cannot be simulated as given (a bug in the caller, not a denial). */
export class SimulateInputError extends Error {
  /** Stable code for callers that map errors to exit codes. */
  readonly code = 'IAM_BAD_REQUEST'
  constructor(message: string) {
    super(message)
    this.name = 'SimulateInputError'
  }
}

/** Per-request state shared by the statement matchers. */
interface Req {
  readonly svc: string
  readonly name: string
  readonly full: string
  readonly resource: string
  readonly caller: Caller
  readonly ctx: RequestContext
  readonly hasBoundary: boolean
}

/** What one policy said about a request. */
interface PolicyVerdict {
  deny?: CompiledStatement
  allow?: CompiledStatement
  /** For policies with principals: the strongest way an Allow statement named the caller. */
  match?: PrincipalMatch
}

const MATCH_RANK: Record<PrincipalMatch, number> = { account: 1, role: 2, any: 3, direct: 4 }

function actionMatches(s: CompiledStatement, r: Req): boolean {
  let m = s.actionAll
  if (!m) {
    const list = s.byService.get(r.svc)
    if (list)
      for (const f of list)
        if (f(r.name)) {
          m = true
          break
        }
  }
  if (!m)
    for (const f of s.anyService)
      if (f(r.full)) {
        m = true
        break
      }
  return s.notAction ? !m : m
}

function resourceMatches(s: CompiledStatement, r: Req): boolean {
  const list = s.resources
  if (!list) return true
  let m = false
  for (const e of list) {
    if ('all' in e) m = m || true
    else if ('matcher' in e) m = m || e.matcher(r.resource)
    else {
      const f = dynamicMatcher(e.tpl, r.ctx, true)
      // An entry whose variable has no value (and no default) matches nothing; the statement's
      // other Resource entries still apply (IAM User Guide, "IAM policy elements: Variables and
      // tags", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html,
      // "Specifying default values" / "no value": an unresolved variable is not replaced, so the
      // entry cannot match a real ARN). Issue 10, class 7.
      if (f === undefined) continue
      m = m || f(r.resource)
    }
  }
  return s.notResource ? !m : m
}

function conditionsHold(s: CompiledStatement, r: Req): boolean {
  for (const c of s.conditions) if (!evaluateCondition(c, r.ctx)) return false
  return true
}

/** Evaluates one policy; stops at the first Deny, and at the first Allow unless principals are ranked. */
function evalPolicy(p: CompiledPolicyImpl, r: Req, rankPrincipals: boolean): PolicyVerdict {
  const v: PolicyVerdict = {}
  for (const s of p.statementsFor(r.svc)) {
    if (s.effect === 'Allow' && v.allow && (!rankPrincipals || v.match === 'direct')) continue
    if (!actionMatches(s, r) || !resourceMatches(s, r)) continue
    let match: PrincipalMatch = 'direct'
    if (s.principal) {
      if (s.notPrincipal) {
        // "The NotPrincipal element with a Deny effect will always deny any IAM principal that has a
        // permissions boundary policy attached, regardless of the values specified in the NotPrincipal
        // element." https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
        if (excludedByNotPrincipal(s.principal, r.caller) && !(s.effect === 'Deny' && r.hasBoundary)) continue
        // An Allow with NotPrincipal names nobody specifically.
        match = 'any'
      } else {
        const m = matchPrincipal(s.principal, r.caller)
        if (m === undefined) continue
        match = m
      }
    }
    if (!conditionsHold(s, r)) continue
    if (s.effect === 'Deny') {
      v.deny = s
      return v
    }
    if (!v.allow || MATCH_RANK[match] > MATCH_RANK[v.match ?? 'account']) {
      v.allow = s
      v.match = match
    }
  }
  return v
}

/** A policy taking part in a request, with what it said; names are worked out only for explanations. */
interface Part {
  readonly policy: CompiledPolicyImpl
  readonly type: PolicyTypeName
  /** Position: SCP/RCP level and index, identity index; for the default name. */
  readonly level: number
  readonly index: number
  verdict: PolicyVerdict | undefined
}

function part(policy: CompiledPolicyImpl, type: PolicyTypeName, level: number, index: number): Part {
  return { policy, type, level, index, verdict: undefined }
}

/** The AWS phrase for an explicit deny: `with an explicit deny in an identity-based policy`. */
export function explicitDenyPhrase(type: PolicyTypeName): string {
  return `with an explicit deny in ${type === 'identity-based policy' ? 'an' : 'a'} ${type}`
}

/** The AWS phrase for an implicit deny: `because no resource-based policy allows the kms:Decrypt action`. */
export function implicitDenyPhrase(type: PolicyTypeName, action: string): string {
  return `because no ${type} allows the ${action} action`
}

/** Why a request was decided as it was, kept as data and written out only when someone reads it. */
type Note =
  | { readonly t: 'deny'; readonly part: Part; readonly stmt: CompiledStatement }
  | {
      readonly t: 'allow'
      readonly part: Part
      readonly stmt: CompiledStatement
      readonly match?: PrincipalMatch
    }
  | { readonly t: 'text'; readonly text: string }

/**
 * A result whose reasons and matched statements are written only when read: the sandbox asks for
 * many decisions and few reasons. They are prototype getters (an object literal with own getters
 * measured 3-4× slower), so `{ ...result }` copies only `decision` and `denialReason`: read the
 * fields, or use `JSON.stringify` (toJSON writes all four).
 */
class Result implements SimulateResult {
  #reasons: readonly string[] | undefined
  #matched: readonly MatchedStatement[] | undefined
  readonly #ev: Evaluation
  readonly #notes: readonly Note[]
  constructor(
    readonly decision: Decision,
    readonly denialReason: string | undefined,
    ev: Evaluation,
    notes: readonly Note[],
  ) {
    this.#ev = ev
    this.#notes = notes
  }
  get reasons(): readonly string[] {
    return (this.#reasons ??= this.#notes.map((n) => this.#ev.sentence(n)))
  }
  get matched(): readonly MatchedStatement[] {
    return (this.#matched ??= this.#notes.flatMap((n) =>
      n.t === 'text' ? [] : [this.#ev.matchedOf(n.part, n.stmt)],
    ))
  }
  toJSON(): object {
    return {
      decision: this.decision,
      reasons: this.reasons,
      ...(this.denialReason !== undefined ? { denialReason: this.denialReason } : {}),
      matched: this.matched,
    }
  }
}

function isIamCaller(c: Caller): boolean {
  return (
    c.kind === 'root' ||
    c.kind === 'user' ||
    c.kind === 'role' ||
    c.kind === 'session' ||
    c.kind === 'federated-user'
  )
}

const ROLE_TRUST: PolicyKind = 'trust'
const RESOURCE: PolicyKind = 'resource'

/** One request being decided. Methods, not closures: the hot path allocates as little as it can. */
class Evaluation {
  readonly notes: Note[] = []
  scp: Part[][] = []
  rcp: Part[][] = []
  res: Part | undefined
  ids: Part[] = []
  boundary: Part | undefined
  session: Part | undefined
  constructor(
    readonly req: SimulateRequest,
    readonly r: Req,
    readonly rule: ServiceRule,
    readonly iam: boolean,
    readonly resourceAccount: string | undefined,
  ) {}

  gather(): void {
    const req = this.req
    const iam = this.iam
    if (iam && req.serviceControlPolicies)
      this.scp = req.serviceControlPolicies.map((level, li) =>
        level.map((p, i) => part(toCompiled(p, 'scp'), 'service control policy', li, i)),
      )
    if (req.resourceControlPolicies)
      this.rcp = req.resourceControlPolicies.map((level, li) =>
        level.map((p, i) => part(toCompiled(p, 'rcp'), 'resource control policy', li, i)),
      )
    if (req.resourcePolicy && !this.rule.identityOnly)
      this.res = part(
        toCompiled(req.resourcePolicy, this.rule.id === 'role-trust-policy' ? ROLE_TRUST : RESOURCE),
        'resource-based policy',
        0,
        0,
      )
    if (iam && req.identityPolicies)
      this.ids = req.identityPolicies.map((p, i) =>
        part(toCompiled(p, 'identity'), 'identity-based policy', 0, i),
      )
    if (iam && req.permissionBoundary)
      this.boundary = part(toCompiled(req.permissionBoundary, 'boundary'), 'permissions boundary', 0, 0)
    if (iam && req.sessionPolicy)
      this.session = part(toCompiled(req.sessionPolicy, 'session'), 'session policy', 0, 0)
    // A federated-user session (GetFederationToken) without a session policy has no permissions:
    // "If you do not pass a policy to this operation, the resulting temporary credentials have no
    // effective permissions" (STS API Reference, GetFederationToken,
    // https://docs.aws.amazon.com/STS/latest/APIReference/API_GetFederationToken.html). It is
    // evaluated as a session policy that allows nothing. Issue 10, class 7.
    else if (iam && this.r.caller.kind === 'federated-user')
      this.session = part(
        toCompiled({ Version: '2012-10-17', Statement: [] }, 'session'),
        'session policy',
        0,
        0,
      )
  }

  /** Step 1: an explicit deny anywhere decides. Evaluates every policy once, keeping its verdict. */
  findDeny(): SimulateResult | undefined {
    for (const level of this.scp) for (const p of level) if (this.evaluate(p, false)) return this.denied(p)
    for (const level of this.rcp) for (const p of level) if (this.evaluate(p, false)) return this.denied(p)
    if (this.res && this.evaluate(this.res, true)) return this.denied(this.res)
    for (const p of this.ids) if (this.evaluate(p, false)) return this.denied(p)
    if (this.boundary && this.evaluate(this.boundary, false)) return this.denied(this.boundary)
    if (this.session && this.evaluate(this.session, false)) return this.denied(this.session)
    return undefined
  }

  /** Evaluates a policy; true when it explicitly denies. */
  private evaluate(p: Part, rank: boolean): boolean {
    p.verdict = evalPolicy(p.policy, this.r, rank)
    return p.verdict.deny !== undefined
  }

  private denied(p: Part): SimulateResult {
    return new Result('ExplicitlyDenied', explicitDenyPhrase(p.type), this, [
      { t: 'deny', part: p, stmt: p.verdict!.deny! },
    ])
  }

  allowed(): SimulateResult {
    return new Result('Allowed', undefined, this, this.notes)
  }

  implicit(type: PolicyTypeName, text: string): SimulateResult {
    this.notes.push({ t: 'text', text })
    return new Result('ImplicitlyDenied', implicitDenyPhrase(type, this.req.action), this, this.notes)
  }

  noteAllow(p: Part | undefined): void {
    const v = p?.verdict
    if (p && v?.allow) this.notes.push({ t: 'allow', part: p, stmt: v.allow, match: v.match })
  }

  decide(): SimulateResult {
    const { req, rule, iam, r } = this
    const action = req.action
    const caller = r.caller

    // 2. Every SCP level must allow.
    for (let li = 0; li < this.scp.length; li++) {
      const hit = this.scp[li]!.find((p) => p.verdict?.allow)
      if (!hit)
        return this.implicit(
          'service control policy',
          `No service control policy at level ${li} of the caller's organization allows ${action}: every level ` +
            `from the root to the account must allow it.`,
        )
      this.noteAllow(hit)
    }

    if (rule.sameAccountOnly && (caller.account === undefined || caller.account !== this.resourceAccount))
      return this.implicit(
        'identity-based policy',
        `${action} cannot be granted across accounts: ${req.resource} is in account ${this.resourceAccount ?? '?'}, the ` +
          `caller in ${caller.account ?? 'no account'}; a role can only be passed within its own account (${rule.docs}).`,
      )

    // 3. The resource-based policy.
    const resVerdict = this.res?.verdict
    const resAllow = resVerdict?.allow !== undefined
    const resMatch = resVerdict?.match
    this.noteAllow(this.res)

    if (!iam) {
      // Services, identity providers and anonymous callers have no identity-based policies.
      return resAllow ? this.allowed() : this.missingResource()
    }

    const idHit = this.ids.find((p) => p.verdict?.allow)
    const identityAllows = caller.kind === 'root' || idHit !== undefined
    if (idHit) this.noteAllow(idHit)
    else if (caller.kind === 'root')
      this.notes.push({
        t: 'text',
        text: `The account root user has full access to its own account's resources.`,
      })

    if (rule.resourcePolicyRequired && !resAllow) return this.missingResource()
    if (caller.account === this.resourceAccount) {
      if (resAllow && resMatch === 'direct') {
        this.notes.push({
          t: 'text',
          text: `Within one account a resource-based policy that names the caller is enough on its own.`,
        })
        return this.allowed()
      }
      if (resAllow && resMatch === 'any') {
        // A grant to everyone needs no identity-based policy, but it does not name the session, so a
        // session policy still limits it — unless the grant names the principal by aws:PrincipalArn,
        // which then stands for naming it: "a resource-based policy that specifies the ARN of the
        // IAM user or role as a principal" is not limited by session policies or boundaries
        // (IAM User Guide, "Session policies" and "Permissions boundaries", evaluation of
        // resource-based policies: https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session
        // and https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html). Issue 10, class 7.
        const byArn = resVerdict?.allow?.conditions.some((c) => c.key === 'aws:principalarn') === true
        if (byArn) {
          this.notes.push({
            t: 'text',
            text: `A grant to every principal narrowed by aws:PrincipalArn names the caller: no session policy limits it.`,
          })
          return this.allowed()
        }
        if (this.session && !this.session.verdict?.allow)
          return this.implicit('session policy', `The session policy does not allow ${action}.`)
        this.notes.push({
          t: 'text',
          text: `Within one account a resource-based policy that allows every principal is enough on its own.`,
        })
        return this.allowed()
      }
      // Naming the role lets a session in without an identity-based policy, but the session policy and
      // permissions boundary still limit it: only a grant that "specifically references the resulting
      // role session" is "in addition to the permissions that are granted by the session policies"
      // (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html).
      if (resAllow && resMatch === 'role') return this.boundaryAndSession()
      if (!identityAllows) return this.missingIdentity(resAllow && resMatch === 'account')
      return this.boundaryAndSession()
    }
    if (!identityAllows) return this.missingIdentity(false)
    if (!resAllow) return this.missingResource()
    return this.boundaryAndSession()
  }

  private boundaryAndSession(): SimulateResult {
    const action = this.req.action
    if (this.boundary && !this.boundary.verdict?.allow)
      return this.implicit(
        'permissions boundary',
        `The permissions boundary does not allow ${action}, so no identity-based grant takes effect.`,
      )
    if (this.session && !this.session.verdict?.allow)
      return this.implicit('session policy', `The session policy does not allow ${action}.`)
    this.noteAllow(this.boundary)
    this.noteAllow(this.session)
    return this.allowed()
  }

  private missingResource(): SimulateResult {
    const { req, rule } = this
    return this.implicit(
      'resource-based policy',
      this.res
        ? `No statement of ${this.nameOf(this.res)} allows ${req.principal} to perform ${req.action} on ${req.resource}.` +
            (rule.resourcePolicyRequired ? ` ${rule.summary}` : '')
        : `There is no ${rule.resourcePolicyName} for ${req.resource}, and ${
            rule.resourcePolicyRequired || !this.iam ? 'one is required' : 'one is required across accounts'
          }.`,
    )
  }

  private missingIdentity(accountOnly: boolean): SimulateResult {
    const { req, r } = this
    return this.implicit(
      'identity-based policy',
      `No identity-based policy of ${req.principal} allows ${req.action} on ${req.resource}` +
        (r.caller.account !== this.resourceAccount
          ? ` (across accounts the caller's own identity-based policy must allow as well as the resource's policy).`
          : accountOnly
            ? ` (the ${this.rule.resourcePolicyName} names only the account, which defers to its identity-based policies).`
            : '.'),
    )
  }

  /** The human name of a policy: given in the request, given at compile time, or by position. */
  nameOf(p: Part): string {
    const names = this.req.policyNames
    switch (p.type) {
      case 'resource-based policy':
        return names?.resource ?? p.policy.name ?? `the ${this.rule.resourcePolicyName}`
      case 'identity-based policy':
        return names?.identity?.[p.index] ?? p.policy.name ?? `identity-based policy #${p.index}`
      case 'service control policy':
        return p.policy.name ?? `SCP #${p.index} at level ${p.level}`
      case 'resource control policy':
        return p.policy.name ?? `RCP #${p.index} at level ${p.level}`
      default:
        return p.policy.name ?? `the ${p.type}`
    }
  }

  matchedOf(p: Part, s: CompiledStatement): MatchedStatement {
    return {
      policyType: p.type,
      policyName: this.nameOf(p),
      effect: s.effect,
      statementIndex: s.index,
      ...(s.sid !== undefined ? { sid: s.sid } : {}),
    }
  }

  sentence(n: Note): string {
    if (n.t === 'text') return n.text
    const where = `statement ${n.stmt.index}${n.stmt.sid ? ` ("${n.stmt.sid}")` : ''} of ${this.nameOf(n.part)}`
    const { action, resource } = this.req
    if (n.t === 'deny')
      return `${capital(where)} explicitly denies ${action} on ${resource}; an explicit deny overrides any allow.`
    if (n.part.type === 'resource-based policy')
      return `${capital(where)} allows ${action} for ${whom(n.match, this.r.caller)}.`
    return `${capital(where)} allows ${action}.`
  }
}

/**
 * Decides whether `req.principal` may perform `req.action` on `req.resource`, as AWS does, and says why.
 *
 * Service rules are applied from the action's service prefix and the resource (see
 * {@link serviceRuleFor}): a KMS key's key policy must allow (IAM policies count only where it
 * grants the account), a role's trust policy is the resource policy of sts:AssumeRole and must
 * allow, iam:PassRole is decided by identity-based policies in the caller's own account only,
 * sts:GetCallerIdentity is always allowed. S3 ARNs carry no account: pass `resourceAccount`.
 *
 * Policies may be documents or {@link CompiledPolicy} values; documents are compiled on first use
 * and cached by object identity, so passing the same objects again costs no parsing.
 *
 * @throws PolicyValidationError for a malformed policy, SimulateInputError / PrincipalFormatError
 *   for a request that cannot be simulated (no service prefix, unknown principal form, S3 ARN
 *   without resourceAccount).
 */
export function simulate(req: SimulateRequest): SimulateResult {
  const action = req.action
  const colon = action.indexOf(':')
  if (colon <= 0 || colon === action.length - 1)
    throw new SimulateInputError(
      `"${action}" is not an action: write service-prefix:ActionName, e.g. s3:GetObject`,
    )
  const full = action.toLowerCase()
  const svc = full.slice(0, colon)
  const caller = parseCaller(req.principal)
  const rule = serviceRuleFor(action, req.resource, parseArnCached)
  const resourceAccount = resolveResourceAccount(req, caller)
  const ctx = new RequestContext(
    {
      caller,
      service: svc,
      resourceAccount,
      resource: req.resource,
      principalId: req.principalId,
      now: req.now,
    },
    req.context,
  )
  const iam = isIamCaller(caller)
  const r: Req = {
    svc,
    name: full.slice(colon + 1),
    full,
    resource: req.resource,
    caller,
    ctx,
    hasBoundary: iam && req.permissionBoundary !== undefined,
  }
  const ev = new Evaluation(req, r, rule, iam, resourceAccount)
  if (rule.alwaysAllowed && caller.kind !== 'anonymous') {
    ev.notes.push({ t: 'text', text: `${action} is allowed for any authenticated caller (${rule.docs}).` })
    return ev.allowed()
  }
  ev.gather()
  return ev.findDeny() ?? ev.decide()
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1)
}

function whom(m: PrincipalMatch | undefined, c: Caller): string {
  switch (m) {
    case 'account':
      return `the caller's account ${c.account ?? ''}`.trimEnd()
    case 'role':
      return `the role ${c.roleArn ?? ''}`.trimEnd()
    case 'any':
      return 'every principal ("*")'
    default:
      return c.raw
  }
}

/**
 * The request context `simulate` evaluates for a request: every key it derives (aws:PrincipalArn,
 * aws:PrincipalAccount, aws:ResourceAccount, aws:CurrentTime, kms:CallerAccount…) plus the
 * caller's own `context`, with lower-case key names. For explanations ("the engine saw …").
 */
export function describeContext(req: SimulateRequest): Record<string, ContextValue> {
  const caller = parseCaller(req.principal)
  const colon = req.action.indexOf(':')
  return new RequestContext(
    {
      caller,
      service: req.action.slice(0, Math.max(colon, 0)).toLowerCase(),
      resourceAccount: resolveResourceAccount(req, caller),
      resource: req.resource,
      principalId: req.principalId,
      now: req.now,
    },
    req.context,
  ).snapshot()
}

// The sandbox and check ask about the same resources over and over: parse each ARN once.
const arnCache = new Map<string, Arn | undefined>()
function parseArnCached(value: string): Arn | undefined {
  let a = arnCache.get(value)
  if (a === undefined && !arnCache.has(value)) {
    a = parseArn(value)
    if (arnCache.size > 5000) arnCache.clear()
    arnCache.set(value, a)
  }
  return a
}

function resolveResourceAccount(req: SimulateRequest, caller: Caller): string | undefined {
  if (req.resourceAccount) return req.resourceAccount
  const arn = parseArnCached(req.resource)
  if (arn?.account) return arn.account
  if (req.resource === '*' || !arn) return caller.account
  throw new SimulateInputError(
    `${req.resource} carries no account ID (S3 ARNs do not): pass resourceAccount, the account that owns it`,
  )
}

/**
 * The full AccessDenied message AWS would return, e.g.
 * `User: arn:aws:sts::111111111111:assumed-role/r/s is not authorized to perform: kms:Decrypt on resource:
 * arn:aws:kms:… because no resource-based policy allows the kms:Decrypt action`.
 * Undefined when the request was allowed.
 */
export function accessDeniedMessage(
  req: Pick<SimulateRequest, 'principal' | 'action' | 'resource'>,
  result: SimulateResult,
): string | undefined {
  if (result.decision === 'Allowed' || !result.denialReason) return undefined
  return `User: ${req.principal} is not authorized to perform: ${req.action} on resource: ${req.resource} ${result.denialReason}`
}
