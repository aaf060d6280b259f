/**
 * awsJson 1.0/1.1, from the model: the request document type-checked against the operation's input
 * shapes, and its output written with the protocol's encodings.
 * https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html
 *
 * Timestamps are epoch seconds (numbers, fractions allowed), blobs base64 strings; members the model
 * does not name are ignored and `null` is absent, as AWS's JSON services do. A value of the wrong JSON
 * type is `SerializationException` (400), before any constraint is checked.
 */
import { AwsError } from '../errors.js'
import { fieldsOf, setEntry, shapeOf, type ServiceModel, type Shape, type ShapeRef } from './model.js'

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

function wrongType(path: string, expected: string): AwsError {
  return new AwsError('SerializationException', `Expected ${expected} at '${path}'.`, 400)
}

function readValue(model: ServiceModel, ref: ShapeRef, v: unknown, path: string): unknown {
  if (v === null || v === undefined) return undefined
  const shape = shapeOf(model, ref.shape)
  switch (shape.type) {
    case 'structure':
      if (typeof v !== 'object' || Array.isArray(v)) throw wrongType(path, 'a structure')
      return readStructure(model, shape, fieldsOf(v), path)
    case 'list':
      if (!Array.isArray(v)) throw wrongType(path, 'a list')
      // A null item is kept, for the validator to refuse ("Member must not be null"): lists are dense.
      return v.map((x, i) =>
        x === null ? null : readValue(model, shape.member as ShapeRef, x, `${path}.${i + 1}.member`),
      )
    case 'map': {
      if (typeof v !== 'object' || Array.isArray(v)) throw wrongType(path, 'a map')
      const out: Record<string, unknown> = {}
      for (const [k, x] of Object.entries(fieldsOf(v))) {
        const r = readValue(model, shape.value as ShapeRef, x, `${path}.${k}`)
        if (r !== undefined) setEntry(out, k, r)
      }
      return out
    }
    case 'string':
      if (typeof v !== 'string') throw wrongType(path, 'a string')
      return v
    case 'boolean':
      if (typeof v !== 'boolean') throw wrongType(path, 'a boolean')
      return v
    case 'integer':
    case 'long':
      if (typeof v !== 'number' || !Number.isInteger(v)) throw wrongType(path, 'an integer')
      return v
    case 'float':
    case 'double':
      if (typeof v !== 'number') throw wrongType(path, 'a number')
      return v
    case 'timestamp': {
      const t = typeof v === 'number' ? v * 1000 : typeof v === 'string' ? Date.parse(v) : NaN
      if (Number.isNaN(t)) throw wrongType(path, 'a timestamp (epoch seconds)')
      return new Date(t)
    }
    case 'blob':
      if (typeof v !== 'string' || !BASE64.test(v)) throw wrongType(path, 'base64 text')
      return Buffer.from(v, 'base64')
  }
}

function readStructure(
  model: ServiceModel,
  shape: Shape,
  doc: Readonly<Record<string, unknown>>,
  path: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [m, ref] of Object.entries(shape.members ?? {})) {
    if (!Object.hasOwn(doc, m)) continue
    const v = readValue(model, ref, doc[m], path ? `${path}.${m}` : m)
    if (v !== undefined) out[m] = v
  }
  return out
}

/** An operation's input from its JSON request document. */
export function readJsonInput(
  model: ServiceModel,
  shapeName: string | undefined,
  doc: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  return shapeName ? readStructure(model, shapeOf(model, shapeName), doc, '') : {}
}

function writeValue(model: ServiceModel, ref: ShapeRef, v: unknown): unknown {
  const shape = shapeOf(model, ref.shape)
  switch (shape.type) {
    case 'structure':
      return writeStructure(model, shape, fieldsOf(v))
    case 'list':
      return (v as unknown[]).map((x) => writeValue(model, shape.member as ShapeRef, x))
    case 'map': {
      const out: Record<string, unknown> = {}
      for (const [k, x] of Object.entries(fieldsOf(v)))
        if (x !== undefined && x !== null) setEntry(out, k, writeValue(model, shape.value as ShapeRef, x))
      return out
    }
    case 'timestamp':
      return v instanceof Date ? v.getTime() / 1000 : typeof v === 'string' ? Date.parse(v) / 1000 : v
    case 'blob':
      return Buffer.from(v as Uint8Array).toString('base64')
    default:
      return v
  }
}

function writeStructure(
  model: ServiceModel,
  shape: Shape,
  v: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [m, ref] of Object.entries(shape.members ?? {})) {
    const x = v[m]
    if (x !== undefined && x !== null) out[m] = writeValue(model, ref, x)
  }
  return out
}

/** An operation's output as its JSON response document. */
export function writeJsonOutput(
  model: ServiceModel,
  shapeName: string | undefined,
  output: unknown,
): unknown {
  if (!shapeName || output === undefined || output === null) return {}
  return writeStructure(model, shapeOf(model, shapeName), fieldsOf(output))
}
