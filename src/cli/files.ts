/** File writing for commands: all-or-nothing, so a failed command leaves nothing half-written. */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  type Dirent,
} from 'node:fs'
import { basename, dirname, join, relative, resolve, sep } from 'node:path'

/** Whether `dir` holds exactly `files`: the same names (nothing else) with the same bytes. */
function holdsExactly(dir: string, files: Readonly<Record<string, string>>): boolean {
  let entries: Dirent[]
  try {
    entries = readdirSync(dir, { withFileTypes: true, recursive: true })
  } catch {
    return false
  }
  let count = 0
  for (const e of entries) {
    if (e.isDirectory()) continue
    if (!e.isFile()) return false
    const name = relative(dir, join(e.parentPath, e.name)).split(sep).join('/')
    const content = files[name]
    if (content === undefined || !Object.hasOwn(files, name)) return false
    if (!readFileSync(join(dir, name)).equals(Buffer.from(content))) return false
    count++
  }
  return count === Object.keys(files).length
}

/**
 * Replaces the contents of `dir` with `files` (name → content) in one step: written into a
 * sibling temporary directory first, then swapped in. A crash mid-way leaves the old directory.
 * A directory that already holds exactly these files is left as it is (its files keep their
 * times, so tools that watch them see no change): returns whether anything was written.
 */
export function replaceDirectory(dir: string, files: Readonly<Record<string, string>>): boolean {
  const target = resolve(dir)
  if (holdsExactly(target, files)) return false
  const parent = dirname(target)
  mkdirSync(parent, { recursive: true })
  const tmp = mkdtempSync(join(parent, `.${basename(target)}.tmp-`))
  try {
    for (const [name, content] of Object.entries(files)) {
      const p = join(tmp, name)
      mkdirSync(dirname(p), { recursive: true })
      writeFileSync(p, content)
    }
    const old = existsSync(target) ? `${tmp}.old` : undefined
    if (old) renameSync(target, old)
    renameSync(tmp, target)
    if (old) rmSync(old, { recursive: true, force: true })
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true })
    throw e
  }
  return true
}

/** Writes new files into `dir`; the caller has checked that none exists (or chose to overwrite). */
export function writeFiles(dir: string, files: Readonly<Record<string, string>>): string[] {
  const written: string[] = []
  for (const [name, content] of Object.entries(files)) {
    const p = join(dir, name)
    mkdirSync(dirname(p), { recursive: true })
    writeFileSync(p, content)
    written.push(p)
  }
  return written
}
