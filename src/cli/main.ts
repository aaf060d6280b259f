/**
 * `crosspipe`: the command-line entry. Parses the command, runs it, and maps outcomes to exit
 * codes in one place: 0 ok, 1 findings or a failed deploy/run, 2 bad input or usage. User errors
 * (`CrosspipeError`) print without a stack trace; anything else is a bug and propagates.
 */
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { networkError } from '../aws/network.js'
import { CrosspipeError, formatError } from '../model/errors.js'
import { nearest, parseCommandArgs } from './args.js'
import { EXIT } from './command.js'
import type { Command } from './command.js'
import { processTerminal, style } from './output.js'
import type { Terminal } from './output.js'
import { COMMAND_TABLE as COMMANDS } from './commands/table.js'

/**
 * The package version, from crosspipe's package.json: the nearest one above this module, which
 * runs from dist/src/cli (per-file build), dist/cli (the bundled CLI) or src/cli (tsx).
 */
export function version(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string
        version: string
      }
      if (pkg.name === 'crosspipe') return pkg.version
    } catch {
      // no package.json here: look further up
    }
    if (dirname(dir) === dir) return 'unknown'
  }
}

function topHelp(): string {
  const w = Math.max(...COMMANDS.map((c) => c.name.length))
  return `crosspipe ${version()} — least-privilege cross-account AWS delivery pipelines

Usage: crosspipe <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`).join('\n')}

Options:
  -h, --help     Show help (also: crosspipe <command> --help)
      --version  Print the version
      --json     Machine-readable output on commands that report something

Exit codes: 0 ok, 1 findings or a failed deploy/run, 2 bad input or usage.
`
}

/** An error response of an AWS API, as the SDK throws it (a ServiceException carries `$fault`). */
function awsServiceError(e: unknown): { name: string; message: string } | undefined {
  if (e instanceof Error && typeof (e as { $fault?: unknown }).$fault === 'string')
    return { name: e.name, message: e.message }
  return undefined
}

/** Runs the CLI with `argv` (without node and script); returns the exit code. */
export async function main(argv: readonly string[], term: Terminal = processTerminal()): Promise<number> {
  const [first, ...rest] = argv
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    if (first === 'help' && rest[0]) return main([rest[0], '--help'], term)
    term.out(topHelp())
    return first === undefined ? EXIT.badInput : EXIT.ok
  }
  if (first === '--version' || first === '-V') {
    term.out(`${version()}\n`)
    return EXIT.ok
  }
  const entry = COMMANDS.find((c) => c.name === first)
  if (!entry) {
    const guess = nearest(
      first,
      COMMANDS.map((c) => c.name),
    )
    term.err(
      `crosspipe: unknown command "${first}"${guess ? ` (did you mean "${guess}"?)` : ''}. Run \`crosspipe --help\` for the list.\n`,
    )
    return EXIT.badInput
  }
  try {
    const cmd: Command = await entry.load()
    const args = parseCommandArgs(cmd.name, rest, cmd.options, cmd.maxPositionals)
    const t: Terminal = args.values['no-color'] ? { ...term, color: false } : term
    if (args.values.help) {
      t.out(
        `${cmd.usage}\n\n${cmd.summary}\n${cmd.details ? `\n${cmd.details.trim()}\n` : ''}\nOptions:\n${(await import('./args.js')).renderOptions(cmd.options)}\n`,
      )
      return EXIT.ok
    }
    return await cmd.run({ args, term: t, cwd: process.cwd() })
  } catch (caught) {
    // An endpoint that cannot be reached is the user's to fix (a sandbox not running, a wrong
    // --endpoint-url), wherever it surfaced: a message, not a stack trace.
    const e = networkError(caught) ?? caught
    if (e instanceof CrosspipeError) {
      if (rest.includes('--json')) {
        term.out(
          JSON.stringify(
            { ok: false, error: { code: e.code, message: e.message, problems: e.problems } },
            null,
            2,
          ) + '\n',
        )
      } else {
        term.err(`${style(term, 'red', 'error:')} ${formatError(e)}\n`)
      }
      return EXIT.badInput
    }
    const aws = awsServiceError(e)
    if (aws) {
      // An error AWS (or the sandbox) answered: a result to report, not a crash of crosspipe.
      if (rest.includes('--json')) {
        term.out(
          JSON.stringify(
            { ok: false, error: { code: 'aws', name: aws.name, message: aws.message } },
            null,
            2,
          ) + '\n',
        )
      } else term.err(`${style(term, 'red', 'error:')} AWS answered ${aws.name}: ${aws.message}\n`)
      return EXIT.failed
    }
    throw e
  }
}
