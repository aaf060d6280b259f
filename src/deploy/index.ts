/**
 * `crosspipe deploy` and `crosspipe destroy` as library functions: plan, then apply, through
 * src/aws. The CLI renders the messages they emit and maps their results to exit codes.
 */
export { deploy, summaryText, TEMPLATE_BODY_LIMIT } from './deploy.js'
export { destroy } from './destroy.js'
export * from './types.js'
export {
  runPipeline,
  executionReport,
  approve,
  resolveExecution,
  hintFor,
  pipelineStatus,
  stageWaitText,
} from './run.js'
export type {
  ActionReport,
  ExecutionReport,
  RunPipelineOptions,
  ApproveOptions,
  PipelineStatusOptions,
  StageWait,
} from './run.js'
export { pipelineStartedText } from './pipeline-start.js'
export { reviewStage, reviewSummary, discardChangeSets, reviews, stageOf } from './review.js'
export type { StageReview, ReviewTarget, ReviewChange, ReviewProperty, DiscardResult } from './review.js'
