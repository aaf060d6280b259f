import { CrosspipeError } from '../../model/errors.js'
import type { Command } from '../command.js'

/**
 * A command that this version does not have yet. It is listed so users see what is coming, and
 * fails loudly (exit 2) instead of pretending to work.
 */
export function notYet(name: string, summary: string): Command {
  return {
    name,
    summary: `${summary} (not in this version yet)`,
    usage: `crosspipe ${name}`,
    options: {},
    maxPositionals: 99,
    run() {
      return Promise.reject(
        new CrosspipeError(
          'usage',
          `crosspipe ${name} is not available in this version of crosspipe yet; nothing was done.`,
        ),
      )
    },
  }
}
