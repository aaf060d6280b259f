/**
 * The HTTP binding of S3 operations, declared once per operation: which header, query parameter or
 * path segment fills each member of the operation's input (the AWS SDK v3's own request type), and
 * which header each member of its output goes to. The bindings follow the S3 model's `@httpHeader`,
 * `@httpQuery`, `@httpLabel` and `@httpPrefixHeaders` traits
 * (https://smithy.io/2.0/spec/http-bindings.html), as the SDK serializes them. The bodies are the
 * model's: an input's `@httpPayload` member is read, and an output's XML written, by the operation
 * layer's restXml reader and writer (operations/rest-xml.ts) from AWS's S3 model.
 */
import { XML_NAMESPACES } from '../../../iam/aws-facts.js'
import type { AwsError } from '../../errors.js'
import {
  payloadOf,
  readXmlPayload,
  serviceModel,
  writeXmlOutput,
  XmlBodyError,
  type ServiceModel,
} from '../../operations/index.js'
import { invalidArgument, malformedXml, missingRequestBody } from './errors.js'
import type { Acceptance } from '../../operations/index.js'
import type { RestRequest, RestResponse } from '../types.js'
import type { S3Members } from './operation.js'

/** Where one input member comes from. */
export type InputMember =
  /** `Bucket` or `Key`, from the path (or the virtual host). */
  | { readonly in: 'path' }
  | { readonly in: 'header'; readonly name: string; readonly type?: ValueType }
  | { readonly in: 'query'; readonly name: string; readonly type?: ValueType; readonly message?: string }
  /** `x-amz-meta-*` as a map of the rest of the name to the value. */
  | { readonly in: 'prefix-headers'; readonly prefix: string }
  /**
   * The body, as the model's payload member of the operation's input: a structure read from XML
   * (undefined for an empty body; `MissingRequestBodyError` when the model requires it), a string as UTF-8 text (a
   * bucket policy). A body that does not match the model is `invalid` (S3's MalformedXML unless
   * the operation documents another code).
   */
  | { readonly in: 'payload'; readonly invalid?: () => AwsError }

/** How a header or query string is read: as it is, an integer, `true`/`false`, an HTTP date or a comma-separated list. */
export type ValueType = 'string' | 'integer' | 'boolean' | 'timestamp' | 'list'

/** The HTTP binding of an input type: a binding for each member the sandbox reads. */
export type InputBinding<I> = { readonly [K in keyof I]?: InputMember }

/**
 * Where the output's members go: headers by member; the body is the model's (its payload member,
 * or the members that are not headers as XML under `root`, the one name the model does not give).
 */
export interface OutputBinding<O> {
  readonly status?: number | ((out: O) => number)
  readonly headers?: { readonly [K in keyof O]?: string }
  /** A map member written as prefixed headers (`x-amz-meta-`). */
  readonly prefixHeaders?: { readonly member: keyof O; readonly prefix: string }
  /** The XML root element of the members that are not headers, for an output without a payload. */
  readonly root?: string
  /** The content type of a payload sent as it is (a bucket policy). */
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
/** The body: the operation's payload member in the model. */
export const PAYLOAD: InputMember = { in: 'payload' }

/** S3's model, read on the first request that needs it. */
let model: ServiceModel | undefined
function s3Model(): ServiceModel {
  return (model ??= serviceModel('s3'))
}

/** An operation of S3's model (a route table name the model lacks is a bug). */
function modelOperation(op: string): { readonly input?: string; readonly output?: string } {
  const o = s3Model().operations[op]
  if (!o) throw new Error(`sandbox: S3 operation ${op} is not in AWS's S3 model`)
  return o
}

/**
 * S3 checks a bucket's location constraint itself: an unknown one is `InvalidLocationConstraint`
 * or `IllegalLocationConstraintException`, not MalformedXML
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList).
 */
const READ_OPTIONS = { openEnums: ['BucketLocationConstraint'] }

/**
 * A payload stored as its XML text (a lifecycle configuration an older sandbox kept), read as the
 * operation's input member; undefined if it no longer reads.
 */
export function readStoredPayload(op: string, text: string): unknown {
  const p = payloadOf(s3Model(), modelOperation(op).input)
  if (!p) throw new Error(`sandbox: S3's model has no payload for ${op}`)
  try {
    return readXmlPayload(s3Model(), p, text, READ_OPTIONS)
  } catch (e) {
    if (e instanceof XmlBodyError) return undefined
    throw e
  }
}

/** The request body as the operation's payload member (see {@link InputMember}). */
function readPayload(op: string, m: { readonly invalid?: () => AwsError }, req: RestRequest): unknown {
  const p = payloadOf(s3Model(), modelOperation(op).input)
  if (!p) throw new Error(`sandbox: S3's model has no payload for ${op}`)
  if (p.shape.type === 'string') return req.body.toString('utf8')
  if (p.shape.type !== 'structure')
    throw new Error(`sandbox: S3's ${op} payload is a ${p.shape.type}, which the operation reads itself`)
  const invalid = m.invalid ?? malformedXml
  let v: unknown
  try {
    v = readXmlPayload(s3Model(), p, req.body.toString('utf8'), READ_OPTIONS)
  } catch (e) {
    if (e instanceof XmlBodyError) throw invalid()
    throw e
  }
  if (v === undefined && p.required) throw missingRequestBody()
  return v
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
  op: string,
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
      case 'payload': {
        const v = readPayload(op, m, req)
        if (v !== undefined) out[member] = v
        break
      }
    }
  }
  return out as I
}

function headerValue(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined
  if (v instanceof Date) return v.toUTCString()
  return typeof v === 'string' ? v : JSON.stringify(v)
}

/** S3's XML namespace (https://docs.aws.amazon.com/AmazonS3/latest/API/RESTAPI.html). */
export const NS = XML_NAMESPACES.s3

/** Writes an operation's output: headers by its binding, the body by the model. */
export function writeOutput<O>(op: string, binding: OutputBinding<O>, out: O): RestResponse {
  const o = out as Record<string, unknown>
  const headers: Record<string, string> = {}
  for (const [member, name] of Object.entries(binding.headers ?? {}) as [string, string][]) {
    const v = headerValue(o[member])
    if (v !== undefined) headers[name] = v
  }
  if (binding.prefixHeaders) {
    const m = binding.prefixHeaders.member as string
    for (const [k, v] of Object.entries((o[m] as Record<string, string> | undefined) ?? {}))
      headers[binding.prefixHeaders.prefix + k] = v
  }
  const status = typeof binding.status === 'function' ? binding.status(out) : (binding.status ?? 200)
  const shape = modelOperation(op).output
  const payload = payloadOf(s3Model(), shape)
  if (payload && payload.shape.type !== 'structure') {
    const p = o[payload.member]
    if (typeof p === 'string' || Buffer.isBuffer(p)) {
      if (binding.contentType) headers['content-type'] = binding.contentType
      return { status, headers, body: p }
    }
    if (p && typeof p === 'object' && 'pipe' in p)
      return { status, headers, stream: p as unknown as NonNullable<RestResponse['stream']> }
    return { status, headers, body: '' }
  }
  const body = writeXmlOutput(s3Model(), shape, out, { root: binding.root, xmlns: NS })
  if (body === undefined) return { status, headers, body: '' }
  return { status, headers: { 'content-type': 'application/xml', ...headers }, body }
}

/** A member of a request that its operation does not act on, and how it came (header or query parameter). */
export interface RefusedMember {
  readonly member: string
  readonly wire: string
}

function acceptedAt(a: Acceptance, v: string): boolean {
  if (typeof a === 'string') return true
  return typeof a.when === 'function' ? a.when(v) : String(a.when) === v
}

/**
 * The members of S3's model for `op` that the request carries and the operation neither reads nor
 * accepts (see {@link S3Members}); `common` is what every operation honours or accepts. Members
 * bound to the path or the body are the binding's and the route's.
 */
export function refusedMembers(
  op: string,
  binding: InputBinding<unknown>,
  members: S3Members<never> | undefined,
  common: S3Members<Record<string, unknown>>,
  req: RestRequest,
): RefusedMember[] {
  const input = modelOperation(op).input
  const shape = input ? s3Model().shapes[input] : undefined
  const bound = binding as Readonly<Record<string, InputMember | undefined>>
  const own = members
  const all = common
  const out: RefusedMember[] = []
  for (const [member, ref] of Object.entries(shape?.members ?? {})) {
    const name = ref.locationName ?? member
    let value: string | undefined
    if (ref.location === 'header') value = req.headers.get(name.toLowerCase())
    else if (ref.location === 'querystring') value = req.query.find(([k]) => k === name)?.[1]
    else if (ref.location === 'headers') {
      const prefix = name.toLowerCase()
      value = [...req.headers.keys()].some((k) => k.startsWith(prefix)) ? '' : undefined
    }
    if (value === undefined) continue
    const refused = own?.refuses?.[member] !== undefined
    const honoured =
      !refused &&
      (bound[member] !== undefined || own?.honours?.includes(member) || all.honours?.includes(member))
    if (honoured) continue
    const acceptance = own?.accepts?.[member] ?? all.accepts?.[member]
    if (acceptance !== undefined && acceptedAt(acceptance, value)) continue
    out.push({ member, wire: ref.location === 'querystring' ? `?${name}` : name })
  }
  return out
}

/** Whether S3's model gives `op` a Content-MD5 or checksum-algorithm member: its body's integrity is checked. */
export function integrityMembers(op: string): boolean {
  const input = modelOperation(op).input
  const members = input ? (s3Model().shapes[input]?.members ?? {}) : {}
  return 'ContentMD5' in members || 'ChecksumAlgorithm' in members
}
