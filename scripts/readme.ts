/**
 * Regenerates the generated sections of README.md (between `<!-- NAME -->` and `<!-- /NAME -->`):
 * the CLI reference from the command table. Run: `node --import tsx scripts/readme.ts`.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { cliReferenceMarkdown } from '../src/cli/reference.js'

/** Replaces the body of a marked section. */
export function replaceSection(text: string, name: string, body: string): string {
  const re = new RegExp(`(<!-- ${name} -->\\n)[\\s\\S]*?(<!-- /${name} -->)`)
  if (!re.test(text)) throw new Error(`README.md has no <!-- ${name} --> … <!-- /${name} --> section`)
  return text.replace(re, `$1\n${body.trim()}\n\n$2`)
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let text = readFileSync('README.md', 'utf8')
  text = replaceSection(text, 'cli-reference', cliReferenceMarkdown())
  writeFileSync('README.md', text)
}
