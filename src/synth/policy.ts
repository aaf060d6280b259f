/**
 * Policy documents as synth writes them, their size as AWS will measure it once CloudFormation has
 * resolved every `!Sub` and `!Ref`, and the packing of a role's statements into inline and managed
 * policies within the IAM quotas.
 *
 * IAM quotas (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html):
 * "Role policy size cannot exceed 10,240 characters" (aggregate of a role's inline policies),
 * "Managed policy size cannot exceed 6,144 characters", 10 managed policies per role (default),
 * and "IAM doesn't count white space when calculating the size of a policy".
 */
import { ALL_REGIONS, PARTITIONS } from '../iam/arn.js'
import { QUOTAS } from '../iam/aws-facts.js'
import { CrosspipeError } from '../model/errors.js'
import { sub, ref } from './cfn.js'
import type { CfnValue, TemplateBuilder } from './cfn.js'

/** The aggregate size of a role's inline policies. */
export const ROLE_INLINE_POLICY_MAX = QUOTAS.iam.roleInlinePolicies
/** The size of one managed policy. */
export const MANAGED_POLICY_MAX = QUOTAS.iam.managedPolicy
/** Managed policies attached to one role (the default quota). */
export const MANAGED_POLICIES_PER_ROLE = QUOTAS.iam.managedPoliciesPerRole

/** A policy statement in long form (values may be intrinsic functions). */
export interface Statement {
  readonly Sid?: string
  readonly Effect: 'Allow' | 'Deny'
  readonly Principal?: unknown
  readonly Action?: string | readonly string[]
  readonly NotAction?: string | readonly string[]
  readonly Resource?: CfnValue | readonly CfnValue[]
  readonly NotResource?: CfnValue | readonly CfnValue[]
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, unknown>>>>
}

/** An Allow statement; resources given as `!Sub` strings. */
export function allow(
  sid: string,
  actions: readonly string[],
  resources: readonly string[],
  condition?: Record<string, Record<string, unknown>>,
): Statement {
  const res = resources.map(sub)
  return {
    Sid: sid,
    Effect: 'Allow',
    Action: actions.length === 1 ? actions[0]! : [...actions],
    Resource: res.length === 1 ? res[0]! : res,
    ...(condition ? { Condition: condition } : {}),
  }
}

/** `{ Version, Statement }`. 2012-10-17 is the current policy language version. */
export function policyDocument(statements: readonly Statement[]): Record<string, unknown> {
  return { Version: '2012-10-17', Statement: statements }
}

const LONGEST_PARTITION = Math.max(...Object.keys(PARTITIONS).map((p) => p.length))
const LONGEST_REGION = Math.max(...ALL_REGIONS.map((r) => r.length))
const LONGEST_URL_SUFFIX = Math.max(...Object.values(PARTITIONS).map((p) => p.dnsSuffix.length))
/** A KMS key ARN: `arn:<partition>:kms:<region>:<account>:key/<36-character key id>`. */
export const KEY_ARN_MAX = 'arn::kms:::key/'.length + LONGEST_PARTITION + LONGEST_REGION + 12 + 36
/** An S3 bucket name: 63 characters at most. */
export const BUCKET_NAME_MAX = QUOTAS.s3.bucketNameLength

/**
 * The longest value a reference can resolve to, by name (parameters and pseudo parameters).
 * Anything unknown counts as 256 characters: sizes are upper bounds, so a policy that passes here
 * passes in AWS.
 */
export function referenceLength(name: string): number {
  if (name === 'AWS::Partition') return LONGEST_PARTITION
  if (name === 'AWS::Region') return LONGEST_REGION
  if (name === 'AWS::AccountId') return 12
  if (name === 'AWS::URLSuffix') return LONGEST_URL_SUFFIX
  if (name.startsWith('ArtifactBucket')) return BUCKET_NAME_MAX
  if (name.startsWith('ArtifactKeyArn')) return KEY_ARN_MAX
  return 256
}

// Characters JSON escapes: quote, backslash, control characters (and JS line separators).
// eslint-disable-next-line no-control-regex -- control characters are exactly what is matched
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u2028\u2029]/
const SUB_VARIABLE = /\$\{([^}!][^}]*)\}/g

/** JSON length of a string literal. */
function stringSize(s: string): number {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s).length : s.length + 2
}

/** JSON length of a `!Sub` string once resolved, each variable at its longest value. */
function subSize(s: string): number {
  let length = s.length
  for (const m of s.matchAll(SUB_VARIABLE)) length += referenceLength(m[1]!) - m[0].length
  return NEEDS_ESCAPE.test(s) ? length + JSON.stringify(s).length - s.length : length + 2
}

/**
 * The size of a policy document or template value as AWS will see it: the length of its compact
 * JSON once resolved (an upper bound: each reference at its longest value), white space excluded.
 * Computed by walking the value, without building the resolved copy: synth measures every policy
 * and action configuration value, so this runs tens of thousands of times for a large pipeline.
 */
export function resolvedSize(value: unknown): number {
  if (typeof value === 'string') return stringSize(value)
  if (typeof value === 'number' || typeof value === 'boolean') return String(value).length
  if (value === null) return 4
  if (Array.isArray(value)) {
    let total = 2 + Math.max(0, value.length - 1)
    for (const v of value) total += v === undefined ? 4 : resolvedSize(v)
    return total
  }
  if (typeof value === 'object') {
    const o = value as Record<string, unknown>
    const keys = Object.keys(o).filter((k) => o[k] !== undefined)
    if (keys.length === 1) {
      const k = keys[0]!
      const v = o[k]
      if (k === 'Fn::Sub' && typeof v === 'string') return subSize(v)
      if (k === 'Ref' && typeof v === 'string') return referenceLength(v) + 2
      if (k === 'Fn::GetAtt') return 256 + 2
    }
    let total = 2 + Math.max(0, keys.length - 1)
    for (const k of keys) total += stringSize(k) + 1 + resolvedSize(o[k])
    return total
  }
  return 0
}

/** Splits a statement whose Resource list is long into statements with fewer resources each. */
function splitStatement(s: Statement, max: number): Statement[] {
  if (!Array.isArray(s.Resource) || resolvedSize(s) <= max) return [s]
  const resources = s.Resource as readonly CfnValue[]
  // The statement with an empty list, plus each resource and a comma between two.
  const base = resolvedSize({ ...s, Resource: [] })
  const out: Statement[] = []
  let chunk: CfnValue[] = []
  let total = 0
  const flush = () => {
    if (chunk.length) {
      const part: Statement = { ...s, Resource: chunk }
      out.push(s.Sid ? { ...part, Sid: `${s.Sid}${out.length + 1}` } : part)
    }
    chunk = []
    total = 0
  }
  for (const r of resources) {
    const size = resolvedSize(r)
    if (chunk.length && base + total + size + chunk.length > max) flush()
    chunk.push(r)
    total += size
  }
  flush()
  return out
}

/** Options for {@link attachPolicies}. */
export interface AttachOptions {
  /** The template the role is in: overflow managed policies are added to it. */
  readonly template: TemplateBuilder
  /** Logical id of the role. */
  readonly roleId: string
  /** Stack name, for messages. */
  readonly stack: string
  /** The inline policy's name. */
  readonly policyName: string
  readonly statements: readonly Statement[]
}

/**
 * Returns the role's `Policies` property and adds `AWS::IAM::ManagedPolicy` resources for what does
 * not fit the 10,240-character inline quota (the pipeline role of a pipeline with many targets).
 * Returns the logical ids of the managed policies too: a resource that needs the role's full
 * permissions must depend on them. Throws `limit-exceeded` when even 10 managed policies would not
 * hold the statements.
 */
export function attachPolicies(o: AttachOptions): {
  Policies: Record<string, unknown>[]
  managed: string[]
} {
  // Statements cannot span policies; one that alone exceeds a managed policy is split by resource.
  const overhead = resolvedSize(policyDocument([]))
  const statements = o.statements.flatMap((s) => splitStatement(s, MANAGED_POLICY_MAX - overhead - 1))
  // A document's size is its overhead plus its statements and the commas between them: measure
  // each statement once instead of re-serializing the growing document.
  const sizes = statements.map((s) => resolvedSize(s))
  const docSize = (total: number, count: number) => overhead + total + Math.max(0, count - 1)
  const inline: Statement[] = []
  let inlineTotal = 0
  const managed: { statements: Statement[]; total: number }[] = []
  let spilled = false
  statements.forEach((s, i) => {
    const size = sizes[i]!
    if (!spilled && docSize(inlineTotal + size, inline.length + 1) <= ROLE_INLINE_POLICY_MAX) {
      inline.push(s)
      inlineTotal += size
      return
    }
    spilled = true
    const last = managed[managed.length - 1]
    if (last && docSize(last.total + size, last.statements.length + 1) <= MANAGED_POLICY_MAX) {
      last.statements.push(s)
      last.total += size
    } else managed.push({ statements: [s], total: size })
  })
  statements.forEach((_, i) => {
    if (docSize(sizes[i]!, 1) > MANAGED_POLICY_MAX) {
      throw new CrosspipeError(
        'limit-exceeded',
        `IAM managed policy size (6,144 characters): a statement of role ${o.roleId} in stack ${o.stack} measures ${sizes[i]} characters on its own; shorten it (fewer conditions or actions).`,
      )
    }
  })
  if (managed.length > MANAGED_POLICIES_PER_ROLE) {
    throw new CrosspipeError(
      'limit-exceeded',
      `IAM role policy size: role ${o.roleId} in stack ${o.stack} needs ${docSize(inlineTotal + managed.reduce((k, m) => k + m.total, 0), statements.length)} characters of policy, more than its 10,240-character inline quota plus ${MANAGED_POLICIES_PER_ROLE} managed policies of 6,144; split the pipeline (fewer targets per pipeline).`,
    )
  }
  const ids: string[] = []
  managed.forEach(({ statements: stmts }, i) => {
    const id = `${o.roleId}Policy${i + 1}`
    ids.push(id)
    o.template.resource(
      id,
      {
        Type: 'AWS::IAM::ManagedPolicy',
        Properties: {
          Description: `Part ${i + 1} of the permissions of ${o.roleId} that do not fit its inline policy (IAM role policy quota: 10,240 characters).`,
          Roles: [ref(o.roleId)],
          PolicyDocument: policyDocument(stmts),
        },
      },
      `${o.roleId}, continued: the inline policy quota is 10,240 characters per role.`,
    )
  })
  return {
    Policies: inline.length ? [{ PolicyName: o.policyName, PolicyDocument: policyDocument(inline) }] : [],
    managed: ids,
  }
}
