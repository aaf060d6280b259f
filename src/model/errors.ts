/**
 * User errors: bad input, bad usage. They carry a stable code, where the problem is, what is
 * wrong and what would be right. The CLI maps every `CrosspipeError` to exit code 2 and prints it
 * without a stack trace; anything else that escapes is a bug.
 */

/** A position in an input file (1-based line and column). */
export interface SourceLocation {
  readonly file: string
  readonly line?: number
  readonly column?: number
  /** The field path inside the document, e.g. `stages[1].targets[0].account`. */
  readonly path?: string
}

/** One problem found in the input. */
export interface InputProblem {
  readonly location?: SourceLocation
  /** What is wrong, and what would be right. */
  readonly message: string
}

/** The error codes of user errors, stable for `--json` consumers. */
export type ErrorCode =
  | 'invalid-definition'
  | 'invalid-manifest'
  | 'invalid-template'
  | 'invalid-policy'
  | 'file-not-found'
  | 'limit-exceeded'
  | 'usage'
  | 'unresolvable'
  | 'sandbox'
  | 'credentials'
  | 'unreachable'

/** A user error: bad input or usage. Maps to exit code 2. */
export class CrosspipeError extends Error {
  override readonly name = 'CrosspipeError'
  readonly code: ErrorCode
  readonly problems: readonly InputProblem[]

  constructor(code: ErrorCode, message: string, problems: readonly InputProblem[] = []) {
    super(message)
    this.code = code
    this.problems = problems
  }
}

/** Formats a location as `file:line:column (path)`, the form editors and terminals link. */
export function formatLocation(loc: SourceLocation): string {
  let s = loc.file
  if (loc.line !== undefined) s += `:${loc.line}${loc.column !== undefined ? `:${loc.column}` : ''}`
  if (loc.path) s += ` (${loc.path})`
  return s
}

/** Renders an error with its problems, one per line, for terminals. */
export function formatError(err: CrosspipeError): string {
  const lines = [err.message]
  for (const p of err.problems)
    lines.push(`  ${p.location ? formatLocation(p.location) + ': ' : ''}${p.message}`)
  return lines.join('\n')
}
