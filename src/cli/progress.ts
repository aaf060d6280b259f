/**
 * Live progress of a deploy or destroy: one line per stack with its status, resource counts and
 * the latest event. On an interactive terminal the block of lines is redrawn in place; otherwise
 * each change is printed once, as a log line, so CI logs stay readable.
 */
import type { IoHost, IoMessage } from '../model/io.js'
import type { StackResult } from '../deploy/index.js'
import type { Terminal } from './output.js'
import { style } from './output.js'

interface StatusData {
  readonly id: string
  readonly status: string
  readonly counts?: { total: number; complete: number; inProgress: number; failed: number }
  readonly latest?: { logicalId: string; resourceType: string; status: string; reason?: string }
}

function colourFor(status: string): 'green' | 'red' | 'yellow' | 'dim' {
  if (/FAILED|ROLLBACK/.test(status)) return 'red'
  if (/_COMPLETE$|no-change|created|updated|deleted|replaced/.test(status)) return 'green'
  if (/IN_PROGRESS|PENDING/.test(status)) return 'yellow'
  return 'dim'
}

/** An I/O host rendering deploy messages; `finish()` leaves the final block on screen. */
export function progressIo(t: Terminal, opts: { readonly verbose?: boolean }): IoHost & { finish(): void } {
  const lines = new Map<string, string>()
  let drawn = 0
  const redraw = (): void => {
    if (!t.interactive) return
    const block = [...lines.values()]
    t.err((drawn ? `\u001b[${drawn}A` : '') + block.map((l) => `\u001b[2K${l}\n`).join(''))
    drawn = block.length
  }
  const set = (id: string, line: string): void => {
    lines.set(id, line)
    if (t.interactive) redraw()
    else t.err(line + '\n')
  }
  const log = (s: string): void => {
    if (t.interactive && drawn) {
      // Print above the live block, then redraw it below.
      t.err(`\u001b[${drawn}A\u001b[0J${s}\n`)
      drawn = 0
      redraw()
    } else t.err(s + '\n')
  }
  return {
    notify(m: IoMessage) {
      const data = m.data as Record<string, unknown> | undefined
      switch (m.code) {
        case 'deploy.stack.status': {
          const d = data as unknown as StatusData
          const c = d.counts
          const counts = c && c.total ? ` ${c.complete}/${c.total} resources` : ''
          const latest = d.latest
            ? `  ${d.latest.logicalId} ${d.latest.status}${d.latest.reason ? `: ${d.latest.reason}` : ''}`
            : ''
          set(
            d.id,
            `  ${d.id}  ${style(t, colourFor(d.status), d.status)}${counts}${style(t, 'dim', latest)}`,
          )
          return
        }
        case 'deploy.stack.start':
          set(String(data?.id), `  ${String(data?.id)}  ${style(t, 'yellow', String(data?.action))}…`)
          return
        case 'deploy.stack.done': {
          const r = (data as { result: StackResult }).result
          const err = r.error
            ? `: ${r.error.logicalId ? `${r.error.logicalId} ` : ''}${r.error.reason ?? r.error.message}`
            : ''
          set(
            r.id,
            `  ${r.id}  ${style(t, colourFor(r.outcome), r.outcome)} (${(r.durationMs / 1000).toFixed(1)} s)${err}`,
          )
          if (r.error?.advice) log(`  ${style(t, 'yellow', 'hint:')} ${r.error.advice}`)
          return
        }
        case 'deploy.plan':
        case 'destroy.plan': {
          const planLines = (data as { lines?: string[] } | undefined)?.lines
          log((planLines ?? [m.message]).join('\n'))
          return
        }
        case 'deploy.summary':
        case 'destroy.summary':
        case 'deploy.pipeline.started':
          return // the command prints the result itself
        default:
          if (m.level === 'debug' && !opts.verbose) return
          log(
            m.level === 'error'
              ? `${style(t, 'red', 'error:')} ${m.message}`
              : m.level === 'warn'
                ? `${style(t, 'yellow', 'warning:')} ${m.message}`
                : m.message,
          )
      }
    },
    finish() {
      drawn = 0
    },
  }
}
