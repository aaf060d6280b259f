/**
 * Stack policies: which update actions may touch which resources during a stack update.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/protect-stack-resources.html
 *
 * "When you set a stack policy, all resources in the stack are protected by default": an action
 * is allowed only when a statement allows it and none denies it. Actions `Update:Modify`,
 * `Update:Replace`, `Update:Delete`, `Update:*`; resources `LogicalResourceId/<id>` (wildcards,
 * `NotResource`); the `ResourceType` condition with `StringEquals` / `StringLike`.
 */
import { compileGlob } from '../../../iam/index.js'
import { validationError } from './errors.js'

/** The update actions a stack policy governs. */
export type UpdateAction = 'Update:Modify' | 'Update:Replace' | 'Update:Delete'

function asList(v: unknown): string[] {
  const items: unknown[] = v === undefined ? [] : Array.isArray(v) ? v : [v]
  return items.map((x) => (typeof x === 'string' ? x : JSON.stringify(x)))
}

// The IAM engine's matcher: linear, never backtracking, so a hostile stack policy cannot stall the gateway.
function glob(pattern: string, value: string): boolean {
  return compileGlob(pattern)(value)
}

/** Parses a stack policy body, or throws the ValidationError of the call that set it. */
export function parseStackPolicy(text: string): Record<string, unknown> {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    throw validationError('Error validating stack policy: Invalid stack policy: the policy is not valid JSON')
  }
  if (doc === null || typeof doc !== 'object' || !Array.isArray((doc as { Statement?: unknown }).Statement)) {
    throw validationError(
      'Error validating stack policy: Invalid stack policy: a policy needs a Statement list',
    )
  }
  return doc as Record<string, unknown>
}

/**
 * Whether the policy allows an update action on a resource; undefined policy allows everything.
 * Returns the denial sentence (ours: AWS's exact text is not documented) or undefined.
 */
export function stackPolicyDenial(
  policy: string | undefined,
  action: UpdateAction,
  logicalId: string,
  type: string,
): string | undefined {
  if (policy === undefined) return undefined
  const doc = parseStackPolicy(policy)
  let allowed = false
  for (const st of doc.Statement as Record<string, unknown>[]) {
    const actions = st.Action !== undefined ? asList(st.Action) : undefined
    const notActions = st.NotAction !== undefined ? asList(st.NotAction) : undefined
    const actionMatch = actions
      ? actions.some((a) => glob(a, action))
      : notActions
        ? !notActions.some((a) => glob(a, action))
        : false
    if (!actionMatch) continue
    const target = `LogicalResourceId/${logicalId}`
    const resMatch =
      st.Resource !== undefined
        ? asList(st.Resource).some((r) => glob(r, target))
        : st.NotResource !== undefined
          ? !asList(st.NotResource).some((r) => glob(r, target))
          : false
    if (!resMatch) continue
    const cond = st.Condition as Record<string, Record<string, unknown>> | undefined
    if (cond) {
      const eq = cond.StringEquals?.ResourceType
      const like = cond.StringLike?.ResourceType
      if (eq !== undefined && !asList(eq).includes(type)) continue
      if (like !== undefined && !asList(like).some((p) => glob(p, type))) continue
    }
    if (st.Effect === 'Deny')
      return `Action denied by stack policy: Statement denies [${action}] on resource [LogicalResourceId/${logicalId}]`
    if (st.Effect === 'Allow') allowed = true
  }
  return allowed
    ? undefined
    : `Action denied by stack policy: no statement allows [${action}] on resource [LogicalResourceId/${logicalId}]`
}
