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

// Matching is linear in the value for each pattern segment, O(value × pattern) at worst, and never
// backtracks: a policy that anyone may write (a bucket policy, a condition value) must not be able to
// stall the gateway or `check`. Regular expressions were exponential on `*a*a*a…*b` (issue 11).
// The algorithm: the pattern is split at its `*` into segments (literal text and `?`); the first
// segment must match at the start of the value, the last at its end, and each middle one at its
// leftmost place after the previous one. Leftmost is always right: a segment has a fixed length, so
// matching it earlier leaves the later segments every place a later match would.

let steps = 0

/**
 * Characters compared by every matcher since the process started: a step counter, so tests can bound
 * the work of a match by operation count rather than by wall clock.
 */
export function globSteps(): number {
  return steps
}

/** A segment between two `*`: code units to compare, `-1` for `?` (any one code unit). */
type Segment = Int32Array

/** Whether `seg` matches `v` at `at` (the caller made sure it fits). */
function matchAt(seg: Segment, v: string, at: number): boolean {
  const len = seg.length
  let i = 0
  for (; i < len; i++) {
    const c = seg[i]!
    if (c !== -1 && c !== v.charCodeAt(at + i)) break
  }
  steps += i + 1
  return i === len
}

/** The leftmost place at or after `from` where `seg` matches and ends by `end`, or -1. */
function find(seg: Segment, v: string, from: number, end: number): number {
  for (let p = from, last = end - seg.length; p <= last; p++) if (matchAt(seg, v, p)) return p
  return -1
}

/**
 * Case folding as the `i` flag of a regular expression without `u` does it (ECMAScript Canonicalize):
 * per UTF-16 code unit, to upper case when that gives one code unit and does not turn a non-ASCII
 * character into an ASCII one. Keeps lengths, so `?` still means one code unit.
 */
function fold(s: string): string {
  if (!/[\u0080-\uffff]/.test(s)) return s.toUpperCase()
  let out = ''
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!
    const up = ch.toUpperCase()
    out += up.length === 1 && !(ch.charCodeAt(0) >= 128 && up.charCodeAt(0) < 128) ? up : ch
  }
  return out
}

/** Splits parts at their `*` into segments: always one more segment than there are stars. */
function segments(parts: readonly GlobPart[], ignoreCase: boolean): Segment[] {
  const out: Segment[] = []
  let codes: number[] = []
  for (const p of parts) {
    if ('star' in p) {
      out.push(Int32Array.from(codes))
      codes = []
    } else if ('one' in p) codes.push(-1)
    else {
      const lit = ignoreCase ? fold(p.lit) : p.lit
      for (let i = 0; i < lit.length; i++) codes.push(lit.charCodeAt(i))
    }
  }
  out.push(Int32Array.from(codes))
  return out
}

/** A matcher for segments (see the top of this section); `ignoreCase` folds the value first. */
function segmentMatcher(segs: readonly Segment[], ignoreCase: boolean): Matcher {
  const head = segs[0]!
  if (segs.length === 1) {
    return (value) => {
      const v = ignoreCase ? fold(value) : value
      return v.length === head.length && matchAt(head, v, 0)
    }
  }
  const tail = segs[segs.length - 1]!
  const middle = segs.slice(1, -1).filter((s) => s.length > 0)
  const minLength = segs.reduce((n, s) => n + s.length, 0)
  return (value) => {
    const v = ignoreCase ? fold(value) : value
    const n = v.length
    if (n < minLength) return false
    if (!matchAt(head, v, 0)) return false
    const end = n - tail.length
    if (!matchAt(tail, v, end)) return false
    let pos = head.length
    for (const seg of middle) {
      const at = find(seg, v, pos, end)
      if (at < 0) return false
      pos = at + seg.length
    }
    return true
  }
}

/**
 * Compiles parts to the cheapest matcher that is exact: string equality for a literal, a prefix or
 * suffix test for one trailing or leading `*`, the segment matcher above otherwise. Every one is linear.
 */
export function compileParts(parts: readonly GlobPart[], ignoreCase: boolean): Matcher {
  if (parts.length === 1 && 'star' in parts[0]!) return matchAll
  const wild = parts.some((p) => !('lit' in p))
  if (!wild) {
    const lit = parts.map((p) => ('lit' in p ? p.lit : '')).join('')
    if (!ignoreCase) {
      return (v) => {
        steps += lit.length + 1
        return v === lit
      }
    }
    const folded = fold(lit)
    return (v) => {
      steps += lit.length + 1
      return v.length === lit.length && fold(v) === folded
    }
  }
  if (!ignoreCase && parts.length === 2) {
    const [a, b] = parts as [GlobPart, GlobPart]
    if ('lit' in a && 'star' in b) {
      const prefix = a.lit
      return (v) => {
        steps += prefix.length + 1
        return v.startsWith(prefix)
      }
    }
    if ('star' in a && 'lit' in b) {
      const suffix = b.lit
      return (v) => {
        steps += suffix.length + 1
        return v.endsWith(suffix)
      }
    }
  }
  return segmentMatcher(segments(parts, ignoreCase), ignoreCase)
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
  // A wildcard before the fifth colon cannot match a colon, so the colons of the pattern and of the
  // value line up: match field by field (the sixth field, the resource, may hold colons).
  const fields: GlobPart[][] = [[]]
  for (const p of parts) {
    if (!('lit' in p) || fields.length === 6) {
      fields[fields.length - 1]!.push(p)
      continue
    }
    let rest = p.lit
    for (let c = rest.indexOf(':'); c >= 0 && fields.length < 6; c = rest.indexOf(':')) {
      if (c > 0) fields[fields.length - 1]!.push({ lit: rest.slice(0, c) })
      fields.push([])
      rest = rest.slice(c + 1)
    }
    if (rest) fields[fields.length - 1]!.push({ lit: rest })
  }
  const matchers = fields.map((f) => (f.length === 0 ? (v: string) => v === '' : compileParts(f, false)))
  return (value) => {
    let from = 0
    for (let i = 0; i < matchers.length - 1; i++) {
      const c = value.indexOf(':', from)
      steps += (c < 0 ? value.length : c) - from + 1
      if (c < 0 || !matchers[i]!(value.slice(from, c))) return false
      from = c + 1
    }
    const last = value.slice(from)
    // Fewer than six fields: the last one is still before the fifth colon and holds none.
    if (matchers.length < 6 && last.includes(':')) return false
    return matchers[matchers.length - 1]!(last)
  }
}

function countColons(s: string): number {
  let n = 0
  for (let i = s.indexOf(':'); i >= 0; i = s.indexOf(':', i + 1)) n++
  return n
}
