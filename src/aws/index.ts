/**
 * The only module that builds AWS SDK clients and credentials (DESIGN.md "One place for
 * credentials"). Everything else uses the SDK-free interfaces of `types.ts`.
 */
export * from './types.js'
export {
  assumeRoleAccess,
  profileAccess,
  sandboxAccess,
  verifyAccess,
  type AssumeRoleAccessOptions,
  type ClientOptions,
  type ProfileAccessOptions,
  type SandboxAccessOptions,
  type VerifiedAccount,
} from './access.js'
export type {
  ActionExecutionView,
  ActionStateView,
  CodePipelineApi,
  ExecutionView,
  PipelineStateView,
  StageStateView,
} from './codepipeline.js'
export { LOG_TAIL_LINES, type BuildLogTail, type CodeBuildLogsApi } from './codebuild-logs.js'
export { networkError } from './network.js'
