/**
 * Parameter Store state per account and region: each parameter with its current version and its
 * history (the previous versions GetParameter `name:version` and GetParameterHistory read).
 * `AWS::SSM::Parameter` resources and `AWS::SSM::Parameter::Value<…>` template parameters use
 * this same store, through the SSM API (cloudformation/providers/local.ts, engine.ts).
 */
import { ItemTable, type Db } from '../../store/db.js'

/** One version of a parameter. */
export interface ParameterVersion {
  readonly version: number
  readonly type: 'String' | 'StringList'
  readonly value: string
  readonly description?: string
  readonly allowedPattern?: string
  readonly tier: 'Standard' | 'Advanced'
  readonly dataType: 'text'
  /** ISO time of the write. */
  readonly lastModified: string
  /** The ARN of the identity that wrote it (`LastModifiedUser`). */
  readonly lastModifiedUser: string
}

/** A parameter: its versions, oldest first (the last one is current), and its tags. */
export interface ParameterRecord {
  readonly name: string
  readonly arn: string
  versions: ParameterVersion[]
  tags: { Key: string; Value: string }[]
}

/** Typed access to SSM's tables. */
export class SsmStore {
  readonly parameters: ItemTable<ParameterRecord>
  constructor(db: Db) {
    this.parameters = new ItemTable(db, 'ssm.parameter')
  }
}

/** The scope of an account's state in a region. */
export function scopeOf(account: string, region: string): string {
  return `${account}/${region}`
}
