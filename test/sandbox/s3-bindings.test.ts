// S3's HTTP bindings are declared once per operation (services/s3/http.ts); this proves each one
// says what AWS's S3 model says: every header, query parameter, path label and prefix header an
// operation reads, and every header it answers, is the model's member at the model's location
// with the model's name, read as the model's type. A binding that drifts from the model fails here.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { serviceModel, type Shape, type ShapeRef } from '../../src/sandbox/operations/index.js'
import { OPERATION_LIST } from '../../src/sandbox/services/s3/operations/index.js'
import type { InputMember } from '../../src/sandbox/services/s3/http.js'

const model = serviceModel('s3')
const shape = (name: string): Shape => {
  const s = model.shapes[name]
  assert.ok(s, `shape ${name} is in the model`)
  return s
}

/** How the sandbox must read a member of this model type from a header or query string. */
function readAs(ref: ShapeRef): string {
  switch (shape(ref.shape).type) {
    case 'integer':
    case 'long':
      return 'integer'
    case 'boolean':
      return 'boolean'
    case 'timestamp':
      return 'timestamp'
    case 'list':
      return 'list'
    default:
      return 'string'
  }
}

/**
 * Where the binding follows the AWS SDK v3's type rather than botocore's, and why. Nothing else
 * may differ.
 */
const SDK_TYPED: Readonly<Record<string, string>> = {
  // botocore types the Expires header a string; the SDK v3 a Date, which is what reaches the handler.
  'PutObject.Expires': 'timestamp',
  'CopyObject.Expires': 'timestamp',
  'CreateMultipartUpload.Expires': 'timestamp',
  // response-expires is echoed back as the Expires header's text (ExpiresString), as sent.
  'GetObject.ResponseExpires': 'string',
  'HeadObject.ResponseExpires': 'string',
}

/** Collects a binding's disagreement with the model instead of stopping at the first. */
function expect(problems: string[], ok: boolean, what: string): void {
  if (!ok) problems.push(what)
}

test('every S3 input binding is the model member at its location, name and type', () => {
  const problems: string[] = []
  let checked = 0
  for (const op of OPERATION_LIST) {
    const o = model.operations[op.name]
    assert.ok(o, `${op.name} is an operation of the model`)
    const input = o.input ? shape(o.input) : undefined
    for (const [member, b] of Object.entries(op.input as Record<string, InputMember>)) {
      const ref = input?.members?.[member]
      const where = `${op.name}.${member}`
      if (!ref) {
        problems.push(`${where}: not a member of ${o.input ?? '(no input)'}`)
        continue
      }
      const name = (n: string | undefined, want: string | undefined): void =>
        expect(
          problems,
          n?.toLowerCase() === want?.toLowerCase(),
          `${where}: named ${n}, the model says ${want}`,
        )
      const type = (t: string | undefined): void =>
        expect(
          problems,
          (t ?? 'string') === (SDK_TYPED[where] ?? readAs(ref)),
          `${where}: read as ${t ?? 'string'}, the model's type is ${readAs(ref)}`,
        )
      const at = (want: string): void =>
        expect(
          problems,
          ref.location === want,
          `${where}: bound to ${b.in}, the model's location is ${ref.location}`,
        )
      switch (b.in) {
        case 'path':
          at('uri')
          break
        case 'header':
          at('header')
          name(b.name, ref.locationName)
          type(b.type)
          break
        case 'query':
          at('querystring')
          name(b.name, ref.locationName)
          type(b.type)
          break
        case 'prefix-headers':
          at('headers')
          name(b.prefix, ref.locationName)
          break
        case 'payload':
          expect(problems, input?.payload === member, `${where}: not the model's payload (${input?.payload})`)
          break
      }
      checked++
    }
  }
  assert.deepEqual(problems, [])
  assert.ok(checked > 100, `${checked} bindings checked`)
})

test("every header an S3 operation answers is the model's output member with the model's name", () => {
  const problems: string[] = []
  let checked = 0
  for (const op of OPERATION_LIST) {
    const o = model.operations[op.name]!
    const output = o.output ? shape(o.output) : undefined
    for (const [member, name] of Object.entries((op.output.headers ?? {}) as Record<string, string>)) {
      // The SDK v3 answers the Expires header's text as ExpiresString (Expires, a date, may not parse);
      // the model's member is Expires.
      const ref = output?.members?.[member === 'ExpiresString' ? 'Expires' : member]
      const where = `${op.name}.${member}`
      if (!ref) {
        problems.push(`${where}: answered as header ${name}, not a member of ${o.output ?? '(no output)'}`)
        continue
      }
      expect(
        problems,
        ref.location === 'header',
        `${where}: a header, the model's location is ${ref.location}`,
      )
      expect(
        problems,
        name.toLowerCase() === ref.locationName?.toLowerCase(),
        `${where}: header ${name}, the model says ${ref.locationName}`,
      )
      checked++
    }
    const prefix = op.output.prefixHeaders
    if (prefix) {
      const ref = output?.members?.[String(prefix.member)]
      expect(problems, ref?.location === 'headers', `${op.name}.${String(prefix.member)}: prefix headers`)
      expect(problems, prefix.prefix.toLowerCase() === ref?.locationName?.toLowerCase(), `${op.name}: prefix`)
    }
  }
  assert.deepEqual(problems, [])
  assert.ok(checked > 50, `${checked} output headers checked`)
})
