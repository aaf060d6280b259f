/**
 * CloudFormation templates as YAML (or JSON) with the short-form intrinsic tags (`!Ref`, `!Sub`,
 * `!GetAtt`, …): parsing into the long form (`{ "Fn::Sub": … }`) with positions for errors, and
 * writing the long form back as readable short-form YAML.
 *
 * Short forms: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html
 * (each function's page shows its "Syntax for the short form").
 */
import YAML, { isMap, isScalar, isSeq, Scalar, YAMLMap, YAMLSeq } from 'yaml'
import type { Document, Node, ParsedNode, ScalarTag, CollectionTag } from 'yaml'
import { CrosspipeError } from './errors.js'
import type { InputProblem } from './errors.js'

/** Short tag name → long-form key. `Ref` and `Condition` are not `Fn::`-prefixed. */
const TAGS: Readonly<Record<string, string>> = {
  Ref: 'Ref',
  Condition: 'Condition',
  Sub: 'Fn::Sub',
  GetAtt: 'Fn::GetAtt',
  Join: 'Fn::Join',
  Select: 'Fn::Select',
  Split: 'Fn::Split',
  If: 'Fn::If',
  Equals: 'Fn::Equals',
  And: 'Fn::And',
  Or: 'Fn::Or',
  Not: 'Fn::Not',
  FindInMap: 'Fn::FindInMap',
  Base64: 'Fn::Base64',
  GetAZs: 'Fn::GetAZs',
  ImportValue: 'Fn::ImportValue',
  Cidr: 'Fn::Cidr',
  Transform: 'Fn::Transform',
  Length: 'Fn::Length',
  ToJsonString: 'Fn::ToJsonString',
  GetParam: 'Fn::GetParam',
  ForEach: 'Fn::ForEach',
}
const LONG_TO_SHORT: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(TAGS).map(([short, long]) => [long, short]),
)

/** The yaml library's custom tags: each short form on a scalar, a sequence and a mapping. */
function customTags(): (ScalarTag | CollectionTag)[] {
  const tags: (ScalarTag | CollectionTag)[] = []
  for (const [short, long] of Object.entries(TAGS)) {
    const tag = `!${short}`
    tags.push({
      tag,
      identify: () => false,
      resolve: (value: string) => {
        // `!GetAtt Resource.Attribute` is the one scalar short form that becomes a list; the
        // attribute may itself contain dots (`Endpoint.Address`), so split at the first dot only.
        if (short === 'GetAtt') {
          const dot = value.indexOf('.')
          return { [long]: dot < 0 ? [value] : [value.slice(0, dot), value.slice(dot + 1)] }
        }
        return { [long]: value }
      },
    })
    tags.push({
      tag,
      collection: 'seq',
      identify: () => false,
      resolve: (seq: YAMLSeq) => ({ [long]: seq.toJSON() as unknown }),
    } as unknown as CollectionTag)
    tags.push({
      tag,
      collection: 'map',
      identify: () => false,
      resolve: (map: YAMLMap) => ({ [long]: map.toJSON() as unknown }),
    } as unknown as CollectionTag)
  }
  return tags
}
const CUSTOM_TAGS = customTags()

/**
 * How deep the values of a template may nest. Hand-written templates stay near 20 levels (a policy
 * condition inside a resource's properties); AWS documents no limit, but a template nested thousands
 * deep (`Fn::Join` in `Fn::Join` …) would overflow the stack of every recursive reader, so it is
 * refused as bad input with this limit named. Also the budget of YAML aliases: a "billion laughs"
 * document expands a few aliases into millions of values.
 */
export const MAX_TEMPLATE_DEPTH = 100
const MAX_ALIAS_COUNT = 100

/** Why a template nests too deep, for messages. */
export function tooDeepMessage(): string {
  return `values are nested more than ${MAX_TEMPLATE_DEPTH} levels deep (intrinsic functions, lists and mappings inside each other); crosspipe reads templates up to that depth`
}

/**
 * The path to the first value nested deeper than {@link MAX_TEMPLATE_DEPTH}, or undefined.
 * Iterative, so that it cannot overflow the stack it protects.
 */
export function tooDeepPath(value: unknown): (string | number)[] | undefined {
  const stack: { v: unknown; path: (string | number)[] }[] = [{ v: value, path: [] }]
  while (stack.length > 0) {
    const { v, path } = stack.pop()!
    if (v === null || typeof v !== 'object') continue
    if (path.length >= MAX_TEMPLATE_DEPTH) return path
    if (Array.isArray(v)) v.forEach((x, i) => stack.push({ v: x, path: [...path, i] }))
    else
      for (const [k, x] of Object.entries(v as Record<string, unknown>))
        stack.push({ v: x, path: [...path, k] })
  }
  return undefined
}

/**
 * The offset where flow collections (`[`, `{`) open deeper than {@link MAX_TEMPLATE_DEPTH}, found by
 * one linear scan before the parser recurses into them. Quoted text and comments are skipped; the
 * count is of brackets, so it is a bound that only pathological text reaches.
 */
export function flowTooDeep(text: string): number | undefined {
  let depth = 0
  let prev = '\n'
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (c === '#' && (prev === ' ' || prev === '\t' || prev === '\n')) {
      const eol = text.indexOf('\n', i)
      if (eol < 0) break
      i = eol
      prev = '\n'
      continue
    }
    if ((c === '"' || c === "'") && /[\s[{,:]/.test(prev)) {
      // A quoted scalar: skip to its closing quote (`\"` escapes in double quotes, `''` in single).
      let j = i + 1
      for (; j < text.length; j++) {
        if (c === '"' && text[j] === '\\') j++
        else if (text[j] === c) {
          if (c === "'" && text[j + 1] === "'") j++
          else break
        }
      }
      i = j
      prev = c
      continue
    }
    if (c === '[' || c === '{') {
      if (++depth > MAX_TEMPLATE_DEPTH) return i
    } else if ((c === ']' || c === '}') && depth > 0) depth--
    prev = c
  }
  return undefined
}

/** A template read from text, with a way back from a path to the place it was written. */
export interface ParsedTemplate {
  /** The template in long form, as CloudFormation's JSON would have it. */
  readonly body: Record<string, unknown>
  /** The file the template came from, for messages. */
  readonly file: string
  /** Line and column (1-based) of the value at a path such as `['Resources', 'Key', 'Properties']`. */
  locate(path: readonly (string | number)[]): { line: number; column: number } | undefined
  /** Problems CloudFormation accepts but a reader should know about (duplicate keys, when warned of). */
  readonly warnings?: readonly TemplateWarning[]
}

/** A problem in a template that does not stop it being read. */
export interface TemplateWarning {
  readonly file: string
  readonly line: number
  readonly column: number
  /** The path of the mapping that holds the problem, as `ParsedTemplate.locate` takes it. */
  readonly path: readonly (string | number)[]
  /** The key that is repeated. */
  readonly key: string
  readonly message: string
}

/**
 * Where the content of a YAML text starts: the offset after its leading comment and blank lines
 * (0 when it has none). Before the first content line no scalar can be open, so a line whose first
 * character after spaces and tabs is `#` is a comment there, and comments carry no value: two texts
 * that differ only up to this offset parse to the same value (positions aside). synth writes one
 * template per target account that differs from its siblings only in such a header, so readers of
 * many templates (the deploy plan, the sandbox's CloudFormation) parse each content once.
 *
 * Line breaks are YAML's: LF, CRLF and a lone CR (https://yaml.org/spec/1.2.2/#54-line-break-characters).
 */
export function leadingCommentsEnd(text: string): number {
  let lineStart = 0
  let i = 0
  for (;;) {
    while (text[i] === ' ' || text[i] === '\t') i++
    const c = text[i]
    if (c === '#') while (i < text.length && text[i] !== '\n' && text[i] !== '\r') i++
    else if (c !== '\n' && c !== '\r') return lineStart
    if (i >= text.length) return text.length
    i += text[i] === '\r' && text[i + 1] === '\n' ? 2 : 1
    lineStart = i
  }
}

/**
 * Template bodies parsed once per content, for one run that reads the same templates more than
 * once: deploy's plan reads every template's parameters and outputs, and its report of the
 * pipelines it started reads the pipeline template again, which grows with every target (36 KB
 * for 20 targets). Keyed by the text after its header comments ({@link leadingCommentsEnd}), so
 * synth's per-target templates share one parse. The bodies are shared: callers only read them. A
 * text that cannot be parsed is not kept; each call throws parseTemplate's error, with its file.
 */
export class TemplateBodies {
  private readonly bodies = new Map<string, Record<string, unknown>>()

  /** The body of `text` (parseTemplate's), parsed at the first call for its content. */
  body(text: string, file: string): Record<string, unknown> {
    const content = text.slice(leadingCommentsEnd(text))
    let body = this.bodies.get(content)
    if (body === undefined) {
      // Duplicate keys as CloudFormation reads them (the last value is kept), as check reads them.
      body = parseTemplate(text, file, { duplicateKeys: 'warn' }).body
      this.bodies.set(content, body)
    }
    return body
  }
}

/** Options for {@link parseTemplate}. */
export interface ParseTemplateOptions {
  /**
   * `error` (the default): a duplicate mapping key is bad input. `warn`: read it as CloudFormation
   * does — the last value of the key is the one kept — and report both places in `warnings`.
   */
  readonly duplicateKeys?: 'error' | 'warn'
}

/**
 * Parses a CloudFormation template written in YAML (short or long form) or JSON (JSON is YAML).
 * Throws `CrosspipeError('invalid-template')` with file, line and column for syntax errors,
 * duplicate keys and a document that is not a mapping.
 */
export function parseTemplate(text: string, file: string, opts: ParseTemplateOptions = {}): ParsedTemplate {
  const warn = opts.duplicateKeys === 'warn'
  const lineOf = lineCounter(text)
  const deepAt = flowTooDeep(text)
  if (deepAt !== undefined)
    throw new CrosspipeError('invalid-template', `${file}: not a valid template`, [
      { location: { file, ...lineOf(deepAt) }, message: tooDeepMessage() },
    ])
  const doc = YAML.parseDocument(text, {
    customTags: CUSTOM_TAGS,
    uniqueKeys: !warn,
    prettyErrors: false,
    keepSourceTokens: false,
  })
  const problems: InputProblem[] = []
  for (const e of doc.errors) {
    const pos = lineOf(e.pos[0])
    problems.push({ location: { file, ...pos }, message: firstLine(e.message) })
  }
  if (problems.length) throw new CrosspipeError('invalid-template', `${file}: not a valid template`, problems)
  let body: unknown
  try {
    body = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT })
  } catch (e) {
    // The yaml library refuses an alias "bomb" (ReferenceError) and unresolvable aliases.
    throw new CrosspipeError('invalid-template', `${file}: not a valid template`, [
      {
        location: { file, line: 1, column: 1 },
        message: `the YAML cannot be read: ${(e as Error).message} (aliases may expand to at most ${MAX_ALIAS_COUNT} values)`,
      },
    ])
  }
  const deep = tooDeepPath(body)
  if (deep) {
    // The deepest written node that can be found (short-form tags add levels the text does not have).
    let at: { line: number; column: number } | undefined
    for (let n = deep.length; n > 0 && !at; n--) {
      const range = (doc.getIn(deep.slice(0, n), true) as ParsedNode | undefined)?.range
      if (range) at = lineOf(range[0])
    }
    throw new CrosspipeError('invalid-template', `${file}: not a valid template`, [
      {
        location: { file, ...(at ?? { line: 1, column: 1 }), path: deep.slice(0, 6).join('.') + '…' },
        message: tooDeepMessage(),
      },
    ])
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new CrosspipeError('invalid-template', `${file}: not a valid template`, [
      { location: { file, line: 1, column: 1 }, message: 'a template is a mapping with a Resources section' },
    ])
  }
  let untagged: Document.Parsed | undefined
  return {
    body: body as Record<string, unknown>,
    file,
    ...(warn ? { warnings: duplicateKeys(doc.contents, [], file, lineOf) } : {}),
    locate: (path) => {
      const node = doc.getIn(path, true) as Node | undefined
      const range = node && (node as ParsedNode).range
      if (range) return lineOf(range[0])
      // A short-form tag (`!Join [ … ]`) resolves to a value whose parts have no place in the
      // document: find the deepest written node in the text read without the tags, where
      // `!Join` is a tagged list and the path's `Fn::Join` names that same node.
      untagged ??= YAML.parseDocument(text, { uniqueKeys: false, prettyErrors: false, logLevel: 'silent' })
      let at: Node | null | undefined = untagged.contents
      let found: Node | undefined
      for (const k of path) {
        if (!at) break
        const here: Node = at
        const tag: string | undefined = here.tag
        if (tag?.startsWith('!') && TAGS[tag.slice(1)] === k) continue
        found = here
        at = isMap(here) || isSeq(here) ? here.get(k, true) : undefined
      }
      const r = ((at ?? found) as ParsedNode | undefined)?.range
      return r ? lineOf(r[0]) : undefined
    },
  }
}

/**
 * Every key that a mapping repeats, with both places. The `yaml` library, like the JSON and YAML
 * readers CloudFormation documents templates as, keeps the last value of a repeated key.
 */
function duplicateKeys(
  node: unknown,
  path: (string | number)[],
  file: string,
  lineOf: (offset: number) => { line: number; column: number },
): TemplateWarning[] {
  const out: TemplateWarning[] = []
  if (isMap(node)) {
    const seen = new Map<string, { line: number; column: number }>()
    for (const pair of node.items) {
      const k = isScalar(pair.key) ? String(pair.key.value) : undefined
      const range = (pair.key as ParsedNode | null)?.range
      if (k !== undefined && range) {
        const here = lineOf(range[0])
        const first = seen.get(k)
        if (first)
          out.push({
            file,
            ...here,
            path,
            key: k,
            message: `duplicate key "${k}" at ${file}:${here.line}:${here.column} (first at ${file}:${first.line}:${first.column}); CloudFormation reads the last one, so the value at line ${first.line} is ignored. Remove one.`,
          })
        else seen.set(k, here)
      }
      if (k !== undefined) out.push(...duplicateKeys(pair.value, [...path, k], file, lineOf))
    }
  } else if (isSeq(node))
    node.items.forEach((x, i) => out.push(...duplicateKeys(x, [...path, i], file, lineOf)))
  return out
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s
}

/** Maps a character offset to a 1-based line and column. */
function lineCounter(text: string): (offset: number) => { line: number; column: number } {
  const starts = [0]
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1)
  return (offset) => {
    let lo = 0
    let hi = starts.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (starts[mid]! <= offset) lo = mid
      else hi = mid - 1
    }
    return { line: lo + 1, column: offset - starts[lo]! + 1 }
  }
}

/** Comments attached to a template when it is written: path (joined with `.`) → comment text. */
export type TemplateComments = Readonly<Record<string, string>>

/** Options for {@link stringifyTemplate}. */
export interface StringifyOptions {
  /** `yaml` (short-form tags, the default) or `json` (long form, 2-space indent). */
  readonly format?: 'yaml' | 'json'
  /** Comments to place before the keys at these paths (YAML only), e.g. `Resources.ArtifactKey`. */
  readonly comments?: TemplateComments
  /** A comment at the top of the file (YAML only). */
  readonly header?: string
}

/**
 * Writes a long-form template as YAML with short-form tags (like hand-written templates), or as
 * JSON. Deterministic: the same object gives the same bytes. Strings that a YAML 1.1 reader would
 * take for another type (`yes`, `2012-10-17`, `0123`) are quoted, because CloudFormation and
 * cfn-lint read YAML 1.1.
 */
export function stringifyTemplate(
  body: Readonly<Record<string, unknown>>,
  opts: StringifyOptions = {},
): string {
  if (opts.format === 'json') return JSON.stringify(body, null, 2) + '\n'
  const doc = new YAML.Document(null, { version: '1.1' })
  doc.contents = toNode(doc, body, [], opts.comments ?? {})
  if (opts.header) doc.commentBefore = opts.header.replace(/^/gm, ' ')
  return doc.toString({ lineWidth: 0, indentSeq: true, singleQuote: false })
}

function toNode(doc: Document, value: unknown, path: string[], comments: TemplateComments): Node {
  if (Array.isArray(value)) {
    const seq = new YAMLSeq()
    value.forEach((v, i) => seq.items.push(toNode(doc, v, [...path, String(i)], comments)))
    return seq
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
    if (entries.length === 1) {
      const [key, inner] = entries[0]!
      const short = LONG_TO_SHORT[key]
      if (short !== undefined && short !== 'ForEach') {
        let node: Node
        // `!GetAtt A.B` reads better than a two-item list, and is equivalent.
        if (short === 'GetAtt' && Array.isArray(inner) && inner.every((x) => typeof x === 'string')) {
          node = doc.createNode(inner.join('.'))
        } else {
          node = toNode(doc, inner, path, comments)
        }
        node.tag = `!${short}`
        if (isSeq(node) || isMap(node)) node.flow = isSeq(node) && node.items.every((i) => isScalar(i))
        return node
      }
    }
    const map = new YAMLMap()
    for (const [k, v] of entries) {
      const keyNode = new Scalar(k)
      const childPath = [...path, k]
      const c = comments[childPath.join('.')]
      if (c) keyNode.commentBefore = c.replace(/^/gm, ' ')
      map.items.push(doc.createPair(keyNode, toNode(doc, v, childPath, comments)))
    }
    return map
  }
  return doc.createNode(value)
}
