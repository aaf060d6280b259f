import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { generatedSections, replaceSection } from '../scripts/readme.js'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

for (const [name, body] of Object.entries(generatedSections())) {
  test(`the README section ${name} is up to date (node --import tsx scripts/readme.ts)`, () => {
    assert.equal(replaceSection(readme, name, body), readme)
  })
}

test('the README quick start has one set-up command and the test command', () => {
  const quick = readme.slice(
    readme.indexOf('## Quick start'),
    readme.indexOf('\n## ', readme.indexOf('## Quick start') + 5),
  )
  const commands = [...quick.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.trim())
  assert.equal(commands.length, 3, commands.join('\n'))
  assert.match(commands[0]!, /^npm ci && npx crosspipe /)
  // The "your own pipeline" walk-through (test/e2e/readme-walkthrough.test.ts runs it as written).
  assert.match(commands[1]!, /^mkdir my-pipeline && cd my-pipeline\nnpx crosspipe init\n/)
  assert.equal(commands[2], 'npm test')
})
