/**
 * The HTTP binding of S3 operations, declared once per operation: which header, query parameter,
 * path segment or body fills each member of the operation's input (the AWS SDK v3's own request
 * type), and which header or XML element each member of its output goes to. The bindings follow
 * the S3 model's `@httpHeader`, `@httpQuery`, `@httpLabel`, `@httpPrefixHeaders` and
 * `@httpPayload` traits (https://smithy.io/2.0/spec/http-bindings.html), as the SDK serializes them.
 */
import { XML_NAMESPACES } from '../../../iam/aws-facts.js'
import { invalidArgument, malformedXml } from './errors.js'
import { parseXml, toXml, type XmlObject, type XmlValue } from '../../gateway/xml.js'
import type { RestRequest, RestResponse } from '../types.js'

/** Where one input member comes from. */
export type InputMember =
  /** `Bucket` or `Key`, from the path (or the virtual host). */
  | { readonly in: 'path' }
  | { readonly in: 'header'; readonly name: string; readonly type?: ValueType }
  | { readonly in: 'query'; readonly name: string; readonly type?: ValueType; readonly message?: string }
  /** `x-amz-meta-*` as a map of the rest of the name to the value. */
  | { readonly in: 'prefix-headers'; readonly prefix: string }
  /** The body's root element, parsed into the member's shape (undefined for an empty body). */
  | {
      readonly in: 'xml-body'
      readonly root: string
      readonly parse: (doc: Record<string, unknown>) => unknown
    }
  /** The body as UTF-8 text (a bucket policy). */
  | { readonly in: 'text-body' }

/** How a header or query string is read: as it is, an integer, `true`/`false`, an HTTP date or a comma-separated list. */
export type ValueType = 'string' | 'integer' | 'boolean' | 'timestamp' | 'list'

/** The HTTP binding of an input type: a binding for each member the sandbox reads. */
export type InputBinding<I> = { readonly [K in keyof I]?: InputMember }

/** Where the output's members go: headers by member, the rest as XML under `root` (or one payload member). */
export interface OutputBinding<O> {
  readonly status?: number | ((out: O) => number)
  readonly headers?: { readonly [K in keyof O]?: string }
  /** A map member written as prefixed headers (`x-amz-meta-`). */
  readonly prefixHeaders?: { readonly member: keyof O; readonly prefix: string }
  /** The XML root element of the members that are not headers. */
  readonly root?: string
  /** The one member that is the body (`@httpPayload`): a string, a Buffer, or a structure under `root`. */
  readonly payload?: keyof O
  readonly contentType?: string
}

/** Shortcuts for bindings. */
export const PATH: InputMember = { in: 'path' }
export function header(name: string, type?: ValueType): InputMember {
  return { in: 'header', name, type }
}
export function query(name: string, type?: ValueType, message?: string): InputMember {
  return { in: 'query', name, type, message }
}
export function xmlBody<T>(root: string, parse: (doc: Record<string, unknown>) => T): InputMember {
  return { in: 'xml-body', root, parse }
}

/** The query parameter names an input binding reads. */
export function queryNames(b: InputBinding<unknown>): string[] {
  return Object.values(b as Record<string, InputMember>).flatMap((m) => (m.in === 'query' ? [m.name] : []))
}

function typed(v: string, type: ValueType | undefined, name: string, message?: string): unknown {
  switch (type) {
    case 'integer': {
      const n = Number(v)
      if (!/^\d+$/.test(v) || !Number.isSafeInteger(n))
        throw invalidArgument(message ?? `Provided ${name} not an integer or within integer range`, name, v)
      return n
    }
    case 'boolean':
      return v === 'true'
    case 'list':
      return v
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)
    case 'timestamp': {
      const t = Date.parse(v)
      return Number.isNaN(t) ? undefined : new Date(t)
    }
    default:
      return v
  }
}

/** Reads an operation's input from a request, by its binding. */
export function readInput<I>(
  binding: InputBinding<I>,
  req: RestRequest,
  path: { bucket?: string; key?: string },
): I {
  const out: Record<string, unknown> = {}
  for (const [member, m] of Object.entries(binding) as [string, InputMember][]) {
    switch (m.in) {
      case 'path':
        out[member] = member === 'Key' ? path.key : path.bucket
        break
      case 'header': {
        const v = req.headers.get(m.name)
        if (v !== undefined) out[member] = typed(v, m.type, m.name)
        break
      }
      case 'query': {
        const v = req.query.find(([k]) => k === m.name)?.[1]
        if (v !== undefined) out[member] = typed(v, m.type, m.name, m.message)
        break
      }
      case 'prefix-headers': {
        const map: Record<string, string> = {}
        for (const [k, v] of req.headers) if (k.startsWith(m.prefix)) map[k.slice(m.prefix.length)] = v
        out[member] = map
        break
      }
      case 'xml-body': {
        if (req.body.length === 0) break
        const doc = parseXml(req.body.toString('utf8'))
        const root = doc?.[m.root]
        if (!doc || root === undefined) throw malformedXml()
        out[member] = m.parse(root && typeof root === 'object' ? (root as Record<string, unknown>) : {})
        break
      }
      case 'text-body':
        out[member] = req.body.toString('utf8')
        break
    }
  }
  return out as I
}

/**
 * Element names of list members in S3's XML where they differ from the SDK's member name:
 * flattened lists repeat a singular element (`Versions` → `<Version>`), wrapped lists nest their
 * items in the member's element (`TagSet` → `<TagSet><Tag>`), as the S3 model's `@xmlFlattened`
 * and `@xmlName` traits say.
 */
const XML_LISTS: Readonly<
  Record<string, { readonly flat: string } | { readonly wrap: string; readonly item: string }>
> = {
  Buckets: { wrap: 'Buckets', item: 'Bucket' },
  TagSet: { wrap: 'TagSet', item: 'Tag' },
  Grants: { wrap: 'AccessControlList', item: 'Grant' },
  Versions: { flat: 'Version' },
  DeleteMarkers: { flat: 'DeleteMarker' },
  Uploads: { flat: 'Upload' },
  Parts: { flat: 'Part' },
  Errors: { flat: 'Error' },
  Rules: { flat: 'Rule' },
}

/** An SDK-shaped value as XML children (Dates as ISO 8601, list names as S3 writes them). */
export function toXmlShape(v: Record<string, unknown>): XmlObject {
  const out: Record<string, XmlValue> = {}
  for (const [k, x] of Object.entries(v)) {
    if (x === undefined) continue
    const list = XML_LISTS[k]
    if (list && Array.isArray(x)) {
      const items = x.map(value)
      if ('flat' in list) out[list.flat] = items
      else out[list.wrap] = { [list.item]: items }
    } else if (k === 'Grantee' && x && typeof x === 'object') {
      // The grantee's type is an attribute: `<Grantee xmlns:xsi="…" xsi:type="CanonicalUser">`.
      const { Type, ...rest } = x as Record<string, unknown>
      out[k] = { '@xmlns:xsi': XSI, '@xsi:type': Type as string | undefined, ...toXmlShape(rest) }
    } else out[k] = value(x)
  }
  return out
}

const XSI = 'http://www.w3.org/2001/XMLSchema-instance'

function value(x: unknown): XmlValue {
  if (Array.isArray(x)) return x.map(value)
  if (x instanceof Date || x === null || typeof x !== 'object') return x as XmlValue
  return toXmlShape(x as Record<string, unknown>)
}

function headerValue(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined
  if (v instanceof Date) return v.toUTCString()
  return typeof v === 'string' ? v : JSON.stringify(v)
}

/** S3's XML namespace (https://docs.aws.amazon.com/AmazonS3/latest/API/RESTAPI.html). */
export const NS = XML_NAMESPACES.s3

/** Writes an operation's output by its binding. */
export function writeOutput<O>(binding: OutputBinding<O>, out: O): RestResponse {
  const o = out as Record<string, unknown>
  const headers: Record<string, string> = {}
  const rest: Record<string, unknown> = { ...o }
  for (const [member, name] of Object.entries(binding.headers ?? {}) as [string, string][]) {
    const v = headerValue(o[member])
    if (v !== undefined) headers[name] = v
    delete rest[member]
  }
  if (binding.prefixHeaders) {
    const m = binding.prefixHeaders.member as string
    for (const [k, v] of Object.entries((o[m] as Record<string, string> | undefined) ?? {}))
      headers[binding.prefixHeaders.prefix + k] = v
    delete rest[m]
  }
  const status = typeof binding.status === 'function' ? binding.status(out) : (binding.status ?? 200)
  if (binding.payload !== undefined) {
    const p = o[binding.payload as string]
    if (typeof p === 'string' || Buffer.isBuffer(p)) {
      if (binding.contentType) headers['content-type'] = binding.contentType
      return { status, headers, body: p }
    }
    if (p && typeof p === 'object' && 'pipe' in p)
      return { status, headers, stream: p as unknown as NonNullable<RestResponse['stream']> }
    if (p === undefined || !binding.root) return { status, headers, body: '' }
    return xmlAnswer(status, headers, binding.root, toXmlShape(p as Record<string, unknown>))
  }
  if (!binding.root) return { status, headers, body: '' }
  return xmlAnswer(status, headers, binding.root, toXmlShape(rest))
}

/** An XML answer in S3's namespace. */
export function xmlAnswer(
  status: number,
  headers: Record<string, string>,
  root: string,
  body: XmlObject,
): RestResponse {
  return { status, headers: { 'content-type': 'application/xml', ...headers }, body: toXml(root, body, NS) }
}
