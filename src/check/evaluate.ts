/**
 * Evaluation of the required calls with the IAM engine (`src/iam`): every decision is the
 * engine's; this module only gathers the policies that apply to each call, and, for a denied
 * call, asks the engine which side (the caller's identity policy or the resource's policy)
 * lacks the grant, to write the fix.
 */
import YAML from 'yaml'
import {
  accountRootArn,
  formatArn,
  parseArn,
  simulate,
  compilePolicy,
  endpointHost,
  PolicyValidationError,
  PrincipalFormatError,
  SimulateInputError,
} from '../iam/index.js'
import type {
  CompiledPolicy,
  PolicyDocument,
  PolicyKind,
  SimulateRequest,
  SimulateResult,
} from '../iam/index.js'
import { CrosspipeError } from '../model/errors.js'
import type { CallSpec } from './catalogue.js'
import { DEFAULT_PARTITION } from './model.js'
import type { AccountsModel, Origin, RoleModel } from './model.js'
import type { CheckCall, CheckFinding } from './types.js'
import { EXISTING } from './existing.js'
import { withPatches } from './fixes.js'
import type { Edit, Patch } from './fixes.js'

const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v)
/** Whether a trust statement names a principal of the same kind (an AWS account or role, or a service). */
function sameKind(stmt: Record<string, unknown>, kind: 'role' | 'service'): boolean {
  const p = stmt.Principal
  if (!isObj(p)) return kind === 'role' && p === '*'
  return kind === 'role' ? p.AWS !== undefined : p.Service !== undefined
}

/** A call with its engine result. */
export interface EvaluatedCall {
  readonly spec: CallSpec
  readonly result: SimulateResult
  readonly call: CheckCall
}

/** Compiles a template's policy once, turning a malformed policy into a located bad-input error. */
export function compiled(
  doc: PolicyDocument,
  kind: PolicyKind,
  name: string,
  origin?: Origin,
  locate?: (o: Origin) => { line: number; column: number } | undefined,
): CompiledPolicy {
  try {
    return compilePolicy(doc, { kind, name })
  } catch (e) {
    if (e instanceof PolicyValidationError) {
      const file = origin?.file ?? 'template'
      const loc = origin && locate ? locate(origin) : undefined
      throw new CrosspipeError('invalid-policy', `${file}: ${name} is not a valid policy: ${e.message}`, [
        { location: { file, ...loc, path: origin?.path.join('.') }, message: e.message },
      ])
    }
    throw e
  }
}

/** The documented key policy of the AWS managed `aws/s3` key (AWS KMS Developer Guide, AWS managed keys). */
function awsS3KeyPolicy(partition: string, account: string, region: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'Allow access through S3 for all principals in the account that are authorized to use S3',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
        Resource: '*',
        Condition: {
          StringEquals: {
            'kms:CallerAccount': account,
            'kms:ViaService': endpointHost('s3', region),
          },
        },
      },
      {
        Sid: 'Allow direct access to key metadata to the account',
        Effect: 'Allow',
        Principal: { AWS: accountRootArn(partition, account) },
        Action: ['kms:Describe*', 'kms:Get*', 'kms:List*'],
        Resource: '*',
      },
    ],
  }
}

/** Evaluates calls against the model. */
export class Evaluator {
  readonly #m: AccountsModel
  readonly #locate: (o: Origin) => { line: number; column: number } | undefined
  readonly #symbolize: (s: string) => string
  readonly #identity = new Map<
    string,
    { policies: CompiledPolicy[]; names: string[]; boundary?: CompiledPolicy }
  >()

  constructor(
    model: AccountsModel,
    locate: (o: Origin) => { line: number; column: number } | undefined,
    symbolize: (s: string) => string,
  ) {
    this.#m = model
    this.#locate = locate
    this.#symbolize = symbolize
  }

  #identityOf(role: RoleModel): { policies: CompiledPolicy[]; names: string[]; boundary?: CompiledPolicy } {
    let r = this.#identity.get(role.arn)
    if (!r) {
      r = {
        policies: role.policies.map((p) => compiled(p.document, 'identity', p.name, p.origin, this.#locate)),
        names: role.policies.map((p) => p.name),
        boundary: role.boundary
          ? compiled(
              role.boundary,
              'boundary',
              `permissions boundary of role ${role.name}`,
              role.origin,
              this.#locate,
            )
          : undefined,
      }
      this.#identity.set(role.arn, r)
    }
    return r
  }

  /**
   * Whether a role's identity-based policies (and boundary) allow an action on a resource of its
   * own account, as the engine decides it with no resource policy.
   */
  identityAllows(role: RoleModel, action: string, resource: string): boolean {
    const ident = this.#identityOf(role)
    const a = parseArn(role.arn)
    return (
      simulate({
        principal: formatArn({
          partition: a?.partition ?? DEFAULT_PARTITION,
          service: 'sts',
          account: role.account,
          resource: `assumed-role/${role.name}/crosspipe-check`,
        }),
        action,
        resource,
        resourceAccount: role.account,
        context: { 'aws:PrincipalArn': role.arn },
        identityPolicies: ident.policies,
        permissionBoundary: ident.boundary,
      }).decision === 'Allowed'
    )
  }

  /** The resource-based policy of a call's resource, and its name; undefined when it has none. */
  resourcePolicy(c: CallSpec): { policy: CompiledPolicy; name: string; origin?: Origin } | undefined {
    const m = this.#m
    switch (c.resourceKind) {
      case 'role': {
        const r = m.roles.get(c.resource)
        return r
          ? {
              policy: compiled(r.trust, 'trust', `trust policy of role ${r.name}`, r.origin, this.#locate),
              name: `trust policy of role ${r.name}`,
              origin: {
                ...r.origin,
                path: [
                  ...r.origin.path,
                  ...(r.origin.stack === EXISTING
                    ? ['trustPolicy']
                    : ['Properties', 'AssumeRolePolicyDocument']),
                ],
              },
            }
          : undefined
      }
      case 'key': {
        const k = m.keys.get(c.resource)
        if (k)
          return {
            policy: compiled(
              k.policy,
              'resource',
              `key policy of ${k.origin.logicalId} (${k.origin.stack})`,
              k.origin,
              this.#locate,
            ),
            name: `key policy of ${k.origin.logicalId} (${k.origin.stack})`,
            origin: {
              ...k.origin,
              path: [
                ...k.origin.path,
                ...(k.origin.stack === EXISTING ? ['policy'] : ['Properties', 'KeyPolicy']),
              ],
            },
          }
        const a = parseArn(c.resource)
        if (a && a.resource === 'key/aws-managed-s3')
          return {
            policy: compilePolicy(awsS3KeyPolicy(a.partition, a.account, a.region), {
              kind: 'resource',
              name: `key policy of the AWS managed key aws/s3 of ${a.account}`,
            }),
            name: `key policy of the AWS managed key aws/s3 of account ${a.account}`,
          }
        return undefined
      }
      case 'bucket': {
        const name = (parseArn(c.resource)?.resource ?? '').split('/')[0] ?? ''
        const b = m.buckets.get(name)
        if (b?.policy)
          return {
            policy: compiled(
              b.policy,
              'resource',
              `bucket policy of ${b.origin.logicalId}`,
              b.policyOrigin,
              this.#locate,
            ),
            name: `bucket policy of ${b.origin.logicalId} (${b.origin.stack})`,
            origin: b.policyOrigin,
          }
        return undefined
      }
      case 'topic': {
        const t = m.topics.get(c.resource)
        if (t?.policy)
          return {
            policy: compiled(
              t.policy,
              'resource',
              `topic policy of ${t.origin.logicalId}`,
              t.origin,
              this.#locate,
            ),
            name: `topic policy of ${t.origin.logicalId}`,
            origin: t.origin,
          }
        return undefined
      }
      default:
        return undefined
    }
  }

  readonly #rpCache = new Map<string, { policy: CompiledPolicy; name: string; origin?: Origin } | undefined>()

  /** {@link resourcePolicy}, memoized per resource (thousands of calls share a few policies). */
  #resourcePolicyOf(c: CallSpec): { policy: CompiledPolicy; name: string; origin?: Origin } | undefined {
    const k = `${c.resourceKind} ${c.resource}`
    if (this.#rpCache.has(k)) return this.#rpCache.get(k)
    const r = this.resourcePolicy(c)
    this.#rpCache.set(k, r)
    return r
  }

  #request(
    c: CallSpec,
    override?: { identity?: CompiledPolicy[]; resource?: CompiledPolicy | null },
  ): SimulateRequest {
    const own = this.#resourcePolicyOf(c)
    const rp = override?.resource === null ? undefined : (override?.resource ?? own?.policy)
    if (c.principal.kind === 'service')
      return {
        principal: c.principal.name,
        action: c.operation,
        resource: c.resource,
        resourceAccount: c.resourceAccount,
        context: c.context,
        resourcePolicy: rp,
      }
    const role = this.#m.roles.get(c.principal.arn)
    const a = parseArn(c.principal.arn)
    const name = (a?.resource ?? '').split('/').pop() ?? ''
    const session = formatArn({
      partition: a?.partition ?? DEFAULT_PARTITION,
      service: 'sts',
      account: a?.account ?? '',
      resource: `assumed-role/${name}/crosspipe-check`,
    })
    const ident = role ? this.#identityOf(role) : { policies: [], names: [], boundary: undefined }
    return {
      principal: session,
      action: c.operation,
      resource: c.resource,
      resourceAccount: c.resourceAccount,
      // A session ARN carries no role path; aws:PrincipalArn is the role's full ARN.
      context: { 'aws:PrincipalArn': c.principal.arn, ...c.context },
      identityPolicies: override?.identity ?? ident.policies,
      permissionBoundary: override?.identity ? undefined : ident.boundary,
      resourcePolicy: rp,
      policyNames: {
        identity: override?.identity ? undefined : ident.names,
        resource: own?.name,
      },
    }
  }

  /** Engine answers by request (see {@link evaluate}). */
  readonly #results = new Map<string, SimulateResult>()

  /** Evaluates one call with the IAM engine. */
  evaluate(c: CallSpec): EvaluatedCall {
    // The same request recurs across actions (a target's action role is assumed by each of its
    // actions): the engine's answer depends only on the request, so it is asked once.
    const key = `${c.principal.kind === 'service' ? c.principal.name : c.principal.arn}\n${c.operation}\n${c.resource}\n${c.resourceAccount}\n${c.resourceKind}\n${JSON.stringify(c.context)}`
    let result = this.#results.get(key)
    if (!result) {
      if (c.principal.kind === 'role' && !/^role\//.test(parseArn(c.principal.arn)?.resource ?? ''))
        this.#badInput(
          c,
          `"${c.principal.arn}" is not an IAM role ARN (arn:<partition>:iam::<account>:role/<name>)`,
        )
      try {
        result = simulate(this.#request(c))
      } catch (e) {
        // The engine rejects a request it cannot evaluate (a principal or role that is not an
        // ARN): that is bad input in the template, not a denial.
        if (!(e instanceof SimulateInputError || e instanceof PrincipalFormatError)) throw e
        this.#badInput(c, e.message)
      }
      this.#results.set(key, result)
    }
    const reasons = [...result.reasons]
    if (c.principal.kind === 'role' && !this.#m.roles.has(c.principal.arn))
      reasons.push(
        `role ${c.principal.arn} is not created by any stack of this manifest, so it has no policies here`,
      )
    if (c.resourceKind === 'key' && !this.#resourcePolicyOf(c))
      reasons.push(`no stack of this manifest creates key ${c.resource}`)
    if (c.resourceKind === 'role' && !this.#m.roles.has(c.resource))
      reasons.push(`role ${c.resource} is not created by any stack of this manifest`)
    if (result.denialReason) reasons.push(`AWS would answer AccessDenied ${result.denialReason}`)
    const sym = this.#symbolize
    return {
      spec: c,
      result,
      call: {
        stage: c.stage,
        action: c.action,
        principal: c.principal.kind === 'service' ? c.principal.name : sym(c.principal.arn),
        operation: c.operation,
        resource: sym(c.resource),
        decision: result.decision,
        reasons: reasons.map(sym),
      },
    }
  }

  #badInput(c: CallSpec, why: string): never {
    const o = c.at
    const l = o ? this.#locate(o) : undefined
    const what = `${c.stage} / ${c.action}: cannot evaluate ${c.operation} by ${c.principal.kind === 'service' ? c.principal.name : c.principal.arn || '(no role)'} on ${c.resource || '(no resource)'}`
    throw new CrosspipeError('invalid-template', `${o?.file ?? 'template'}: ${what}: ${why}`, [
      {
        location: { file: o?.file ?? 'template', ...l, path: o?.path.join('.') },
        message: `${what}: ${why}`,
      },
    ])
  }

  /** The `call-denied` finding of a denied call, with the statement(s) that would allow it. */
  deniedFinding(e: EvaluatedCall, pipelineOrigin: Origin): CheckFinding {
    const c = e.spec
    const sym = this.#symbolize
    const role = c.principal.kind === 'role' ? this.#m.roles.get(c.principal.arn) : undefined
    const rp = this.#resourcePolicyOf(c)
    const who = c.principal.kind === 'service' ? c.principal.name : sym(c.principal.arn)
    const base = `${c.stage} / ${c.action}: ${who} cannot ${c.operation} on ${sym(c.resource)} (${c.purpose}; ${c.doc})`
    if (e.result.decision === 'ExplicitlyDenied') {
      const deny = e.result.matched.find((s) => s.effect === 'Deny')
      const target =
        deny?.policyType === 'resource-based policy'
          ? rp?.origin
          : role?.policies.find((p) => p.name === deny?.policyName)?.origin
      const o = target ?? role?.origin ?? pipelineOrigin
      return {
        rule: 'call-denied',
        severity: 'error',
        stack: o.stack,
        logicalId: o.logicalId,
        message: `${base}: explicitly denied by ${deny?.policyName ?? deny?.policyType ?? 'a Deny statement'}${deny?.sid ? ` (Sid ${deny.sid})` : ''}. Narrow that Deny statement so it does not match this call.`,
        fix: null,
        location: this.#location(o),
      }
    }
    // Which side lacks the grant? Ask the engine twice: once with a resource policy that defers to
    // the caller's account (so only identity policies decide), once with an identity policy that
    // allows exactly this call (so only the resource policy decides).
    const callerAccount = c.principal.kind === 'role' ? (parseArn(c.principal.arn)?.account ?? '') : ''
    const partition =
      parseArn(c.resource)?.partition ||
      parseArn(c.principal.kind === 'role' ? c.principal.arn : '')?.partition ||
      DEFAULT_PARTITION
    let identityOk = true
    if (c.principal.kind === 'role') {
      const deferring =
        c.resourceKind === 'none'
          ? null
          : compilePolicy(
              {
                Version: '2012-10-17',
                Statement: [
                  {
                    Effect: 'Allow',
                    Principal: { AWS: accountRootArn(partition, callerAccount) },
                    Action: c.operation,
                    ...(c.resourceKind === 'role' ? {} : { Resource: '*' }),
                  },
                ],
              },
              {
                kind: c.resourceKind === 'role' ? 'trust' : 'resource',
                name: 'a resource policy that trusts the caller account',
              },
            )
      identityOk = simulate(this.#request(c, { resource: deferring })).decision === 'Allowed'
    }
    let resourceOk = true
    if (c.resourceKind !== 'none') {
      const allowThis = compilePolicy(
        {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: c.operation, Resource: c.resource }],
        },
        { kind: 'identity', name: 'an identity policy that allows this call' },
      )
      resourceOk = simulate(this.#request(c, { identity: [allowThis] })).decision === 'Allowed'
    }
    const parts: string[] = []
    const fixes: string[] = []
    const identityEdits: Edit[] = []
    const resourceEdits: Edit[][] = []
    let replaced: string[] = []
    let target: Origin | undefined
    if (!identityOk) {
      const where = role?.policies.find((p) => p.origin)?.origin
      target = where ?? role?.origin
      parts.push(
        role
          ? `no identity-based policy of role ${role.name} allows it`
          : `role ${sym(c.principal.kind === 'role' ? c.principal.arn : '')} is not created by any stack of this manifest`,
      )
      const raw: Record<string, unknown> = {
        Effect: 'Allow',
        Action: c.operation,
        Resource: c.resource.replace(/\{[a-z-]+\}/g, '*'),
      }
      if (c.operation === 'iam:PassRole')
        raw.Condition = {
          StringEquals: { 'iam:PassedToService': String(c.context['iam:PassedToService'] ?? '') },
        }
      const shown = { ...raw, Resource: sym(String(raw.Resource)) }
      if (where) {
        identityEdits.push({
          stack: where.stack,
          path: [...where.path, 'Statement'],
          op: 'append',
          value: raw,
        })
        fixes.push(`# ${where.file}: ${where.path.join('.')}.Statement: add\n${YAML.stringify([shown])}`)
      } else if (role) {
        const existing = role.origin.stack === EXISTING
        const doc = { Version: '2012-10-17', Statement: [raw] }
        identityEdits.push({
          stack: role.origin.stack,
          path: [...role.origin.path, ...(existing ? ['policies'] : ['Properties', 'Policies'])],
          op: 'append',
          value: existing ? doc : { PolicyName: 'pipeline-calls', PolicyDocument: doc },
        })
        const shownDoc = { Version: '2012-10-17', Statement: [shown] }
        fixes.push(
          `# ${role.origin.file}: ${[...role.origin.path, ...(existing ? ['policies'] : ['Properties', 'Policies'])].join('.')}: add\n${YAML.stringify([existing ? shownDoc : { PolicyName: 'pipeline-calls', PolicyDocument: shownDoc }])}`,
        )
      }
    }
    if (!resourceOk) {
      const o = rp?.origin ?? this.#resourceOrigin(c)
      target ??= o
      parts.push(rp ? `the ${rp.name} does not allow it` : `the resource has no policy that allows it`)
      const stmt: Record<string, unknown> = { Effect: 'Allow' }
      if (c.principal.kind === 'service') stmt.Principal = { Service: c.principal.name }
      else stmt.Principal = { AWS: accountRootArn(partition, callerAccount) }
      stmt.Action = c.operation
      if (c.resourceKind === 'key') stmt.Resource = '*'
      else if (c.resourceKind === 'bucket') stmt.Resource = c.resource.replace(/\/\{object\}$/, '/*')
      else if (c.resourceKind === 'topic') stmt.Resource = c.resource
      // Naming the account with an aws:PrincipalArn condition, not the role itself, keeps the policy
      // valid before the role exists and after it is re-created (IAM User Guide, "AWS JSON policy
      // elements: Principal", role principals).
      if (c.principal.kind === 'role') stmt.Condition = { ArnEquals: { 'aws:PrincipalArn': c.principal.arn } }
      const shown = JSON.parse(sym(JSON.stringify(stmt))) as Record<string, unknown>
      const path = o ? [...o.path] : []
      if (rp?.origin) {
        // A trust statement for this action that names another principal is replaced, not left
        // in place beside the new one: the wrong principal would keep its access.
        const doc = this.#resourceDocument(c)
        const wrong =
          c.resourceKind === 'role'
            ? (Array.isArray(doc?.Statement) ? doc.Statement : doc?.Statement ? [doc.Statement] : [])
                .map((x, i) => [x, i] as const)
                .filter(([x]) => isObj(x) && x.Effect === 'Allow' && sameKind(x, c.principal.kind))
            : []
        for (const [, i] of wrong)
          resourceEdits.push([
            { stack: rp.origin.stack, path: [...path, 'Statement', i], op: 'set', value: stmt },
          ])
        resourceEdits.push([
          { stack: rp.origin.stack, path: [...path, 'Statement'], op: 'append', value: stmt },
        ])
        fixes.push(`# ${rp.origin.file}: ${path.join('.')}.Statement: add\n${YAML.stringify([shown])}`)
        replaced = wrong.map(
          ([, i]) =>
            `# ${rp.origin!.file}: ${path.join('.')}.Statement.${i}: replace with\n${YAML.stringify(shown)}`,
        )
      } else {
        fixes.push(`# the resource policy of ${sym(c.resource)}: add\n${YAML.stringify([shown])}`)
      }
    }
    if (identityOk && resourceOk) parts.push(e.result.denialReason ?? 'the policies do not allow it together')
    const o = target ?? role?.origin ?? pipelineOrigin
    const fixText = fixes.length ? fixes.join('\n') : null
    // Candidates: each way of fixing the resource side (replace a wrong statement, else add one),
    // with the identity side's edit.
    const patches: Patch[] = []
    if (!resourceOk && resourceEdits.length)
      resourceEdits.forEach((edits, i) =>
        patches.push({
          edits: [...identityEdits, ...edits],
          fix:
            i < replaced.length ? [...fixes.slice(0, -1), replaced[i]!].join('\n') : (fixText ?? undefined),
        }),
      )
    else if (resourceOk && identityEdits.length) patches.push({ edits: identityEdits })
    return withPatches(
      {
        rule: 'call-denied',
        severity: 'error',
        stack: o.stack,
        logicalId: o.logicalId,
        message: `${base}: ${parts.join(', and ')}.`,
        fix: fixText,
        location: this.#location(o),
      },
      patches,
    )
  }

  /** The resource policy document of a call's resource, as resolved. */
  #resourceDocument(c: CallSpec): PolicyDocument | undefined {
    if (c.resourceKind === 'role') return this.#m.roles.get(c.resource)?.trust
    if (c.resourceKind === 'key') return this.#m.keys.get(c.resource)?.policy
    if (c.resourceKind === 'bucket')
      return this.#m.buckets.get((parseArn(c.resource)?.resource ?? '').split('/')[0] ?? '')?.policy
    if (c.resourceKind === 'topic') return this.#m.topics.get(c.resource)?.policy
    return undefined
  }

  #resourceOrigin(c: CallSpec): Origin | undefined {
    if (c.resourceKind === 'role') return this.#m.roles.get(c.resource)?.origin
    if (c.resourceKind === 'key') return this.#m.keys.get(c.resource)?.origin
    if (c.resourceKind === 'bucket')
      return this.#m.buckets.get((parseArn(c.resource)?.resource ?? '').split('/')[0] ?? '')?.origin
    if (c.resourceKind === 'topic') return this.#m.topics.get(c.resource)?.origin
    return undefined
  }

  #location(o: Origin): { file: string; line?: number; column?: number } {
    const l = this.#locate(o)
    return { file: o.file, ...l }
  }
}
