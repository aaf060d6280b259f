/**
 * The rules that span several fields — duplicates, partitions, conflicting options, names that
 * would be too long once the prefix is applied. They run on the plain data even when the schema
 * found problems elsewhere, so one run reports everything; each rule therefore checks the shape
 * of what it reads and skips values the schema already reports.
 */
import { awsManagedPolicyArn, parseArn, partitionOf } from '../iam/arn.js'
import { QUOTAS } from '../iam/aws-facts.js'
import type { Locator, PathProblem } from './messages.js'
import { formatPath } from './paths.js'
import type { PathSegment } from './paths.js'

/** Stage names the pipeline uses itself: a deploy stage of the same name would collide. */
const RESERVED_STAGE_NAMES = ['Source', 'Build']

/**
 * Capabilities that let a template create IAM resources, which the default deployment role
 * (PowerUserAccess) may not: https://docs.aws.amazon.com/aws-managed-policy/latest/reference/PowerUserAccess.html
 */
const IAM_CAPABILITIES = ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM']

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)
const list = (v: unknown): readonly unknown[] => (Array.isArray(v) ? v : [])
/** The schema's rule for names (`SimpleName`), so rules here skip what it reports. */
const isName = (v: string): boolean => v.length <= 40 && /^[A-Za-z][A-Za-z0-9-]*$/.test(v)

/** Runs every cross-field rule on the (unvalidated) data. */
export function semanticProblems(data: unknown, loc: Locator): PathProblem[] {
  if (!isObj(data)) return []
  const out: PathProblem[] = []
  const where = (path: readonly PathSegment[]): string => {
    const line = loc.locate(path)?.line
    return line ? `${formatPath(path)}, line ${line}` : formatPath(path)
  }
  const ci = isObj(data.ci) ? data.ci : {}
  const ciRegion = str(ci.region)
  const ciPartition = ciRegion ? partitionOf(ciRegion) : undefined
  const stages = list(data.stages)

  const samePartition = (path: readonly PathSegment[], what: string, partition: string | undefined): void => {
    if (ciPartition && partition && partition !== ciPartition)
      out.push({
        path,
        message: `${what} is in the ${partition} partition, but the CI region ${ciRegion} is in ${ciPartition}; a pipeline cannot work across partitions (roles, keys and buckets do not cross them)`,
      })
  }
  const arnPartition = (arn: unknown): string | undefined =>
    typeof arn === 'string' ? parseArn(arn)?.partition : undefined

  // Source.
  const source = isObj(data.source) ? data.source : {}
  samePartition(['source', 'connectionArn'], 'the connection', arnPartition(source.connectionArn))

  // Build.
  if (isObj(data.build)) codeBuildRules(data.build, ['build'], out)

  // Stages.
  const stageNames = new Map<string, number>()
  /** `account/region/stack` → the stage index that deploys it first. */
  const stacks = new Map<string, number>()
  /** account → the first region a target uses it in, for the reference-names rule. */
  const accountRegions = new Map<string, { region: string; stage: number; path: PathSegment[] }>()
  const naming = isObj(data.naming) ? data.naming : {}
  const referenceNames = naming.referenceNames === true

  stages.forEach((stage, i) => {
    if (!isObj(stage)) return
    const at: PathSegment[] = ['stages', i]
    const name = str(stage.name)
    if (name !== undefined) {
      const reserved = RESERVED_STAGE_NAMES.find((r) => r.toLowerCase() === name.toLowerCase())
      const first = stageNames.get(name.toLowerCase())
      if (reserved)
        out.push({
          path: [...at, 'name'],
          message: `"${name}" is the name of the pipeline's own ${reserved} stage; choose another stage name`,
        })
      else if (first !== undefined)
        out.push({
          path: [...at, 'name'],
          message: `duplicate stage name "${name}": stages[${first}] has it already (${where(['stages', first, 'name'])}); stage names are unique, ignoring case`,
        })
      else stageNames.set(name.toLowerCase(), i)
    }

    const stack = str(stage.stack)
    const prefix = str(naming.prefix) ?? str(data.name)
    if (stack !== undefined && prefix !== undefined && isOwnStackName(prefix, stack))
      out.push({
        path: [...at, 'stack'],
        message: `"${stack}" is a name crosspipe gives its own stacks (${prefix}-pipeline, ${prefix}-source, ${prefix}-ci-base…, ${prefix}-target-…); choose another stack name`,
      })
    const seenTargets = new Map<string, number>()
    list(stage.targets).forEach((target, j) => {
      if (!isObj(target)) return
      const tpath: PathSegment[] = [...at, 'targets', j]
      const account = str(target.account)
      const region = str(target.region) ?? ciRegion
      if (target.region !== undefined && typeof target.region === 'string')
        samePartition([...tpath, 'region'], `region ${target.region}`, partitionOf(target.region))
      if (account === undefined || region === undefined || !/^\d{12}$/.test(account)) return
      const key = `${account}/${region}`
      const dup = seenTargets.get(key)
      if (dup !== undefined) {
        out.push({
          path: tpath,
          message: `this stage already deploys to account ${account} in ${region} (targets[${dup}]); list each account and region once`,
        })
        return
      }
      seenTargets.set(key, j)
      if (stack !== undefined) {
        const first = stacks.get(`${key}/${stack}`)
        if (first !== undefined && first !== i)
          out.push({
            path: [...at, 'stack'],
            message: `stage "${str((stages[first] as Obj).name) ?? first}" (${where(['stages', first, 'stack'])}) already deploys stack "${stack}" to account ${account} in ${region}; the stages would overwrite each other's stack, so give this one another stack name`,
          })
        else stacks.set(`${key}/${stack}`, i)
      }
      if (referenceNames && partitionOf(region)) {
        // The reference names are fixed per account (IAM is global), and the deployment role
        // carries one stage's permissions: so one stage, in one region, per account.
        const seen = accountRegions.get(account)
        if (seen && (seen.region !== region || seen.stage !== i))
          out.push({
            path: tpath,
            message: `with naming.referenceNames the roles in account ${account} have the fixed names cross-account-role and cloudformation-role, so one stage in one region may deploy there, and ${formatPath(seen.path)} (${seen.region}) does already; remove referenceNames to get per-stage, per-region role names`,
          })
        else if (!seen) accountRegions.set(account, { region, stage: i, path: tpath })
      }
    })

    const approval = stage.approval
    if (isObj(approval))
      samePartition([...at, 'approval', 'notify'], 'the SNS topic', arnPartition(approval.notify))
    // The change sets are prepared before the approval, in the approval's pipeline stage; a stage
    // split into parts (over 50 actions) would prepare some of them after it.
    const perTarget = isObj(stage.tests) ? 3 : 2
    if (isObj(approval) && approval.review === true && list(stage.targets).length * perTarget + 1 > 50)
      out.push({
        path: [...at, 'approval', 'review'],
        message: `review prepares every target's change set before the approval in one pipeline stage (at most 50 actions), but this stage needs ${list(stage.targets).length * perTarget + 1}; split the targets over several stages or remove review`,
      })
    if (isObj(stage.tests)) codeBuildRules(stage.tests, [...at, 'tests'], out)

    const perms = stage.deployPermissions
    if (isObj(perms)) {
      const managed = list(perms.managedPolicies)
      const statements = list(perms.statements)
      if (managed.length === 0 && statements.length === 0 && perms.fromTemplate === undefined)
        out.push({
          path: [...at, 'deployPermissions'],
          message:
            'deployPermissions grants nothing, so CloudFormation could not create any resource; list managedPolicies or statements, set fromTemplate: true to derive them from the template, or remove deployPermissions for the default (PowerUserAccess)',
        })
      managed.forEach((arn, k) =>
        samePartition([...at, 'deployPermissions', 'managedPolicies', k], 'the policy', arnPartition(arn)),
      )
      statements.forEach((s, k) => statementRules(s, [...at, 'deployPermissions', 'statements', k], out))
    } else if (perms === undefined) {
      const powerUser = ciPartition
        ? awsManagedPolicyArn(ciPartition, 'PowerUserAccess')
        : 'the PowerUserAccess policy ARN'
      const caps = list(stage.capabilities).filter((c): c is string => IAM_CAPABILITIES.includes(c as string))
      if (caps.length > 0)
        out.push({
          path: [...at, 'capabilities'],
          message: `${caps.join(' and ')} lets the template create IAM resources, but the default deployment role (PowerUserAccess) cannot; add deployPermissions with the IAM actions the template needs (or list ${powerUser} there to keep the default knowingly)`,
        })
    }
  })

  roleNameRules(data, naming, stages, ciRegion, out)
  return out
}

/** `buildspec` and `commands` are two ways to say what CodeBuild runs: one at most. */
function codeBuildRules(cb: Obj, at: PathSegment[], out: PathProblem[]): void {
  if (cb.buildspec !== undefined && cb.commands !== undefined)
    out.push({
      path: [...at, 'commands'],
      message:
        'give either buildspec (a file in the source) or commands (inline), not both: CodeBuild runs one build specification',
    })
  if (cb.buildspec !== undefined && cb.outputFiles !== undefined)
    out.push({
      path: [...at, 'outputFiles'],
      message:
        'outputFiles applies to inline commands only; with a buildspec, list the output files in its artifacts section',
    })
}

/** The element pairs IAM requires of an identity-policy statement (exactly one of each). */
function statementRules(s: unknown, at: PathSegment[], out: PathProblem[]): void {
  if (!isObj(s)) return
  const pairs: [string, string][] = [
    ['Action', 'NotAction'],
    ['Resource', 'NotResource'],
  ]
  for (const [a, b] of pairs) {
    if (s[a] === undefined && s[b] === undefined)
      out.push({ path: at, message: `the statement needs ${a} (or ${b})` })
    else if (s[a] !== undefined && s[b] !== undefined)
      out.push({ path: [...at, b], message: `a statement has ${a} or ${b}, not both` })
  }
}

/**
 * Whether `stack` is, or could be, one of the stacks crosspipe deploys itself. This mirrors the
 * stack names of `src/synth/names.ts` (which the model may not import): `<prefix>-pipeline`,
 * `<prefix>-source`, `<prefix>-ci-base[-<region>]` and `<prefix>-target-<account>-<region>`.
 * An application stack of the same name in the same account and region would be overwritten by
 * (or overwrite) crosspipe's, so the names are reserved everywhere — simpler to explain than
 * "only in the account where it collides". Compared ignoring case, as stack names are.
 */
export function isOwnStackName(prefix: string, stack: string): boolean {
  const s = stack.toLowerCase()
  const p = prefix.toLowerCase()
  return (
    s === `${p}-pipeline` ||
    s === `${p}-source` ||
    s === `${p}-ci-base` ||
    s.startsWith(`${p}-ci-base-`) ||
    s.startsWith(`${p}-target-`)
  )
}

/** The longest IAM role name AWS accepts: https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html */
export const MAX_ROLE_NAME_LENGTH = QUOTAS.iam.roleNameLength

/**
 * The longest role name synth gives for a stage's target region, and what it is for. This mirrors
 * the role names of `src/synth/names.ts` (which the model may not import): `<prefix>-cross-account-<region>`,
 * `<prefix>-<stage>-cfn-<region>` and, with tests, `<prefix>-<stage>-test-<region>`; with
 * referenceNames the first two are fixed. synth shortens an overlong name with a hash, so it never
 * produces an invalid one; the loader refuses such names anyway, because a hashed role name is
 * unreadable in CloudTrail and the console.
 */
export function longestRoleName(
  naming: { readonly prefix: string; readonly referenceNames: boolean },
  stage: string,
  region: string,
  hasTests: boolean,
): { readonly name: string; readonly role: string; readonly dependsOnStage: boolean } {
  const candidates = [
    ...(naming.referenceNames
      ? []
      : [
          {
            name: `${naming.prefix}-cross-account-${region}`,
            role: 'cross-account role',
            dependsOnStage: false,
          },
          { name: `${naming.prefix}-${stage}-cfn-${region}`, role: 'deployment role', dependsOnStage: true },
        ]),
    ...(hasTests
      ? [{ name: `${naming.prefix}-${stage}-test-${region}`, role: 'tests role', dependsOnStage: true }]
      : []),
  ]
  let best = { name: '', role: '', dependsOnStage: false }
  for (const c of candidates) if (c.name.length > best.name.length) best = c
  return best
}

/**
 * Every role name the definition leads to must fit IAM's limit. A name too long because of the
 * prefix alone is reported once, at the field that sets the prefix; otherwise at the stage name.
 */
function roleNameRules(
  data: Obj,
  naming: Obj,
  stages: readonly unknown[],
  ciRegion: string | undefined,
  out: PathProblem[],
): void {
  const prefix = str(naming.prefix) ?? str(data.name)
  // A name the schema refuses is reported there; its role names would only repeat the news.
  if (!prefix || !isName(prefix)) return
  const prefixField: PathSegment[] = str(naming.prefix) !== undefined ? ['naming', 'prefix'] : ['name']
  const opts = { prefix, referenceNames: naming.referenceNames === true }
  let prefixReported = false
  stages.forEach((stage, i) => {
    if (!isObj(stage)) return
    const stageName = str(stage.name)
    if (stageName === undefined || !isName(stageName)) return
    let worst: ReturnType<typeof longestRoleName> | undefined
    let worstRegion = ''
    for (const t of list(stage.targets)) {
      const region = (isObj(t) ? str(t.region) : undefined) ?? ciRegion
      if (!region) continue
      const n = longestRoleName(opts, stageName, region, isObj(stage.tests))
      if (!worst || n.name.length > worst.name.length) {
        worst = n
        worstRegion = region
      }
    }
    if (!worst || worst.name.length <= MAX_ROLE_NAME_LENGTH) return
    const over = worst.name.length - MAX_ROLE_NAME_LENGTH
    const what = `the ${worst.role} "${worst.name}" (in ${worstRegion}) would have ${worst.name.length} characters, but IAM allows ${MAX_ROLE_NAME_LENGTH}`
    if (!worst.dependsOnStage) {
      if (prefixReported) return
      prefixReported = true
      out.push({
        path: prefixField,
        message: `${what}; ${prefixField[0] === 'name' ? 'set naming.prefix to a shorter prefix' : 'shorten naming.prefix'} (at most ${prefix.length - over} characters)`,
      })
    } else
      out.push({
        path: ['stages', i, 'name'],
        message: `${what}; shorten the stage name by ${over} character${over === 1 ? '' : 's'}, or ${
          prefixField[0] === 'name' ? 'set a naming.prefix that is' : 'shorten naming.prefix by'
        } ${over} character${over === 1 ? '' : 's'}${prefixField[0] === 'name' ? ' shorter than the pipeline name' : ''}`,
      })
  })
}
