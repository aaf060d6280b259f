/**
 * IAM state, per account (IAM is global: no region). Names are unique per account without regard
 * to case, as IAM's are (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html#reference_iam-quotas-names),
 * so records are keyed by the lower-cased name and keep the name as given.
 */
import type { PolicyDocument } from '../../../iam/types.js'
import { ItemTable, type Db } from '../../store/db.js'
import { awsManagedPolicy } from '../../../iam/index.js'

/** A tag as IAM stores it. */
export interface Tag {
  readonly Key: string
  readonly Value: string
}

/** An IAM role. */
export interface RoleRecord {
  readonly name: string
  readonly path: string
  readonly roleId: string
  readonly arn: string
  readonly created: string
  /** The trust policy as the caller sent it (JSON text). */
  assumeRolePolicy: string
  description?: string
  maxSessionDuration: number
  tags: Tag[]
  /** ARNs of attached managed policies. */
  attached: string[]
  /** When and in which region the role was last assumed (GetRole's RoleLastUsed). */
  lastUsed?: { readonly date: string; readonly region: string }
}

/** An IAM user. */
export interface UserRecord {
  readonly name: string
  readonly path: string
  readonly userId: string
  readonly arn: string
  readonly created: string
  tags: Tag[]
  attached: string[]
}

/** An inline policy of a role or user. */
export interface InlinePolicy {
  readonly name: string
  /** JSON text as sent. */
  readonly document: string
}

/** One version of a managed policy. */
export interface PolicyVersion {
  readonly versionId: string
  readonly document: string
  readonly created: string
}

/** A customer-managed policy. */
export interface ManagedPolicyRecord {
  readonly name: string
  readonly path: string
  readonly policyId: string
  readonly arn: string
  readonly created: string
  updated: string
  description?: string
  defaultVersionId: string
  versions: PolicyVersion[]
  /** The next version number to assign (IAM never reuses version ids). */
  nextVersion: number
  attachmentCount: number
  tags: Tag[]
}

/** Typed access to IAM's tables. */
export class IamStore {
  readonly roles: ItemTable<RoleRecord>
  readonly users: ItemTable<UserRecord>
  /** Inline policies of roles: id `<role lower>/<policy name>`. */
  readonly rolePolicies: ItemTable<InlinePolicy>
  readonly userPolicies: ItemTable<InlinePolicy>
  /** Managed policies by lower-cased name. */
  readonly policies: ItemTable<ManagedPolicyRecord>
  private readonly parsedCache = new Map<string, PolicyDocument>()

  constructor(readonly db: Db) {
    this.roles = new ItemTable(db, 'iam.role', { cached: true })
    this.users = new ItemTable(db, 'iam.user', { cached: true })
    this.rolePolicies = new ItemTable(db, 'iam.role-policy', { cached: true })
    this.userPolicies = new ItemTable(db, 'iam.user-policy', { cached: true })
    this.policies = new ItemTable(db, 'iam.policy', { cached: true })
  }

  /** A role by name (case-insensitive). */
  role(account: string, name: string): RoleRecord | undefined {
    return this.roles.get(account, name.toLowerCase())
  }

  /** A user by name (case-insensitive). */
  user(account: string, name: string): UserRecord | undefined {
    return this.users.get(account, name.toLowerCase())
  }

  /** A managed policy by ARN: a customer-managed one, or an AWS managed one (read-only, never stored). */
  policyByArn(arn: string): ManagedPolicyRecord | undefined {
    const aws = awsManagedPolicy(arn)
    if (aws)
      return {
        name: aws.name,
        path: aws.path,
        policyId: `ANPA${aws.name
          .toUpperCase()
          .replace(/[^A-Z0-9]/g, '')
          .padEnd(17, 'X')
          .slice(0, 17)}`,
        arn,
        created: aws.created,
        updated: aws.updated,
        defaultVersionId: aws.versionId,
        versions: [
          { versionId: aws.versionId, document: JSON.stringify(aws.document), created: aws.updated },
        ],
        nextVersion: 0,
        attachmentCount: 0,
        tags: [],
      }
    const m = /^arn:[^:]+:iam::(\d{12}):policy\/(?:.*\/)?([^/]+)$/.exec(arn)
    if (!m) return undefined
    const p = this.policies.get(m[1]!, m[2]!.toLowerCase())
    return p && p.arn === arn ? p : undefined
  }

  /** Parses policy JSON once per distinct text (identity policies are read on every request). */
  parsed(text: string): PolicyDocument {
    let doc = this.parsedCache.get(text)
    if (!doc) {
      doc = JSON.parse(text) as PolicyDocument
      if (this.parsedCache.size > 5000) this.parsedCache.clear()
      this.parsedCache.set(text, doc)
    }
    return doc
  }

  /** The identity-based policies of a role or user, with names for explanations. */
  identityPolicies(
    account: string,
    kind: 'role' | 'user',
    name: string,
  ): { documents: PolicyDocument[]; names: string[] } {
    const lower = name.toLowerCase()
    const rec = kind === 'role' ? this.role(account, name) : this.user(account, name)
    if (!rec) return { documents: [], names: [] }
    const inline = (kind === 'role' ? this.rolePolicies : this.userPolicies).list(account, lower + '/')
    const documents: PolicyDocument[] = []
    const names: string[] = []
    for (const { value } of inline) {
      documents.push(this.parsed(value.document))
      names.push(`inline policy ${value.name} of ${kind} ${rec.name}`)
    }
    for (const arn of rec.attached) {
      const p = this.policyByArn(arn)
      const v = p?.versions.find((x) => x.versionId === p.defaultVersionId)
      if (p && v) {
        documents.push(this.parsed(v.document))
        names.push(`managed policy ${p.name}`)
      }
    }
    return { documents, names }
  }
}
