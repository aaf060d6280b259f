/**
 * Property test: random valid definitions synthesize to templates and manifests with every
 * cross-account property and within every limit (test/synth/checks.ts), byte-identically on repeat.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import type { PolicyStatementInput, ResolvedPipeline, ResolvedStage } from '../../src/model/schema.js'
import { CrosspipeError } from '../../src/model/errors.js'
import { planStacks, synthesize } from '../../src/synth/index.js'
import { assertCrossAccountProperties, assertSameYaml } from './checks.js'

const accountArb = fc.constantFrom(
  '111111111111',
  '222222222222',
  '333333333333',
  '444444444444',
  '012345678901',
  '999999999999',
)
const regionArb = fc.constantFrom('eu-west-1', 'us-east-1', 'ap-southeast-4', 'eu-central-1')
const nameArb = fc
  .stringMatching(/^[a-z][a-z0-9-]{0,39}$/)
  .filter((s) => !s.endsWith('-') && !s.includes('--'))

/** Any text, including control characters and non-ASCII: names and comments come from users. */
const textArb = (maxLength: number) =>
  fc.oneof(fc.string({ maxLength }), fc.string({ unit: 'binary', maxLength }))

const codeBuildArb = fc.record({
  image: fc.constantFrom('aws/codebuild/standard:7.0', 'aws/codebuild/amazonlinux2-aarch64-standard:3.0'),
  computeType: fc.constantFrom(
    'BUILD_GENERAL1_SMALL',
    'BUILD_GENERAL1_LARGE',
  ) as fc.Arbitrary<'BUILD_GENERAL1_SMALL'>,
  environment: fc.dictionary(fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,10}$/), textArb(20), {
    maxKeys: 3,
  }),
  commands: fc.array(
    textArb(30).filter((x) => x.length > 0),
    { minLength: 1, maxLength: 3 },
  ),
})

const stageArb = (name: string, many: boolean): fc.Arbitrary<ResolvedStage> =>
  fc
    .record({
      targets: fc.uniqueArray(fc.record({ account: accountArb, region: regionArb }), {
        minLength: 1,
        maxLength: many ? 24 : 5,
        selector: (t) => `${t.account}/${t.region}`,
      }),
      approval: fc.oneof(
        fc.boolean(),
        fc.record(
          {
            notify: fc.constant('arn:aws:sns:eu-west-1:111111111111:approve'),
            comment: textArb(40),
          },
          { requiredKeys: [] },
        ),
      ),
      tests: fc.option(codeBuildArb, { nil: undefined }),
      readArtifacts: fc.boolean(),
      parameters: fc.option(
        fc.dictionary(fc.stringMatching(/^[A-Z][A-Za-z]{0,10}$/), textArb(20), {
          maxKeys: 4,
        }),
        { nil: undefined },
      ),
      capabilities: fc.subarray([
        'CAPABILITY_IAM',
        'CAPABILITY_NAMED_IAM',
        'CAPABILITY_AUTO_EXPAND',
      ] as const),
      deployPermissions: fc.option(
        fc.record({
          managedPolicies: fc.subarray([
            'arn:aws:iam::aws:policy/ReadOnlyAccess',
            'arn:aws:iam::aws:policy/AmazonS3FullAccess',
          ]),
          statements: fc.constant([
            { Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: '*' },
          ] as PolicyStatementInput[]),
        }),
        { nil: undefined },
      ),
    })
    .map((s) => ({
      name,
      stack: `app-${name}`,
      template: 'template.yml',
      ...s,
      capabilities: [...s.capabilities],
    }))

const pipelineArb: fc.Arbitrary<ResolvedPipeline> = fc
  .record({
    prefix: nameArb,
    ci: fc.record({ account: accountArb, region: regionArb }),
    stageNames: fc.uniqueArray(
      nameArb.filter((n) => !/^(source|build)$/i.test(n) && !/-part\d+$/.test(n)),
      { minLength: 1, maxLength: 4 },
    ),
    many: fc.boolean(),
    source: fc.oneof(
      fc.record({
        type: fc.constant('codecommit' as const),
        repository: fc.constant('repo'),
        branch: fc.constant('main'),
        account: fc.option(accountArb, { nil: undefined }),
      }),
      fc.record({
        type: fc.constant('s3' as const),
        bucket: fc.constant('src-bucket'),
        key: fc.constant('src.zip'),
      }),
      fc.record({
        type: fc.constant('connection' as const),
        connectionArn: fc.constant('arn:aws:codestar-connections:eu-west-1:111111111111:connection/x-1'),
        repository: fc.constant('o/r'),
        branch: fc.constant('main'),
      }),
    ),
    referenceNames: fc.boolean(),
    tags: fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), textArb(10), { maxKeys: 2 }),
  })
  .chain((b) =>
    fc
      .tuple(...b.stageNames.map((n, i) => stageArb(n, b.many && i === 0)))
      .map((stages): ResolvedPipeline => ({
        name: b.prefix,
        ci: b.ci,
        source:
          b.source.type === 'codecommit' && b.source.account === undefined
            ? { type: 'codecommit', repository: 'repo', branch: 'main' }
            : b.source,
        build: {
          image: 'aws/codebuild/standard:7.0',
          computeType: 'BUILD_GENERAL1_SMALL',
          environment: {},
          outputFiles: ['**/*'],
        },
        stages,
        naming: { prefix: b.prefix, referenceNames: b.referenceNames },
        tags: b.tags,
      })),
  )

/** referenceNames needs every account to be deployed to once (one role of each fixed name per account). */
function referenceNamesConflict(p: ResolvedPipeline): boolean {
  if (!p.naming.referenceNames) return false
  const count = new Map<string, number>()
  for (const s of p.stages) for (const t of s.targets) count.set(t.account, (count.get(t.account) ?? 0) + 1)
  return [...count.values()].some((c) => c > 1)
}

test('random valid definitions synthesize with every cross-account property, within the limits, deterministically', () => {
  fc.assert(
    fc.property(pipelineArb, (p) => {
      if (referenceNamesConflict(p)) {
        assert.throws(
          () => synthesize(p),
          (e: unknown) => e instanceof CrosspipeError && e.code === 'invalid-definition',
        )
        return
      }
      const out = synthesize(p)
      assertCrossAccountProperties(p, out)
      assert.deepEqual(synthesize(p).files, out.files)
      // the fast YAML writer gives the library's bytes (or declines) on random content too
      for (const s of planStacks(p)) assertSameYaml(s.body, s.comments, s.name)
    }),
    { numRuns: Number(process.env.CROSSPIPE_PROPERTY_RUNS ?? 100) },
  )
})
