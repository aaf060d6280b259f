/**
 * The CLI reference in Markdown, generated from the command table so that the README cannot
 * drift from `--help` (test/readme.test.ts compares them).
 */
import { GLOBAL_OPTIONS } from './args.js'
import type { OptionSpec } from './args.js'
import { COMMANDS } from './commands/index.js'

function optionRows(options: Readonly<Record<string, OptionSpec>>): string[] {
  return Object.entries(options).map(([name, o]) => {
    const flag = `${o.short ? `\`-${o.short}\`, ` : ''}\`--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}\``
    const def = o.default !== undefined && o.default !== false ? ` Default: \`${String(o.default)}\`.` : ''
    return `| ${flag.replace(/\|/g, '\\|')} | ${o.description.replace(/\|/g, '\\|')}${def} |`
  })
}

/** The "CLI reference" section body. */
export function cliReferenceMarkdown(): string {
  const parts: string[] = [
    'Every command takes `--help`, `--json` (machine-readable output), `--no-color` and `--verbose`.',
    'Colour is off when `NO_COLOR` is set or output is not a terminal. Exit codes: `0` ok, `1` findings',
    'or a failed deploy/run, `2` bad input or usage (with file, line, column and what would be right).',
    '',
  ]
  for (const c of COMMANDS) {
    parts.push(`### \`crosspipe ${c.name}\``, '', c.summary + '.', '', '```text', c.usage)
    if (c.details) parts.push('', c.details.trim())
    parts.push('```', '')
    const rows = optionRows(c.options)
    if (rows.length) parts.push('| option | meaning |', '| --- | --- |', ...rows, '')
  }
  parts.push(
    '### Options of every command',
    '',
    '| option | meaning |',
    '| --- | --- |',
    ...optionRows(GLOBAL_OPTIONS),
    '',
  )
  return parts.join('\n')
}
