/**
 * Condition operators, compiled once per policy.
 *
 * Semantics (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html):
 * - several values for one key are ORed; for a negated operator (StringNotEquals…) they behave as a
 *   logical NOR: the request value must match none of them
 *   (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html);
 * - a key missing from the request makes a condition false, a negated one true, an `…IfExists` one true;
 *   `Null` tests presence itself;
 * - `ForAnyValue:` is true when some request value matches (false when the key is missing or empty),
 *   `ForAllValues:` when every request value matches (true when the key is missing or empty)
 *   (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html).
 * Operator and key names are case-insensitive; values are case-sensitive except where the operator says otherwise.
 */
import {
  compileArnGlob,
  compileArnParts,
  compileGlob,
  compileParts,
  globParts,
  type GlobPart,
  type Matcher,
} from './glob.js'
import {
  parseTemplate,
  resolveGlobParts,
  resolveString,
  type Template,
  type VariableLookup,
} from './variables.js'
import type { ContextValue } from './types.js'

type Family = 'string' | 'stringIC' | 'like' | 'numeric' | 'date' | 'bool' | 'binary' | 'ip' | 'arn' | 'null'
type Cmp = 'eq' | 'lt' | 'le' | 'gt' | 'ge'

interface OperatorDef {
  readonly name: string
  readonly family: Family
  readonly negated: boolean
  readonly cmp: Cmp
}

const OPERATORS: readonly OperatorDef[] = [
  { name: 'StringEquals', family: 'string', negated: false, cmp: 'eq' },
  { name: 'StringNotEquals', family: 'string', negated: true, cmp: 'eq' },
  { name: 'StringEqualsIgnoreCase', family: 'stringIC', negated: false, cmp: 'eq' },
  { name: 'StringNotEqualsIgnoreCase', family: 'stringIC', negated: true, cmp: 'eq' },
  { name: 'StringLike', family: 'like', negated: false, cmp: 'eq' },
  { name: 'StringNotLike', family: 'like', negated: true, cmp: 'eq' },
  { name: 'NumericEquals', family: 'numeric', negated: false, cmp: 'eq' },
  { name: 'NumericNotEquals', family: 'numeric', negated: true, cmp: 'eq' },
  { name: 'NumericLessThan', family: 'numeric', negated: false, cmp: 'lt' },
  { name: 'NumericLessThanEquals', family: 'numeric', negated: false, cmp: 'le' },
  { name: 'NumericGreaterThan', family: 'numeric', negated: false, cmp: 'gt' },
  { name: 'NumericGreaterThanEquals', family: 'numeric', negated: false, cmp: 'ge' },
  { name: 'DateEquals', family: 'date', negated: false, cmp: 'eq' },
  { name: 'DateNotEquals', family: 'date', negated: true, cmp: 'eq' },
  { name: 'DateLessThan', family: 'date', negated: false, cmp: 'lt' },
  { name: 'DateLessThanEquals', family: 'date', negated: false, cmp: 'le' },
  { name: 'DateGreaterThan', family: 'date', negated: false, cmp: 'gt' },
  { name: 'DateGreaterThanEquals', family: 'date', negated: false, cmp: 'ge' },
  { name: 'Bool', family: 'bool', negated: false, cmp: 'eq' },
  { name: 'BinaryEquals', family: 'binary', negated: false, cmp: 'eq' },
  { name: 'IpAddress', family: 'ip', negated: false, cmp: 'eq' },
  { name: 'NotIpAddress', family: 'ip', negated: true, cmp: 'eq' },
  { name: 'ArnEquals', family: 'arn', negated: false, cmp: 'eq' },
  { name: 'ArnLike', family: 'arn', negated: false, cmp: 'eq' },
  { name: 'ArnNotEquals', family: 'arn', negated: true, cmp: 'eq' },
  { name: 'ArnNotLike', family: 'arn', negated: true, cmp: 'eq' },
  { name: 'Null', family: 'null', negated: false, cmp: 'eq' },
]
const BY_NAME = new Map(OPERATORS.map((o) => [o.name.toLowerCase(), o]))

/** The documented operator names, for messages. */
export const CONDITION_OPERATORS: readonly string[] = OPERATORS.map((o) => o.name)

/** A parsed operator name: `ForAnyValue:StringLikeIfExists` → qualifier, operator, ifExists. */
export interface ParsedOperator {
  readonly def: OperatorDef
  readonly qualifier: 'none' | 'any' | 'all'
  readonly ifExists: boolean
}

/** Parses an operator name; a string is the reason it is invalid. */
export function parseOperator(name: string): ParsedOperator | string {
  let rest = name
  let qualifier: ParsedOperator['qualifier'] = 'none'
  const lower = name.toLowerCase()
  if (lower.startsWith('forallvalues:')) {
    qualifier = 'all'
    rest = name.slice('ForAllValues:'.length)
  } else if (lower.startsWith('foranyvalue:')) {
    qualifier = 'any'
    rest = name.slice('ForAnyValue:'.length)
  }
  let ifExists = false
  let def = BY_NAME.get(rest.toLowerCase())
  if (!def && rest.toLowerCase().endsWith('ifexists')) {
    def = BY_NAME.get(rest.slice(0, -'IfExists'.length).toLowerCase())
    ifExists = true
  }
  if (!def) return `"${name}" is not a condition operator AWS documents`
  if (def.family === 'null' && (ifExists || qualifier !== 'none'))
    return `"${name}": Null takes neither IfExists nor a set qualifier`
  return { def, qualifier, ifExists }
}

/** One policy value, pre-processed for its operator family. */
type CValue =
  | { readonly t: 'tpl'; readonly tpl: Template; readonly lower?: string; readonly matcher?: Matcher }
  | { readonly t: 'num'; readonly n: number }
  | { readonly t: 'cidr'; readonly cidr: Cidr | undefined }
  | { readonly t: 'null'; readonly wantMissing: boolean }

/** A compiled condition: one operator, one key, its values. */
export interface CompiledCondition {
  readonly operator: string
  readonly op: ParsedOperator
  /** Lower-case context key. */
  readonly key: string
  /** The key as written, for explanations. */
  readonly keyName: string
  readonly values: readonly CValue[]
  /** The raw values, for explanations. */
  readonly raw: readonly string[]
  /** Some value holds a policy variable. */
  readonly hasVariables: boolean
}

/** Compiles one operator/key/values triple (already validated). */
export function compileCondition(
  operator: string,
  op: ParsedOperator,
  keyName: string,
  raw: readonly string[],
  variables: boolean,
): CompiledCondition {
  const fam = op.def.family
  const values: CValue[] = raw.map((r): CValue => {
    switch (fam) {
      case 'numeric':
        return { t: 'num', n: parseNumber(r) }
      case 'date':
        return { t: 'num', n: parseDate(r) }
      case 'ip':
        return { t: 'cidr', cidr: parseCidr(r) }
      case 'null':
        return { t: 'null', wantMissing: r.toLowerCase() === 'true' }
      case 'binary':
        return { t: 'tpl', tpl: parseTemplate(r, false) }
      default: {
        const tpl = parseTemplate(r, variables)
        if (!tpl.isStatic) return { t: 'tpl', tpl }
        if (fam === 'stringIC' || fam === 'bool') return { t: 'tpl', tpl, lower: r.toLowerCase() }
        if (fam === 'like') return { t: 'tpl', tpl, matcher: compileGlob(r) }
        if (fam === 'arn') return { t: 'tpl', tpl, matcher: compileArnGlob(r) }
        return { t: 'tpl', tpl }
      }
    }
  })
  const hasVariables = values.some((v) => v.t === 'tpl' && !v.tpl.isStatic)
  return { operator, op, key: keyName.toLowerCase(), keyName, values, raw, hasVariables }
}

/** Looks a context key up by its lower-case name. */
export interface ContextLookup extends VariableLookup {
  get(key: string): ContextValue | undefined
}

/** Evaluates a compiled condition against the request context. */
export function evaluateCondition(c: CompiledCondition, ctx: ContextLookup): boolean {
  const vars: VariableLookup = ctx
  const { def, qualifier, ifExists } = c.op
  // A value whose variable has no value and no default matches nothing: a positive operator is
  // then false, a negated one (StringNotEquals, StringNotLike, ArnNotLike…) true, as for a key
  // missing from the request (IAM User Guide, "IAM policy elements: Variables and tags",
  // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html, and
  // "Condition operators", negated operators). Issue 10, class 7.
  if (c.hasVariables)
    for (const pv of c.values)
      if (pv.t === 'tpl' && resolveString(pv.tpl, vars) === undefined) return def.negated
  const v = ctx.get(c.key)
  const present = v !== undefined && (typeof v === 'string' || v.length > 0)
  if (def.family === 'null') {
    for (const pv of c.values) if ((pv as { wantMissing: boolean }).wantMissing !== present) return true
    return false
  }
  if (!present) {
    if (ifExists) return true
    if (qualifier === 'all') return true
    if (qualifier === 'any') return false
    return def.negated
  }
  if (typeof v === 'string') return test(c, v, vars)
  if (qualifier === 'all') {
    for (const r of v) if (!test(c, r, vars)) return false
    return true
  }
  // ForAnyValue, and a plain operator given a list (treated as "some value matches").
  for (const r of v) if (test(c, r, vars)) return true
  return false
}

/** One request value against the operator: the positive match, or its negation. */
function test(c: CompiledCondition, r: string, vars: VariableLookup): boolean {
  const m = matchesAny(c, r, vars)
  return c.op.def.negated ? !m : m
}

/** True when the request value matches at least one policy value (the positive form of the operator). */
function matchesAny(c: CompiledCondition, r: string, vars: VariableLookup): boolean {
  const fam = c.op.def.family
  const cmp = c.op.def.cmp
  switch (fam) {
    case 'string':
      for (const pv of c.values) {
        const s = resolveString((pv as { tpl: Template }).tpl, vars)
        if (s === r) return true
      }
      return false
    case 'stringIC':
    case 'bool': {
      const rl = r.toLowerCase()
      for (const pv of c.values) {
        const x = pv as { tpl: Template; lower?: string }
        const s = x.lower ?? resolveString(x.tpl, vars)?.toLowerCase()
        if (s === rl) return true
      }
      return false
    }
    case 'binary':
      for (const pv of c.values) if ((pv as { tpl: Template }).tpl.raw === r) return true
      return false
    case 'like':
    case 'arn':
      for (const pv of c.values) {
        const x = pv as { tpl: Template; matcher?: Matcher }
        const m = x.matcher ?? dynamicMatcher(x.tpl, vars, fam === 'arn')
        if (m?.(r)) return true
      }
      return false
    case 'numeric':
    case 'date': {
      const n = fam === 'numeric' ? parseNumber(r) : parseDate(r)
      if (Number.isNaN(n)) return false
      for (const pv of c.values) if (compare(n, (pv as { n: number }).n, cmp)) return true
      return false
    }
    case 'ip': {
      const ip = parseIp(r)
      if (!ip) return false
      for (const pv of c.values) {
        const cidr = (pv as { cidr: Cidr | undefined }).cidr
        if (cidr && inCidr(ip, cidr)) return true
      }
      return false
    }
    default:
      return false
  }
}

function compare(a: number, b: number, cmp: Cmp): boolean {
  if (Number.isNaN(b)) return false
  switch (cmp) {
    case 'eq':
      return a === b
    case 'lt':
      return a < b
    case 'le':
      return a <= b
    case 'gt':
      return a > b
    case 'ge':
      return a >= b
  }
}

const dynamicCache = new Map<string, Matcher>()
function splitText(text: string): GlobPart[] {
  return globParts(text)
}
/** Matcher for a value with variables: compiled per distinct substitution, cached. */
export function dynamicMatcher(tpl: Template, vars: VariableLookup, arn: boolean): Matcher | undefined {
  const parts = resolveGlobParts(tpl, vars, splitText)
  if (!parts) return undefined
  const key = (arn ? 'a' : 'l') + JSON.stringify(parts)
  let m = dynamicCache.get(key)
  if (!m) {
    m = arn ? compileArnParts(parts) : compileParts(parts, false)
    if (dynamicCache.size > 5000) dynamicCache.clear()
    dynamicCache.set(key, m)
  }
  return m
}

/** Numbers as the Numeric operators accept them: integers and decimals. */
function parseNumber(s: string): number {
  const t = s.trim()
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(t)) return NaN
  return Number(t)
}

/**
 * Dates as the Date operators accept them: ISO 8601 (W3C profile) or epoch seconds.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Date
 */
export function parseDate(s: string): number {
  const t = s.trim()
  if (/^\d+$/.test(t)) return Number(t) * 1000
  if (!/^\d{4}-\d{2}-\d{2}/.test(t)) return NaN
  return Date.parse(t)
}

/** An IPv4 or IPv6 network. */
interface Cidr {
  readonly v6: boolean
  readonly addr: bigint
  readonly bits: number
}
interface Ip {
  readonly v6: boolean
  readonly addr: bigint
}

/** Parses an address or a CIDR block (RFC 4632 / RFC 4291). */
export function parseCidr(s: string): Cidr | undefined {
  const [a, b, extra] = s.trim().split('/')
  if (extra !== undefined || a === undefined) return undefined
  const ip = parseIp(a)
  if (!ip) return undefined
  const max = ip.v6 ? 128 : 32
  const bits = b === undefined ? max : /^\d+$/.test(b) ? Number(b) : NaN
  if (!(bits >= 0 && bits <= max)) return undefined
  return { v6: ip.v6, addr: ip.addr, bits }
}

function parseIp(s: string): Ip | undefined {
  if (s.includes(':')) {
    const addr = parseIpv6(s)
    return addr === undefined ? undefined : { v6: true, addr }
  }
  const parts = s.split('.')
  if (parts.length !== 4) return undefined
  let n = 0n
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined
    n = (n << 8n) | BigInt(Number(p))
  }
  return { v6: false, addr: n }
}

function parseIpv6(s: string): bigint | undefined {
  let text = s
  // An embedded IPv4 tail (::ffff:192.0.2.1) stands for the last two groups.
  const colon = text.lastIndexOf(':')
  if (text.slice(colon + 1).includes('.')) {
    const v4 = parseIp(text.slice(colon + 1))
    if (!v4 || v4.v6) return undefined
    text = `${text.slice(0, colon + 1)}${(v4.addr >> 16n).toString(16)}:${(v4.addr & 0xffffn).toString(16)}`
  }
  const halves = text.split('::')
  if (halves.length > 2) return undefined
  const parse = (h: string): bigint[] | undefined => {
    if (h === '') return []
    const out: bigint[] = []
    for (const g of h.split(':')) {
      if (!/^[0-9a-f]{1,4}$/i.test(g)) return undefined
      out.push(BigInt(parseInt(g, 16)))
    }
    return out
  }
  const head = parse(halves[0]!)
  const rest = halves.length === 2 ? parse(halves[1]!) : []
  if (!head || !rest) return undefined
  const groups = [...head]
  const fill = 8 - head.length - rest.length
  if (halves.length === 2) {
    if (fill < 1) return undefined
    for (let i = 0; i < fill; i++) groups.push(0n)
  } else if (fill !== 0) return undefined
  groups.push(...rest)
  let n = 0n
  for (const g of groups) n = (n << 16n) | g
  return n
}

function inCidr(ip: Ip, c: Cidr): boolean {
  if (ip.v6 !== c.v6) return false
  const shift = BigInt((c.v6 ? 128 : 32) - c.bits)
  return ip.addr >> shift === c.addr >> shift
}
