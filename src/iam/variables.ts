/**
 * Policy variables: `${aws:username}`, `${aws:PrincipalTag/team}`, defaults
 * (`${aws:username, 'nobody'}`) and the escapes `${*}`, `${?}`, `${$}` that stand for a literal
 * character. Substituted anywhere in a Resource or a condition value, and only in policies with
 * `"Version": "2012-10-17"` (with the 2008 version, or none, `${…}` is literal text).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
 */
import { type GlobPart } from './glob.js'

/** A piece of a policy value: text written in the policy, a literal character, or a variable. */
export type TemplatePart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'char'; readonly char: string }
  | { readonly kind: 'var'; readonly key: string; readonly name: string; readonly fallback?: string }

/** A policy value split into parts, compiled once. */
export interface Template {
  readonly raw: string
  readonly parts: readonly TemplatePart[]
  /** No variables and no escapes: the raw string is the value. */
  readonly isStatic: boolean
}

const VAR_RE = /\$\{([^}]*)\}/g
const DEFAULT_RE = /^\s*([^,\s]+)\s*,\s*'([^']*)'\s*$/

/** Splits a value into parts. With `variables` false (policy version 2008-10-17), the value is literal text. */
export function parseTemplate(raw: string, variables: boolean): Template {
  if (!variables || !raw.includes('${')) return { raw, parts: [{ kind: 'text', text: raw }], isStatic: true }
  const parts: TemplatePart[] = []
  let last = 0
  for (const m of raw.matchAll(VAR_RE)) {
    const at = m.index
    if (at > last) parts.push({ kind: 'text', text: raw.slice(last, at) })
    last = at + m[0].length
    const inner = m[1]!
    if (inner === '*' || inner === '?' || inner === '$') {
      parts.push({ kind: 'char', char: inner })
      continue
    }
    const d = DEFAULT_RE.exec(inner)
    if (d) parts.push({ kind: 'var', key: d[1]!.toLowerCase(), name: d[1]!, fallback: d[2]! })
    else parts.push({ kind: 'var', key: inner.trim().toLowerCase(), name: inner.trim() })
  }
  if (last < raw.length) parts.push({ kind: 'text', text: raw.slice(last) })
  return { raw, parts, isStatic: false }
}

/** Looks a context key up (lower-case name); lists count as absent (multivalued keys cannot be variables). */
export interface VariableLookup {
  variable(key: string): string | undefined
}

/**
 * Resolves a template to a plain string, treating policy text and substituted values alike
 * (for operators without wildcards). Undefined when a variable has no value and no default:
 * the policy value then matches nothing.
 */
export function resolveString(t: Template, lookup: VariableLookup): string | undefined {
  if (t.isStatic) return t.raw
  let out = ''
  for (const p of t.parts) {
    if (p.kind === 'text') out += p.text
    else if (p.kind === 'char') out += p.char
    else {
      const v = lookup.variable(p.key)
      if (v !== undefined) out += v
      else if (p.fallback !== undefined) out += p.fallback
      else return undefined
    }
  }
  return out
}

/**
 * Resolves a template for a wildcard match: `*` and `?` written in the policy are wildcards;
 * escaped characters and substituted values are literal.
 */
export function resolveGlobParts(
  t: Template,
  lookup: VariableLookup,
  split: (text: string) => GlobPart[],
): GlobPart[] | undefined {
  const out: GlobPart[] = []
  for (const p of t.parts) {
    if (p.kind === 'text') out.push(...split(p.text))
    else if (p.kind === 'char') out.push({ lit: p.char })
    else {
      const v = lookup.variable(p.key)
      if (v !== undefined) out.push({ lit: v })
      else if (p.fallback !== undefined) out.push({ lit: p.fallback })
      else return undefined
    }
  }
  return out
}

/** The text of a value with its `${…}` variables blanked, for syntax checks (a variable may contain colons). */
export function withoutVariables(raw: string): string {
  return raw.replace(VAR_RE, 'x')
}
