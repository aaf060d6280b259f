/**
 * Pipeline declarations: reading them from API input (and from CloudFormation's
 * `AWS::CodePipeline::Pipeline` properties), and validating them as the pipeline structure
 * reference describes (https://docs.aws.amazon.com/codepipeline/latest/userguide/reference-pipeline-structure.html)
 * and each action's reference page (action-reference-*.html).
 *
 * The sandbox runs the action types below. Any other type is refused at creation with a message
 * that says so, so a pipeline never sits there with an action that can never run.
 */
import type * as Cp from '@aws-sdk/client-codepipeline'
import { ALL_REGIONS } from '../../../iam/arn.js'
import type { AwsError } from '../../errors.js'
import type { Validated } from '../../operations/index.js'
import { invalidActionDeclaration, invalidStageDeclaration, invalidStructure } from './errors.js'
import type { ActionDeclaration, ArtifactStore, PipelineDeclaration, StageDeclaration } from './store.js'

/** What the sandbox knows about one action type: artifact counts and configuration keys. */
interface ActionTypeSpec {
  readonly inputs: readonly [number, number]
  readonly outputs: readonly [number, number]
  readonly required: readonly string[]
  readonly optional: readonly string[]
  readonly docs: string
}

/** Action types by `Category/Owner/Provider/Version`. */
export const ACTION_TYPES: Readonly<Record<string, ActionTypeSpec>> = {
  'Source/AWS/S3/1': {
    inputs: [0, 0],
    outputs: [1, 1],
    required: ['S3Bucket', 'S3ObjectKey'],
    optional: ['PollForSourceChanges', 'AllowOverrideForS3ObjectKey'],
    docs: 'https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-S3.html',
  },
  'Source/AWS/CodeCommit/1': {
    inputs: [0, 0],
    outputs: [1, 1],
    required: ['RepositoryName', 'BranchName'],
    optional: ['PollForSourceChanges', 'OutputArtifactFormat'],
    docs: 'https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-CodeCommit.html',
  },
  'Build/AWS/CodeBuild/1': {
    inputs: [1, 5],
    outputs: [0, 5],
    required: ['ProjectName'],
    optional: ['PrimarySource', 'EnvironmentVariables', 'BatchEnabled', 'CombineArtifacts'],
    docs: 'https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-CodeBuild.html',
  },
  'Test/AWS/CodeBuild/1': {
    inputs: [1, 5],
    outputs: [0, 5],
    required: ['ProjectName'],
    optional: ['PrimarySource', 'EnvironmentVariables', 'BatchEnabled', 'CombineArtifacts'],
    docs: 'https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-CodeBuild.html',
  },
  'Deploy/AWS/CloudFormation/1': {
    inputs: [0, 10],
    outputs: [0, 1],
    required: ['ActionMode', 'StackName'],
    optional: [
      'Capabilities',
      'ChangeSetName',
      'TemplatePath',
      'TemplateConfiguration',
      'ParameterOverrides',
      'OutputFileName',
      'RoleArn',
    ],
    docs: 'https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-CloudFormation.html',
  },
  'Approval/AWS/Manual/1': {
    inputs: [0, 0],
    outputs: [0, 0],
    required: [],
    optional: ['NotificationArn', 'CustomData', 'ExternalEntityLink'],
    docs: 'https://docs.aws.amazon.com/codepipeline/latest/userguide/approvals-action-add.html',
  },
}

/** The CloudFormation action modes (action-reference-CloudFormation.html, ActionMode). */
export const ACTION_MODES = [
  'CHANGE_SET_EXECUTE',
  'CHANGE_SET_REPLACE',
  'CREATE_UPDATE',
  'DELETE_ONLY',
  'REPLACE_ON_FAILURE',
]

/** The `Category/Owner/Provider/Version` key of an action. */
export function typeKey(a: ActionDeclaration): string {
  const t = a.actionTypeId
  return `${t.category}/${t.owner}/${t.provider}/${t.version}`
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/** The API's artifact store, as the model checked it, in the store's shape. */
function storeOf(s: Validated<Cp.ArtifactStore>): ArtifactStore {
  return {
    type: s.type,
    location: s.location,
    encryptionKey: s.encryptionKey ? { id: s.encryptionKey.id, type: s.encryptionKey.type } : undefined,
  }
}

/**
 * The declaration of a CreatePipeline / UpdatePipeline `pipeline`, in the store's shape.
 *
 * Its shape is already checked against CodePipeline's model by the operation layer, with AWS's
 * messages (src/sandbox/operations): JSON types (`SerializationException`), required members, the
 * name patterns and lengths of pipelines, stages, actions and artifacts, the role ARN pattern,
 * the artifact store's `type` (S3), `location` (3–63, `[a-zA-Z0-9\-\.]+`) and key `type` (KMS),
 * the action categories and owners, `runOrder` 1–999, `timeoutInMinutes` 5–86400, configuration
 * keys 1–50 and values 1–1000 characters, `pipelineType` and `executionMode` (`ValidationException`).
 * What is left here is what the model cannot say: the sandbox's refusals of what it does not run,
 * and `artifactStores` keyed by region names only (the model's key is any 4–30 characters).
 */
export function readDeclaration(v: Validated<Cp.PipelineDeclaration>): PipelineDeclaration {
  let artifactStores: Record<string, ArtifactStore> | undefined
  if (v.artifactStores) {
    artifactStores = {}
    for (const [r, s] of Object.entries(v.artifactStores)) {
      // Only region names are keys (a key such as __proto__ must not reach the object).
      if (!ALL_REGIONS.includes(r)) throw invalidStructure(`artifactStores names an unknown region ${r}`)
      if (s) artifactStores[r] = storeOf(s)
    }
  }
  const stages: StageDeclaration[] = v.stages.map((s) => {
    // V2 stage conditions change how an execution moves (rollback, skip, gates): refused rather
    // than ignored, so no pipeline behaves differently here than on AWS without saying so.
    for (const k of ['beforeEntry', 'onSuccess', 'onFailure'] as const)
      if (s[k] !== undefined)
        throw invalidStageDeclaration(
          `Stage ${s.name}: ${k} conditions are not supported by the crosspipe sandbox`,
        )
    return {
      name: s.name,
      blockers: s.blockers?.map((b) => ({ name: b.name, type: b.type })),
      actions: s.actions.map((a): ActionDeclaration => {
        // Members of the Commands action (Compute/AWS/Commands, action-reference-Commands.html),
        // which the sandbox does not run: refused rather than dropped.
        for (const k of ['commands', 'outputVariables', 'environmentVariables'] as const)
          if (a[k] !== undefined)
            throw invalidActionDeclaration(
              `Action ${a.name} in stage ${s.name}: ${k} (of the Commands action) is not supported by the crosspipe sandbox`,
            )
        if (a.outputArtifacts?.some((o) => o.files !== undefined))
          throw invalidActionDeclaration(
            `Action ${a.name} in stage ${s.name}: output artifact files (of the Commands action) are not supported by the crosspipe sandbox`,
          )
        return {
          name: a.name,
          actionTypeId: {
            category: a.actionTypeId.category,
            owner: a.actionTypeId.owner,
            provider: a.actionTypeId.provider,
            version: a.actionTypeId.version,
          },
          runOrder: a.runOrder ?? 1,
          configuration: { ...a.configuration },
          inputArtifacts: (a.inputArtifacts ?? []).map((i) => ({ name: i.name })),
          outputArtifacts: (a.outputArtifacts ?? []).map((o) => ({ name: o.name })),
          roleArn: a.roleArn,
          region: a.region,
          namespace: a.namespace,
          timeoutInMinutes: a.timeoutInMinutes,
        }
      }),
    }
  })
  // Trigger filters (V2) decide which pushes start an execution; the sandbox starts one on any
  // new revision, so a pipeline with triggers is refused rather than run differently.
  if (v.triggers?.length)
    throw invalidStructure(
      'Pipeline triggers are not supported by the crosspipe sandbox; it starts executions on any new source revision',
    )
  return {
    name: v.name,
    roleArn: v.roleArn,
    artifactStore: v.artifactStore ? storeOf(v.artifactStore) : undefined,
    artifactStores,
    stages,
    version: v.version,
    pipelineType: v.pipelineType ?? 'V1',
    executionMode: v.executionMode ?? 'SUPERSEDED',
    variables: v.variables?.map((x) => ({ ...x })),
    triggers: v.triggers?.map((x) => ({ ...x })),
  }
}

/**
 * Checks a declaration's structure: stages, source placement, action types and their
 * configuration, artifacts flowing only forward, regions with artifact stores. Throws the
 * exception AWS names for the kind of mistake.
 */
export function validateDeclaration(d: PipelineDeclaration, pipelineRegion: string): void {
  const fail = (e: AwsError): never => {
    throw e
  }
  if (d.artifactStore && d.artifactStores)
    fail(invalidStructure('Pipeline cannot have both artifactStore and artifactStores'))
  if (!d.artifactStore && !d.artifactStores)
    fail(invalidStructure('A pipeline must have an artifactStore or artifactStores'))
  if (d.artifactStores) {
    if (!d.artifactStores[pipelineRegion])
      fail(
        invalidStructure(
          `artifactStores must include an artifact store for the pipeline's region ${pipelineRegion}`,
        ),
      )
  }
  if (d.pipelineType !== 'V2' && d.executionMode !== 'SUPERSEDED')
    fail(invalidStructure(`Execution mode ${d.executionMode ?? ''} requires pipeline type V2`))
  if (d.stages.length < 2)
    fail(
      invalidStructure(
        `Pipeline has only ${d.stages.length} stage(s). There should be a minimum of 2 stages in a pipeline`,
      ),
    )
  const stageNames = new Set<string>()
  const produced = new Map<string, { stage: number; runOrder: number }>()
  d.stages.forEach((s, si) => {
    if (stageNames.has(s.name)) fail(invalidStageDeclaration(`Stage name '${s.name}' is not unique`))
    stageNames.add(s.name)
    if (s.actions.length < 1 || s.actions.length > 50)
      fail(invalidStageDeclaration(`Stage ${s.name} must contain between 1 and 50 actions`))
    const actionNames = new Set<string>()
    for (const a of s.actions) {
      if (actionNames.has(a.name))
        fail(invalidActionDeclaration(`Action name '${a.name}' is not unique in stage '${s.name}'`))
      actionNames.add(a.name)
      const key = typeKey(a)
      const spec = ACTION_TYPES[key]
      if (!spec)
        fail(
          invalidActionDeclaration(
            `Action type ${key} of action ${a.name} in stage ${s.name} is not supported by the crosspipe sandbox; it runs ${Object.keys(ACTION_TYPES).join(', ')}`,
          ),
        )
      const isSource = a.actionTypeId.category === 'Source'
      if (si === 0 && !isSource)
        fail(invalidStageDeclaration(`Stage ${s.name} should only have source actions`))
      if (si > 0 && isSource)
        fail(
          invalidStageDeclaration(
            `Source actions can only be in the first stage of the pipeline: stage ${s.name}`,
          ),
        )
      const ins = a.inputArtifacts ?? []
      const outs = a.outputArtifacts ?? []
      const [inMin, inMax] = spec!.inputs
      const [outMin, outMax] = spec!.outputs
      if (ins.length < inMin || ins.length > inMax)
        fail(
          invalidActionDeclaration(
            `Action ${a.name} of type ${key} must have between ${inMin} and ${inMax} input artifacts; it has ${ins.length}`,
          ),
        )
      if (outs.length < outMin || outs.length > outMax)
        fail(
          invalidActionDeclaration(
            `Action ${a.name} of type ${key} must have between ${outMin} and ${outMax} output artifacts; it has ${outs.length}`,
          ),
        )
      const cfg = a.configuration ?? {}
      for (const k of spec!.required)
        if (cfg[k] === undefined)
          fail(
            invalidActionDeclaration(
              `Action configuration for action '${a.name}' is missing required configuration '${k}'`,
            ),
          )
      for (const k of Object.keys(cfg))
        if (!spec!.required.includes(k) && !spec!.optional.includes(k))
          fail(
            invalidActionDeclaration(
              `Action configuration for action '${a.name}' contains unknown configuration '${k}'`,
            ),
          )
      checkConfiguration(a, s.name)
      if (a.region !== undefined && a.region !== pipelineRegion && !d.artifactStores?.[a.region])
        fail(
          invalidStructure(
            `Action ${a.name} runs in region ${a.region}: a cross-region action needs artifactStores with a store in ${a.region}`,
          ),
        )
      for (const i of ins) {
        const p = produced.get(i.name)
        if (!p || (p.stage === si && p.runOrder >= (a.runOrder ?? 1)))
          fail(
            invalidActionDeclaration(
              `Input Artifact Bundle ${i.name} in action '${a.name}' is not declared as an output artifact in any of the preceding actions`,
            ),
          )
      }
    }
    for (const a of s.actions)
      for (const o of a.outputArtifacts ?? []) {
        if (produced.has(o.name))
          fail(
            invalidActionDeclaration(`Output Artifact Bundle name ${o.name} is not unique in the pipeline`),
          )
        produced.set(o.name, { stage: si, runOrder: a.runOrder ?? 1 })
      }
  })
}

function checkConfiguration(a: ActionDeclaration, stage: string): void {
  const cfg = a.configuration ?? {}
  const where = `action ${a.name} in stage ${stage}`
  if (a.actionTypeId.provider === 'CloudFormation') {
    const mode = cfg['ActionMode'] ?? ''
    if (!ACTION_MODES.includes(mode))
      throw invalidActionDeclaration(
        `ActionMode ${mode} of ${where} is not one of ${ACTION_MODES.join(', ')}`,
      )
    if (mode.startsWith('CHANGE_SET') && !cfg['ChangeSetName'])
      throw invalidActionDeclaration(
        `Action configuration for action '${a.name}' is missing required configuration 'ChangeSetName'`,
      )
    if (['CREATE_UPDATE', 'REPLACE_ON_FAILURE', 'CHANGE_SET_REPLACE'].includes(mode) && !cfg['TemplatePath'])
      throw invalidActionDeclaration(
        `Action configuration for action '${a.name}' is missing required configuration 'TemplatePath'`,
      )
    for (const k of ['TemplatePath', 'TemplateConfiguration'])
      if (cfg[k] !== undefined && !/^[^:]+::.+$/.test(cfg[k]))
        throw invalidActionDeclaration(`${k} of ${where} must be ArtifactName::path/in/artifact`)
    if (cfg['ParameterOverrides'] !== undefined) {
      let v: unknown
      try {
        v = JSON.parse(cfg['ParameterOverrides'])
      } catch {
        throw invalidActionDeclaration(`ParameterOverrides of ${where} is not valid JSON`)
      }
      if (!isObject(v)) throw invalidActionDeclaration(`ParameterOverrides of ${where} must be a JSON object`)
    }
  }
  if (
    a.actionTypeId.provider === 'CodeCommit' &&
    cfg['OutputArtifactFormat'] !== undefined &&
    cfg['OutputArtifactFormat'] !== 'CODE_ZIP'
  )
    throw invalidActionDeclaration(
      `OutputArtifactFormat ${cfg['OutputArtifactFormat']} of ${where} is not supported by the crosspipe sandbox; use CODE_ZIP`,
    )
  if (cfg['PollForSourceChanges'] !== undefined && !['true', 'false'].includes(cfg['PollForSourceChanges']))
    throw invalidActionDeclaration(`PollForSourceChanges of ${where} must be true or false`)
  if (a.actionTypeId.provider === 'CodeBuild' && cfg['BatchEnabled'] === 'true')
    throw invalidActionDeclaration(
      `BatchEnabled builds (${where}) are not supported by the crosspipe sandbox`,
    )
}

// ---- CloudFormation's AWS::CodePipeline::Pipeline --------------------------

const CFN_KEYS: Readonly<Record<string, string>> = {
  ActionTypeId: 'actionTypeId',
  EncryptionKey: 'encryptionKey',
  InputArtifacts: 'inputArtifacts',
  OutputArtifacts: 'outputArtifacts',
  RunOrder: 'runOrder',
  RoleArn: 'roleArn',
}

function camel(k: string): string {
  return CFN_KEYS[k] ?? k.charAt(0).toLowerCase() + k.slice(1)
}

function stringValues(v: unknown): unknown {
  if (!isObject(v)) return v
  const out: Record<string, unknown> = {}
  for (const [k, x] of Object.entries(v))
    out[k] = typeof x === 'number' || typeof x === 'boolean' ? String(x) : x
  return out
}

function convert(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(convert)
  if (!isObject(v)) return v
  const out: Record<string, unknown> = {}
  for (const [k, x] of Object.entries(v)) {
    // An action's Configuration is a map of the action type's own keys, kept as written, its
    // values strings as the API's ActionConfigurationMap has them: CloudFormation passes a
    // template's `PollForSourceChanges: false` or `RunOrder`-like numbers as their text.
    if (k === 'Configuration') out['configuration'] = stringValues(x)
    else out[camel(k)] = convert(x)
  }
  return out
}

/**
 * The CreatePipeline `pipeline` input for the properties of an `AWS::CodePipeline::Pipeline`
 * resource (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-codepipeline-pipeline.html):
 * PascalCase to the API's camelCase, `ArtifactStores` (a list of Region + ArtifactStore) to the
 * API's map by region. For the CloudFormation provider, which then calls CreatePipeline /
 * UpdatePipeline with the deploying identity.
 */
export function pipelineInputFromCloudFormation(
  props: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const {
    ArtifactStores,
    Tags: _tags,
    RestartExecutionOnUpdate: _restart,
    DisableInboundStageTransitions: _disable,
    ...rest
  } = props
  const out = convert(rest) as Record<string, unknown>
  if (Array.isArray(ArtifactStores)) {
    const map: Record<string, unknown> = {}
    for (const s of ArtifactStores as Record<string, unknown>[])
      map[String(s['Region'])] = convert(s['ArtifactStore'])
    out['artifactStores'] = map
  }
  return out
}
