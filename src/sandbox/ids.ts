/**
 * Identifiers in AWS's shapes: access keys (AKIA… long-term, ASIA… temporary), unique ids
 * (AIDA… users, AROA… roles, ANPA… policies), secrets and session tokens.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids
 */
import { randomBytes, randomFillSync, randomUUID } from 'node:crypto'

/**
 * Bytes from the CSPRNG, drawn from a pool filled a few kilobytes at a time. `randomBytes(n)` pays
 * one call into OpenSSL's generator per request; an AssumeRole needed four of them (key id,
 * secret, token, host id) — a tenth of its CPU under load. The bytes are the same generator's; each
 * is handed out once (copied out of the pool), as `randomUUID` does with its own cache.
 */
const POOL = Buffer.allocUnsafe(8192)
let drawn = POOL.length

export function random(n: number): Buffer {
  if (n > 512) return randomBytes(n)
  if (drawn + n > POOL.length) {
    randomFillSync(POOL)
    drawn = 0
  }
  const out = Buffer.from(POOL.subarray(drawn, drawn + n))
  drawn += n
  return out
}

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

/** Random upper-case letters and digits. */
export function randomUpper(n: number): string {
  const bytes = random(n)
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
  return random(30).toString('base64').replace(/\+/g, 'A').replace(/\//g, 'B')
}

/** An opaque session token. */
export function sessionToken(): string {
  return 'IQoJb3JpZ2luX2Vj' + random(96).toString('base64')
}

/** A request id in AWS's UUID form. */
export function requestId(): string {
  return randomUUID()
}

/** S3's `x-amz-id-2`-style host id. */
export function hostId(): string {
  return random(48).toString('base64')
}
