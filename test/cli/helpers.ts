/** Runs the built CLI (bin/crosspipe.js → dist/) as a user would, in a child process. */
import { spawnSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

export const BIN = resolve(import.meta.dirname, '../../bin/crosspipe.js')

export interface CliRun {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs `crosspipe ...args` in `cwd` with NO_COLOR set (output is not a TTY anyway). */
export function cli(
  args: readonly string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): CliRun {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? process.cwd(),
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    timeout: 60_000,
  })
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}

/** A fresh temporary directory. */
export function tempDir(prefix = 'crosspipe-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}
