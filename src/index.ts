/**
 * crosspipe's library API. Every CLI command is a function here that returns a typed result;
 * the library never prints (progress goes to an optional `IoHost`).
 */
export { definePipeline, parsePipeline, loadPipeline, pipelineJsonSchema, exampleProject } from './model/index.js'
export type {
  Pipeline,
  PipelineDefinitionInput,
  ResolvedPipeline,
  ResolvedStage,
  ResolvedTarget,
} from './model/index.js'
export { CrosspipeError, formatError, formatLocation } from './model/errors.js'
export type { ErrorCode, InputProblem, SourceLocation } from './model/errors.js'
export type { IoHost, IoMessage, MessageLevel } from './model/io.js'
export { parseTemplate, stringifyTemplate } from './model/cfn-yaml.js'
export type { ParsedTemplate } from './model/cfn-yaml.js'

export { simulate, compilePolicy, validatePolicy, PolicyValidationError } from './iam/index.js'
export type {
  SimulateRequest,
  SimulateResult,
  Decision,
  PolicyDocument,
  CompiledPolicy,
  ContextValue,
} from './iam/index.js'

export { synthesize } from './synth/index.js'
export type { SynthOutput, SynthOptions, SynthTemplate } from './synth/index.js'
export { Manifest } from './synth/manifest.js'
export type { ManifestDocument, ManifestStackEntry, ManifestParameterValue } from './synth/manifest.js'
