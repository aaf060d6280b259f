/**
 * CloudFormation's `AWS::CodeBuild::Project`, backed by this service: the provider calls
 * CreateProject / UpdateProject / DeleteProject as the stack's deploying identity, so a project a
 * stack creates is the one StartBuild (and a pipeline's CodeBuild action) runs, and the call is
 * authorized and `iam:PassRole`-checked exactly as a direct call. Return values as the Template
 * Reference's "Return values":
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-codebuild-project.html
 * (Ref: the project name; GetAtt Arn).
 */
import type { ProvisionResult, ResourceProvider } from '../../cfn-providers.js'

function camelize(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(camelize)
  if (v === null || typeof v !== 'object') return v
  const out: Record<string, unknown> = {}
  for (const [k, x] of Object.entries(v as Record<string, unknown>))
    // The API spells BuildSpec as `buildspec` (API_ProjectSource.html).
    out[k === 'BuildSpec' ? 'buildspec' : k.charAt(0).toLowerCase() + k.slice(1)] = camelize(x)
  return out
}

/**
 * The CreateProject input for the properties of an `AWS::CodeBuild::Project` resource
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-codebuild-project.html):
 * PascalCase to the API's camelCase (`BuildSpec` → `buildspec`, `Tags` → `{ key, value }`). For
 * the CloudFormation provider, which then calls CreateProject / UpdateProject as the deploying
 * identity.
 */
export function projectInputFromCloudFormation(
  props: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  return camelize(props) as Record<string, unknown>
}

/** The project name limit of CreateProject (API_CreateProject.html: 2–255 characters). */
const MAX_NAME = 150

function result(name: string, response: unknown): ProvisionResult {
  const arn = (response as { project?: { arn?: unknown } } | undefined)?.project?.arn
  return { physicalId: name, attributes: { Arn: typeof arn === 'string' ? arn : '' } }
}

/** `AWS::CodeBuild::Project` over the sandbox's CodeBuild API. */
export const projectProvider: ResourceProvider = {
  type: 'AWS::CodeBuild::Project',
  nameProperty: 'Name',
  async create(ctx, props) {
    const name = typeof props.Name === 'string' ? props.Name : ctx.physicalName({ maxLength: MAX_NAME })
    const res = await ctx.aws.json(
      'codebuild',
      'CreateProject',
      projectInputFromCloudFormation({ ...props, Name: name }),
    )
    return result(name, res)
  },
  async update(ctx, current, props) {
    const res = await ctx.aws.json(
      'codebuild',
      'UpdateProject',
      projectInputFromCloudFormation({ ...props, Name: current.physicalId }),
    )
    return result(current.physicalId, res)
  },
  async delete(ctx, current) {
    // DeleteProject of a missing project succeeds, as a delete handler must.
    await ctx.aws.json('codebuild', 'DeleteProject', { name: current.physicalId })
  },
}
