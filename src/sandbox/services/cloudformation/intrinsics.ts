/**
 * The intrinsic functions, condition functions and pseudo parameters, evaluated over a value of
 * the template. One evaluator serves provisioning (every value known), change set planning
 * (values of resources about to change are {@link UNKNOWN}) and conditions.
 *
 * Reference: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html
 * (one page per function: Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::Select, Fn::Split, Fn::If,
 * condition functions, Fn::FindInMap, Fn::Base64, Fn::GetAZs, Fn::Cidr, Fn::ImportValue,
 * Fn::Length, Fn::ToJsonString) and pseudo-parameter-reference.html.
 */
import { validationError } from './errors.js'
import type { Template } from './template.js'

/** `Ref: AWS::NoValue`: the property (or list item) is removed. */
export const NO_VALUE: unique symbol = Symbol('AWS::NoValue')

/** A value not known until a resource is provisioned (change set planning). */
export const UNKNOWN: unique symbol = Symbol('unknown until provisioned')

/** A parameter's value: a string, or a list for list types. */
export type ParameterValue = string | readonly string[]

/** What the evaluator needs to know about the stack. */
export interface IntrinsicContext {
  /** Resolved parameter values by name. */
  readonly parameters: ReadonlyMap<string, ParameterValue>
  /** Pseudo parameter values (`AWS::Region`…); `AWS::NoValue` is handled by the evaluator. */
  readonly pseudo: Readonly<Record<string, ParameterValue>>
  /** Evaluated conditions; empty while the conditions themselves are evaluated. */
  readonly conditions: ReadonlyMap<string, boolean>
  readonly mappings: Template['Mappings']
  /** The template declares the `AWS::LanguageExtensions` transform (Fn::Length, Fn::ToJsonString…). */
  readonly languageExtensions: boolean
  /** The stack's region, for Fn::GetAZs. */
  readonly region: string
  /** A resource's `Ref` value, or {@link UNKNOWN}; throws when the resource cannot be referenced. */
  ref(logicalId: string): unknown
  /** A resource's attribute, or {@link UNKNOWN}; throws for an attribute the type does not have. */
  getAtt(logicalId: string, attribute: string): unknown
  /** An export's value by name; throws `No export named X found.`. */
  importValue(name: string): unknown
  /** Whether a name is a resource of the template (Ref to a resource vs a parameter). */
  isResource(name: string): boolean
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/** True when a value has an {@link UNKNOWN} anywhere inside it. */
export function containsUnknown(v: unknown): boolean {
  if (v === UNKNOWN) return true
  if (Array.isArray(v)) return v.some(containsUnknown)
  if (isObject(v)) return Object.values(v).some(containsUnknown)
  return false
}

function templateErr(message: string): Error {
  return validationError(`Template error: ${message}`)
}

/** Scalars as CloudFormation passes them to functions that take strings (numbers, booleans). */
function asString(v: unknown, fn: string): string {
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  throw templateErr(`every ${fn} object requires string values, got ${JSON.stringify(v)}`)
}

const FUNCTIONS = new Set([
  'Ref',
  'Fn::GetAtt',
  'Fn::Sub',
  'Fn::Join',
  'Fn::Select',
  'Fn::Split',
  'Fn::If',
  'Fn::Equals',
  'Fn::And',
  'Fn::Or',
  'Fn::Not',
  'Fn::FindInMap',
  'Fn::Base64',
  'Fn::GetAZs',
  'Fn::ImportValue',
  'Fn::Cidr',
  'Fn::Length',
  'Fn::ToJsonString',
  'Condition',
])

/**
 * Evaluates every intrinsic function inside a value. `NO_VALUE` results drop the key or list
 * item that held them; the top-level result may itself be `NO_VALUE`.
 */
export function resolveValue(value: unknown, ctx: IntrinsicContext): unknown {
  if (Array.isArray(value)) {
    const out: unknown[] = []
    for (const v of value) {
      const r = resolveValue(v, ctx)
      if (r !== NO_VALUE) out.push(r)
    }
    return out
  }
  if (!isObject(value)) return value
  const keys = Object.keys(value)
  if (keys.length === 1 && FUNCTIONS.has(keys[0]!) && keys[0] !== 'Condition') {
    return callFunction(keys[0]!, value[keys[0]!], ctx)
  }
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) {
    const r = resolveValue(v, ctx)
    if (r !== NO_VALUE) out[k] = r
  }
  return out
}

function callFunction(fn: string, arg: unknown, ctx: IntrinsicContext): unknown {
  switch (fn) {
    case 'Ref':
      return ref(arg, ctx)
    case 'Fn::GetAtt':
      return getAtt(arg, ctx)
    case 'Fn::Sub':
      return sub(arg, ctx)
    case 'Fn::Join': {
      if (!Array.isArray(arg) || arg.length !== 2) {
        throw templateErr(
          'every Fn::Join object requires two parameters, (1) a string delimiter and (2) a list of strings to be joined or a function that returns a list of strings (such as Fn::GetAZs) to be joined.',
        )
      }
      const delim = resolveValue(arg[0], ctx)
      const list = resolveValue(arg[1], ctx)
      if (delim === UNKNOWN || containsUnknown(list)) return UNKNOWN
      if (typeof delim !== 'string' || !Array.isArray(list)) {
        throw templateErr(
          'every Fn::Join object requires two parameters, (1) a string delimiter and (2) a list of strings to be joined or a function that returns a list of strings (such as Fn::GetAZs) to be joined.',
        )
      }
      return list.map((x) => asString(x, 'Fn::Join')).join(delim)
    }
    case 'Fn::Select': {
      if (!Array.isArray(arg) || arg.length !== 2)
        throw templateErr(
          'Fn::Select requires a list argument with two elements: an integer index and a list',
        )
      const index = resolveValue(arg[0], ctx)
      const list = resolveValue(arg[1], ctx)
      if (index === UNKNOWN || list === UNKNOWN) return UNKNOWN
      const i = typeof index === 'number' ? index : Number(asString(index, 'Fn::Select'))
      if (!Array.isArray(list))
        throw templateErr(
          'Fn::Select requires a list argument with two elements: an integer index and a list',
        )
      if (!Number.isInteger(i) || i < 0 || i >= list.length) {
        throw templateErr(`Fn::Select cannot select nonexistent value at index ${String(index)}`)
      }
      return list[i] as unknown
    }
    case 'Fn::Split': {
      if (!Array.isArray(arg) || arg.length !== 2)
        throw templateErr(
          'every Fn::Split object requires two parameters, (1) a string delimiter and (2) a string to be split or a function that returns a string to be split.',
        )
      const delim = resolveValue(arg[0], ctx)
      const source = resolveValue(arg[1], ctx)
      if (source === UNKNOWN) return UNKNOWN
      if (typeof delim !== 'string' || typeof source !== 'string') {
        throw templateErr(
          'every Fn::Split object requires two parameters, (1) a string delimiter and (2) a string to be split or a function that returns a string to be split.',
        )
      }
      return source.split(delim)
    }
    case 'Fn::If': {
      if (!Array.isArray(arg) || arg.length !== 3 || typeof arg[0] !== 'string') {
        throw templateErr(
          'Fn::If requires a list argument with three elements: a condition name, a value if true and a value if false',
        )
      }
      return resolveValue(conditionValue(arg[0], ctx) ? arg[1] : arg[2], ctx)
    }
    case 'Fn::Equals':
    case 'Fn::And':
    case 'Fn::Or':
    case 'Fn::Not':
      return evaluateCondition({ [fn]: arg }, ctx)
    case 'Fn::FindInMap':
      return findInMap(arg, ctx)
    case 'Fn::Base64': {
      const v = resolveValue(arg, ctx)
      if (v === UNKNOWN) return UNKNOWN
      return Buffer.from(asString(v, 'Fn::Base64'), 'utf8').toString('base64')
    }
    case 'Fn::GetAZs': {
      const v = resolveValue(arg, ctx)
      const region = v === '' || v === undefined ? ctx.region : asString(v, 'Fn::GetAZs')
      // The sandbox's regions each have three zones, named as AWS names them (region + letter).
      return ['a', 'b', 'c'].map((l) => `${region}${l}`)
    }
    case 'Fn::ImportValue': {
      const name = resolveValue(arg, ctx)
      if (name === UNKNOWN) return UNKNOWN
      return ctx.importValue(asString(name, 'Fn::ImportValue'))
    }
    case 'Fn::Cidr':
      return cidr(arg, ctx)
    case 'Fn::Length': {
      requireLanguageExtensions('Fn::Length', ctx)
      const v = resolveValue(arg, ctx)
      if (v === UNKNOWN) return UNKNOWN
      if (!Array.isArray(v)) throw templateErr('Fn::Length requires a list or a function that returns a list')
      return v.length
    }
    case 'Fn::ToJsonString': {
      requireLanguageExtensions('Fn::ToJsonString', ctx)
      const v = resolveValue(arg, ctx)
      if (containsUnknown(v)) return UNKNOWN
      if (v === null || typeof v !== 'object')
        throw templateErr('Fn::ToJsonString requires an object or a list')
      return JSON.stringify(v)
    }
    default:
      throw templateErr(`Unrecognized intrinsic function ${fn}`)
  }
}

function requireLanguageExtensions(fn: string, ctx: IntrinsicContext): void {
  // Fn::Length, Fn::ToJsonString and FindInMap's DefaultValue exist only with the transform
  // (transform-aws-languageextensions.html).
  if (!ctx.languageExtensions) {
    throw validationError(`Template format error: ${fn} requires the AWS::LanguageExtensions transform`)
  }
}

function ref(arg: unknown, ctx: IntrinsicContext): unknown {
  if (typeof arg !== 'string') {
    const v = resolveValue(arg, ctx)
    if (typeof v !== 'string') throw templateErr('Ref requires a string name')
    arg = v
  }
  const name = arg as string
  if (name === 'AWS::NoValue') return NO_VALUE
  if (name in ctx.pseudo) return ctx.pseudo[name]
  const p = ctx.parameters.get(name)
  if (p !== undefined) return p
  if (ctx.isResource(name)) return ctx.ref(name)
  throw validationError(
    `Template format error: Unresolved resource dependencies [${name}] in the Resources block of the template`,
  )
}

function getAtt(arg: unknown, ctx: IntrinsicContext): unknown {
  let parts: unknown[]
  if (typeof arg === 'string') {
    const dot = arg.indexOf('.')
    parts = dot < 0 ? [arg] : [arg.slice(0, dot), arg.slice(dot + 1)]
  } else if (Array.isArray(arg)) parts = arg
  else throw templateErr('Fn::GetAtt requires a list of a resource name and an attribute name')
  if (parts.length !== 2 || typeof parts[0] !== 'string') {
    throw templateErr('Fn::GetAtt requires a list of a resource name and an attribute name')
  }
  const attr = resolveValue(parts[1], ctx)
  if (attr === UNKNOWN) return UNKNOWN
  return ctx.getAtt(parts[0], asString(attr, 'Fn::GetAtt'))
}

function sub(arg: unknown, ctx: IntrinsicContext): unknown {
  let text: unknown
  let vars: Record<string, unknown> = {}
  if (Array.isArray(arg)) {
    if (arg.length !== 2 || !isObject(arg[1]))
      throw templateErr(
        "One or more Fn::Sub intrinsic functions don't specify expected arguments. Specify a string as first argument, and an optional second argument to specify a mapping of values to replace in the string",
      )
    text = arg[0]
    vars = arg[1]
  } else text = arg
  if (typeof text !== 'string') {
    throw templateErr(
      "One or more Fn::Sub intrinsic functions don't specify expected arguments. Specify a string as first argument, and an optional second argument to specify a mapping of values to replace in the string",
    )
  }
  const resolvedVars = new Map<string, unknown>()
  for (const [k, v] of Object.entries(vars)) resolvedVars.set(k, resolveValue(v, ctx))
  let unknown = false
  const out = text.replace(/\$\{([^}]*)\}/g, (_m, raw: string) => {
    if (raw.startsWith('!')) return '${' + raw.slice(1) + '}'
    const name = raw.trim()
    let v: unknown
    if (resolvedVars.has(name)) v = resolvedVars.get(name)
    else {
      const dot = name.indexOf('.')
      v =
        dot > 0 && !name.startsWith('AWS::')
          ? ctx.getAtt(name.slice(0, dot), name.slice(dot + 1))
          : ref(name, ctx)
    }
    if (v === UNKNOWN) {
      unknown = true
      return ''
    }
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v)
    throw templateErr(`variable ${name} in Fn::Sub expression does not resolve to a string`)
  })
  return unknown ? UNKNOWN : out
}

function findInMap(arg: unknown, ctx: IntrinsicContext): unknown {
  if (!Array.isArray(arg) || arg.length < 3 || arg.length > 4) {
    throw templateErr(
      'Fn::FindInMap requires a list argument with three elements: map name, top-level key, second-level key',
    )
  }
  let fallback: unknown = NO_VALUE
  if (arg.length === 4) {
    requireLanguageExtensions('Fn::FindInMap DefaultValue', ctx)
    const opts: unknown = arg[3]
    if (!isObject(opts) || !('DefaultValue' in opts))
      throw templateErr('Fn::FindInMap fourth element must be {DefaultValue: …}')
    fallback = opts.DefaultValue
  }
  const [map, k1, k2] = arg.slice(0, 3).map((x) => resolveValue(x, ctx))
  if (map === UNKNOWN || k1 === UNKNOWN || k2 === UNKNOWN) return UNKNOWN
  const m = ctx.mappings?.[asString(map, 'Fn::FindInMap')]
  const top = m?.[asString(k1, 'Fn::FindInMap')]
  const v = top?.[asString(k2, 'Fn::FindInMap')]
  if (v === undefined) {
    if (fallback !== NO_VALUE) return resolveValue(fallback, ctx)
    throw templateErr(`Unable to get mapping for ${String(map)}::${String(k1)}::${String(k2)}`)
  }
  return v
}

/**
 * `Fn::Cidr [ipBlock, count, cidrBits]`: `count` consecutive subnets of `cidrBits` host bits,
 * from the start of the block (intrinsic-function-reference-cidr.html). IPv4 and IPv6.
 */
function cidr(arg: unknown, ctx: IntrinsicContext): unknown {
  if (!Array.isArray(arg) || arg.length !== 3)
    throw templateErr('Fn::Cidr requires a list argument with three elements: ipBlock, count, cidrBits')
  const [block, count, bits] = arg.map((x) => resolveValue(x, ctx))
  if (block === UNKNOWN || count === UNKNOWN || bits === UNKNOWN) return UNKNOWN
  const n = Number(count)
  const hostBits = Number(bits)
  const b = asString(block, 'Fn::Cidr')
  const slash = b.indexOf('/')
  const ip = slash < 0 ? b : b.slice(0, slash)
  const v6 = ip.includes(':')
  const width = v6 ? 128 : 32
  const prefix = slash < 0 ? width : Number(b.slice(slash + 1))
  if (
    !Number.isInteger(n) ||
    n < 1 ||
    n > 256 ||
    !Number.isInteger(hostBits) ||
    hostBits < 1 ||
    width - hostBits < prefix
  ) {
    throw templateErr(`Fn::Cidr cannot make ${String(count)} subnets with ${String(bits)} bits from ${b}`)
  }
  const base = v6 ? parseV6(ip) : parseV4(ip)
  if (base === undefined) throw templateErr(`Fn::Cidr ipBlock ${b} is not a valid CIDR block`)
  const available = 1n << BigInt(width - hostBits - prefix)
  if (BigInt(n) > available)
    throw templateErr(`Fn::Cidr cannot make ${n} subnets with ${hostBits} bits from ${b}`)
  const size = 1n << BigInt(hostBits)
  const start = (base >> BigInt(width - prefix)) << BigInt(width - prefix)
  const out: string[] = []
  for (let i = 0n; i < BigInt(n); i++) {
    const addr = start + i * size
    out.push(`${v6 ? formatV6(addr) : formatV4(addr)}/${width - hostBits}`)
  }
  return out
}

function parseV4(s: string): bigint | undefined {
  const parts = s.split('.')
  if (parts.length !== 4) return undefined
  let v = 0n
  for (const p of parts) {
    const x = Number(p)
    if (!/^\d+$/.test(p) || x > 255) return undefined
    v = (v << 8n) + BigInt(x)
  }
  return v
}

function formatV4(v: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join('.')
}

function parseV6(s: string): bigint | undefined {
  const halves = s.split('::')
  if (halves.length > 2) return undefined
  const head = halves[0] ? halves[0].split(':') : []
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : []
  const fill = 8 - head.length - tail.length
  if (halves.length === 1 ? head.length !== 8 : fill < 1) return undefined
  const groups = [...head, ...Array<string>(halves.length === 2 ? fill : 0).fill('0'), ...tail]
  let v = 0n
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined
    v = (v << 16n) + BigInt(parseInt(g, 16))
  }
  return v
}

function formatV6(v: bigint): string {
  const groups: string[] = []
  for (let s = 112n; s >= 0n; s -= 16n) groups.push(((v >> s) & 0xffffn).toString(16))
  // Compress the longest run of zero groups, as RFC 5952 and AWS print them.
  let best = -1
  let bestLen = 1
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === '0') j++
    if (j - i > bestLen) {
      best = i
      bestLen = j - i
    }
    i = j
  }
  if (best < 0) return groups.join(':')
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`
}

function conditionValue(name: string, ctx: IntrinsicContext): boolean {
  const v = ctx.conditions.get(name)
  if (v === undefined) throw templateErr(`Unresolved condition dependency ${name} in Fn::If`)
  return v
}

/** Scalars compare as strings (`Fn::Equals [1, "1"]` is true); lists item by item. */
function comparable(v: unknown): unknown {
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  if (Array.isArray(v)) return v.map(comparable)
  return v
}

/** Evaluates a condition function (Fn::Equals/And/Or/Not, `Condition`) to a boolean. */
export function evaluateCondition(value: unknown, ctx: IntrinsicContext): boolean {
  if (!isObject(value) || Object.keys(value).length !== 1) {
    throw templateErr('Conditions can only be boolean operations on parameters and other conditions')
  }
  const [fn, arg] = Object.entries(value)[0]!
  switch (fn) {
    case 'Condition':
      if (typeof arg !== 'string') throw templateErr('Condition requires a condition name')
      return conditionValue(arg, ctx)
    case 'Fn::Equals': {
      if (!Array.isArray(arg) || arg.length !== 2)
        throw templateErr('Fn::Equals requires a list of two values')
      const a = resolveValue(arg[0], ctx)
      const b = resolveValue(arg[1], ctx)
      return JSON.stringify(comparable(a)) === JSON.stringify(comparable(b))
    }
    case 'Fn::And':
    case 'Fn::Or': {
      if (!Array.isArray(arg) || arg.length < 2 || arg.length > 10) {
        throw templateErr(`${fn} requires a list of between 2 and 10 conditions`)
      }
      const values = arg.map((c) => evaluateCondition(c, ctx))
      return fn === 'Fn::And' ? values.every(Boolean) : values.some(Boolean)
    }
    case 'Fn::Not': {
      if (!Array.isArray(arg) || arg.length !== 1)
        throw templateErr('Fn::Not requires a list of one condition')
      return !evaluateCondition(arg[0], ctx)
    }
    default:
      throw templateErr(
        `Conditions can only be boolean operations on parameters and other conditions; found ${fn}`,
      )
  }
}

/**
 * Evaluates the template's Conditions section, in dependency order (a condition may name
 * another with `Condition`). A cycle is a template error.
 */
export function evaluateConditions(
  conditions: Readonly<Record<string, unknown>> | undefined,
  base: IntrinsicContext,
): Map<string, boolean> {
  const done = new Map<string, boolean>()
  const visiting = new Set<string>()
  const ctx: IntrinsicContext = { ...base, conditions: done }
  const visit = (name: string): boolean => {
    const known = done.get(name)
    if (known !== undefined) return known
    if (!conditions || !(name in conditions)) throw templateErr(`Unresolved condition dependency ${name}`)
    if (visiting.has(name))
      throw validationError(
        `Template format error: Circular dependency between conditions: [${[...visiting].join(', ')}]`,
      )
    visiting.add(name)
    // Evaluate referenced conditions first so conditionValue finds them.
    for (const dep of conditionDeps(conditions[name])) visit(dep)
    const v = evaluateCondition(conditions[name], ctx)
    visiting.delete(name)
    done.set(name, v)
    return v
  }
  for (const name of Object.keys(conditions ?? {})) visit(name)
  return done
}

function conditionDeps(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) conditionDeps(v, out)
  else if (isObject(value)) {
    const entries = Object.entries(value)
    if (entries.length === 1 && entries[0]![0] === 'Condition' && typeof entries[0]![1] === 'string')
      out.push(entries[0]![1])
    else for (const [, v] of entries) conditionDeps(v, out)
  }
  return out
}
