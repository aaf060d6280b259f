/**
 * KMS state per account and region: keys (with their 256-bit key material) and aliases.
 * The material never leaves the sandbox except through the data-key operations, as in KMS.
 */
import { ItemTable, type Db } from '../../store/db.js'

/** A KMS key. */
export interface KeyRecord {
  readonly keyId: string
  readonly arn: string
  readonly account: string
  readonly region: string
  readonly created: string
  description: string
  readonly keyUsage: 'ENCRYPT_DECRYPT'
  readonly keySpec: 'SYMMETRIC_DEFAULT'
  keyState: 'Enabled' | 'Disabled' | 'PendingDeletion'
  /** `CUSTOMER` or `AWS` (the `aws/s3` key). */
  readonly keyManager: 'CUSTOMER' | 'AWS'
  /** The key policy as sent (JSON text). */
  policy: string
  /** Base64 of the 32-byte AES key. */
  readonly material: string
  rotation: boolean
  /**
   * Automatic rotation's period (EnableKeyRotation's RotationPeriodInDays, default 365) and when it
   * was turned on, from which GetKeyRotationStatus counts its NextRotationDate. Absent on keys
   * stored before they were kept: 365 days from the key's creation.
   */
  rotationPeriodInDays?: number
  rotationEnabled?: string
  deletionDate?: string
  pendingWindowInDays?: number
  tags: { TagKey: string; TagValue: string }[]
}

/** An alias. */
export interface AliasRecord {
  readonly aliasName: string
  readonly aliasArn: string
  targetKeyId: string
  readonly created: string
  updated: string
}

/** Typed access to KMS's tables. */
export class KmsStore {
  readonly keys: ItemTable<KeyRecord>
  readonly aliases: ItemTable<AliasRecord>
  constructor(db: Db) {
    this.keys = new ItemTable(db, 'kms.key', { cached: true })
    this.aliases = new ItemTable(db, 'kms.alias', { cached: true })
  }
}

/** The scope of an account's state in a region. */
export function scopeOf(account: string, region: string): string {
  return `${account}/${region}`
}
