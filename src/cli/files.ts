/** File writing for commands: all-or-nothing, so a failed command leaves nothing half-written. */
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'

/**
 * Replaces the contents of `dir` with `files` (name → content) in one step: written into a
 * sibling temporary directory first, then swapped in. A crash mid-way leaves the old directory.
 */
export function replaceDirectory(dir: string, files: Readonly<Record<string, string>>): void {
  const target = resolve(dir)
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
