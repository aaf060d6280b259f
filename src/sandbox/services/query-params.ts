/**
 * Reading awsQuery parameters: required strings, integers, `member.N` lists and tag lists, with
 * the `ValidationError` wording AWS's query services use
 * (`1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null`).
 */
import { AwsError } from '../gateway/errors.js'
import type { QueryParams } from './types.js'

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1)
}

/** A `ValidationError` for a parameter. */
export function validation(param: string, value: string | null, constraint: string): AwsError {
  const v = value === null ? 'null' : `'${value}'`
  return new AwsError(
    'ValidationError',
    `1 validation error detected: Value ${v} at '${lowerFirst(param)}' failed to satisfy constraint: ${constraint}`,
    400,
  )
}

/** A required string parameter. */
export function required(p: QueryParams, name: string): string {
  const v = p.get(name)
  if (v === undefined || v === '') throw validation(name, null, 'Member must not be null')
  return v
}

/** An optional string parameter. */
export function optional(p: QueryParams, name: string): string | undefined {
  const v = p.get(name)
  return v === undefined ? undefined : v
}

/** An optional integer parameter within bounds. */
export function optionalInt(p: QueryParams, name: string, min: number, max: number): number | undefined {
  const v = p.get(name)
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isInteger(n)) throw validation(name, v, 'Member must be an integer')
  if (n < min) throw validation(name, v, `Member must have value greater than or equal to ${min}`)
  if (n > max) throw validation(name, v, `Member must have value less than or equal to ${max}`)
  return n
}

/** Checks a string against a pattern and length, as AWS's model constraints. */
export function checkPattern(name: string, value: string, re: RegExp, min: number, max: number): void {
  if (value.length < min)
    throw validation(name, value, `Member must have length greater than or equal to ${min}`)
  if (value.length > max)
    throw validation(name, value, `Member must have length less than or equal to ${max}`)
  if (!re.test(value))
    throw validation(name, value, `Member must satisfy regular expression pattern: ${re.source}`)
}

/** A `Name.member.N` list. */
export function memberList(p: QueryParams, name: string): string[] {
  const out: string[] = []
  for (let i = 1; ; i++) {
    const v = p.get(`${name}.member.${i}`)
    if (v === undefined) break
    out.push(v)
  }
  return out
}

/** A `Tags.member.N.Key/Value` list. */
export function tagList(p: QueryParams, name = 'Tags'): { Key: string; Value: string }[] {
  const out: { Key: string; Value: string }[] = []
  for (let i = 1; ; i++) {
    const k = p.get(`${name}.member.${i}.Key`)
    if (k === undefined) break
    out.push({ Key: k, Value: p.get(`${name}.member.${i}.Value`) ?? '' })
  }
  return out
}
