/** Small pure helpers shared by S3's operations. */
import { createHash, randomBytes } from 'node:crypto'

/** The canonical user id of an account (S3 shows owners by it). */
export function canonicalId(account: string): string {
  return createHash('sha256').update(`crosspipe-sandbox:${account}`).digest('hex')
}

/** A list member of parsed XML: one element is an object, several an array, none undefined. */
export function list<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v]
}

/** A new version id. */
export function newVersionId(): string {
  return randomBytes(24).toString('base64url')
}

/** MD5s of request bodies already computed (Content-MD5 checked, then the ETag): each body hashed once. */
const md5s = new WeakMap<Uint8Array, Buffer>()

/** The MD5 of a body, computed once per body. */
export function md5(data: Uint8Array): Buffer {
  let d = md5s.get(data)
  if (!d) md5s.set(data, (d = createHash('md5').update(data).digest()))
  return d
}

/** An XML boolean. */
export function bool(v: unknown): boolean {
  return v === 'true' || v === true
}

/** A string member of parsed XML, or undefined. */
export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined
}

/** Tags of parsed XML (`<TagSet><Tag><Key/><Value/></Tag>…`). */
export function tagsOf(set: unknown): { Key: string; Value: string }[] {
  const tags = (set as Record<string, unknown> | undefined)?.['Tag'] as
    Record<string, unknown> | Record<string, unknown>[] | undefined
  return list(tags).map((t) => ({ Key: str(t['Key']) ?? '', Value: str(t['Value']) ?? '' }))
}
