/**
 * Review at the approval (`approval: { review: true }`): the pipeline has created the change set
 * of every target of the stage before its approval; this module reads them back, resource by
 * resource, for `crosspipe approve` and `crosspipe status`, and discards them when the approval
 * is rejected.
 *
 * What a change set says: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-changesets-view.html
 * (Action Add / Modify / Remove, Replacement True / False / Conditional, Details per property
 * with RequiresRecreation Never / Conditionally / Always and Evaluation Static / Dynamic).
 * A change set with nothing to change ends FAILED with a status reason saying so
 * (using-cfn-updating-stacks-changesets-create.html).
 */
import type { AccountAccess, CloudFormationApi, ResourceChange } from '../aws/index.js'
import { CrosspipeError } from '../model/errors.js'
import type { ResolvedPipeline, ResolvedStage } from '../model/schema.js'
import { Names } from '../synth/names.js'

/** One changing property of a resource. */
export interface ReviewProperty {
  readonly name: string
  /** `Never`, `Conditionally` or `Always`: whether changing it replaces the resource. */
  readonly requiresRecreation?: string
  /** `Dynamic` when the new value is known only when the change set runs. */
  readonly evaluation?: string
  readonly changeSource?: string
  readonly causingEntity?: string
}

/** One resource change, as the approver sees it. */
export interface ReviewChange {
  /** `Add`, `Modify`, `Remove`, `Import` or `Dynamic`. */
  readonly action: string
  readonly logicalId: string
  readonly physicalId?: string
  readonly resourceType: string
  /** `True`, `False` or `Conditional` for a `Modify`. */
  readonly replacement?: string
  readonly properties: readonly ReviewProperty[]
  /**
   * Why the approver should look twice: `iam` for identities and permissions (IAM resources,
   * resource policies, policy-valued properties), `network` for security groups and their rules.
   */
  readonly attention?: 'iam' | 'network'
}

/** The prepared change set of one target. */
export interface ReviewTarget {
  readonly account: string
  readonly region: string
  readonly stack: string
  readonly changeSet: string
  /**
   * `ready` (changes to review), `empty` (nothing changes), `missing` (no such change set: the
   * prepare action has not run or failed), `failed` (CloudFormation could not create it),
   * `pending` (still being created).
   */
  readonly status: 'ready' | 'empty' | 'missing' | 'failed' | 'pending'
  readonly statusReason?: string
  /** The stack's status; `REVIEW_IN_PROGRESS` for a stack the change set would create. */
  readonly stackStatus?: string
  readonly changes: readonly ReviewChange[]
  readonly counts: {
    readonly add: number
    readonly modify: number
    readonly remove: number
    readonly replace: number
    readonly iam: number
    readonly network: number
  }
}

/** Every prepared change set of a stage. */
export interface StageReview {
  readonly pipeline: string
  readonly stage: string
  readonly changeSet: string
  readonly targets: readonly ReviewTarget[]
  /** True when no target has anything to change. */
  readonly nothingToReview: boolean
}

/** What {@link reviewStage} needs. */
export interface ReviewOptions {
  readonly access: AccountAccess
  readonly pipeline: ResolvedPipeline
  /** The stage name (the pipeline stage of a definition stage has the same name). */
  readonly stage: string
}

/** The definition stage named `name`, or a usage error listing the stages. */
export function stageOf(p: ResolvedPipeline, name: string): ResolvedStage {
  const s = p.stages.find((x) => x.name === name)
  if (!s)
    throw new CrosspipeError(
      'usage',
      `pipeline ${p.name} has no stage "${name}"; its stages are ${p.stages.map((x) => x.name).join(', ')}.`,
    )
  return s
}

/** Whether a stage reviews its change sets at the approval. */
export function reviews(s: ResolvedStage): boolean {
  return typeof s.approval === 'object' && s.approval.review === true
}

// Types and properties that grant or move permissions. Resource policies are listed by type;
// other policy-valued properties by name. https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_identity-vs-resource.html
const IAM_TYPES =
  /^AWS::IAM::|^AWS::(S3::BucketPolicy|SQS::QueuePolicy|SNS::TopicPolicy|Lambda::Permission|KMS::Key|SecretsManager::ResourcePolicy)$/
const IAM_PROPERTIES = new Set([
  'Policies',
  'PolicyDocument',
  'AssumeRolePolicyDocument',
  'ManagedPolicyArns',
  'PermissionsBoundary',
  'KeyPolicy',
  'Role',
  'RoleArn',
  'ServiceRole',
  'ExecutionRoleArn',
  'TaskRoleArn',
])
const NETWORK_TYPES =
  /^AWS::EC2::(SecurityGroup|SecurityGroupIngress|SecurityGroupEgress|NetworkAcl|NetworkAclEntry)$/

function attentionOf(c: ResourceChange): ReviewChange['attention'] {
  if (NETWORK_TYPES.test(c.resourceType)) return 'network'
  if (IAM_TYPES.test(c.resourceType)) return 'iam'
  if ((c.details ?? []).some((d) => IAM_PROPERTIES.has(d.name))) return 'iam'
  if (c.action === 'Add' && /Role$/.test(c.resourceType)) return 'iam'
  return undefined
}

const EMPTY = /didn't contain changes|No updates are to be performed|submitted information didn't contain/i
const NOT_FOUND = /ChangeSetNotFound|does not exist/i

async function targetReview(
  cfn: CloudFormationApi,
  where: { account: string; region: string },
  stack: string,
  changeSet: string,
): Promise<ReviewTarget> {
  const base = { ...where, stack, changeSet }
  const zero = { add: 0, modify: 0, remove: 0, replace: 0, iam: 0, network: 0 }
  const s = await cfn.describeStack(stack)
  if (!s) return { ...base, status: 'missing', changes: [], counts: zero }
  let cs
  try {
    cs = await cfn.describeChangeSet(stack, changeSet)
  } catch (e) {
    if (e instanceof Error && (NOT_FOUND.test(e.name) || NOT_FOUND.test(e.message)))
      return { ...base, status: 'missing', stackStatus: s.status, changes: [], counts: zero }
    throw e
  }
  const changes: ReviewChange[] = cs.changes.map((c) => {
    const attention = attentionOf(c)
    return {
      action: c.action,
      logicalId: c.logicalId,
      ...(c.physicalId ? { physicalId: c.physicalId } : {}),
      resourceType: c.resourceType,
      ...(c.replacement ? { replacement: c.replacement } : {}),
      properties: (c.details ?? []).map((d) => ({ ...d })),
      ...(attention ? { attention } : {}),
    }
  })
  const counts = {
    add: changes.filter((c) => c.action === 'Add').length,
    modify: changes.filter((c) => c.action === 'Modify').length,
    remove: changes.filter((c) => c.action === 'Remove').length,
    replace: changes.filter((c) => c.action === 'Modify' && c.replacement && c.replacement !== 'False')
      .length,
    iam: changes.filter((c) => c.attention === 'iam').length,
    network: changes.filter((c) => c.attention === 'network').length,
  }
  const reason = cs.statusReason !== undefined ? { statusReason: cs.statusReason } : {}
  const status: ReviewTarget['status'] =
    cs.status === 'CREATE_COMPLETE'
      ? changes.length
        ? 'ready'
        : 'empty'
      : cs.status === 'FAILED'
        ? EMPTY.test(cs.statusReason ?? '')
          ? 'empty'
          : 'failed'
        : 'pending'
  return { ...base, status, ...reason, stackStatus: s.status, changes, counts }
}

/**
 * Reads the prepared change set of every target of a stage, in the target accounts, with the
 * access the CLI was given (a profile per account, an assumed role, or the sandbox).
 *
 * @throws CrosspipeError `usage` when the stage does not exist.
 */
export async function reviewStage(o: ReviewOptions): Promise<StageReview> {
  const s = stageOf(o.pipeline, o.stage)
  const names = new Names(o.pipeline)
  const changeSet = names.changeSet(s.name)
  const targets = await Promise.all(
    s.targets.map((t) => targetReview(o.access.cloudFormation(t), t, s.stack, changeSet)),
  )
  return {
    pipeline: names.pipeline,
    stage: s.name,
    changeSet,
    targets,
    nothingToReview: targets.every((t) => t.status === 'empty'),
  }
}

/** One line for the approval's summary: what the approver approved or rejected. */
export function reviewSummary(r: StageReview): string {
  const parts = r.targets.map((t) => {
    const where = `${t.account} ${t.region}`
    if (t.status !== 'ready') return `${where}: ${t.status === 'empty' ? 'no changes' : t.status}`
    const c = t.counts
    const bits = [
      c.add ? `${c.add} add` : '',
      c.modify
        ? `${c.modify} modify${c.replace ? ` (${c.replace} replacement${c.replace > 1 ? 's' : ''})` : ''}`
        : '',
      c.remove ? `${c.remove} remove` : '',
      c.iam ? `${c.iam} IAM` : '',
      c.network ? `${c.network} security group` : '',
    ].filter(Boolean)
    return `${where}: ${bits.join(', ')}`
  })
  return parts.join('; ').slice(0, 512)
}

/** What {@link discardChangeSets} did per target. */
export interface DiscardResult {
  readonly account: string
  readonly region: string
  readonly stack: string
  /** `deleted` the change set; `stack-deleted` also the empty stack it would have created. */
  readonly outcome: 'deleted' | 'stack-deleted' | 'none'
}

/**
 * After a rejection: deletes the prepared change sets, so nothing can execute them later and
 * the stacks stay as they were. A stack that exists only for the change set (status
 * `REVIEW_IN_PROGRESS`: created by a CREATE change set, never executed) holds no resources and
 * is deleted too, so a rejected first deploy leaves nothing behind.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DeleteChangeSet.html
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateChangeSet.html (ChangeSetType CREATE)
 */
export async function discardChangeSets(access: AccountAccess, r: StageReview): Promise<DiscardResult[]> {
  return Promise.all(
    r.targets.map(async (t): Promise<DiscardResult> => {
      const where = { account: t.account, region: t.region, stack: t.stack }
      if (t.status === 'missing') return { ...where, outcome: 'none' }
      const cfn = access.cloudFormation(t)
      await cfn.deleteChangeSet(t.stack, t.changeSet)
      if (t.stackStatus === 'REVIEW_IN_PROGRESS') {
        await cfn.deleteStack(t.stack)
        return { ...where, outcome: 'stack-deleted' }
      }
      return { ...where, outcome: 'deleted' }
    }),
  )
}
