/**
 * CodeBuild over awsJson 1.1 (`CodeBuild_20161006`): projects and builds. Builds run on this
 * machine (runner.ts) as the project's service role. Behaviour and citations in SPEC.md.
 *
 * Declared as operations of CodeBuild's model (src/sandbox/operations): the project name's pattern,
 * the source, artifacts and environment types, compute types, timeouts, list sizes and sort orders
 * are the model's, answered as CodeBuild answers bad input, `InvalidInputException`; the handlers
 * keep what the model cannot say (an S3 location's form, the service role's trust, what the
 * sandbox's builds support).
 */
import type * as Cb from '@aws-sdk/client-codebuild'
import { randomUUID } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { formatArn, parseArn } from '../../../iam/arn.js'
import { consoleHost, servicePrincipal } from '../../../iam/aws-facts.js'
import { authorize } from '../../auth/authorize.js'
import { AwsError } from '../../errors.js'
import type { Runtime } from '../../runtime.js'
import { jsonService, operation, type Members, type Validated } from '../../operations/index.js'
import type { JsonService, RequestContext } from '../types.js'
import { serviceMayAssume } from '../../auth/sessions.js'
import type {
  BuildView,
  CodeBuildInternal,
  PipelineBuildInput,
  StartBuildInput,
} from '../../internal/contracts.js'
import { alreadyExists, invalidInput, notFound } from './errors.js'
import { cloudWatchLogsEnabled, unsupportedLogsConfig } from './logs-config.js'
import { BuildRunner } from './runner.js'
import {
  CodeBuildStore,
  scopeOf,
  type BuildRecord,
  type EnvVar,
  type PipelineSourceRecord,
  type ProjectRecord,
} from './store.js'

import { registerShutdown } from '../../shutdown.js'

/**
 * The members of CreateProject and UpdateProject (the same project fields; UpdateProject changes
 * those it is sent).
 */
const PROJECT_MEMBERS = {
  honours: [
    'name',
    'description',
    'source',
    'secondarySources',
    'sourceVersion',
    'artifacts',
    'secondaryArtifacts',
    'environment',
    'serviceRole',
    'timeoutInMinutes',
    'queuedTimeoutInMinutes',
    'encryptionKey',
    'tags',
    'logsConfig',
  ],
  accepts: {
    cache: {
      why: 'NO_CACHE is the default: the sandbox caches nothing between builds',
      when: (c) => (c as { type?: string }).type === 'NO_CACHE' && Object.keys(c as object).length === 1,
    },
    badgeEnabled: { why: 'false is the default: no build badge', when: false },
  },
  refuses: {
    cache: 'builds are not cached here: leave cache out or NO_CACHE',
    secondarySourceVersions: 'secondary sources are built at their project versions',
    vpcConfig: 'builds run on this machine, in no VPC',
    fileSystemLocations: 'builds run on this machine: no EFS mounts',
    buildBatchConfig: 'batch builds are not modelled',
    concurrentBuildLimit: 'builds are not limited or queued here',
    autoRetryLimit: 'failed builds are not retried here',
  },
} satisfies Members<Cb.CreateProjectInput> & Members<Cb.UpdateProjectInput>

/** Environment variables (names and values checked by the model); the sandbox has no Parameter Store or Secrets Manager. */
function envVars(v: readonly { name: string; value: string; type?: string }[] | undefined): EnvVar[] {
  return (v ?? []).map((x) => {
    const type = (x.type ?? 'PLAINTEXT') as EnvVar['type']
    if (type !== 'PLAINTEXT')
      throw invalidInput(
        `Environment variable ${x.name}: type ${type} is not supported by the crosspipe sandbox (it has no ${type === 'PARAMETER_STORE' ? 'Parameter Store' : 'Secrets Manager'}); use PLAINTEXT`,
      )
    return { name: x.name, value: x.value, type }
  })
}

/** A project's logsConfig, refused where it asks for what the sandbox would not do. */
function logsConfigOf<T extends Cb.LogsConfig>(c: T): T {
  const why = unsupportedLogsConfig(c, 'logsConfig')
  if (why) throw invalidInput(why)
  return c
}

/** A stored ISO time as the SDK's `Date` (the layer writes epoch seconds). */
function at(iso: string | undefined): Date | undefined {
  return iso === undefined ? undefined : new Date(iso)
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

  // The types of source, artifacts and environment (enums, required members) are the model's;
  // these are the rules its pages state that the model cannot (API_ProjectSource.html,
  // API_ProjectArtifacts.html).
  function checkSource(s: { readonly type: string; readonly location?: string }): void {
    if (s.type === 'S3' && !s.location?.includes('/'))
      throw invalidInput(`Invalid source location for S3: it must be bucket-name/object-key`)
  }

  function checkArtifacts(a: { readonly type: string; readonly location?: string }): void {
    if (a.type === 'S3' && a.location === undefined)
      throw invalidInput('Artifacts location must be specified for S3 artifacts')
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

  /** A project as the API shows it. */
  function projectOut(p: ProjectRecord): Cb.Project {
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
      logsConfig: p.logsConfig ?? {
        cloudWatchLogs: { status: 'ENABLED' },
        s3Logs: { status: 'DISABLED' },
      },
      tags: p.tags,
      created: at(p.created),
      lastModified: at(p.lastModified),
      badge: { badgeEnabled: false },
      projectVisibility: 'PRIVATE',
    }
  }

  function buildOut(b: BuildRecord): Cb.Build {
    const uuid = b.id.split(':').pop() ?? ''
    const group = `/aws/codebuild/${b.projectName}`
    const cloudWatch = cloudWatchLogsEnabled(b.logsConfig)
    return {
      id: b.id,
      arn: b.arn,
      buildNumber: b.buildNumber,
      startTime: at(b.startTime),
      endTime: at(b.endTime),
      currentPhase: b.currentPhase,
      buildStatus: b.buildStatus,
      sourceVersion: b.sourceVersion,
      resolvedSourceVersion: b.resolvedSourceVersion,
      projectName: b.projectName,
      phases: b.phases.map((p) => ({
        // The runner names phases from the buildspec's, which are CodeBuild's BuildPhaseType names.
        phaseType: p.phaseType as Cb.BuildPhaseType,
        phaseStatus: p.phaseStatus,
        startTime: at(p.startTime),
        endTime: at(p.endTime),
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
        // The build's log in the CloudWatch console of the build's partition, in the form CodeBuild
        // gives (`…/cloudwatch/home?region=<region>#logEvent:group=<group>;stream=<stream>`, the
        // `deep-link` of https://docs.aws.amazon.com/codebuild/latest/userguide/sample-build-notifications-ref.html
        // and https://docs.aws.amazon.com/codebuild/latest/APIReference/API_LogsLocation.html);
        // none for a build that does not log to CloudWatch Logs.
        deepLink: cloudWatch
          ? `https://${consoleHost(runtime.partition(b.region))}/cloudwatch/home?region=${b.region}#logEvent:group=${group};stream=${uuid}`
          : undefined,
        cloudWatchLogs: {
          status: cloudWatch ? 'ENABLED' : 'DISABLED',
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
    pipeline?: PipelineSourceRecord,
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
    const overrides = envVars(input.environmentVariablesOverride)
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

  /** A project's fields from CreateProject or UpdateProject (which merges into `existing`). */
  function parseProjectFields(
    input: Validated<Cb.UpdateProjectInput>,
    ctx: RequestContext,
    account: string,
    arn: string,
    existing?: ProjectRecord,
  ): Omit<ProjectRecord, 'name' | 'arn' | 'account' | 'region' | 'created' | 'lastModified' | 'buildCount'> {
    if (input.source) checkSource(input.source)
    input.secondarySources?.forEach(checkSource)
    if (input.artifacts) checkArtifacts(input.artifacts)
    const environment = input.environment ? { ...input.environment } : existing!.environment
    if (input.environment) envVars(input.environment.environmentVariables)
    const serviceRole = input.serviceRole ?? existing!.serviceRole
    if (serviceRole !== existing?.serviceRole) checkServiceRole(ctx, serviceRole, arn)
    return {
      description: input.description ?? existing?.description,
      source: input.source ? { ...input.source } : existing!.source,
      secondarySources: input.secondarySources?.map((x) => ({ ...x })) ?? existing?.secondarySources ?? [],
      sourceVersion: input.sourceVersion ?? existing?.sourceVersion,
      artifacts: input.artifacts ? { ...input.artifacts } : existing!.artifacts,
      secondaryArtifacts:
        input.secondaryArtifacts?.map((x) => ({ ...x })) ?? existing?.secondaryArtifacts ?? [],
      environment: {
        ...environment,
        environmentVariables: environment.environmentVariables ?? [],
        privilegedMode: environment.privilegedMode ?? false,
      },
      serviceRole,
      timeoutInMinutes: input.timeoutInMinutes ?? existing?.timeoutInMinutes ?? 60,
      queuedTimeoutInMinutes: input.queuedTimeoutInMinutes ?? existing?.queuedTimeoutInMinutes ?? 480,
      encryptionKey: input.encryptionKey ?? existing?.encryptionKey ?? defaultKey(ctx, account),
      logsConfig: input.logsConfig ? { ...logsConfigOf(input.logsConfig) } : existing?.logsConfig,
      tags: input.tags?.map((t) => ({ key: t.key ?? '', value: t.value ?? '' })) ?? existing?.tags ?? [],
    }
  }

  /** The record of what a pipeline gives a build (copied: the contract's value is the caller's). */
  const pipelineSource = (p: PipelineBuildInput): PipelineSourceRecord => ({
    pipelineName: p.pipelineName,
    inputs: p.inputs.map((a) => ({ name: a.name, bucket: a.bucket, key: a.key })),
    outputs: p.outputs.map((a) => ({ name: a.name, bucket: a.bucket, key: a.key })),
    primarySource: p.primarySource,
  })

  /** A build as the contract shows it: the members of BatchGetBuilds' Build that CodePipeline reads. */
  const buildView = (b: BuildRecord): BuildView => ({
    id: b.id,
    account: b.account,
    region: b.region,
    projectName: b.projectName,
    buildStatus: b.buildStatus,
    buildComplete: b.buildComplete,
    phases: b.phases.map((p) => {
      const c = p.contexts?.[0]
      return {
        phaseType: p.phaseType,
        phaseStatus: p.phaseStatus,
        context: c ? { statusCode: c.statusCode, message: c.message } : undefined,
      }
    }),
    exportedEnvironmentVariables: b.exportedEnvironmentVariables.map((v) => ({
      name: v.name,
      value: v.value,
    })),
  })

  const internal: CodeBuildInternal = {
    startBuild: (ctx, input, pipeline) =>
      buildView(startBuild(ctx, input, pipeline ? pipelineSource(pipeline) : undefined)),
    build: (account, region, id) => {
      const b = store.build(account, region, id)
      return b ? buildView(b) : undefined
    },
  }
  runtime.provide('codebuild', internal)

  return jsonService({
    name: 'codebuild',
    signingName: 'codebuild',
    jsonVersion: '1.1',
    targetPrefix: 'CodeBuild_20161006',
    validationCode: 'InvalidInputException',
    operations: [
      operation<Cb.CreateProjectInput, Cb.CreateProjectOutput>(
        'CreateProject',
        (input, ctx) => {
          const name = input.name
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
        PROJECT_MEMBERS,
      ),

      operation<Cb.UpdateProjectInput, Cb.UpdateProjectOutput>(
        'UpdateProject',
        (input, ctx) => {
          const p = findProject(ctx, input.name)
          const arn = p?.arn ?? projectArn(ctx, ctx.identity.account, input.name)
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
        PROJECT_MEMBERS,
      ),

      operation<Cb.DeleteProjectInput, object>(
        'DeleteProject',
        (input, ctx) => {
          const p = findProject(ctx, input.name)
          allow(ctx, 'DeleteProject', p?.arn ?? projectArn(ctx, ctx.identity.account, input.name))
          // DeleteProject of a missing project succeeds (API_DeleteProject.html lists no ResourceNotFound).
          if (p) store.projects.delete(scopeOf(p.account, p.region), p.name)
          return {}
        },
        { honours: ['name'] },
      ),

      operation<Cb.BatchGetProjectsInput, Cb.BatchGetProjectsOutput>(
        'BatchGetProjects',
        (input, ctx) => {
          const projects: Cb.Project[] = []
          const projectsNotFound: string[] = []
          for (const n of input.names) {
            const p = findProject(ctx, n)
            allow(ctx, 'BatchGetProjects', p?.arn ?? projectArn(ctx, ctx.identity.account, n))
            if (p) projects.push(projectOut(p))
            else projectsNotFound.push(n)
          }
          return { projects, projectsNotFound }
        },
        { honours: ['names'] },
      ),

      operation<Cb.ListProjectsInput, Cb.ListProjectsOutput>(
        'ListProjects',
        (input, ctx) => {
          allow(ctx, 'ListProjects', '*')
          const sortBy = input.sortBy ?? 'NAME'
          const order = input.sortOrder ?? 'ASCENDING'
          const all = store.projects.list(scopeOf(ctx.identity.account, ctx.region)).map((r) => r.value)
          all.sort((a, b) =>
            sortBy === 'NAME'
              ? a.name.localeCompare(b.name)
              : sortBy === 'CREATED_TIME'
                ? a.created.localeCompare(b.created)
                : a.lastModified.localeCompare(b.lastModified),
          )
          if (order === 'DESCENDING') all.reverse()
          const start = Number(input.nextToken ?? '0') || 0
          const page = all.slice(start, start + 100)
          return {
            projects: page.map((p) => p.name),
            nextToken: start + 100 < all.length ? String(start + 100) : undefined,
          }
        },
        { honours: ['sortBy', 'sortOrder', 'nextToken'] },
      ),

      operation<Cb.StartBuildInput, Cb.StartBuildOutput>(
        'StartBuild',
        (input, ctx) => {
          const b = startBuild(ctx, {
            projectName: input.projectName,
            sourceVersion: input.sourceVersion,
            buildspecOverride: input.buildspecOverride,
            environmentVariablesOverride: envVars(input.environmentVariablesOverride),
            timeoutInMinutesOverride: input.timeoutInMinutesOverride,
          })
          return { build: buildOut(b) }
        },
        {
          honours: [
            'projectName',
            'sourceVersion',
            'buildspecOverride',
            'environmentVariablesOverride',
            'timeoutInMinutesOverride',
          ],
          accepts: {
            idempotencyToken:
              'retrying with the same token is the same request; the sandbox starts each build it is asked for once',
          },
          refuses: {
            '*': 'it runs a build as its project says, with sourceVersion, buildspecOverride, environmentVariablesOverride and timeoutInMinutesOverride',
          },
        },
      ),

      operation<Cb.StopBuildInput, Cb.StopBuildOutput>(
        'StopBuild',
        (input, ctx) => {
          const id = input.id
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
        { honours: ['id'] },
      ),

      operation<Cb.BatchGetBuildsInput, Cb.BatchGetBuildsOutput>(
        'BatchGetBuilds',
        (input, ctx) => {
          const builds: Cb.Build[] = []
          const buildsNotFound: string[] = []
          for (const id of input.ids) {
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
        { honours: ['ids'] },
      ),

      operation<Cb.ListBuildsForProjectInput, Cb.ListBuildsForProjectOutput>(
        'ListBuildsForProject',
        (input, ctx) => {
          const name = input.projectName
          const p = findProject(ctx, name)
          allow(ctx, 'ListBuildsForProject', p?.arn ?? projectArn(ctx, ctx.identity.account, name))
          if (!p) throw notFound(`Project cannot be found: ${projectArn(ctx, ctx.identity.account, name)}`)
          const ids = store.builds
            .list(scopeOf(p.account, p.region), `${p.name}:`)
            .map((r) => r.value)
            .sort((a, b) => b.buildNumber - a.buildNumber)
            .map((b) => b.id)
          if (input.sortOrder === 'ASCENDING') ids.reverse()
          // 100 a page, as ListBuilds (API_ListBuildsForProject.html, nextToken).
          const token = input.nextToken
          const start = token === undefined ? 0 : Number(token)
          if (!Number.isInteger(start) || start < 0 || start > ids.length)
            throw new AwsError('InvalidInputException', 'Invalid next token', 400)
          return {
            ids: ids.slice(start, start + 100),
            nextToken: start + 100 < ids.length ? String(start + 100) : undefined,
          }
        },
        { honours: ['projectName', 'sortOrder', 'nextToken'] },
      ),

      // Every build of the account and region, newest first (by start time), 100 a page.
      // https://docs.aws.amazon.com/codebuild/latest/APIReference/API_ListBuilds.html
      operation<Cb.ListBuildsInput, Cb.ListBuildsOutput>(
        'ListBuilds',
        (input, ctx) => {
          allow(ctx, 'ListBuilds', '*')
          const builds = store.builds.list(scopeOf(ctx.identity.account, ctx.region)).map((r) => r.value)
          builds.sort((a, b) => b.startTime.localeCompare(a.startTime) || b.buildNumber - a.buildNumber)
          if (input.sortOrder === 'ASCENDING') builds.reverse()
          const token = input.nextToken
          const start = token === undefined ? 0 : Number(token)
          if (!Number.isInteger(start) || start < 0 || start > builds.length)
            throw new AwsError('InvalidInputException', 'Invalid next token', 400)
          const page = builds.slice(start, start + 100).map((b) => b.id)
          return { ids: page, nextToken: start + 100 < builds.length ? String(start + 100) : undefined }
        },
        { honours: ['sortOrder', 'nextToken'] },
      ),
    ],
  })
}

/** Re-exported for callers that build CreateProject input from a CloudFormation resource. */
export { projectInputFromCloudFormation } from './cfn-provider.js'
