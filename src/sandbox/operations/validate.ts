/**
 * Validation of an operation's input against its model's constraints, with AWS's message text.
 *
 * AWS's services (their common request framework) answer a request that breaks its model's
 * constraints with one error listing every violation:
 *
 *   `1 validation error detected: Value 'a b' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*`
 *   `2 validation errors detected: Value 'x' at 'a' failed to satisfy constraint: …; Value null at 'b' failed to satisfy constraint: Member must not be null`
 *
 * The texts are the ones AWS's documentation and answers show: "Member must not be null",
 * "Member must have length less than or equal to N", "Member must have length greater than or equal
 * to N", "Member must have value less than or equal to N", "Member must satisfy enum value set: [A, B]",
 * "Member must satisfy regular expression pattern: P" (e.g. STS's AssumeRole errors,
 * https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html `ValidationError`, and the
 * KMS, Bedrock and DynamoDB answers quoted in public issues); members are named by their model name
 * with a lower-case first letter, nested as `tags.1.member.key`; a list or map whose items break a
 * constraint is reported once, at the list, as "Member must satisfy constraint: [C1, C2]" (maps:
 * "Map keys must satisfy constraint: […]", "Map value must satisfy constraint: […]"). Sensitive
 * values (the model's `sensitive`), binary values and structures are not echoed: `Value at 'x'`.
 *
 * Validators are compiled once per shape (regular expressions built once) and cached per model.
 */
import type { ServiceModel, Shape, ShapeRef } from './model.js'
import { fieldsOf, shapeOf } from './model.js'

/**
 * One broken constraint: the value as AWS shows it (`'a b'`, `null`, or '' when it is not echoed),
 * the member's path (`tags.1.member.key`) and the constraint's text. Services whose answers are not
 * the common "N validation errors detected" form (ECR's `InvalidParameterException`) build their
 * own message from these.
 */
export interface Violation {
  readonly value: string
  readonly path: string
  readonly constraint: string
}

/** Checks a value (already of the shape's type) and returns the violations, in model order. */
type Check = (value: unknown, path: string, out: Violation[]) => void

const compiled = new WeakMap<ServiceModel, Map<string, Check>>()

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1)
}

/** A Java regular expression (the models' dialect) as a JavaScript one that must match the whole value. */
function compilePattern(p: string): RegExp | undefined {
  for (const flags of ['u', '']) {
    try {
      return new RegExp(`^(?:${p})$`, flags)
    } catch {
      // try without the unicode flag (it refuses escapes Java allows, such as `\#`)
    }
  }
  // A Java construct JavaScript lacks (possessive quantifiers, `\z`…): the pattern is not checked.
  return undefined
}

function text(x: unknown): string {
  return typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean' ? String(x) : ''
}

function show(shape: Shape, v: unknown): string {
  if (v === undefined || v === null) return 'null'
  if (shape.sensitive || shape.type === 'blob' || shape.type === 'structure' || shape.type === 'map')
    return ''
  if (Array.isArray(v)) return v.some((x) => typeof x === 'object') ? '' : `'[${v.map(text).join(', ')}]'`
  if (v instanceof Date) return `'${v.toISOString()}'`
  return `'${text(v)}'`
}

function line(value: string, path: string, constraint: string): Violation {
  return { value, path, constraint }
}

/** A violation in AWS's words: `Value 'x' at 'a.b' failed to satisfy constraint: C`. */
export function violationText(v: Violation): string {
  return `Value ${v.value ? v.value + ' ' : ''}at '${v.path}' failed to satisfy constraint: ${v.constraint}`
}

/** The constraints a scalar (or a list's or map's length) breaks, as AWS words them. */
function scalarRules(shape: Shape): ((v: unknown) => string | undefined)[] {
  const rules: ((v: unknown) => string | undefined)[] = []
  const sizeOf = (v: unknown): number =>
    typeof v === 'string'
      ? v.length
      : v instanceof Uint8Array
        ? v.byteLength
        : Array.isArray(v)
          ? v.length
          : v && typeof v === 'object'
            ? Object.keys(v).length
            : 0
  const numeric = ['integer', 'long', 'float', 'double'].includes(shape.type)
  const { min, max } = shape
  if (numeric) {
    if (min !== undefined)
      rules.push((v) =>
        (v as number) < min ? `Member must have value greater than or equal to ${min}` : undefined,
      )
    if (max !== undefined)
      rules.push((v) =>
        (v as number) > max ? `Member must have value less than or equal to ${max}` : undefined,
      )
  } else if (shape.type !== 'boolean' && shape.type !== 'timestamp' && shape.type !== 'structure') {
    if (min !== undefined)
      rules.push((v) =>
        sizeOf(v) < min ? `Member must have length greater than or equal to ${min}` : undefined,
      )
    if (max !== undefined)
      rules.push((v) =>
        sizeOf(v) > max ? `Member must have length less than or equal to ${max}` : undefined,
      )
  }
  if (shape.type === 'string' && shape.pattern !== undefined) {
    const re = compilePattern(shape.pattern)
    const text = shape.pattern
    if (re)
      rules.push((v) =>
        re.test(v as string) ? undefined : `Member must satisfy regular expression pattern: ${text}`,
      )
  }
  if (shape.type === 'string' && shape.enum) {
    const set = new Set(shape.enum)
    const text = `Member must satisfy enum value set: [${shape.enum.join(', ')}]`
    rules.push((v) => (set.has(v as string) ? undefined : text))
  }
  return rules
}

function compile(model: ServiceModel, name: string, cache: Map<string, Check>): Check {
  const hit = cache.get(name)
  if (hit) return hit
  const shape = shapeOf(model, name)
  // Recursive shapes: the slot is filled before the members are compiled.
  let impl: Check = () => undefined
  const check: Check = (v, p, out) => impl(v, p, out)
  cache.set(name, check)
  const own = scalarRules(shape)
  const ownCheck: Check = (v, p, out) => {
    for (const r of own) {
      const c = r(v)
      if (c) out.push(line(show(shape, v), p, c))
    }
  }
  if (shape.type === 'structure') {
    const required = new Set(shape.required ?? [])
    const members = Object.entries(shape.members ?? {}).map(([m, ref]) => ({
      m,
      path: lowerFirst(m),
      required: required.has(m),
      check: compile(model, ref.shape, cache),
    }))
    impl = (v, p, out) => {
      const o = fieldsOf(v)
      for (const x of members) {
        const mv = o[x.m]
        const mp = p ? `${p}.${x.path}` : x.path
        if (mv === undefined || mv === null) {
          if (x.required) out.push(line('null', mp, 'Member must not be null'))
        } else x.check(mv, mp, out)
      }
    }
  } else if (shape.type === 'list') {
    const itemShape = shapeOf(model, (shape.member as ShapeRef).shape)
    const item = compile(model, (shape.member as ShapeRef).shape, cache)
    const scalarItems =
      itemShape.type !== 'structure' && itemShape.type !== 'list' && itemShape.type !== 'map'
    impl = (v, p, out) => {
      ownCheck(v, p, out)
      const items = v as unknown[]
      items.forEach((it, i) => {
        if (it === null || it === undefined)
          out.push(line('null', `${p}.${i + 1}.member`, 'Member must not be null'))
      })
      if (scalarItems) {
        const broken = new Set<string>()
        for (const it of items) {
          if (it === null || it === undefined) continue
          const sub: Violation[] = []
          item(it, p, sub)
          for (const s of sub) broken.add(s.constraint)
        }
        if (broken.size)
          out.push(line(show(shape, v), p, `Member must satisfy constraint: [${[...broken].join(', ')}]`))
      } else
        items.forEach((it, i) => {
          if (it !== null && it !== undefined) item(it, `${p}.${i + 1}.member`, out)
        })
    }
  } else if (shape.type === 'map') {
    const key = compile(model, (shape.key as ShapeRef).shape, cache)
    const value = compile(model, (shape.value as ShapeRef).shape, cache)
    impl = (v, p, out) => {
      ownCheck(v, p, out)
      const keys = new Set<string>()
      const values = new Set<string>()
      for (const [k, val] of Object.entries(fieldsOf(v))) {
        const sk: Violation[] = []
        key(k, p, sk)
        for (const s of sk) keys.add(s.constraint)
        const sv: Violation[] = []
        value(val, `${p}.${k}`, sv)
        for (const s of sv) values.add(s.constraint)
      }
      if (keys.size) out.push(line('', p, `Map keys must satisfy constraint: [${[...keys].join(', ')}]`))
      if (values.size) out.push(line('', p, `Map value must satisfy constraint: [${[...values].join(', ')}]`))
    }
  } else impl = ownCheck
  return check
}

/** The violations of an operation's input (a structure of its model), in model order, one by one. */
export function violationsOf(model: ServiceModel, shapeName: string, input: unknown): Violation[] {
  let cache = compiled.get(model)
  if (!cache) compiled.set(model, (cache = new Map<string, Check>()))
  const out: Violation[] = []
  compile(model, shapeName, cache)(input, '', out)
  return out
}

/** The violations of an operation's input (a structure of its model), in model order, in AWS's words. */
export function violations(model: ServiceModel, shapeName: string, input: unknown): string[] {
  return violationsOf(model, shapeName, input).map(violationText)
}

/** AWS's message for a list of violations. */
export function validationMessage(found: readonly string[]): string {
  return `${found.length} validation error${found.length === 1 ? '' : 's'} detected: ${found.join('; ')}`
}
