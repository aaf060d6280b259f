/**
 * The buildspec, version 0.2, as the CodeBuild buildspec reference describes it:
 * https://docs.aws.amazon.com/codebuild/latest/userguide/build-spec-ref.html
 *
 * Parsed strictly: a buildspec the sandbox cannot honour (parameter-store, secrets-manager) is a
 * YAML_FILE_ERROR with the reason, never silently ignored. Keys that only matter on AWS's hosts
 * (runtime-versions, cache, reports) are accepted and named in the build log as not applied.
 */
import { parse } from 'yaml'

/** The four command phases, in the order they run. */
export const COMMAND_PHASES = ['install', 'pre_build', 'build', 'post_build'] as const

/** A command phase's name. */
export type CommandPhase = (typeof COMMAND_PHASES)[number]

/** One command phase. */
export interface PhaseSpec {
  readonly commands: readonly string[]
  readonly finally: readonly string[]
  /** `ABORT` (the default) or `CONTINUE`. */
  readonly onFailure: 'ABORT' | 'CONTINUE'
}

/** An artifact (primary or secondary) of the `artifacts` section. */
export interface ArtifactSpec {
  readonly files: readonly string[]
  readonly excludePaths: readonly string[]
  readonly baseDirectory?: string
  readonly discardPaths: boolean
  readonly name?: string
}

/** A parsed buildspec. */
export interface Buildspec {
  readonly version: string
  readonly variables: Readonly<Record<string, string>>
  readonly exportedVariables: readonly string[]
  readonly phases: Readonly<Partial<Record<CommandPhase, PhaseSpec>>>
  readonly artifacts?: ArtifactSpec
  readonly secondaryArtifacts: Readonly<Record<string, ArtifactSpec>>
  /** Keys present but not applied in the sandbox, for the build log. */
  readonly notApplied: readonly string[]
}

/** A buildspec the sandbox cannot run: the build fails in DOWNLOAD_SOURCE with YAML_FILE_ERROR. */
export class BuildspecError extends Error {}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

function strings(v: unknown, where: string): string[] {
  if (v === undefined || v === null) return []
  if (typeof v === 'string') return [v]
  if (!Array.isArray(v)) throw new BuildspecError(`${where} must be a list of strings`)
  return v.map((x, i) => {
    if (typeof x === 'string') return x
    if (typeof x === 'number' || typeof x === 'boolean') return String(x)
    throw new BuildspecError(`${where}[${i}] must be a string`)
  })
}

function scalar(v: unknown, where: string): string {
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  throw new BuildspecError(`${where} must be a scalar value`)
}

function yesNo(v: unknown, where: string): boolean {
  if (v === undefined || v === null) return false
  if (v === true || v === 'yes' || v === 'true') return true
  if (v === false || v === 'no' || v === 'false') return false
  throw new BuildspecError(`${where} must be yes or no`)
}

function artifactSpec(v: Record<string, unknown>, where: string): ArtifactSpec {
  const files = strings(v['files'], `${where}.files`)
  if (files.length === 0) throw new BuildspecError(`${where}: files is required`)
  const base = v['base-directory']
  return {
    files,
    excludePaths: strings(v['exclude-paths'], `${where}.exclude-paths`),
    baseDirectory: base === undefined ? undefined : scalar(base, `${where}.base-directory`),
    discardPaths: yesNo(v['discard-paths'], `${where}.discard-paths`),
    name: v['name'] === undefined ? undefined : scalar(v['name'], `${where}.name`),
  }
}

/** Parses buildspec text; throws {@link BuildspecError} with the reason. */
export function parseBuildspec(text: string): Buildspec {
  let doc: unknown
  try {
    doc = parse(text)
  } catch (e) {
    throw new BuildspecError(`Error parsing YAML: ${(e as Error).message.split('\n')[0] ?? ''}`)
  }
  if (!isObject(doc)) throw new BuildspecError('the buildspec must be a YAML mapping')
  const version = doc['version'] === undefined ? undefined : scalar(doc['version'], 'version')
  if (version === undefined) throw new BuildspecError('missing required field version')
  if (version !== '0.2')
    throw new BuildspecError(
      `invalid buildspec version ${version}: the crosspipe sandbox runs version 0.2 buildspecs`,
    )
  const notApplied: string[] = []
  for (const k of ['cache', 'reports', 'batch', 'proxy']) if (doc[k] !== undefined) notApplied.push(k)

  const variables: Record<string, string> = {}
  let exportedVariables: string[] = []
  const env = doc['env']
  if (env !== undefined && env !== null) {
    if (!isObject(env)) throw new BuildspecError('env must be a mapping')
    for (const k of ['parameter-store', 'secrets-manager'])
      if (env[k] !== undefined)
        throw new BuildspecError(
          k === 'parameter-store'
            ? 'env.parameter-store is not supported by the crosspipe sandbox (its CodeBuild does not read the SSM Parameter Store yet); use env.variables'
            : 'env.secrets-manager is not supported by the crosspipe sandbox (it has no Secrets Manager); use env.variables',
        )
    const vars = env['variables']
    if (vars !== undefined && vars !== null) {
      if (!isObject(vars)) throw new BuildspecError('env.variables must be a mapping')
      for (const [k, v] of Object.entries(vars)) variables[k] = scalar(v, `env.variables.${k}`)
    }
    exportedVariables = strings(env['exported-variables'], 'env.exported-variables')
    for (const k of ['shell', 'git-credential-helper']) if (env[k] !== undefined) notApplied.push(`env.${k}`)
  }

  const phases: Partial<Record<CommandPhase, PhaseSpec>> = {}
  const ph = doc['phases']
  if (ph !== undefined && ph !== null) {
    if (!isObject(ph)) throw new BuildspecError('phases must be a mapping')
    for (const [name, v] of Object.entries(ph)) {
      if (!(COMMAND_PHASES as readonly string[]).includes(name))
        throw new BuildspecError(`unknown phase ${name}: phases are ${COMMAND_PHASES.join(', ')}`)
      if (v === null || v === undefined) continue
      if (!isObject(v)) throw new BuildspecError(`phases.${name} must be a mapping`)
      if (v['runtime-versions'] !== undefined) notApplied.push(`phases.${name}.runtime-versions`)
      if (v['run-as'] !== undefined) notApplied.push(`phases.${name}.run-as`)
      const onFailure =
        v['on-failure'] === undefined ? 'ABORT' : scalar(v['on-failure'], `phases.${name}.on-failure`)
      if (onFailure !== 'ABORT' && onFailure !== 'CONTINUE')
        throw new BuildspecError(
          `phases.${name}.on-failure ${onFailure} is not supported by the crosspipe sandbox: use ABORT or CONTINUE`,
        )
      phases[name as CommandPhase] = {
        commands: strings(v['commands'], `phases.${name}.commands`),
        finally: strings(v['finally'], `phases.${name}.finally`),
        onFailure,
      }
    }
  }

  let artifacts: ArtifactSpec | undefined
  const secondaryArtifacts: Record<string, ArtifactSpec> = {}
  const a = doc['artifacts']
  if (a !== undefined && a !== null) {
    if (!isObject(a)) throw new BuildspecError('artifacts must be a mapping')
    if (a['files'] !== undefined) artifacts = artifactSpec(a, 'artifacts')
    const sec = a['secondary-artifacts']
    if (sec !== undefined && sec !== null) {
      if (!isObject(sec)) throw new BuildspecError('artifacts.secondary-artifacts must be a mapping')
      for (const [id, v] of Object.entries(sec)) {
        if (!isObject(v)) throw new BuildspecError(`artifacts.secondary-artifacts.${id} must be a mapping`)
        secondaryArtifacts[id] = artifactSpec(v, `artifacts.secondary-artifacts.${id}`)
      }
    }
  }
  return { version, variables, exportedVariables, phases, artifacts, secondaryArtifacts, notApplied }
}
