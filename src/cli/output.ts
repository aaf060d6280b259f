/**
 * Terminal output: the only place crosspipe writes to the terminal. Colour only on a TTY and
 * never when NO_COLOR is set (https://no-color.org).
 */
import type { IoHost, IoMessage } from '../model/io.js'

/** Where and how the CLI writes. Tests pass string sinks. */
export interface Terminal {
  readonly out: (s: string) => void
  readonly err: (s: string) => void
  readonly color: boolean
  /** Whether stderr is an interactive terminal (live progress redraws only there). */
  readonly interactive: boolean
}

/** The process terminal. */
export function processTerminal(): Terminal {
  const env = process.env
  const color = !('NO_COLOR' in env) && env.TERM !== 'dumb' && Boolean(process.stdout.isTTY)
  return {
    out: (s) => void process.stdout.write(s),
    err: (s) => void process.stderr.write(s),
    color,
    interactive: Boolean(process.stderr.isTTY),
  }
}

const codes = { red: 31, green: 32, yellow: 33, blue: 34, dim: 2, bold: 1 } as const
/** Wraps text in an ANSI style when colour is on. */
export function style(t: Terminal, name: keyof typeof codes, s: string): string {
  return t.color ? `\u001b[${codes[name]}m${s}\u001b[0m` : s
}

/** An I/O host that renders library messages as lines on stderr (results go to stdout by the command). */
export function terminalIo(
  t: Terminal,
  opts: { readonly verbose?: boolean; readonly quiet?: boolean } = {},
): IoHost {
  return {
    notify(m: IoMessage) {
      if (m.level === 'debug' && !opts.verbose) return
      if (opts.quiet && (m.level === 'info' || m.level === 'debug')) return
      const prefix =
        m.level === 'error'
          ? style(t, 'red', 'error: ')
          : m.level === 'warn'
            ? style(t, 'yellow', 'warning: ')
            : m.level === 'debug'
              ? style(t, 'dim', 'debug: ')
              : ''
      t.err(`${prefix}${m.message}\n`)
    },
  }
}
