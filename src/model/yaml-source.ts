/**
 * Reading `crosspipe.yml` with positions: the `yaml` package's AST keeps every node's source
 * range, so a problem found later in the plain data (by zod or a semantic rule) can be reported at
 * the line and column of the value — or of its key — that caused it.
 *
 * Problems the data alone cannot show are found here, on the AST: syntax errors, duplicate keys
 * (YAML would silently keep the last one), several documents in one file, tags, and mapping keys
 * that YAML turned into numbers.
 */
import YAML, { isAlias, isMap, isPair, isScalar, isSeq, LineCounter } from 'yaml'
import type { Document, Node, Pair } from 'yaml'
import { flowTooDeep, MAX_TEMPLATE_DEPTH } from './cfn-yaml.js'
import type { InputProblem } from './errors.js'
import { formatPath } from './paths.js'
import type { PathSegment } from './paths.js'

/** A scalar as written in the file: its source text and what YAML made of it. */
export interface ScalarInfo {
  /** The text in the file (without quotes for quoted scalars). */
  readonly source: string
  /** The value YAML resolved it to. */
  readonly value: unknown
  /** `PLAIN`, `QUOTE_DOUBLE`, … — only plain (unquoted) scalars are resolved to numbers and booleans. */
  readonly type: string | undefined
  /** `OCT`, `HEX`, `EXP` for numbers written in those forms. */
  readonly format: string | undefined
}

/** Where a path leads in the document. */
export interface Located {
  readonly line: number
  readonly column: number
}

/** A parsed document that maps field paths back to file positions. */
export interface YamlSource {
  readonly file: string
  /** The document as plain data (what the schema validates). */
  readonly data: unknown
  /**
   * The position of the value at `path`, or of its key when `at` is `'key'`. When the path does
   * not exist (a missing field), the position of the deepest part that does — the key of the
   * mapping the field is missing from.
   */
  locate(path: readonly PathSegment[], at?: 'value' | 'key'): Located
  /** The scalar at `path`, when there is one. */
  scalar(path: readonly PathSegment[]): ScalarInfo | undefined
}

/** The result of reading: a source to validate, or the problems that prevent it. */
export type ReadResult =
  | { readonly ok: true; readonly source: YamlSource; readonly problems: readonly InputProblem[] }
  | { readonly ok: false; readonly problems: readonly InputProblem[] }

/**
 * Extra words for the `yaml` package's errors, whose own message says what the parser saw rather
 * than what to do. Matched on code and message, because one code covers different mistakes.
 */
const SYNTAX_HINTS: readonly { code: string; message?: RegExp; hint: string }[] = [
  { code: 'BLOCK_AS_IMPLICIT_KEY', hint: 'a value that contains ": " must be quoted' },
  { code: 'MULTILINE_IMPLICIT_KEY', hint: 'a key must fit on one line and end with ":" — is a ":" missing?' },
  { code: 'MISSING_CHAR', message: /quote/i, hint: 'close the quoted string on the line where it starts' },
  { code: 'MISSING_CHAR', message: /map values/i, hint: 'a key must be followed by ":"' },
  { code: 'TAB_AS_INDENT', hint: 'YAML indents with spaces, not tabs' },
  {
    code: 'BAD_INDENT',
    message: /flow/i,
    hint: 'close the [ or { on the same item, or indent the continuation lines',
  },
  { code: 'BAD_INDENT', hint: 'items of one mapping or list start in the same column' },
  {
    code: 'UNEXPECTED_TOKEN',
    message: /seq-ind/,
    hint: 'a list item ("- ") starts on its own line, below its key',
  },
]

function syntaxHint(code: string, message: string): string | undefined {
  return SYNTAX_HINTS.find((h) => h.code === code && (!h.message || h.message.test(message)))?.hint
}

const PARSE_OPTIONS = {
  prettyErrors: false,
  // Duplicate keys are found by `checkKeys`, which can say where the first one is.
  uniqueKeys: false,
  // `<<: *defaults` lets stages share settings; YAML 1.2 dropped merge keys, most tools keep them.
  merge: true,
} as const

/** Parses `text` (the content of `file`) into a {@link YamlSource}, or the problems that stop it. */
export function readYaml(text: string, file: string): ReadResult {
  // The parser recurses into nested flow collections: refuse absurd nesting before it overflows.
  const deepAt = flowTooDeep(text)
  if (deepAt !== undefined)
    return {
      ok: false,
      problems: [
        {
          location: { file, ...offsetPos(text, deepAt) },
          message: `lists and mappings are nested more than ${MAX_TEMPLATE_DEPTH} levels deep here; a pipeline definition needs a few`,
        },
      ],
    }
  const lineCounter = new LineCounter()
  const docs = YAML.parseAllDocuments(text, { ...PARSE_OPTIONS, lineCounter })
  const pos = (offset: number): Located => {
    const { line, col } = lineCounter.linePos(offset)
    return { line, column: col }
  }
  const problem = (offset: number, message: string, path?: readonly PathSegment[]): InputProblem => ({
    location: { file, ...pos(offset), ...(path?.length ? { path: formatPath(path) } : {}) },
    message,
  })

  if (!Array.isArray(docs)) return { ok: false, problems: [emptyProblem(file)] }
  const first = docs[0]
  if (!first) return { ok: false, problems: [emptyProblem(file)] }

  const problems: InputProblem[] = []
  for (const doc of docs) {
    for (const e of doc.errors) {
      const hint = syntaxHint(e.code, e.message)
      problems.push(problem(e.pos[0], `invalid YAML: ${lowerFirst(e.message)}${hint ? ` (${hint})` : ''}`))
    }
  }
  if (problems.length > 0) return { ok: false, problems }

  const second = docs[1]
  if (second)
    return {
      ok: false,
      problems: [
        problem(
          second.range[0],
          'a second YAML document starts here; crosspipe.yml holds one pipeline, so remove the "---" and what follows (or move it to its own file)',
        ),
      ],
    }

  const doc = first
  const root = doc.contents
  if (root === null || (isScalar(root) && root.value === null))
    return { ok: false, problems: [emptyProblem(file)] }
  if (!isMap(root)) {
    const what = isSeq(root) ? 'a list' : 'a single value'
    return {
      ok: false,
      problems: [
        problem(
          root.range?.[0] ?? 0,
          `the file holds ${what}; a pipeline definition is a mapping of keys such as "name:", "ci:", "source:" and "stages:" (run \`crosspipe init\` for an example)`,
        ),
      ],
    }
  }

  for (const w of doc.warnings) {
    if (w.code === 'TAG_RESOLVE_FAILED') {
      const tag = /!\S*/.exec(w.message)?.[0] ?? 'this tag'
      problems.push(
        problem(
          w.pos[0],
          `the tag ${tag} has no meaning in crosspipe.yml; write a plain value (CloudFormation functions such as !Ref belong in the application template)`,
        ),
      )
    } else problems.push(problem(w.pos[0], `YAML: ${lowerFirst(w.message)}`))
  }
  checkKeys(doc, root, [], { problem, pos }, problems)

  // An alias without an anchor before it has no value; the plain data cannot be made.
  const unresolved: InputProblem[] = []
  YAML.visit(doc, {
    Alias(_, alias) {
      if (alias.resolve(doc) === undefined)
        unresolved.push(
          problem(
            alias.range?.[0] ?? 0,
            `the alias *${alias.source} refers to no anchor; define &${alias.source} on a value above it (or quote the text if "*" was meant literally)`,
          ),
        )
    },
  })
  if (unresolved.length > 0) return { ok: false, problems: [...problems, ...unresolved] }

  let data: unknown
  try {
    // The alias limit keeps a "billion laughs" file from exhausting memory.
    data = doc.toJS({ maxAliasCount: 1000 })
  } catch (err) {
    return {
      ok: false,
      problems: [...problems, problem(0, `the YAML cannot be read: ${lowerFirst((err as Error).message)}`)],
    }
  }
  const source: YamlSource = {
    file,
    data,
    locate(path, at = 'value') {
      const found = find(doc, path)
      const complete = found.depth === path.length
      // A missing field is reported at the key of the mapping it is missing from, where the
      // user will add it; a null value (`key:` with nothing after it) at its key.
      const useKey = !complete || at === 'key' || (isScalar(found.node) && found.node.value === null)
      const node = useKey && found.key ? found.key : found.node
      return pos(node?.range?.[0] ?? 0)
    },
    scalar(path) {
      const found = find(doc, path)
      if (found.depth !== path.length || !isScalar(found.node)) return undefined
      const n = found.node
      return {
        source: n.source ?? String(n.value),
        value: n.value,
        type: n.type,
        format: n.format,
      }
    },
  }
  return { ok: true, source, problems }
}

function emptyProblem(file: string): InputProblem {
  return {
    location: { file, line: 1, column: 1 },
    message:
      'the file is empty; a pipeline definition needs at least "name", "ci", "source" and "stages" (run `crosspipe init` for an example)',
  }
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1)
}

/** The string a key becomes in the plain data (as `toJS` makes it). */
function keyString(key: unknown): string | undefined {
  const k = isScalar(key) ? key.value : key
  if (typeof k === 'string') return k
  if (typeof k === 'number' || typeof k === 'boolean' || typeof k === 'bigint') return String(k)
  if (k === null) return ''
  return undefined
}

function isMergeKey(key: unknown): boolean {
  return isScalar(key) && typeof key.value === 'symbol'
}

/** Walks every mapping for duplicate keys and for keys that YAML read as something other than text. */
function checkKeys(
  doc: Document,
  node: unknown,
  path: PathSegment[],
  at: KeyCheckContext,
  out: InputProblem[],
): void {
  const { problem } = at
  if (isMap(node)) {
    const seen = new Map<string, Node>()
    for (const pair of node.items) {
      if (!isPair(pair)) continue
      const key = pair.key as Node | null
      if (isMergeKey(key)) continue
      const name = keyString(key)
      const offset = key?.range?.[0] ?? 0
      if (name === undefined) {
        out.push(problem(offset, 'a key must be plain text, not a list or mapping', path))
        continue
      }
      const keyPath = [...path, name]
      if (
        isScalar(key) &&
        key.type === 'PLAIN' &&
        typeof key.value === 'number' &&
        key.source !== undefined &&
        key.source !== name
      )
        out.push(
          problem(
            offset,
            `the unquoted key ${key.source} is read by YAML as the number ${name}; quote it: "${key.source}"`,
            [...path, key.source],
          ),
        )
      const earlier = seen.get(name)
      if (earlier) {
        const line = earlier.range ? at.pos(earlier.range[0]).line : undefined
        out.push(
          problem(
            offset,
            `duplicate key "${name}"${line ? ` (first at line ${line})` : ''}; YAML would keep only the last value, so remove one`,
            keyPath,
          ),
        )
      } else if (key) seen.set(name, key)
      checkKeys(doc, pair.value, keyPath, at, out)
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => checkKeys(doc, item, [...path, i], at, out))
  }
}

interface KeyCheckContext {
  readonly problem: (offset: number, message: string, path?: readonly PathSegment[]) => InputProblem
  readonly pos: (offset: number) => Located
}

interface Found {
  /** The node at the path, or the deepest node on the way when the path does not exist. */
  readonly node: Node | null | undefined
  /** The key node of the pair that led to `node`, when it was reached through a mapping. */
  readonly key: Node | null | undefined
  /** How many path segments were followed. */
  readonly depth: number
}

function find(doc: Document, path: readonly PathSegment[]): Found {
  let node = deref(doc, doc.contents)
  let key: Node | null | undefined
  for (let i = 0; i < path.length; i++) {
    const seg = path[i] as PathSegment
    if (isMap(node)) {
      const pair = findPair(doc, node.items, String(seg))
      if (!pair) return { node, key, depth: i }
      key = pair.key as Node | null
      node = deref(doc, pair.value as Node | null)
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as Node | undefined
      if (item === undefined) return { node, key, depth: i }
      key = undefined
      node = deref(doc, item)
    } else return { node, key, depth: i }
  }
  return { node, key, depth: path.length }
}

function findPair(doc: Document, items: readonly unknown[], name: string): Pair | undefined {
  // The last of duplicate keys wins, as in the plain data.
  let found: Pair | undefined
  for (const item of items) if (isPair(item) && keyString(item.key) === name) found = item
  if (found) return found
  for (const item of items) {
    if (!isPair(item) || !isMergeKey(item.key)) continue
    const merged = deref(doc, item.value as Node | null)
    const sources = isSeq(merged) ? merged.items.map((n) => deref(doc, n as Node)) : [merged]
    for (const m of sources) {
      if (!isMap(m)) continue
      const p = findPair(doc, m.items, name)
      if (p) return p
    }
  }
  return undefined
}

function deref(doc: Document, node: Node | null | undefined): Node | null | undefined {
  return isAlias(node) ? node.resolve(doc) : node
}

/** 1-based line and column of an offset, for text the YAML parser did not read. */
function offsetPos(text: string, offset: number): Located {
  const before = text.slice(0, offset)
  const line = before.split('\n').length
  return { line, column: offset - before.lastIndexOf('\n') }
}
