/**
 * Identifiers in AWS's shapes: access keys (AKIA… long-term, ASIA… temporary), unique ids
 * (AIDA… users, AROA… roles, ANPA… policies), secrets and session tokens.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids
 */
import { randomBytes, randomUUID } from 'node:crypto'

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

/** Random upper-case letters and digits. */
export function randomUpper(n: number): string {
  const bytes = randomBytes(n)
  let s = ''
  for (let i = 0; i < n; i++) s += UPPER[bytes[i]! % UPPER.length]
  return s
}

/** A unique id with its AWS prefix: 4 letters then 17 characters (21 in all, as IAM's). */
export function uniqueId(prefix: 'AIDA' | 'AROA' | 'ANPA' | 'AKIA' | 'ASIA'): string {
  return prefix + randomUpper(prefix === 'AKIA' || prefix === 'ASIA' ? 16 : 17)
}

/** A 40-character secret access key. */
export function secretKey(): string {
  return randomBytes(30).toString('base64').replace(/\+/g, 'A').replace(/\//g, 'B')
}

/** An opaque session token. */
export function sessionToken(): string {
  return 'IQoJb3JpZ2luX2Vj' + randomBytes(96).toString('base64')
}

/** A request id in AWS's UUID form. */
export function requestId(): string {
  return randomUUID()
}

/** S3's `x-amz-id-2`-style host id. */
export function hostId(): string {
  return randomBytes(48).toString('base64')
}
