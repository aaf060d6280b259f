/**
 * Principals: who is calling (parsed from the request) and whom a policy's `Principal` element names.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html (IAM and STS ARN forms)
 */
import { accountRootArn, formatArn, parseArn } from './arn.js'
import { servicePrincipal } from './aws-facts.js'

/** The kinds of caller AWS distinguishes (`aws:PrincipalType` values, plus services and anonymous). */
export type CallerKind =
  'root' | 'user' | 'role' | 'session' | 'federated-user' | 'service' | 'identity-provider' | 'anonymous'

/** A caller, parsed once from `SimulateRequest.principal`. */
export interface Caller {
  readonly kind: CallerKind
  /** The ARN or service name as given. */
  readonly raw: string
  readonly partition?: string
  readonly account?: string
  /** IAM user name, role name, or federated user name. */
  readonly name?: string
  readonly sessionName?: string
  /** The role's ARN for a role or session (for a session its path is unknown: `role/<name>`). */
  readonly roleArn?: string
  /** Normalized forms (path removed) a Principal element can name to mean exactly this caller. */
  readonly directKeys: readonly string[]
  /** For a session: the normalized ARN of its role. */
  readonly roleKey?: string
}

/** The caller is not one of the forms AWS documents. */
export class PrincipalFormatError extends Error {
  /** Stable code for callers that map errors to exit codes. */
  readonly code = 'IAM_BAD_PRINCIPAL'
  constructor(readonly principal: string) {
    super(
      `"${principal}" is not a principal crosspipe can simulate: use an IAM user, role or root ARN, an ` +
        `assumed-role session ARN (arn:<partition>:sts::<account>:assumed-role/<role>/<session>), ` +
        `a federated user ARN or a service principal such as ${servicePrincipal('codepipeline')}`,
    )
    this.name = 'PrincipalFormatError'
  }
}

/** Marker for unsigned requests. */
export const ANONYMOUS = 'anonymous'

/**
 * A normalized key for an IAM principal ARN: partition, account, type and name, path dropped.
 * AWS resolves a role or user named in a policy to its unique ID, so the path plays no part in
 * matching a caller, and a session ARN (which carries no path) matches its role.
 */
export function principalKey(partition: string, account: string, type: string, name: string): string {
  return `${partition}|${account}|${type}|${name}`
}

const cache = new Map<string, Caller>()

/** Parses a caller (cached: the sandbox and check ask about the same few principals over and over). */
export function parseCaller(principal: string): Caller {
  let c = cache.get(principal)
  if (!c) {
    c = parseCallerUncached(principal)
    if (cache.size > 2000) cache.clear()
    cache.set(principal, c)
  }
  return c
}

function lastSegment(path: string): string {
  const i = path.lastIndexOf('/')
  return i < 0 ? path : path.slice(i + 1)
}

function parseCallerUncached(principal: string): Caller {
  if (principal === ANONYMOUS || principal === '*')
    return { kind: 'anonymous', raw: principal, directKeys: [] }
  const arn = parseArn(principal)
  if (!arn) {
    // Service principals are DNS-like names, e.g. codepipeline.amazonaws.com.
    if (/^[a-z0-9][a-z0-9.-]*\.[a-z0-9.-]+$/i.test(principal))
      // A web identity provider (accounts.google.com) is named in trust policies as `Federated`.
      return {
        kind: 'service',
        raw: principal,
        directKeys: [`service|${principal.toLowerCase()}`, `federated|${principal.toLowerCase()}`],
      }
    throw new PrincipalFormatError(principal)
  }
  const { partition, service, account, resource } = arn
  if (!/^\d{12}$/.test(account)) throw new PrincipalFormatError(principal)
  const base = { raw: principal, partition, account }
  if (service === 'iam') {
    if (resource === 'root')
      return { ...base, kind: 'root', directKeys: [principalKey(partition, account, 'root', '')] }
    if (resource.startsWith('user/')) {
      const name = lastSegment(resource)
      return { ...base, kind: 'user', name, directKeys: [principalKey(partition, account, 'user', name)] }
    }
    if (resource.startsWith('oidc-provider/') || resource.startsWith('saml-provider/'))
      return { ...base, kind: 'identity-provider', directKeys: [`federated|${principal.toLowerCase()}`] }
    if (resource.startsWith('role/')) {
      const name = lastSegment(resource)
      const key = principalKey(partition, account, 'role', name)
      return { ...base, kind: 'role', name, roleArn: principal, directKeys: [], roleKey: key }
    }
  }
  if (service === 'sts') {
    const parts = resource.split('/')
    if (parts[0] === 'assumed-role' && parts.length === 3 && parts[1] && parts[2]) {
      const name = parts[1]
      return {
        ...base,
        kind: 'session',
        name,
        sessionName: parts[2],
        roleArn: formatArn({ partition, service: 'iam', account, resource: `role/${name}` }),
        directKeys: [principalKey(partition, account, 'assumed-role', `${name}/${parts[2]}`)],
        roleKey: principalKey(partition, account, 'role', name),
      }
    }
    if (parts[0] === 'federated-user' && parts.length === 2 && parts[1]) {
      const name = parts[1]
      return {
        ...base,
        kind: 'federated-user',
        name,
        directKeys: [principalKey(partition, account, 'federated-user', name)],
      }
    }
  }
  throw new PrincipalFormatError(principal)
}

/** How a Principal element matched the caller; the evaluation logic treats each differently. */
export type PrincipalMatch =
  /** The exact user, session, federated user or service. */
  | 'direct'
  /** `*`: everyone, without naming the caller specifically. */
  | 'any'
  /** The role of an assumed-role session (or the role itself). */
  | 'role'
  /** The caller's account (account ID or `:root` ARN). */
  | 'account'

/** A compiled Principal / NotPrincipal element. */
export interface PrincipalSet {
  readonly any: boolean
  readonly keys: ReadonlySet<string>
  /** Account IDs named by ID or root ARN: `partition|account` is not needed, an ID has no partition. */
  readonly accounts: ReadonlySet<string>
}

/** A problem found while compiling a principal value. */
export type PrincipalProblem = string

const IAM_PRINCIPAL_RE = /^arn:([^:]+):(iam|sts)::(\d{12}):(.+)$/

/** Compiles one `AWS` principal value; returns a problem message for a value AWS would reject. */
export function addAwsPrincipal(
  value: string,
  keys: Set<string>,
  accounts: Set<string>,
): PrincipalProblem | undefined {
  if (/^\d{12}$/.test(value)) {
    accounts.add(value)
    return undefined
  }
  // Unique IDs appear where a named principal was deleted; they match no caller.
  if (/^A[A-Z]{3}[A-Z0-9]{10,}$/.test(value)) return undefined
  if (value.includes('*') || value.includes('?'))
    return `"${value}": a principal cannot contain wildcards other than "*" alone (use a condition on aws:PrincipalArn)`
  const m = IAM_PRINCIPAL_RE.exec(value)
  if (!m) return `"${value}" is not an AWS account ID or an IAM/STS principal ARN`
  const [, partition, service, account, res] = m as unknown as [string, string, string, string, string]
  if (service === 'iam') {
    if (res === 'root') {
      accounts.add(account)
      return undefined
    }
    const slash = res.indexOf('/')
    const type = slash < 0 ? res : res.slice(0, slash)
    if ((type === 'role' || type === 'user') && slash > 0) {
      keys.add(principalKey(partition, account, type, lastSegment(res)))
      return undefined
    }
  } else {
    const parts = res.split('/')
    if (parts[0] === 'assumed-role' && parts.length === 3) {
      keys.add(principalKey(partition, account, 'assumed-role', `${parts[1]}/${parts[2]}`))
      return undefined
    }
    if (parts[0] === 'federated-user' && parts.length === 2) {
      keys.add(principalKey(partition, account, 'federated-user', parts[1]!))
      return undefined
    }
  }
  return `"${value}" is not a principal ARN AWS accepts (root, user, role, assumed-role or federated-user)`
}

/** Matches a caller against a compiled Principal element. */
export function matchPrincipal(set: PrincipalSet, caller: Caller): PrincipalMatch | undefined {
  for (const k of caller.directKeys) if (set.keys.has(k)) return caller.kind === 'root' ? 'account' : 'direct'
  if (set.any) return 'any'
  if (caller.roleKey !== undefined && set.keys.has(caller.roleKey)) return 'role'
  if (caller.account !== undefined && set.accounts.has(caller.account)) return 'account'
  return undefined
}

/**
 * Whether a NotPrincipal element excludes the caller. AWS evaluates the statement for each identity
 * in the caller's chain (session, role, account; user, account), so the caller escapes a
 * `Deny` + `NotPrincipal` only when every one of them is listed: "When you use NotPrincipal with
 * Deny, you must also specify the account ARN of the not-denied principal", and for a role
 * session the session ARN, the role ARN and the account.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
 */
export function excludedByNotPrincipal(set: PrincipalSet, caller: Caller): boolean {
  if (set.any) return true
  if (caller.kind === 'anonymous') return false
  // The caller itself, under any of its names (a service is also a web identity provider name);
  // the root user is the account, checked below.
  if (caller.kind !== 'root' && caller.kind !== 'role' && !caller.directKeys.some((k) => set.keys.has(k)))
    return false
  if ((caller.kind === 'session' || caller.kind === 'role') && !set.keys.has(caller.roleKey!)) return false
  if (caller.account !== undefined && !set.accounts.has(caller.account)) return false
  return true
}

/** The root ARN of the caller's account, for messages. */
export function callerAccountRoot(caller: Caller): string | undefined {
  return caller.partition && caller.account ? accountRootArn(caller.partition, caller.account) : undefined
}
