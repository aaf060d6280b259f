/**
 * The structural rules (pitfalls that are not one call) and the privilege lints. Each rule id is
 * documented in RULES.md. Where a rule is about what a policy allows, it asks the IAM engine.
 */
import YAML from 'yaml'
import { accountRootArn, awsManagedPoliciesSource, parseArn, simulate, compilePolicy } from '../iam/index.js'
import type { CompiledPolicy, PolicyDocument } from '../iam/types.js'
import { QUOTAS } from '../iam/aws-facts.js'
import { CATALOGUE } from './catalogue.js'
import { compiled } from './evaluate.js'
import type { EvaluatedCall, Evaluator } from './evaluate.js'
import { EXISTING } from './existing.js'
import { buildModel, DEFAULT_PARTITION, findKey, keyArnOf } from './model.js'
import type {
  AccountsModel,
  BucketModel,
  DeclaredPolicy,
  KeyModel,
  Origin,
  PipelineModel,
  RoleModel,
} from './model.js'
import { isObject } from './resolve.js'
import type { ManifestResolver } from './resolve.js'
import type { CheckFinding, RuleId, Severity } from './types.js'
import { withPatches } from './fixes.js'
import { privilegeFindings } from './privilege.js'
import type { Edit, Patch } from './fixes.js'

/** What the rules get. */
export interface RuleContext {
  readonly model: AccountsModel
  readonly resolver: ManifestResolver
  readonly locate: (o: Origin) => { line: number; column: number } | undefined
  readonly symbolize: (s: string) => string
  readonly evaluator: Evaluator
  readonly calls?: readonly EvaluatedCall[]
}

/**
 * Limits, with their sources.
 * CodePipeline: https://docs.aws.amazon.com/codepipeline/latest/userguide/limits.html ("Maximum
 *   number of actions per stage: 50"; action configuration values: "Maximum length … 1,000
 *   characters", also the ActionConfigurationValue length constraint of the API reference,
 *   https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_ActionDeclaration.html).
 * IAM: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html (role inline
 *   policies, aggregate 10,240 characters; managed policy 6,144; trust policy 2,048 by default;
 *   whitespace not counted).
 * KMS key policy 32 KB: https://docs.aws.amazon.com/kms/latest/developerguide/resource-limits.html
 * S3 bucket policy 20 KB: https://docs.aws.amazon.com/AmazonS3/latest/userguide/BucketRestrictions.html
 */
export const LIMITS = {
  actionsPerStage: QUOTAS.codePipeline.actionsPerStage,
  actionConfigValue: QUOTAS.codePipeline.actionConfigValueLength,
  roleInlinePolicies: QUOTAS.iam.roleInlinePolicies,
  managedPolicy: QUOTAS.iam.managedPolicy,
  trustPolicy: QUOTAS.iam.trustPolicy,
  keyPolicy: QUOTAS.kms.keyPolicyBytes,
  bucketPolicy: QUOTAS.s3.bucketPolicyBytes,
} as const

const asArray = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v])
const strings = (v: unknown): string[] => asArray(v).filter((x): x is string => typeof x === 'string')
const statements = (doc: PolicyDocument): Record<string, unknown>[] => asArray(doc.Statement).filter(isObject)

export function finding(
  ctx: RuleContext,
  rule: RuleId,
  severity: Severity,
  o: Origin,
  message: string,
  fix: unknown,
  patches: readonly Patch[] = [],
): CheckFinding {
  const l = ctx.locate(o)
  const text = (f: unknown): string => ctx.symbolize(typeof f === 'string' ? f : YAML.stringify(f))
  const own = fix === null && !patches.length ? undefined : sharedAccount(ctx, o.stack)
  const forStack = (v: unknown, acct: string | undefined): unknown => (acct ? portable(v, acct) : v)
  return withPatches(
    {
      rule,
      severity,
      stack: o.stack,
      logicalId: o.logicalId,
      message: ctx.symbolize(message),
      fix: fix === null ? null : text(forStack(fix, own)),
      location: { file: o.file, ...l },
    },
    patches.map((p) => ({
      ...p,
      ...(p.fix === undefined ? {} : { fix: text(forStack(p.fix, own)) }),
      edits: p.edits.map((e) =>
        e.value === undefined ? e : { ...e, value: forStack(e.value, sharedAccount(ctx, e.stack)) },
      ),
    })),
  )
}

const SHARED = new WeakMap<ManifestResolver, ReadonlyMap<string, string | undefined>>()

/**
 * The account of a stack whose template other stacks deploy into other accounts (the same target
 * template in test and prod), else undefined. A fix written into such a template must hold in
 * every account it is deployed to, so the stack's own account is written as `${AWS::AccountId}`
 * (pseudo parameter, CloudFormation User Guide, "Pseudo parameters reference").
 */
function sharedAccount(ctx: RuleContext, stack: string): string | undefined {
  if (stack === EXISTING) return undefined
  let m = SHARED.get(ctx.resolver)
  if (!m) {
    const all = ctx.resolver.all()
    const accounts = new Map<unknown, Set<string>>()
    for (const s of all) {
      const set = accounts.get(s.template) ?? new Set<string>()
      set.add(s.account)
      accounts.set(s.template, set)
    }
    m = new Map(all.map((s) => [s.name, accounts.get(s.template)!.size > 1 ? s.account : undefined]))
    SHARED.set(ctx.resolver, m)
  }
  return m.get(stack)
}

/** A fix value with every ARN of `account` written as `Fn::Sub` with `${AWS::AccountId}`. */
function portable(v: unknown, account: string): unknown {
  if (typeof v === 'string')
    return v.startsWith('arn:') && v.includes(`:${account}:`) && !v.includes('${')
      ? { 'Fn::Sub': v.split(`:${account}:`).join(':${AWS::AccountId}:') }
      : v
  if (Array.isArray(v)) return v.map((x) => portable(x, account))
  if (isObject(v)) {
    if ('Fn::Sub' in v) return v
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, portable(x, account)]))
  }
  return v
}

/** A value of a stack's template as written (before resolution), by path. */
function rawAt(ctx: RuleContext, stack: string, path: readonly (string | number)[]): unknown {
  if (stack === EXISTING) return undefined
  let v: unknown = ctx.resolver.stack(stack).template.body
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined
    v = (v as Record<string | number, unknown>)[k]
  }
  return v
}

/** One edit as a patch whose printed fix is the finding's own. */
const edit = (stack: string, path: readonly (string | number)[], op: Edit['op'], value?: unknown): Patch => ({
  edits: [{ stack, path, op, value }],
})

const actionOrigin = (p: PipelineModel, path: readonly (string | number)[]): Origin => ({ ...p.origin, path })

/** The account an action's calls are made from (its role's, else the pipeline role's). */
function actionAccount(p: PipelineModel, roleArn: string | undefined): string {
  return parseArn(roleArn ?? p.roleArn ?? '')?.account || p.account
}

/** The pitfalls that are not one call. */
export function structuralFindings(ctx: RuleContext): CheckFinding[] {
  const out: CheckFinding[] = []
  const m = ctx.model
  for (const p of m.pipelines) {
    const crossAccount = p.stages.some((s) =>
      s.actions.some((a) => actionAccount(p, a.roleArn) !== p.account),
    )
    for (const store of p.stores) {
      const o = actionOrigin(p, store.path)
      const key = store.keyId ? findKey(m, store.keyId, p.account, store.region) : undefined
      const isKeyArn =
        store.keyId !== undefined && parseArn(store.keyId)?.resource.startsWith('key/') === true
      if (store.keyId === undefined && crossAccount)
        out.push(
          finding(
            ctx,
            'artifact-key-default',
            'error',
            o,
            `the artifact store of pipeline ${p.name} has no EncryptionKey, so artifacts are encrypted with the AWS managed key aws/s3 of account ${p.account}, which no other account can use: every cross-account artifact read fails. Use a customer managed key whose key policy grants the target accounts, named by its ARN.`,
            'EncryptionKey:\n  Id: !GetAtt ArtifactKey.Arn  # a customer managed key, by ARN (or the ARN passed as a parameter)\n  Type: KMS\n',
          ),
        )
      else if (store.keyId !== undefined && !isKeyArn && crossAccount) {
        // Reads are not affected (S3 decrypts with the key recorded in the object by its writer);
        // an action of another account that writes an artifact encrypts it with whatever that
        // account makes of the id or alias.
        const writers = p.stages.flatMap((s) =>
          s.actions
            .filter((a) => a.outputs.length > 0 && actionAccount(p, a.roleArn) !== p.account)
            .map((a) => `${s.name}/${a.name}`),
        )
        out.push(
          finding(
            ctx,
            'artifact-key-not-arn',
            writers.length ? 'error' : 'warning',
            o,
            `the artifact store of pipeline ${p.name} names its key as "${store.keyId}", not as a key ARN: actions that run in another account look a key id or alias up in their own account, where it does not exist (AWS::CodePipeline::Pipeline EncryptionKey: "For cross-account actions, you can only use the key ID or key ARN … specifying the key ID will use the key from the other account"). ${writers.length ? `Action ${writers.join(', ')} writes artifacts from another account and will encrypt them with the wrong key.` : 'No action of another account writes an artifact yet, so reads still work; the first one that does will encrypt with the wrong key.'}`,
            {
              EncryptionKey: {
                Id: key ? key.arn : keyArnOf(store.keyId, p.partition, p.account, store.region),
                Type: 'KMS',
              },
            },
            key
              ? [edit(p.origin.stack, [...store.path, 'EncryptionKey'], 'set', { Id: key.arn, Type: 'KMS' })]
              : [],
          ),
        )
      }
    }
    // CodeBuild encrypts its outputs with the project's key, not the pipeline's: it must be the
    // key of the artifact store of the action's region.
    for (const s of p.stages)
      for (const a of s.actions) {
        if (a.provider !== 'CodeBuild' || a.owner !== 'AWS' || a.outputs.length === 0) continue
        const store = p.stores.find((x) => x.region === a.region) ?? p.stores[0]
        if (store?.keyId === undefined) continue
        const storeKey =
          findKey(m, store.keyId, p.account, store.region)?.arn ??
          keyArnOf(store.keyId, p.partition, p.account, store.region)
        const acct = actionAccount(p, a.roleArn)
        const name = typeof a.configuration.ProjectName === 'string' ? a.configuration.ProjectName : ''
        const project = m.projects.get(`${acct}/${a.region}/${name}`)
        if (!project) continue
        const pk = project.encryptionKey
          ? (findKey(m, project.encryptionKey, project.account, project.region)?.arn ??
            keyArnOf(project.encryptionKey, p.partition, project.account, project.region))
          : undefined
        if (pk !== storeKey)
          out.push(
            finding(
              ctx,
              'codebuild-key-mismatch',
              'error',
              project.origin,
              `CodeBuild project ${name} encrypts its output artifacts with ${project.encryptionKey ? `key ${project.encryptionKey}` : 'the AWS managed key aws/s3 (it has no EncryptionKey)'}, not with the artifact store's key ${storeKey}: CodeBuild does not use the pipeline's key, so the actions after ${s.name}/${a.name} in other accounts cannot decrypt its output.`,
              { EncryptionKey: storeKey },
              [
                edit(
                  project.origin.stack,
                  [...project.origin.path, 'Properties', 'EncryptionKey'],
                  'set',
                  storeKey,
                ),
              ],
            ),
          )
      }
    // "A pipeline must contain at least two stages" (CodePipeline User Guide, "Pipeline
    // structure reference", https://docs.aws.amazon.com/codepipeline/latest/userguide/reference-pipeline-structure.html);
    // the most, 50, is reported for CDK apps (cdk/limits.ts).
    if (p.stages.length < 2)
      out.push(
        finding(
          ctx,
          'pipeline-stage-limit',
          'error',
          actionOrigin(p, ['Resources', p.origin.logicalId, 'Properties', 'Stages']),
          `pipeline ${p.name} has ${p.stages.length} stage${p.stages.length === 1 ? '' : 's'}; CodePipeline requires at least two (a source stage and a stage that uses its output), so creating it fails.`,
          null,
        ),
      )
    for (const s of p.stages) {
      if (s.actions.length > LIMITS.actionsPerStage)
        out.push(
          finding(
            ctx,
            'stage-action-limit',
            'error',
            actionOrigin(p, s.path),
            `stage ${s.name} of pipeline ${p.name} has ${s.actions.length} actions; CodePipeline allows at most ${LIMITS.actionsPerStage} per stage. Split it into several stages.`,
            null,
          ),
        )
      for (const a of s.actions) {
        for (const [k, v] of Object.entries(a.configuration)) {
          const text = typeof v === 'string' ? v : JSON.stringify(v)
          if (text.length > LIMITS.actionConfigValue)
            out.push(
              finding(
                ctx,
                'action-config-too-long',
                'error',
                actionOrigin(p, [...a.path, 'Configuration', k]),
                `the ${k} of action ${s.name}/${a.name} is ${text.length} characters; CodePipeline allows at most ${LIMITS.actionConfigValue} per configuration value. Move parameters into a template configuration file in the artifact (TemplateConfiguration).`,
                null,
              ),
            )
        }
        if (!CATALOGUE[`${a.category}/${a.owner}/${a.provider}`])
          out.push(
            finding(
              ctx,
              'action-not-catalogued',
              'warning',
              actionOrigin(p, a.path),
              `action ${s.name}/${a.name} is of type ${a.category}/${a.owner}/${a.provider}, whose calls crosspipe does not know: they were not checked.`,
              null,
            ),
          )
        if (a.provider === 'CloudFormation' && typeof a.configuration.RoleArn === 'string') {
          const deployAcct = parseArn(a.configuration.RoleArn)?.account
          const acct = actionAccount(p, a.roleArn)
          if (deployAcct && deployAcct !== acct) {
            // Either side may be the wrong one: the deployment role of the action's account, or an
            // action role in the deployment role's account. Both are tried; the one the engine
            // proves is printed.
            const fixedDeploy = a.configuration.RoleArn.replace(`:${deployAcct}:`, `:${acct}:`)
            const candidates: Patch[] = [
              {
                edits: [
                  {
                    stack: p.origin.stack,
                    path: [...a.path, 'Configuration', 'RoleArn'],
                    op: 'set',
                    value: fixedDeploy,
                  },
                ],
                fix: { Configuration: { RoleArn: fixedDeploy } },
              },
            ]
            if (a.roleArn) {
              // The same role name in the deployment role's account, and every action role the
              // pipeline already uses there (the action role may be a stray ARN of another setup,
              // whose name exists nowhere here); the engine keeps the one that proves best.
              const actionRoles = new Set([a.roleArn.replace(`:${acct}:`, `:${deployAcct}:`)])
              for (const st of p.stages)
                for (const x of st.actions)
                  if (x.roleArn && parseArn(x.roleArn)?.account === deployAcct) actionRoles.add(x.roleArn)
              for (const fixedAction of actionRoles)
                candidates.push({
                  edits: [
                    { stack: p.origin.stack, path: [...a.path, 'RoleArn'], op: 'set', value: fixedAction },
                  ],
                  fix: { RoleArn: fixedAction },
                })
            }
            out.push(
              finding(
                ctx,
                'passrole-cross-account',
                'error',
                actionOrigin(p, [...a.path, 'Configuration', 'RoleArn']),
                `action ${s.name}/${a.name} runs as a role of account ${acct} but hands CloudFormation the deployment role ${a.configuration.RoleArn} of account ${deployAcct}: a role cannot be passed to another account ("Cross-account pass role is not allowed"). The deployment role must be in the same account as the action role.`,
                { Configuration: { RoleArn: fixedDeploy } },
                candidates,
              ),
            )
          }
        }
      }
    }
  }
  for (const o of ctx.resolver.orderProblems) {
    const s = ctx.resolver.stack(o.stack)
    out.push(
      finding(
        ctx,
        'output-not-yet-available',
        'error',
        { stack: o.stack, logicalId: o.parameter, file: s.template.file, path: ['Parameters', o.parameter] },
        `${o.message}. Move ${o.stack} to a later phase than ${o.fromStack}.`,
        null,
      ),
    )
  }
  out.push(...notYetCreated(ctx))
  out.push(...policySizes(ctx))
  return out
}

/** The role and user ARNs a policy names as principals. */
function namedPrincipals(stmt: Record<string, unknown>): string[] {
  const p = stmt.Principal ?? stmt.NotPrincipal
  if (!isObject(p)) return []
  return strings(p.AWS).filter((x) => {
    const a = parseArn(x)
    return a?.service === 'iam' && (a.resource.startsWith('role/') || a.resource.startsWith('user/'))
  })
}

/**
 * A resource or trust policy that names a role or user that does not exist yet when the policy is
 * created fails with "Invalid principal in policy" (IAM User Guide, Principal element: "If the
 * principal … does not exist … the policy is invalid"; a role re-created later is no longer
 * matched either, as IAM stores its unique id).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-roles
 */
function notYetCreated(ctx: RuleContext): CheckFinding[] {
  const out: CheckFinding[] = []
  // A stack deployed more than once (a multi-pass deploy) creates a role in its first pass that
  // has it, and each pass's policies are created when that pass deploys: judge every pass.
  const earlier = ctx.resolver.earlierPasses()
  const created = new Map<string, number>()
  for (const s of earlier)
    for (const r of s.resources.values())
      if (r.type === 'AWS::IAM::Role') {
        const arn = s.attribute(r.logicalId, 'Arn')
        created.set(arn, Math.min(created.get(arn) ?? Infinity, s.phase))
      }
  const passes: {
    policies: readonly DeclaredPolicy[]
    phase: number
    body: Readonly<Record<string, unknown>>
  }[] = []
  for (const s of earlier)
    passes.push({ policies: buildModel([s]).policies, phase: s.phase, body: s.template.body })
  const byStack = new Map<string, DeclaredPolicy[]>()
  for (const pol of ctx.model.policies) {
    if (pol.origin.stack === EXISTING) continue
    byStack.set(pol.origin.stack, [...(byStack.get(pol.origin.stack) ?? []), pol])
  }
  for (const [name, policies] of byStack) {
    const here = ctx.resolver.stack(name)
    passes.push({ policies, phase: here.phase, body: here.template.body })
  }
  const seen = new Set<string>()
  for (const pass of passes)
    for (const pol of pass.policies) {
      if (pol.kind === 'identity' || pol.kind === 'managed') continue
      const list = Array.isArray(pol.document.Statement)
      statements(pol.document).forEach((stmt, si) => {
        const late: string[] = []
        const found: { arn: string; message: string }[] = []
        for (const arn of namedPrincipals(stmt)) {
          const role = ctx.model.roles.get(arn)
          if (!role) continue
          const rolePhase = Math.min(role.phase, created.get(arn) ?? Infinity)
          const sameStack = role.origin.stack === pol.origin.stack
          if (rolePhase < pass.phase) continue
          // Within one stack CloudFormation creates a resource after those it references (Ref,
          // Fn::GetAtt, Fn::Sub, DependsOn); a role named by a literal ARN has no such ordering.
          if (
            sameStack &&
            (role.origin.logicalId === pol.origin.logicalId ||
              dependsOn(pass.body, pol.origin.logicalId, role.origin.logicalId))
          )
            continue
          const key = `${pol.origin.stack}/${pol.origin.logicalId}/${arn}`
          if (seen.has(key)) continue
          seen.add(key)
          const when = sameStack
            ? `the same stack creates it, but nothing makes ${pol.origin.logicalId} wait for ${role.origin.logicalId} (no Ref, Fn::GetAtt or DependsOn)`
            : `stack ${role.origin.stack} creates it in phase ${rolePhase}${rolePhase === pass.phase ? ' (in parallel)' : ''}`
          late.push(arn)
          found.push({
            arn,
            message: `the ${pol.name} (stack ${pol.origin.stack}, phase ${pass.phase}) names ${arn} as a principal, but ${when}: creating the policy fails with "Invalid principal in policy". Name the account and narrow it with aws:PrincipalArn instead.`,
          })
        }
        if (!found.length) return
        // One rewrite of the statement for all its roles not created yet: each becomes its
        // account, and every role the statement names is kept by aws:PrincipalArn.
        const named = namedPrincipals(stmt)
        const principal = isObject(stmt.Principal) ? stmt.Principal : {}
        const root = (x: string): string =>
          accountRootArn(parseArn(x)?.partition ?? DEFAULT_PARTITION, parseArn(x)?.account ?? '')
        const resolvedAws = strings(principal.AWS)
        const aws = [...new Set(resolvedAws.map((x) => (late.includes(x) ? root(x) : x)))]
        // In the template, the principals that stay are kept as written (a Fn::GetAtt of a role
        // of the same stack is what makes CloudFormation create the policy after it).
        const stmtPath = [...pol.origin.path, 'Statement', ...(list ? [si] : [])]
        const rawAws = rawAt(ctx, pol.origin.stack, [...stmtPath, 'Principal', 'AWS'])
        const rawList: unknown[] = Array.isArray(rawAws)
          ? (rawAws as unknown[])
          : rawAws === undefined
            ? []
            : [rawAws]
        const keepRaw = rawList.length === resolvedAws.length
        const seenRoots = new Set<string>()
        const patchedAws = resolvedAws.flatMap((x, j) => {
          if (!late.includes(x)) return [keepRaw ? rawList[j] : x]
          const r = root(x)
          if (seenRoots.has(r) || (resolvedAws.includes(r) && !late.includes(r))) return []
          seenRoots.add(r)
          return [r]
        })
        const cond = isObject(stmt.Condition) ? stmt.Condition : {}
        const arnEquals = isObject(cond.ArnEquals) ? cond.ArnEquals : {}
        const newStmt = {
          ...stmt,
          Principal: { ...principal, AWS: aws.length === 1 ? aws[0] : aws },
          Condition: {
            ...cond,
            ArnEquals: {
              ...arnEquals,
              'aws:PrincipalArn': [...new Set([...strings(arnEquals['aws:PrincipalArn']), ...named])],
            },
          },
        }
        const patch: Patch = {
          edits: [
            {
              stack: pol.origin.stack,
              path: [...stmtPath, 'Principal', 'AWS'],
              op: 'set',
              value: patchedAws.length === 1 ? patchedAws[0] : patchedAws,
            },
            {
              stack: pol.origin.stack,
              path: [...stmtPath, 'Condition'],
              op: 'set',
              value: newStmt.Condition,
            },
          ],
        }
        for (const f of found)
          out.push(
            finding(
              ctx,
              'principal-not-yet-created',
              'error',
              pol.origin,
              f.message,
              { Principal: newStmt.Principal, Condition: newStmt.Condition },
              [patch],
            ),
          )
      })
    }
  return out
}

/**
 * Whether resource `from` of a template is created after resource `to`: it references it
 * (`Ref`, `Fn::GetAtt`, `${to}` or `${to.Attr}` in `Fn::Sub`) or lists it in `DependsOn`,
 * directly or through other resources.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-dependson.html
 */
export function dependsOn(body: Readonly<Record<string, unknown>>, from: string, to: string): boolean {
  const resources = isObject(body.Resources) ? body.Resources : {}
  const seen = new Set<string>()
  const stack = [from]
  while (stack.length) {
    const id = stack.pop()!
    if (seen.has(id)) continue
    seen.add(id)
    for (const d of directDependencies(resources[id], resources)) {
      if (d === to) return true
      stack.push(d)
    }
  }
  return false
}

function directDependencies(resource: unknown, resources: Record<string, unknown>): Set<string> {
  const out = new Set<string>()
  if (!isObject(resource)) return out
  for (const d of strings(resource.DependsOn)) out.add(d)
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk)
    if (!isObject(v)) return
    for (const [k, x] of Object.entries(v)) {
      if (k === 'Ref' && typeof x === 'string') out.add(x)
      else if (k === 'Fn::GetAtt') {
        const target: unknown = Array.isArray(x) ? x[0] : typeof x === 'string' ? x.split('.')[0] : undefined
        if (typeof target === 'string') out.add(target)
      } else if (k === 'Fn::Sub') {
        const text: unknown = Array.isArray(x) ? x[0] : x
        if (typeof text === 'string')
          for (const m of text.matchAll(/\$\{([A-Za-z0-9]+)(?:\.[^}]*)?\}/g)) out.add(m[1]!)
      }
      walk(x)
    }
  }
  walk(resource.Properties)
  for (const d of [...out]) if (!(d in resources)) out.delete(d)
  return out
}

function size(doc: PolicyDocument): number {
  return JSON.stringify(doc).length
}

function policySizes(ctx: RuleContext): CheckFinding[] {
  const out: CheckFinding[] = []
  const byRole = new Map<RoleModel, { total: number; policies: DeclaredPolicy[] }>()
  for (const pol of ctx.model.policies) {
    const n = size(pol.document)
    const check = (limit: number, what: string): void => {
      if (n > limit)
        out.push(
          finding(
            ctx,
            'policy-too-large',
            'error',
            pol.origin,
            `the ${pol.name} is ${n} characters (without whitespace); the ${what} limit is ${limit}. Split it or narrow it with wildcards in resource names.`,
            null,
          ),
        )
    }
    if (pol.kind === 'trust') check(LIMITS.trustPolicy, 'IAM trust policy')
    else if (pol.kind === 'managed') check(LIMITS.managedPolicy, 'IAM managed policy')
    else if (pol.kind === 'key') check(LIMITS.keyPolicy, 'KMS key policy')
    else if (pol.kind === 'bucket') check(LIMITS.bucketPolicy, 'S3 bucket policy')
    else if (pol.kind === 'identity')
      for (const r of pol.roles) {
        const e = byRole.get(r) ?? { total: 0, policies: [] }
        e.total += n
        e.policies.push(pol)
        byRole.set(r, e)
      }
  }
  for (const [role, e] of byRole)
    if (e.total > LIMITS.roleInlinePolicies)
      out.push(
        finding(
          ctx,
          'policy-too-large',
          'error',
          e.policies[0]!.origin,
          `the inline policies of role ${role.name} total ${e.total} characters (without whitespace); IAM allows ${LIMITS.roleInlinePolicies} per role. Move statements into a customer managed policy (AWS::IAM::ManagedPolicy) or split the role.`,
          null,
        ),
      )
  return out
}

/** Roles that a principal of another account may assume (per their trust policy). */
function crossAccountRoles(m: AccountsModel): Set<RoleModel> {
  const out = new Set<RoleModel>()
  for (const r of m.roles.values())
    for (const stmt of statements(r.trust)) {
      if (stmt.Effect !== 'Allow' || !isObject(stmt.Principal)) continue
      for (const p of strings(stmt.Principal.AWS)) {
        const acct = p === '*' ? '*' : /^\d{12}$/.test(p) ? p : parseArn(p)?.account
        if (acct && acct !== r.account) out.add(r)
      }
    }
  return out
}

/** Whether an action pattern is a service wildcard (`*`, `s3:*`). */
const isServiceWildcard = (a: string): boolean => a === '*' || /^[a-z0-9-]+:\*$/i.test(a)

/** Actions that read data, change deployments or escalate, and should name their resources. */
const SENSITIVE =
  /^(s3:(GetObject|PutObject|DeleteObject)|kms:(Decrypt|Encrypt|GenerateDataKey.*|ReEncrypt.*|CreateGrant)|cloudformation:(CreateStack|UpdateStack|DeleteStack|CreateChangeSet|ExecuteChangeSet)|sts:AssumeRole|codebuild:StartBuild|lambda:InvokeFunction|secretsmanager:GetSecretValue|ssm:GetParameters?|iam:(Create|Put|Attach|Update|Delete).*)$/i

/** Principals of other accounts in a resource policy statement. */
function otherAccountPrincipals(stmt: Record<string, unknown>, account: string): string[] {
  if (stmt.Principal === '*') return ['*']
  if (!isObject(stmt.Principal)) return []
  return strings(stmt.Principal.AWS).filter((p) => {
    const acct = p === '*' ? '*' : /^\d{12}$/.test(p) ? p : parseArn(p)?.account
    return acct !== undefined && acct !== account
  })
}

/** The privilege lints. */
export function lintFindings(ctx: RuleContext): CheckFinding[] {
  const out: CheckFinding[] = []
  const m = ctx.model
  const assumable = crossAccountRoles(m)
  for (const pol of m.policies) {
    const docStatements = statements(pol.document)
    // Policies are compiled when a call needs them; a statement without Resource in a policy that
    // no call reads (a key nothing uses) is still one IAM, KMS or S3 rejects when the stack is
    // created (MalformedPolicyDocument): compile it here to report it as any invalid policy.
    if (
      pol.kind !== 'trust' &&
      docStatements.some((x) => x.Resource === undefined && x.NotResource === undefined)
    )
      compiled(
        pol.document,
        pol.kind === 'identity' || pol.kind === 'managed' ? 'identity' : 'resource',
        pol.name,
        pol.origin,
        ctx.locate,
      )
    docStatements.forEach((stmt, i) => {
      if (stmt.Effect !== 'Allow') return
      const actions = strings(stmt.Action)
      const resources = strings(stmt.Resource)
      const o: Origin = { ...pol.origin, path: [...pol.origin.path, 'Statement', i] }
      const sid = typeof stmt.Sid === 'string' ? ` (Sid ${stmt.Sid})` : ''
      const wild = actions.filter(isServiceWildcard)
      const crossRoles = pol.roles.filter((r) => assumable.has(r))
      if (pol.kind === 'key' || pol.kind === 'bucket' || pol.kind === 'topic') {
        const others = otherAccountPrincipals(stmt, pol.account)
        if (others.length && (wild.length || stmt.NotAction !== undefined))
          out.push(
            finding(
              ctx,
              'wildcard-cross-account',
              'error',
              o,
              `statement ${i}${sid} of the ${pol.name} grants ${wild.join(', ') || 'NotAction'} to ${others.join(', ')} in another account. Grant only the actions the pipeline calls.`,
              ...narrowTo(ctx, pol, stmt, i, usedOnResource(ctx, pol, stmt)),
            ),
          )
      }
      if ((pol.kind === 'identity' || pol.kind === 'managed') && crossRoles.length) {
        const names = crossRoles.map((r) => r.name).join(', ')
        if (wild.length || stmt.NotAction !== undefined)
          out.push(
            finding(
              ctx,
              'wildcard-cross-account',
              'error',
              o,
              `statement ${i}${sid} of the ${pol.name} grants ${wild.join(', ') || 'NotAction'} to role ${names}, which another account can assume. Grant only the actions the pipeline calls.`,
              ...narrowTo(ctx, pol, stmt, i, usedBy(ctx, crossRoles, stmt)),
            ),
          )
        else if (resources.includes('*')) {
          const sensitive = actions.filter((a) => SENSITIVE.test(a) && a.toLowerCase() !== 'iam:passrole')
          if (sensitive.length)
            out.push(
              finding(
                ctx,
                'sensitive-action-any-resource',
                'warning',
                o,
                `statement ${i}${sid} of the ${pol.name} allows ${sensitive.join(', ')} on every resource ("*") to role ${names}, which another account can assume. Name the resources.`,
                null,
              ),
            )
        }
      }
      if (pol.kind === 'identity' || pol.kind === 'managed') {
        const passes = actions.some((a) => /^iam:(PassRole|Pass\*|\*)$/i.test(a))
        const cond = isObject(stmt.Condition) ? JSON.stringify(stmt.Condition) : ''
        if (
          passes &&
          resources.some((r) => r === '*' || /:role\/\*$/.test(r)) &&
          !/iam:PassedToService/i.test(cond)
        )
          out.push(
            finding(
              ctx,
              'passrole-unrestricted',
              'error',
              o,
              `statement ${i}${sid} of the ${pol.name} allows iam:PassRole of any role to any service: whoever holds it can hand a more privileged role to a service. Name the role and the service.`,
              ...passRoleFix(ctx, pol, stmt, i, actions),
            ),
          )
      }
      if (pol.kind === 'trust' && isObject(stmt.Principal) && stmt.Condition === undefined) {
        const accounts = strings(stmt.Principal.AWS).filter((p) => /^\d{12}$/.test(p) || /:root$/.test(p))
        if (accounts.length) {
          const acct = parseArn(accounts[0]!)?.account ?? accounts[0]!
          out.push(
            finding(
              ctx,
              'trust-unconditioned',
              'warning',
              o,
              `the ${pol.name} trusts the whole account ${accounts.join(', ')} without a condition: any role of that account whose own policy allows sts:AssumeRole can assume it. Narrow it with aws:PrincipalArn.`,
              ...trustFix(ctx, pol, i, acct),
            ),
          )
        }
      }
    })
  }
  for (const r of m.roles.values())
    for (const arn of r.unknownManaged)
      out.push(
        finding(
          ctx,
          'managed-policy-unknown',
          'warning',
          r.origin,
          `role ${r.name} attaches managed policy ${arn}, which no stack of this manifest declares and which is not an AWS managed policy (crosspipe knows the ${awsManagedPoliciesSource().policies} AWS publishes, as of ${awsManagedPoliciesSource().lastUpdated.slice(0, 10)}): it was assumed to grant nothing. Check the ARN, its path included.`,
          null,
        ),
      )
  out.push(...privilegeFindings(ctx, assumable))
  out.push(...bucketLints(ctx))
  for (const k of m.keys.values()) {
    if (k.symmetric && !k.rotation)
      out.push(
        finding(
          ctx,
          'key-rotation-off',
          'warning',
          k.origin,
          `key ${k.origin.logicalId} does not rotate its key material. Turn on automatic rotation (https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html).`,
          { EnableKeyRotation: true },
          [
            k.origin.stack === EXISTING
              ? edit(EXISTING, [...k.origin.path, 'rotation'], 'set', true)
              : edit(k.origin.stack, [...k.origin.path, 'Properties', 'EnableKeyRotation'], 'set', true),
          ],
        ),
      )
    out.push(...unusedKeyPrincipals(ctx, k))
  }
  return out
}

/** Asks the engine whether a bucket policy denies a request, as S3 would evaluate it. */
function explicitlyDenied(
  policy: CompiledPolicy,
  bucket: { arn: string; account: string; name: string },
  action: string,
  context: Record<string, string>,
): boolean {
  const partition = parseArn(bucket.arn)?.partition ?? DEFAULT_PARTITION
  const r = simulate({
    principal: `arn:${partition}:iam::${bucket.account}:role/any-role`,
    action,
    resource: `${bucket.arn}/any-object`,
    resourceAccount: bucket.account,
    context,
    identityPolicies: [
      compilePolicy({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }),
    ],
    resourcePolicy: policy,
  })
  return r.decision === 'ExplicitlyDenied'
}

function bucketLints(ctx: RuleContext): CheckFinding[] {
  const out: CheckFinding[] = []
  for (const b of ctx.model.buckets.values()) {
    const o = b.policyOrigin ?? b.origin
    const policy = b.policy
      ? compiled(b.policy, 'resource', `bucket policy of ${b.origin.logicalId}`, b.policyOrigin, ctx.locate)
      : undefined
    const denies = (action: string, c: Record<string, string>): boolean =>
      policy ? explicitlyDenied(policy, b, action, c) : false
    // https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html ("Enforce encryption of data in transit")
    if (!denies('s3:GetObject', { 'aws:SecureTransport': 'false' }))
      out.push(
        finding(
          ctx,
          'bucket-insecure-transport',
          'warning',
          o,
          `bucket ${b.origin.logicalId} accepts requests without TLS: its policy has no Deny for aws:SecureTransport false.`,
          [tlsDeny(b)],
          bucketPolicyEdits(b, [tlsDeny(b)]),
        ),
      )
    // https://docs.aws.amazon.com/codepipeline/latest/userguide/S3-artifact-encryption.html (the
    // DenyUnEncryptedObjectUploads statement) and https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html#require-sse-kms
    const kmsDefault = b.sseAlgorithm === 'aws:kms' || b.sseAlgorithm === 'aws:kms:dsse'
    const deniesOther = denies('s3:PutObject', {
      'aws:SecureTransport': 'true',
      's3:x-amz-server-side-encryption': 'AES256',
    })
    if (!kmsDefault || !deniesOther)
      out.push(
        finding(
          ctx,
          'bucket-unencrypted-uploads',
          'warning',
          o,
          `bucket ${b.origin.logicalId} ${!kmsDefault ? 'has no default SSE-KMS encryption' : 'accepts uploads that are not encrypted with KMS'}: artifacts could be stored without the pipeline's key.`,
          kmsDefault
            ? [kmsDeny(b)]
            : {
                BucketEncryption: {
                  ServerSideEncryptionConfiguration: [
                    { ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } },
                  ],
                },
                ...(deniesOther ? {} : { PolicyDocument: { Statement: [kmsDeny(b)] } }),
              },
          bucketPolicyEdits(b, deniesOther ? [] : [kmsDeny(b)], !kmsDefault),
        ),
      )
  }
  return out
}

/** Roles a key policy lets use the key (by name, or through aws:PrincipalArn) that no call needs. */
function unusedKeyPrincipals(ctx: RuleContext, k: KeyModel): CheckFinding[] {
  // Without a single call (no pipeline found: no-calls-derived) nothing can be judged unused.
  if (!ctx.calls?.length) return []
  // A call that a structural finding redirects (key named by id, CodeBuild's own key) was meant
  // for the artifact store's key: its caller needs this key once the finding is fixed.
  const users = new Set(
    ctx.calls
      .filter(
        (c) => c.spec.resourceKind === 'key' && (c.spec.resource === k.arn || c.spec.coveredBy !== undefined),
      )
      .map((c) => (c.spec.principal.kind === 'role' ? c.spec.principal.arn : '')),
  )
  const out: CheckFinding[] = []
  statements(k.policy).forEach((stmt, i) => {
    if (stmt.Effect !== 'Allow') return
    const actions = strings(stmt.Action)
    if (!actions.some((a) => /^kms:(Decrypt|Encrypt|GenerateDataKey|ReEncrypt)/i.test(a))) return
    const named = [...namedPrincipals(stmt)]
    if (isObject(stmt.Condition))
      for (const [op, block] of Object.entries(stmt.Condition))
        if (/^(ArnEquals|ArnLike|StringEquals|StringLike)/.test(op) && isObject(block))
          for (const [key, v] of Object.entries(block))
            if (key.toLowerCase() === 'aws:principalarn') named.push(...strings(v))
    const unused = named.filter((a) => !a.includes('*') && ctx.model.roles.has(a) && !users.has(a))
    if (unused.length)
      out.push(
        finding(
          ctx,
          'key-unused-principal',
          'warning',
          { ...k.origin, path: [...k.origin.path, 'Properties', 'KeyPolicy', 'Statement', i] },
          `statement ${i} of the key policy of ${k.origin.logicalId} lets ${unused.join(', ')} use the key, but no pipeline action needs ${unused.length > 1 ? 'them' : 'it'} to. Remove ${unused.length > 1 ? 'them' : 'it'}.`,
          null,
        ),
      )
  })
  return out
}

const tlsDeny = (b: BucketModel): Record<string, unknown> => ({
  Sid: 'DenyInsecureTransport',
  Effect: 'Deny',
  Principal: '*',
  Action: 's3:*',
  Resource: [b.arn, `${b.arn}/*`],
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
})

const kmsDeny = (b: BucketModel): Record<string, unknown> => ({
  Sid: 'DenyUnencryptedUploads',
  Effect: 'Deny',
  Principal: '*',
  Action: 's3:PutObject',
  Resource: `${b.arn}/*`,
  Condition: { StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' } },
})

/**
 * The edits that add statements to a bucket's policy (a new AWS::S3::BucketPolicy when it has
 * none), and turn on default SSE-KMS encryption when asked.
 */
function bucketPolicyEdits(b: BucketModel, add: readonly Record<string, unknown>[], kms = false): Patch[] {
  const edits: Edit[] = []
  const existing = b.origin.stack === EXISTING
  if (kms)
    edits.push(
      existing
        ? {
            stack: EXISTING,
            path: [...b.origin.path, 'encryption'],
            op: 'set',
            value: { algorithm: 'aws:kms' },
          }
        : {
            stack: b.origin.stack,
            path: [...b.origin.path, 'Properties', 'BucketEncryption'],
            op: 'set',
            value: {
              ServerSideEncryptionConfiguration: [
                { ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } },
              ],
            },
          },
    )
  if (add.length) {
    if (b.policyOrigin)
      for (const st of add)
        edits.push({
          stack: b.policyOrigin.stack,
          path: [...b.policyOrigin.path, 'Statement'],
          op: 'append',
          value: st,
        })
    else if (existing)
      edits.push({
        stack: EXISTING,
        path: [...b.origin.path, 'policy'],
        op: 'set',
        value: { Version: '2012-10-17', Statement: add },
      })
    else
      edits.push({
        stack: b.origin.stack,
        path: ['Resources', `${b.origin.logicalId}Policy`],
        op: 'set',
        value: {
          Type: 'AWS::S3::BucketPolicy',
          Properties: { Bucket: b.name, PolicyDocument: { Version: '2012-10-17', Statement: add } },
        },
      })
  }
  return edits.length ? [{ edits }] : []
}

/**
 * The operations of the pipeline's calls on a resource policy's resource by any principal the
 * statement names (of another account or not: narrowing must keep what the same account's roles
 * get from it too).
 */
function usedOnResource(ctx: RuleContext, pol: DeclaredPolicy, stmt: Record<string, unknown>): string[] {
  const named = stmt.Principal === '*' ? ['*'] : isObject(stmt.Principal) ? strings(stmt.Principal.AWS) : []
  const accounts = new Set(
    named.map((p) => (p === '*' ? '*' : /^\d{12}$/.test(p) ? p : parseArn(p)?.account)),
  )
  const ops = new Set<string>()
  for (const c of ctx.calls ?? []) {
    if (c.spec.principal.kind !== 'role') continue
    const acct = parseArn(c.spec.principal.arn)?.account
    if (!accounts.has('*') && !accounts.has(acct)) continue
    const rp = ctx.evaluator.resourcePolicy(c.spec)
    if (rp?.origin && rp.origin.stack === pol.origin.stack && rp.origin.logicalId === pol.origin.logicalId)
      ops.add(c.spec.operation)
  }
  return [...ops].sort()
}

/** The operations of the calls made by some roles that a statement's actions cover. */
function usedBy(ctx: RuleContext, roles: readonly RoleModel[], stmt: Record<string, unknown>): string[] {
  const arns = new Set(roles.map((r) => r.arn))
  const patterns = strings(stmt.Action).map(
    (a) => new RegExp(`^${a.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i'),
  )
  const ops = new Set<string>()
  for (const c of ctx.calls ?? [])
    if (
      c.spec.principal.kind === 'role' &&
      arns.has(c.spec.principal.arn) &&
      patterns.some((p) => p.test(c.spec.operation))
    )
      ops.add(c.spec.operation)
  return [...ops].sort()
}

/** A fix that replaces a statement's actions by those the pipeline uses (no fix when it uses none). */
function narrowTo(
  ctx: RuleContext,
  pol: DeclaredPolicy,
  stmt: Record<string, unknown>,
  i: number,
  ops: readonly string[],
): [unknown, Patch[]] {
  if (!ops.length) return [null, []]
  const path = [...pol.origin.path, 'Statement', ...(Array.isArray(pol.document.Statement) ? [i] : [])]
  // Only the actions change: the statement's other elements keep their intrinsics (a Ref or
  // Fn::GetAtt there also orders the policy after what it names).
  const edits: Edit[] = [{ stack: pol.origin.stack, path: [...path, 'Action'], op: 'set', value: [...ops] }]
  if (stmt.NotAction !== undefined)
    edits.push({ stack: pol.origin.stack, path: [...path, 'NotAction'], op: 'delete' })
  return [{ Action: ops }, [{ edits }]]
}

/** The iam:PassRole statement the pipeline needs: the roles it passes, to the services it passes them to. */
function passRoleFix(
  ctx: RuleContext,
  pol: DeclaredPolicy,
  stmt: Record<string, unknown>,
  i: number,
  actions: readonly string[],
): [unknown, Patch[]] {
  const arns = new Set(pol.roles.map((r) => r.arn))
  const passes = (ctx.calls ?? []).filter(
    (c) =>
      c.spec.operation === 'iam:PassRole' &&
      c.spec.principal.kind === 'role' &&
      arns.has(c.spec.principal.arn),
  )
  if (!passes.length) return [null, []]
  const roles = [...new Set(passes.map((c) => c.spec.resource))].sort()
  const services = [...new Set(passes.map((c) => String(c.spec.context['iam:PassedToService'])))].sort()
  const pass = {
    Effect: 'Allow',
    Action: 'iam:PassRole',
    Resource: roles.length === 1 ? roles[0] : roles,
    Condition: { StringEquals: { 'iam:PassedToService': services.length === 1 ? services[0] : services } },
  }
  const list = Array.isArray(pol.document.Statement)
  const path = [...pol.origin.path, 'Statement', ...(list ? [i] : [])]
  const rest = actions.filter((a) => !/^iam:(PassRole|Pass\*)$/i.test(a))
  const edits: Edit[] =
    rest.length && !actions.some((a) => /^iam:\*$/i.test(a))
      ? [
          { stack: pol.origin.stack, path: [...path, 'Action'], op: 'set', value: rest },
          { stack: pol.origin.stack, path: [...pol.origin.path, 'Statement'], op: 'append', value: pass },
        ]
      : [{ stack: pol.origin.stack, path, op: 'set', value: pass }]
  return [rest.length ? { 'remove iam:PassRole from this statement, and add': [pass] } : pass, [{ edits }]]
}

/** The aws:PrincipalArn condition naming the roles that assume this role in the pipeline. */
function trustFix(ctx: RuleContext, pol: DeclaredPolicy, i: number, account: string): [unknown, Patch[]] {
  const role = pol.roles[0]
  if (!role) return [null, []]
  const callers = [
    ...new Set(
      (ctx.calls ?? [])
        .filter(
          (c) =>
            c.spec.operation === 'sts:AssumeRole' &&
            c.spec.resource === role.arn &&
            c.spec.principal.kind === 'role' &&
            parseArn(c.spec.principal.arn)?.account === account,
        )
        .map((c) => (c.spec.principal.kind === 'role' ? c.spec.principal.arn : '')),
    ),
  ].sort()
  if (!callers.length) return [null, []]
  const cond = { ArnEquals: { 'aws:PrincipalArn': callers.length === 1 ? callers[0] : callers } }
  const path = [
    ...pol.origin.path,
    'Statement',
    ...(Array.isArray(pol.document.Statement) ? [i] : []),
    'Condition',
  ]
  return [{ Condition: cond }, [edit(pol.origin.stack, path, 'set', cond)]]
}
