/**
 * zod issues → problems a user can act on. zod knows *that* a value is wrong; this module adds
 * *where* (file, line, column, field path), *what the user wrote* (the YAML source text, which
 * matters when YAML read `012345678901` as a number) and *what would be right* (the field's
 * description, the nearest valid key or value).
 */
import type { z } from 'zod'
import type { InputProblem } from './errors.js'
import { formatPath } from './paths.js'
import type { PathSegment } from './paths.js'
import { nearest } from './suggest.js'
import type { Located, ScalarInfo } from './yaml-source.js'

/** Maps field paths to positions: a YAML source, or nothing but the path (TypeScript definitions). */
export interface Locator {
  readonly file: string
  locate(path: readonly PathSegment[], at?: 'value' | 'key'): Located | undefined
  scalar(path: readonly PathSegment[]): ScalarInfo | undefined
}

/** A problem at a field path, before it gets its position. */
export interface PathProblem {
  readonly path: readonly PathSegment[]
  readonly message: string
  /** Report at the key rather than the value (unknown or duplicate keys). */
  readonly at?: 'value' | 'key'
}

/** Gives a path problem its file position. */
export function locateProblem(loc: Locator, p: PathProblem): InputProblem {
  const pos = loc.locate(p.path, p.at)
  return {
    location: {
      file: loc.file,
      ...(pos ? { line: pos.line, column: pos.column } : {}),
      ...(p.path.length ? { path: formatPath(p.path) } : {}),
    },
    message: p.message,
  }
}

/* ---------------------------------------------------------------------------------------------
 * Walking the schema. zod 4 exposes each schema's definition as `_zod.def` (its documented
 * extension point for library authors); only the kinds this schema uses are handled.
 */

interface SchemaDef {
  readonly type: string
  readonly shape?: Readonly<Record<string, SchemaLike>>
  readonly innerType?: SchemaLike
  readonly element?: SchemaLike
  readonly valueType?: SchemaLike
  readonly options?: readonly SchemaLike[]
  readonly discriminator?: string
  readonly in?: SchemaLike
  readonly values?: readonly unknown[]
}
interface SchemaLike {
  readonly _zod: { readonly def: SchemaDef }
  readonly description?: string
}

const WRAPPERS = new Set(['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch', 'nonoptional'])

/** Strips optional/default wrappers, keeping the outermost description (that is the field's). */
function unwrap(s: SchemaLike): { schema: SchemaLike; description: string | undefined } {
  let description = s.description
  let cur = s
  for (;;) {
    const def = cur._zod.def
    const inner = WRAPPERS.has(def.type) ? def.innerType : def.type === 'pipe' ? def.in : undefined
    if (!inner) break
    cur = inner
    description ??= cur.description
  }
  return { schema: cur, description }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Picks the union member that the data is meant for: by discriminator, else by JSON kind. */
function pickMember(s: SchemaLike, data: unknown): SchemaLike | undefined {
  const def = s._zod.def
  if (def.type !== 'union' || !def.options) return s
  if (def.discriminator && isRecord(data)) {
    const want = data[def.discriminator]
    for (const o of def.options) {
      const shape = unwrap(o).schema._zod.def.shape
      const lit = shape?.[def.discriminator]
        ? unwrap(shape[def.discriminator] as SchemaLike).schema
        : undefined
      if (lit?._zod.def.values?.includes(want)) return o
    }
    return undefined
  }
  return def.options.find((o) => kindOfSchema(unwrap(o).schema) === kindOfValue(data))
}

/** The schema (unwrapped) and field description at a path, following the data through unions. */
export function schemaAt(
  root: SchemaLike,
  path: readonly PathSegment[],
  data: unknown,
): { schema: SchemaLike; description: string | undefined } | undefined {
  let cur = unwrap(root)
  let d = data
  for (const seg of path) {
    const member = pickMember(cur.schema, d)
    if (!member) return undefined
    const def = unwrap(member).schema._zod.def
    const next =
      def.type === 'object'
        ? def.shape?.[String(seg)]
        : def.type === 'array'
          ? def.element
          : def.type === 'record'
            ? def.valueType
            : undefined
    if (!next) return undefined
    cur = unwrap(next)
    d = isRecord(d) || Array.isArray(d) ? (d as Record<string, unknown>)[seg as string] : undefined
  }
  const member = pickMember(cur.schema, d)
  return member === cur.schema || !member
    ? cur
    : { schema: unwrap(member).schema, description: cur.description }
}

function kindOfSchema(s: SchemaLike): string {
  const t = s._zod.def.type
  if (t === 'object' || t === 'record') return 'mapping'
  if (t === 'array') return 'list'
  if (t === 'enum' || t === 'literal') return 'string'
  return t
}

/**
 * Every object in the schema with its keys, labelled as a user would find it: `stages[].targets[]`,
 * `source (type: s3)` for the members of a discriminated union.
 */
function objectPaths(root: SchemaLike): Map<string, readonly string[]> {
  const out = new Map<string, readonly string[]>()
  const visit = (s: SchemaLike, at: string, label: string): void => {
    const { schema } = unwrap(s)
    const def = schema._zod.def
    if (def.type === 'object' && def.shape) {
      const keys = Object.keys(def.shape)
      out.set(label, [...(out.get(label) ?? []), ...keys.filter((k) => !out.get(label)?.includes(k))])
      for (const k of keys) {
        const child = at ? `${at}.${k}` : k
        visit(def.shape[k] as SchemaLike, child, `"${child}"`)
      }
    } else if (def.type === 'array' && def.element) visit(def.element, `${at}[]`, `"${at}[]"`)
    else if (def.type === 'union' && def.options)
      for (const o of def.options) {
        const disc = def.discriminator
        const lit = disc ? unwrap(o).schema._zod.def.shape?.[disc] : undefined
        const value = lit ? unwrap(lit).schema._zod.def.values?.[0] : undefined
        visit(o, at, disc && typeof value === 'string' ? `"${at}" with ${disc}: ${value}` : label)
      }
  }
  visit(root, '', 'the top level')
  return out
}

/* ---------------------------------------------------------------------------------------------
 * Issue → message.
 */

type Issue = z.core.$ZodIssue

function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let d = data
  for (const seg of path) {
    if (!isRecord(d) && !Array.isArray(d)) return undefined
    d = (d as Record<string, unknown>)[seg as string]
  }
  return d
}

function kindOfValue(v: unknown): string {
  if (v === null || v === undefined) return 'null'
  if (Array.isArray(v)) return 'list'
  if (typeof v === 'object') return 'mapping'
  return typeof v
}

/** "a mapping", "the string \"x\"", "the number 3": how the user's value reads back. */
function describeValue(v: unknown): string {
  if (Array.isArray(v)) return 'a list'
  if (isRecord(v)) return 'a mapping'
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`
  if (typeof v === 'number') return `the number ${v}`
  if (typeof v === 'boolean') return `the boolean ${v}`
  return 'nothing'
}

const EXPECTED: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list (one "- " item per line, or [a, b])',
  object: 'a mapping (key: value lines)',
  record: 'a mapping (key: value lines)',
}

/** Sentence-ends a description for use after a semicolon. */
function hint(description: string | undefined): string {
  if (!description) return ''
  return ` — ${description.charAt(0).toLowerCase()}${description.slice(1).replace(/\.$/, '')}`
}

/** What the YAML source says about a number or boolean that should have been a string. */
function unquotedMessage(path: readonly PathSegment[], s: ScalarInfo): string {
  const last = path[path.length - 1]
  const isAccount = last === 'account'
  const kind = typeof s.value === 'boolean' ? 'boolean' : s.value === null ? 'null' : 'number'
  const form =
    s.format === 'OCT'
      ? 'octal '
      : s.format === 'HEX'
        ? 'hexadecimal '
        : s.format === 'EXP'
          ? 'exponent-form '
          : s.format === 'BIN'
            ? 'binary '
            : ''
  const reads =
    kind === 'number'
      ? `the ${form}number ${String(s.value)}`
      : kind === 'boolean'
        ? `the boolean ${String(s.value)}`
        : 'null'
  if (isAccount) {
    const lost = /^0\d*$/.test(s.source) ? ' and the leading zero is lost' : ''
    const fix = /^\d{12}$/.test(s.source)
      ? `quote it: "${s.source}"`
      : 'write the account id as 12 digits in quotes, such as "111111111111"'
    return `account ${s.source} is unquoted, so YAML reads it as ${reads}${lost}; ${fix}`
  }
  return `expected a string, but YAML reads the unquoted ${s.source} as ${reads}; quote it: "${s.source}"`
}

interface Context {
  readonly root: SchemaLike
  readonly data: unknown
  readonly loc: Locator
  readonly objectPaths: Map<string, readonly string[]>
}

/** Converts zod issues into located problems, one or more per issue. */
export function issueProblems(
  root: z.ZodType,
  issues: readonly Issue[],
  data: unknown,
  loc: Locator,
): InputProblem[] {
  const schema = root as unknown as SchemaLike
  const ctx: Context = { root: schema, data, loc, objectPaths: objectPaths(schema) }
  // "unknown key stak; did you mean stack?" already says that stack is missing: drop the
  // missing-field issue it explains, so each mistake is reported once.
  const explained = new Set<string>()
  for (const i of issues)
    if (i.code === 'unrecognized_keys')
      for (const k of i.keys) {
        const guess = suggestKey(ctx, i.path as PathSegment[], k)
        if (guess) explained.add(formatPath([...(i.path as PathSegment[]), guess]))
      }
  return issues
    .filter(
      (i) =>
        !(
          i.code === 'invalid_type' &&
          valueAt(data, i.path as PathSegment[]) === undefined &&
          explained.has(formatPath(i.path as PathSegment[]))
        ),
    )
    .flatMap((i) => convert(ctx, i, []))
    .map((p) => locateProblem(loc, p))
}

/** The valid keys of the object at `parent` (without `$schema`, which no one misspells into). */
function validKeys(ctx: Context, parent: readonly PathSegment[]): string[] {
  const shape = schemaAt(ctx.root, parent, ctx.data)?.schema._zod.def.shape
  return shape ? Object.keys(shape).filter((k) => k !== '$schema') : []
}

function suggestKey(ctx: Context, parent: readonly PathSegment[], key: string): string | undefined {
  return nearest(key, validKeys(ctx, parent))
}

function convert(ctx: Context, issue: Issue, prefix: readonly PathSegment[]): PathProblem[] {
  const path = [...prefix, ...(issue.path as PathSegment[])]
  const actual = valueAt(ctx.data, path)
  const field = schemaAt(ctx.root, path, ctx.data)
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((k) => unknownKey(ctx, path, k))
    case 'invalid_type':
      return [invalidType(ctx, path, issue.expected, actual, field?.description)]
    case 'invalid_value': {
      const values = issue.values.map((v) => String(v))
      const guess = typeof actual === 'string' ? nearest(actual, values) : undefined
      const list = values.map((v) => JSON.stringify(v)).join(', ')
      return [
        {
          path,
          message: `${actual === undefined ? 'no value' : JSON.stringify(actual)} is not valid here; ${
            guess ? `did you mean ${JSON.stringify(guess)}? ` : ''
          }expected ${values.length === 1 ? list : `one of ${list}`}`,
        },
      ]
    }
    case 'invalid_union':
      return invalidUnion(ctx, issue, path, actual, field?.description)
    case 'invalid_key':
      return issue.issues.map((inner) => ({
        path,
        at: 'key' as const,
        message: `invalid key ${JSON.stringify(path[path.length - 1])}: ${inner.message}`,
      }))
    case 'invalid_format': {
      if (path[path.length - 1] === 'account' && typeof actual === 'string' && /^\d+$/.test(actual))
        return [
          {
            path,
            message: `"${actual}" has ${actual.length} digits; an AWS account id has exactly 12 (is a digit missing or extra?)`,
          },
        ]
      return [{ path, message: `invalid value ${JSON.stringify(actual)}: ${issue.message}` }]
    }
    case 'too_small':
    case 'too_big':
      return [{ path, message: sizeMessage(issue, actual) }]
    default:
      return [{ path, message: issue.message }]
  }
}

/**
 * Length and count limits. The schema's own message says the rule when it has one; the user's
 * value and its size say by how much it misses.
 */
function sizeMessage(issue: Extract<Issue, { code: 'too_small' | 'too_big' }>, actual: unknown): string {
  const limit = issue.code === 'too_small' ? issue.minimum : issue.maximum
  const custom = !/^Too (small|big)/.test(issue.message)
  if (typeof actual === 'string') {
    if (actual.length === 0) return custom ? issue.message : 'must not be empty'
    const rule = custom
      ? issue.message
      : `must be ${issue.code === 'too_small' ? 'at least' : 'at most'} ${limit} characters`
    return `${JSON.stringify(actual)} has ${actual.length} characters; ${rule}`
  }
  if (Array.isArray(actual)) {
    const rule = custom
      ? issue.message
      : `needs ${issue.code === 'too_small' ? 'at least' : 'at most'} ${limit} items`
    return actual.length === 0 || custom ? rule : `has ${actual.length} items; ${rule}`
  }
  return custom ? issue.message : issue.message.charAt(0).toLowerCase() + issue.message.slice(1)
}

function unknownKey(ctx: Context, parent: readonly PathSegment[], key: string): PathProblem {
  const path = [...parent, key]
  const valid = validKeys(ctx, parent)
  const guess = suggestKey(ctx, parent, key)
  if (guess) return { path, at: 'key', message: `unknown key "${key}"; did you mean "${guess}"?` }
  // A key that is right, but in the wrong place, is a common mistake: say where it belongs.
  const elsewhere = [...ctx.objectPaths].filter(([, keys]) => keys.includes(key)).map(([label]) => label)
  if (elsewhere.length > 0)
    return {
      path,
      at: 'key',
      message: `"${key}" does not belong here; it is a key of ${elsewhere.join(' and of ')}. Keys here: ${valid.join(', ')}`,
    }
  const own = parent.length === 0 ? ' (and your own keys starting with "x-", for YAML anchors)' : ''
  return { path, at: 'key', message: `unknown key "${key}"; valid keys here: ${valid.join(', ')}${own}` }
}

function invalidType(
  ctx: Context,
  path: readonly PathSegment[],
  expected: string,
  actual: unknown,
  description: string | undefined,
): PathProblem {
  const name = path[path.length - 1]
  if (actual === undefined)
    return { path, message: `missing required field "${String(name)}"${hint(description)}` }
  const want = EXPECTED[expected] ?? expected
  if (actual === null)
    return {
      path,
      message: `"${String(name)}" has no value; expected ${want}${hint(description)}`,
    }
  const scalar = ctx.loc.scalar(path)
  if (expected === 'string' && scalar && scalar.type === 'PLAIN' && typeof actual !== 'object')
    return { path, message: unquotedMessage(path, scalar) }
  if (expected === 'string' && isRecord(actual) && path.includes('commands'))
    return {
      path,
      message: 'this command contains ": ", so YAML reads it as a mapping; quote the whole command',
    }
  if (expected === 'boolean' && typeof actual === 'string')
    return {
      path,
      message: `expected true or false, got ${describeValue(actual)} (YAML reads only unquoted true and false as booleans)`,
    }
  return { path, message: `expected ${want}, got ${describeValue(actual)}${hint(description)}` }
}

const SOURCE_TYPE_HINTS: Readonly<Record<string, string>> = {
  github: 'connection',
  gitlab: 'connection',
  bitbucket: 'connection',
  codestar: 'connection',
  codeconnections: 'connection',
  codestarconnections: 'connection',
}

function invalidUnion(
  ctx: Context,
  issue: Extract<Issue, { code: 'invalid_union' }>,
  path: readonly PathSegment[],
  actual: unknown,
  description: string | undefined,
): PathProblem[] {
  const disc = (issue as { discriminator?: string }).discriminator
  if (disc !== undefined) {
    // zod puts the discriminator in the path when its value matches no member.
    const options = ((issue as { options?: unknown[] }).options ?? []).map(String)
    const list = options.map((o) => JSON.stringify(o)).join(', ')
    const owner = path[path.length - 1] === disc ? path.slice(0, -1) : path
    const ownerName = String(owner[owner.length - 1] ?? 'value')
    const value = valueAt(ctx.data, [...owner, disc])
    if (!isRecord(valueAt(ctx.data, owner)))
      return [{ path: owner, message: `expected ${EXPECTED.object}${hint(description)}` }]
    if (value === undefined)
      return [
        {
          path: [...owner, disc],
          message: `missing required field "${disc}" — the kind of ${ownerName}, one of ${list}`,
        },
      ]
    const text = typeof value === 'string' ? value : JSON.stringify(value)
    const mapped = SOURCE_TYPE_HINTS[text.toLowerCase()]
    if (mapped)
      return [
        {
          path: [...owner, disc],
          message: `there is no ${ownerName} ${disc} ${JSON.stringify(value)}: GitHub, GitLab and Bitbucket repositories come through a CodeConnections connection, so write ${disc}: ${mapped} with connectionArn and repository ("owner/name")`,
        },
      ]
    const guess = nearest(text, options)
    return [
      {
        path: [...owner, disc],
        message: `unknown ${ownerName} ${disc} ${JSON.stringify(value)}; ${guess ? `did you mean "${guess}"? ` : ''}expected one of ${list}`,
      },
    ]
  }
  // A plain union (true | { … }, string | list): report the member the value's kind was meant
  // for; when no member takes that kind, say which kinds would do.
  const members = issue.errors
  const matching = members.find(
    (errs) => !(errs.length === 1 && errs[0]?.code === 'invalid_type' && errs[0].path.length === 0),
  )
  if (matching) return matching.flatMap((i) => convert(ctx, i, path))
  // A scalar YAML read as a number or boolean where a string would do: say to quote it.
  const scalar = ctx.loc.scalar(path)
  if (
    scalar &&
    scalar.type === 'PLAIN' &&
    typeof actual !== 'object' &&
    typeof actual !== 'string' &&
    members.some((errs) => errs[0]?.code === 'invalid_type' && errs[0].expected === 'string')
  )
    return [{ path, message: unquotedMessage(path, scalar) }]
  const kinds = members
    .map((errs) =>
      errs[0]?.code === 'invalid_type' ? (EXPECTED[errs[0].expected] ?? errs[0].expected) : undefined,
    )
    .filter((k): k is string => k !== undefined)
  return [
    {
      path,
      message: `expected ${kinds.join(', or ')}, got ${describeValue(actual)}${hint(description)}`,
    },
  ]
}
