/**
 * The action types the sandbox runs. Each works as the acting identity (the action's role, or the
 * pipeline role) through the other services' own handlers, so IAM decides as on AWS:
 * - Source/S3 (action-reference-S3.html), Source/CodeCommit (action-reference-CodeCommit.html,
 *   standing in with a local git repository registered with the sandbox),
 * - Build and Test/CodeBuild (action-reference-CodeBuild.html),
 * - Deploy/CloudFormation with every action mode (action-reference-CloudFormation.html,
 *   https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/continuous-delivery-codepipeline-action-reference.html),
 * - Approval/Manual (approvals-action-add.html, approvals-approve-or-reject.html).
 */
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { promisify } from 'node:util'
import { zipSync } from 'fflate'
import { formatArn } from '../../../iam/arn.js'
import { dnsSuffix } from '../../../iam/aws-facts.js'
import { authorize } from '../../auth/authorize.js'
import { AwsError } from '../../errors.js'
import type { Runtime } from '../../runtime.js'
import {
  callJson,
  callQuery,
  callRest,
  contextFor,
  describeError,
  type Acting,
} from '../../internal/client.js'
import { readZip } from '../../files.js'
import { ActionFailure, readArtifact } from './artifacts.js'
import type { ActionDeclaration, ArtifactRef, PipelineStore, RepositoryRecord } from './store.js'
import { scopeOf } from './store.js'

const run = promisify(execFile)

/** A planned output artifact: where the action must write it. */
export interface PlannedOutput {
  readonly name: string
  readonly bucket: string
  readonly key: string
  readonly region: string
}

/** What an action implementation gets. */
export interface ActionContext {
  readonly runtime: Runtime
  readonly store: PipelineStore
  readonly pipelineName: string
  readonly executionId: string
  readonly stageName: string
  readonly action: ActionDeclaration
  /** Configuration with variables resolved. */
  readonly config: Readonly<Record<string, string>>
  readonly region: string
  readonly acting: Acting
  readonly inputs: readonly ArtifactRef[]
  readonly outputs: readonly PlannedOutput[]
  readonly signal: AbortSignal
  /** Writes an output artifact (a zip) as the acting identity; returns its ref. */
  putOutput(name: string, body: Buffer, revision?: string): Promise<ArtifactRef>
  /** Records the external execution id and url while the action runs. */
  external(id: string, url?: string): void
  /** Records the approval token while the action waits (Manual). */
  waitForApproval(token: string): Promise<{ status: 'Approved' | 'Rejected'; summary: string; by: string }>
}

/** What an action reports when it succeeds. */
export interface ActionResult {
  readonly summary?: string
  readonly outputs: readonly ArtifactRef[]
  readonly outputVariables?: Readonly<Record<string, string>>
  readonly revision?: { revisionId: string; revisionSummary?: string; created: string }
}

/** Thrown when the action was abandoned (StopPipelineExecution with abandon). */
export class Abandoned extends Error {}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Abandoned())
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = (): void => {
      clearTimeout(t)
      reject(new Abandoned())
    }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** The sole output artifact an action declares. */
function soleOutput(c: ActionContext): PlannedOutput {
  const o = c.outputs[0]
  if (!o) throw new ActionFailure(`Action ${c.action.name} declares no output artifact`)
  return o
}

// ---- Source: S3 ------------------------------------------------------------

/** The latest version of the S3 source object as the acting identity (HEAD). */
export async function s3SourceRevision(
  runtime: Runtime,
  as: Acting,
  bucket: string,
  key: string,
): Promise<string> {
  const res = await callRest(runtime, as, 's3', { method: 'HEAD', path: `/${bucket}/${key}` })
  const v = res.headers?.['x-amz-version-id']
  if (!v || v === 'null')
    throw new ActionFailure(
      `The S3 bucket ${bucket} is not versioned: the S3 source action needs versioning enabled on the source bucket`,
    )
  return v
}

async function s3Source(c: ActionContext): Promise<ActionResult> {
  const bucket = c.config['S3Bucket']!
  const key = c.config['S3ObjectKey']!
  let res
  try {
    res = await callRest(c.runtime, c.acting, 's3', { method: 'GET', path: `/${bucket}/${key}` })
  } catch (e) {
    if (e instanceof AwsError && (e.code === 'NoSuchKey' || e.code === 'NoSuchBucket'))
      throw new ActionFailure(`The object with key '${key}' does not exist in bucket ${bucket}.`)
    throw new ActionFailure(`Access to s3://${bucket}/${key} failed: ${describeError(e)}`)
  }
  const version = res.headers?.['x-amz-version-id']
  if (!version || version === 'null')
    throw new ActionFailure(
      `The S3 bucket ${bucket} is not versioned: the S3 source action needs versioning enabled on the source bucket`,
    )
  const body = typeof res.body === 'string' ? Buffer.from(res.body) : (res.body ?? Buffer.alloc(0))
  const out = await c.putOutput(soleOutput(c).name, body, version)
  // The object's `codepipeline-artifact-revision-summary` metadata is its revision summary (action-reference-S3.html).
  const summary = res.headers?.['x-amz-meta-codepipeline-artifact-revision-summary']
  const created = res.headers?.['last-modified']
  return {
    outputs: [out],
    revision: {
      revisionId: version,
      revisionSummary: summary,
      created: created ? new Date(created).toISOString() : new Date().toISOString(),
    },
    outputVariables: {
      BucketName: bucket,
      ObjectKey: key,
      VersionId: version,
      ETag: (res.headers?.['etag'] ?? '').replace(/"/g, ''),
    },
  }
}

// ---- Source: CodeCommit (a registered local repository) -------------------

/** The repository record an action names, in the acting identity's account and the action's region. */
function repositoryFor(
  c: { runtime: Runtime; store: PipelineStore; acting: Acting; region: string },
  name: string,
): RepositoryRecord {
  const r = c.store.repositories.get(scopeOf(c.acting.identity.account, c.region), name)
  if (!r)
    throw new ActionFailure(
      `${name} does not exist (no repository of that name is registered with the sandbox in account ${c.acting.identity.account}, ${c.region}: add it with \`crosspipe sandbox repo add ${name} PATH\`)`,
    )
  return r
}

function repositoryArn(runtime: Runtime, r: RepositoryRecord): string {
  return formatArn({
    partition: runtime.partition(r.region),
    service: 'codecommit',
    region: r.region,
    account: r.account,
    resource: r.name,
  })
}

/** Authorizes the CodeCommit permissions the source action needs (action-reference-CodeCommit.html, service role permissions). */
function allowCodeCommit(
  runtime: Runtime,
  as: Acting,
  r: RepositoryRecord,
  actions: readonly string[],
): void {
  const ctx = contextFor(runtime, as)
  for (const a of actions) {
    try {
      authorize(ctx, { action: `codecommit:${a}`, resource: repositoryArn(runtime, r) }, 'json')
    } catch (e) {
      throw new ActionFailure(describeError(e))
    }
  }
}

/** The commit a branch of a registered repository points at. */
export async function codeCommitRevision(
  runtime: Runtime,
  store: PipelineStore,
  as: Acting,
  region: string,
  name: string,
  branch: string,
): Promise<string> {
  const r = repositoryFor({ runtime, store, acting: as, region }, name)
  allowCodeCommit(runtime, as, r, ['GetBranch'])
  try {
    const { stdout } = await run('git', [
      '-C',
      r.path,
      'rev-parse',
      '--verify',
      `refs/heads/${branch}^{commit}`,
    ])
    return stdout.trim()
  } catch {
    throw new ActionFailure(`Branch ${branch} does not exist in repository ${name}`)
  }
}

async function codeCommitSource(c: ActionContext): Promise<ActionResult> {
  const name = c.config['RepositoryName']!
  const branch = c.config['BranchName']!
  const commit = await codeCommitRevision(c.runtime, c.store, c.acting, c.region, name, branch)
  const r = repositoryFor(c, name)
  allowCodeCommit(c.runtime, c.acting, r, ['GetCommit', 'UploadArchive', 'GetUploadArchiveStatus'])
  const zip = await new Promise<Buffer>((resolve, reject) => {
    execFile(
      'git',
      ['-C', r.path, 'archive', '--format=zip', commit],
      { encoding: 'buffer', maxBuffer: 512 * 1024 * 1024 },
      (err, stdout) =>
        err ? reject(new ActionFailure(`git archive of ${name} failed: ${err.message}`)) : resolve(stdout),
    )
  })
  const { stdout: meta } = await run('git', ['-C', r.path, 'log', '-1', '--format=%B%x00%aI%x00%an', commit])
  const [message = '', date = '', author = ''] = meta.split('\0')
  const out = await c.putOutput(soleOutput(c).name, zip, commit)
  return {
    outputs: [out],
    revision: {
      revisionId: commit,
      revisionSummary: message.trim(),
      created: date.trim() || new Date().toISOString(),
    },
    outputVariables: {
      CommitId: commit,
      CommitMessage: message.trim(),
      AuthorDate: date.trim(),
      BranchName: branch,
      RepositoryName: name,
      CommitterDate: date.trim(),
      AuthorName: author.trim(),
    },
  }
}

// ---- Build / Test: CodeBuild ------------------------------------------------

async function codeBuild(c: ActionContext): Promise<ActionResult> {
  const cb = c.runtime.internal('codebuild')
  let env: { name: string; value: string; type: 'PLAINTEXT' }[] = []
  if (c.config['EnvironmentVariables']) {
    try {
      env = JSON.parse(c.config['EnvironmentVariables']) as typeof env
    } catch {
      throw new ActionFailure('EnvironmentVariables is not a JSON array of {name, value, type}')
    }
  }
  let build
  try {
    build = cb.startBuild(
      contextFor(c.runtime, c.acting),
      {
        projectName: c.config['ProjectName']!,
        environmentVariablesOverride: env.map((e) => ({ ...e, type: e.type ?? 'PLAINTEXT' })),
      },
      {
        pipelineName: c.pipelineName,
        inputs: c.inputs.map((i) => ({ name: i.name, bucket: i.bucket, key: i.key })),
        outputs: c.outputs.map((o) => ({ name: o.name, bucket: o.bucket, key: o.key })),
        primarySource: c.config['PrimarySource'],
      },
    )
  } catch (e) {
    throw new ActionFailure(describeError(e))
  }
  const url = `https://console.aws.amazon.com/codesuite/codebuild/projects/${build.projectName}/build/${build.id}`
  c.external(build.id, url)
  const acct = build.account
  // Abandoning the action (StopPipelineExecution with `abandon`, DeletePipeline) ends this loop
  // (`sleep` throws Abandoned) and leaves the build running to its own end. CodePipeline marks
  // in-progress actions Abandoned without waiting for them
  // (https://docs.aws.amazon.com/codepipeline/latest/userguide/pipelines-stop.html: "This option
  // can lead to failed tasks or out of sequence tasks") and does not stop the build: what its role
  // needs for a CodeBuild action is codebuild:StartBuild and codebuild:BatchGetBuilds
  // (https://docs.aws.amazon.com/codepipeline/latest/userguide/how-to-custom-role.html), never
  // codebuild:StopBuild. The build's id stays the action's externalExecutionId.
  for (;;) {
    await sleep(100, c.signal)
    // The pipeline polls the build with codebuild:BatchGetBuilds, which its role needs (action-reference-CodeBuild.html).
    await callJson(c.runtime, c.acting, 'codebuild', 'BatchGetBuilds', { ids: [build.id] }).catch(
      (e: unknown) => {
        throw new ActionFailure(describeError(e))
      },
    )
    const b = cb.build(acct, build.region, build.id)
    if (!b || !b.buildComplete) continue
    if (b.buildStatus === 'SUCCEEDED') {
      const vars: Record<string, string> = {}
      for (const v of b.exportedEnvironmentVariables) vars[v.name] = v.value
      return {
        outputs: c.outputs.map((o) => ({ name: o.name, bucket: o.bucket, key: o.key, region: o.region })),
        outputVariables: vars,
      }
    }
    const failed = [...b.phases].reverse().find((p) => p.phaseStatus && p.phaseStatus !== 'SUCCEEDED')
    const ctx = failed?.context
    throw new ActionFailure(
      `Build terminated with state: ${b.buildStatus}.${failed ? ` Phase: ${failed.phaseType}, Code: ${ctx?.statusCode ?? ''}, Message: ${ctx?.message ?? ''}` : ''}`,
    )
  }
}

// ---- Deploy: CloudFormation -------------------------------------------------

type Stack = Record<string, unknown>

/** A value of a parsed XML answer as text ('' when absent). */
function text(v: unknown): string {
  if (v === undefined || v === null) return ''
  return typeof v === 'string' ? v : JSON.stringify(v)
}

function members(v: unknown): Record<string, unknown>[] {
  if (v === null || typeof v !== 'object') return []
  const m = (v as Record<string, unknown>)['member']
  return Array.isArray(m) ? (m as Record<string, unknown>[]) : []
}

/** `ArtifactName::path` of TemplatePath / TemplateConfiguration. */
function splitArtifactPath(v: string, what: string): { artifact: string; path: string } {
  const i = v.indexOf('::')
  if (i < 0) throw new ActionFailure(`${what} ${v} must be ArtifactName::path`)
  return { artifact: v.slice(0, i), path: v.slice(i + 2) }
}

const FAILED_STACK_STATES = [
  'ROLLBACK_COMPLETE',
  'ROLLBACK_FAILED',
  'CREATE_FAILED',
  'DELETE_FAILED',
  'UPDATE_ROLLBACK_FAILED',
]

async function cloudFormation(c: ActionContext): Promise<ActionResult> {
  const cfg = c.config
  const mode = cfg['ActionMode']!
  const stackName = cfg['StackName']!
  const as: Acting = { identity: c.acting.identity, region: c.region }
  const files = new Map<string, Record<string, Uint8Array>>()
  const artifactFiles = async (name: string): Promise<Record<string, Uint8Array>> => {
    let f = files.get(name)
    if (!f) {
      const ref = c.inputs.find((i) => i.name === name)
      if (!ref)
        throw new ActionFailure(`Artifact ${name} is not an input artifact of action ${c.action.name}`)
      const z = readZip(await readArtifact(c.runtime, as, ref))
      if (!z) throw new ActionFailure(`Input artifact ${name} is not a zip archive`)
      f = z
      files.set(name, f)
    }
    return f
  }
  const fileText = async (spec: string, what: string): Promise<string> => {
    const { artifact, path } = splitArtifactPath(spec, what)
    const f = (await artifactFiles(artifact))[path]
    if (!f) throw new ActionFailure(`File ${path} does not exist in artifact ${artifact}`)
    return new TextDecoder().decode(f)
  }
  const cfn = async (action: string, params: Record<string, string>): Promise<Record<string, unknown>> => {
    try {
      return await callQuery(c.runtime, as, 'cloudformation', action, params)
    } catch (e) {
      if (e instanceof AwsError) throw e
      throw new ActionFailure(describeError(e))
    }
  }
  const describe = async (): Promise<Stack | undefined> => {
    try {
      const r = await cfn('DescribeStacks', { StackName: stackName })
      return members(r['Stacks'])[0]
    } catch (e) {
      if (e instanceof AwsError && e.code === 'ValidationError' && /does not exist/.test(e.message))
        return undefined
      throw failure(e)
    }
  }
  const failure = (e: unknown): ActionFailure =>
    e instanceof ActionFailure || e instanceof Abandoned
      ? (e as ActionFailure)
      : new ActionFailure(describeError(e))

  const waitStack = async (ok: readonly string[], verb: string): Promise<Stack | undefined> => {
    for (;;) {
      const s = await describe()
      const status = s ? String(s['StackStatus']) : 'DELETE_COMPLETE'
      if (!status.endsWith('_IN_PROGRESS') || status === 'REVIEW_IN_PROGRESS') {
        if (ok.includes(status)) return s
        throw new ActionFailure(await stackFailure(status, verb))
      }
      await sleep(100, c.signal)
    }
  }
  const stackFailure = async (status: string, verb: string): Promise<string> => {
    let reason = ''
    try {
      // Newest first: keep the events of this operation (back to the stack's own *_IN_PROGRESS
      // that started it), then take the first resource failure — the cause, not the cascade.
      const ev = members((await cfn('DescribeStackEvents', { StackName: stackName }))['StackEvents'])
      const start = ev.findIndex(
        (e) =>
          e['LogicalResourceId'] === stackName &&
          ['CREATE_IN_PROGRESS', 'UPDATE_IN_PROGRESS', 'DELETE_IN_PROGRESS'].includes(
            text(e['ResourceStatus']),
          ),
      )
      const failedEvent = (start >= 0 ? ev.slice(0, start + 1) : ev)
        .reverse()
        .find(
          (e) =>
            /_FAILED$/.test(text(e['ResourceStatus'])) &&
            e['LogicalResourceId'] !== stackName &&
            !/cancelled/i.test(text(e['ResourceStatusReason'])),
        )
      if (failedEvent)
        reason = ` Reason: ${text(failedEvent['LogicalResourceId'])} (${text(failedEvent['ResourceType'])}): ${text(failedEvent['ResourceStatusReason'])}`
    } catch {
      // DescribeStackEvents is not among the action role's documented permissions: without it,
      // the stack's own status reason is the explanation.
    }
    if (!reason) {
      const s = await describe().catch(() => undefined)
      const r = s ? text(s['StackStatusReason']) : ''
      if (r) reason = ` Reason: ${r}`
    }
    return `Stack ${stackName} ${verb} failed: the stack is in state ${status}.${reason}`
  }

  const templateParams = async (): Promise<Record<string, string>> => {
    const params: Record<string, string> = {}
    if (cfg['TemplatePath'] !== undefined) {
      const body = await fileText(cfg['TemplatePath'], 'TemplatePath')
      params['TemplateBody'] = body
    }
    const parameters: Record<string, string> = {}
    const tags: Record<string, string> = {}
    if (cfg['TemplateConfiguration'] !== undefined) {
      let doc: Record<string, unknown>
      try {
        doc = JSON.parse(await fileText(cfg['TemplateConfiguration'], 'TemplateConfiguration')) as Record<
          string,
          unknown
        >
      } catch (e) {
        throw e instanceof ActionFailure
          ? e
          : new ActionFailure(`TemplateConfiguration ${cfg['TemplateConfiguration']} is not valid JSON`)
      }
      for (const [k, v] of Object.entries((doc['Parameters'] as Record<string, unknown> | undefined) ?? {}))
        parameters[k] = String(v)
      for (const [k, v] of Object.entries((doc['Tags'] as Record<string, unknown> | undefined) ?? {}))
        tags[k] = String(v)
      if (doc['StackPolicy'] !== undefined) params['StackPolicyBody'] = JSON.stringify(doc['StackPolicy'])
    }
    // ParameterOverrides take precedence over the template configuration file (continuous-delivery-codepipeline-cfn-artifacts.html).
    if (cfg['ParameterOverrides'] !== undefined) {
      const o = JSON.parse(cfg['ParameterOverrides']) as Record<string, unknown>
      for (const [k, v] of Object.entries(o)) parameters[k] = await overrideValue(v, k)
    }
    let i = 1
    for (const [k, v] of Object.entries(parameters)) {
      params[`Parameters.member.${i}.ParameterKey`] = k
      params[`Parameters.member.${i}.ParameterValue`] = v
      i++
    }
    i = 1
    for (const [k, v] of Object.entries(tags)) {
      params[`Tags.member.${i}.Key`] = k
      params[`Tags.member.${i}.Value`] = v
      i++
    }
    i = 1
    for (const cap of (cfg['Capabilities'] ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean))
      params[`Capabilities.member.${i++}`] = cap
    if (cfg['RoleArn'] !== undefined) params['RoleARN'] = cfg['RoleArn']
    return params
  }

  /** Fn::GetParam and Fn::GetArtifactAtt (continuous-delivery-codepipeline-parameter-override-functions.html). */
  const overrideValue = async (v: unknown, key: string): Promise<string> => {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v)
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>
      if (Array.isArray(o['Fn::GetParam'])) {
        const [artifact, file, k] = o['Fn::GetParam'] as string[]
        const f = (await artifactFiles(String(artifact)))[String(file)]
        if (!f)
          throw new ActionFailure(
            `Fn::GetParam of ${key}: file ${String(file)} does not exist in artifact ${String(artifact)}`,
          )
        let doc: Record<string, unknown>
        try {
          doc = JSON.parse(new TextDecoder().decode(f)) as Record<string, unknown>
        } catch {
          throw new ActionFailure(
            `Fn::GetParam of ${key}: ${String(file)} in ${String(artifact)} is not JSON`,
          )
        }
        if (!(String(k) in doc))
          throw new ActionFailure(`Fn::GetParam of ${key}: ${String(file)} has no key ${String(k)}`)
        return String(doc[String(k)])
      }
      if (Array.isArray(o['Fn::GetArtifactAtt'])) {
        const [artifact, attr] = o['Fn::GetArtifactAtt'] as string[]
        const ref = c.inputs.find((i) => i.name === artifact)
        if (!ref)
          throw new ActionFailure(
            `Fn::GetArtifactAtt of ${key}: ${String(artifact)} is not an input artifact`,
          )
        if (attr === 'BucketName') return ref.bucket
        if (attr === 'ObjectKey') return ref.key
        if (attr === 'URL') {
          const suffix = dnsSuffix(c.runtime.partition(ref.region))
          return `https://${ref.bucket}.s3.${ref.region}.${suffix}/${ref.key}`
        }
        throw new ActionFailure(
          `Fn::GetArtifactAtt of ${key}: attribute ${String(attr)} is not BucketName, ObjectKey or URL`,
        )
      }
    }
    throw new ActionFailure(
      `ParameterOverrides value of ${key} must be a string, Fn::GetParam or Fn::GetArtifactAtt`,
    )
  }

  const outputsOf = (s: Stack | undefined): Record<string, string> => {
    const out: Record<string, string> = {}
    for (const o of members(s?.['Outputs'])) out[String(o['OutputKey'])] = text(o['OutputValue'])
    return out
  }

  const createOrUpdate = async (): Promise<Stack | undefined> => {
    const existing = await describe()
    const status = existing ? String(existing['StackStatus']) : undefined
    if (existing && status === 'ROLLBACK_COMPLETE' && mode === 'CREATE_UPDATE')
      throw new ActionFailure(`Stack ${stackName} is in ROLLBACK_COMPLETE state and can not be updated.`)
    if (existing && mode === 'REPLACE_ON_FAILURE' && FAILED_STACK_STATES.includes(status ?? '')) {
      await cfn('DeleteStack', {
        StackName: stackName,
        ...(cfg['RoleArn'] ? { RoleARN: cfg['RoleArn'] } : {}),
      }).catch((e: unknown) => {
        throw failure(e)
      })
      await waitStack(['DELETE_COMPLETE'], 'deletion')
      return createOrUpdate()
    }
    const params = await templateParams()
    if (!existing || status === 'REVIEW_IN_PROGRESS') {
      await cfn('CreateStack', { StackName: stackName, ...params }).catch((e: unknown) => {
        throw failure(e)
      })
      return waitStack(['CREATE_COMPLETE'], 'creation')
    }
    try {
      await cfn('UpdateStack', { StackName: stackName, ...params })
    } catch (e) {
      // "No updates are to be performed." is success for the action (action-reference-CloudFormation.html).
      if (e instanceof AwsError && /No updates are to be performed/.test(e.message)) return existing
      throw failure(e)
    }
    return waitStack(['UPDATE_COMPLETE'], 'update')
  }

  let stack: Stack | undefined
  let summary: string | undefined
  switch (mode) {
    case 'CREATE_UPDATE':
    case 'REPLACE_ON_FAILURE':
      stack = await createOrUpdate()
      break
    case 'DELETE_ONLY': {
      const s = await describe()
      if (s) {
        await cfn('DeleteStack', {
          StackName: stackName,
          ...(cfg['RoleArn'] ? { RoleARN: cfg['RoleArn'] } : {}),
        }).catch((e: unknown) => {
          throw failure(e)
        })
        await waitStack(['DELETE_COMPLETE'], 'deletion')
      } else summary = `Stack ${stackName} does not exist; nothing to delete.`
      stack = undefined
      break
    }
    case 'CHANGE_SET_REPLACE': {
      const changeSetName = cfg['ChangeSetName']!
      const s = await describe()
      const type = !s || String(s['StackStatus']) === 'REVIEW_IN_PROGRESS' ? 'CREATE' : 'UPDATE'
      if (s)
        await cfn('DeleteChangeSet', { StackName: stackName, ChangeSetName: changeSetName }).catch(
          () => undefined,
        )
      const params = await templateParams()
      await cfn('CreateChangeSet', {
        StackName: stackName,
        ChangeSetName: changeSetName,
        ChangeSetType: type,
        ...params,
      }).catch((e: unknown) => {
        throw failure(e)
      })
      for (;;) {
        await sleep(100, c.signal)
        const cs = await cfn('DescribeChangeSet', {
          StackName: stackName,
          ChangeSetName: changeSetName,
        }).catch((e: unknown) => {
          throw failure(e)
        })
        const st = String(cs['Status'])
        if (st === 'CREATE_COMPLETE') break
        if (st === 'FAILED') {
          const reason = text(cs['StatusReason'])
          if (/didn't contain changes|No updates are to be performed/.test(reason)) {
            summary = `Change set ${changeSetName} has no changes.`
            break
          }
          throw new ActionFailure(`Change set ${changeSetName} of stack ${stackName} failed: ${reason}`)
        }
      }
      stack = await describe()
      break
    }
    case 'CHANGE_SET_EXECUTE': {
      const changeSetName = cfg['ChangeSetName']!
      let cs: Record<string, unknown>
      try {
        cs = await cfn('DescribeChangeSet', { StackName: stackName, ChangeSetName: changeSetName })
      } catch (e) {
        throw failure(e)
      }
      if (
        String(cs['Status']) === 'FAILED' &&
        /didn't contain changes|No updates are to be performed/.test(text(cs['StatusReason']))
      ) {
        summary = `Change set ${changeSetName} has no changes; nothing to execute.`
        stack = await describe()
        break
      }
      const before = await describe()
      const creating = !before || String(before['StackStatus']) === 'REVIEW_IN_PROGRESS'
      await cfn('ExecuteChangeSet', { StackName: stackName, ChangeSetName: changeSetName }).catch(
        (e: unknown) => {
          throw failure(e)
        },
      )
      stack = await waitStack(
        creating ? ['CREATE_COMPLETE'] : ['UPDATE_COMPLETE'],
        `change set ${changeSetName} execution`,
      )
      break
    }
    default:
      throw new ActionFailure(`ActionMode ${mode} is not supported`)
  }

  const outputs = outputsOf(stack)
  const refs: ArtifactRef[] = []
  const planned = c.outputs[0]
  if (planned) {
    // OutputFileName: the stack's outputs as a JSON file in the output artifact (action-reference-CloudFormation.html).
    const name = cfg['OutputFileName']
    const body = zipFromFiles(name ? { [name]: JSON.stringify(outputs, null, 2) } : {})
    refs.push(await c.putOutput(planned.name, body))
  }
  return { outputs: refs, outputVariables: outputs, summary }
}

/** A zip of small text files, built in memory. */
function zipFromFiles(files: Record<string, string>): Buffer {
  const z: Record<string, Uint8Array> = {}
  for (const [k, v] of Object.entries(files)) z[k] = new TextEncoder().encode(v)
  return Buffer.from(zipSync(z))
}

// ---- Approval: Manual -------------------------------------------------------

async function manualApproval(c: ActionContext): Promise<ActionResult> {
  const token = randomUUID()
  const r = await c.waitForApproval(token)
  if (r.status === 'Rejected')
    throw new ActionFailure(`Rejected by ${r.by}${r.summary ? `: ${r.summary}` : ''}`, 'JobFailed')
  return { outputs: [], summary: r.summary }
}

/** The implementation of an action type (`Category/Owner/Provider/Version`). */
export const ACTIONS: Readonly<Record<string, (c: ActionContext) => Promise<ActionResult>>> = {
  'Source/AWS/S3/1': s3Source,
  'Source/AWS/CodeCommit/1': codeCommitSource,
  'Build/AWS/CodeBuild/1': codeBuild,
  'Test/AWS/CodeBuild/1': codeBuild,
  'Deploy/AWS/CloudFormation/1': cloudFormation,
  'Approval/AWS/Manual/1': manualApproval,
}
