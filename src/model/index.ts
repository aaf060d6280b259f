/**
 * The pipeline definition module: schema, types, loading with positions, the editor JSON Schema
 * and the example project. Pure apart from `loadPipeline`'s file read.
 */
export { parsePipeline, loadPipeline, definePipeline, resolve, DEFINE_PIPELINE_FILE } from './load.js'
export { pipelineJsonSchema, JSON_SCHEMA_FILE } from './json-schema.js'
export { exampleProject } from './example.js'
export { MAX_ROLE_NAME_LENGTH, longestRoleName } from './semantics.js'
export { formatPath } from './paths.js'
export * from './schema.js'
