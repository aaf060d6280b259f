/** Small pure helpers shared by S3's operations. */
import { createHash, randomBytes } from 'node:crypto'
import { AwsError } from '../../errors.js'

/** The canonical user id of an account (S3 shows owners by it). */
export function canonicalId(account: string): string {
  return createHash('sha256').update(`crosspipe-sandbox:${account}`).digest('hex')
}

/** One item or a list of them (a policy's `Statement`, `Resource`) as a list; none is empty. */
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

/**
 * S3's checks of a tag set beyond the schema: unique keys, keys of at most 128 and values of at
 * most 256 characters (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-tagging.html).
 * `error` is the operation's code for a repeated key.
 */
export function checkTags(
  tags: readonly { readonly Key: string; readonly Value: string }[],
  error: (message: string) => Error,
): void {
  if (new Set(tags.map((t) => t.Key)).size !== tags.length)
    throw error('Cannot provide multiple Tags with the same key')
  for (const t of tags) {
    if (t.Key.length > 128)
      throw new AwsError('InvalidTag', 'The TagKey you have provided is too long, max 128', 400)
    if (t.Value.length > 256)
      throw new AwsError('InvalidTag', 'The TagValue you have provided is too long, max 256', 400)
  }
}
