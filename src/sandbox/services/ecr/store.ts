/**
 * ECR state per account and region: repositories with their settings, lifecycle policy,
 * repository policy and tags. Images are not modelled (SPEC.md says why).
 */
import type { EncryptionType } from '@aws-sdk/client-ecr'
import { ItemTable, type Db } from '../../store/db.js'

/** A repository. */
export interface RepositoryRecord {
  readonly repositoryName: string
  readonly repositoryArn: string
  readonly registryId: string
  readonly repositoryUri: string
  /** ISO time of creation. */
  readonly createdAt: string
  imageTagMutability: string
  scanOnPush: boolean
  readonly encryptionType: EncryptionType
  readonly kmsKey?: string
  lifecyclePolicyText?: string
  policyText?: string
  tags: { Key: string; Value: string }[]
}

/** Typed access to ECR's tables. */
export class EcrStore {
  readonly repositories: ItemTable<RepositoryRecord>
  constructor(db: Db) {
    this.repositories = new ItemTable(db, 'ecr.repository')
  }
}

/** The scope of an account's state in a region. */
export function scopeOf(account: string, region: string): string {
  return `${account}/${region}`
}
