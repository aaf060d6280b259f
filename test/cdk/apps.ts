/**
 * Real CDK Pipelines apps for the `check --cdk-out` tests, synthesized with aws-cdk-lib into a
 * temporary directory. Each app is a `pipelines.CodePipeline` as the CDK Pipelines documentation
 * shows it (https://docs.aws.amazon.com/cdk/v2/guide/cdk-pipeline.html): a connection source,
 * a `ShellStep` synth, and application stages (each one stack with a bucket and a queue)
 * deployed to the given environments, optionally in waves.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Construct } from 'constructs'
import type { StackProps, StageProps } from 'aws-cdk-lib'

/** Where one application stage deploys. */
export interface TargetEnv {
  readonly account: string
  readonly region: string
}

/** The shape of a fixture app. */
export interface AppSpec {
  /** The pipeline account and region. */
  readonly pipeline: TargetEnv
  /** Application stages added to the pipeline directly. */
  readonly stages?: readonly TargetEnv[]
  /** Waves of stages deployed in parallel. */
  readonly waves?: readonly (readonly TargetEnv[])[]
  /** Adds a file asset (a Lambda function's code) to every stage. */
  readonly assets?: boolean
}

/** True when aws-cdk-lib can be loaded (it is a devDependency). */
export async function cdkAvailable(): Promise<boolean> {
  try {
    await import('aws-cdk-lib')
    return true
  } catch {
    return false
  }
}

/** Synthesizes the app into a fresh temporary directory and returns the cloud assembly's path. */
export async function synthApp(spec: AppSpec): Promise<string> {
  const cdk = await import('aws-cdk-lib')
  const { pipelines, aws_s3: s3, aws_sqs: sqs, aws_lambda: lambda } = cdk
  const outdir = mkdtempSync(join(tmpdir(), 'crosspipe-cdk-'))
  const app = new cdk.App({ outdir })

  class AppStack extends cdk.Stack {
    constructor(scope: Construct, id: string, props?: StackProps) {
      super(scope, id, props)
      new s3.Bucket(this, 'Data', { enforceSSL: true, encryption: s3.BucketEncryption.S3_MANAGED })
      new sqs.Queue(this, 'Jobs')
      if (spec.assets)
        new lambda.Function(this, 'Handler', {
          runtime: lambda.Runtime.NODEJS_22_X,
          handler: 'index.handler',
          code: lambda.Code.fromInline('exports.handler = async () => ({})'),
        })
    }
  }
  class AppStage extends cdk.Stage {
    constructor(scope: Construct, id: string, props: StageProps) {
      super(scope, id, props)
      new AppStack(this, 'Service')
      if (spec.assets) {
        const s = new cdk.Stack(this, 'Site')
        new lambda.Function(s, 'Fn', {
          runtime: lambda.Runtime.NODEJS_22_X,
          handler: 'index.handler',
          code: lambda.Code.fromAsset(join(import.meta.dirname, 'fixtures', 'asset')),
        })
      }
    }
  }
  class PipelineStack extends cdk.Stack {
    constructor(scope: Construct, id: string, props: StackProps) {
      super(scope, id, props)
      const pipeline = new pipelines.CodePipeline(this, 'Pipeline', {
        pipelineName: 'DeliveryPipeline',
        crossAccountKeys: true,
        synth: new pipelines.ShellStep('Synth', {
          input: pipelines.CodePipelineSource.connection('example-org/service', 'main', {
            connectionArn: `arn:aws:codestar-connections:${spec.pipeline.region}:${spec.pipeline.account}:connection/2b5f3c1e-0000-4000-8000-000000000001`,
          }),
          commands: ['npm ci', 'npx cdk synth'],
        }),
      })
      let n = 0
      const name = (e: TargetEnv) => `App${++n}-${e.account}-${e.region}`
      for (const e of spec.stages ?? []) pipeline.addStage(new AppStage(this, name(e), { env: e }))
      ;(spec.waves ?? []).forEach((wave, i) => {
        const w = pipeline.addWave(`Wave${i + 1}`)
        for (const e of wave) w.addStage(new AppStage(this, name(e), { env: e }))
      })
    }
  }
  new PipelineStack(app, 'PipelineStack', { env: spec.pipeline })
  app.synth()
  return outdir
}
