/**
 * `crosspipe check --cdk-out cdk.out`: checks the pipeline a CDK Pipelines app generates, offline.
 *
 * The cloud assembly gives the pipeline stack, its cross-region support stacks, the application
 * stacks of every stage (nested assemblies) and the asset manifests. What it does not give is
 * the bootstrap stack of every environment, which holds the roles the pipeline assumes
 * (`cdk-<qualifier>-deploy-role-…`, `…-cfn-exec-role-…`, `…-file-publishing-role-…`): those are
 * modelled from the bootstrap template (the default one `cdk bootstrap` deploys, or a customised
 * one), with the parameters `cdk bootstrap --trust ACCOUNT` sets
 * (https://docs.aws.amazon.com/cdk/v2/guide/bootstrapping-env.html). The result is the same
 * manifest + templates input as any setup, so the same catalogue, IAM engine and rules decide.
 */
import { readFileSync } from 'node:fs'
import { isAbsolute, join, relative } from 'node:path'
import { awsManagedPolicyArn, formatArn, partitionOf } from '../../iam/arn.js'
import { DEFAULT_PARTITION, QUOTAS } from '../../iam/aws-facts.js'
import { parseTemplate } from '../../model/cfn-yaml.js'
import type { ParsedTemplate } from '../../model/cfn-yaml.js'
import { CrosspipeError } from '../../model/errors.js'
import type { ManifestDocument, ManifestStackEntry } from '../../synth/manifest.js'
import type { CallSpec } from '../catalogue.js'
import { checkSetup } from '../index.js'
import type { CheckInput } from '../index.js'
import type { AccountsModel } from '../model.js'
import type { CheckFinding, CheckResult } from '../types.js'
import { readCloudAssembly } from './assembly.js'
import type { CdkStack, CloudAssembly } from './assembly.js'
import { BOOTSTRAP_SOURCE, BOOTSTRAP_TEMPLATE } from './bootstrap-template.generated.js'
import { limitFindings } from './limits.js'

export { readCloudAssembly } from './assembly.js'
export type { CdkStack, CdkAssetDestination, CloudAssembly } from './assembly.js'

/** The bootstrap qualifier `cdk bootstrap` uses unless told otherwise. */
export const DEFAULT_QUALIFIER = 'hnb659fds'
/** The bootstrap stack name `cdk bootstrap` uses unless told otherwise. */
const TOOLKIT_STACK = 'CDKToolkit'

/** How the environments were bootstrapped (what `cdk bootstrap` was given). */
export interface CdkBootstrapOptions {
  /** A customised bootstrap template (`cdk bootstrap --template`), as file name and text. */
  readonly template?: { readonly file: string; readonly text: string }
  /**
   * The accounts each environment's bootstrap trusts (`--trust`), keyed `ACCOUNT` or
   * `ACCOUNT/REGION`. An environment not listed trusts the pipeline account when it is another
   * account (as the CDK Pipelines guide tells you to bootstrap targets), and nobody else.
   */
  readonly trust?: ReadonlyMap<string, readonly string[]>
  /** `--cloudformation-execution-policies` of every environment (default: AdministratorAccess, the CLI's default). */
  readonly executionPolicies?: readonly string[]
}

/** The input of {@link checkCdkSetup}. */
export interface CdkCheckInput {
  readonly assembly: CloudAssembly
  readonly bootstrap?: CdkBootstrapOptions
}

/** One stack the check models, with where it comes from. */
export interface CdkModelledStack {
  readonly entry: ManifestStackEntry
  /** `bootstrap` for the modelled bootstrap stacks, `cdk deploy` for top-level stacks, `pipeline` for stage stacks. */
  readonly deployedBy: 'bootstrap' | 'cdk deploy' | 'pipeline'
}

/** What {@link cdkCheckInput} builds: the generic check input plus how each stack was derived. */
export interface CdkCheckModel {
  readonly input: CheckInput
  readonly stacks: readonly CdkModelledStack[]
  /** The bootstrap template used: the file given, or the default one's source package. */
  readonly bootstrapTemplate: string
}

/**
 * Builds the generic check input of a cloud assembly: a bootstrap stack per environment, then
 * the stacks `cdk deploy` deploys (support stacks before the pipeline stack, by their
 * dependencies). Stage stacks are what the pipeline deploys, not part of its plumbing: their
 * templates are only measured against the limits.
 */
export function cdkCheckInput(input: CdkCheckInput): CdkCheckModel {
  const { assembly } = input
  const b = input.bootstrap ?? {}
  const manifestFile = join(assembly.dir, 'manifest.json')
  const templates = new Map<string, ParsedTemplate>()
  const top = assembly.stacks.filter((s) => s.assembly === '')
  const parsed = new Map<CdkStack, ParsedTemplate>()
  for (const s of top)
    parsed.set(s, parseTemplate(readFileSync(s.templateFile, 'utf8'), display(s.templateFile)))
  const pipelineAccounts = [
    ...new Set(
      top
        .filter((s) =>
          Object.values(resourcesOf(parsed.get(s)!)).some((r) => r.Type === 'AWS::CodePipeline::Pipeline'),
        )
        .map((s) => s.account),
    ),
  ]
  const bootstrapFile = b.template?.file ?? `(default bootstrap template of ${BOOTSTRAP_SOURCE})`
  const bootstrap = parseTemplate(b.template?.text ?? BOOTSTRAP_TEMPLATE, bootstrapFile)
  templates.set(bootstrapFile, bootstrap)

  const envs = new Map<string, { account: string; region: string; qualifier: string }>()
  const addEnv = (account: string, region: string, qualifier = DEFAULT_QUALIFIER): void => {
    if (account && region && !envs.has(`${account}/${region}`))
      envs.set(`${account}/${region}`, { account, region, qualifier })
  }
  for (const s of assembly.stacks) addEnv(s.account, s.region, s.qualifier)
  for (const a of assembly.assets) addEnv(a.account, a.region)

  const stacks: CdkModelledStack[] = []
  for (const e of [...envs.values()].sort((x, y) =>
    `${x.account}/${x.region}`.localeCompare(`${y.account}/${y.region}`),
  )) {
    const trust =
      b.trust?.get(`${e.account}/${e.region}`) ??
      b.trust?.get(e.account) ??
      pipelineAccounts.filter((a) => a !== e.account)
    for (const t of trust)
      if (!/^\d{12}$/.test(t))
        throw new CrosspipeError('usage', `--bootstrap-trust: "${t}" is not an AWS account id (12 digits)`)
    const partition = assembly.stacks.find((s) => s.region === e.region)?.partition ?? DEFAULT_PARTITION
    const params: Record<string, string> = { Qualifier: e.qualifier, TrustedAccounts: trust.join(',') }
    // `cdk bootstrap --trust` requires execution policies; AdministratorAccess is what the CLI
    // picks when none are given without --trust (bootstrap template, CloudFormationExecutionRole).
    if (trust.length)
      params.CloudFormationExecutionPolicies = (
        b.executionPolicies ?? [awsManagedPolicyArn(partition, 'AdministratorAccess')]
      ).join(',')
    stacks.push({
      deployedBy: 'bootstrap',
      entry: {
        name: `${TOOLKIT_STACK}-${e.account}-${e.region}`,
        template: bootstrapFile,
        account: e.account,
        region: e.region,
        phase: 1,
        capabilities: ['CAPABILITY_NAMED_IAM'],
        parameters: params,
        description: `the bootstrap stack (${TOOLKIT_STACK}) of aws://${e.account}/${e.region}, as \`cdk bootstrap${trust.length ? ` --trust ${trust.join(',')}` : ''}\` deploys it`,
      },
    })
  }
  const phaseOf = new Map<string, number>()
  const byId = new Map(top.map((s) => [s.id, s]))
  const phase = (s: CdkStack, seen: Set<string> = new Set()): number => {
    const known = phaseOf.get(s.id)
    if (known !== undefined) return known
    if (seen.has(s.id))
      throw new CrosspipeError('invalid-manifest', `${manifestFile}: stack ${s.id} depends on itself`, [
        {
          location: { file: manifestFile, path: `artifacts.${s.id}.dependencies` },
          message: 'a dependency cycle cannot deploy',
        },
      ])
    seen.add(s.id)
    const deps = s.dependencies.map((d) => byId.get(d)).filter((d): d is CdkStack => d !== undefined)
    const p = Math.max(1, ...deps.map((d) => phase(d, seen))) + 1
    phaseOf.set(s.id, p)
    return p
  }
  for (const s of top) {
    const t = parsed.get(s)!
    templates.set(s.templatePath, t)
    stacks.push({
      deployedBy: 'cdk deploy',
      entry: {
        name: s.stackName,
        template: s.templatePath,
        account: s.account,
        region: s.region,
        phase: phase(s),
        capabilities: ['CAPABILITY_NAMED_IAM'],
        parameters: {},
        description: `CDK stack ${s.displayName}`,
        upload: s.templateBytes > QUOTAS.cloudFormation.templateBodyBytes || undefined,
      },
    })
  }
  const pipelineName = top
    .flatMap((s) =>
      Object.values(resourcesOf(parsed.get(s)!))
        .filter((r) => r.Type === 'AWS::CodePipeline::Pipeline')
        .map((r) => (r.Properties as Record<string, unknown> | undefined)?.Name),
    )
    .find((n): n is string => typeof n === 'string')
  const manifest: ManifestDocument = {
    version: 1,
    pipeline: pipelineName ?? 'cdk-pipeline',
    stacks: stacks.map((s) => s.entry),
  }
  return {
    input: {
      manifest,
      templates,
      manifestFile: display(manifestFile),
      extraCalls: (m) => assetCalls(m, assembly),
    },
    stacks,
    bootstrapTemplate: bootstrapFile,
  }
}

/**
 * Checks a cloud assembly: every call of the CDK-generated pipeline (including the bootstrap roles
 * it assumes and the asset publishing of its Assets stage), the structural rules and lints, and
 * the AWS limits CDK does not check (stages per pipeline, template sizes).
 */
export function checkCdkSetup(input: CdkCheckInput): CheckResult {
  const model = cdkCheckInput(input)
  const base = checkSetup(model.input)
  const bootstrapStacks = new Map(
    model.stacks.filter((s) => s.deployedBy === 'bootstrap').map((s) => [s.entry.name, s.entry]),
  )
  const findings: CheckFinding[] = base.findings.map((f) => bootstrapFix(f, bootstrapStacks))
  findings.push(...limitFindings(input.assembly, model.input))
  findings.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1))
  // The asset publishing calls are derived after the catalogue's: put them with their stage.
  const firstSeen = new Map<string, number>()
  base.calls.forEach((c, i) => {
    if (!firstSeen.has(c.stage)) firstSeen.set(c.stage, i)
  })
  const calls = base.calls
    .map((c, i) => ({ c, i }))
    .sort((a, b) => firstSeen.get(a.c.stage)! - firstSeen.get(b.c.stage)! || a.i - b.i)
    .map((x) => x.c)
  return {
    ok: findings.every((f) => f.severity !== 'error') && calls.every((c) => c.decision === 'Allowed'),
    calls,
    findings,
  }
}

/** Reads the assembly in `dir` and checks it with {@link checkCdkSetup}. */
export function checkCdkAssembly(dir: string, bootstrap?: CdkBootstrapOptions): CheckResult {
  return checkCdkSetup({ assembly: readCloudAssembly(dir), bootstrap })
}

/**
 * A finding in a modelled bootstrap stack is fixed by bootstrapping again, not by editing a
 * template the user does not have: say which `cdk bootstrap` command does it.
 */
function bootstrapFix(
  f: CheckFinding,
  bootstrapStacks: ReadonlyMap<string, ManifestStackEntry>,
): CheckFinding {
  const entry = bootstrapStacks.get(f.stack)
  if (!entry || f.rule !== 'call-denied') return f
  const callers = [...f.message.matchAll(/arn:[\w-]+:(?:iam|sts)::(\d{12}):/g)].map((m) => m[1]!)
  const trusted = paramText(entry.parameters.TrustedAccounts).split(',').filter(Boolean)
  const need = [...new Set(callers.filter((a) => a !== entry.account && !trusted.includes(a)))]
  if (need.length === 0) return f
  const all = [...trusted, ...need]
  const cmd = `cdk bootstrap aws://${entry.account}/${entry.region} --trust ${all.join(',')} --cloudformation-execution-policies ${paramText(entry.parameters.CloudFormationExecutionPolicies) || awsManagedPolicyArn(partitionOf(entry.region) ?? DEFAULT_PARTITION, 'AdministratorAccess')}`
  return {
    ...f,
    message: `${f.message} The bootstrap stack of aws://${entry.account}/${entry.region} does not trust account ${need.join(', ')}: bootstrap it again with --trust (CDK Developer Guide, "Bootstrap your environment", https://docs.aws.amazon.com/cdk/v2/guide/bootstrapping-env.html).`,
    fix: `# run with credentials of account ${entry.account}:\n${cmd}\n${f.fix ? `# or, with a customised bootstrap template (--bootstrap-template), the least statement that allows the call:\n${f.fix}` : ''}`,
  }
}

/**
 * The calls of the pipeline's Assets stage: each of its CodeBuild projects runs
 * `cdk-assets publish` for some asset destinations, whose role (the project's service role)
 * assumes the destination's publishing role and writes the asset into the staging bucket
 * (CDK Developer Guide, "Bootstrapping": the file-publishing role "is assumed by … to publish
 * file assets"; https://docs.aws.amazon.com/cdk/v2/guide/bootstrapping-env.html).
 */
function assetCalls(m: AccountsModel, assembly: CloudAssembly): CallSpec[] {
  const out: CallSpec[] = []
  for (const p of m.pipelines)
    for (const st of p.stages)
      for (const a of st.actions) {
        if (a.provider !== 'CodeBuild') continue
        const name = typeof a.configuration.ProjectName === 'string' ? a.configuration.ProjectName : ''
        const project = m.projects.get(`${p.account}/${a.region}/${name}`)
        if (!project?.serviceRole) continue
        const spec = buildSpecOf(m, project.origin.stack, project.origin.logicalId)
        for (const [, file, sel] of spec.matchAll(
          /cdk-assets\s+--path\s+"([^"]+)"[^"\n]*?publish\s+"([^"]+)"/g,
        )) {
          const [assetId, destId] = sel!.split(':')
          for (const d of assembly.assets) {
            if (d.manifestFile !== file || d.assetId !== assetId) continue
            if (destId && !matchesDest(d, destId)) continue
            publishCalls(out, {
              stage: st.name,
              action: a.name,
              role: project.serviceRole,
              d,
              partition: p.partition,
              at: { ...p.origin, path: a.path },
            })
          }
        }
      }
  return out
}

function matchesDest(d: CloudAssembly['assets'][number], destId: string): boolean {
  return destId.startsWith(`${d.account}-${d.region}`)
}

function buildSpecOf(m: AccountsModel, stack: string, logicalId: string): string {
  const s = m.stacks.find((x) => x.name === stack)
  const src = s?.resources.get(logicalId)?.properties.Source
  const bs = src && typeof src === 'object' ? (src as Record<string, unknown>).BuildSpec : undefined
  if (typeof bs !== 'string') return ''
  // CDK writes the buildspec as JSON text; its commands are what CodeBuild runs.
  try {
    const commands: string[] = []
    const phases = (JSON.parse(bs) as { phases?: Record<string, { commands?: unknown }> }).phases ?? {}
    for (const ph of Object.values(phases))
      for (const c of Array.isArray(ph.commands) ? ph.commands : [])
        if (typeof c === 'string') commands.push(c)
    return commands.join('\n')
  } catch {
    return bs
  }
}

function publishCalls(
  out: CallSpec[],
  o: {
    stage: string
    action: string
    role: string
    d: CloudAssembly['assets'][number]
    partition: string
    at: CallSpec['at']
  },
): void {
  const { d } = o
  const doc = 'https://docs.aws.amazon.com/cdk/v2/guide/bootstrapping-env.html'
  const what = `asset ${d.displayName} for aws://${d.account}/${d.region}`
  if (d.assumeRoleArn)
    out.push({
      stage: o.stage,
      action: o.action,
      at: o.at,
      principal: { kind: 'role', arn: o.role },
      operation: 'sts:AssumeRole',
      resource: d.assumeRoleArn,
      resourceAccount: d.account,
      resourceKind: 'role',
      context: {},
      purpose: `cdk-assets assumes the ${d.kind}-publishing role to publish ${what}`,
      doc,
    })
  const publisher = d.assumeRoleArn ?? o.role
  if (d.kind === 'file')
    out.push({
      stage: o.stage,
      action: o.action,
      at: o.at,
      principal: { kind: 'role', arn: publisher },
      operation: 's3:PutObject',
      resource: formatArn({
        partition: o.partition,
        service: 's3',
        resource: `${d.bucketOrRepository}/${d.key}`,
      }),
      resourceAccount: d.account,
      resourceKind: 'bucket',
      context: { 'aws:SecureTransport': 'true' },
      purpose: `cdk-assets uploads ${what} to the staging bucket`,
      doc,
    })
  else
    out.push({
      stage: o.stage,
      action: o.action,
      at: o.at,
      principal: { kind: 'role', arn: publisher },
      operation: 'ecr:PutImage',
      resource: formatArn({
        partition: o.partition,
        service: 'ecr',
        region: d.region,
        account: d.account,
        resource: `repository/${d.bucketOrRepository}`,
      }),
      resourceAccount: d.account,
      resourceKind: 'none',
      context: {},
      purpose: `cdk-assets pushes ${what} to the container assets repository`,
      doc,
    })
}

function resourcesOf(t: ParsedTemplate): Record<string, { Type?: unknown; Properties?: unknown }> {
  const r = t.body.Resources
  return r && typeof r === 'object' ? (r as Record<string, { Type?: unknown; Properties?: unknown }>) : {}
}

function display(file: string): string {
  const rel = relative(process.cwd(), file)
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file
}

function paramText(v: ManifestStackEntry['parameters'][string] | undefined): string {
  return typeof v === 'string' ? v : ''
}
