/**
 * Service rules: where a service departs from the general evaluation logic. `simulate` applies
 * them by looking at the action's service prefix and the resource; `serviceRuleFor` describes them
 * to the sandbox and to `crosspipe check` (which explain findings with `summary` and `docs`).
 */
import { parseArn, type Arn } from './arn.js'

/** How one service authorizes one action on one resource. */
export interface ServiceRule {
  /** A short identifier, stable for tests and JSON output. */
  readonly id: 'default' | 'kms-key-policy' | 'role-trust-policy' | 'pass-role' | 'get-caller-identity'
  /** The resource-based policy must allow, even within one account (KMS keys, role trust). */
  readonly resourcePolicyRequired: boolean
  /** Decided by identity-based policies only: a resource policy plays no part (iam:PassRole). */
  readonly identityOnly: boolean
  /** The resource must be in the caller's account. */
  readonly sameAccountOnly: boolean
  /** Allowed for any authenticated caller, whatever the policies say. */
  readonly alwaysAllowed: boolean
  /** What the resource-based policy is called for this resource, for messages. */
  readonly resourcePolicyName: string
  /** One sentence for humans. */
  readonly summary: string
  /** The AWS documentation page the rule comes from. */
  readonly docs: string
}

const DEFAULT: ServiceRule = {
  id: 'default',
  resourcePolicyRequired: false,
  identityOnly: false,
  sameAccountOnly: false,
  alwaysAllowed: false,
  resourcePolicyName: 'resource-based policy',
  summary:
    'Within one account an identity-based or a resource-based policy may allow; across accounts both the ' +
    "caller's identity-based policy and the resource's policy must allow.",
  docs: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html',
}

const KMS_KEY: ServiceRule = {
  ...DEFAULT,
  id: 'kms-key-policy',
  resourcePolicyRequired: true,
  resourcePolicyName: 'key policy',
  summary:
    'The key policy must allow. IAM policies count only where the key policy grants the account ' +
    '(the "Enable IAM policies" statement naming arn:<partition>:iam::<account>:root); across accounts ' +
    "the key policy and the caller's IAM policy must both allow.",
  docs: 'https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam',
}

const TRUST: ServiceRule = {
  ...DEFAULT,
  id: 'role-trust-policy',
  resourcePolicyRequired: true,
  resourcePolicyName: 'role trust policy',
  summary:
    "The role's trust policy is the resource-based policy of sts:AssumeRole and must allow, even within " +
    "one account. Naming the caller's account defers to the caller's identity-based policy, which must then " +
    'allow sts:AssumeRole too; across accounts both must allow.',
  docs: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_manage-assume.html',
}

const PASS_ROLE: ServiceRule = {
  ...DEFAULT,
  id: 'pass-role',
  identityOnly: true,
  sameAccountOnly: true,
  summary:
    'iam:PassRole is granted by identity-based policies only (a role trust policy does not grant it), and a ' +
    "role can be passed only within the caller's account.",
  docs: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html',
}

const CALLER_IDENTITY: ServiceRule = {
  ...DEFAULT,
  id: 'get-caller-identity',
  alwaysAllowed: true,
  summary: 'sts:GetCallerIdentity needs no permission and cannot be denied.',
  docs: 'https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html',
}

/** The sts actions whose resource is a role, authorized by the role's trust policy. */
const TRUST_ACTIONS = new Set([
  'sts:assumerole',
  'sts:assumerolewithsaml',
  'sts:assumerolewithwebidentity',
  'sts:tagsession',
  'sts:setsourceidentity',
  'sts:setcontext',
])

/**
 * The rule for an action (any case) on a resource ARN.
 * - KMS operations on a key: the key policy must allow.
 * - sts:AssumeRole (and its SAML / web identity forms and session tags) on a role: the trust policy must allow.
 * - iam:PassRole: identity-based policies only, same account only.
 * - sts:GetCallerIdentity: always allowed.
 * Everything else (S3 among it) follows the general logic; S3 ARNs carry no account, so the
 * caller supplies `resourceAccount`.
 */
export function serviceRuleFor(
  action: string,
  resource: string,
  parse: (arn: string) => Arn | undefined = parseArn,
): ServiceRule {
  const lower = action.toLowerCase()
  if (lower === 'sts:getcalleridentity') return CALLER_IDENTITY
  if (lower === 'iam:passrole') return PASS_ROLE
  if (lower.startsWith('kms:')) {
    const arn = parse(resource)
    if (arn?.service === 'kms' && arn.resource.startsWith('key/')) return KMS_KEY
    return DEFAULT
  }
  if (TRUST_ACTIONS.has(lower)) {
    const arn = parse(resource)
    if (arn?.service === 'iam' && arn.resource.startsWith('role/')) return TRUST
  }
  return DEFAULT
}
