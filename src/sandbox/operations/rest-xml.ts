/**
 * restXml bodies, from the model (https://smithy.io/2.0/aws/protocols/aws-restxml-protocol.html):
 * an operation's XML payload read into its SDK v3 input member, and an output structure written as
 * XML, with the model's element names (`locationName`), flattened and wrapped lists, attributes
 * (`xmlAttribute`, S3's `xsi:type`), namespaces (`xmlNamespace`) and member order.
 *
 * The reader checks the body as S3 checks it against its published schema: well-formed, the root
 * element the payload member names, no element the model does not have, scalars of their type
 * (XML Schema's lexical forms: `true`/`false`/`1`/`0`, integers, ISO 8601 timestamps), required
 * members present and enum members within their set. A body that fails is an
 * {@link XmlBodyError} listing why; the service turns it into its own code (S3: `MalformedXML`,
 * `MalformedACLError` for an ACL), since restXml services answer these without the
 * awsQuery/awsJson "validation error detected" text. Lengths and patterns are left to the service:
 * the models' are Smithy's, not the XML schema's, and S3 answers them with its own codes
 * (`InvalidTag`…).
 */
import { XMLParser } from 'fast-xml-parser'
import { escapeXml } from '../gateway/xml.js'
import { fieldsOf, setEntry, shapeOf, type ServiceModel, type Shape, type ShapeRef } from './model.js'

/** A body that is not well-formed or does not match the model; `problems` say where. */
export class XmlBodyError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`the XML body does not match the model: ${problems.join('; ')}`)
    this.name = 'XmlBodyError'
  }
}

/** The member of a structure that is the HTTP body (`payload`), with its reference and shape. */
export interface Payload {
  readonly member: string
  readonly ref: ShapeRef
  readonly shape: Shape
  /** Whether the model requires it (an empty body is then refused). */
  readonly required: boolean
}

/** The payload member of an input or output shape, or undefined when the body is the other members. */
export function payloadOf(model: ServiceModel, shapeName: string | undefined): Payload | undefined {
  if (!shapeName) return undefined
  const s = shapeOf(model, shapeName)
  if (!s.payload) return undefined
  const ref = s.members?.[s.payload]
  if (!ref) throw new Error(`model ${model.metadata.endpointPrefix}: ${shapeName}'s payload is not a member`)
  return {
    member: s.payload,
    ref,
    shape: shapeOf(model, ref.shape),
    required: (s.required ?? []).includes(s.payload),
  }
}

/**
 * The element of a structure payload: its member's `locationName`, else its name. (Smithy names it
 * after the target shape; in AWS's models the two agree wherever no `locationName` is given, and
 * the member name survives the aws-sdk package's minified models, whose shared shapes are renamed.)
 */
function payloadElement(p: Payload): string {
  return p.ref.locationName ?? p.member
}

// ---- reading ----------------------------------------------------------------------------

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  removeNSPrefix: true,
  ignoreDeclaration: true,
})

function items(v: unknown): unknown[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v]
}

/** The element name of a member: a prefixed `locationName` (`xsi:type`) without its prefix, as parsed. */
function local(name: string): string {
  const i = name.indexOf(':')
  return i < 0 ? name : name.slice(i + 1)
}

function isFlat(ref: ShapeRef, shape: Shape): boolean {
  return Boolean(ref.flattened || shape.flattened)
}

/** The names a structure's members take in XML: element names and attribute names. */
function wireNames(
  model: ServiceModel,
  shape: Shape,
): { elements: Map<string, string>; attributes: Map<string, string> } {
  const elements = new Map<string, string>()
  const attributes = new Map<string, string>()
  for (const [m, ref] of Object.entries(shape.members ?? {})) {
    if (ref.location) continue // headers, query strings, path labels: not in the body
    if (ref.xmlAttribute) {
      attributes.set(m, local(ref.locationName ?? m))
      continue
    }
    const s = shapeOf(model, ref.shape)
    const name =
      s.type === 'list' && isFlat(ref, s)
        ? (ref.locationName ?? s.member?.locationName ?? m)
        : (ref.locationName ?? m)
    elements.set(m, local(name))
  }
  return { elements, attributes }
}

/** How a payload is read. */
export interface XmlReadOptions {
  /**
   * Enum shapes whose values the service checks itself rather than by its schema, so any text is
   * read (S3's `BucketLocationConstraint`: an unknown region is `InvalidLocationConstraint`, not
   * MalformedXML, and regions newer than the model are valid).
   */
  readonly openEnums?: readonly string[]
}

class Reader {
  readonly problems: string[] = []
  private readonly open: ReadonlySet<string>

  constructor(
    private readonly model: ServiceModel,
    o: XmlReadOptions,
  ) {
    this.open = new Set(o.openEnums ?? [])
  }

  private fail(path: string, what: string): undefined {
    this.problems.push(`${path}: ${what}`)
    return undefined
  }

  /** The text of an element that must hold no children. */
  private text(e: unknown, path: string): string | undefined {
    if (typeof e === 'string') return e
    if (e && typeof e === 'object') {
      const f = fieldsOf(e)
      const children = Object.keys(f).filter((k) => !k.startsWith('@') && k !== '#text')
      if (children.length) return this.fail(path, `expected text, found the element <${children[0]}>`)
      const t = f['#text']
      return typeof t === 'string' ? t : ''
    }
    return ''
  }

  scalar(name: string, shape: Shape, text: string, path: string): unknown {
    switch (shape.type) {
      case 'boolean':
        if (text === 'true' || text === '1') return true
        if (text === 'false' || text === '0') return false
        return this.fail(path, `'${text}' is not a boolean`)
      case 'integer':
      case 'long': {
        const n = Number(text)
        if (!/^[+-]?\d+$/.test(text) || !Number.isSafeInteger(n))
          return this.fail(path, `'${text}' is not an integer`)
        if (shape.type === 'integer' && (n > 2147483647 || n < -2147483648))
          return this.fail(path, `'${text}' is out of the integer range`)
        return n
      }
      case 'float':
      case 'double': {
        const n = Number(text)
        if (text === '' || Number.isNaN(n)) return this.fail(path, `'${text}' is not a number`)
        return n
      }
      case 'timestamp': {
        const t = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)
          ? Date.parse(text)
          : Number.NaN
        if (Number.isNaN(t)) return this.fail(path, `'${text}' is not an ISO 8601 date-time`)
        return new Date(t)
      }
      case 'blob':
        return Buffer.from(text, 'base64')
      case 'string':
        if (shape.enum && !this.open.has(name) && !shape.enum.includes(text))
          return this.fail(path, `'${text}' is not one of [${shape.enum.join(', ')}]`)
        return text
      default:
        return this.fail(path, `a ${shape.type} is not a scalar`)
    }
  }

  value(ref: ShapeRef, e: unknown, path: string): unknown {
    const shape = shapeOf(this.model, ref.shape)
    switch (shape.type) {
      case 'structure':
        return this.structure(shape, e, path)
      case 'list': {
        // A wrapped list: its items are the wrapper's children named by the list's member.
        const member = shape.member as ShapeRef
        const name = local(member.locationName ?? 'member')
        if (e === '' || e === undefined) return []
        if (typeof e !== 'object' || e === null) return this.fail(path, 'expected a list of elements')
        const f = fieldsOf(e)
        const other = Object.keys(f).find((k) => k !== name && !k.startsWith('@'))
        if (other !== undefined) return this.fail(path, `unexpected element <${other}>`)
        return items(f[name]).map((x, i) => this.value(member, x, `${path}/${name}[${i + 1}]`))
      }
      case 'map': {
        const flat = isFlat(ref, shape)
        const entries = flat ? items(e) : items(typeof e === 'object' && e ? fieldsOf(e)['entry'] : undefined)
        const k = local(shape.key?.locationName ?? 'key')
        const v = local(shape.value?.locationName ?? 'value')
        const out: Record<string, unknown> = {}
        entries.forEach((x, i) => {
          const f = typeof x === 'object' && x ? fieldsOf(x) : {}
          const key = this.text(f[k], `${path}/entry[${i + 1}]/${k}`)
          // Defined, not assigned: a key such as `__proto__` is a key like any other.
          if (key !== undefined)
            setEntry(out, key, this.value(shape.value as ShapeRef, f[v], `${path}/${key}`))
        })
        return out
      }
      default: {
        const t = this.text(e, path)
        return t === undefined ? undefined : this.scalar(ref.shape, shape, t, path)
      }
    }
  }

  structure(shape: Shape, e: unknown, path: string): Record<string, unknown> | undefined {
    if (Array.isArray(e)) return this.fail(path, 'the element is repeated')
    const f: Readonly<Record<string, unknown>> = e && typeof e === 'object' ? fieldsOf(e) : {}
    if (typeof e === 'string' && e !== '') return this.fail(path, 'expected elements, found text')
    const { elements, attributes } = wireNames(this.model, shape)
    const known = new Set([...elements.values()])
    for (const k of Object.keys(f))
      if (!k.startsWith('@') && !known.has(k)) this.fail(path, `unexpected element <${k}>`)
    const out: Record<string, unknown> = {}
    const required = new Set(shape.required ?? [])
    for (const [m, ref] of Object.entries(shape.members ?? {})) {
      if (ref.location) continue
      const attr = attributes.get(m)
      const name = attr ?? elements.get(m)!
      const raw = attr !== undefined ? f[`@${attr}`] : f[name]
      const mp = `${path}/${attr !== undefined ? '@' : ''}${name}`
      if (raw === undefined) {
        if (required.has(m)) this.fail(mp, 'missing')
        continue
      }
      const ms = shapeOf(this.model, ref.shape)
      let v: unknown
      if (ms.type === 'list' && isFlat(ref, ms))
        v = items(raw).map((x, i) => this.value(ms.member as ShapeRef, x, `${mp}[${i + 1}]`))
      else if (Array.isArray(raw)) v = this.fail(mp, 'the element is repeated')
      else v = this.value(ref, raw, mp)
      if (v !== undefined) out[m] = v
    }
    return out
  }
}

/**
 * The XML payload of a request as its member's SDK value: undefined for an empty body; an
 * {@link XmlBodyError} when the body is not well-formed or does not match the model. `payload` is
 * the input shape's {@link payloadOf}, a structure.
 */
export function readXmlPayload(
  model: ServiceModel,
  payload: Payload,
  body: string,
  o: XmlReadOptions = {},
): unknown {
  if (body.trim() === '') return undefined
  let doc: unknown
  try {
    doc = parser.parse(body, true)
  } catch (e) {
    throw new XmlBodyError([`not well-formed: ${(e as Error).message.split('\n')[0]}`])
  }
  const root = local(payloadElement(payload))
  const f = doc && typeof doc === 'object' ? fieldsOf(doc) : {}
  const names = Object.keys(f).filter((k) => !k.startsWith('?'))
  if (names.length !== 1 || names[0] !== root)
    throw new XmlBodyError([
      `the root element must be <${root}>, found ${names.map((n) => `<${n}>`).join('') || 'none'}`,
    ])
  const r = new Reader(model, o)
  const v = r.value(payload.ref, f[root], `/${root}`)
  if (r.problems.length) throw new XmlBodyError(r.problems)
  return v
}

// ---- writing ----------------------------------------------------------------------------

/** How an output is written: its root element when the model has none, and the default namespace. */
export interface XmlOutputOptions {
  /** The root element of an output without a structure payload (`ListBucketResult`). */
  readonly root?: string
  /** The namespace of the root element when its member declares none (S3's). */
  readonly xmlns?: string
}

function timestampText(v: unknown, format: string | undefined): string {
  const d = v instanceof Date ? v : typeof v === 'number' ? new Date(v * 1000) : new Date(String(v))
  if (format === 'rfc822') return d.toUTCString()
  if (format === 'unixTimestamp') return String(d.getTime() / 1000)
  return d.toISOString()
}

class Writer {
  readonly out: string[] = []

  constructor(private readonly model: ServiceModel) {}

  scalar(ref: ShapeRef, shape: Shape, v: unknown): string {
    switch (shape.type) {
      case 'timestamp':
        return timestampText(v, ref.timestampFormat ?? shape.timestampFormat)
      case 'blob':
        return Buffer.from(v as Uint8Array).toString('base64')
      default:
        return escapeXml(String(v))
    }
  }

  /** One element named `name` holding `v` of `ref`'s shape; `xmlns` declared on it when given. */
  element(name: string, ref: ShapeRef, v: unknown, xmlns?: string): void {
    const shape = shapeOf(this.model, ref.shape)
    const ns = xmlns ? ` xmlns="${escapeXml(xmlns)}"` : ''
    switch (shape.type) {
      case 'structure': {
        const f = fieldsOf(v)
        let attrs = ns
        if (shape.xmlNamespace?.prefix)
          attrs += ` xmlns:${shape.xmlNamespace.prefix}="${escapeXml(shape.xmlNamespace.uri)}"`
        for (const [m, r] of Object.entries(shape.members ?? {}))
          if (r.xmlAttribute && f[m] !== undefined && f[m] !== null)
            attrs += ` ${r.locationName ?? m}="${this.scalar(r, shapeOf(this.model, r.shape), f[m])}"`
        this.out.push(`<${name}${attrs}>`)
        this.members(shape, f)
        this.out.push(`</${name}>`)
        return
      }
      case 'list': {
        const member = shape.member as ShapeRef
        this.out.push(`<${name}${ns}>`)
        for (const x of v as unknown[]) this.element(member.locationName ?? 'member', member, x)
        this.out.push(`</${name}>`)
        return
      }
      case 'map': {
        const k = shape.key?.locationName ?? 'key'
        const val = shape.value?.locationName ?? 'value'
        this.out.push(`<${name}${ns}>`)
        for (const [key, x] of Object.entries(fieldsOf(v))) {
          this.out.push(`<entry><${k}>${escapeXml(key)}</${k}>`)
          this.element(val, shape.value as ShapeRef, x)
          this.out.push('</entry>')
        }
        this.out.push(`</${name}>`)
        return
      }
      default:
        this.out.push(`<${name}${ns}>${this.scalar(ref, shape, v)}</${name}>`)
    }
  }

  /** A structure's body members, in model order (headers and attributes are elsewhere). */
  members(shape: Shape, f: Readonly<Record<string, unknown>>): void {
    for (const [m, ref] of Object.entries(shape.members ?? {})) {
      const x = f[m]
      if (x === undefined || x === null || ref.location || ref.xmlAttribute) continue
      const s = shapeOf(this.model, ref.shape)
      if (s.type === 'list' && isFlat(ref, s)) {
        const member = s.member as ShapeRef
        const name = ref.locationName ?? member.locationName ?? m
        for (const item of x as unknown[]) this.element(name, member, item)
      } else this.element(ref.locationName ?? m, ref, x)
    }
  }
}

/**
 * An output structure's XML body, or undefined when it has none (every member a header, or a
 * payload member that is not a structure, which the caller sends as it is). A structure payload is
 * its own root element (named by its member); otherwise the body members go under `o.root`.
 */
export function writeXmlOutput(
  model: ServiceModel,
  shapeName: string | undefined,
  output: unknown,
  o: XmlOutputOptions = {},
): string | undefined {
  if (!shapeName || output === undefined || output === null) return undefined
  const w = new Writer(model)
  const f = fieldsOf(output)
  const payload = payloadOf(model, shapeName)
  if (payload) {
    if (payload.shape.type !== 'structure') return undefined
    const v = f[payload.member]
    if (v === undefined || v === null) return undefined
    w.element(payloadElement(payload), payload.ref, v, payload.ref.xmlNamespace?.uri ?? o.xmlns)
  } else {
    if (!o.root) return undefined
    const shape = shapeOf(model, shapeName)
    w.out.push(o.xmlns ? `<${o.root} xmlns="${escapeXml(o.xmlns)}">` : `<${o.root}>`)
    w.members(shape, f)
    w.out.push(`</${o.root}>`)
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n${w.out.join('')}`
}
