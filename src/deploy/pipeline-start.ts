/**
 * After deploy: a pipeline that CloudFormation just created has started an execution by itself
 * ("When you create a pipeline, it automatically starts to run",
 * https://docs.aws.amazon.com/codepipeline/latest/userguide/pipelines-about-starting.html). deploy
 * says so, where that execution is and where it will wait for a person, so that nobody starts a
 * second one that silently waits behind the first (a stage processes one execution at a time,
 * https://docs.aws.amazon.com/codepipeline/latest/userguide/concepts-how-it-works.html).
 */
import { TemplateBodies } from '../model/cfn-yaml.js'
import type { DeployOptions, PipelineStarted, StackResult } from './types.js'

/**
 * The Manual approval actions of the CodePipeline pipelines in a template, by stage, in order.
 * `bodies`: templates parsed before (deploy's plan has parsed this one).
 */
export function approvalsInTemplate(
  text: string,
  file: string,
  bodies: TemplateBodies = new TemplateBodies(),
): { stage: string; action: string }[] {
  const out: { stage: string; action: string }[] = []
  // The category is the string "Approval": a text without those letters in a row cannot hold it
  // unless an escape spells them (YAML's and JSON's both start with a backslash).
  if (!text.includes('Approval') && !text.includes('\\')) return out
  let body: Record<string, unknown>
  try {
    body = bodies.body(text, file)
  } catch {
    return out
  }
  const resources = (body.Resources ?? {}) as Record<string, { Type?: unknown; Properties?: unknown }>
  for (const r of Object.values(resources)) {
    if (r?.Type !== 'AWS::CodePipeline::Pipeline') continue
    const stages = (r.Properties as { Stages?: unknown } | undefined)?.Stages
    if (!Array.isArray(stages)) continue
    for (const s of stages as { Name?: unknown; Actions?: unknown }[]) {
      if (typeof s?.Name !== 'string' || !Array.isArray(s.Actions)) continue
      for (const a of s.Actions as { Name?: unknown; ActionTypeId?: { Category?: unknown } }[])
        if (a?.ActionTypeId?.Category === 'Approval' && typeof a.Name === 'string')
          out.push({ stage: s.Name, action: a.Name })
    }
  }
  return out
}

/**
 * For every stack deploy created that has a `PipelineName` output (crosspipe's pipeline stack; a
 * hand-written one may have it too): the execution the new pipeline started and where it is.
 * A pipeline that cannot be read is left out: deploy succeeded, this only informs.
 */
export async function startedPipelines(
  options: DeployOptions,
  results: readonly StackResult[],
  bodies: TemplateBodies = new TemplateBodies(),
): Promise<PipelineStarted[]> {
  const out: PipelineStarted[] = []
  for (const r of results) {
    const name = r.outputs?.PipelineName
    if (r.outcome !== 'created' || !name) continue
    const entry = options.manifest.stacks.find(
      (s) => s.name === r.stack && s.account === r.account && s.region === r.region,
    )
    const approvals = entry
      ? approvalsInTemplate(options.templates[entry.template] ?? '', entry.template, bodies)
      : []
    try {
      const api = options.credentials.codePipeline({ account: r.account, region: r.region })
      const [latest] = await api.listExecutions(name, 1)
      if (!latest) continue
      const state = await api.getState(name)
      const at = state.stages.find(
        (s) => s.executionId === latest.executionId && s.status === 'InProgress',
      )?.name
      out.push({
        pipeline: name,
        account: r.account,
        region: r.region,
        executionId: latest.executionId,
        status: latest.status,
        ...(at ? { stage: at } : {}),
        approvals,
      })
    } catch {
      continue
    }
  }
  return out
}

/** What deploy says about a pipeline's first execution. */
export function pipelineStartedText(p: PipelineStarted): string {
  const where =
    p.status === 'InProgress' ? `now ${p.stage ? `in stage ${p.stage}` : 'in progress'}` : p.status
  const first = p.approvals[0]
  const wait = first
    ? `; it will wait for approval at ${first.stage} › ${first.action} (crosspipe approve ${p.pipeline} ${first.stage})`
    : ''
  return `pipeline ${p.pipeline} was created and started execution ${p.executionId} by itself (${where})${wait}. Follow it with crosspipe status ${p.pipeline}; crosspipe run starts another execution, which waits behind this one at any stage it holds.`
}
