/** Builds `ResolvedPipeline` objects for synth tests, defaults applied as the model loader would. */
import type { ResolvedPipeline, ResolvedStage } from '../../src/model/schema.js'

export const CI = '111111111111'
export const DEV = '222222222222'
export const PROD = '333333333333'

/** A stage with defaults; override any field. */
export function stage(
  name: string,
  targets: { account: string; region?: string }[],
  extra: Partial<ResolvedStage> = {},
): ResolvedStage {
  return {
    name,
    targets: targets.map((t) => ({ account: t.account, region: t.region ?? 'eu-west-1' })),
    stack: `app-${name}`,
    template: 'template.yml',
    capabilities: [],
    approval: false,
    readArtifacts: false,
    ...extra,
  }
}

/** The example of `crosspipe init`: dev, then prod with approval. */
export function examplePipeline(extra: Partial<ResolvedPipeline> = {}): ResolvedPipeline {
  return {
    name: 'myapp',
    ci: { account: CI, region: 'eu-west-1' },
    source: { type: 'codecommit', repository: 'myapp', branch: 'main' },
    build: {
      image: 'aws/codebuild/standard:7.0',
      computeType: 'BUILD_GENERAL1_SMALL',
      environment: {},
      buildspec: 'buildspec.yml',
      outputFiles: ['**/*'],
    },
    stages: [
      stage('dev', [{ account: DEV }], { capabilities: ['CAPABILITY_IAM'], parameters: { Env: 'dev' } }),
      stage('prod', [{ account: PROD }], { approval: { comment: 'Ship it?' }, parameters: { Env: 'prod' } }),
    ],
    naming: { prefix: 'myapp', referenceNames: false },
    tags: { project: 'myapp' },
    ...extra,
  }
}

/** An account id from a number: 100000000001, 100000000002, … */
export function account(i: number): string {
  return String(100000000000 + i)
}

/** A pipeline with `n` targets in one stage, in 1–3 regions, tests on. */
export function manyTargets(n: number, extra: Partial<ResolvedPipeline> = {}): ResolvedPipeline {
  const regions = ['eu-west-1', 'us-east-1', 'eu-central-1']
  return examplePipeline({
    stages: [
      stage('dev', [{ account: account(0) }]),
      stage(
        'prod',
        Array.from({ length: n }, (_, i) => ({
          account: account(i + 1),
          region: regions[i % regions.length],
        })),
        {
          approval: { notify: 'arn:aws:sns:eu-west-1:111111111111:approvals' },
          tests: {
            image: 'aws/codebuild/standard:7.0',
            computeType: 'BUILD_GENERAL1_SMALL',
            environment: {},
            commands: ['npm test'],
          },
        },
      ),
    ],
    ...extra,
  })
}
