/**
 * Every AWS limit a definition reaches that synthesis works within, so that `synth` and `check`
 * can say so (limits it cannot work within are `limit-exceeded` errors of `synthesize`):
 * - a template over CloudFormation's 51,200-byte TemplateBody limit: deploy uploads it to the
 *   pipeline's artifact bucket and passes TemplateURL (up to 1,000,000 bytes)
 *   (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html);
 * - a stage with more actions than CodePipeline's 50 per stage: it is split into consecutive
 *   stages `<name>-part1`, `-part2`, … (the approval in part 1)
 *   (https://docs.aws.amazon.com/codepipeline/latest/userguide/limits.html).
 */
import type { ResolvedPipeline } from '../model/schema.js'
import { buildContext, TEMPLATE_BODY_MAX, type SynthOutput } from './index.js'
import { ACTIONS_PER_STAGE_MAX, planStages } from './pipeline.js'

/** One AWS limit a definition reaches, and what crosspipe does about it. */
export interface LimitReached {
  /** `template-body-size` or `actions-per-stage`. */
  readonly limit: 'template-body-size' | 'actions-per-stage'
  /** The stack (template-body-size) or definition stage (actions-per-stage). */
  readonly subject: string
  /** What was measured, against which limit. */
  readonly message: string
  /** What crosspipe does so that the pipeline still deploys and runs. */
  readonly handling: string
}

/** 51200 → `51,200`, without loading ICU data for toLocaleString at start-up. */
function thousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}

/** The limits `p` reaches, given its synthesis `out`. */
export function limitsReached(p: ResolvedPipeline, out: SynthOutput): LimitReached[] {
  const limits: LimitReached[] = []
  for (const s of out.manifest.stacks) {
    const bytes = Buffer.byteLength(out.files[s.template] ?? '', 'utf8')
    if (bytes <= TEMPLATE_BODY_MAX) continue
    limits.push({
      limit: 'template-body-size',
      subject: s.name,
      message: `template of stack ${s.name} measures ${thousands(bytes)} bytes, over CloudFormation's ${thousands(TEMPLATE_BODY_MAX)}-byte TemplateBody limit`,
      handling:
        "deploy uploads it to the pipeline's artifact bucket (SSE-KMS with the artifact key) and passes its TemplateURL; --template-bucket names another bucket",
    })
  }
  const planned = planStages(buildContext(p))
  for (const stage of p.stages) {
    const parts = planned.filter((x) => x.stage === stage)
    if (parts.length < 2) continue
    const actions = parts.reduce(
      (n, x) => n + (x.approval ? 1 : 0) + x.deployments.length * (stage.tests ? 3 : 2),
      0,
    )
    limits.push({
      limit: 'actions-per-stage',
      subject: stage.name,
      message: `stage ${stage.name} needs ${actions} actions, over CodePipeline's ${ACTIONS_PER_STAGE_MAX} actions per stage`,
      handling: `split into ${parts.map((x) => x.name).join(', ')}, which run one after another${stage.approval !== false ? ` (the approval is in ${parts[0]!.name}; crosspipe approve ${stage.name} approves it)` : ''}`,
    })
  }
  return limits
}
