/**
 * CodeBuild state: projects and builds in the core's item table (keyed by account/region), build
 * logs as append-only files beside the database. A build record is rewritten at every phase
 * change, so after a crash the last acknowledged phase is what BatchGetBuilds reports.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type * as Cb from '@aws-sdk/client-codebuild'
import type { Runtime } from '../../runtime.js'
import { ItemTable } from '../../store/db.js'

/** The scope of a project or build: `<account>/<region>`. */
export function scopeOf(account: string, region: string): string {
  return `${account}/${region}`
}

/** An environment variable of a project or a build override. */
export interface EnvVar {
  readonly name: string
  readonly value: string
  readonly type: 'PLAINTEXT' | 'PARAMETER_STORE' | 'SECRETS_MANAGER'
}

/** A project as CreateProject accepted it (its structures of the SDK's types, as the model checked them). */
export interface ProjectRecord {
  readonly name: string
  readonly arn: string
  readonly account: string
  readonly region: string
  description?: string
  source: Cb.ProjectSource
  secondarySources: Cb.ProjectSource[]
  sourceVersion?: string
  artifacts: Cb.ProjectArtifacts
  secondaryArtifacts: Cb.ProjectArtifacts[]
  environment: Cb.ProjectEnvironment
  serviceRole: string
  timeoutInMinutes: number
  queuedTimeoutInMinutes: number
  encryptionKey: string
  /** `logsConfig` as given; CloudWatch Logs are on unless `cloudWatchLogs.status` is DISABLED. */
  logsConfig?: Cb.LogsConfig
  tags: { key: string; value: string }[]
  readonly created: string
  lastModified: string
  /** Builds started so far (the next build's number is this plus one). */
  buildCount: number
}

/** One phase of a build. */
export interface PhaseRecord {
  phaseType: string
  phaseStatus?: 'SUCCEEDED' | 'FAILED' | 'FAULT' | 'TIMED_OUT' | 'IN_PROGRESS' | 'STOPPED'
  startTime: string
  endTime?: string
  durationInSeconds?: number
  contexts?: { statusCode: string; message: string }[]
}

/** An artifact location a pipeline gave a build: an object in its artifact store. */
export interface PipelineArtifactRecord {
  readonly name: string
  readonly bucket: string
  readonly key: string
}

/** What the CodePipeline action that started a build gave it, as the build keeps it. */
export interface PipelineSourceRecord {
  readonly pipelineName: string
  readonly inputs: readonly PipelineArtifactRecord[]
  readonly outputs: readonly PipelineArtifactRecord[]
  /** The input artifact that is the primary source (Configuration.PrimarySource). */
  readonly primarySource?: string
}

/** A build. */
export interface BuildRecord {
  readonly id: string
  readonly arn: string
  readonly account: string
  readonly region: string
  readonly projectName: string
  readonly buildNumber: number
  readonly startTime: string
  endTime?: string
  currentPhase: string
  buildStatus: 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'FAULT' | 'TIMED_OUT' | 'STOPPED'
  buildComplete: boolean
  phases: PhaseRecord[]
  readonly initiator: string
  readonly source: Cb.ProjectSource
  readonly secondarySources: Cb.ProjectSource[]
  readonly sourceVersion?: string
  resolvedSourceVersion?: string
  readonly artifacts: Cb.ProjectArtifacts
  readonly secondaryArtifacts: Cb.ProjectArtifacts[]
  readonly environment: Cb.ProjectEnvironment
  readonly serviceRole: string
  readonly timeoutInMinutes: number
  readonly queuedTimeoutInMinutes: number
  readonly encryptionKey: string
  readonly logsConfig?: Cb.LogsConfig
  readonly buildspec?: string
  readonly pipeline?: PipelineSourceRecord
  /** Output artifact locations written (`location` per artifact identifier). */
  artifactLocations: Record<string, string>
  exportedEnvironmentVariables: { name: string; value: string }[]
  /** Set by StopBuild; the runner ends the build STOPPED. */
  stopRequested?: boolean
}

/** The tables and the log directory. */
export class CodeBuildStore {
  readonly projects: ItemTable<ProjectRecord>
  readonly builds: ItemTable<BuildRecord>
  readonly logDir: string
  readonly workDir: string

  constructor(runtime: Runtime) {
    this.projects = new ItemTable(runtime.db, 'codebuild.project')
    this.builds = new ItemTable(runtime.db, 'codebuild.build')
    this.logDir = join(runtime.stateDir, 'codebuild', 'logs')
    this.workDir = join(runtime.stateDir, 'codebuild', 'work')
    mkdirSync(this.logDir, { recursive: true })
    mkdirSync(this.workDir, { recursive: true })
  }

  /** The log file of a build (by its id's uuid part). */
  logPath(buildId: string): string {
    return join(this.logDir, `${buildId.split(':').pop() ?? buildId}.log`)
  }

  /** Appends to a build's log. */
  appendLog(buildId: string, text: string): void {
    appendFileSync(this.logPath(buildId), text)
  }

  /** A build's whole log ('' when none was written). */
  readLog(buildId: string): string {
    const p = this.logPath(buildId)
    return existsSync(p) ? readFileSync(p, 'utf8') : ''
  }

  /** Finds a build by id in any scope of an account/region. */
  build(account: string, region: string, id: string): BuildRecord | undefined {
    return this.builds.get(scopeOf(account, region), id)
  }

  /** Saves a build. */
  saveBuild(b: BuildRecord): void {
    this.builds.put(scopeOf(b.account, b.region), b.id, b)
  }

  /** Saves a project. */
  saveProject(p: ProjectRecord): void {
    this.projects.put(scopeOf(p.account, p.region), p.name, p)
  }
}
