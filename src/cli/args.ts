/**
 * Argument parsing on top of node:util's parseArgs, with usage errors that say what would be
 * right (the nearest option name) instead of parseArgs' own messages.
 */
import { parseArgs } from 'node:util'
import { CrosspipeError } from '../model/errors.js'

/** One option of a command. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean'
  readonly short?: string
  readonly multiple?: boolean
  /** Placeholder shown in help, e.g. `FILE`. */
  readonly value?: string
  readonly description: string
  readonly default?: string | boolean
}

/** Options every command accepts. */
export const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  help: { type: 'boolean', short: 'h', description: 'Show help for this command.' },
  json: { type: 'boolean', description: 'Print the result as JSON on stdout.' },
  'no-color': {
    type: 'boolean',
    description: 'No colour (also when NO_COLOR is set or output is not a terminal).',
  },
  verbose: { type: 'boolean', short: 'v', description: 'Print debug messages.' },
}

/** The parsed command line of one command. */
export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>
  readonly positionals: readonly string[]
}

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!
    prev[0] = i
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1))
      diag = tmp
    }
  }
  return prev[b.length]!
}

/** The candidate nearest to `word`, if it is close enough to be a plausible typo. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined
  let bestD = Infinity
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase())
    if (d < bestD) {
      bestD = d
      best = c
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined
}

/** Parses `argv` for a command; unknown options and missing values are usage errors (exit 2). */
export function parseCommandArgs(
  command: string,
  argv: readonly string[],
  options: Readonly<Record<string, OptionSpec>>,
  maxPositionals: number,
): ParsedArgs {
  const all = { ...GLOBAL_OPTIONS, ...options }
  const config = Object.fromEntries(
    Object.entries(all).map(([k, o]) => [
      k,
      { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) },
    ]),
  )
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({ args: [...argv], options: config, allowPositionals: true, strict: true })
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e)
    const unknown = /Unknown option '(-{1,2}[^']+)'/.exec(msg)
    if (unknown) {
      const name = unknown[1]!.replace(/^-+/, '')
      const guess = nearest(name, Object.keys(all))
      throw new CrosspipeError(
        'usage',
        `crosspipe ${command}: unknown option ${unknown[1]}${guess ? ` (did you mean --${guess}?)` : ''}. See \`crosspipe ${command} --help\`.`,
      )
    }
    const missing = /Option '(-[^']+)' argument missing/.exec(msg) ?? /Option '([^']+)'.*argument/.exec(msg)
    if (missing) {
      throw new CrosspipeError(
        'usage',
        `crosspipe ${command}: option ${missing[1]} needs a value. See \`crosspipe ${command} --help\`.`,
      )
    }
    throw new CrosspipeError('usage', `crosspipe ${command}: ${msg}. See \`crosspipe ${command} --help\`.`)
  }
  if (parsed.positionals.length > maxPositionals && !parsed.values.help) {
    throw new CrosspipeError(
      'usage',
      `crosspipe ${command}: unexpected argument "${parsed.positionals[maxPositionals]}". See \`crosspipe ${command} --help\`.`,
    )
  }
  const values: Record<string, string | boolean | string[] | undefined> = {}
  for (const [k, o] of Object.entries(all)) {
    const v = parsed.values[k] as string | boolean | string[] | undefined
    values[k] = v ?? o.default
  }
  return { values, positionals: parsed.positionals }
}

/** Renders the options of a command for `--help`. */
export function renderOptions(options: Readonly<Record<string, OptionSpec>>): string {
  const rows = Object.entries({ ...options, ...GLOBAL_OPTIONS }).map(([k, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${k}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`
    const def = o.default !== undefined && o.default !== false ? ` (default: ${String(o.default)})` : ''
    return [flag, o.description + def] as const
  })
  const w = Math.max(...rows.map(([f]) => f.length))
  return rows.map(([f, d]) => `  ${f.padEnd(w)}  ${d}`).join('\n')
}
