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
 * 3. Within one account, a resource-based policy that names the exact user, session (or `*`) allows on
 *    its own; one that names the role of a session allows unless the permissions boundary or session
 *    policy implicitly denies; one that names only the account defers to identity-based policies.
 * 4. Otherwise an identity-based policy must allow, and the permissions boundary and session policy
 *    (where present) must allow too.
 * 5. Across accounts, the resource-based policy and the caller's identity-based policy must both allow.
 * Service rules (KMS key policies, role trust policies, iam:PassRole) are in rules.ts.
 */
import { parseArn } from './arn.js'
import { evaluateCondition } from './conditions.js'
import { toCompiled, type CompiledPolicyImpl, type CompiledStatement } from './compile.js'
import { RequestContext } from './context.js'
import { dynamicMatcher } from './conditions.js'
import { matchPrincipal, parseCaller, type Caller, type PrincipalMatch } from './principal.js'
import { serviceRuleFor } from './rules.js'
import type {
  CompiledPolicy,
  Decision,
  MatchedStatement,
  PolicyDocument,
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
}

/** What one policy said about a request. */
interface PolicyVerdict {
  deny?: CompiledStatement
  allow?: CompiledStatement
  /** For policies with principals: the strongest way an Allow statement named the caller. */
  match?: PrincipalMatch
}

const MATCH_RANK: Record<PrincipalMatch, number> = { account: 1, role: 2, direct: 3 }

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
    if ('all' in e) m = true
    else if ('matcher' in e) m = e.matcher(r.resource)
    else {
      const f = dynamicMatcher(e.tpl, r.ctx.variable, true)
      m = f !== undefined && f(r.resource)
    }
    if (m) break
  }
  return s.notResource ? !m : m
}

function conditionsHold(s: CompiledStatement, r: Req): boolean {
  for (const c of s.conditions) if (!evaluateCondition(c, r.ctx.get, r.ctx.variable)) return false
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
      const m = matchPrincipal(s.principal, r.caller)
      if (s.notPrincipal) {
        if (m !== undefined) continue
      } else if (m === undefined) continue
      else match = m
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

/** A policy with the name and type used in explanations. */
interface Named {
  readonly policy: CompiledPolicyImpl
  readonly type: PolicyTypeName
  readonly name: string
}

function named(
  p: PolicyDocument | CompiledPolicy,
  kind: PolicyKind,
  type: PolicyTypeName,
  fallback: string,
  name?: string,
): Named {
  const policy = toCompiled(p, kind, name)
  return { policy, type, name: name ?? policy.name ?? fallback }
}

/** The AWS phrase for an explicit deny: `with an explicit deny in an identity-based policy`. */
export function explicitDenyPhrase(type: PolicyTypeName): string {
  return `with an explicit deny in ${type === 'identity-based policy' ? 'an' : 'a'} ${type}`
}

/** The AWS phrase for an implicit deny: `because no resource-based policy allows the kms:Decrypt action`. */
export function implicitDenyPhrase(type: PolicyTypeName, action: string): string {
  return `because no ${type} allows the ${action} action`
}

function describe(n: Named, s: CompiledStatement): string {
  return `statement ${s.index}${s.sid ? ` ("${s.sid}")` : ''} of ${n.name}`
}

function matched(n: Named, s: CompiledStatement): MatchedStatement {
  return {
    policyType: n.type,
    policyName: n.name,
    effect: s.effect,
    statementIndex: s.index,
    ...(s.sid !== undefined ? { sid: s.sid } : {}),
  }
}

/** A result whose reasons are written only when read: the sandbox asks for millions of decisions and few reasons. */
class Result implements SimulateResult {
  #cached: readonly string[] | undefined
  readonly #explain: () => string[]
  constructor(
    readonly decision: Decision,
    readonly denialReason: string | undefined,
    readonly matched: readonly MatchedStatement[],
    explain: () => string[],
  ) {
    this.#explain = explain
  }
  get reasons(): readonly string[] {
    return (this.#cached ??= this.#explain())
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
  const rule = serviceRuleFor(action, req.resource)
  const resourceAccount = resolveResourceAccount(req, caller)
  const ctx = new RequestContext(
    {
      caller,
      service: svc,
      resourceAccount,
      resource: req.resource,
      ...(req.principalId !== undefined ? { principalId: req.principalId } : {}),
      ...(req.now !== undefined ? { now: req.now } : {}),
    },
    req.context,
  )
  const r: Req = { svc, name: full.slice(colon + 1), full, resource: req.resource, caller, ctx }
  const iam = isIamCaller(caller)

  if (rule.alwaysAllowed && caller.kind !== 'anonymous')
    return new Result('Allowed', undefined, [], () => [
      `${action} is allowed for any authenticated caller (${rule.docs}).`,
    ])

  // Gather what every applicable policy says.
  const scpLevels = iam ? (req.serviceControlPolicies ?? []) : []
  const scp = scpLevels.map((level, li) =>
    level.map((p, i) => named(p, 'scp', 'service control policy', `SCP #${i} at level ${li}`)),
  )
  const rcp = (req.resourceControlPolicies ?? []).map((level, li) =>
    level.map((p, i) => named(p, 'rcp', 'resource control policy', `RCP #${i} at level ${li}`)),
  )
  const res =
    req.resourcePolicy && !rule.identityOnly
      ? named(
          req.resourcePolicy,
          rule.id === 'role-trust-policy' ? 'trust' : 'resource',
          'resource-based policy',
          `the ${rule.resourcePolicyName}`,
          req.policyNames?.resource,
        )
      : undefined
  const ids = iam
    ? (req.identityPolicies ?? []).map((p, i) =>
        named(
          p,
          'identity',
          'identity-based policy',
          `identity-based policy #${i}`,
          req.policyNames?.identity?.[i],
        ),
      )
    : []
  const boundary =
    iam && req.permissionBoundary
      ? named(req.permissionBoundary, 'boundary', 'permissions boundary', 'the permissions boundary')
      : undefined
  const session =
    iam && req.sessionPolicy
      ? named(req.sessionPolicy, 'session', 'session policy', 'the session policy')
      : undefined

  // 1. Explicit deny anywhere.
  const order: Named[] = [...scp.flat(), ...rcp.flat(), ...(res ? [res] : []), ...ids]
  if (boundary) order.push(boundary)
  if (session) order.push(session)
  const verdicts = new Map<Named, PolicyVerdict>()
  for (const n of order) {
    const v = evalPolicy(n.policy, r, n === res)
    verdicts.set(n, v)
    if (v.deny) {
      const s = v.deny
      return new Result('ExplicitlyDenied', explicitDenyPhrase(n.type), [matched(n, s)], () => [
        `${describe(n, s)} explicitly denies ${action} on ${req.resource}; an explicit deny overrides any allow.`,
      ])
    }
  }
  const allowOf = (n: Named | undefined): CompiledStatement | undefined =>
    n ? verdicts.get(n)?.allow : undefined
  const allows: MatchedStatement[] = []
  const why: string[] = []
  const deny = (type: PolicyTypeName, sentence: string): SimulateResult =>
    new Result('ImplicitlyDenied', implicitDenyPhrase(type, action), [...allows], () => [...why, sentence])

  // 2. Every SCP level must allow.
  for (let li = 0; li < scp.length; li++) {
    const level = scp[li]!
    const hit = level.find((n) => allowOf(n))
    if (!hit)
      return deny(
        'service control policy',
        `No service control policy at level ${li} of the caller's organization allows ${action}: every level ` +
          `from the root to the account must allow it.`,
      )
    allows.push(matched(hit, allowOf(hit)!))
  }

  if (rule.sameAccountOnly && (caller.account === undefined || caller.account !== resourceAccount))
    return deny(
      'identity-based policy',
      `${action} cannot be granted across accounts: ${req.resource} is in account ${resourceAccount ?? '?'}, the caller ` +
        `in ${caller.account ?? 'no account'}; a role can only be passed within its own account (${rule.docs}).`,
    )

  // 3. The resource-based policy.
  const resVerdict = res ? verdicts.get(res) : undefined
  const resAllow = resVerdict?.allow
  const resMatch = resVerdict?.match
  if (res && resAllow) {
    allows.push(matched(res, resAllow))
    why.push(`${capital(describe(res, resAllow))} allows ${action} for ${whom(resMatch, caller)}.`)
  }
  const missingResource = (): SimulateResult =>
    deny(
      'resource-based policy',
      res
        ? `No statement of ${res.name} allows ${req.principal} to perform ${action} on ${req.resource}.` +
            (rule.resourcePolicyRequired ? ` ${rule.summary}` : '')
        : `There is no ${rule.resourcePolicyName} for ${req.resource}, and ${
            rule.resourcePolicyRequired || !iam ? 'one is required' : 'one is required across accounts'
          }.`,
    )

  if (!iam) {
    // Services, identity providers and anonymous callers have no identity-based policies.
    if (!resAllow) return missingResource()
    return new Result('Allowed', undefined, allows, () => why)
  }

  const idHit = ids.find((n) => allowOf(n))
  const identityAllows = caller.kind === 'root' || idHit !== undefined
  if (idHit) {
    allows.push(matched(idHit, allowOf(idHit)!))
    why.push(`${capital(describe(idHit, allowOf(idHit)!))} allows ${action}.`)
  } else if (caller.kind === 'root')
    why.push(`The account root user has full access to its own account's resources.`)
  const boundaryOk = !boundary || allowOf(boundary) !== undefined
  const sessionOk = !session || allowOf(session) !== undefined
  const checkBoundaryAndSession = (): SimulateResult => {
    if (!boundaryOk)
      return deny(
        'permissions boundary',
        `The permissions boundary does not allow ${action}, so no identity-based grant takes effect.`,
      )
    if (!sessionOk) return deny('session policy', `The session policy does not allow ${action}.`)
    if (boundary) allows.push(matched(boundary, allowOf(boundary)!))
    if (session) allows.push(matched(session, allowOf(session)!))
    return new Result('Allowed', undefined, allows, () => why)
  }
  const missingIdentity = (): SimulateResult =>
    deny(
      'identity-based policy',
      `No identity-based policy of ${req.principal} allows ${action} on ${req.resource}` +
        (caller.account !== resourceAccount
          ? ` (across accounts the caller's own identity-based policy must allow as well as the resource's policy).`
          : resAllow && resMatch === 'account'
            ? ` (the ${rule.resourcePolicyName} names only the account, which defers to its identity-based policies).`
            : '.'),
    )

  if (rule.resourcePolicyRequired && !resAllow) return missingResource()
  const sameAccount = caller.account === resourceAccount
  if (sameAccount) {
    if (resAllow && resMatch === 'direct') {
      why.push(`Within one account a resource-based policy that names the caller is enough on its own.`)
      return new Result('Allowed', undefined, allows, () => why)
    }
    if (resAllow && resMatch === 'role') return checkBoundaryAndSession()
    if (!identityAllows) return missingIdentity()
    return checkBoundaryAndSession()
  }
  if (!identityAllows) return missingIdentity()
  if (!resAllow) return missingResource()
  return checkBoundaryAndSession()
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
    default:
      return c.raw
  }
}

function resolveResourceAccount(req: SimulateRequest, caller: Caller): string | undefined {
  if (req.resourceAccount) return req.resourceAccount
  const arn = parseArn(req.resource)
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
