/**
 * Regenerates the generated sections of README.md (between `<!-- NAME -->` and `<!-- /NAME -->`):
 * the CLI reference from the command table, the configuration reference from src/model/README.md. Run: `node --import tsx scripts/readme.ts`.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { cliReferenceMarkdown } from '../src/cli/reference.js'

/**
 * A module's reference document without its own first heading; its other headings are moved so
 * that they sit below the README's `## ` section heading.
 */
export function moduleSection(path: string): string {
  const text = readFileSync(new URL(`../${path}`, import.meta.url), 'utf8')
  const top = /^(#+) .*\n/.exec(text)
  const body = top ? text.slice(top[0].length) : text
  const shift = 3 - ((top?.[1]?.length ?? 2) + 1)
  let fenced = false
  return body
    .split('\n')
    .map((line) => {
      if (/^\s*```/.test(line)) fenced = !fenced
      const h = fenced ? null : /^(#+) /.exec(line)
      return h ? `${'#'.repeat(Math.max(3, h[1]!.length + shift))} ${line.slice(h[0].length)}` : line
    })
    .join('\n')
    .trim()
}

/** Every generated section of README.md: name → body. */
export function generatedSections(): Record<string, string> {
  return {
    'cli-reference': cliReferenceMarkdown(),
    'config-reference': moduleSection('src/model/README.md'),
    'check-rules': moduleSection('src/check/RULES.md'),
  }
}

/** Replaces the body of a marked section. */
export function replaceSection(text: string, name: string, body: string): string {
  const re = new RegExp(`(<!-- ${name} -->\\n)[\\s\\S]*?(<!-- /${name} -->)`)
  if (!re.test(text)) throw new Error(`README.md has no <!-- ${name} --> … <!-- /${name} --> section`)
  return text.replace(re, `$1\n${body.trim()}\n\n$2`)
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let text = readFileSync('README.md', 'utf8')
  for (const [name, body] of Object.entries(generatedSections())) text = replaceSection(text, name, body)
  writeFileSync('README.md', text)
}
