/**
 * AWS's service models, as scripts/gen-api-models.mjs writes them to `dist/data/models/<service>.json`
 * (botocore's JSON API model when the build machine has botocore, else the `aws-sdk` package's
 * min.json, which lacks the constraints; the file's `source` says which). Loaded lazily, once per
 * service, on the first request that needs it: the sandbox's start-up reads none.
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** A reference to a shape from a member, list member, map key or value, with its wire traits. */
export interface ShapeRef {
  readonly shape: string
  /** The member's name on the wire (awsQuery parameter and XML element), when not its own. */
  readonly locationName?: string
  readonly flattened?: boolean
  readonly timestampFormat?: string
  /** REST bindings (`header`, `uri`, `querystring`…); the RPC protocols ignore them. */
  readonly location?: string
  /** EC2's query name; present only in EC2's model. */
  readonly queryName?: string
  /** restXml: the member is an attribute of its structure's element (S3's `xsi:type`), not a child. */
  readonly xmlAttribute?: boolean
  /** restXml: the namespace of the element (a payload's `xmlns`). */
  readonly xmlNamespace?: XmlNamespace
}

/** An XML namespace of a restXml model: the default namespace, or a prefix bound to it (`xsi`). */
export interface XmlNamespace {
  readonly uri: string
  readonly prefix?: string
}

/** A shape, with the constraints AWS validates input against. */
export interface Shape {
  readonly type:
    | 'structure'
    | 'list'
    | 'map'
    | 'string'
    | 'integer'
    | 'long'
    | 'float'
    | 'double'
    | 'boolean'
    | 'timestamp'
    | 'blob'
  readonly required?: readonly string[]
  readonly members?: Readonly<Record<string, ShapeRef>>
  readonly member?: ShapeRef
  readonly key?: ShapeRef
  readonly value?: ShapeRef
  readonly min?: number
  readonly max?: number
  readonly pattern?: string
  readonly enum?: readonly string[]
  readonly flattened?: boolean
  readonly locationName?: string
  readonly timestampFormat?: string
  /** Values AWS never echoes (passwords, plaintext): validation messages leave the value out. */
  readonly sensitive?: boolean
  /** restXml: the namespace its element declares (S3's Grantee binds `xsi`). */
  readonly xmlNamespace?: XmlNamespace
  /** REST: the member that is the whole HTTP body (`@httpPayload`). */
  readonly payload?: string
}

/** An operation: its input and output shapes and, for awsQuery, the result element. */
export interface OperationModel {
  readonly input?: string
  readonly output?: string
  readonly resultWrapper?: string
}

/** A service's model, stripped to what the operation layer reads. */
export interface ServiceModel {
  /** `botocore@1.43.11` or `aws-sdk@2.1693.0` (no constraints). */
  readonly source: string
  readonly metadata: {
    readonly apiVersion: string
    readonly protocol: string
    readonly jsonVersion?: string
    readonly targetPrefix?: string
    readonly xmlNamespace?: string
    readonly signingName?: string
    readonly endpointPrefix: string
  }
  readonly operations: Readonly<Record<string, OperationModel>>
  readonly shapes: Readonly<Record<string, Shape>>
}

const DIR = join('dist', 'data', 'models')
const cache = new Map<string, ServiceModel>()

/** The models folder: in the first folder up from this module that holds `dist/data/models/`. */
function modelsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 6; i++) {
    const d = join(dir, DIR)
    if (existsSync(d)) return d
    dir = dirname(dir)
  }
  throw new Error(
    `the AWS service models (${DIR}) are missing: run \`npm run build\` in crosspipe's folder (it writes them from botocore or the aws-sdk package)`,
  )
}

/** The model of a service by its model file name (`sts`, `logs`…), read once. */
export function serviceModel(name: string): ServiceModel {
  let m = cache.get(name)
  if (!m) {
    const file = join(modelsDir(), `${name}.json`)
    if (!existsSync(file))
      throw new Error(`the AWS service model ${file} is missing: run \`npm run build\` in crosspipe's folder`)
    m = JSON.parse(readFileSync(file, 'utf8')) as ServiceModel
    cache.set(name, m)
  }
  return m
}

/** A shape of a model by name; a missing one is a bug in the generator or a declaration. */
export function shapeOf(model: ServiceModel, name: string): Shape {
  const s = model.shapes[name]
  if (!s) throw new Error(`model ${model.metadata.endpointPrefix}: no shape ${name}`)
  return s
}

/**
 * A value the layer has already checked to be a structure or map of its model (a JSON object):
 * the one place the layer treats an `unknown` as one.
 */
export function fieldsOf(v: unknown): Readonly<Record<string, unknown>> {
  return v as Readonly<Record<string, unknown>>
}

/**
 * Sets a map entry whose key comes from a request: defined, not assigned, so that a key named
 * `__proto__` is a key like any other (assigning it would replace the object's prototype and the
 * entry would vanish — an EncryptionContext entry, say, that Decrypt must then be given back).
 */
export function setEntry(out: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })
}
