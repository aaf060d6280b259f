/**
 * CodePipeline state in the core's item table: pipelines (declaration, version, metadata),
 * executions with their stage and action runs, and the CodeCommit stand-in repositories. Every
 * status change is written before anything observes it, so an acknowledged state survives kill -9.
 */
import type { Runtime } from '../../runtime.js'
import { ItemTable } from '../../store/db.js'

/** `<account>/<region>`. */
export function scopeOf(account: string, region: string): string {
  return `${account}/${region}`
}

/** An action type id (API_ActionTypeId.html). */
export interface ActionTypeId {
  readonly category: string
  readonly owner: string
  readonly provider: string
  readonly version: string
}

/** An action of a stage (API_ActionDeclaration.html). */
export interface ActionDeclaration {
  readonly name: string
  readonly actionTypeId: ActionTypeId
  readonly runOrder?: number
  readonly configuration?: Readonly<Record<string, string>>
  readonly outputArtifacts?: readonly { readonly name: string }[]
  readonly inputArtifacts?: readonly { readonly name: string }[]
  readonly roleArn?: string
  readonly region?: string
  readonly namespace?: string
  readonly timeoutInMinutes?: number
}

/** A stage (API_StageDeclaration.html). */
export interface StageDeclaration {
  readonly name: string
  readonly actions: readonly ActionDeclaration[]
  readonly blockers?: readonly { readonly name: string; readonly type: string }[]
}

/** An artifact store (API_ArtifactStore.html). */
export interface ArtifactStore {
  readonly type: string
  readonly location: string
  readonly encryptionKey?: { readonly id: string; readonly type: string }
}

/** A pipeline declaration (API_PipelineDeclaration.html). */
export interface PipelineDeclaration {
  readonly name: string
  readonly roleArn: string
  readonly artifactStore?: ArtifactStore
  readonly artifactStores?: Readonly<Record<string, ArtifactStore>>
  readonly stages: readonly StageDeclaration[]
  readonly version?: number
  readonly pipelineType?: string
  readonly executionMode?: string
  readonly variables?: readonly Record<string, unknown>[]
  readonly triggers?: readonly Record<string, unknown>[]
}

/** A stored pipeline. */
export interface PipelineRecord {
  readonly account: string
  readonly region: string
  readonly arn: string
  declaration: PipelineDeclaration
  version: number
  /** Earlier versions' declarations, by version, for executions that started on them. */
  readonly created: string
  updated: string
  tags: { key: string; value: string }[]
  /** The last source revision seen per source action (for change detection by polling). */
  lastRevisions: Record<string, string>
  /** Which execution was last in each stage (GetPipelineState's latestExecution). */
  stageLatest: Record<string, string>
  /** Executions waiting to enter a stage (GetPipelineState's inboundExecution(s)). */
  stageInbound: Record<string, string[]>
}

/** Why an action ended as it did. */
export interface ErrorDetails {
  readonly code: string
  readonly message: string
}

/** An artifact an action consumed or produced. */
export interface ArtifactRef {
  readonly name: string
  readonly bucket: string
  readonly key: string
  readonly region: string
  readonly revision?: string
}

/** One run of an action in an execution (ActionExecutionDetail). */
export interface ActionRun {
  readonly actionExecutionId: string
  status: 'InProgress' | 'Abandoned' | 'Succeeded' | 'Failed'
  readonly startTime: string
  lastUpdateTime: string
  summary?: string
  externalExecutionId?: string
  externalExecutionUrl?: string
  errorDetails?: ErrorDetails
  /** Manual approvals: the token PutApprovalResult must present. */
  token?: string
  updatedBy?: string
  /** The role the action ran as, the region, the resolved configuration. */
  readonly roleArn?: string
  readonly region: string
  readonly configuration: Record<string, string>
  inputArtifacts: ArtifactRef[]
  outputArtifacts: ArtifactRef[]
  outputVariables: Record<string, string>
  /** Source actions: the revision they produced. */
  revision?: { revisionId: string; revisionSummary?: string; created: string; revisionUrl?: string }
}

/** A stage in an execution. */
export interface StageRun {
  status: 'InProgress' | 'Failed' | 'Stopped' | 'Stopping' | 'Succeeded' | 'Cancelled'
  readonly startTime: string
  endTime?: string
  actions: Record<string, ActionRun>
}

/** A pipeline execution (API_PipelineExecution.html). */
export interface ExecutionRecord {
  readonly pipelineName: string
  readonly pipelineExecutionId: string
  readonly pipelineVersion: number
  /** Start order within the pipeline (timestamps can tie). */
  readonly seq: number
  /** The declaration the execution runs (the pipeline's at its start). */
  readonly declaration: PipelineDeclaration
  status: 'Cancelled' | 'InProgress' | 'Stopped' | 'Stopping' | 'Succeeded' | 'Superseded' | 'Failed'
  statusSummary?: string
  readonly trigger: { triggerType: string; triggerDetail?: string }
  readonly executionMode: string
  readonly startTime: string
  lastUpdateTime: string
  /** Stages the execution entered, by name. */
  stages: Record<string, StageRun>
  /** Artifacts produced so far, by name. */
  artifacts: Record<string, ArtifactRef>
  /** Output variables by namespace. */
  variables: Record<string, Record<string, string>>
  stopRequested?: { abandon: boolean; reason?: string }
}

/** A local git repository registered as a CodeCommit repository. */
export interface RepositoryRecord {
  readonly name: string
  readonly path: string
  readonly account: string
  readonly region: string
  readonly created: string
}

/** The tables. */
export class PipelineStore {
  readonly pipelines: ItemTable<PipelineRecord>
  readonly executions: ItemTable<ExecutionRecord>
  readonly repositories: ItemTable<RepositoryRecord>

  constructor(runtime: Runtime) {
    this.pipelines = new ItemTable(runtime.db, 'codepipeline.pipeline')
    this.executions = new ItemTable(runtime.db, 'codepipeline.execution')
    this.repositories = new ItemTable(runtime.db, 'codecommit.repository')
  }

  /** A pipeline by name. */
  pipeline(account: string, region: string, name: string): PipelineRecord | undefined {
    return this.pipelines.get(scopeOf(account, region), name)
  }

  /** Saves a pipeline. */
  savePipeline(p: PipelineRecord): void {
    this.pipelines.put(scopeOf(p.account, p.region), p.declaration.name, p)
  }

  /** An execution. */
  execution(account: string, region: string, pipeline: string, id: string): ExecutionRecord | undefined {
    return this.executions.get(scopeOf(account, region), `${pipeline}/${id}`)
  }

  /** Saves an execution. */
  saveExecution(account: string, region: string, e: ExecutionRecord): void {
    this.executions.put(scopeOf(account, region), `${e.pipelineName}/${e.pipelineExecutionId}`, e)
  }

  /** A pipeline's executions, newest first. */
  executionsOf(account: string, region: string, pipeline: string): ExecutionRecord[] {
    return this.executions
      .list(scopeOf(account, region), `${pipeline}/`)
      .map((r) => r.value)
      .sort((a, b) => b.seq - a.seq)
  }
}
