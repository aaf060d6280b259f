/**
 * Pipeline declarations: reading them from API input (and from CloudFormation's
 * `AWS::CodePipeline::Pipeline` properties), and validating them as the pipeline structure
 * reference describes (https://docs.aws.amazon.com/codepipeline/latest/userguide/reference-pipeline-structure.html)
 * and each action's reference page (action-reference-*.html).
 *
 * The sandbox runs the action types below. Any other type is refused at creation with a message
 * that says so, so a pipeline never sits there with an action that can never run.
 */
import { ALL_REGIONS, parseArn } from '../../../iam/arn.js'
import type { AwsError } from '../../gateway/errors.js'
import {
  invalidActionDeclaration,
  invalidStageDeclaration,
  invalidStructure,
  validationException,
} from './errors.js'
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

const NAME = /^[A-Za-z0-9.@\-_]+$/
const ARTIFACT_NAME = /^[a-zA-Z0-9_-]+$/
const BUCKET = /^[a-zA-Z0-9\-.]+$/

/** The `Category/Owner/Provider/Version` key of an action. */
export function typeKey(a: ActionDeclaration): string {
  const t = a.actionTypeId
  return `${t.category}/${t.owner}/${t.provider}/${t.version}`
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

function need<T>(v: T | undefined | null, where: string): T {
  if (v === undefined || v === null)
    throw validationException(
      `1 validation error detected: Value null at '${where}' failed to satisfy constraint: Member must not be null`,
    )
  return v
}

function asString(v: unknown, where: string): string {
  if (typeof v !== 'string')
    throw validationException(
      `1 validation error detected: Value at '${where}' failed to satisfy constraint: Member must be a string`,
    )
  return v
}

function named(v: unknown, where: string, pattern = NAME, max = 100): string {
  const s = asString(need(v, where), where)
  if (s.length < 1 || s.length > max || !pattern.test(s))
    throw validationException(
      `1 validation error detected: Value '${s}' at '${where}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${pattern.source.slice(1, -1)}`,
    )
  return s
}

function store(v: unknown, where: string): ArtifactStore {
  if (!isObject(v)) throw validationException(`Value at '${where}' must be a structure`)
  const type = asString(need(v['type'], `${where}.type`), `${where}.type`)
  if (type !== 'S3')
    throw validationException(
      `1 validation error detected: Value '${type}' at '${where}.type' failed to satisfy constraint: Member must satisfy enum value set: [S3]`,
    )
  const location = named(v['location'], `${where}.location`, BUCKET, 63)
  const key = v['encryptionKey']
  let encryptionKey: ArtifactStore['encryptionKey']
  if (key !== undefined && key !== null) {
    if (!isObject(key)) throw validationException(`Value at '${where}.encryptionKey' must be a structure`)
    const id = asString(need(key['id'], `${where}.encryptionKey.id`), `${where}.encryptionKey.id`)
    const kt = asString(need(key['type'], `${where}.encryptionKey.type`), `${where}.encryptionKey.type`)
    if (kt !== 'KMS')
      throw validationException(
        `1 validation error detected: Value '${kt}' at '${where}.encryptionKey.type' failed to satisfy constraint: Member must satisfy enum value set: [KMS]`,
      )
    encryptionKey = { id, type: kt }
  }
  return { type, location, encryptionKey }
}

function artifacts(v: unknown, where: string): { name: string }[] {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) throw validationException(`Value at '${where}' must be a list`)
  return v.map((x: unknown, i) => ({
    name: named(isObject(x) ? x['name'] : undefined, `${where}.${i + 1}.member.name`, ARTIFACT_NAME),
  }))
}

/** Reads a declaration from API input (camelCase), checking shapes and patterns. */
export function readDeclaration(v: unknown): PipelineDeclaration {
  if (!isObject(v))
    throw validationException(
      `1 validation error detected: Value null at 'pipeline' failed to satisfy constraint: Member must not be null`,
    )
  const name = named(v['name'], 'pipeline.name')
  const roleArn = asString(need(v['roleArn'], 'pipeline.roleArn'), 'pipeline.roleArn')
  if (!/^arn:aws(-[\w]+)*:iam::[0-9]{12}:role\/.*$/.test(roleArn))
    throw validationException(
      `1 validation error detected: Value '${roleArn}' at 'pipeline.roleArn' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:aws(-[\\w]+)*:iam::[0-9]{12}:role/.*`,
    )
  const artifactStore =
    v['artifactStore'] === undefined || v['artifactStore'] === null
      ? undefined
      : store(v['artifactStore'], 'pipeline.artifactStore')
  let artifactStores: Record<string, ArtifactStore> | undefined
  if (v['artifactStores'] !== undefined && v['artifactStores'] !== null) {
    if (!isObject(v['artifactStores']))
      throw validationException(`Value at 'pipeline.artifactStores' must be a map`)
    artifactStores = {}
    for (const [r, s] of Object.entries(v['artifactStores'])) {
      // Only region names are keys (a key such as __proto__ must not reach the object).
      if (!ALL_REGIONS.includes(r)) throw invalidStructure(`artifactStores names an unknown region ${r}`)
      artifactStores[r] = store(s, `pipeline.artifactStores.${r}`)
    }
  }
  const stagesIn = need(v['stages'], 'pipeline.stages')
  if (!Array.isArray(stagesIn)) throw validationException(`Value at 'pipeline.stages' must be a list`)
  const stages: StageDeclaration[] = stagesIn.map((s: unknown, i) => {
    const w = `pipeline.stages.${i + 1}.member`
    if (!isObject(s)) throw validationException(`Value at '${w}' must be a structure`)
    const actionsIn = need(s['actions'], `${w}.actions`)
    if (!Array.isArray(actionsIn)) throw validationException(`Value at '${w}.actions' must be a list`)
    // V2 stage conditions change how an execution moves (rollback, skip, gates): refused rather
    // than ignored, so no pipeline behaves differently here than on AWS without saying so.
    for (const k of ['beforeEntry', 'onSuccess', 'onFailure'])
      if (s[k] !== undefined && s[k] !== null)
        throw invalidStageDeclaration(
          `Stage ${String(s['name'])}: ${k} conditions are not supported by the crosspipe sandbox`,
        )
    return {
      name: named(s['name'], `${w}.name`),
      blockers: Array.isArray(s['blockers'])
        ? (s['blockers'] as { name: string; type: string }[])
        : undefined,
      actions: actionsIn.map((a: unknown, j): ActionDeclaration => {
        const aw = `${w}.actions.${j + 1}.member`
        if (!isObject(a)) throw validationException(`Value at '${aw}' must be a structure`)
        const t = need(a['actionTypeId'], `${aw}.actionTypeId`)
        if (!isObject(t)) throw validationException(`Value at '${aw}.actionTypeId' must be a structure`)
        const cfg = a['configuration']
        const configuration: Record<string, string> = {}
        if (cfg !== undefined && cfg !== null) {
          if (!isObject(cfg)) throw validationException(`Value at '${aw}.configuration' must be a map`)
          for (const [k, x] of Object.entries(cfg)) {
            if (typeof x === 'string') configuration[k] = x
            else if (typeof x === 'number' || typeof x === 'boolean') configuration[k] = String(x)
            else throw validationException(`Value at '${aw}.configuration.${k}' must be a string`)
          }
        }
        const runOrder = a['runOrder']
        if (
          runOrder !== undefined &&
          runOrder !== null &&
          (typeof runOrder !== 'number' || !Number.isInteger(runOrder) || runOrder < 1 || runOrder > 999)
        )
          throw validationException(
            `1 validation error detected: Value '${JSON.stringify(runOrder)}' at '${aw}.runOrder' failed to satisfy constraint: Member must have value between 1 and 999`,
          )
        return {
          name: named(a['name'], `${aw}.name`),
          actionTypeId: {
            category: asString(
              need(t['category'], `${aw}.actionTypeId.category`),
              `${aw}.actionTypeId.category`,
            ),
            owner: asString(need(t['owner'], `${aw}.actionTypeId.owner`), `${aw}.actionTypeId.owner`),
            provider: asString(
              need(t['provider'], `${aw}.actionTypeId.provider`),
              `${aw}.actionTypeId.provider`,
            ),
            version: asString(need(t['version'], `${aw}.actionTypeId.version`), `${aw}.actionTypeId.version`),
          },
          runOrder: typeof runOrder === 'number' ? runOrder : 1,
          configuration,
          inputArtifacts: artifacts(a['inputArtifacts'], `${aw}.inputArtifacts`),
          outputArtifacts: artifacts(a['outputArtifacts'], `${aw}.outputArtifacts`),
          roleArn: typeof a['roleArn'] === 'string' ? a['roleArn'] : undefined,
          region: typeof a['region'] === 'string' ? a['region'] : undefined,
          namespace: typeof a['namespace'] === 'string' ? a['namespace'] : undefined,
          timeoutInMinutes: typeof a['timeoutInMinutes'] === 'number' ? a['timeoutInMinutes'] : undefined,
        }
      }),
    }
  })
  // Trigger filters (V2) decide which pushes start an execution; the sandbox starts one on any
  // new revision, so a pipeline with triggers is refused rather than run differently.
  if (Array.isArray(v['triggers']) && v['triggers'].length)
    throw invalidStructure(
      'Pipeline triggers are not supported by the crosspipe sandbox; it starts executions on any new source revision',
    )
  const pipelineType = typeof v['pipelineType'] === 'string' ? v['pipelineType'] : 'V1'
  if (pipelineType !== 'V1' && pipelineType !== 'V2')
    throw validationException(
      `1 validation error detected: Value '${pipelineType}' at 'pipeline.pipelineType' failed to satisfy constraint: Member must satisfy enum value set: [V1, V2]`,
    )
  const executionMode = typeof v['executionMode'] === 'string' ? v['executionMode'] : 'SUPERSEDED'
  if (!['SUPERSEDED', 'QUEUED', 'PARALLEL'].includes(executionMode))
    throw validationException(
      `1 validation error detected: Value '${executionMode}' at 'pipeline.executionMode' failed to satisfy constraint: Member must satisfy enum value set: [QUEUED, SUPERSEDED, PARALLEL]`,
    )
  return {
    name,
    roleArn,
    artifactStore,
    artifactStores,
    stages,
    version: typeof v['version'] === 'number' ? v['version'] : undefined,
    pipelineType,
    executionMode,
    variables: Array.isArray(v['variables']) ? (v['variables'] as Record<string, unknown>[]) : undefined,
    triggers: Array.isArray(v['triggers']) ? (v['triggers'] as Record<string, unknown>[]) : undefined,
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
    for (const r of Object.keys(d.artifactStores))
      if (!ALL_REGIONS.includes(r)) fail(invalidStructure(`artifactStores names an unknown region ${r}`))
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
        if (cfg[k] === undefined || cfg[k] === '')
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
      if (a.roleArn !== undefined) {
        const r = parseArn(a.roleArn)
        if (!r || r.service !== 'iam' || !r.resource.startsWith('role/'))
          fail(invalidActionDeclaration(`Action ${a.name}: roleArn ${a.roleArn} is not a role ARN`))
      }
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
