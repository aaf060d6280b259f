/**
 * A fast path for `stringifyTemplate` (src/model/cfn-yaml.ts) on the templates synth builds.
 *
 * The `yaml` library's document model took about 350 ms to write the 180 KB of a 50-target
 * pipeline here, nine tenths of synthesis (issue 2 asks for 50 targets in under 50 ms). This
 * writer emits the same bytes directly for the shapes synth produces — block maps and sequences,
 * `!Ref`, `!Sub` and `!GetAtt` on strings, literal blocks for plain multi-line text (inline
 * buildspecs), comments before top-level entries — and asks the library for every scalar it
 * cannot prove plain, so quoting stays the library's. Anything else (a multi-line string with
 * leading or trailing blanks or non-ASCII text, an empty collection, a deeper comment) returns
 * undefined, and the caller uses `stringifyTemplate`. test/synth/yaml.test.ts and the property test check that both
 * give identical bytes, so the style has one owner: cfn-yaml.
 */
import YAML, { Scalar, YAMLMap } from 'yaml'

/** Thrown inside the writer when a value is outside the shapes it handles. */
class Unsupported extends Error {}

const SHORT: Readonly<Record<string, string>> = { Ref: 'Ref', 'Fn::Sub': 'Sub', 'Fn::GetAtt': 'GetAtt' }

// A string the library writes plain: starts with a letter or underscore, has no character that
// YAML reads specially in a block value (": ", " #", quotes, tab, trailing space or colon).
const PLAIN = /^[A-Za-z_][A-Za-z0-9 _./:*,@=+()${}?<>~^&|;!'-]*$/
// Letter-first strings YAML 1.1 reads as another type (CloudFormation and cfn-lint read YAML 1.1):
// booleans and null by word, and floats with an exponent and no mantissa ("E0", "e-5"). Only the
// decision "certainly plain" is made here; everything else goes to the library.
const YAML11_WORDS =
  /^(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL)$|^[eE][-+]?[0-9_]/
const KEY = /^[A-Za-z][A-Za-z0-9:_.-]*$/

const scalarCache = new Map<string, string>()
let scalarDoc: YAML.Document | undefined

function isPlain(s: string): boolean {
  return (
    PLAIN.test(s) &&
    !s.includes(': ') &&
    !s.includes(' #') &&
    !s.endsWith(':') &&
    !s.endsWith(' ') &&
    !YAML11_WORDS.test(s)
  )
}

/**
 * A multi-line string as the library writes it: a literal block (`|` with one final newline, `|-`
 * with none), its lines indented by `indent`, empty lines left empty.
 */
function block(s: string, indent: string): string {
  const chomp = s.endsWith('\n') ? (s.endsWith('\n\n') ? undefined : '|') : '|-'
  const body = s.endsWith('\n') ? s.slice(0, -1) : s
  // A leading space needs an indentation indicator, and trailing spaces or anything but printable
  // ASCII may make the library quote: leave those to it.
  if (!chomp || /^ |[ \t]\n|[ \t]$|[^\n\x20-\x7e]/.test(body)) throw new Unsupported('block')
  return [chomp, ...body.split('\n').map((l) => (l ? indent + l : ''))].join('\n')
}

/** A scalar as the library writes it in a block value; multi-line strings as literal blocks. */
function scalar(s: string, indent?: string): string {
  if (isPlain(s)) return s
  if (indent !== undefined && s.includes('\n')) return block(s, indent)
  const cached = scalarCache.get(s)
  if (cached !== undefined) return cached
  if (/[\n\r]/.test(s)) throw new Unsupported('multi-line string')
  // Rendered as a mapping value, the context it is written in (a document-level scalar is quoted
  // differently, e.g. one that starts like a document marker).
  scalarDoc ??= new YAML.Document(null, { version: '1.1' })
  const map = new YAMLMap()
  map.items.push(scalarDoc.createPair(new Scalar('k'), new Scalar(s)))
  scalarDoc.contents = map
  const rendered = scalarDoc.toString({ lineWidth: 0, indentSeq: true, singleQuote: false })
  if (!rendered.startsWith('k: ') || rendered.indexOf('\n') !== rendered.length - 1) {
    throw new Unsupported('not a one-line value')
  }
  const text = rendered.slice(3, -1)
  if (scalarCache.size < 10_000) scalarCache.set(s, text)
  return text
}

function key(k: string): string {
  if (!KEY.test(k) || YAML11_WORDS.test(k)) throw new Unsupported(`key ${k}`)
  return k
}

/**
 * The form of a value that goes after `key: ` or `- ` (a literal block's lines indented by
 * `indent`), or undefined for a collection.
 */
function inline(v: unknown, indent: string): string | undefined {
  if (typeof v === 'string') return scalar(v, indent)
  if (typeof v === 'boolean') return v ? 'true' : 'false'
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new Unsupported('non-integer number')
    return String(v)
  }
  if (v === null || v === undefined) throw new Unsupported('null')
  if (Array.isArray(v)) {
    if (!v.length) throw new Unsupported('empty list')
    return undefined
  }
  const entries = Object.entries(v as Record<string, unknown>)
  if (!entries.length) throw new Unsupported('empty map')
  if (entries.length === 1) {
    const [k, inner] = entries[0]!
    const tag = SHORT[k]
    if (tag === 'GetAtt' && Array.isArray(inner) && inner.every((x) => typeof x === 'string')) {
      return `!GetAtt ${scalar(inner.join('.'))}`
    }
    if (tag && typeof inner === 'string') return `!${tag} ${scalar(inner)}`
    if (k.startsWith('Fn::') || k === 'Ref' || k === 'Condition') throw new Unsupported(`intrinsic ${k}`)
  }
  return undefined
}

function writeMap(
  out: string[],
  v: Record<string, unknown>,
  indent: string,
  comments: ReadonlyMap<string, string>,
): void {
  for (const [k, val] of Object.entries(v)) {
    const c = comments.get(k)
    if (c !== undefined) for (const line of c.split('\n')) out.push(`${indent}# ${line}`.trimEnd())
    const one = inline(val, indent + '  ')
    if (one !== undefined) out.push(`${indent}${key(k)}: ${one}`)
    else {
      out.push(`${indent}${key(k)}:`)
      writeValue(out, val, indent + '  ')
    }
  }
}

function writeValue(out: string[], v: unknown, indent: string): void {
  if (Array.isArray(v)) {
    for (const item of v) {
      const one = inline(item, indent + '  ')
      if (one !== undefined) {
        out.push(`${indent}- ${one}`)
        continue
      }
      if (Array.isArray(item)) throw new Unsupported('list in list')
      // A map item: its first line goes after "- ", the rest two spaces deeper.
      const start = out.length
      writeMap(out, item as Record<string, unknown>, indent + '  ', new Map())
      out[start] = `${indent}- ${out[start]!.slice(indent.length + 2)}`
    }
    return
  }
  writeMap(out, v as Record<string, unknown>, indent, new Map())
}

/** Options, as for `stringifyTemplate`. */
export interface FastYamlOptions {
  readonly comments?: Readonly<Record<string, string>>
  readonly header?: string
}

/**
 * The template as `stringifyTemplate(body, { comments, header })` writes it, or undefined when the
 * template has a shape this writer does not handle.
 */
export function fastTemplateYaml(
  body: Readonly<Record<string, unknown>>,
  opts: FastYamlOptions = {},
): string | undefined {
  // Comments only on `<Section>.<Name>` (Parameters, Resources, Outputs entries).
  const bySection = new Map<string, Map<string, string>>()
  for (const [path, text] of Object.entries(opts.comments ?? {})) {
    const parts = path.split('.')
    if (parts.length !== 2 || text.includes('\n') || !text.trim()) return undefined
    const m = bySection.get(parts[0]!) ?? new Map<string, string>()
    m.set(parts[1]!, text)
    bySection.set(parts[0]!, m)
  }
  if (opts.header !== undefined && /^\s|\s$|\n\s*\n/.test(opts.header)) return undefined
  try {
    const out: string[] = []
    if (opts.header) {
      for (const line of opts.header.split('\n')) out.push(`# ${line}`.trimEnd())
      out.push('')
    }
    for (const [k, val] of Object.entries(body)) {
      const one = inline(val, '  ')
      if (one !== undefined) out.push(`${key(k)}: ${one}`)
      else {
        out.push(`${key(k)}:`)
        if (Array.isArray(val)) writeValue(out, val, '  ')
        else writeMap(out, val as Record<string, unknown>, '  ', bySection.get(k) ?? new Map())
      }
    }
    return out.join('\n') + '\n'
  } catch (e) {
    if (e instanceof Unsupported) return undefined
    throw e
  }
}
