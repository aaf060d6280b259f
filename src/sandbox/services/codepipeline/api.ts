/**
 * CodePipeline over awsJson 1.1 (`CodePipeline_20150709`): pipelines, executions, approvals,
 * retries; executions run in engine.ts. Behaviour and citations in SPEC.md.
 *
 * Declared as operations of CodePipeline's model (src/sandbox/operations): JSON types, required
 * members, names, ids, `maxResults` ranges and enums (`retryMode`, approval `status`) are the
 * model's, as `ValidationException`; a declaration's structure (stages, action types, artifacts)
 * is checked by declaration.ts, which the model cannot express.
 */
import type * as Cp from '@aws-sdk/client-codepipeline'
import { formatArn } from '../../../iam/arn.js'
import { servicePrincipal } from '../../../iam/aws-facts.js'
import { authorize } from '../../auth/authorize.js'
import type { Runtime } from '../../runtime.js'
import { serviceMayAssume } from '../../auth/sessions.js'
import { jsonService, operation } from '../../operations/index.js'
import type { JsonService, RequestContext } from '../types.js'
import { readDeclaration, validateDeclaration } from './declaration.js'
import { PipelineEngine } from './engine.js'
import {
  actionNotFound,
  executionNotFound,
  invalidStructure,
  pipelineNameInUse,
  pipelineNotFound,
  pipelineVersionNotFound,
  stageNotFound,
} from './errors.js'
import {
  PipelineStore,
  scopeOf,
  type ActionRun,
  type ExecutionRecord,
  type PipelineDeclaration,
  type PipelineRecord,
} from './store.js'

/** Options for {@link codepipelineService}'s engine, for tests and the demo. */
export interface CodePipelineServiceOptions {
  /** How often source changes are polled (ms); default 1000. */
  readonly pollIntervalMs?: number
}

/** A stored ISO time as the SDK's `Date` (the layer writes epoch seconds). */
const at = (iso: string | undefined): Date | undefined => (iso === undefined ? undefined : new Date(iso))

/**
 * The declaration as the API returns it. The stored declaration is the one the model and
 * declaration.ts accepted, so its strings are the SDK's enum values (hence the one cast).
 */
function declarationOut(d: PipelineDeclaration, version: number): Cp.PipelineDeclaration {
  return {
    name: d.name,
    roleArn: d.roleArn,
    artifactStore: d.artifactStore,
    artifactStores: d.artifactStores,
    stages: d.stages.map((s) => ({
      name: s.name,
      blockers: s.blockers,
      actions: s.actions.map((a) => ({
        name: a.name,
        actionTypeId: a.actionTypeId,
        runOrder: a.runOrder ?? 1,
        configuration: a.configuration && Object.keys(a.configuration).length ? a.configuration : undefined,
        outputArtifacts: a.outputArtifacts ?? [],
        inputArtifacts: a.inputArtifacts ?? [],
        roleArn: a.roleArn,
        region: a.region,
        namespace: a.namespace,
        timeoutInMinutes: a.timeoutInMinutes,
      })),
    })),
    version,
    executionMode: d.executionMode ?? 'SUPERSEDED',
    pipelineType: d.pipelineType ?? 'V1',
    variables: d.variables,
    triggers: d.triggers,
  } as Cp.PipelineDeclaration
}

function actionExecutionOut(r: ActionRun): Cp.ActionExecution {
  return {
    actionExecutionId: r.actionExecutionId,
    status: r.status,
    summary: r.summary,
    lastStatusChange: at(r.lastUpdateTime),
    token: r.status === 'InProgress' ? r.token : undefined,
    lastUpdatedBy: r.updatedBy,
    externalExecutionId: r.externalExecutionId,
    externalExecutionUrl: r.externalExecutionUrl,
    errorDetails: r.errorDetails,
  }
}

function sourceRevisions(
  e: ExecutionRecord,
): { actionName: string; revisionId: string; revisionSummary?: string; created: string }[] {
  const first = e.declaration.stages[0]
  const runs = first ? e.stages[first.name]?.actions : undefined
  const out: { actionName: string; revisionId: string; revisionSummary?: string; created: string }[] = []
  for (const [name, r] of Object.entries(runs ?? {}))
    if (r.revision)
      out.push({
        actionName: name,
        revisionId: r.revision.revisionId,
        revisionSummary: r.revision.revisionSummary,
        created: r.revision.created,
      })
  return out
}

/**
 * The CodePipeline service.
 * A factory with options returns the factory the core's service list takes.
 */
export function codepipelineService(runtime: Runtime, options: CodePipelineServiceOptions = {}): JsonService {
  const store = new PipelineStore(runtime)
  const engine = new PipelineEngine({ runtime, store, pollIntervalMs: options.pollIntervalMs })

  const pipelineArn = (ctx: RequestContext, account: string, name: string): string =>
    formatArn({
      partition: ctx.partition,
      service: 'codepipeline',
      region: ctx.region,
      account,
      resource: name,
    })

  function allow(ctx: RequestContext, action: string, resource: string): void {
    authorize(ctx, { action: `codepipeline:${action}`, resource }, 'json')
  }

  /** A pipeline of the caller's account and region, authorized for `action`. */
  function pipelineFor(
    ctx: RequestContext,
    name: string,
    action: string,
    resourceSuffix = '',
  ): PipelineRecord {
    const account = ctx.identity.account
    allow(ctx, action, pipelineArn(ctx, account, name) + resourceSuffix)
    const p = store.pipeline(account, ctx.region, name)
    if (!p) throw pipelineNotFound(`Account '${account}' does not have a pipeline with name '${name}'`)
    return p
  }

  function checkRole(ctx: RequestContext, d: PipelineDeclaration): void {
    // Passing the pipeline role needs iam:PassRole (https://docs.aws.amazon.com/codepipeline/latest/userguide/security-iam.html#how-to-update-role-new-services).
    authorize(
      ctx,
      {
        action: 'iam:PassRole',
        resource: d.roleArn,
        context: { 'iam:PassedToService': servicePrincipal('codepipeline') },
      },
      'json',
    )
    if (
      !serviceMayAssume({
        runtime,
        roleArn: d.roleArn,
        service: 'codepipeline',
        sessionName: 'codepipeline',
        sourceArn: pipelineArn(ctx, ctx.identity.account, d.name),
      })
    )
      throw invalidStructure(`CodePipeline is not authorized to perform AssumeRole on role ${d.roleArn}`)
  }

  const tagsOf = (tags: readonly { key: string; value: string }[] | undefined) =>
    (tags ?? []).map((t) => ({ key: t.key, value: t.value }))

  function executionFor(ctx: RequestContext, p: PipelineRecord, id: string): ExecutionRecord {
    const e = store.execution(p.account, p.region, p.declaration.name, id)
    if (!e)
      throw executionNotFound(`Pipeline execution ID ${id} does not exist for pipeline ${p.declaration.name}`)
    void ctx
    return e
  }

  return jsonService({
    name: 'codepipeline',
    signingName: 'codepipeline',
    jsonVersion: '1.1',
    targetPrefix: 'CodePipeline_20150709',
    operations: [
      operation<Cp.CreatePipelineInput, Cp.CreatePipelineOutput>(
        'CreatePipeline',
        (input, ctx) => {
          const d = readDeclaration(input.pipeline)
          const account = ctx.identity.account
          const arn = pipelineArn(ctx, account, d.name)
          allow(ctx, 'CreatePipeline', arn)
          if (store.pipeline(account, ctx.region, d.name))
            throw pipelineNameInUse(
              `A pipeline with the name '${d.name}' already exists in account '${account}'`,
            )
          validateDeclaration(d, ctx.region)
          checkRole(ctx, d)
          const tags = tagsOf(input.tags)
          const t = new Date().toISOString()
          const p: PipelineRecord = {
            account,
            region: ctx.region,
            arn,
            declaration: { ...d, version: 1 },
            version: 1,
            created: t,
            updated: t,
            tags,
            lastRevisions: {},
            stageLatest: {},
            stageInbound: {},
          }
          store.savePipeline(p)
          // A new pipeline starts an execution at once (pipelines-about-starting.html).
          engine.startExecution(p, { triggerType: 'CreatePipeline', triggerDetail: ctx.identity.arn })
          return { pipeline: declarationOut(p.declaration, 1), tags: tags.length ? tags : undefined }
        },
        { honours: ['pipeline', 'tags'] },
      ),

      operation<Cp.UpdatePipelineInput, Cp.UpdatePipelineOutput>(
        'UpdatePipeline',
        (input, ctx) => {
          const d = readDeclaration(input.pipeline)
          const p = pipelineFor(ctx, d.name, 'UpdatePipeline')
          validateDeclaration(d, ctx.region)
          if (d.roleArn !== p.declaration.roleArn) checkRole(ctx, d)
          p.version += 1
          p.declaration = { ...d, version: p.version }
          p.updated = new Date().toISOString()
          store.savePipeline(p)
          return { pipeline: declarationOut(p.declaration, p.version) }
        },
        { honours: ['pipeline'] },
      ),

      operation<Cp.DeletePipelineInput, object>(
        'DeletePipeline',
        (input, ctx) => {
          const name = input.name
          const account = ctx.identity.account
          allow(ctx, 'DeletePipeline', pipelineArn(ctx, account, name))
          const p = store.pipeline(account, ctx.region, name)
          // Deleting a pipeline that does not exist succeeds (API_DeletePipeline.html lists no PipelineNotFoundException).
          if (!p) return {}
          engine.abandonAll({ account, region: ctx.region }, name)
          for (const e of store.executionsOf(account, ctx.region, name))
            store.executions.delete(scopeOf(account, ctx.region), `${name}/${e.pipelineExecutionId}`)
          store.pipelines.delete(scopeOf(account, ctx.region), name)
          return {}
        },
        { honours: ['name'] },
      ),

      operation<Cp.GetPipelineInput, Cp.GetPipelineOutput>(
        'GetPipeline',
        (input, ctx) => {
          const name = input.name
          const p = pipelineFor(ctx, name, 'GetPipeline')
          const v = input.version
          if (v !== undefined && v !== p.version)
            throw pipelineVersionNotFound(
              `Pipeline ${name} has no version ${JSON.stringify(v)} (the sandbox keeps the current version only)`,
            )
          return {
            pipeline: declarationOut(p.declaration, p.version),
            metadata: { pipelineArn: p.arn, created: at(p.created), updated: at(p.updated) },
          }
        },
        { honours: ['name', 'version'] },
      ),

      operation<Cp.ListPipelinesInput, Cp.ListPipelinesOutput>(
        'ListPipelines',
        (input, ctx) => {
          allow(ctx, 'ListPipelines', '*')
          const all = store.pipelines.list(scopeOf(ctx.identity.account, ctx.region)).map((r) => r.value)
          const start = Number(input.nextToken ?? '0') || 0
          const max = input.maxResults ?? 1000
          const page = all.slice(start, start + max)
          return {
            pipelines: page.map((p) => ({
              name: p.declaration.name,
              version: p.version,
              pipelineType: (p.declaration.pipelineType ?? 'V1') as Cp.PipelineType,
              executionMode: (p.declaration.executionMode ?? 'SUPERSEDED') as Cp.ExecutionMode,
              created: at(p.created),
              updated: at(p.updated),
            })),
            nextToken: start + max < all.length ? String(start + max) : undefined,
          }
        },
        { honours: ['nextToken', 'maxResults'] },
      ),

      operation<Cp.StartPipelineExecutionInput, Cp.StartPipelineExecutionOutput>(
        'StartPipelineExecution',
        (input, ctx) => {
          const p = pipelineFor(ctx, input.name, 'StartPipelineExecution')
          const e = engine.startExecution(p, {
            triggerType: 'StartPipelineExecution',
            triggerDetail: ctx.identity.arn,
          })
          return { pipelineExecutionId: e.pipelineExecutionId }
        },
        {
          honours: ['name'],
          accepts: {
            clientRequestToken:
              'an idempotency token the SDKs fill in on every call (the model marks it so); the sandbox starts one execution per request it receives',
          },
          refuses: {
            variables: 'pipeline-level variables are not modelled',
            sourceRevisions: 'an execution starts from the latest revision of each source',
          },
        },
      ),

      operation<Cp.StopPipelineExecutionInput, Cp.StopPipelineExecutionOutput>(
        'StopPipelineExecution',
        (input, ctx) => {
          const p = pipelineFor(ctx, input.pipelineName, 'StopPipelineExecution')
          const id = input.pipelineExecutionId
          executionFor(ctx, p, id)
          engine.stopExecution(
            { account: p.account, region: p.region },
            p.declaration.name,
            id,
            input.abandon === true,
            input.reason,
          )
          return { pipelineExecutionId: id }
        },
        { honours: ['pipelineName', 'pipelineExecutionId', 'abandon', 'reason'] },
      ),

      operation<Cp.GetPipelineExecutionInput, Cp.GetPipelineExecutionOutput>(
        'GetPipelineExecution',
        (input, ctx) => {
          const p = pipelineFor(ctx, input.pipelineName, 'GetPipelineExecution')
          const e = executionFor(ctx, p, input.pipelineExecutionId)
          const revisions = sourceRevisions(e)
          return {
            pipelineExecution: {
              pipelineName: e.pipelineName,
              pipelineVersion: e.pipelineVersion,
              pipelineExecutionId: e.pipelineExecutionId,
              status: e.status,
              statusSummary: e.statusSummary,
              artifactRevisions: revisions.map((r) => ({
                name: e.declaration.stages[0]?.actions.find((a) => a.name === r.actionName)
                  ?.outputArtifacts?.[0]?.name,
                revisionId: r.revisionId,
                revisionSummary: r.revisionSummary,
                created: at(r.created),
              })),
              // Stored as the engine set it: one of the model's trigger types.
              trigger: e.trigger as Cp.ExecutionTrigger,
              executionMode: e.executionMode as Cp.ExecutionMode,
              executionType: 'STANDARD',
              variables: Object.entries(e.variables).flatMap(([ns, vars]) =>
                Object.entries(vars).map(([k, v]) => ({ name: `${ns}.${k}`, resolvedValue: v })),
              ),
            },
          }
        },
        { honours: ['pipelineName', 'pipelineExecutionId'] },
      ),

      operation<Cp.ListPipelineExecutionsInput, Cp.ListPipelineExecutionsOutput>(
        'ListPipelineExecutions',
        (input, ctx) => {
          const p = pipelineFor(ctx, input.pipelineName, 'ListPipelineExecutions')
          const all = store.executionsOf(p.account, p.region, p.declaration.name)
          const start = Number(input.nextToken ?? '0') || 0
          const max = input.maxResults ?? 100
          return {
            pipelineExecutionSummaries: all.slice(start, start + max).map((e) => ({
              pipelineExecutionId: e.pipelineExecutionId,
              status: e.status,
              statusSummary: e.statusSummary,
              startTime: at(e.startTime),
              lastUpdateTime: at(e.lastUpdateTime),
              sourceRevisions: sourceRevisions(e).map((r) => ({
                actionName: r.actionName,
                revisionId: r.revisionId,
                revisionSummary: r.revisionSummary,
              })),
              // Stored as the engine set it: one of the model's trigger types.
              trigger: e.trigger as Cp.ExecutionTrigger,
              stopTrigger: e.stopRequested ? { reason: e.stopRequested.reason } : undefined,
              executionMode: e.executionMode as Cp.ExecutionMode,
              executionType: 'STANDARD',
            })),
            nextToken: start + max < all.length ? String(start + max) : undefined,
          }
        },
        {
          honours: ['pipelineName', 'maxResults', 'nextToken'],
          refuses: { filter: 'executions are not filtered here: list them all' },
        },
      ),

      operation<Cp.GetPipelineStateInput, Cp.GetPipelineStateOutput>(
        'GetPipelineState',
        (input, ctx) => {
          const p = pipelineFor(ctx, input.name, 'GetPipelineState')
          const history = store.executionsOf(p.account, p.region, p.declaration.name)
          const byId = new Map(history.map((e) => [e.pipelineExecutionId, e]))
          return {
            pipelineName: p.declaration.name,
            pipelineVersion: p.version,
            created: at(p.created),
            updated: at(p.updated),
            stageStates: p.declaration.stages.map((s) => {
              const latestId = p.stageLatest[s.name]
              const latest = latestId ? byId.get(latestId) : undefined
              const inbound = (p.stageInbound[s.name] ?? [])
                .map((id) => byId.get(id))
                .filter((e): e is ExecutionRecord => !!e)
              const stageRun = latest?.stages[s.name]
              return {
                stageName: s.name,
                inboundTransitionState: { enabled: true },
                inboundExecution: inbound[0]
                  ? { pipelineExecutionId: inbound[0].pipelineExecutionId, status: 'InProgress' }
                  : undefined,
                inboundExecutions: inbound.length
                  ? inbound.map((e) => ({ pipelineExecutionId: e.pipelineExecutionId, status: 'InProgress' }))
                  : undefined,
                latestExecution:
                  latest && stageRun
                    ? { pipelineExecutionId: latest.pipelineExecutionId, status: stageRun.status }
                    : undefined,
                actionStates: s.actions.map((a) => {
                  // The latest run of this action in any execution (the latest stage run may not have reached it).
                  const run = history
                    .map((e) => e.stages[s.name]?.actions[a.name])
                    .find((r): r is ActionRun => !!r)
                  return {
                    actionName: a.name,
                    latestExecution: run ? actionExecutionOut(run) : undefined,
                    currentRevision: run?.revision
                      ? {
                          revisionId: run.revision.revisionId,
                          revisionChangeId: run.revision.revisionId,
                          created: at(run.revision.created),
                        }
                      : undefined,
                  }
                }),
              }
            }),
          }
        },
        { honours: ['name'] },
      ),

      operation<Cp.ListActionExecutionsInput, Cp.ListActionExecutionsOutput>(
        'ListActionExecutions',
        (input, ctx) => {
          const p = pipelineFor(ctx, input.pipelineName, 'ListActionExecutions')
          const only = input.filter?.pipelineExecutionId
          let execs = store.executionsOf(p.account, p.region, p.declaration.name)
          if (only !== undefined) {
            execs = execs.filter((e) => e.pipelineExecutionId === only)
            if (!execs.length)
              throw executionNotFound(
                `Pipeline execution ID ${only} does not exist for pipeline ${p.declaration.name}`,
              )
          }
          const details = execs.flatMap((e) =>
            e.declaration.stages.flatMap((s) =>
              s.actions.flatMap((a) => {
                const r = e.stages[s.name]?.actions[a.name]
                if (!r) return []
                return [
                  {
                    pipelineExecutionId: e.pipelineExecutionId,
                    actionExecutionId: r.actionExecutionId,
                    pipelineVersion: e.pipelineVersion,
                    stageName: s.name,
                    actionName: a.name,
                    startTime: at(r.startTime),
                    lastUpdateTime: at(r.lastUpdateTime),
                    updatedBy: r.updatedBy,
                    status: r.status,
                    input: {
                      actionTypeId: a.actionTypeId as Cp.ActionTypeId,
                      configuration: a.configuration ?? {},
                      resolvedConfiguration: r.configuration,
                      roleArn: r.roleArn,
                      region: r.region,
                      inputArtifacts: r.inputArtifacts.map((i) => ({
                        name: i.name,
                        s3location: { bucket: i.bucket, key: i.key },
                      })),
                      namespace: a.namespace,
                    },
                    output: {
                      outputArtifacts: r.outputArtifacts.map((o) => ({
                        name: o.name,
                        s3location: { bucket: o.bucket, key: o.key },
                      })),
                      executionResult: {
                        externalExecutionId: r.externalExecutionId,
                        externalExecutionSummary: r.summary ?? r.errorDetails?.message,
                        externalExecutionUrl: r.externalExecutionUrl,
                        errorDetails: r.errorDetails,
                      },
                      outputVariables: r.outputVariables,
                    },
                  },
                ]
              }),
            ),
          )
          details.sort((x, y) => (y.startTime?.getTime() ?? 0) - (x.startTime?.getTime() ?? 0))
          // maxResults 1–100 (the model's), default 100 (API_ListActionExecutions.html); nextToken is an offset.
          const max = input.maxResults ?? 100
          const start = Number(input.nextToken ?? '0') || 0
          return {
            actionExecutionDetails: details.slice(start, start + max),
            nextToken: start + max < details.length ? String(start + max) : undefined,
          }
        },
        {
          honours: ['pipelineName', 'filter.pipelineExecutionId', 'maxResults', 'nextToken'],
          refuses: { 'filter.latestInPipelineExecution': 'filter by pipelineExecutionId instead' },
        },
      ),

      operation<Cp.PutApprovalResultInput, Cp.PutApprovalResultOutput>(
        'PutApprovalResult',
        (input, ctx) => {
          const { pipelineName, stageName, actionName, token, result } = input
          const p = pipelineFor(ctx, pipelineName, 'PutApprovalResult', `/${stageName}/${actionName}`)
          const stage = p.declaration.stages.find((s) => s.name === stageName)
          if (!stage) throw stageNotFound(`Stage ${stageName} does not exist in pipeline ${pipelineName}`)
          const action = stage.actions.find((a) => a.name === actionName)
          if (!action) throw actionNotFound(`Action ${actionName} does not exist in stage ${stageName}`)
          const approvedAt = engine.approve(
            p,
            stageName,
            actionName,
            token,
            result.status,
            result.summary,
            ctx.identity.arn,
          )
          return { approvedAt: at(approvedAt) }
        },
        { honours: ['pipelineName', 'stageName', 'actionName', 'result', 'token'] },
      ),

      operation<Cp.RetryStageExecutionInput, Cp.RetryStageExecutionOutput>(
        'RetryStageExecution',
        (input, ctx) => {
          const { pipelineName, stageName } = input
          const p = pipelineFor(ctx, pipelineName, 'RetryStageExecution', `/${stageName}`)
          if (!p.declaration.stages.some((s) => s.name === stageName))
            throw stageNotFound(`Stage ${stageName} does not exist in pipeline ${pipelineName}`)
          const id = input.pipelineExecutionId
          executionFor(ctx, p, id)
          engine.retryStage(p, stageName, id, input.retryMode)
          return { pipelineExecutionId: id }
        },
        { honours: ['pipelineName', 'stageName', 'pipelineExecutionId', 'retryMode'] },
      ),
    ],
  })
}
