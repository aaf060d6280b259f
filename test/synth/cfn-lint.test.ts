/**
 * cfn-lint over synthesized templates: zero errors and zero warnings. Needs `cfn-lint` on the PATH
 * (pip install cfn-lint); skips visibly without it. One invocation for every template: cfn-lint
 * starts slowly.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { synthesize } from '../../src/synth/index.js'
import { DEV, examplePipeline, manyTargets } from './builder.js'

const hasCfnLint = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' }).status === 0

test(
  'cfn-lint: zero errors and zero warnings for the example, variants and a 10-target pipeline',
  { skip: hasCfnLint ? false : 'needs cfn-lint on the PATH (pip install cfn-lint)' },
  () => {
    const variants = {
      example: examplePipeline(),
      ten: manyTargets(10),
      'source-account': examplePipeline({
        source: { type: 'codecommit', repository: 'repo', branch: 'main', account: DEV },
        naming: { prefix: 'ref', referenceNames: true },
      }),
      connection: examplePipeline({
        source: {
          type: 'connection',
          connectionArn: 'arn:aws:codeconnections:eu-west-1:111111111111:connection/abc',
          repository: 'o/r',
          branch: 'main',
        },
      }),
      s3: examplePipeline({ source: { type: 's3', bucket: 'src-bucket', key: 'app.zip' } }),
      json: examplePipeline(),
    }
    const dir = mkdtempSync(join(tmpdir(), 'crosspipe-lint-'))
    try {
      const files: string[] = []
      for (const [name, p] of Object.entries(variants)) {
        mkdirSync(join(dir, name))
        const out = synthesize(p, { format: name === 'json' ? 'json' : 'yaml' })
        for (const t of out.templates) {
          const f = join(dir, name, t.file)
          writeFileSync(f, out.files[t.file]!)
          files.push(f)
        }
      }
      const r = spawnSync('cfn-lint', ['--format', 'parseable', '--', ...files], { encoding: 'utf8' })
      const findings = r.stdout.split('\n').filter((l) => /:[EW]\d+:/.test(l))
      assert.deepEqual(findings, [], r.stdout + r.stderr)
      assert.ok(r.status === 0 || r.status === 8, `cfn-lint exit ${r.status}: ${r.stdout}${r.stderr}`)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  },
)
