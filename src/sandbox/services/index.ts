/**
 * The services of the sandbox, in the order they are created (later ones may use earlier ones'
 * internal APIs through the runtime). Later issues add CloudFormation, CodePipeline and CodeBuild
 * here: a new service is one folder and one line.
 */
import type { Runtime } from '../runtime.js'
import { cloudformationService } from './cloudformation/api.js'
import { codebuildService } from './codebuild/api.js'
import { logsService } from './codebuild/logs.js'
import { codepipelineService } from './codepipeline/api.js'
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
