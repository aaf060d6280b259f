/**
 * Human output of `crosspipe check`: the calls grouped by stage and action, each ✓ or ✗ with the
 * policies that decided it, the fix of each ✗ as YAML, then the other findings. Pure: returns
 * text, the CLI prints it.
 */
import type { CheckCall, CheckFinding, CheckResult } from './types.js'

/** Options for {@link renderCheck}. */
export interface RenderOptions {
  /** ANSI colours (the CLI decides: TTY and no NO_COLOR). */
  readonly color: boolean
  /** Show the reasons of allowed calls too (default: the first one only). */
  readonly verbose?: boolean
}

const CODES = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const

/** Renders a check result as text for a terminal. */
export function renderCheck(result: CheckResult, opts: RenderOptions): string {
  const paint = (c: keyof typeof CODES, s: string): string =>
    opts.color ? `\u001b[${CODES[c]}m${s}\u001b[0m` : s
  const lines: string[] = []
  const denied = result.findings.filter((f) => f.rule === 'call-denied')
  const fixOf = (c: CheckCall): CheckFinding | undefined => {
    const prefix = `${c.stage} / ${c.action}: ${c.principal} cannot ${c.operation} on ${c.resource} (`
    return denied.find((f) => f.message.startsWith(prefix))
  }
  const indent = (s: string, n: number): string => s.replace(/\n$/, '').replace(/^/gm, ' '.repeat(n))

  let stage = ''
  let action = ''
  for (const c of result.calls) {
    if (c.stage !== stage) {
      stage = c.stage
      action = ''
      lines.push(paint('bold', c.stage === '(pipeline)' ? 'Pipeline' : `Stage ${c.stage}`))
    }
    if (c.action !== action) {
      action = c.action
      lines.push(`  ${paint('bold', c.action)}`)
    }
    const ok = c.decision === 'Allowed'
    const mark = ok ? paint('green', '✓') : paint('red', '✗')
    lines.push(`    ${mark} ${shortPrincipal(c)} ${c.operation} ${paint('dim', c.resource)}`)
    const reasons = ok && !opts.verbose ? c.reasons.slice(0, 1) : c.reasons
    for (const r of reasons) lines.push(paint('dim', `        ${r}`))
    if (!ok) {
      const f = fixOf(c)
      if (f?.fix) {
        lines.push(`        ${fixLabel(f)}:`)
        lines.push(indent(f.fix, 10))
      }
    }
  }
  const others = result.findings.filter((f) => f.rule !== 'call-denied')
  if (others.length) {
    lines.push('')
    lines.push(paint('bold', 'Findings'))
    for (const f of others) {
      const sev = f.severity === 'error' ? paint('red', 'error') : paint('yellow', 'warning')
      const where = f.location
        ? `${f.location.file}${f.location.line ? `:${f.location.line}:${f.location.column ?? 1}` : ''}`
        : `${f.stack}`
      lines.push(`  ${sev} ${paint('bold', f.rule)} ${f.stack}/${f.logicalId} ${paint('dim', where)}`)
      lines.push(indent(f.message, 4))
      if (f.fix) {
        lines.push(`    ${fixLabel(f)}:`)
        lines.push(indent(f.fix, 6))
      }
    }
  }
  const deniedCount = result.calls.filter((c) => c.decision !== 'Allowed').length
  const errors = result.findings.filter((f) => f.severity === 'error').length
  const warnings = result.findings.length - errors
  lines.push('')
  const summary = `${result.calls.length} calls: ${result.calls.length - deniedCount} allowed, ${deniedCount} denied; ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`
  lines.push(result.ok ? paint('green', `✓ ${summary}`) : paint('red', `✗ ${summary}`))
  return lines.join('\n') + '\n'
}

/** Says that a printed fix was proven by the engine (every printed fix is; see fixes.ts). */
function fixLabel(f: CheckFinding): string {
  if (!f.fixVerified) return 'fix'
  return `fix (verified: applied to the model, ${f.rule === 'call-denied' ? 'the call is allowed' : 'the finding is gone'} and no allowed call becomes denied)`
}

/** `role/name (account)` reads better than the full ARN in a list. */
function shortPrincipal(c: CheckCall): string {
  const m = /^arn:[^:]+:iam::(\d{12}|[^:]*):role\/(?:.*\/)?([^/]+)$/.exec(c.principal)
  return m ? `${m[2]}@${m[1]}` : c.principal
}
