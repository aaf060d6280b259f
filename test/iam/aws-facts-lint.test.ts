// The lint rule that keeps the AWS domain in src/iam/aws-facts.ts: ESLint's own API, on snippets
// (with the rule as eslint.config.js declares it) and on the real configuration (where it applies).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ESLint, type Linter } from 'eslint'
import tseslint from 'typescript-eslint'

const root = join(import.meta.dirname, '..', '..')

async function ruleAsConfigured(): Promise<Linter.Config> {
  const mod = (await import(pathToFileURL(join(root, 'eslint.config.js')).href)) as {
    awsFactsRule: Linter.Config
  }
  return mod.awsFactsRule
}

async function lint(code: string, file: string): Promise<string[]> {
  const eslint = new ESLint({
    cwd: root,
    overrideConfigFile: true,
    overrideConfig: [
      { files: ['**/*.ts'], languageOptions: { parser: tseslint.parser as Linter.Parser } },
      await ruleAsConfigured(),
    ],
  })
  const [r] = await eslint.lintText(code, { filePath: join(root, file) })
  return r!.messages.map((m) => `${m.line}:${m.ruleId}`)
}

test('a literal amazonaws.com in src/ is an error: strings, template text, regular expressions', async () => {
  const cases: [string, string[]][] = [
    ["export const p = 'codebuild.amazonaws.com'\n", ['1:no-restricted-syntax']],
    ['export const h = (r: string) => `s3.${r}.amazonaws.com`\n', ['1:no-restricted-syntax']],
    ["export const cn = 'amazonaws.com.cn'\n", ['1:no-restricted-syntax']],
    ["export const ns = 'https://sts.amazonaws.com/doc/2011-06-15/'\n", ['1:no-restricted-syntax']],
    [
      "export const label = (n: string) => n.replace(/\\.amazonaws\\.com$/, '')\n",
      ['1:no-restricted-syntax'],
    ],
    // Comments are documentation, not a copy of the fact; other domains are not AWS's.
    ['// the principal codebuild.amazonaws.com\nexport const x = 1\n', []],
    ["export const y = 'example.com'\n", []],
  ]
  for (const [code, want] of cases)
    assert.deepEqual(await lint(code, 'src/sandbox/services/example.ts'), want, code)
})

test('the facts module and truly generated files may write it; tests may too', async () => {
  const code = "export const d = 'amazonaws.com'\n"
  assert.deepEqual(await lint(code, 'src/iam/aws-facts.ts'), [])
  assert.deepEqual(await lint(code, 'src/check/cdk/bootstrap-template.generated.ts'), [])
  assert.deepEqual(await lint(code, 'test/iam/example.test.ts'), [])
})

test('the real configuration applies the rule to src/ and not to the facts module', async () => {
  const eslint = new ESLint({ cwd: root })
  const on = (await eslint.calculateConfigForFile(join(root, 'src/check/catalogue.ts'))) as Linter.Config
  const rule = on.rules?.['no-restricted-syntax'] as unknown[] | undefined
  assert.ok(rule, 'no-restricted-syntax is not configured for src/check')
  assert.match(JSON.stringify(rule), /amazonaws/)
  const facts = (await eslint.calculateConfigForFile(join(root, 'src/iam/aws-facts.ts'))) as Linter.Config
  assert.doesNotMatch(JSON.stringify(facts.rules?.['no-restricted-syntax'] ?? null), /amazonaws/)
})
