/**
 * The composition root of the sandbox's services: which services exist, in the order they are
 * created, and which CloudFormation resource providers each brings. Services are siblings: none
 * imports another (a lint rule in eslint.config.js checks it); what they share lives below them
 * in `src/sandbox` (the runtime, `auth/`, `internal/`, `cfn-providers.ts`), and this file is the
 * one place that knows them all. A new service is one folder and one line here.
 */
import type { ResourceProvider } from '../cfn-providers.js'
import type { Runtime } from '../runtime.js'
import { cloudformationService } from './cloudformation/api.js'
import { AWS_PROVIDERS } from './cloudformation/providers/aws.js'
import { LOCAL_PROVIDERS } from './cloudformation/providers/local.js'
import { codebuildService } from './codebuild/api.js'
import { projectProvider } from './codebuild/cfn-provider.js'
import { logsService } from './codebuild/logs.js'
import { codepipelineService } from './codepipeline/api.js'
import { pipelineProvider } from './codepipeline/cfn-provider.js'
import { ecrService } from './ecr/api.js'
import { iamService } from './iam/api.js'
import { kmsService } from './kms/api.js'
import { s3Service } from './s3/api.js'
import { ssmService } from './ssm/api.js'
import { stsService } from './sts/api.js'
import type { Service } from './types.js'

/** A service factory: builds the service (and its tables) over the runtime. */
export type ServiceFactory = (runtime: Runtime) => Service

/** Every service the gateway serves. */
export const SERVICE_FACTORIES: readonly ServiceFactory[] = [
  stsService,
  iamService,
  kmsService,
  s3Service,
  ssmService,
  ecrService,
  cloudformationService,
  codebuildService,
  logsService,
  codepipelineService,
]

/**
 * CloudFormation's resource providers, from every service: CloudFormation's own (the types it
 * provisions through the other services' APIs, and the local stand-ins), then CodeBuild's projects
 * and CodePipeline's pipelines, which stacks create through those services' own handlers. A later
 * provider of the same type replaces an earlier one.
 */
export const RESOURCE_PROVIDERS: readonly ResourceProvider[] = [
  ...LOCAL_PROVIDERS,
  ...AWS_PROVIDERS,
  projectProvider,
  pipelineProvider,
]

/** Registers every resource provider on the runtime, then builds every service over it, in order. */
export function buildServices(runtime: Runtime): void {
  for (const p of RESOURCE_PROVIDERS) runtime.providers.register(p)
  for (const make of SERVICE_FACTORIES) runtime.services.push(make(runtime))
}
