/**
 * CodePipeline's errors, as each operation's Errors section of the API reference names them
 * (https://docs.aws.amazon.com/codepipeline/latest/APIReference/CommonErrors.html). All HTTP 400
 * in awsJson's `__type` form.
 */
import { AwsError } from '../../errors.js'

const e =
  (code: string) =>
  (message: string): AwsError =>
    new AwsError(code, message, 400)

/** `InvalidStructureException`: the pipeline declaration is not valid. */
export const invalidStructure = e('InvalidStructureException')
/** `InvalidActionDeclarationException`. */
export const invalidActionDeclaration = e('InvalidActionDeclarationException')
/** `InvalidStageDeclarationException`. */
export const invalidStageDeclaration = e('InvalidStageDeclarationException')
/** `PipelineNameInUseException`. */
export const pipelineNameInUse = e('PipelineNameInUseException')
/** `PipelineNotFoundException`. */
export const pipelineNotFound = e('PipelineNotFoundException')
/** `PipelineVersionNotFoundException`. */
export const pipelineVersionNotFound = e('PipelineVersionNotFoundException')
/** `PipelineExecutionNotFoundException`. */
export const executionNotFound = e('PipelineExecutionNotFoundException')
/** `PipelineExecutionNotStoppableException`. */
export const notStoppable = e('PipelineExecutionNotStoppableException')
/** `DuplicatedStopRequestException`. */
export const duplicatedStop = e('DuplicatedStopRequestException')
/** `StageNotFoundException`. */
export const stageNotFound = e('StageNotFoundException')
/** `ActionNotFoundException`. */
export const actionNotFound = e('ActionNotFoundException')
/** `StageNotRetryableException`. */
export const stageNotRetryable = e('StageNotRetryableException')
/** `InvalidApprovalTokenException`. */
export const invalidApprovalToken = e('InvalidApprovalTokenException')
/** `ApprovalAlreadyCompletedException`. */
export const approvalCompleted = e('ApprovalAlreadyCompletedException')
/** `ConflictException`. */
export const conflict = e('ConflictException')
