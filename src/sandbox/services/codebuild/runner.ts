/**
 * Runs a build on this machine: the phases CodeBuild documents
 * (https://docs.aws.amazon.com/codebuild/latest/userguide/view-build-details-phases.html), the
 * buildspec's commands with `bash` in a fresh working directory, as the project's service role.
 *
 * The image is recorded but not pulled — the build log says so — so commands run with this
 * machine's tools. Each command runs in its own `bash`, which restores the environment and the
 * working directory the previous command left (buildspec 0.2 semantics: one shell for the whole
 * build), in its own process group so StopBuild, a timeout and the sandbox stopping kill
 * everything it started.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, posix } from 'node:path'
import type { Identity } from '../../auth/identity.js'
import type { Runtime } from '../../runtime.js'
import { formatArn } from '../../../iam/arn.js'
import { decide, denialMessage } from '../../auth/authorize.js'
import { cloudWatchLogsEnabled } from './logs-config.js'
import { assumeRoleAsService } from '../../auth/sessions.js'
import { callRest, contextFor, describeError, type Acting } from '../../internal/client.js'
import {
  COMMAND_PHASES,
  BuildspecError,
  parseBuildspec,
  type ArtifactSpec,
  type Buildspec,
  type CommandPhase,
} from './buildspec.js'
import { globRegExp, listFiles, readZip, unzipTo, zipFiles } from '../../files.js'
import type { BuildRecord, CodeBuildStore, EnvVar, PhaseRecord } from './store.js'

/** Phases in the order the API reports them. */
export const PHASE_TYPES = [
  'SUBMITTED',
  'QUEUED',
  'PROVISIONING',
  'DOWNLOAD_SOURCE',
  'INSTALL',
  'PRE_BUILD',
  'BUILD',
  'POST_BUILD',
  'UPLOAD_ARTIFACTS',
  'FINALIZING',
  'COMPLETED',
] as const

/** A phase's failure, with the context CodeBuild reports for it. */
class PhaseFailure extends Error {
  constructor(
    readonly statusCode: string,
    message: string,
    readonly status: 'FAILED' | 'FAULT' | 'TIMED_OUT' | 'STOPPED' = 'FAILED',
  ) {
    super(message)
  }
}

function stamp(d = new Date()): string {
  // `[Container] 2024/01/31 12:00:00.123456`, as CodeBuild's agent writes its lines.
  const iso = d.toISOString()
  return `${iso.slice(0, 10).replace(/-/g, '/')} ${iso.slice(11, 23)}000`
}

/** What the runner needs from the sandbox. */
export interface RunnerOptions {
  readonly runtime: Runtime
  readonly store: CodeBuildStore
  /** The sandbox's endpoint for `AWS_ENDPOINT_URL`, or undefined when none is listening. */
  readonly endpoint: () => string | undefined
}

interface Running {
  child?: ChildProcess
  stopped: boolean
  timedOut: boolean
  timer?: NodeJS.Timeout
}

/** The ARN of a build's project (the build's ARN is `…:build/<project>:<id>`). */
function projectArnOf(b: BuildRecord): string {
  return b.arn.replace(/:build\/.*$/, `:project/${b.projectName}`)
}

/** Starts builds and kills them (StopBuild, timeout, sandbox stop). */
export class BuildRunner {
  private readonly running = new Map<string, Running>()
  private closed = false

  constructor(private readonly o: RunnerOptions) {}

  /** Runs a saved build in the background. */
  start(build: BuildRecord, overrides: readonly EnvVar[]): void {
    const r: Running = { stopped: false, timedOut: false }
    this.running.set(build.id, r)
    r.timer = setTimeout(() => {
      r.timedOut = true
      this.kill(r)
    }, build.timeoutInMinutes * 60_000)
    r.timer.unref()
    void this.run(build, overrides, r)
      .catch((e: unknown) => {
        if (this.closed) return
        // A bug in the runner must still end the build, or clients would wait forever.
        this.o.store.appendLog(
          build.id,
          `[Container] ${stamp()} Internal error in the crosspipe sandbox: ${describeError(e)}\n`,
        )
        const b = this.o.store.build(build.account, build.region, build.id)
        if (b && !b.buildComplete) {
          b.buildStatus = 'FAULT'
          b.buildComplete = true
          b.currentPhase = 'COMPLETED'
          b.endTime = new Date().toISOString()
          this.save(b)
        }
      })
      .finally(() => {
        clearTimeout(r.timer)
        this.running.delete(build.id)
      })
  }

  /** Asks a running build to stop (StopBuild); true when it was running here. */
  stop(id: string): boolean {
    const r = this.running.get(id)
    if (!r) return false
    r.stopped = true
    this.kill(r)
    return true
  }

  /** Kills every build's processes: the sandbox is stopping. */
  shutdown(): void {
    this.closed = true
    for (const r of this.running.values()) {
      r.stopped = true
      clearTimeout(r.timer)
      this.kill(r)
    }
  }

  /** How many builds run now. */
  get active(): number {
    return this.running.size
  }

  private kill(r: Running): void {
    const pid = r.child?.pid
    if (pid === undefined || r.child?.exitCode !== null) return
    try {
      process.kill(-pid, 'SIGKILL')
    } catch {
      r.child.kill('SIGKILL')
    }
  }

  private save(b: BuildRecord): void {
    if (this.closed) return
    this.o.store.saveBuild(b)
  }

  private log(b: BuildRecord, line: string): void {
    if (this.closed) return
    this.o.store.appendLog(b.id, `[Container] ${stamp()} ${line}\n`)
  }

  private async run(b: BuildRecord, overrides: readonly EnvVar[], r: Running): Promise<void> {
    const { store } = this.o
    const work = join(store.workDir, b.id.split(':').pop() ?? randomUUID())
    const startPhase = (type: string): PhaseRecord => {
      const p: PhaseRecord = {
        phaseType: type,
        startTime: new Date().toISOString(),
        phaseStatus: 'IN_PROGRESS',
      }
      b.phases.push(p)
      b.currentPhase = type
      this.save(b)
      return p
    }
    const endPhase = (
      p: PhaseRecord,
      status: NonNullable<PhaseRecord['phaseStatus']>,
      ctx?: { statusCode: string; message: string },
    ): void => {
      const end = new Date()
      p.endTime = end.toISOString()
      p.durationInSeconds = Math.max(0, Math.round((end.getTime() - Date.parse(p.startTime)) / 1000))
      p.phaseStatus = status
      p.contexts = [ctx ?? { statusCode: '', message: '' }]
      this.save(b)
    }
    let failed: PhaseFailure | undefined
    const interruption = (): PhaseFailure | undefined =>
      r.timedOut
        ? new PhaseFailure('BUILD_TIMED_OUT', `Build has timed out.`, 'TIMED_OUT')
        : r.stopped
          ? new PhaseFailure('BUILD_STOPPED', 'Build was stopped.', 'STOPPED')
          : undefined
    const phase = async (type: string, body: () => Promise<void> | void): Promise<boolean> => {
      const p = startPhase(type)
      this.log(b, `Entering phase ${type}`)
      try {
        await body()
        const i = interruption()
        if (i) throw i
        endPhase(p, 'SUCCEEDED')
        this.log(b, `Phase complete: ${type} State: SUCCEEDED`)
        this.log(b, `Phase context status code:  Message: `)
        return true
      } catch (e) {
        const f =
          interruption() ??
          (e instanceof PhaseFailure ? e : new PhaseFailure('CLIENT_ERROR', describeError(e)))
        failed ??= f
        endPhase(p, f.status, { statusCode: f.statusCode, message: f.message })
        this.log(b, `Phase complete: ${type} State: ${f.status}`)
        this.log(b, `Phase context status code: ${f.statusCode} Message: ${f.message}`)
        return false
      }
    }

    // SUBMITTED and QUEUED end at once: the sandbox runs every build immediately.
    endPhase(startPhase('SUBMITTED'), 'SUCCEEDED')
    endPhase(startPhase('QUEUED'), 'SUCCEEDED')
    this.log(b, `Waiting for agent ping`)

    let acting: Acting | undefined
    let spec: Buildspec | undefined
    const env: Record<string, string> = {}
    const srcDir = join(work, 'src')
    const secondaryDirs: Record<string, string> = {}
    const ok =
      (await phase('PROVISIONING', () => {
        const image = typeof b.environment['image'] === 'string' ? b.environment['image'] : '(none)'
        // Lines keep CodeBuild's `[Container]` prefix (tools parse it); this one says what that is here.
        this.log(
          b,
          `Image ${image} is recorded but not pulled: this is not a container. The crosspipe sandbox runs the build's commands with this machine's bash and tools, as the user who started the sandbox (uid ${process.getuid?.() ?? 'n/a'}), in ${work}; they can read and change this machine's files.`,
        )
        const identity: Identity | undefined = assumeRoleAsService({
          runtime: this.o.runtime,
          roleArn: b.serviceRole,
          service: 'codebuild',
          sessionName: `AWSCodeBuild-${b.id.split(':').pop() ?? ''}`,
          sourceArn: projectArnOf(b),
          durationSeconds: Math.max(900, Math.min(43200, b.timeoutInMinutes * 60 + 300)),
        })
        if (!identity)
          throw new PhaseFailure(
            'CLIENT_ERROR',
            `CodeBuild is not authorized to perform: sts:AssumeRole on ${b.serviceRole}`,
          )
        acting = { identity, region: b.region }
        if (cloudWatchLogsEnabled(b.logsConfig)) this.checkLogDelivery(b, acting)
        mkdirSync(srcDir, { recursive: true })
        mkdirSync(join(work, 'home'), { recursive: true })
        writeFileSync(join(work, 'home', 'aws-config'), '')
        writeFileSync(join(work, 'home', 'aws-credentials'), '')
      })) &&
      (await phase('DOWNLOAD_SOURCE', async () => {
        await this.downloadSources(b, acting!, srcDir, secondaryDirs, work)
        spec = this.loadBuildspec(b, srcDir)
        for (const k of spec.notApplied)
          this.log(b, `Buildspec key ${k} is not applied in the crosspipe sandbox.`)
      }))

    if (ok && spec && acting) {
      const endpoint = this.o.endpoint()
      const identity = acting.identity
      Object.assign(env, {
        PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
        LANG: process.env['LANG'] ?? 'C.UTF-8',
        HOME: join(work, 'home'),
        AWS_CONFIG_FILE: join(work, 'home', 'aws-config'),
        AWS_SHARED_CREDENTIALS_FILE: join(work, 'home', 'aws-credentials'),
        AWS_REGION: b.region,
        AWS_DEFAULT_REGION: b.region,
        AWS_ACCESS_KEY_ID: identity.accessKeyId,
        AWS_SECRET_ACCESS_KEY: identity.credential.secretAccessKey,
        AWS_SESSION_TOKEN: identity.credential.sessionToken ?? '',
        CODEBUILD_BUILD_ID: b.id,
        CODEBUILD_BUILD_ARN: b.arn,
        CODEBUILD_BUILD_NUMBER: String(b.buildNumber),
        CODEBUILD_BUILD_IMAGE: typeof b.environment['image'] === 'string' ? b.environment['image'] : '',
        CODEBUILD_INITIATOR: b.initiator,
        CODEBUILD_KMS_KEY_ID: b.encryptionKey,
        CODEBUILD_SOURCE_VERSION: b.resolvedSourceVersion ?? b.sourceVersion ?? '',
        CODEBUILD_RESOLVED_SOURCE_VERSION: b.resolvedSourceVersion ?? '',
        CODEBUILD_SRC_DIR: srcDir,
        CODEBUILD_START_TIME: String(Date.parse(b.startTime)),
        CODEBUILD_BUILD_SUCCEEDING: '1',
      })
      if (endpoint) env['AWS_ENDPOINT_URL'] = endpoint
      for (const [id, dir] of Object.entries(secondaryDirs)) env[`CODEBUILD_SRC_DIR_${id}`] = dir
      // Precedence (lowest first): buildspec env, project, StartBuild overrides
      // (https://docs.aws.amazon.com/codebuild/latest/userguide/build-spec-ref.html#build-spec-ref-syntax, env/variables).
      Object.assign(env, spec.variables)
      const projectVars = (b.environment['environmentVariables'] as EnvVar[] | undefined) ?? []
      for (const v of [...projectVars, ...overrides]) env[v.name] = v.value
      if (!endpoint)
        this.log(
          b,
          'The sandbox endpoint is unknown (no gateway is listening), so AWS_ENDPOINT_URL is not set.',
        )

      const state = { envFile: join(work, 'env.sh'), cwdFile: join(work, 'cwd') }
      writeFileSync(state.envFile, '')
      writeFileSync(state.cwdFile, srcDir)
      const shell = { env, state, r }
      const order: CommandPhase[] = [...COMMAND_PHASES]
      const upper = (p: CommandPhase): string => p.toUpperCase()
      let skipTo: 'FINALIZING' | 'POST_BUILD' | undefined
      for (const name of order) {
        if (skipTo === 'FINALIZING') break
        if (skipTo === 'POST_BUILD' && name !== 'post_build') continue
        const ps = spec.phases[name]
        const passed = await phase(upper(name), async () => {
          if (!ps) return
          let err: PhaseFailure | undefined
          for (const cmd of ps.commands) {
            const code = await this.command(b, cmd, shell)
            if (code !== 0) {
              err = new PhaseFailure(
                'COMMAND_EXECUTION_ERROR',
                `Error while executing command: ${cmd}. Reason: exit status ${code}`,
              )
              break
            }
          }
          for (const cmd of ps.finally) {
            const code = await this.command(b, cmd, shell)
            if (code !== 0 && !err)
              err = new PhaseFailure(
                'COMMAND_EXECUTION_ERROR',
                `Error while executing command: ${cmd}. Reason: exit status ${code}`,
              )
          }
          if (err) throw err
        })
        if (!passed) {
          env['CODEBUILD_BUILD_SUCCEEDING'] = '0'
          if (interruption()) break
          if (ps?.onFailure === 'CONTINUE') continue
          // A failed INSTALL or PRE_BUILD goes to FINALIZING; a failed BUILD still runs POST_BUILD.
          skipTo = name === 'build' ? 'POST_BUILD' : 'FINALIZING'
          if (name === 'post_build') skipTo = undefined
        }
      }
      // UPLOAD_ARTIFACTS is attempted even when BUILD failed (view-build-details-phases.html).
      if (skipTo !== 'FINALIZING' && !interruption())
        await phase('UPLOAD_ARTIFACTS', async () => {
          await this.uploadArtifacts(b, spec!, acting!, srcDir, shell)
        })
      b.exportedEnvironmentVariables = spec.exportedVariables.map((name) => ({
        name,
        value: this.exported(shell.state.envFile, name),
      }))
    }

    await phase('FINALIZING', () => undefined)
    const p = startPhase('COMPLETED')
    delete p.phaseStatus
    b.buildStatus = failed ? failed.status : 'SUCCEEDED'
    b.buildComplete = true
    b.endTime = new Date().toISOString()
    this.save(b)
    this.log(b, `Phase complete: COMPLETED State: ${b.buildStatus}`)
    rmSync(work, { recursive: true, force: true })
  }

  /**
   * With CloudWatch Logs on (the default), CodeBuild creates the build's log stream as the service
   * role; a role that may not fails the build with this sentence
   * (https://docs.aws.amazon.com/codebuild/latest/userguide/setting-up-service-role.html grants
   * logs:CreateLogGroup, logs:CreateLogStream, logs:PutLogEvents).
   */
  private checkLogDelivery(b: BuildRecord, acting: Acting): void {
    const uuid = b.id.split(':').pop() ?? ''
    const group = `/aws/codebuild/${b.projectName}`
    const resource = formatArn({
      partition: this.o.runtime.partition(b.region),
      service: 'logs',
      region: b.region,
      account: b.account,
      resource: `log-group:${group}:log-stream:${uuid}`,
    })
    const ctx = contextFor(this.o.runtime, acting)
    for (const action of ['logs:CreateLogStream', 'logs:PutLogEvents']) {
      const r = decide(ctx, { action, resource })
      if (r.decision !== 'Allowed')
        throw new PhaseFailure(
          'CLIENT_ERROR',
          `Service role ${b.serviceRole} does not allow AWS CodeBuild to create Amazon CloudWatch Logs log streams for build ${b.arn}. Error message: ${denialMessage(ctx, { action, resource }, r, 'json')}`,
        )
    }
  }

  private exported(envFile: string, name: string): string {
    const text = existsSync(envFile) ? readFileSync(envFile, 'utf8') : ''
    const m = new RegExp(`^declare -x ${name}="((?:[^"\\\\]|\\\\.)*)"$`, 'm').exec(text)
    return m ? m[1]!.replace(/\\(.)/g, '$1') : ''
  }

  private async downloadSources(
    b: BuildRecord,
    acting: Acting,
    srcDir: string,
    secondaryDirs: Record<string, string>,
    work: string,
  ): Promise<void> {
    const get = async (
      bucket: string,
      key: string,
      version?: string,
    ): Promise<{ body: Buffer; version?: string }> => {
      try {
        const res = await callRest(this.o.runtime, acting, 's3', {
          method: 'GET',
          path: `/${bucket}/${key}`,
          query: version ? [['versionId', version]] : [],
        })
        const body = typeof res.body === 'string' ? Buffer.from(res.body) : (res.body ?? Buffer.alloc(0))
        return { body, version: res.headers?.['x-amz-version-id'] }
      } catch (e) {
        throw new PhaseFailure(
          'CLIENT_ERROR',
          `${describeError(e)} for primary source and source version arn:${this.o.runtime.partition(b.region)}:s3:::${bucket}/${key}`,
        )
      }
    }
    const unzip = (data: Buffer, dir: string, what: string): void => {
      mkdirSync(dir, { recursive: true })
      if (!readZip(data)) throw new PhaseFailure('CLIENT_ERROR', `${what} is not a zip archive`)
      unzipTo(data, dir)
    }
    if (b.pipeline) {
      const primaryName = b.pipeline.primarySource ?? b.pipeline.inputs[0]?.name
      for (const a of b.pipeline.inputs) {
        const { body } = await get(a.bucket, a.key)
        if (a.name === primaryName) {
          unzip(body, srcDir, `input artifact ${a.name}`)
          b.resolvedSourceVersion ??= a.key
        } else {
          const dir = join(work, 'src2', a.name)
          unzip(body, dir, `input artifact ${a.name}`)
          secondaryDirs[a.name] = dir
        }
      }
      return
    }
    const type = b.source['type']
    if (type === 'NO_SOURCE') return
    if (type === 'S3') {
      const loc = typeof b.source['location'] === 'string' ? b.source['location'] : ''
      const i = loc.indexOf('/')
      const { body, version } = await get(loc.slice(0, i), loc.slice(i + 1), b.sourceVersion)
      unzip(body, srcDir, `source ${loc}`)
      b.resolvedSourceVersion = version
      return
    }
    throw new PhaseFailure(
      'CLIENT_ERROR',
      `Source type ${String(type)} is not supported by the crosspipe sandbox`,
    )
  }

  private loadBuildspec(b: BuildRecord, srcDir: string): Buildspec {
    const given =
      b.buildspec ?? (typeof b.source['buildspec'] === 'string' ? b.source['buildspec'] : undefined)
    let text: string
    // Inline YAML or a path relative to the source root (build-spec-ref.html#build-spec-ref-name-storage).
    if (given !== undefined && (given.includes('\n') || /^\s*version\s*:/.test(given))) text = given
    else {
      const rel = given && given.length > 0 ? given : 'buildspec.yml'
      const path = join(srcDir, rel)
      if (!existsSync(path))
        throw new PhaseFailure('YAML_FILE_ERROR', `stat ${path}: no such file or directory`)
      text = readFileSync(path, 'utf8')
    }
    try {
      return parseBuildspec(text)
    } catch (e) {
      if (e instanceof BuildspecError) throw new PhaseFailure('YAML_FILE_ERROR', e.message)
      throw e
    }
  }

  private command(
    b: BuildRecord,
    cmd: string,
    shell: { env: Record<string, string>; state: { envFile: string; cwdFile: string }; r: Running },
  ): Promise<number> {
    this.log(b, `Running command ${cmd}`)
    const { envFile, cwdFile } = shell.state
    const script =
      `. "${envFile}" 2>/dev/null\ncd "$(cat "${cwdFile}")"\n` +
      // The runner, not the previous command, knows whether the build is still succeeding.
      `export CODEBUILD_BUILD_SUCCEEDING=${shell.env['CODEBUILD_BUILD_SUCCEEDING'] ?? '1'}\n` +
      `${cmd}\n__crosspipe_rc=$?\n` +
      `export -p > "${envFile}"\npwd > "${cwdFile}"\nexit $__crosspipe_rc\n`
    return new Promise((resolve) => {
      if (shell.r.stopped || shell.r.timedOut) return resolve(137)
      const child = spawn('bash', ['-c', script], {
        env: shell.env,
        cwd: shell.env['CODEBUILD_SRC_DIR'],
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      shell.r.child = child
      const out = (d: Buffer): void => {
        if (!this.closed) this.o.store.appendLog(b.id, d.toString('utf8'))
      }
      child.stdout.on('data', out)
      child.stderr.on('data', out)
      child.on('error', (e) => {
        this.log(b, `Could not run bash: ${e.message}`)
        resolve(127)
      })
      child.on('close', (code, signal) => {
        const rc = code ?? (signal ? 128 + 9 : 1)
        if (rc !== 0) this.log(b, `Command did not exit successfully ${cmd} exit status ${rc}`)
        resolve(rc)
      })
    })
  }

  private selectFiles(root: string, a: ArtifactSpec): { path: string; name: string }[] {
    const base = a.baseDirectory ? join(root, a.baseDirectory) : root
    if (!existsSync(base))
      throw new PhaseFailure(
        'CLIENT_ERROR',
        `no matching base directory path found for ${a.baseDirectory ?? '.'}`,
      )
    const all = listFiles(base)
    const include = a.files.map(globRegExp)
    const exclude = a.excludePaths.map(globRegExp)
    const chosen = all.filter((f) => include.some((re) => re.test(f)) && !exclude.some((re) => re.test(f)))
    if (chosen.length === 0) throw new PhaseFailure('CLIENT_ERROR', `no matching artifact paths found`)
    const prefix = a.baseDirectory
      ? posix.normalize(a.baseDirectory.replace(/\\/g, '/')).replace(/\/$/, '') + '/'
      : ''
    return chosen.map((f) => ({
      path: prefix + f,
      name: a.discardPaths ? posix.basename(f) : f,
    }))
  }

  private async uploadArtifacts(
    b: BuildRecord,
    spec: Buildspec,
    acting: Acting,
    srcDir: string,
    shell: { state: { cwdFile: string } },
  ): Promise<void> {
    void shell
    const targets: { id: string; spec: ArtifactSpec; bucket: string; key: string }[] = []
    if (b.pipeline) {
      b.pipeline.outputs.forEach((o, i) => {
        // The first output artifact takes the primary `artifacts`; others match secondary-artifacts by name.
        const s =
          i === 0 && spec.artifacts && !spec.secondaryArtifacts[o.name]
            ? spec.artifacts
            : spec.secondaryArtifacts[o.name]
        if (!s)
          throw new PhaseFailure(
            'CLIENT_ERROR',
            `no definition for secondary artifact ${o.name} in buildspec`,
          )
        targets.push({ id: o.name, spec: s, bucket: o.bucket, key: o.key })
      })
    } else if (b.artifacts['type'] === 'S3' && spec.artifacts) {
      const loc = typeof b.artifacts['location'] === 'string' ? b.artifacts['location'] : ''
      const name = typeof b.artifacts['name'] === 'string' ? b.artifacts['name'] : b.projectName
      const path = typeof b.artifacts['path'] === 'string' ? b.artifacts['path'] : ''
      const ns = b.artifacts['namespaceType'] === 'BUILD_ID' ? `${b.id.split(':').pop() ?? ''}/` : ''
      targets.push({
        id: 'primary',
        spec: spec.artifacts,
        bucket: loc,
        key: `${path ? path.replace(/\/$/, '') + '/' : ''}${ns}${name}`,
      })
    }
    for (const t of targets) {
      const files = this.selectFiles(srcDir, t.spec)
      this.log(b, `Expanding base directory path: ${t.spec.baseDirectory ?? '.'}`)
      this.log(b, `Found ${files.length} file(s)`)
      const zip = zipFiles(srcDir, files)
      const headers: Record<string, string> = { 'x-amz-server-side-encryption': 'aws:kms' }
      // Output artifacts are encrypted with the project's EncryptionKey (default: aws/s3).
      if (b.encryptionKey && !/\/aws\/s3$/.test(b.encryptionKey))
        headers['x-amz-server-side-encryption-aws-kms-key-id'] = b.encryptionKey
      try {
        await callRest(this.o.runtime, acting, 's3', {
          method: 'PUT',
          path: `/${t.bucket}/${t.key}`,
          headers: { ...headers, 'content-type': 'application/zip', 'content-length': String(zip.length) },
          body: zip,
        })
      } catch (e) {
        throw new PhaseFailure('CLIENT_ERROR', `Error uploading artifacts: ${describeError(e)}`)
      }
      b.artifactLocations[t.id] = `arn:${this.o.runtime.partition(b.region)}:s3:::${t.bucket}/${t.key}`
    }
  }
}
