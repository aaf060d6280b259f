/** The shape of a CLI command: thin glue between arguments, a library function and the terminal. */
import type { OptionSpec, ParsedArgs } from './args.js'
import type { Terminal } from './output.js'

/** What a command gets to run. */
export interface CommandContext {
  readonly args: ParsedArgs
  readonly term: Terminal
  /** The working directory paths are relative to. */
  readonly cwd: string
}

/** One `crosspipe <name>` command. */
export interface Command {
  readonly name: string
  /** One line for the command list. */
  readonly summary: string
  /** `crosspipe <name> …` usage line(s). */
  readonly usage: string
  /** More text for `--help`: what it does, examples. */
  readonly details?: string
  readonly options: Readonly<Record<string, OptionSpec>>
  readonly maxPositionals: number
  /** Returns the exit code: 0 ok, 1 findings or failure, 2 bad input (thrown as CrosspipeError). */
  run(ctx: CommandContext): Promise<number>
}

/** Exit codes, in one place (DESIGN.md). */
export const EXIT = { ok: 0, failed: 1, badInput: 2 } as const
