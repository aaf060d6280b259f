/**
 * awsQuery, from the model: the form parameters of a request as the operation's input structure,
 * and its output structure as the children of `<ActionResult>`.
 * https://smithy.io/2.0/aws/protocols/aws-query-protocol.html
 *
 * - input: a member is `Name` (or its `locationName`), nested `Parent.Name`; a list is
 *   `Name.member.N` (`Name.N` when `flattened`; the member's `locationName` replaces `member`), an
 *   empty list `Name=`; a map is `Name.entry.N.key` / `Name.entry.N.value` (`Name.N.key` flattened);
 *   numbers, booleans (`true`/`false`) and ISO 8601 timestamps are read as text; blobs are base64.
 * - output: elements named by member (or `locationName`), in model order; lists as `<member>` items
 *   (repeated elements when flattened), maps as `<entry><key/><value/></entry>`, timestamps ISO 8601,
 *   booleans `true`/`false`, blobs base64.
 */
import { AwsError } from '../errors.js'
import type { XmlObject, XmlValue } from '../gateway/xml.js'
import type { QueryParams } from '../services/types.js'
import { fieldsOf, setEntry, shapeOf, type ServiceModel, type Shape, type ShapeRef } from './model.js'

/** A parameter whose text is not of its member's type (`MaxItems=ten`). */
function malformed(path: string, value: string, type: string): AwsError {
  return new AwsError(
    'ValidationError',
    `1 validation error detected: Value '${value}' at '${path}' failed to satisfy constraint: Member must be ${type}`,
    400,
  )
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1)
}

/** Whether any parameter lies under `prefix.` (a structure, list or map that was sent). */
function sent(params: QueryParams, prefix: string): boolean {
  for (const k of params.keys()) if (k.startsWith(prefix)) return true
  return false
}

function readValue(
  model: ServiceModel,
  ref: ShapeRef,
  key: string,
  path: string,
  params: QueryParams,
): unknown {
  const shape = shapeOf(model, ref.shape)
  switch (shape.type) {
    case 'structure':
      return sent(params, key + '.') ? readStructure(model, shape, key + '.', path, params) : undefined
    case 'list': {
      if (params.get(key) === '') return []
      const member = shape.member as ShapeRef
      const flat = ref.flattened || shape.flattened
      const base = flat ? `${key}.` : `${key}.${member.locationName ?? 'member'}.`
      if (!sent(params, base)) return undefined
      const out: unknown[] = []
      for (let i = 1; ; i++) {
        const v = readValue(model, member, `${base}${i}`, `${path}.${i}.member`, params)
        if (v === undefined) break
        out.push(v)
      }
      return out
    }
    case 'map': {
      const flat = ref.flattened || shape.flattened
      const base = flat ? `${key}.` : `${key}.entry.`
      if (!sent(params, base)) return undefined
      const kName = shape.key?.locationName ?? 'key'
      const vName = shape.value?.locationName ?? 'value'
      const out: Record<string, unknown> = {}
      for (let i = 1; ; i++) {
        const k = params.get(`${base}${i}.${kName}`)
        if (k === undefined) break
        setEntry(
          out,
          k,
          readValue(model, shape.value as ShapeRef, `${base}${i}.${vName}`, `${path}.${k}`, params),
        )
      }
      return out
    }
    default: {
      const text = params.get(key)
      return text === undefined ? undefined : scalar(shape, text, path)
    }
  }
}

function scalar(shape: Shape, text: string, path: string): unknown {
  switch (shape.type) {
    case 'integer':
    case 'long':
      if (!/^[+-]?\d+$/.test(text)) throw malformed(path, text, 'an integer')
      return Number(text)
    case 'float':
    case 'double': {
      const n = Number(text)
      if (text.trim() === '' || Number.isNaN(n)) throw malformed(path, text, 'a number')
      return n
    }
    case 'boolean':
      if (text !== 'true' && text !== 'false') throw malformed(path, text, 'a boolean')
      return text === 'true'
    case 'timestamp': {
      const t = /^\d+(\.\d+)?$/.test(text) ? Number(text) * 1000 : Date.parse(text)
      if (Number.isNaN(t)) throw malformed(path, text, 'a timestamp')
      return new Date(t)
    }
    case 'blob':
      return Buffer.from(text, 'base64')
    default:
      return text
  }
}

function readStructure(
  model: ServiceModel,
  shape: Shape,
  prefix: string,
  path: string,
  params: QueryParams,
): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [m, ref] of Object.entries(shape.members ?? {})) {
    const v = readValue(
      model,
      ref,
      prefix + (ref.locationName ?? m),
      path ? `${path}.${lowerFirst(m)}` : lowerFirst(m),
      params,
    )
    if (v !== undefined) out[m] = v
  }
  return out
}

/** An operation's input structure from its awsQuery parameters. */
export function readQueryInput(
  model: ServiceModel,
  shapeName: string | undefined,
  params: QueryParams,
): Record<string, unknown> {
  return shapeName ? readStructure(model, shapeOf(model, shapeName), '', '', params) : {}
}

/** ISO 8601, without milliseconds when there are none (as IAM writes its dates). */
function timestamp(v: unknown): string {
  const d = v instanceof Date ? v : typeof v === 'number' ? new Date(v * 1000) : new Date(String(v))
  return d.toISOString().replace(/\.000Z$/, 'Z')
}

function writeValue(model: ServiceModel, ref: ShapeRef, v: unknown): XmlValue {
  const shape = shapeOf(model, ref.shape)
  switch (shape.type) {
    case 'structure':
      return writeStructure(model, shape, fieldsOf(v))
    case 'list': {
      const member = shape.member as ShapeRef
      const items = (v as unknown[]).map((x) => writeValue(model, member, x))
      return ref.flattened || shape.flattened ? items : { [member.locationName ?? 'member']: items }
    }
    case 'map': {
      const k = shape.key?.locationName ?? 'key'
      const val = shape.value?.locationName ?? 'value'
      const entries = Object.entries(fieldsOf(v)).map(([key, x]) => ({
        [k]: key,
        [val]: writeValue(model, shape.value as ShapeRef, x),
      }))
      return ref.flattened || shape.flattened ? entries : { entry: entries }
    }
    case 'timestamp':
      return timestamp(v)
    case 'blob':
      return Buffer.from(v as Uint8Array).toString('base64')
    default:
      return v as string | number | boolean
  }
}

function writeStructure(model: ServiceModel, shape: Shape, v: Record<string, unknown>): XmlObject {
  const out: Record<string, XmlValue> = {}
  for (const [m, ref] of Object.entries(shape.members ?? {})) {
    const x = v[m]
    if (x === undefined || x === null) continue
    const name =
      ref.flattened || shapeOf(model, ref.shape).flattened
        ? (shapeOf(model, ref.shape).member?.locationName ?? ref.locationName ?? m)
        : (ref.locationName ?? m)
    out[name] = writeValue(model, ref, x)
  }
  return out
}

/** An operation's output structure as the children of its `<ActionResult>` element. */
export function writeQueryOutput(
  model: ServiceModel,
  shapeName: string | undefined,
  output: unknown,
): XmlObject | undefined {
  if (!shapeName || output === undefined || output === null) return undefined
  return writeStructure(model, shapeOf(model, shapeName), fieldsOf(output))
}
