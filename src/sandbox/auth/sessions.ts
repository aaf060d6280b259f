/**
 * STS keeps no state of its own beyond the temporary credentials it issues, which live in the
 * runtime's credential table (the gateway resolves every access key there). This module issues
 * and prunes them.
 */
import { formatArn } from '../../iam/arn.js'
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
