/**
 * Manifest + deployed state → an ordered plan. Pure: no I/O, no clock; the same input gives the
 * same plan, so `--dry-run` shows exactly what deploy then does.
 *
 * Stack statuses and what each allows are those of the CloudFormation stack status table:
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/view-stack-events.html#cfn-console-view-stack-data-resources-status-codes
 */
import { dirname, join } from 'node:path'
import { CrosspipeError, type InputProblem } from '../model/errors.js'
import { parseTemplate, TemplateBodies } from '../model/cfn-yaml.js'
import type { ManifestDocument, ManifestParameterValue, ManifestStackEntry } from '../synth/manifest.js'
import { applicationEntries, type ApplicationStack } from './apps.js'
import type { DeployedStack, DeployedState, DestroyNote, Plan, PlanAction, PlanActionKind } from './types.js'

/** The id of a stack in plans and deployed state: `<account>/<region>/<name>`. */
export function stackId(s: {
  readonly account: string
  readonly region: string
  readonly name: string
}): string {
  return `${s.account}/${s.region}/${s.name}`
}

/** Options of {@link planDeploy}. */
export interface PlanDeployOptions {
  readonly manifest: ManifestDocument
  /** Template file → template text, for every `template` the manifest names. */
  readonly templates: Readonly<Record<string, string>>
  readonly deployed: DeployedState
  /** Delete and recreate stacks that can only be deleted (ROLLBACK_COMPLETE and the like). */
  readonly replaceFailed?: boolean
  /** The manifest's file name, for messages. */
  readonly manifestFile?: string
  /** Templates parsed before, or to keep for later readers of the same run (default: a new one). */
  readonly bodies?: TemplateBodies
}

/** Options of {@link planDestroy}. */
export interface PlanDestroyOptions {
  readonly manifest: ManifestDocument
  /** Templates from the manifest; the deployed template is preferred when the state has one. */
  readonly templates?: Readonly<Record<string, string>>
  readonly deployed: DeployedState
  /**
   * Application stacks the pipeline deployed ({@link applicationStacks}), deleted first, through
   * their deployment role. Their deployed state must be in `deployed` (by {@link applicationEntries}).
   */
  readonly applications?: readonly ApplicationStack[]
}

/**
 * Stack statuses from which a stack can be updated by a change set: a `*_COMPLETE` state other than
 * ROLLBACK_COMPLETE (the stable states RollbackStack lists:
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_RollbackStack.html).
 */
const UPDATABLE = new Set([
  'CREATE_COMPLETE',
  'UPDATE_COMPLETE',
  'UPDATE_ROLLBACK_COMPLETE',
  'IMPORT_COMPLETE',
  'IMPORT_ROLLBACK_COMPLETE',
])

/**
 * A failed creation: the stack has no usable resources and CloudFormation only allows deleting it
 * (ROLLBACK_COMPLETE after a failed create; ROLLBACK_FAILED; CREATE_FAILED when rollback was off).
 */
const FAILED_CREATE = new Set(['ROLLBACK_COMPLETE', 'ROLLBACK_FAILED', 'CREATE_FAILED'])

/** True for any `*_IN_PROGRESS` status except REVIEW_IN_PROGRESS (which has no operation running). */
export function isInProgress(status: string): boolean {
  return status.endsWith('_IN_PROGRESS') && status !== 'REVIEW_IN_PROGRESS'
}

/** Advice for a stack that cannot be deployed as it is. */
function blockedReason(s: DeployedStack): string | undefined {
  const why = s.statusReason ? ` (${s.statusReason})` : ''
  if (FAILED_CREATE.has(s.status))
    return `the stack is ${s.status}${why}: its creation failed and CloudFormation can only delete it; fix the cause, then deploy with --replace-failed to delete and recreate it`
  if (s.status === 'UPDATE_ROLLBACK_FAILED')
    return `the stack is UPDATE_ROLLBACK_FAILED${why}: continue the rollback first (aws cloudformation continue-update-rollback), then deploy again`
  if (s.status === 'DELETE_FAILED')
    return `the stack is DELETE_FAILED${why}: delete it (crosspipe destroy, or the console with the failing resources retained), then deploy again`
  if (isInProgress(s.status))
    return `the stack is ${s.status}: another operation is running on it; wait for it to finish and deploy again`
  return undefined
}

/** Checks the manifest's references and templates; throws `CrosspipeError` listing every problem. */
function validate(o: PlanDeployOptions): Map<string, ManifestStackEntry> {
  const file = o.manifestFile ?? 'manifest.json'
  const problems: InputProblem[] = []
  const byName = new Map<string, ManifestStackEntry[]>()
  const ids = new Set<string>()
  o.manifest.stacks.forEach((s, i) => {
    const id = stackId(s)
    if (ids.has(id))
      problems.push({
        location: { file, path: `stacks[${i}]` },
        message: `stack "${s.name}" appears twice for account ${s.account} in ${s.region}`,
      })
    ids.add(id)
    byName.set(s.name, [...(byName.get(s.name) ?? []), s])
  })
  const outputsOf = new Map<string, Set<string> | undefined>()
  const parametersOf = new Map<string, Set<string> | undefined>()
  // Parsing YAML is most of planning's time: each content is parsed once (TemplateBodies).
  const bodies = o.bodies ?? new TemplateBodies()
  for (const s of o.manifest.stacks) {
    const text = o.templates[s.template]
    if (text === undefined || outputsOf.has(s.template)) continue
    try {
      // Named for messages as the user finds the file: next to the manifest.
      const where = o.manifestFile !== undefined ? join(dirname(o.manifestFile), s.template) : s.template
      const body = bodies.body(text, where)
      outputsOf.set(s.template, new Set(Object.keys(asRecord(body.Outputs))))
      parametersOf.set(s.template, new Set(Object.keys(asRecord(body.Parameters))))
    } catch (e) {
      // A template that is not YAML (or JSON) would fail at CloudFormation only when its phase
      // comes, after the earlier phases were deployed: refused here, with where, before anything.
      if (!(e instanceof CrosspipeError)) throw e
      problems.push(...e.problems)
      outputsOf.set(s.template, undefined)
      parametersOf.set(s.template, undefined)
    }
  }
  const producers = new Map<string, ManifestStackEntry>()
  o.manifest.stacks.forEach((s, i) => {
    if (o.templates[s.template] === undefined)
      problems.push({
        location: { file, path: `stacks[${i}].template` },
        message: `template file "${s.template}" of stack "${s.name}" was not found next to the manifest`,
      })
    const declared = parametersOf.get(s.template)
    for (const [key, value] of Object.entries(s.parameters)) {
      const path = `stacks[${i}].parameters.${key}`
      if (declared && !declared.has(key))
        problems.push({
          location: { file, path },
          message: `template "${s.template}" declares no parameter "${key}" (CloudFormation would reject the stack)`,
        })
      if (typeof value === 'string') continue
      const candidates = byName.get(value.fromStack) ?? []
      if (candidates.length === 0) {
        problems.push({
          location: { file, path },
          message: `fromStack "${value.fromStack}" is not a stack of this manifest`,
        })
        continue
      }
      if (candidates.length > 1) {
        problems.push({
          location: { file, path },
          message: `fromStack "${value.fromStack}" is ambiguous: ${candidates.length} stacks have that name (in ${candidates.map((c) => `${c.account} ${c.region}`).join(', ')})`,
        })
        continue
      }
      const producer = candidates[0]!
      if (producer.phase >= s.phase)
        problems.push({
          location: { file, path },
          message: `stack "${s.name}" (phase ${s.phase}) reads an output of "${producer.name}" (phase ${producer.phase}); the producer must be in an earlier phase`,
        })
      const outputs = outputsOf.get(producer.template)
      if (outputs && !outputs.has(value.output))
        problems.push({
          location: { file, path },
          message: `stack "${producer.name}" has no output "${value.output}" (its template "${producer.template}" declares: ${[...outputs].join(', ') || 'none'})`,
        })
      producers.set(`${stackId(s)}#${key}`, producer)
    }
  })
  if (problems.length > 0) {
    const missingFiles = problems.every((p) => p.message.startsWith('template file'))
    throw new CrosspipeError(
      missingFiles ? 'file-not-found' : 'unresolvable',
      `${file}: the manifest cannot be deployed as written; nothing was changed`,
      problems,
    )
  }
  return producers
}

function asRecord(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {}
}

/** Stacks in phase order (stable: manifest order within a phase). */
function ordered(stacks: readonly ManifestStackEntry[], descending: boolean): ManifestStackEntry[] {
  return stacks
    .map((s, i) => ({ s, i }))
    .sort((a, b) => (descending ? b.s.phase - a.s.phase : a.s.phase - b.s.phase) || a.i - b.i)
    .map((x) => x.s)
}

/** Computes the deploy plan. Throws `CrosspipeError` for a manifest that cannot be deployed. */
export function planDeploy(o: PlanDeployOptions): Plan {
  const producers = validate(o)
  const stacks = ordered(o.manifest.stacks, false)
  const phases = [...new Set(stacks.map((s) => s.phase))]
  const actions = new Map<string, PlanAction>()
  for (const s of stacks) {
    const id = stackId(s)
    const current = o.deployed[id]
    const previousPhase = phases[phases.indexOf(s.phase) - 1]
    const dependsOn = new Set(
      previousPhase === undefined ? [] : stacks.filter((p) => p.phase === previousPhase).map(stackId),
    )
    for (const key of Object.keys(s.parameters)) {
      const p = producers.get(`${id}#${key}`)
      if (p) dependsOn.add(stackId(p))
    }
    const { action, reason } = decide(s, current, o, (key) => {
      const p = producers.get(`${id}#${key}`)
      return p ? { producer: p, action: actions.get(stackId(p))?.action } : undefined
    })
    actions.set(id, {
      id,
      stack: s.name,
      account: s.account,
      region: s.region,
      phase: s.phase,
      template: s.template,
      action,
      reason,
      ...(current ? { currentStatus: current.status } : {}),
      dependsOn: [...dependsOn],
      parameters: s.parameters,
      capabilities: s.capabilities,
      ...(s.tags ? { tags: s.tags } : {}),
    })
  }
  return { kind: 'deploy', pipeline: o.manifest.pipeline, phases, actions: [...actions.values()] }
}

function decide(
  s: ManifestStackEntry,
  current: DeployedStack | undefined,
  o: PlanDeployOptions,
  producerOf: (
    key: string,
  ) => { producer: ManifestStackEntry; action: PlanActionKind | undefined } | undefined,
): { action: PlanActionKind; reason: string } {
  if (!current || current.status === 'DELETE_COMPLETE')
    return { action: 'create', reason: 'the stack does not exist' }
  // A stack whose CREATE change set was never executed has no resources; it is created by a new
  // CREATE change set (as `aws cloudformation deploy` treats it).
  if (current.status === 'REVIEW_IN_PROGRESS')
    return { action: 'create', reason: 'the stack was reviewed but never created (REVIEW_IN_PROGRESS)' }
  if (FAILED_CREATE.has(current.status) && o.replaceFailed)
    return {
      action: 'replace-failed',
      reason: `the stack is ${current.status}${current.statusReason ? ` (${current.statusReason})` : ''}; it is deleted and created again (--replace-failed)`,
    }
  const blocked = blockedReason(current)
  if (blocked !== undefined || !UPDATABLE.has(current.status))
    return {
      action: 'blocked',
      reason: blocked ?? `the stack is ${current.status}, from which crosspipe cannot update it`,
    }

  const template = o.templates[s.template]
  if (current.template === undefined || current.template !== template)
    return { action: 'update', reason: 'the template differs from the deployed one' }
  const changed: string[] = []
  const pending: string[] = []
  for (const [key, value] of Object.entries(s.parameters)) {
    const known = knownValue(value, producerOf(key), o.deployed)
    if (known === undefined)
      pending.push(`${key} (from ${(value as { fromStack: string }).fromStack}, which is deployed first)`)
    else if (current.parameters[key] !== known) changed.push(key)
  }
  for (const key of Object.keys(current.parameters)) if (!(key in s.parameters)) changed.push(key)
  if (changed.length > 0) return { action: 'update', reason: `parameter(s) ${changed.join(', ')} differ` }
  if (pending.length > 0) return { action: 'update', reason: `parameter(s) ${pending.join(', ')} may change` }
  if (s.tags && !sameRecord(s.tags, current.tags ?? {}))
    return { action: 'update', reason: 'the stack tags differ' }
  return { action: 'no-change', reason: 'template, parameters and tags are as deployed' }
}

/** A parameter's value when it is known before deploying: a literal, or an unchanging producer's output. */
function knownValue(
  value: ManifestParameterValue,
  producer: { producer: ManifestStackEntry; action: PlanActionKind | undefined } | undefined,
  deployed: DeployedState,
): string | undefined {
  if (typeof value === 'string') return value
  if (!producer || producer.action !== 'no-change') return undefined
  return deployed[stackId(producer.producer)]?.outputs[value.output]
}

function sameRecord(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a)
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k])
}

/** Computes the destroy plan: reverse phase order; buckets to empty and keys to schedule noted. */
export function planDestroy(o: PlanDestroyOptions): Plan {
  const apps = new Map(
    applicationEntries(o.manifest, o.applications ?? []).map((e, i) => [e, o.applications![i]!] as const),
  )
  const stacks = ordered([...o.manifest.stacks, ...apps.keys()], true)
  const phases = [...new Set(stacks.map((s) => s.phase))]
  const byName = new Map(o.manifest.stacks.map((s) => [s.name, s]))
  const actions: PlanAction[] = []
  for (const s of stacks) {
    const app = apps.get(s)
    const id = stackId(s)
    const current = o.deployed[id]
    const laterPhase = phases[phases.indexOf(s.phase) - 1]
    const dependsOn = new Set(
      laterPhase === undefined ? [] : stacks.filter((p) => p.phase === laterPhase).map(stackId),
    )
    // A stack is deleted after every stack that reads its outputs (they may hold references to it).
    for (const c of o.manifest.stacks)
      for (const v of Object.values(c.parameters))
        if (typeof v !== 'string' && byName.get(v.fromStack) === s && c !== s) dependsOn.add(stackId(c))
    const base = {
      id,
      stack: s.name,
      account: s.account,
      region: s.region,
      phase: s.phase,
      template: s.template,
      dependsOn: [...dependsOn],
      parameters: s.parameters,
      capabilities: s.capabilities,
      ...(s.tags ? { tags: s.tags } : {}),
      ...(app
        ? {
            application: { stage: app.stage, pipelineStack: app.pipelineStack },
            ...(app.roleArn ? { roleArn: app.roleArn } : {}),
          }
        : {}),
    }
    const what = app
      ? `application stack of stage ${app.stage}, deleted${app.roleArn ? ` with its deployment role ${app.roleArn}` : ' with the role it was deployed with'}`
      : ''
    if (!current || current.status === 'DELETE_COMPLETE') {
      actions.push({
        ...base,
        action: 'no-change',
        reason: app
          ? `the application stack of stage ${app.stage} does not exist`
          : 'the stack does not exist',
      })
      continue
    }
    const text = current.template ?? o.templates?.[s.template]
    const notes = text !== undefined ? destroyNotes(text, s.template) : []
    actions.push({
      ...base,
      action: isInProgress(current.status) && !current.status.startsWith('DELETE') ? 'blocked' : 'delete',
      reason: isInProgress(current.status)
        ? `the stack is ${current.status}: wait for the operation to finish, then destroy again`
        : `${app ? `${what}; ` : ''}the stack is ${current.status}`,
      currentStatus: current.status,
      notes,
    })
  }
  return { kind: 'destroy', pipeline: o.manifest.pipeline, phases, actions }
}

/**
 * What deleting a stack does beyond deleting resources, read from its template:
 * - a versioned S3 bucket is deleted by CloudFormation only when empty
 *   (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-s3-bucket.html),
 *   so destroy empties it first — unless its DeletionPolicy retains it;
 * - a KMS key is not deleted at once: CloudFormation schedules its deletion after
 *   `PendingWindowInDays` (7–30, default 30)
 *   (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-kms-key.html).
 */
export function destroyNotes(templateText: string, file: string): DestroyNote[] {
  let body: Record<string, unknown>
  try {
    body = parseTemplate(templateText, file).body
  } catch {
    return []
  }
  const notes: DestroyNote[] = []
  for (const [logicalId, raw] of Object.entries(asRecord(body.Resources))) {
    const r = asRecord(raw)
    const type = typeof r.Type === 'string' ? r.Type : ''
    const policy = typeof r.DeletionPolicy === 'string' ? r.DeletionPolicy : 'Delete'
    if (policy === 'Retain' || policy === 'RetainExceptOnCreate') {
      if (type === 'AWS::S3::Bucket' || type === 'AWS::KMS::Key')
        notes.push({ logicalId, kind: 'retained', resourceType: type })
      continue
    }
    if (type === 'AWS::S3::Bucket') notes.push({ logicalId, kind: 'empty-bucket', resourceType: type })
    if (type === 'AWS::KMS::Key') {
      const w = asRecord(r.Properties).PendingWindowInDays
      const days = typeof w === 'number' ? w : typeof w === 'string' && /^\d+$/.test(w) ? Number(w) : 30
      notes.push({ logicalId, kind: 'key-deletion', resourceType: type, pendingWindowInDays: days })
    }
  }
  return notes
}

const SYMBOL: Record<PlanActionKind, string> = {
  create: '+',
  update: '~',
  'no-change': '=',
  'replace-failed': '±',
  delete: '-',
  blocked: '!',
}

/** The plan as text lines for `--dry-run` (the CLI prints them; the library never does). */
export function formatPlan(plan: Plan): string[] {
  const lines: string[] = []
  const count = (k: PlanActionKind) => plan.actions.filter((a) => a.action === k).length
  lines.push(
    `${plan.kind === 'deploy' ? 'Deploy' : 'Destroy'} plan for "${plan.pipeline}": ${plan.actions.length} stack(s) in ${plan.phases.length} phase(s)`,
  )
  const width = Math.max(...plan.actions.map((a) => a.stack.length))
  for (const phase of plan.phases) {
    const inPhase = plan.actions.filter((x) => x.phase === phase)
    lines.push(
      inPhase.length && inPhase.every((a) => a.application)
        ? `phase ${phase}: application stacks the pipeline deployed`
        : `phase ${phase}`,
    )
    for (const a of plan.actions.filter((x) => x.phase === phase)) {
      lines.push(
        `  ${SYMBOL[a.action]} ${a.action.padEnd(14)} ${a.stack.padEnd(width)}  ${a.account} ${a.region}  ${a.reason}`,
      )
      for (const n of a.notes ?? []) {
        if (n.kind === 'empty-bucket')
          lines.push(`      empties bucket ${n.logicalId} (every version and delete marker) first`)
        if (n.kind === 'key-deletion')
          lines.push(
            `      KMS key ${n.logicalId}: deletion scheduled, ${n.pendingWindowInDays} day waiting period`,
          )
        if (n.kind === 'retained')
          lines.push(`      ${n.resourceType} ${n.logicalId} is retained (DeletionPolicy)`)
      }
    }
  }
  const summary = (['create', 'update', 'no-change', 'replace-failed', 'delete', 'blocked'] as const)
    .filter((k) => count(k) > 0)
    .map((k) => `${count(k)} ${k}`)
  lines.push(summary.join(', '))
  return lines
}
