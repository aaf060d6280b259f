/**
 * The AWS limits a CDK Pipelines app meets and `cdk synth` does not report:
 * - CodePipeline: "Maximum number of stages in a pipeline: 50" (minimum 2) —
 *   https://docs.aws.amazon.com/codepipeline/latest/userguide/limits.html. CDK Pipelines adds
 *   Source, Build and UpdatePipeline (and Assets when the app has file assets) to the
 *   application stages, so 50 application stages make a pipeline of 53 or 54.
 * - CloudFormation: "Template body size in a request: 51,200 bytes" and "Template body size in
 *   an Amazon S3 object: 1 MB" —
 *   https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html.
 */
import { QUOTAS } from '../../iam/aws-facts.js'
import type { CheckInput } from '../index.js'
import type { CheckFinding } from '../types.js'
import type { CloudAssembly } from './assembly.js'

/** The limits, in one place. */
export const CDK_LIMITS = {
  stagesPerPipeline: QUOTAS.codePipeline.stagesPerPipeline,
  templateBodyBytes: QUOTAS.cloudFormation.templateBodyBytes,
  templateS3Bytes: QUOTAS.cloudFormation.templateUrlBytes,
} as const

/** Limit findings for the pipelines and templates of a cloud assembly. */
export function limitFindings(assembly: CloudAssembly, input: CheckInput): CheckFinding[] {
  const out: CheckFinding[] = []
  for (const entry of input.manifest.stacks) {
    const t = input.templates.get(entry.template)
    const resources = (t?.body.Resources ?? {}) as Record<string, { Type?: unknown; Properties?: unknown }>
    for (const [id, r] of Object.entries(resources)) {
      if (r.Type !== 'AWS::CodePipeline::Pipeline') continue
      const props = (r.Properties ?? {}) as Record<string, unknown>
      const stages = Array.isArray(props.Stages) ? props.Stages : []
      if (stages.length <= CDK_LIMITS.stagesPerPipeline) continue
      const names = stages.map((s) => text((s as Record<string, unknown>).Name))
      out.push({
        rule: 'pipeline-stage-limit',
        severity: 'error',
        stack: entry.name,
        logicalId: id,
        message: `pipeline ${text(props.Name) || id} has ${stages.length} stages (${names.slice(0, 4).join(', ')}, … ${names.at(-1)}); CodePipeline allows at most ${CDK_LIMITS.stagesPerPipeline} per pipeline (https://docs.aws.amazon.com/codepipeline/latest/userguide/limits.html), so creating it fails. Deploy stages side by side in waves (pipeline.addWave) or split the application over several pipelines.`,
        fix: null,
        location: { file: t!.file, ...t!.locate(['Resources', id, 'Properties', 'Stages']) },
      })
    }
  }
  for (const s of assembly.stacks) {
    const by = s.assembly === '' ? '`cdk deploy`' : 'the pipeline'
    if (s.templateBytes > CDK_LIMITS.templateS3Bytes)
      out.push({
        rule: 'template-too-large',
        severity: 'error',
        stack: s.stackName,
        logicalId: '',
        message: `template ${s.templatePath} of stack ${s.displayName} is ${s.templateBytes.toLocaleString('en-US')} bytes; CloudFormation accepts at most ${CDK_LIMITS.templateS3Bytes.toLocaleString('en-US')} bytes even from S3 (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html), so ${by} cannot deploy it. Split the stack (nested stacks or several stacks).`,
        fix: null,
        location: { file: s.templatePath },
      })
    else if (s.templateBytes > CDK_LIMITS.templateBodyBytes)
      out.push({
        rule: 'template-too-large',
        severity: 'warning',
        stack: s.stackName,
        logicalId: '',
        message: `template ${s.templatePath} of stack ${s.displayName} is ${s.templateBytes.toLocaleString('en-US')} bytes, over the ${CDK_LIMITS.templateBodyBytes.toLocaleString('en-US')} bytes CloudFormation accepts in a request (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html): ${by} must pass it through the bootstrap staging bucket (TemplateURL, up to ${CDK_LIMITS.templateS3Bytes.toLocaleString('en-US')} bytes), so deploying it needs the file-publishing role of aws://${s.account}/${s.region}; ${Math.round((s.templateBytes / CDK_LIMITS.templateS3Bytes) * 100)}% of that limit is used.`,
        fix: null,
        location: { file: s.templatePath },
      })
  }
  return out
}

function text(v: unknown): string {
  return typeof v === 'string' ? v : ''
}
