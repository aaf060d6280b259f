/**
 * CodeBuild over awsJson 1.1 (`CodeBuild_20161006`): projects and builds. Builds run on this
 * machine (runner.ts) as the project's service role. Behaviour and citations in SPEC.md.
 */
import { randomUUID } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { formatArn, parseArn } from '../../../iam/arn.js'
import { servicePrincipal } from '../../../iam/aws-facts.js'
import { authorize } from '../../auth/authorize.js'
import { AwsError } from '../../gateway/errors.js'
import type { Runtime } from '../../runtime.js'
import type { JsonService, RequestContext } from '../types.js'
import type { CloudFormationInternal } from '../cloudformation/api.js'
import { serviceMayAssume } from './calls.js'
import { projectProvider } from './cfn-provider.js'
import { alreadyExists, invalidInput, notFound, validation } from './errors.js'
import { cloudWatchLogsEnabled } from './logs-config.js'
import { BuildRunner } from './runner.js'
import {
  CodeBuildStore,
  scopeOf,
  type BuildRecord,
  type EnvVar,
  type PipelineBuildInput,
  type ProjectRecord,
} from './store.js'

import { registerShutdown } from './shutdown.js'

type Input = Readonly<Record<string, unknown>>

const PROJECT_NAME = /^[A-Za-z0-9][A-Za-z0-9\-_]{1,254}$/
const SOURCE_TYPES = [
  'CODECOMMIT',
  'CODEPIPELINE',
  'GITHUB',
  'GITLAB',
  'GITLAB_SELF_MANAGED',
  'S3',
  'BITBUCKET',
  'GITHUB_ENTERPRISE',
  'NO_SOURCE',
]
const ARTIFACT_TYPES = ['CODEPIPELINE', 'S3', 'NO_ARTIFACTS']
const ENV_TYPES = [
  'WINDOWS_CONTAINER',
  'LINUX_CONTAINER',
  'LINUX_GPU_CONTAINER',
  'ARM_CONTAINER',
  'WINDOWS_SERVER_2019_CONTAINER',
  'WINDOWS_SERVER_2022_CONTAINER',
  'LINUX_LAMBDA_CONTAINER',
  'ARM_LAMBDA_CONTAINER',
  'LINUX_EC2',
  'ARM_EC2',
  'WINDOWS_EC2',
  'MAC_ARM',
]

/** StartBuild's input, as the API names it (the subset the sandbox honours). */
export interface StartBuildInput {
  readonly projectName: string
  readonly sourceVersion?: string
  readonly buildspecOverride?: string
  readonly environmentVariablesOverride?: readonly EnvVar[]
  readonly timeoutInMinutesOverride?: number
}

/** What CodePipeline's CodeBuild action uses (registered on the runtime as `codebuild`). */
export interface CodeBuildInternal {
  /** StartBuild as the caller in `ctx`, with the pipeline's artifacts as source and outputs. */
  startBuild(ctx: RequestContext, input: StartBuildInput, pipeline?: PipelineBuildInput): BuildRecord
  /** A build by id, in an account and region. */
  build(account: string, region: string, id: string): BuildRecord | undefined
  /** A build's log text. */
  buildLog(id: string): string
  /** Stops a build (StopBuild's effect, without authorization: the pipeline stops its own). */
  stopBuild(account: string, region: string, id: string): void
}

function str(input: Input, name: string, required: true): string
function str(input: Input, name: string, required?: false): string | undefined
function str(input: Input, name: string, required = false): string | undefined {
  const v = input[name]
  if (v === undefined || v === null) {
    if (required) throw validation(name, 'null', 'Member must not be null')
    return undefined
  }
  if (typeof v !== 'string')
    throw new AwsError('SerializationException', `Expected a string for ${name}`, 400)
  return v
}

function int(input: Input, name: string, min: number, max: number): number | undefined {
  const v = input[name]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw new AwsError('SerializationException', `Expected an integer for ${name}`, 400)
  if (v < min || v > max)
    throw validation(
      name,
      v,
      `Member must have value ${v < min ? `greater than or equal to ${min}` : `less than or equal to ${max}`}`,
    )
  return v
}

function obj(input: Input, name: string, required: boolean): Record<string, unknown> | undefined {
  const v = input[name]
  if (v === undefined || v === null) {
    if (required) throw validation(name, 'null', 'Member must not be null')
    return undefined
  }
  if (typeof v !== 'object' || Array.isArray(v))
    throw new AwsError('SerializationException', `Expected a structure for ${name}`, 400)
  return { ...(v as Record<string, unknown>) }
}

function list(input: Input, name: string): unknown[] {
  const v = input[name]
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) throw new AwsError('SerializationException', `Expected a list for ${name}`, 400)
  return v as unknown[]
}

function envVars(v: unknown, where: string): EnvVar[] {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) throw new AwsError('SerializationException', `Expected a list for ${where}`, 400)
  return v.map((e: unknown) => {
    const x = e as Record<string, unknown>
    if (typeof x?.['name'] !== 'string' || typeof x['value'] !== 'string')
      throw invalidInput(`${where}: every environment variable needs a name and a value`)
    const type = (x['type'] ?? 'PLAINTEXT') as EnvVar['type']
    if (type !== 'PLAINTEXT')
      throw invalidInput(
        `Environment variable ${x['name']}: type ${type} is not supported by the crosspipe sandbox (it has no ${type === 'PARAMETER_STORE' ? 'Parameter Store' : 'Secrets Manager'}); use PLAINTEXT`,
      )
    return { name: x['name'], value: x['value'], type }
  })
}

function epoch(iso: string | undefined): number | undefined {
  return iso === undefined ? undefined : Date.parse(iso) / 1000
}

/** The path of a build's log in a state directory (for `crosspipe status` with no sandbox object at hand). */
export function buildLogPath(stateDir: string, buildId: string): string {
  return join(stateDir, 'codebuild', 'logs', `${buildId.split(':').pop() ?? buildId}.log`)
}

/**
 * A build's log, read from a sandbox's state directory — what `crosspipe status` shows for a
 * failed CodeBuild action. `tailLines` keeps only the last lines. '' when the build wrote none.
 */
export function readBuildLog(stateDir: string, buildId: string, tailLines?: number): string {
  const p = buildLogPath(stateDir, buildId)
  if (!existsSync(p)) return ''
  const text = readFileSync(p, 'utf8')
  if (tailLines === undefined) return text
  const lines = text.replace(/\n$/, '').split('\n')
  return lines.slice(-tailLines).join('\n') + '\n'
}

/** The CodeBuild service; also registers {@link CodeBuildInternal} as `codebuild` on the runtime. */
export function codebuildService(runtime: Runtime): JsonService {
  const store = new CodeBuildStore(runtime)
  const endpoint = (): string | undefined => {
    // The gateway records where it listens in sandbox.json once it is up; builds need it for AWS_ENDPOINT_URL.
    try {
      const s = JSON.parse(readFileSync(join(runtime.stateDir, 'sandbox.json'), 'utf8')) as {
        endpoint?: string
        pid?: number
      }
      return s.pid === process.pid ? s.endpoint : undefined
    } catch {
      return undefined
    }
  }
  const runner = new BuildRunner({ runtime, store, endpoint })
  registerShutdown(runtime, () => runner.shutdown())

  // Builds that were running when the sandbox last stopped cannot resume: end them as AWS ends
  // builds whose host failed (FAULT), so clients waiting on them see an end.
  for (const { value: b } of store.builds.all())
    if (!b.buildComplete) {
      b.buildStatus = 'FAULT'
      b.buildComplete = true
      const now = new Date().toISOString()
      const cur = b.phases[b.phases.length - 1]
      if (cur && !cur.endTime) {
        cur.endTime = now
        cur.phaseStatus = 'FAULT'
        cur.contexts = [
          {
            statusCode: 'CLIENT_ERROR',
            message: 'The crosspipe sandbox stopped while this build ran; it cannot resume.',
          },
        ]
      }
      b.currentPhase = 'COMPLETED'
      b.endTime = now
      store.saveBuild(b)
    }

  const projectArn = (ctx: RequestContext, account: string, name: string): string =>
    formatArn({
      partition: ctx.partition,
      service: 'codebuild',
      region: ctx.region,
      account,
      resource: `project/${name}`,
    })

  /** A project named by name or ARN, in the caller's account and region. */
  function findProject(ctx: RequestContext, nameOrArn: string): ProjectRecord | undefined {
    let account = ctx.identity.account
    let name = nameOrArn
    if (nameOrArn.startsWith('arn:')) {
      const a = parseArn(nameOrArn)
      if (!a || !a.resource.startsWith('project/') || a.region !== ctx.region) return undefined
      account = a.account
      name = a.resource.slice('project/'.length)
    }
    return store.projects.get(scopeOf(account, ctx.region), name)
  }

  function allow(ctx: RequestContext, action: string, resource: string): void {
    authorize(ctx, { action: `codebuild:${action}`, resource }, 'json')
  }

  function checkServiceRole(ctx: RequestContext, role: string, project: string): void {
    const arn = parseArn(role)
    if (!arn || arn.service !== 'iam' || !arn.resource.startsWith('role/'))
      throw invalidInput(`Invalid service role: ${role}`)
    // Passing the role to CodeBuild needs iam:PassRole (https://docs.aws.amazon.com/codebuild/latest/userguide/setting-up-service-permissions-group.html).
    authorize(
      ctx,
      {
        action: 'iam:PassRole',
        resource: role,
        context: { 'iam:PassedToService': servicePrincipal('codebuild') },
      },
      'json',
    )
    if (
      !serviceMayAssume({
        runtime,
        roleArn: role,
        service: 'codebuild',
        sessionName: 'AWSCodeBuild',
        sourceArn: project,
      })
    )
      throw invalidInput(`CodeBuild is not authorized to perform: sts:AssumeRole on ${role}`)
  }

  function checkSource(s: Record<string, unknown>, where: string): void {
    if (s === null || typeof s !== 'object' || Array.isArray(s))
      throw new AwsError('SerializationException', `Expected a structure for ${where}`, 400)
    const t = s['type']
    if (typeof t !== 'string' || !SOURCE_TYPES.includes(t))
      throw validation(`${where}.type`, t, `Member must satisfy enum value set: [${SOURCE_TYPES.join(', ')}]`)
    if (t === 'S3' && (typeof s['location'] !== 'string' || !s['location'].includes('/')))
      throw invalidInput(`Invalid source location for S3: it must be bucket-name/object-key`)
  }

  function checkArtifacts(a: Record<string, unknown>, where: string): void {
    const t = a['type']
    if (typeof t !== 'string' || !ARTIFACT_TYPES.includes(t))
      throw validation(
        `${where}.type`,
        t,
        `Member must satisfy enum value set: [${ARTIFACT_TYPES.join(', ')}]`,
      )
    if (t === 'S3' && typeof a['location'] !== 'string')
      throw invalidInput('Artifacts location must be specified for S3 artifacts')
  }

  function checkEnvironment(e: Record<string, unknown>): EnvVar[] {
    if (typeof e['type'] !== 'string' || !ENV_TYPES.includes(e['type']))
      throw validation(
        'environment.type',
        e['type'],
        `Member must satisfy enum value set: [${ENV_TYPES.join(', ')}]`,
      )
    if (typeof e['image'] !== 'string' || e['image'] === '')
      throw validation('environment.image', 'null', 'Member must not be null')
    if (typeof e['computeType'] !== 'string')
      throw validation('environment.computeType', 'null', 'Member must not be null')
    return envVars(e['environmentVariables'], 'environment.environmentVariables')
  }

  function defaultKey(ctx: RequestContext, account: string): string {
    // Without an EncryptionKey CodeBuild uses the AWS managed key for S3 (API_CreateProject.html, encryptionKey).
    return formatArn({
      partition: ctx.partition,
      service: 'kms',
      region: ctx.region,
      account,
      resource: 'alias/aws/s3',
    })
  }

  function projectOut(p: ProjectRecord): Record<string, unknown> {
    return {
      name: p.name,
      arn: p.arn,
      description: p.description,
      source: p.source,
      secondarySources: p.secondarySources,
      sourceVersion: p.sourceVersion,
      artifacts: p.artifacts,
      secondaryArtifacts: p.secondaryArtifacts,
      environment: p.environment,
      serviceRole: p.serviceRole,
      timeoutInMinutes: p.timeoutInMinutes,
      queuedTimeoutInMinutes: p.queuedTimeoutInMinutes,
      encryptionKey: p.encryptionKey,
      logsConfig: p.logsConfig ?? { cloudWatchLogs: { status: 'ENABLED' }, s3Logs: { status: 'DISABLED' } },
      tags: p.tags,
      created: epoch(p.created),
      lastModified: epoch(p.lastModified),
      badge: { badgeEnabled: false },
      projectVisibility: 'PRIVATE',
    }
  }

  function buildOut(b: BuildRecord): Record<string, unknown> {
    const uuid = b.id.split(':').pop() ?? ''
    const group = `/aws/codebuild/${b.projectName}`
    return {
      id: b.id,
      arn: b.arn,
      buildNumber: b.buildNumber,
      startTime: epoch(b.startTime),
      endTime: epoch(b.endTime),
      currentPhase: b.currentPhase,
      buildStatus: b.buildStatus,
      sourceVersion: b.sourceVersion,
      resolvedSourceVersion: b.resolvedSourceVersion,
      projectName: b.projectName,
      phases: b.phases.map((p) => ({
        phaseType: p.phaseType,
        phaseStatus: p.phaseStatus,
        startTime: epoch(p.startTime),
        endTime: epoch(p.endTime),
        durationInSeconds: p.durationInSeconds,
        contexts: p.contexts,
      })),
      source: b.source,
      secondarySources: b.secondarySources,
      artifacts: {
        ...b.artifacts,
        location: b.artifactLocations['primary'] ?? Object.values(b.artifactLocations)[0],
      },
      secondaryArtifacts: b.secondaryArtifacts,
      environment: b.environment,
      serviceRole: b.serviceRole,
      logs: {
        groupName: group,
        streamName: uuid,
        cloudWatchLogsArn: formatArn({
          partition: runtime.partition(b.region),
          service: 'logs',
          region: b.region,
          account: b.account,
          resource: `log-group:${group}:log-stream:${uuid}`,
        }),
        cloudWatchLogs: {
          status: cloudWatchLogsEnabled(b.logsConfig) ? 'ENABLED' : 'DISABLED',
          groupName: group,
          streamName: uuid,
        },
      },
      timeoutInMinutes: b.timeoutInMinutes,
      queuedTimeoutInMinutes: b.queuedTimeoutInMinutes,
      buildComplete: b.buildComplete,
      initiator: b.initiator,
      encryptionKey: b.encryptionKey,
      exportedEnvironmentVariables: b.exportedEnvironmentVariables,
      buildBatchArn: undefined,
    }
  }

  function initiatorOf(ctx: RequestContext): string {
    const c = ctx.identity.credential
    if (ctx.identity.kind === 'user') return c.userName ?? ctx.identity.arn
    if (ctx.identity.kind === 'assumed-role') return `${c.roleName ?? ''}/${c.sessionName ?? ''}`
    return 'root'
  }

  function startBuild(
    ctx: RequestContext,
    input: StartBuildInput,
    pipeline?: PipelineBuildInput,
  ): BuildRecord {
    const p = findProject(ctx, input.projectName)
    const arnFor = (account: string): string => projectArn(ctx, account, input.projectName)
    if (!p) {
      allow(ctx, 'StartBuild', arnFor(ctx.identity.account))
      throw notFound(`Project cannot be found: ${arnFor(ctx.identity.account)}`)
    }
    allow(ctx, 'StartBuild', p.arn)
    if (!pipeline && p.source['type'] === 'CODEPIPELINE')
      throw invalidInput(
        'Builds of a project whose source type is CODEPIPELINE are started by CodePipeline: give the build a sourceTypeOverride, or run the pipeline',
      )
    const overrides = envVars(input.environmentVariablesOverride, 'environmentVariablesOverride')
    p.buildCount += 1
    store.saveProject(p)
    const uuid = randomUUID()
    const id = `${p.name}:${uuid}`
    const now = new Date().toISOString()
    const b: BuildRecord = {
      id,
      arn: formatArn({
        partition: ctx.partition,
        service: 'codebuild',
        region: p.region,
        account: p.account,
        resource: `build/${id}`,
      }),
      account: p.account,
      region: p.region,
      projectName: p.name,
      buildNumber: p.buildCount,
      startTime: now,
      currentPhase: 'SUBMITTED',
      buildStatus: 'IN_PROGRESS',
      buildComplete: false,
      phases: [],
      initiator: pipeline ? `codepipeline/${pipeline.pipelineName}` : initiatorOf(ctx),
      source: pipeline ? { ...p.source, type: 'CODEPIPELINE' } : p.source,
      secondarySources: p.secondarySources,
      sourceVersion: input.sourceVersion ?? p.sourceVersion,
      artifacts: pipeline ? { ...p.artifacts, type: 'CODEPIPELINE' } : p.artifacts,
      secondaryArtifacts: p.secondaryArtifacts,
      environment: p.environment,
      serviceRole: p.serviceRole,
      timeoutInMinutes: input.timeoutInMinutesOverride ?? p.timeoutInMinutes,
      queuedTimeoutInMinutes: p.queuedTimeoutInMinutes,
      encryptionKey: p.encryptionKey,
      logsConfig: p.logsConfig,
      buildspec: input.buildspecOverride,
      pipeline,
      artifactLocations: {},
      exportedEnvironmentVariables: [],
    }
    store.saveBuild(b)
    runner.start(b, overrides)
    return b
  }

  function parseProjectFields(
    input: Input,
    ctx: RequestContext,
    account: string,
    arn: string,
    existing?: ProjectRecord,
  ): Omit<ProjectRecord, 'name' | 'arn' | 'account' | 'region' | 'created' | 'lastModified' | 'buildCount'> {
    const source = obj(input, 'source', !existing) ?? existing?.source ?? {}
    checkSource(source, 'source')
    const secondarySources =
      input['secondarySources'] !== undefined
        ? (list(input, 'secondarySources') as Record<string, unknown>[])
        : (existing?.secondarySources ?? [])
    secondarySources.forEach((s, i) => checkSource(s, `secondarySources.${i + 1}.member`))
    const artifacts = obj(input, 'artifacts', !existing) ?? existing?.artifacts ?? {}
    checkArtifacts(artifacts, 'artifacts')
    const secondaryArtifacts =
      input['secondaryArtifacts'] !== undefined
        ? (list(input, 'secondaryArtifacts') as Record<string, unknown>[])
        : (existing?.secondaryArtifacts ?? [])
    const environment = obj(input, 'environment', !existing) ?? existing?.environment ?? {}
    checkEnvironment(environment)
    const serviceRole = existing
      ? (str(input, 'serviceRole') ?? existing.serviceRole)
      : str(input, 'serviceRole', true)
    if (serviceRole !== existing?.serviceRole) checkServiceRole(ctx, serviceRole, arn)
    const tags =
      input['tags'] !== undefined
        ? (list(input, 'tags') as { key: string; value: string }[])
        : (existing?.tags ?? [])
    return {
      description: str(input, 'description') ?? existing?.description,
      source,
      secondarySources,
      sourceVersion: str(input, 'sourceVersion') ?? existing?.sourceVersion,
      artifacts,
      secondaryArtifacts,
      environment: {
        ...environment,
        environmentVariables: environment['environmentVariables'] ?? [],
        privilegedMode: environment['privilegedMode'] ?? false,
      },
      serviceRole,
      timeoutInMinutes: int(input, 'timeoutInMinutes', 5, 2160) ?? existing?.timeoutInMinutes ?? 60,
      queuedTimeoutInMinutes:
        int(input, 'queuedTimeoutInMinutes', 5, 480) ?? existing?.queuedTimeoutInMinutes ?? 480,
      encryptionKey: str(input, 'encryptionKey') ?? existing?.encryptionKey ?? defaultKey(ctx, account),
      logsConfig: obj(input, 'logsConfig', false) ?? existing?.logsConfig,
      tags,
    }
  }

  const internal: CodeBuildInternal = {
    startBuild,
    build: (account, region, id) => store.build(account, region, id),
    buildLog: (id) => store.readLog(id),
    stopBuild: (account, region, id) => {
      const b = store.build(account, region, id)
      if (b && !b.buildComplete) runner.stop(id)
    },
  }
  runtime.provide('codebuild', internal)
  // Stacks create projects through this API (cfn-provider.ts), replacing no stand-in.
  runtime.use<CloudFormationInternal>('cloudformation').providers.register(projectProvider)

  return {
    name: 'codebuild',
    signingName: 'codebuild',
    protocol: 'json',
    jsonVersion: '1.1',
    targetPrefix: 'CodeBuild_20161006',
    actions: {
      CreateProject: (input, ctx) => {
        const name = str(input, 'name', true)
        if (!PROJECT_NAME.test(name))
          throw validation(
            'name',
            name,
            'Member must satisfy regular expression pattern: [A-Za-z0-9][A-Za-z0-9\\-_]{1,254}',
          )
        const account = ctx.identity.account
        const arn = projectArn(ctx, account, name)
        allow(ctx, 'CreateProject', arn)
        if (store.projects.get(scopeOf(account, ctx.region), name))
          throw alreadyExists(`Project already exists: ${arn}`)
        const now = new Date().toISOString()
        const p: ProjectRecord = {
          name,
          arn,
          account,
          region: ctx.region,
          ...parseProjectFields(input, ctx, account, arn),
          created: now,
          lastModified: now,
          buildCount: 0,
        }
        store.saveProject(p)
        return { project: projectOut(p) }
      },

      UpdateProject: (input, ctx) => {
        const name = str(input, 'name', true)
        const p = findProject(ctx, name)
        const arn = p?.arn ?? projectArn(ctx, ctx.identity.account, name)
        allow(ctx, 'UpdateProject', arn)
        if (!p) throw notFound(`Project cannot be found: ${arn}`)
        const next: ProjectRecord = {
          ...p,
          ...parseProjectFields(input, ctx, p.account, p.arn, p),
          lastModified: new Date().toISOString(),
        }
        store.saveProject(next)
        return { project: projectOut(next) }
      },

      DeleteProject: (input, ctx) => {
        const name = str(input, 'name', true)
        const p = findProject(ctx, name)
        allow(ctx, 'DeleteProject', p?.arn ?? projectArn(ctx, ctx.identity.account, name))
        // DeleteProject of a missing project succeeds (API_DeleteProject.html lists no ResourceNotFound).
        if (p) store.projects.delete(scopeOf(p.account, p.region), p.name)
        return {}
      },

      BatchGetProjects: (input, ctx) => {
        const names = list(input, 'names')
        if (names.length < 1 || names.length > 100)
          throw validation('names', `[${names.join(', ')}]`, 'Member must have length between 1 and 100')
        const projects: Record<string, unknown>[] = []
        const projectsNotFound: string[] = []
        for (const n of names) {
          if (typeof n !== 'string')
            throw new AwsError('SerializationException', 'names must be strings', 400)
          const p = findProject(ctx, n)
          allow(ctx, 'BatchGetProjects', p?.arn ?? projectArn(ctx, ctx.identity.account, n))
          if (p) projects.push(projectOut(p))
          else projectsNotFound.push(n)
        }
        return { projects, projectsNotFound }
      },

      ListProjects: (input, ctx) => {
        allow(ctx, 'ListProjects', '*')
        const sortBy = str(input, 'sortBy') ?? 'NAME'
        const order = str(input, 'sortOrder') ?? 'ASCENDING'
        const all = store.projects.list(scopeOf(ctx.identity.account, ctx.region)).map((r) => r.value)
        all.sort((a, b) =>
          sortBy === 'NAME'
            ? a.name.localeCompare(b.name)
            : sortBy === 'CREATED_TIME'
              ? a.created.localeCompare(b.created)
              : a.lastModified.localeCompare(b.lastModified),
        )
        if (order === 'DESCENDING') all.reverse()
        const start = Number(str(input, 'nextToken') ?? '0') || 0
        const page = all.slice(start, start + 100)
        return {
          projects: page.map((p) => p.name),
          nextToken: start + 100 < all.length ? String(start + 100) : undefined,
        }
      },

      StartBuild: (input, ctx) => {
        const b = startBuild(ctx, {
          projectName: str(input, 'projectName', true),
          sourceVersion: str(input, 'sourceVersion'),
          buildspecOverride: str(input, 'buildspecOverride'),
          environmentVariablesOverride: envVars(
            input['environmentVariablesOverride'],
            'environmentVariablesOverride',
          ),
          timeoutInMinutesOverride: int(input, 'timeoutInMinutesOverride', 5, 2160),
        })
        return { build: buildOut(b) }
      },

      StopBuild: (input, ctx) => {
        const id = str(input, 'id', true)
        const b = store.build(ctx.identity.account, ctx.region, id)
        const project = b
          ? projectArn(ctx, b.account, b.projectName)
          : projectArn(ctx, ctx.identity.account, id.split(':')[0] ?? id)
        allow(ctx, 'StopBuild', project)
        if (!b) throw notFound(`Build ${id} does not exist`)
        if (!b.buildComplete) {
          b.stopRequested = true
          runner.stop(b.id)
        }
        return { build: buildOut(store.build(b.account, b.region, b.id) ?? b) }
      },

      BatchGetBuilds: (input, ctx) => {
        const ids = list(input, 'ids')
        if (ids.length < 1 || ids.length > 100)
          throw validation('ids', `[${ids.join(', ')}]`, 'Member must have length between 1 and 100')
        const builds: Record<string, unknown>[] = []
        const buildsNotFound: string[] = []
        for (const id of ids) {
          if (typeof id !== 'string') throw new AwsError('SerializationException', 'ids must be strings', 400)
          const b = store.build(ctx.identity.account, ctx.region, id)
          allow(
            ctx,
            'BatchGetBuilds',
            projectArn(ctx, ctx.identity.account, b?.projectName ?? id.split(':')[0] ?? id),
          )
          if (b) builds.push(buildOut(b))
          else buildsNotFound.push(id)
        }
        return { builds, buildsNotFound }
      },

      ListBuildsForProject: (input, ctx) => {
        const name = str(input, 'projectName', true)
        const p = findProject(ctx, name)
        allow(ctx, 'ListBuildsForProject', p?.arn ?? projectArn(ctx, ctx.identity.account, name))
        if (!p) throw notFound(`Project cannot be found: ${projectArn(ctx, ctx.identity.account, name)}`)
        const ids = store.builds
          .list(scopeOf(p.account, p.region), `${p.name}:`)
          .map((r) => r.value)
          .sort((a, b) => b.buildNumber - a.buildNumber)
          .map((b) => b.id)
        if (str(input, 'sortOrder') === 'ASCENDING') ids.reverse()
        return { ids }
      },

      // Every build of the account and region, newest first (by start time), 100 a page.
      // https://docs.aws.amazon.com/codebuild/latest/APIReference/API_ListBuilds.html
      ListBuilds: (input, ctx) => {
        allow(ctx, 'ListBuilds', '*')
        const order = str(input, 'sortOrder')
        if (order !== undefined && order !== 'ASCENDING' && order !== 'DESCENDING')
          throw new AwsError(
            'InvalidInputException',
            `1 validation error detected: Value '${order}' at 'sortOrder' failed to satisfy constraint: Member must satisfy enum value set: [ASCENDING, DESCENDING]`,
            400,
          )
        const builds = store.builds.list(scopeOf(ctx.identity.account, ctx.region)).map((r) => r.value)
        builds.sort((a, b) => b.startTime.localeCompare(a.startTime) || b.buildNumber - a.buildNumber)
        if (order === 'ASCENDING') builds.reverse()
        const token = str(input, 'nextToken')
        const start = token === undefined ? 0 : Number(token)
        if (!Number.isInteger(start) || start < 0 || start > builds.length)
          throw new AwsError('InvalidInputException', 'Invalid next token', 400)
        const page = builds.slice(start, start + 100).map((b) => b.id)
        return { ids: page, nextToken: start + 100 < builds.length ? String(start + 100) : undefined }
      },
    },
  }
}

/** Re-exported for callers that build CreateProject input from a CloudFormation resource. */
export { projectInputFromCloudFormation } from './cfn-provider.js'
