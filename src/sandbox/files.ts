/**
 * Zip archives (what CodePipeline artifacts and CodeBuild sources are) and the buildspec's
 * file globs, over a working directory on this machine.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { unzipSync, zipSync, type Zippable } from 'fflate'

/** Every regular file under a directory, as `/`-separated paths relative to it, sorted. */
export function listFiles(root: string): string[] {
  const out: string[] = []
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name)
      const st = statSync(p, { throwIfNoEntry: false })
      if (!st) continue
      if (st.isDirectory()) walk(p)
      else if (st.isFile()) out.push(relative(root, p).split(sep).join('/'))
    }
  }
  walk(root)
  return out.sort()
}

/** Zips files (paths relative to `root`) under the names given. */
export function zipFiles(root: string, files: readonly { path: string; name: string }[]): Buffer {
  const z: Zippable = {}
  for (const f of files) z[f.name] = readFileSync(join(root, f.path))
  return Buffer.from(zipSync(z, { level: 6 }))
}

/** Zips a whole directory. */
export function zipDir(root: string): Buffer {
  return zipFiles(
    root,
    listFiles(root).map((p) => ({ path: p, name: p })),
  )
}

/** Unzips into a directory; entries that would land outside it are refused. */
export function unzipTo(data: Uint8Array, dir: string): number {
  const entries = unzipSync(data)
  const root = resolve(dir)
  let n = 0
  for (const [name, body] of Object.entries(entries)) {
    if (name.endsWith('/')) continue
    const target = resolve(root, name)
    if (!target.startsWith(root + sep)) throw new Error(`zip entry ${name} points outside the directory`)
    mkdirSync(dirname(target), { recursive: true })
    writeFileSync(target, body)
    n++
  }
  return n
}

/** The entries of a zip as a map of names to bodies; undefined when the data is not a zip. */
export function readZip(data: Uint8Array): Record<string, Uint8Array> | undefined {
  try {
    return unzipSync(data)
  } catch {
    return undefined
  }
}

/**
 * A buildspec glob as a regular expression: `**` any number of directories, `*` any characters
 * but `/`, `?` one character (https://docs.aws.amazon.com/codebuild/latest/userguide/build-spec-ref.html#build-spec.artifacts.files).
 */
export function globRegExp(glob: string): RegExp {
  let g = glob.replace(/^\.\//, '')
  if (g.endsWith('/')) g += '**/*'
  let re = ''
  for (let i = 0; i < g.length; i++) {
    const c = g[i]!
    if (c === '*' && g[i + 1] === '*') {
      // `**/` matches zero or more directories; a trailing `**` matches everything below.
      if (g[i + 2] === '/') {
        re += '(?:.*/)?'
        i += 2
      } else {
        re += '.*'
        i += 1
      }
    } else if (c === '*') re += '[^/]*'
    else if (c === '?') re += '[^/]'
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`^${re}$`)
}
