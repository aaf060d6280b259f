/**
 * The calls CloudFormation makes as the deployment role for the application template's
 * resources (issue 15): for every CloudFormation action that deploys a template `check` was given,
 * each resource's create and delete calls from the one resource call catalogue
 * (src/iam/resource-calls.ts) that the sandbox's providers enforce too. A missing permission is
 * then a denied call of the deployment role, reported before anything is deployed, with the
 * statement to add.
 *
 * CloudFormation makes every call of a stack operation with the role passed to it:
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html
 */
import { appResources } from '../iam/app-template.js'
import { parseArn } from '../iam/arn.js'
import { isTagAction, needsNoPermissions, resourceCalls, withStackTags } from '../iam/resource-calls.js'
import type { CallSpec } from './catalogue.js'
import type { Origin, PipelineModel } from './model.js'

/** An application template given to check. */
export interface AppTemplateInput {
  /** The file, for messages. */
  readonly file: string
  /** The parsed body (intrinsics in long form). */
  readonly body: unknown
  /**
   * The path inside the build artifact it stands for (`template.yml`); actions deploying another
   * path are not matched. Absent: every CloudFormation action's template.
   */
  readonly templatePath?: string
  /**
   * The stack's tags when known (`{}`: none). Absent: the tags of the action's template
   * configuration file, which check does not read, are possible when it has one.
   */
  readonly stackTags?: Readonly<Record<string, string>>
  /** The stack it is deployed as (a stage's template); absent: any stack. */
  readonly stackName?: string
}

/** A resource whose calls the catalogue does not know. */
export interface UncataloguedResource {
  readonly stage: string
  readonly action: string
  readonly file: string
  readonly logicalId: string
  readonly type: string
  readonly origin: Origin
}

const DOC = 'https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html'
const DEPLOYS = new Set(['CHANGE_SET_REPLACE', 'CREATE_UPDATE', 'REPLACE_ON_FAILURE'])

/** The deployment role's calls for the application templates deployed by one pipeline. */
export function appTemplateCalls(
  pipeline: PipelineModel,
  templates: readonly AppTemplateInput[],
): { calls: CallSpec[]; uncatalogued: UncataloguedResource[] } {
  const calls: CallSpec[] = []
  const uncatalogued: UncataloguedResource[] = []
  if (!templates.length) return { calls, uncatalogued }
  for (const s of pipeline.stages)
    for (const a of s.actions) {
      const cfg = a.configuration
      if (a.provider !== 'CloudFormation' || !DEPLOYS.has(String(cfg.ActionMode))) continue
      const role = typeof cfg.RoleArn === 'string' ? cfg.RoleArn : undefined
      const account = role ? parseArn(role)?.account : undefined
      if (!role || !account) continue
      const path = typeof cfg.TemplatePath === 'string' ? cfg.TemplatePath.split('::')[1] : undefined
      const stackName = typeof cfg.StackName === 'string' ? cfg.StackName : ''
      const t = templates.find(
        (x) =>
          (x.templatePath === undefined || x.templatePath === path) &&
          (x.stackName === undefined || x.stackName === stackName),
      )
      if (!t) continue
      const params = overrides(cfg.ParameterOverrides)
      const env = { partition: pipeline.partition, account, region: a.region, stackName }
      // Stack tags come from the action's template configuration file (its Tags), and
      // CloudFormation tags every resource with them (resource-calls.ts, withStackTags); when the
      // file's tags are not known, a placeholder tag stands for them.
      const tags = cfg.TemplateConfiguration === undefined ? {} : (t.stackTags ?? { '*': '*' })
      for (const r of appResources(t.body, env, params)) {
        const props = withStackTags(r.type, r.props, tags)
        for (const op of ['create', 'delete'] as const) {
          const list = resourceCalls(r.type, op, props, r.env, r.name)
          if (!list) {
            if (op === 'create' && !needsNoPermissions(r.type))
              uncatalogued.push({
                stage: s.name,
                action: a.name,
                file: t.file,
                logicalId: r.logicalId,
                type: r.type,
                origin: pipeline.origin,
              })
            continue
          }
          for (const c of list) {
            // A bucket known only at deployment (the build artifact, through Fn::GetArtifactAtt)
            // is read as the artifact, which the CloudFormation action's own calls cover.
            if (c.resource.includes(':::*')) continue
            // A call on a KMS key the stack creates is decided by that key's policy too, which
            // check's model does not hold (the key does not exist yet): not evaluated here; the
            // sandbox's KMS decides it with the key policy when the stack is deployed.
            if (c.action.startsWith('kms:') && /:key\//.test(c.resource)) continue
            calls.push({
              stage: s.name,
              action: a.name,
              principal: { kind: 'role', arn: role },
              operation: c.action,
              resource: c.resource,
              resourceAccount: parseArn(c.resource)?.account || account,
              resourceKind: 'none',
              context: { ...(c.context ?? {}) },
              purpose: `CloudFormation ${op === 'create' ? 'creates' : 'deletes'} ${r.logicalId} (${r.type}) of ${t.file} in stack ${stackName}: ${c.why}${isTagAction(c.action) && props.Tags !== r.props.Tags ? ` with the stack's tags (${String(cfg.TemplateConfiguration)}${t.stackTags ? '' : ', not read by check: its Tags are assumed'})` : ''}`,
              doc: DOC,
            })
          }
        }
      }
    }
  return { calls, uncatalogued }
}

/** ParameterOverrides as literal strings (values that are not strings are unknown). */
function overrides(v: unknown): Record<string, string> {
  if (typeof v !== 'string') return {}
  try {
    const o = JSON.parse(v) as unknown
    if (typeof o !== 'object' || o === null) return {}
    return Object.fromEntries(
      Object.entries(o).filter((e): e is [string, string] => typeof e[1] === 'string'),
    )
  } catch {
    return {}
  }
}
