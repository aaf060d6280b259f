// Writes dist/data/models/<service>.json: the AWS service models of the services the sandbox serves,
// stripped to what its operation layer (src/sandbox/operations/) reads — operations, shapes, member
// types, required members, length/value/pattern/enum constraints and the wire traits (locationName,
// flattened, timestampFormat, resultWrapper, xmlNamespace, targetPrefix, jsonVersion).
//
// Which models. AWS publishes each service's model in two forms: Smithy (github.com/aws/api-models-aws,
// on Maven Central, not npm) and the JSON "API model" that botocore (Python), the AWS CLI v1 and the
// AWS SDK for JavaScript v2 share (the same file, service-2.json in botocore, apis/*.normal.json in
// aws-sdk-js v2's repository). The npm package `aws-sdk` (v2, exact-pinned devDependency) ships only the
// minified form, apis/<service>-<version>.min.json, which keeps shapes, types, required members and
// every wire trait but drops documentation *and the constraints* (min, max, pattern, enum: zero of them
// in sts-2011-06-15.min.json). The constraints are what makes AWS's validation messages, so:
//   1. botocore's service-2.json, when a Python botocore is installed (the AWS CLI v1 and boto3 this
//      project's tests drive bring it): the full model, the very one those clients serialize with;
//   2. otherwise the `aws-sdk` package's min.json: shapes and wire traits without constraints, and the
//      build says so on one line (the sandbox then checks types and required members only).
// `npm pack` (prepack) refuses to pack without botocore, so a published crosspipe always has the
// constraints. The file's `source` says which was used.
//
// Called by scripts/build.mjs, which runs it only when a file is missing or its source changed, or
// when the files were written by an older form of this script (FORMAT).
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { gunzipSync } from 'node:zlib'

/** The services whose models are written: every service the sandbox serves (or will soon). */
export const MODEL_SERVICES = [
  'sts',
  'iam',
  'kms',
  'cloudformation',
  'codepipeline',
  'codebuild',
  'logs',
  's3',
  'ssm',
  'ecr',
]

function awsSdkDir(root) {
  return dirname(createRequire(join(root, 'package.json')).resolve('aws-sdk/package.json'))
}

let botocoreCache
/** The installed botocore's data folder and version, or undefined. */
function botocore() {
  if (botocoreCache !== undefined) return botocoreCache || undefined
  botocoreCache = false
  if (process.env.CROSSPIPE_NO_BOTOCORE) return undefined
  try {
    const out = execFileSync(
      'python3',
      ['-c', 'import botocore, os; print(os.path.dirname(botocore.__file__)); print(botocore.__version__)'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 20_000 },
    ).split('\n')
    if (out[0] && out[1] && existsSync(join(out[0], 'data')))
      botocoreCache = { dir: join(out[0], 'data'), version: out[1] }
  } catch {
    // no python3 or no botocore: the aws-sdk package's models, without constraints
  }
  return botocoreCache || undefined
}

/** Where the models come from, as recorded in each file (build.mjs compares it). */
export function apiModelsSource(root) {
  const b = botocore()
  if (b) return `botocore@${b.version}`
  try {
    return `aws-sdk@${JSON.parse(readFileSync(join(awsSdkDir(root), 'package.json'), 'utf8')).version}`
  } catch {
    return undefined
  }
}

/**
 * The form of the files this script writes: raised when it keeps more of the models (2: restXml's
 * `payload` and `xmlAttribute`), so files an older script wrote are written again.
 */
const FORMAT = 2

/** The `source` an existing model file was written from, or undefined (also when written in an older form). */
export function apiModelsWrittenFrom(dir) {
  try {
    const sources = new Set(
      MODEL_SERVICES.map((s) => {
        const m = JSON.parse(readFileSync(join(dir, `${s}.json`), 'utf8'))
        return m.format === FORMAT ? m.source : undefined
      }),
    )
    return sources.size === 1 ? [...sources][0] : undefined
  } catch {
    return undefined
  }
}

/** The API version of a service: the one the aws-sdk package has (the version crosspipe was written for). */
function apiVersion(root, service) {
  const re = new RegExp(`^${service}-(\\d{4}-\\d{2}-\\d{2})\\.min\\.json$`)
  const versions = readdirSync(join(awsSdkDir(root), 'apis'))
    .map((f) => re.exec(f)?.[1])
    .filter(Boolean)
    .sort()
  if (!versions.length) throw new Error(`aws-sdk has no model of ${service}`)
  return versions.at(-1)
}

/** The shape properties the layer reads (see src/sandbox/operations/model.ts). */
const SHAPE_KEYS = [
  'type',
  'required',
  'min',
  'max',
  'pattern',
  'enum',
  'flattened',
  'locationName',
  'timestampFormat',
  'sensitive',
  'xmlNamespace',
  'payload',
]
/** The member (shape reference) properties it reads. */
const MEMBER_KEYS = [
  'locationName',
  'flattened',
  'timestampFormat',
  'xmlNamespace',
  'xmlAttribute',
  'queryName',
  'location',
]

function pick(obj, keys) {
  const out = {}
  for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k]
  return out
}

/**
 * Normalizes a model to named shapes only: min.json inlines shapes (`{}` is a string,
 * `{"type":"integer"}` an integer) and names only the shared ones; here every reference names a
 * shape, so the layer reads one form.
 */
function normalize(model) {
  const shapes = {}
  let n = 0
  const ref = (r, hint) => {
    const traits = pick(r, MEMBER_KEYS)
    if (r.shape) return { shape: r.shape, ...traits }
    const name = `${hint}$${n++}`
    shapes[name] = null
    shapes[name] = shape(r, name)
    return { shape: name, ...traits }
  }
  const shape = (s, name) => {
    const out = pick(s, SHAPE_KEYS)
    if (!out.type) out.type = s.members ? 'structure' : 'string'
    if (s.members) {
      out.members = {}
      for (const [m, r] of Object.entries(s.members)) out.members[m] = ref(r, `${name}.${m}`)
    }
    if (s.member) out.member = ref(s.member, `${name}.member`)
    if (s.key) out.key = ref(s.key, `${name}.key`)
    if (s.value) out.value = ref(s.value, `${name}.value`)
    return out
  }
  for (const [name, s] of Object.entries(model.shapes ?? {})) shapes[name] = shape(s, name)
  const operations = {}
  for (const [name, op] of Object.entries(model.operations)) {
    const o = {}
    if (op.http?.method && op.http.method !== 'POST') o.method = op.http.method
    if (op.input) o.input = ref(op.input, `${name}Request`).shape
    if (op.output) {
      o.output = ref(op.output, `${name}Response`).shape
      if (op.output.resultWrapper) o.resultWrapper = op.output.resultWrapper
    }
    operations[name] = o
  }
  // Keep only what an operation's input or output reaches (errors are the services' own).
  const keep = new Set()
  const visit = (name) => {
    if (!name || keep.has(name)) return
    keep.add(name)
    const s = shapes[name]
    for (const r of [...Object.values(s.members ?? {}), s.member, s.key, s.value]) if (r) visit(r.shape)
  }
  for (const o of Object.values(operations)) {
    visit(o.input)
    visit(o.output)
  }
  const kept = {}
  for (const name of [...keep].sort()) kept[name] = shapes[name]
  return { operations, shapes: kept }
}

/** Writes every model file (atomically each). */
export function writeApiModels(root, dir) {
  const source = apiModelsSource(root)
  if (!source) throw new Error('the aws-sdk package is not installed: run npm ci')
  const b = botocore()
  if (!b)
    process.stderr.write(
      'crosspipe build: no Python botocore found, so the sandbox models come from the aws-sdk package without their constraints (lengths, patterns, enums): install the AWS CLI v1 or boto3 for AWS validation messages\n',
    )
  mkdirSync(dir, { recursive: true })
  for (const service of MODEL_SERVICES) {
    const version = apiVersion(root, service)
    const model = b
      ? JSON.parse(
          gunzipSync(readFileSync(join(b.dir, service, version, 'service-2.json.gz'))).toString('utf8'),
        )
      : JSON.parse(readFileSync(join(awsSdkDir(root), 'apis', `${service}-${version}.min.json`), 'utf8'))
    const metadata = pick(model.metadata, [
      'apiVersion',
      'protocol',
      'jsonVersion',
      'targetPrefix',
      'xmlNamespace',
      'signingName',
      'endpointPrefix',
      'serviceId',
    ])
    const file = join(dir, `${service}.json`)
    writeFileSync(`${file}.tmp`, JSON.stringify({ source, format: FORMAT, metadata, ...normalize(model) }))
    renameSync(`${file}.tmp`, file)
  }
  return { source, services: MODEL_SERVICES.length }
}
