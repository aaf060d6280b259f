/**
 * The application stacks a pipeline deploys (`my-app-dev`, `my-app-prod`, …): not in the manifest,
 * because CloudFormation actions of the pipeline create them, with the target's deployment role.
 * destroy must delete them first, while that role still exists: a stack created with a service
 * role is deleted with it ("If you don't specify a value, AWS CloudFormation uses the role that was
 * previously associated with the stack",
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DeleteStack.html), so once
 * the target stack that holds the role is gone, the application stack can no longer be deleted.
 *
 * They are read from the pipeline templates: every CloudFormation action's
 * `Configuration.StackName` and `Configuration.RoleArn` (the role CloudFormation deploys with), in
 * the action's account (that of its action-level `RoleArn`) and `Region`
 * (https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-CloudFormation.html).
 */
import { partitionOf } from '../iam/arn.js'
import { parseTemplate } from '../model/cfn-yaml.js'
import type { ManifestDocument, ManifestStackEntry } from '../synth/manifest.js'

/** One stack a pipeline's CloudFormation actions deploy. */
export interface ApplicationStack {
  readonly stack: string
  readonly account: string
  readonly region: string
  /** The role CloudFormation deploys it with (Configuration.RoleArn), when it is a literal ARN. */
  readonly roleArn?: string
  /** The pipeline stage whose action deploys it. */
  readonly stage: string
  /** The manifest stack that holds the pipeline. */
  readonly pipelineStack: string
}

function asRecord(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {}
}

/**
 * A string value of a template: a literal, or an `Fn::Sub` whose only variables are the pseudo
 * parameters AWS::Partition, AWS::AccountId and AWS::Region of the stack that holds it.
 */
function literal(v: unknown, at: ManifestStackEntry): string | undefined {
  if (typeof v === 'string') return v
  const sub = asRecord(v)['Fn::Sub']
  if (typeof sub !== 'string') return undefined
  const partition = partitionOf(at.region)
  const out = sub.replace(/\$\{([^}]+)\}/g, (m, name: string) =>
    name === 'AWS::Partition' && partition
      ? partition
      : name === 'AWS::AccountId'
        ? at.account
        : name === 'AWS::Region'
          ? at.region
          : m,
  )
  return out.includes('${') ? undefined : out
}

/** The account of a role ARN (`arn:<partition>:iam::<account>:role/<name>`). */
function roleAccount(arn: string | undefined): string | undefined {
  return arn ? /^arn:[^:]+:iam::(\d{12}):role\//.exec(arn)?.[1] : undefined
}

/** Every application stack the pipelines of a manifest deploy, once each, in pipeline order. */
export function applicationStacks(
  manifest: ManifestDocument,
  templates: Readonly<Record<string, string>>,
): ApplicationStack[] {
  const out = new Map<string, ApplicationStack>()
  for (const entry of manifest.stacks) {
    const text = templates[entry.template]
    if (text === undefined || !text.includes('AWS::CodePipeline::Pipeline')) continue
    let body: Record<string, unknown>
    try {
      body = parseTemplate(text, entry.template).body
    } catch {
      continue
    }
    for (const raw of Object.values(asRecord(body.Resources))) {
      const r = asRecord(raw)
      if (r.Type !== 'AWS::CodePipeline::Pipeline') continue
      const stages = asRecord(r.Properties).Stages
      for (const s of Array.isArray(stages) ? stages : []) {
        const stage = asRecord(s)
        const actions = stage.Actions
        for (const a of Array.isArray(actions) ? actions : []) {
          const action = asRecord(a)
          const type = asRecord(action.ActionTypeId)
          if (type.Category !== 'Deploy' || type.Provider !== 'CloudFormation') continue
          const cfg = asRecord(action.Configuration)
          const stack = literal(cfg.StackName, entry)
          if (!stack) continue
          const roleArn = literal(cfg.RoleArn, entry)
          const account = roleAccount(literal(action.RoleArn, entry)) ?? roleAccount(roleArn) ?? entry.account
          const region = literal(action.Region, entry) ?? entry.region
          const key = `${account}/${region}/${stack}`
          if (out.has(key)) continue
          out.set(key, {
            stack,
            account,
            region,
            ...(roleArn ? { roleArn } : {}),
            stage: typeof stage.Name === 'string' ? stage.Name : '',
            pipelineStack: entry.name,
          })
        }
      }
    }
  }
  return [...out.values()]
}

/** The template name application stacks get in a plan (they have no template in the manifest). */
export const APPLICATION_TEMPLATE = '(deployed by the pipeline)'

/**
 * Manifest entries for application stacks, in a phase after every manifest phase, so that destroy
 * (which deletes in reverse phase order) deletes them first.
 */
export function applicationEntries(
  manifest: ManifestDocument,
  apps: readonly ApplicationStack[],
): ManifestStackEntry[] {
  const phase = Math.max(0, ...manifest.stacks.map((s) => s.phase)) + 1
  return apps.map((a) => ({
    name: a.stack,
    template: APPLICATION_TEMPLATE,
    account: a.account,
    region: a.region,
    phase,
    capabilities: [],
    parameters: {},
  }))
}
