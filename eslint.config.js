// ESLint flat config: typescript-eslint type-checked rules, plus the module boundaries of DESIGN.md.
import { readdirSync } from 'node:fs'
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

/**
 * Which src/ modules each module may import (DESIGN.md "Architecture"). Anything else is an error.
 * `workgraph` is the one scheduler of dependent work that the sandbox's CloudFormation and `deploy`
 * share (DESIGN.md "One work graph"); it imports nothing, so neither side gains a path to the other.
 */
const allowed = {
  model: ['iam'],
  iam: [],
  workgraph: [],
  synth: ['model', 'iam'],
  check: ['model', 'synth', 'iam'],
  plan: ['model', 'synth', 'iam'],
  aws: ['iam', 'model'],
  deploy: ['plan', 'aws', 'model', 'synth', 'iam', 'workgraph'],
  sandbox: ['iam', 'model', 'workgraph'],
  graph: ['model', 'synth', 'check', 'iam'],
  cli: ['model', 'iam', 'synth', 'check', 'plan', 'aws', 'deploy', 'sandbox', 'graph'],
}
const modules = Object.keys(allowed)

/**
 * DESIGN.md "One home for AWS facts": the AWS domain is written only in src/iam/aws-facts.ts, so no
 * copy can miss that China's endpoints are under amazonaws.com.cn or that service principals are
 * not. Strings, template text and regular expressions are all caught; comments are not code.
 */
const AWS_DOMAIN_MESSAGE =
  'DESIGN.md "One home for AWS facts": take DNS suffixes, endpoint hosts, service principals and XML namespaces from src/iam/aws-facts.ts instead of writing amazonaws.com.'
export const awsFactsRule = {
  files: ['src/**/*.ts'],
  ignores: ['src/iam/aws-facts.ts', 'src/**/*.generated.ts'],
  rules: {
    'no-restricted-syntax': [
      'error',
      { selector: 'Literal[value=/amazonaws\\.com/]', message: AWS_DOMAIN_MESSAGE },
      { selector: 'Literal[regex.pattern=/amazonaws/]', message: AWS_DOMAIN_MESSAGE },
      { selector: 'TemplateElement[value.raw=/amazonaws\\.com/]', message: AWS_DOMAIN_MESSAGE },
    ],
  },
}

/** The import patterns src/<mod> may not use (DESIGN.md "Architecture"). */
function boundaryPatterns(mod) {
  const forbidden = modules.filter((m) => m !== mod && !allowed[mod].includes(m))
  return [
    ...(forbidden.length === 0
      ? []
      : [
          {
            group: forbidden.flatMap((m) => [`**/${m}/*`, `**/${m}/**`, `**/${m}`]),
            message: `DESIGN.md: src/${mod} may import only ${allowed[mod].join(', ') || 'nothing else in src/'}.`,
          },
        ]),
    ...(mod === 'aws'
      ? []
      : [
          {
            group: ['@aws-sdk/client-*', '@aws-sdk/credential-providers'],
            message: 'Only src/aws builds AWS SDK clients (type-only imports of their shapes are fine).',
            allowTypeImports: true,
          },
        ]),
  ]
}

const boundaryConfigs = modules.map((mod) => ({
  files: [`src/${mod}/**/*.ts`],
  rules: {
    // The typescript-eslint rule, so that type-only imports of the SDK's shapes are allowed
    // (the sandbox's S3 operations are typed with them) while building a client is not.
    '@typescript-eslint/no-restricted-imports': ['error', { patterns: boundaryPatterns(mod) }],
  },
}))

/**
 * DESIGN.md "Operations declared once": the sandbox's services are siblings. A file under
 * src/sandbox/services/<name>/ may not import another service's folder, not even its types; what
 * services share lives below them in src/sandbox (the runtime, auth/, internal/contracts.ts,
 * internal/client.ts, cfn-providers.ts) and services/index.ts, the composition root, is the one
 * file that knows them all. Generated from the folder list, so a new service is covered at once.
 * The patterns are relative to each depth (`../kms/…` beside api.ts, `../../kms/…` one folder
 * down), because `../../../iam/…` from a service's top folder is src/iam, which the sandbox may use.
 */
const SIBLINGS_MESSAGE =
  'DESIGN.md "Operations declared once": services never import each other. Put what they share in src/sandbox (internal/contracts.ts, internal/client.ts, auth/, cfn-providers.ts) and wire it in services/index.ts.'
const serviceFolders = readdirSync(new URL('./src/sandbox/services/', import.meta.url), {
  withFileTypes: true,
})
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort()
export const siblingConfigs = serviceFolders.flatMap((name) => {
  const others = serviceFolders.filter((o) => o !== name)
  return [1, 2, 3].map((depth) => ({
    files: [`src/sandbox/services/${name}/${'*/'.repeat(depth - 1)}*.ts`],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            ...boundaryPatterns('sandbox'),
            {
              group: others.flatMap((o) => [
                `${'../'.repeat(depth)}${o}`,
                `${'../'.repeat(depth)}${o}/**`,
                `**/services/${o}`,
                `**/services/${o}/**`,
              ]),
              message: SIBLINGS_MESSAGE,
            },
          ],
        },
      ],
    },
  }))
})

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bin/**', 'scripts/**', '.crosspipe/**', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'error',
    },
  },
  ...boundaryConfigs,
  ...siblingConfigs,
  awsFactsRule,
  // Only the CLI writes to the terminal; tests, benchmarks and the sandbox's own process entry may too.
  { files: ['src/cli/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'], rules: { 'no-console': 'off' } },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-floating-promises': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      '@typescript-eslint/no-restricted-imports': 'off',
    },
  },
)
