/**
 * Who is calling: the identity an access key stands for. Root credentials act as the account,
 * user keys as their IAM user, and temporary credentials from STS as the assumed-role session.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html
 */
import { accountRootArn } from '../../iam/arn.js'
import type { PolicyDocument } from '../../iam/types.js'

/** The kinds of principal the sandbox issues credentials for. */
export type IdentityKind = 'root' | 'user' | 'assumed-role'

/** A stored credential (access key) and the principal it stands for. */
export interface CredentialRecord {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly account: string
  readonly partition: string
  readonly kind: IdentityKind
  /** The principal ARN (users and sessions; root's is derived from the account). */
  readonly arn?: string
  /** IAM user name, for `user` keys. */
  readonly userName?: string
  /** Unique id of the user (AIDA…) or of the role (AROA…). */
  readonly principalId?: string
  /** Assumed role sessions: the role's ARN, name and the session's name. */
  readonly roleArn?: string
  readonly roleName?: string
  readonly sessionName?: string
  /** Temporary credentials: the token that must accompany the key, and when it stops working (ISO). */
  readonly sessionToken?: string
  readonly expiration?: string
  /** When the session was issued (ISO), for `aws:TokenIssueTime`. */
  readonly issuedAt?: string
  /** The `Policy` passed to AssumeRole, which caps the session's permissions. */
  readonly sessionPolicy?: PolicyDocument
  /** AssumeRole's `SourceIdentity`, carried for `sts:SourceIdentity`. */
  readonly sourceIdentity?: string
  /** `Active` or `Inactive` (IAM access keys). */
  readonly status: 'Active' | 'Inactive'
  readonly created: string
}

/** The caller of a request, as authorization and GetCallerIdentity see it. */
export interface Identity {
  readonly kind: IdentityKind
  readonly account: string
  readonly partition: string
  /** The principal ARN: account root, user, or `arn:…:sts::<acct>:assumed-role/<role>/<session>`. */
  readonly arn: string
  /** GetCallerIdentity's UserId: the account id, AIDA…, or AROA…:session. */
  readonly userId: string
  readonly accessKeyId: string
  readonly credential: CredentialRecord
}

/** The identity a stored credential stands for, as the gateway derives it for a request. */
export function identityOf(c: CredentialRecord): Identity {
  const arn = c.kind === 'root' ? accountRootArn(c.partition, c.account) : (c.arn ?? '')
  const userId =
    c.kind === 'root'
      ? c.account
      : c.kind === 'assumed-role'
        ? `${c.principalId ?? ''}:${c.sessionName ?? ''}`
        : (c.principalId ?? '')
  return {
    kind: c.kind,
    account: c.account,
    partition: c.partition,
    arn,
    userId,
    accessKeyId: c.accessKeyId,
    credential: c,
  }
}
