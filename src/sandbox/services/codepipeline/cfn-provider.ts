/**
 * CloudFormation's `AWS::CodePipeline::Pipeline`, backed by this service: the provider calls
 * CreatePipeline / UpdatePipeline / DeletePipeline as the stack's deploying identity, so a
 * pipeline a stack creates is the service's own (it starts its first execution, appears in
 * ListPipelines) and the call is authorized, validated and `iam:PassRole`-checked exactly as a
 * direct call. Return values as the Template Reference's "Return values":
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-codepipeline-pipeline.html
 * (Ref: the pipeline name; GetAtt Version).
 */
import type { ProvisionResult, ResourceProvider } from '../../cfn-providers.js'
import { pipelineInputFromCloudFormation } from './declaration.js'

/** The pipeline name limit of CreatePipeline (API_PipelineDeclaration.html: 1–100 characters). */
const MAX_NAME = 100

function result(name: string, response: unknown): ProvisionResult {
  const version = (response as { pipeline?: { version?: unknown } } | undefined)?.pipeline?.version
  return { physicalId: name, attributes: { Version: typeof version === 'number' ? String(version) : '1' } }
}

/** `AWS::CodePipeline::Pipeline` over the sandbox's CodePipeline API. */
export const pipelineProvider: ResourceProvider = {
  type: 'AWS::CodePipeline::Pipeline',
  nameProperty: 'Name',
  async create(ctx, props) {
    const name = typeof props.Name === 'string' ? props.Name : ctx.physicalName({ maxLength: MAX_NAME })
    const res = await ctx.aws.json('codepipeline', 'CreatePipeline', {
      pipeline: pipelineInputFromCloudFormation({ ...props, Name: name }),
    })
    return result(name, res)
  },
  async update(ctx, current, props) {
    const res = await ctx.aws.json('codepipeline', 'UpdatePipeline', {
      pipeline: pipelineInputFromCloudFormation({ ...props, Name: current.physicalId }),
    })
    return result(current.physicalId, res)
  },
  async delete(ctx, current) {
    // DeletePipeline of a missing pipeline succeeds, as a delete handler must.
    await ctx.aws.json('codepipeline', 'DeletePipeline', { name: current.physicalId })
  },
}
