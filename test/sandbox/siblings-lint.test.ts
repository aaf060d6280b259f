// The lint rule that keeps the sandbox's services siblings (DESIGN.md "Operations declared once"):
// no file under src/sandbox/services/<name>/ imports another service's folder. ESLint's own API on
// snippets, with the rule as eslint.config.js declares it, and on the real configuration.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ESLint, type Linter } from 'eslint'
import tseslint from 'typescript-eslint'

const root = join(import.meta.dirname, '..', '..')
const RULE = '@typescript-eslint/no-restricted-imports'

async function siblingConfigs(): Promise<Linter.Config[]> {
  const mod = (await import(pathToFileURL(join(root, 'eslint.config.js')).href)) as {
    siblingConfigs: Linter.Config[]
  }
  return mod.siblingConfigs
}

async function lint(code: string, file: string): Promise<string[]> {
  const eslint = new ESLint({
    cwd: root,
    overrideConfigFile: true,
    overrideConfig: [
      {
        files: ['**/*.ts'],
        languageOptions: { parser: tseslint.parser as Linter.Parser },
        plugins: {
          '@typescript-eslint': tseslint.plugin as unknown as NonNullable<Linter.Config['plugins']>[string],
        },
      },
      ...(await siblingConfigs()),
    ],
  })
  const [r] = await eslint.lintText(code, { filePath: join(root, file) })
  return r!.messages.map((m) => `${m.line}:${m.ruleId}`)
}

test("a service importing another service's folder is an error, at any depth, types included", async () => {
  const cases: [string, string][] = [
    ["import { callJson } from '../codebuild/calls.js'\n", 'src/sandbox/services/codepipeline/actions.ts'],
    ["import type { KmsInternal } from '../kms/api.js'\n", 'src/sandbox/services/s3/api.ts'],
    ["export { issueSession } from '../sts/store.js'\n", 'src/sandbox/services/cloudformation/host.ts'],
    ["import type { RoleRecord } from '../iam/store.js'\n", 'src/sandbox/services/sts/store.ts'],
    ["import { s3Service } from '../../s3/api.js'\n", 'src/sandbox/services/cloudformation/providers/aws.ts'],
    ["import { x } from '../../services/kms/api.js'\n", 'src/sandbox/services/s3/api.ts'],
    ["import { x } from '../codebuild'\n", 'src/sandbox/services/codepipeline/api.ts'],
  ]
  for (const [code, file] of cases)
    assert.deepEqual(await lint(code, file), [`1:${RULE}`], `${file}: ${code}`)
})

test('what services share, their own files and src/iam stay importable', async () => {
  const cases: [string, string][] = [
    ["import { callJson } from '../../internal/client.js'\n", 'src/sandbox/services/codepipeline/actions.ts'],
    ["import type { KmsInternal } from '../../internal/contracts.js'\n", 'src/sandbox/services/s3/api.ts'],
    [
      "import { issueSession } from '../../auth/sessions.js'\n",
      'src/sandbox/services/cloudformation/host.ts',
    ],
    ["import { parseArn } from '../../../iam/index.js'\n", 'src/sandbox/services/codebuild/api.ts'],
    ["import type { Service } from '../types.js'\n", 'src/sandbox/services/iam/api.ts'],
    ["import { IamStore } from './store.js'\n", 'src/sandbox/services/iam/api.ts'],
    [
      "import type { ResourceProvider } from '../../../cfn-providers.js'\n",
      'src/sandbox/services/cloudformation/providers/aws.ts',
    ],
    [
      "import { XmlObject } from '../../../gateway/xml.js'\n",
      'src/sandbox/services/cloudformation/providers/aws.ts',
    ],
  ]
  for (const [code, file] of cases) assert.deepEqual(await lint(code, file), [], `${file}: ${code}`)
})

test('the real configuration applies it to every service folder and keeps the sandbox boundary', async () => {
  const eslint = new ESLint({ cwd: root })
  const services = readdirSync(join(root, 'src/sandbox/services'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
  assert.ok(services.length >= 9, services.join(', '))
  for (const name of services) {
    const on = (await eslint.calculateConfigForFile(
      join(root, `src/sandbox/services/${name}/api.ts`),
    )) as Linter.Config
    const text = JSON.stringify(on.rules?.[RULE])
    const other = services.find((o) => o !== name)!
    assert.ok(text.includes(`"../${other}/**"`), `${name}: ${text}`)
    assert.ok(!text.includes(`"../${name}/**"`), `${name} may import its own folder`)
    // The module boundary of src/sandbox still holds there (no path to the CLI).
    assert.ok(text.includes('"**/cli/**"'), `${name}: ${text}`)
  }
  // Outside the services, the rule is the sandbox's boundary alone.
  const runtime = (await eslint.calculateConfigForFile(join(root, 'src/sandbox/runtime.ts'))) as Linter.Config
  assert.ok(!JSON.stringify(runtime.rules?.[RULE]).includes('services/'))
})

test("the internal contracts name no service's own types: from services/ they import only services/types.js", () => {
  const text = readFileSync(join(root, 'src/sandbox/internal/contracts.ts'), 'utf8')
  const from = [...text.matchAll(/^(?:import|export)[^;]*?from '([^']+)'/gms)].map((m) => m[1]!)
  assert.ok(from.length >= 2, from.join(', '))
  const services = from.filter((p) => p.includes('/services/'))
  assert.deepEqual(services, ['../services/types.js'], `contracts.ts imports ${from.join(', ')}`)
})

test('AwsError is at the bottom of the sandbox: errors.ts imports nothing, and nothing reaches it through the gateway', () => {
  const text = readFileSync(join(root, 'src/sandbox/errors.ts'), 'utf8')
  assert.equal(text.match(/^(?:import|export)[^;]*?from '/gm), null, 'errors.ts imports nothing')
  assert.equal(existsSync(join(root, 'src/sandbox/gateway/errors.ts')), false)
})
