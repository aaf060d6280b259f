/**
 * Role sessions, shared by STS and the services that assume roles (CloudFormation, CodeBuild,
 * CodePipeline). STS keeps no state of its own beyond the temporary credentials it issues, which
 * live in the runtime's credential table (the gateway resolves every access key there). This
 * module issues and prunes them, and decides whether a service principal may assume a role.
 */
import { formatArn, parseArn } from '../../iam/arn.js'
import { servicePrincipal, simulate, type PrincipalService } from '../../iam/index.js'
import { identityOf, type Identity } from './identity.js'
import type { PolicyDocument } from '../../iam/types.js'
import type { CredentialRecord } from './identity.js'
import { secretKey, sessionToken, uniqueId } from '../ids.js'
import type { Runtime } from '../runtime.js'
import type { RoleRecord } from '../services/iam/store.js'

/** Options for {@link issueSession}. */
export interface IssueSessionOptions {
  readonly runtime: Runtime
  readonly account: string
  readonly partition: string
  readonly role: RoleRecord
  readonly sessionName: string
  readonly durationSeconds: number
  readonly now: Date
  readonly sessionPolicy?: PolicyDocument
  readonly sourceIdentity?: string
}

/** What a temporary credential stands for: everything but its keys, token and times. */
type SessionPrincipal = Omit<
  CredentialRecord,
  'accessKeyId' | 'secretAccessKey' | 'sessionToken' | 'expiration' | 'issuedAt' | 'status' | 'created'
>

/** Stores new temporary credentials for a principal, valid for `durationSeconds` from `now`. */
function storeSession(
  runtime: Runtime,
  principal: SessionPrincipal,
  durationSeconds: number,
  now: Date,
): CredentialRecord {
  const rec: CredentialRecord = {
    ...principal,
    accessKeyId: uniqueId('ASIA'),
    secretAccessKey: secretKey(),
    sessionToken: sessionToken(),
    expiration: new Date(now.getTime() + durationSeconds * 1000).toISOString(),
    issuedAt: now.toISOString(),
    status: 'Active',
    created: now.toISOString(),
  }
  runtime.credentials.put('', rec.accessKeyId, rec)
  return rec
}

/** Issues temporary credentials acting as a role session; returns the stored record. */
export function issueSession(o: IssueSessionOptions): CredentialRecord {
  return storeSession(
    o.runtime,
    {
      account: o.account,
      partition: o.partition,
      kind: 'assumed-role',
      arn: formatArn({
        partition: o.partition,
        service: 'sts',
        account: o.account,
        resource: `assumed-role/${o.role.name}/${o.sessionName}`,
      }),
      principalId: o.role.roleId,
      roleArn: o.role.arn,
      roleName: o.role.name,
      sessionName: o.sessionName,
      sessionPolicy: o.sessionPolicy,
      sourceIdentity: o.sourceIdentity,
    },
    o.durationSeconds,
    o.now,
  )
}

/** Deletes session credentials that expired more than a day ago (they can only ever answer ExpiredToken). */
export function pruneSessions(runtime: Runtime, now: Date): number {
  const cutoff = now.getTime() - 24 * 3600 * 1000
  let n = 0
  for (const { id, value } of runtime.credentials.list('', 'ASIA'))
    if (value.expiration && Date.parse(value.expiration) < cutoff && runtime.credentials.delete('', id)) n++
  return n
}

/**
 * Issues GetSessionToken credentials: the calling user (or root) itself, for a while, with a
 * session token. They act with the user's own permissions, less what the gateway refuses to such
 * sessions without MFA (IAM, and STS but AssumeRole and GetCallerIdentity).
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_GetSessionToken.html
 */
export function issueUserSession(
  runtime: Runtime,
  caller: CredentialRecord,
  durationSeconds: number,
  now: Date,
): CredentialRecord {
  const { account, partition, kind, arn, userName, principalId } = caller
  return storeSession(runtime, { account, partition, kind, arn, userName, principalId }, durationSeconds, now)
}

/** Options for {@link assumeRoleAsService}. */
export interface ServiceAssumeOptions {
  readonly runtime: Runtime
  readonly roleArn: string
  /** `codebuild`, `codepipeline`. */
  readonly service: PrincipalService
  readonly sessionName: string
  /**
   * The resource the service acts for (a CodeBuild project's or a pipeline's ARN): AWS sets it as
   * `aws:SourceArn`, and its account as `aws:SourceAccount`, when a service assumes a role for a
   * resource, so trust policies can prevent the confused deputy
   * (https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html,
   * https://docs.aws.amazon.com/codebuild/latest/userguide/cross-service-confused-deputy-prevention.html).
   */
  readonly sourceArn?: string
  readonly now?: Date
  readonly durationSeconds?: number
}

/**
 * A service assumes a role for its work: the role's trust policy must allow the service
 * principal (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-service.html),
 * decided by the IAM engine. Returns the session's identity, or undefined when the trust policy
 * does not allow it (or the role does not exist) — each service words that failure its own way.
 */
export function assumeRoleAsService(o: ServiceAssumeOptions): Identity | undefined {
  const arn = parseArn(o.roleArn)
  const role = serviceMayAssume(o)
  if (!arn || !role) return undefined
  const now = o.now ?? new Date()
  const rec = issueSession({
    runtime: o.runtime,
    account: arn.account,
    partition: arn.partition,
    role,
    sessionName: o.sessionName,
    durationSeconds: o.durationSeconds ?? 3600,
    now,
  })
  return identityOf(rec)
}

/**
 * Whether the service principal may assume the role (its trust policy, by the IAM engine):
 * the role's record when it may, undefined when it may not or the role does not exist.
 */
export function serviceMayAssume(o: ServiceAssumeOptions): RoleRecord | undefined {
  const arn = parseArn(o.roleArn)
  const name = arn?.resource.startsWith('role/') ? arn.resource.split('/').pop() : undefined
  const role = arn && name ? o.runtime.iam.role(arn.account, name) : undefined
  if (!arn || !role || role.arn !== o.roleArn) return undefined
  const source =
    o.sourceArn !== undefined
      ? { arn: o.sourceArn, account: parseArn(o.sourceArn)?.account ?? '' }
      : undefined
  const result = simulate({
    principal: servicePrincipal(o.service),
    action: 'sts:AssumeRole',
    resource: role.arn,
    resourceAccount: arn.account,
    resourcePolicy: o.runtime.iam.parsed(role.assumeRolePolicy),
    context: {
      'sts:RoleSessionName': o.sessionName,
      ...(source ? { 'aws:SourceArn': source.arn, 'aws:SourceAccount': source.account } : {}),
    },
    now: o.now ?? new Date(),
  })
  return result.decision === 'Allowed' ? role : undefined
}
