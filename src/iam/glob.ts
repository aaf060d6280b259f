/**
 * Wildcard matchers, compiled once per policy value.
 *
 * IAM wildcards are `*` (any run of characters, including none) and `?` (exactly one character).
 * Actions match case-insensitively; ARNs and `StringLike` values case-sensitively:
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_String
 */

/** A compiled matcher: true when `value` matches the pattern it was built from. */
export type Matcher = (value: string) => boolean

const matchAll: Matcher = () => true

/** One piece of a pattern: literal text, or a wildcard. */
export type GlobPart = { readonly lit: string } | { readonly star: true } | { readonly one: true }

/** Splits a pattern into literal runs and wildcards. */
export function globParts(pattern: string): GlobPart[] {
  const out: GlobPart[] = []
  let lit = ''
  for (const ch of pattern) {
    if (ch === '*' || ch === '?') {
      if (lit) out.push({ lit })
      lit = ''
      out.push(ch === '*' ? { star: true } : { one: true })
    } else lit += ch
  }
  if (lit) out.push({ lit })
  return out
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
}

/** A regular-expression source for parts (no anchors). */
export function partsToRegExpSource(parts: readonly GlobPart[]): string {
  let src = ''
  for (const p of parts) {
    if ('lit' in p) src += escapeRegExp(p.lit)
    else if ('star' in p) src += '.*'
    else src += '.'
  }
  return src
}

/**
 * Compiles parts to the cheapest matcher that is exact: string equality for a literal, a prefix or
 * suffix test for one trailing or leading `*`, a regular expression otherwise (V8 compiles those to
 * native code, faster than a hand-written backtracking loop).
 */
export function compileParts(parts: readonly GlobPart[], ignoreCase: boolean): Matcher {
  if (parts.length === 1 && 'star' in parts[0]!) return matchAll
  const wild = parts.some((p) => !('lit' in p))
  if (!wild) {
    const lit = parts.map((p) => ('lit' in p ? p.lit : '')).join('')
    if (!ignoreCase) return (v) => v === lit
    const lower = lit.toLowerCase()
    return (v) => v.length === lit.length && v.toLowerCase() === lower
  }
  if (!ignoreCase && parts.length === 2) {
    const [a, b] = parts as [GlobPart, GlobPart]
    if ('lit' in a && 'star' in b) {
      const prefix = a.lit
      return (v) => v.startsWith(prefix)
    }
    if ('star' in a && 'lit' in b) {
      const suffix = b.lit
      return (v) => v.endsWith(suffix)
    }
  }
  const re = new RegExp(`^${partsToRegExpSource(parts)}$`, ignoreCase ? 'si' : 's')
  return (v) => re.test(v)
}

// Policies repeat the same patterns endlessly (s3:GetObject, arn:aws:s3:::bucket/*): compile each once.
const globCache = new Map<string, Matcher>()
const arnCache = new Map<string, Matcher>()
function cached(cache: Map<string, Matcher>, key: string, make: () => Matcher): Matcher {
  let m = cache.get(key)
  if (!m) {
    m = make()
    if (cache.size > 10000) cache.clear()
    cache.set(key, m)
  }
  return m
}

/** Compiles a wildcard pattern (`*`, `?`) into a matcher. */
export function compileGlob(pattern: string, ignoreCase = false): Matcher {
  return cached(globCache, (ignoreCase ? 'i' : 's') + pattern, () =>
    compileParts(globParts(pattern), ignoreCase),
  )
}

/** Compiles an ARN pattern without variables (see {@link compileArnParts}). */
export function compileArnGlob(pattern: string): Matcher {
  return cached(arnCache, pattern, () => compileArnParts(globParts(pattern)))
}

/** True when a pattern contains a wildcard. */
export function hasWildcard(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?')
}

/**
 * Compiles an ARN pattern. Each of the first five colon-separated parts of an ARN is matched on its
 * own, so a wildcard there never spans a colon; the sixth part (the resource) is matched as a whole
 * and may itself contain colons and slashes.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
 */
export function compileArnParts(parts: readonly GlobPart[]): Matcher {
  if (parts.length === 1 && 'star' in parts[0]!) return matchAll
  let colons = 0
  let wildBeforeResource = false
  let anyWild = false
  for (const p of parts) {
    if ('lit' in p) colons += countColons(p.lit)
    else {
      anyWild = true
      if (colons < 5) wildBeforeResource = true
    }
  }
  if (!anyWild || !wildBeforeResource) return compileParts(parts, false)
  let src = ''
  colons = 0
  for (const p of parts) {
    if ('lit' in p) {
      src += escapeRegExp(p.lit)
      colons += countColons(p.lit)
    } else if ('star' in p) src += colons < 5 ? '[^:]*' : '.*'
    else src += colons < 5 ? '[^:]' : '.'
  }
  const re = new RegExp(`^${src}$`, 's')
  return (v) => re.test(v)
}

function countColons(s: string): number {
  let n = 0
  for (let i = s.indexOf(':'); i >= 0; i = s.indexOf(':', i + 1)) n++
  return n
}
