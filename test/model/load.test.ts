import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import {
  DEFINE_PIPELINE_FILE,
  definePipeline,
  exampleProject,
  loadPipeline,
  parsePipeline,
} from '../../src/model/index.js'
import type { PipelineDefinitionInput } from '../../src/model/index.js'
import { CrosspipeError } from '../../src/model/errors.js'

const minimal = `name: shop
ci:
  account: "111111111111"
  region: eu-west-1
source:
  type: codecommit
  repository: shop
stages:
  - name: dev
    targets:
      - account: "222222222222"
      - account: "222222222222"
        region: us-east-1
    stack: shop-dev
`

function problems(fn: () => unknown): CrosspipeError {
  try {
    fn()
  } catch (err) {
    if (err instanceof CrosspipeError) return err
    throw err
  }
  assert.fail('expected a CrosspipeError')
}

test('defaults are applied and target regions resolved', () => {
  const p = parsePipeline(minimal, 'crosspipe.yml')
  assert.deepEqual(p.stages[0]!.targets, [
    { account: '222222222222', region: 'eu-west-1' },
    { account: '222222222222', region: 'us-east-1' },
  ])
  assert.deepEqual(p.naming, { prefix: 'shop', referenceNames: false })
  assert.equal(p.partition, 'aws')
  assert.equal(p.source.type === 'codecommit' && p.source.branch, 'main')
  assert.equal(p.build.computeType, 'BUILD_GENERAL1_SMALL')
  assert.equal(p.build.image, 'aws/codebuild/standard:7.0')
  assert.deepEqual(p.stages[0]!.capabilities, [])
  assert.equal(p.stages[0]!.approval, false)
  assert.equal(p.stages[0]!.template, 'template.yml')
  assert.deepEqual(p.tags, {})
})

test('an explicit naming prefix wins over the name', () => {
  const p = parsePipeline(minimal + 'naming:\n  prefix: sp\n', 'crosspipe.yml')
  assert.equal(p.naming.prefix, 'sp')
})

test('the error lists every problem, in file order, each with file, line, column and path', () => {
  const text = minimal
    .replace('region: eu-west-1', 'region: eu-west-9')
    .replace('repository: shop', 'repository: shop\n  brnach: main')
    .replace('stack: shop-dev', 'stack: shop-dev\n    approval: maybe')
  const err = problems(() => parsePipeline(text, 'dir/crosspipe.yml'))
  assert.equal(err.code, 'invalid-definition')
  assert.match(err.message, /^dir\/crosspipe\.yml is not a valid pipeline definition \(3 problems\)$/)
  assert.deepEqual(
    err.problems.map((p) => [p.location?.file, p.location?.line, p.location?.column, p.location?.path]),
    [
      ['dir/crosspipe.yml', 4, 11, 'ci.region'],
      ['dir/crosspipe.yml', 8, 3, 'source.brnach'],
      ['dir/crosspipe.yml', 16, 15, 'stages[0].approval'],
    ],
  )
})

test('a problem in a merged or aliased value is located where the value is written', () => {
  const text = `name: shop
ci:
  account: "111111111111"
  region: eu-west-1
source:
  type: codecommit
  repository: shop
x-common: &common
  capabilities: [CAPABILITY_AUTO_EXPANDED]
stages:
  - <<: *common
    name: dev
    targets:
      - account: "222222222222"
    stack: shop-dev
`
  const err = problems(() => parsePipeline(text, 'crosspipe.yml'))
  const at = err.problems.map((p) => `${p.location?.line}:${p.location?.column} ${p.location?.path}`)
  assert.deepEqual(at, ['9:18 stages[0].capabilities[0]'])
})

test('definePipeline validates a TypeScript definition with the same rules; locations are paths', () => {
  const def: PipelineDefinitionInput = {
    name: 'shop',
    ci: { account: '111111111111', region: 'eu-west-1' },
    source: { type: 's3', bucket: 'shop-source', key: 'source.zip' },
    stages: [{ name: 'dev', targets: [{ account: '222222222222' }], stack: 'shop-dev' }],
  }
  const p = definePipeline(def)
  assert.equal(p.stages[0]!.targets[0]!.region, 'eu-west-1')

  const bad = {
    ...def,
    stages: [
      { name: 'dev', targets: [{ account: '222222222222', region: 'eu-west-7' }], stack: 'shop-dev' },
      { name: 'dev', targets: [], stack: 'shop-dev' },
    ],
  }
  const err = problems(() => definePipeline(bad))
  assert.deepEqual(
    err.problems.map((p) => [p.location?.file, p.location?.line, p.location?.path, p.message]),
    [
      [
        DEFINE_PIPELINE_FILE,
        undefined,
        'stages[0].targets[0].region',
        '"eu-west-7" is not an AWS region; did you mean "eu-west-1"?',
      ],
      [
        DEFINE_PIPELINE_FILE,
        undefined,
        'stages[1].targets',
        'a stage needs at least one target (an account and region)',
      ],
      [
        DEFINE_PIPELINE_FILE,
        undefined,
        'stages[1].name',
        'duplicate stage name "dev": stages[0] has it already (stages[0].name); stage names are unique, ignoring case',
      ],
    ],
  )
})

test('definePipeline refuses a number where an account id belongs (JavaScript callers have no types)', () => {
  const err = problems(() =>
    definePipeline({
      name: 'shop',
      ci: { account: 111111111111 as unknown as string, region: 'eu-west-1' },
      source: { type: 'codecommit', repository: 'shop' },
      stages: [{ name: 'dev', targets: [{ account: '222222222222' }], stack: 'shop-dev' }],
    }),
  )
  assert.deepEqual(
    err.problems.map((p) => [p.location?.path, p.message]),
    [
      [
        'ci.account',
        'expected a string, got the number 111111111111 — the CI (tools) account id, quoted: "111111111111"',
      ],
    ],
  )
})

test('loadPipeline reads a file; a missing one says how to make one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'crosspipe-model-'))
  const file = join(dir, 'crosspipe.yml')
  writeFileSync(file, exampleProject()['crosspipe.yml']!)
  const p = await loadPipeline(file)
  assert.equal(p.name, 'my-app')

  const missing = join(dir, 'nope.yml')
  await assert.rejects(loadPipeline(missing), (err: unknown) => {
    assert.ok(err instanceof CrosspipeError)
    assert.equal(err.code, 'file-not-found')
    assert.ok(err.message.includes(missing))
    assert.match(err.message, /crosspipe init/)
    return true
  })
  await assert.rejects(
    loadPipeline(dir),
    (err: unknown) => err instanceof CrosspipeError && err.code === 'file-not-found',
  )

  writeFileSync(file, 'name: [')
  await assert.rejects(loadPipeline(file), (err: unknown) => {
    assert.ok(err instanceof CrosspipeError)
    assert.equal(err.code, 'invalid-definition')
    assert.equal(err.problems[0]?.location?.file, file)
    return true
  })
})

/** Renders a 12-digit id in the ways a user might write it unquoted in YAML. */
const withAccount = (written: string): string =>
  minimal.replace('account: "222222222222"', `account: ${written}`)

test('property: a quoted 12-digit account id loads as exactly that string', () => {
  fc.assert(
    fc.property(fc.stringMatching(/^\d{12}$/), (id) => {
      const p = parsePipeline(withAccount(`"${id}"`), 'crosspipe.yml')
      assert.equal(p.stages[0]!.targets[0]!.account, id)
    }),
  )
})

test('property: an unquoted account id is never accepted, so it is never silently a different account', () => {
  fc.assert(
    fc.property(
      fc.stringMatching(/^\d{12}$/),
      fc.constantFrom('plain', 'octal', 'hex', 'exp', 'yaml11'),
      (id, form) => {
        const n = BigInt(id)
        const written =
          form === 'octal'
            ? `0o${n.toString(8)}`
            : form === 'hex'
              ? `0x${n.toString(16)}`
              : form === 'exp'
                ? `${id[0]}.${id.slice(1)}e11`
                : id
        const text = (form === 'yaml11' ? '%YAML 1.1\n---\n' : '') + withAccount(written)
        const err = problems(() => parsePipeline(text, 'crosspipe.yml'))
        assert.equal(err.problems.length, 1)
        const p = err.problems[0]!
        assert.equal(p.location?.path, 'stages[0].targets[0].account')
        assert.match(
          p.message,
          new RegExp(`^account ${written.replace('.', '\\.')} is unquoted, so YAML reads it as `),
        )
      },
    ),
  )
})

test('fromTemplate stages: the stack tags of parametersFile, read next to the definition', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'crosspipe-stacktags-'))
  const files = exampleProject()
  const def = files['crosspipe.yml']!.replace(
    '      Environment: dev\n',
    '      Environment: dev\n    parametersFile: config.json\n    deployPermissions:\n      fromTemplate: true\n',
  ).replace(
    '      Environment: prod\n',
    '      Environment: prod\n    parametersFile: built-by-the-build.json\n    deployPermissions:\n      fromTemplate: true\n',
  )
  writeFileSync(join(dir, 'crosspipe.yml'), def)
  writeFileSync(join(dir, 'template.yml'), files['template.yml']!)
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ Parameters: { A: 'b' }, Tags: { team: 'x' } }))
  const p = await loadPipeline(join(dir, 'crosspipe.yml'))
  assert.deepEqual(p.stages[0]!.appTemplate!.stackTags, { team: 'x' })
  // Not there: the build makes it, so its tags are unknown until deployment.
  assert.equal(p.stages[1]!.appTemplate!.stackTags, undefined)
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ Tags: { team: 1 } }))
  await assert.rejects(loadPipeline(join(dir, 'crosspipe.yml')), (e: unknown) => {
    assert.ok(e instanceof CrosspipeError)
    assert.equal(e.code, 'invalid-definition')
    assert.match(e.message, /config\.json: the value of tag "team" is not a string/)
    assert.equal(e.problems[0]!.location?.path, 'stages[0].parametersFile')
    return true
  })
  writeFileSync(join(dir, 'config.json'), '{ not json')
  await assert.rejects(loadPipeline(join(dir, 'crosspipe.yml')), /config\.json: not valid JSON/)
})
