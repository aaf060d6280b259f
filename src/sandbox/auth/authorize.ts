/**
 * Every authorization decision of the sandbox goes through the IAM engine's `simulate` (src/iam),
 * the same engine `crosspipe check` uses offline — so the sandbox and the offline proof cannot
 * disagree. This module only gathers the inputs: the caller's principal and identity-based
 * policies, the resource policy, and the request context keys, then renders a denial the way the
 * service would.
 *
 * Context keys set here are the global ones AWS documents for every request:
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
 */
import { accessDeniedMessage, PolicyValidationError, simulate } from '../../iam/index.js'
import { roleArn } from '../../iam/arn.js'
import type { ContextValue, PolicyDocument, SimulateRequest, SimulateResult } from '../../iam/types.js'
import { AwsError } from '../errors.js'
import type { Runtime } from '../runtime.js'
import type { Identity } from './identity.js'

/** One authorization question. */
export interface AuthzRequest {
  /** `service:Action`. */
  readonly action: string
  readonly resource: string
  /** Owner of the resource, for resources whose ARN has no account (S3). */
  readonly resourceAccount?: string
  readonly resourcePolicy?: PolicyDocument
  readonly resourcePolicyName?: string
  /** Service-specific context keys (`kms:EncryptionContext:…`, `s3:x-amz-server-side-encryption`). */
  readonly context?: Readonly<Record<string, ContextValue>>
}

/** The request facts that go into global condition keys. */
export interface CallFacts {
  readonly identity: Identity
  readonly region: string
  readonly secureTransport: boolean
  readonly sourceIp: string
  readonly now: Date
  readonly runtime: Runtime
}

/** The principal ARN policies match (`aws:PrincipalArn`): for a session, its role's ARN. */
export function principalArn(identity: Identity): string {
  const c = identity.credential
  if (identity.kind === 'assumed-role' && c.roleName)
    return c.roleArn ?? roleArn(identity.partition, identity.account, c.roleName)
  return identity.arn
}

/** The identity-based policies of a caller and their names. */
export function identityPoliciesOf(
  runtime: Runtime,
  identity: Identity,
): { documents: PolicyDocument[]; names: string[] } {
  const c = identity.credential
  // The engine knows the root user has full access to its own account: it has no policies to pass.
  if (identity.kind === 'root') return { documents: [], names: [] }
  if (identity.kind === 'user' && c.userName)
    return runtime.iam.identityPolicies(identity.account, 'user', c.userName)
  if (identity.kind === 'assumed-role' && c.roleName)
    return runtime.iam.identityPolicies(identity.account, 'role', c.roleName)
  return { documents: [], names: [] }
}

function globalContext(f: CallFacts): Record<string, ContextValue> {
  const id = f.identity
  const ctx: Record<string, ContextValue> = {
    'aws:PrincipalArn': principalArn(id),
    'aws:PrincipalAccount': id.account,
    'aws:PrincipalType': id.kind === 'root' ? 'Account' : id.kind === 'user' ? 'User' : 'AssumedRole',
    'aws:userid': id.userId,
    'aws:SecureTransport': f.secureTransport ? 'true' : 'false',
    'aws:CurrentTime': f.now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    'aws:EpochTime': String(Math.floor(f.now.getTime() / 1000)),
    'aws:SourceIp': f.sourceIp,
    'aws:RequestedRegion': f.region,
    'aws:ViaAWSService': 'false',
  }
  if (id.kind === 'user' && id.credential.userName) ctx['aws:username'] = id.credential.userName
  if (id.credential.issuedAt) ctx['aws:TokenIssueTime'] = id.credential.issuedAt
  if (id.credential.sourceIdentity) ctx['aws:SourceIdentity'] = id.credential.sourceIdentity
  return ctx
}

/**
 * The unique id (AROA…) of the role a session belongs to, when that role no longer exists: it was
 * deleted, or deleted and created again under the same name (a new role with a new unique id). AWS
 * binds a session to the role's unique id, not its name, and evaluates the session's permissions on
 * every request, so such a session has none
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids,
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_disable-perms.html).
 */
export function goneRoleOf(runtime: Runtime, identity: Identity): string | undefined {
  const c = identity.credential
  if (identity.kind !== 'assumed-role' || !c.roleName) return undefined
  const role = runtime.iam.role(identity.account, c.roleName)
  if (role && (c.principalId === undefined || role.roleId === c.principalId)) return undefined
  return c.principalId ?? c.roleName
}

/** Asks the IAM engine; never throws for a denial. */
export function decide(f: CallFacts, req: AuthzRequest): SimulateResult {
  const gone = goneRoleOf(f.runtime, f.identity)
  if (gone !== undefined) {
    const fact = `the role of this session (unique ID ${gone}) no longer exists: it was deleted, and a role created since under the same name is another role`
    return {
      decision: 'ImplicitlyDenied',
      reasons: [`Denied: ${fact}.`],
      denialReason: `because ${fact}`,
      matched: [],
    }
  }
  // GetSessionToken credentials (a user or root with a session token) without MFA may not call
  // IAM, nor STS other than AssumeRole and GetCallerIdentity (API_GetSessionToken.html).
  if (f.identity.kind !== 'assumed-role' && f.identity.credential.sessionToken !== undefined) {
    const a = req.action.toLowerCase()
    if (
      a.startsWith('iam:') ||
      (a.startsWith('sts:') && a !== 'sts:assumerole' && a !== 'sts:getcalleridentity')
    ) {
      const fact =
        'temporary credentials from GetSessionToken without MFA may not call IAM, nor STS other than AssumeRole and GetCallerIdentity'
      return {
        decision: 'ImplicitlyDenied',
        reasons: [`Denied: ${fact}.`],
        denialReason: `because ${fact}`,
        matched: [],
      }
    }
  }
  const { documents, names } = identityPoliciesOf(f.runtime, f.identity)
  const sim: SimulateRequest = {
    principal: f.identity.arn,
    principalId: f.identity.kind === 'root' ? undefined : f.identity.credential.principalId,
    now: f.now,
    action: req.action,
    resource: req.resource,
    resourceAccount: req.resourceAccount,
    context: { ...globalContext(f), ...req.context },
    identityPolicies: documents,
    resourcePolicy: req.resourcePolicy,
    sessionPolicy: f.identity.credential.sessionPolicy,
    policyNames: { resource: req.resourcePolicyName, identity: names },
  }
  try {
    return simulate(sim)
  } catch (e) {
    // A stored policy the engine cannot evaluate (accepted before validation tightened): the
    // request is denied, with the reason, rather than answered with a 5xx the SDKs would retry.
    if (e instanceof PolicyValidationError)
      throw new AwsError(
        'AccessDenied',
        `User: ${f.identity.arn} is not authorized to perform: ${req.action} on resource: ${req.resource} because a policy that applies is not valid: ${e.message}`,
        403,
      )
    throw e
  }
}

/** How a service words an AccessDenied. */
export type DenialStyle = 'query' | 'json' | 's3'

/** AWS's denial sentence: `User: <arn> is not authorized to perform: <action> on resource: <arn> because …`. */
export function denialMessage(
  f: CallFacts,
  req: AuthzRequest,
  result: SimulateResult,
  style: DenialStyle,
): string {
  if (style === 's3') {
    const reason = result.denialReason ? ` ${result.denialReason}` : ''
    // S3 words its denials this way only within one account; across accounts it says "Access Denied"
    // (https://docs.aws.amazon.com/AmazonS3/latest/userguide/troubleshoot-403-errors.html).
    if (req.resourceAccount !== undefined && req.resourceAccount !== f.identity.account)
      return 'Access Denied'
    return `User: ${f.identity.arn} is not authorized to perform: ${req.action} on resource: "${req.resource}"${reason}`
  }
  return (
    accessDeniedMessage({ principal: f.identity.arn, action: req.action, resource: req.resource }, result) ??
    `User: ${f.identity.arn} is not authorized to perform: ${req.action} on resource: ${req.resource}`
  )
}

/** Authorizes or throws the service's AccessDenied. */
export function authorize(f: CallFacts, req: AuthzRequest, style: DenialStyle): void {
  const result = decide(f, req)
  if (result.decision === 'Allowed') return
  const message = denialMessage(f, req, result, style)
  if (style === 'json') throw new AwsError('AccessDeniedException', message, 400)
  throw new AwsError('AccessDenied', message, 403)
}
