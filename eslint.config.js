// ESLint flat config: typescript-eslint type-checked rules, plus the module boundaries of DESIGN.md.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

/** Which src/ modules each module may import (DESIGN.md "Architecture"). Anything else is an error. */
const allowed = {
  model: ['iam'],
  iam: [],
  synth: ['model', 'iam'],
  check: ['model', 'synth', 'iam'],
  plan: ['model', 'synth', 'iam'],
  aws: ['iam', 'model'],
  deploy: ['plan', 'aws', 'model', 'synth', 'iam'],
  sandbox: ['iam', 'model'],
  graph: ['model', 'synth', 'check', 'iam'],
  cli: ['model', 'iam', 'synth', 'check', 'plan', 'aws', 'deploy', 'sandbox', 'graph'],
}
const modules = Object.keys(allowed)

const boundaryConfigs = modules.map((mod) => {
  const forbidden = modules.filter((m) => m !== mod && !allowed[mod].includes(m))
  return {
    files: [`src/${mod}/**/*.ts`],
    rules: {
      // typescript-eslint's form of the rule, for `allowTypeImports`: the sandbox's operations are
      // typed with the SDK's own input and output types (import type: no client, no runtime cost).
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
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
                    message: 'Only src/aws builds AWS SDK clients.',
                    allowTypeImports: true,
                  },
                ]),
          ],
        },
      ],
    },
  }
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
      'no-restricted-imports': 'off',
    },
  },
)
