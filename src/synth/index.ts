/**
 * Synthesis: a resolved pipeline definition → CloudFormation templates + `manifest.json`.
 *
 * Pure: no file system, no clock, no randomness — the same definition gives the same bytes. The
 * CLI writes {@link SynthOutput.files}; `crosspipe check` reads `manifest` and `templates`.
 *
 * The stacks, in deploy phases (the fewest that are correct):
 *  1. CI base, one per region with actions (CI account): the artifact key and bucket. Nothing
 *     depends on anything else, and everything else needs their key ARNs and bucket names.
 *  2. Target stacks (one per target account × region) and the CodeCommit source stack when the
 *     repository is in another account. They need the key ARN and bucket name of phase 1, which
 *     cross accounts only as manifest parameters `{ fromStack, output }` — CloudFormation cannot
 *     reference another account's stack. They do not need the pipeline role to exist: they trust
 *     it by name (account principal + `aws:PrincipalArn`).
 *  3. The CI pipeline stack. CloudFormation starts a pipeline's first execution as soon as it is
 *     created, so every role that execution assumes (phase 2) must exist before.
 */
import { QUOTAS } from '../iam/aws-facts.js'
import { stringifyTemplate } from '../model/cfn-yaml.js'
import { CrosspipeError } from '../model/errors.js'
import type { ResolvedPipeline } from '../model/schema.js'
import { pascal } from './cfn.js'
import { ciBaseStack } from './ci-base.js'
import { Names } from './names.js'
import { pipelineStack } from './pipeline.js'
import { sourceStack, targetStack } from './target.js'
import { fastTemplateYaml } from './yaml.js'
import type { ManifestDocument, ManifestStackEntry } from './manifest.js'
import type { Deployment, StackPlan, SynthContext, TargetGroup } from './types.js'

export type { ManifestDocument, ManifestStackEntry } from './manifest.js'
export { Names } from './names.js'
export { deriveForTarget } from './target.js'

/**
 * CloudFormation quota: a template body passed in a request is at most 51,200 bytes; larger
 * templates, up to 1 MB, must be uploaded to S3 and passed by URL.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html
 */
export const TEMPLATE_BODY_MAX = QUOTAS.cloudFormation.templateBodyBytes
/** Template size when uploaded to S3 (same page). */
export const TEMPLATE_URL_MAX = QUOTAS.cloudFormation.templateUrlBytes
/** Resources per template (same page). */
export const RESOURCES_MAX = QUOTAS.cloudFormation.resourcesPerTemplate
/** Parameters per template (same page). */
export const PARAMETERS_MAX = QUOTAS.cloudFormation.parametersPerTemplate

/** Options for {@link synthesize}. */
export interface SynthOptions {
  /** `yaml` (short-form tags, comments; the default) or `json`. */
  readonly format?: 'yaml' | 'json'
}

/** One synthesized template. */
export interface SynthTemplate {
  /** The stack name (as in the manifest). */
  readonly stack: string
  /** The file name, relative to the output directory. */
  readonly file: string
  /** The template in long form (`{ "Fn::Sub": … }`), as CloudFormation's JSON would have it. */
  readonly body: Record<string, unknown>
}

/** What {@link synthesize} returns. */
export interface SynthOutput {
  readonly manifest: ManifestDocument
  readonly templates: readonly SynthTemplate[]
  /** File name → exact contents, `manifest.json` included: what `crosspipe synth` writes. */
  readonly files: Readonly<Record<string, string>>
}

/** The manifest's file name. */
export const MANIFEST_FILE = 'manifest.json'

/** Derives regions, deployments and target groups once, and rejects what names cannot express. */
export function buildContext(p: ResolvedPipeline): SynthContext {
  const deployments: Deployment[] = []
  const groups = new Map<string, { account: string; region: string; deployments: Deployment[] }>()
  const regions = [p.ci.region]
  p.stages.forEach((stage, stageIndex) => {
    const seen = new Set<string>()
    for (const t of stage.targets) {
      const key = `${t.account}/${t.region}`
      if (seen.has(key)) {
        throw new CrosspipeError(
          'invalid-definition',
          `stage ${stage.name} lists target ${t.account} ${t.region} twice; remove one.`,
          [
            {
              location: { file: 'crosspipe.yml', path: `stages[${stageIndex}].targets` },
              message: `duplicate target ${key}`,
            },
          ],
        )
      }
      seen.add(key)
      const d: Deployment = { stage, stageIndex, account: t.account, region: t.region }
      deployments.push(d)
      let g = groups.get(key)
      if (!g) groups.set(key, (g = { account: t.account, region: t.region, deployments: [] }))
      g.deployments.push(d)
      if (!regions.includes(t.region)) regions.push(t.region)
    }
  })
  const targets: TargetGroup[] = [...groups.values()]
  if (p.naming.referenceNames) {
    // One cross-account-role and one cloudformation-role per account: IAM names are global.
    const perAccount = new Map<string, TargetGroup[]>()
    for (const g of targets) perAccount.set(g.account, [...(perAccount.get(g.account) ?? []), g])
    for (const [account, gs] of perAccount) {
      const n = gs.reduce((k, g) => k + g.deployments.length, 0)
      if (gs.length > 1 || n > 1) {
        throw new CrosspipeError(
          'invalid-definition',
          `naming.referenceNames gives account ${account} one role named cross-account-role and one named cloudformation-role, but it is deployed to ${n} times (${gs.map((g) => g.region).join(', ')}); set referenceNames: false so crosspipe names a role per stage and region.`,
        )
      }
    }
  }
  const stageIds = new Map<string, string>()
  const used = new Set<string>()
  for (const s of p.stages) {
    let id = pascal(s.name)
    for (let i = 2; used.has(id); i++) id = `${pascal(s.name)}${i}`
    used.add(id)
    stageIds.set(s.name, id)
  }
  const src = p.source
  const sourceAccount =
    src.type === 'codecommit' && src.account && src.account !== p.ci.account ? src.account : undefined
  return { pipeline: p, regions, deployments, targets, stageIds, ...(sourceAccount ? { sourceAccount } : {}) }
}

/** Every stack of the pipeline, in manifest order: by phase, then CI region first / definition order. */
export function planStacks(p: ResolvedPipeline): StackPlan[] {
  const ctx = buildContext(p)
  const names = new Names(p)
  const plans: StackPlan[] = ctx.regions.map((r) => ciBaseStack(ctx, names, r))
  if (ctx.sourceAccount && p.source.type === 'codecommit') {
    plans.push(sourceStack(ctx, names, ctx.sourceAccount, p.source.repository))
  }
  for (const g of ctx.targets) plans.push(targetStack(ctx, names, g))
  plans.push(pipelineStack(ctx, names))
  return plans
}

function header(p: ResolvedPipeline, s: StackPlan): string {
  return [
    `Generated by crosspipe from pipeline "${p.name}". Do not edit: change crosspipe.yml and run crosspipe synth.`,
    `Stack ${s.name}: ${s.description}.`,
    `Account ${s.account}, region ${s.region}, deploy phase ${s.phase} (see manifest.json).`,
  ].join('\n')
}

/**
 * Synthesizes the pipeline's templates and manifest. Throws `CrosspipeError('limit-exceeded')`
 * when a definition would exceed an AWS limit that cannot be split away, naming the limit, the
 * stack and resource, the measured size and the fix; `invalid-definition` for names that cannot
 * be given.
 */
export function synthesize(p: ResolvedPipeline, opts: SynthOptions = {}): SynthOutput {
  const format = opts.format ?? 'yaml'
  const ext = format === 'json' ? 'json' : 'yaml'
  const files: Record<string, string> = {}
  const templates: SynthTemplate[] = []
  const stacks: ManifestStackEntry[] = []
  for (const s of planStacks(p)) {
    const file = `${s.name}.template.${ext}`
    const h = header(p, s)
    // The fast writer gives stringifyTemplate's bytes for synth's shapes; anything else falls back.
    const text =
      (format === 'yaml' ? fastTemplateYaml(s.body, { comments: s.comments, header: h }) : undefined) ??
      stringifyTemplate(s.body, { format, comments: s.comments, header: h })
    const bytes = Buffer.byteLength(text, 'utf8')
    const resources = Object.keys(s.body.Resources as object).length
    const params = Object.keys((s.body.Parameters as object | undefined) ?? {}).length
    if (resources > RESOURCES_MAX) {
      throw new CrosspipeError(
        'limit-exceeded',
        `CloudFormation resources per template (500): stack ${s.name} has ${resources}; split the pipeline into several.`,
      )
    }
    if (params > PARAMETERS_MAX) {
      throw new CrosspipeError(
        'limit-exceeded',
        `CloudFormation parameters per template (200): stack ${s.name} has ${params}; use fewer target regions per pipeline.`,
      )
    }
    if (bytes > TEMPLATE_URL_MAX) {
      throw new CrosspipeError(
        'limit-exceeded',
        `CloudFormation template size (1,000,000 bytes from S3): stack ${s.name} measures ${bytes} bytes; split the pipeline into several.`,
      )
    }
    files[file] = text
    templates.push({ stack: s.name, file, body: s.body })
    stacks.push({
      name: s.name,
      template: file,
      account: s.account,
      region: s.region,
      phase: s.phase,
      capabilities: [...s.capabilities],
      parameters: { ...s.parameters },
      ...(Object.keys(p.tags).length ? { tags: { ...p.tags } } : {}),
      description: s.description,
      // Over 51,200 bytes CloudFormation takes the template only from S3 (TemplateURL).
      ...(bytes > TEMPLATE_BODY_MAX ? { upload: true } : {}),
    })
  }
  const manifest: ManifestDocument = { version: 1, pipeline: p.name, stacks }
  files[MANIFEST_FILE] = JSON.stringify(manifest, null, 2) + '\n'
  return { manifest, templates, files }
}
export { limitsReached, type LimitReached } from './limits.js'
