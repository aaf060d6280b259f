/**
 * The permission graph of a setup: accounts as groups; roles, keys, buckets, CodeBuild projects,
 * pipelines, AWS services and the other resources calls reach as nodes; trust and resource-policy
 * grants as edges; and every call `check` derives as an edge with its decision. Built from the
 * same model and the same check result as `crosspipe check`, so the graph cannot disagree with it.
 */
import type { CheckInput } from '../check/index.js'
import { checkSetup, renderCheck } from '../check/index.js'
import type { CheckCall, CheckFinding, CheckResult } from '../check/types.js'
import { buildModel } from '../check/model.js'
import { ManifestResolver } from '../check/resolve.js'
import { parseArn } from '../iam/arn.js'
import { serviceOfPrincipal } from '../iam/aws-facts.js'
import type { PolicyDocument } from '../iam/types.js'

/** The kinds of nodes drawn. */
export type NodeKind = 'pipeline' | 'role' | 'key' | 'bucket' | 'project' | 'topic' | 'service' | 'resource'

/** One node: something that calls, or is called, or both. */
export interface GraphNode {
  readonly id: string
  readonly kind: NodeKind
  /** A short name to draw. */
  readonly label: string
  /** The account group it is drawn in ('' for AWS services, which belong to no account). */
  readonly account: string
  readonly region?: string
  /** The full ARN or name, and where it is declared. */
  readonly detail: string
}

/** An account group, with the stage it is first deployed to (to group accounts at scale). */
export interface GraphAccount {
  readonly id: string
  readonly label: string
  /** The first pipeline stage whose calls reach this account (undefined for the pipeline's own account). */
  readonly stage?: string
}

/** One call of the pipeline, as `check` reported it. */
export interface GraphCall {
  readonly stage: string
  readonly action: string
  readonly operation: string
  readonly principal: string
  readonly resource: string
  readonly decision: string
  readonly reasons: readonly string[]
  /** The `call-denied` finding of a denied call, rendered exactly as `check` prints it. */
  readonly finding?: string
}

/** An edge: a trust or grant, or the calls from one node to another. */
export interface GraphEdge {
  readonly id: string
  readonly kind: 'trust' | 'grant' | 'call'
  readonly source: string
  readonly target: string
  /** For calls: Allowed when every call allowed, else the first other decision. */
  readonly decision?: string
  /** For calls: the stages its calls belong to, in pipeline order. */
  readonly stages: readonly string[]
  readonly label: string
  readonly calls: readonly GraphCall[]
  /** For trust and grant edges: the statement, as YAML-like text. */
  readonly statement?: string
}

/** The whole graph, serializable: what every renderer draws. */
export interface GraphDocument {
  readonly title: string
  readonly accounts: readonly GraphAccount[]
  readonly nodes: readonly GraphNode[]
  readonly edges: readonly GraphEdge[]
  /** The pipeline stages, in order, for stepping through. */
  readonly stages: readonly string[]
  /** Findings other than denied calls, rendered as `check` prints them, keyed by the node they concern. */
  readonly findings: Readonly<Record<string, readonly string[]>>
  readonly summary: string
}

const SERVICE_LABEL = (name: string): string => serviceOfPrincipal(name) ?? name

/**
 * Builds the graph of a setup: runs the same check `crosspipe check` runs, and the model it
 * reasons on, and joins them. `result` can be given when it was computed already (it must be the
 * result of checking the same input).
 */
export function buildGraph(input: CheckInput, result: CheckResult = checkSetup(input)): GraphDocument {
  const resolver = new ManifestResolver(
    input.manifest.stacks.map((entry, index) => ({
      entry,
      template: input.templates.get(entry.template)!,
      index,
      manifestFile: input.manifestFile,
    })),
  )
  const model = buildModel(resolver.all())
  const sym = symbolizer(resolver.symbols)
  const nodes = new Map<string, GraphNode>()
  const add = (n: GraphNode): void => {
    if (!nodes.has(n.id)) nodes.set(n.id, n)
  }
  const pipelineAccounts = new Set(model.pipelines.map((p) => p.account))
  for (const p of model.pipelines)
    add({
      id: `pipeline:${p.account}/${p.region}/${p.name}`,
      kind: 'pipeline',
      label: sym(p.name),
      account: p.account,
      region: p.region,
      detail: `pipeline ${sym(p.name)} (${p.origin.stack}/${p.origin.logicalId}), ${p.stages.length} stages`,
    })
  for (const r of model.roles.values())
    add({
      id: sym(r.arn),
      kind: 'role',
      label: shortName(sym(r.name)),
      account: r.account,
      detail: `role ${sym(r.arn)} (${r.origin.stack}/${r.origin.logicalId})`,
    })
  for (const k of model.keys.values())
    add({
      id: sym(k.arn),
      kind: 'key',
      label: k.aliases[0] ?? shortName(k.origin.logicalId),
      account: k.account,
      region: k.region,
      detail: `KMS key ${sym(k.arn)} (${k.origin.stack}/${k.origin.logicalId})`,
    })
  for (const b of model.buckets.values())
    add({
      id: sym(b.arn),
      kind: 'bucket',
      label: shortName(sym(b.name)),
      account: b.account,
      region: b.region,
      detail: `bucket ${sym(b.name)} (${b.origin.stack}/${b.origin.logicalId})`,
    })
  for (const pr of model.projects.values())
    add({
      id: sym(pr.arn),
      kind: 'project',
      label: shortName(sym(pr.name)),
      account: pr.account,
      region: pr.region,
      detail: `CodeBuild project ${sym(pr.name)} (${pr.origin.stack}/${pr.origin.logicalId})`,
    })
  for (const t of model.topics.values())
    add({
      id: sym(t.arn),
      kind: 'topic',
      label: shortName(sym(t.arn)),
      account: t.account,
      detail: `SNS topic ${sym(t.arn)}`,
    })

  /** The node a call's resource lands on: a known node, the bucket of an object, or a new resource node. */
  const resourceNode = (resource: string): string => {
    if (nodes.has(resource)) return resource
    const a = parseArn(resource)
    if (a?.service === 's3') {
      const bucket = a.resource.split('/')[0]!
      const b = [...model.buckets.values()].find((x) => sym(x.name) === bucket)
      if (b) return sym(b.arn)
      const id = `arn:${a.partition}:s3:::${bucket}`
      add({
        id,
        kind: 'bucket',
        label: shortName(bucket),
        account: '',
        detail: `bucket ${bucket} (not in this setup)`,
      })
      return id
    }
    if (a?.service === 'kms' && a.resource.startsWith('alias/')) {
      const k = model.aliases.get(`${a.account}/${a.region}/${a.resource}`)
      if (k) return sym(k)
    }
    // Group other resources by service and account: one node per service per account keeps the
    // drawing readable (each call still lists its exact resource).
    const account = a?.account ?? ''
    const id = `resource:${a?.service ?? resource}:${account}:${a?.region ?? ''}`
    add({
      id,
      kind: 'resource',
      label: a ? a.service : shortName(resource),
      account,
      region: a?.region,
      detail: a
        ? `${a.service} resources of account ${account || '(any)'}${a.region ? ` in ${a.region}` : ''}`
        : resource,
    })
    return id
  }
  const principalNode = (principal: string): string => {
    if (nodes.has(principal)) return principal
    const a = parseArn(principal)
    if (a) {
      add({
        id: principal,
        kind: 'role',
        label: shortName(principal),
        account: a.account,
        detail: `role ${principal} (not created by this setup)`,
      })
      return principal
    }
    const id = `service:${principal}`
    add({
      id,
      kind: 'service',
      label: SERVICE_LABEL(principal),
      account: '',
      detail: `AWS service ${principal}`,
    })
    return id
  }

  const denied = result.findings.filter((f) => f.rule === 'call-denied')
  const findingOf = (c: CheckCall): CheckFinding | undefined => {
    const prefix = `${c.stage} / ${c.action}: ${c.principal} cannot ${c.operation} on ${c.resource} (`
    return denied.find((f) => f.message.startsWith(prefix))
  }
  const stages: string[] = []
  const accountStage = new Map<string, string>()
  const callEdges = new Map<
    string,
    { source: string; target: string; calls: GraphCall[]; stages: string[] }
  >()
  for (const c of result.calls) {
    if (!stages.includes(c.stage)) stages.push(c.stage)
    const source = principalNode(c.principal)
    const target = resourceNode(c.resource)
    for (const n of [source, target]) {
      const acc = nodes.get(n)?.account
      if (acc && !pipelineAccounts.has(acc) && !accountStage.has(acc) && c.stage !== '(pipeline)')
        accountStage.set(acc, c.stage)
    }
    const f = findingOf(c)
    const key = `${source}\u0000${target}`
    const e = callEdges.get(key) ?? { source, target, calls: [], stages: [] }
    e.calls.push({
      stage: c.stage,
      action: c.action,
      operation: c.operation,
      principal: c.principal,
      resource: c.resource,
      decision: c.decision,
      reasons: c.reasons,
      finding: f ? renderOne(f, c) : undefined,
    })
    if (!e.stages.includes(c.stage)) e.stages.push(c.stage)
    callEdges.set(key, e)
  }
  const edges: GraphEdge[] = []
  let n = 0
  for (const e of callEdges.values()) {
    const bad = e.calls.find((c) => c.decision !== 'Allowed')
    const ops = [...new Set(e.calls.map((c) => c.operation))]
    edges.push({
      id: `call${++n}`,
      kind: 'call',
      source: e.source,
      target: e.target,
      decision: bad?.decision ?? 'Allowed',
      stages: e.stages,
      label: ops.length <= 2 ? ops.join(', ') : `${ops[0]} +${ops.length - 1}`,
      calls: e.calls,
    })
  }
  // Trust: who may assume each role. Grants: who a key or bucket policy lets in.
  const principalsOf = (
    doc: PolicyDocument | undefined,
    actionMatch: (a: string) => boolean,
  ): { who: string; stmt: unknown }[] => {
    const out: { who: string; stmt: unknown }[] = []
    for (const s of asArray(doc?.Statement)) {
      if (!isObj(s) || s.Effect !== 'Allow') continue
      const actions = asArray(s.Action).filter((x): x is string => typeof x === 'string')
      if (!actions.some(actionMatch)) continue
      const p = s.Principal
      if (!isObj(p)) continue
      for (const [type, v] of Object.entries(p))
        for (const who of asArray(v))
          if (typeof who === 'string') out.push({ who: type === 'Service' ? `service:${who}` : who, stmt: s })
    }
    return out
  }
  const trustSource = (who: string): string | undefined => {
    if (who.startsWith('service:')) return principalNode(who.slice('service:'.length))
    const s = sym(who)
    if (nodes.has(s)) return s
    const a = parseArn(s)
    const account = a ? a.account : /^\d{12}$/.test(s) ? s : ''
    return account ? `account:${account}` : undefined
  }
  const grant = (
    kind: 'trust' | 'grant',
    target: string,
    doc: PolicyDocument | undefined,
    match: (a: string) => boolean,
    what: string,
  ): void => {
    const seen = new Set<string>()
    for (const { who, stmt } of principalsOf(doc, match)) {
      const source = trustSource(who)
      if (!source || source === target || seen.has(source)) continue
      seen.add(source)
      edges.push({
        id: `${kind}${++n}`,
        kind,
        source,
        target,
        stages: [],
        label: what,
        calls: [],
        statement: sym(JSON.stringify(stmt, null, 2)),
      })
    }
  }
  for (const p of model.pipelines)
    if (p.roleArn)
      edges.push({
        id: `role${++n}`,
        kind: 'grant',
        source: `pipeline:${p.account}/${p.region}/${p.name}`,
        target: principalNode(sym(p.roleArn)),
        stages: [],
        label: 'service role',
        calls: [],
        statement: `RoleArn: ${sym(p.roleArn)}`,
      })
  for (const r of model.roles.values())
    grant(
      'trust',
      sym(r.arn),
      r.trust,
      (a) => a === 'sts:AssumeRole' || a === 'sts:*' || a === '*',
      'may assume',
    )
  for (const k of model.keys.values())
    grant(
      'grant',
      sym(k.arn),
      k.policy,
      (a) => /^kms:(Decrypt|GenerateDataKey|\*|Encrypt)/.test(a) || a === '*',
      'key policy',
    )
  for (const b of model.buckets.values())
    grant('grant', sym(b.arn), b.policy, (a) => /^s3:(Get|Put|\*)/.test(a) || a === '*', 'bucket policy')

  const accountIds = new Set<string>()
  for (const node of nodes.values()) if (node.account) accountIds.add(node.account)
  for (const e of edges)
    if (e.source.startsWith('account:')) accountIds.add(e.source.slice('account:'.length))
  const accounts: GraphAccount[] = [...accountIds]
    .sort(
      (a, b) =>
        Number(pipelineAccounts.has(b)) - Number(pipelineAccounts.has(a)) ||
        stageIndex(stages, accountStage.get(a)) - stageIndex(stages, accountStage.get(b)) ||
        a.localeCompare(b),
    )
    .map((id) => ({
      id,
      label: `${id}${pipelineAccounts.has(id) ? ' (pipeline)' : accountStage.has(id) ? ` (${accountStage.get(id)})` : ''}`,
      stage: pipelineAccounts.has(id) ? undefined : accountStage.get(id),
    }))

  const findings: Record<string, string[]> = {}
  for (const f of result.findings) {
    if (f.rule === 'call-denied') continue
    const node = [...nodes.values()].find((x) => x.detail.includes(`(${f.stack}/${f.logicalId})`))
    const key = node?.id ?? '(setup)'
    ;(findings[key] ??= []).push(renderOne(f))
  }
  const deniedCount = result.calls.filter((c) => c.decision !== 'Allowed').length
  return {
    title: input.manifest.pipeline,
    accounts,
    nodes: [...nodes.values()],
    edges,
    stages,
    findings,
    summary: `${result.calls.length} calls: ${result.calls.length - deniedCount} allowed, ${deniedCount} denied; ${result.findings.length} findings`,
  }
}

/** One finding (and the call it concerns) rendered exactly as `crosspipe check` prints it. */
function renderOne(f: CheckFinding, c?: CheckCall): string {
  const text = renderCheck({ ok: false, calls: c ? [c] : [], findings: [f] }, { color: false, verbose: true })
  // Drop the one-line summary that ends every rendering.
  return text.replace(/\n\n✗ [^\n]*\n$/, '\n')
}

function stageIndex(stages: readonly string[], s: string | undefined): number {
  const i = s === undefined ? -1 : stages.indexOf(s)
  return i < 0 ? stages.length : i
}

function shortName(s: string): string {
  const tail = s.split(/[:/]/).filter(Boolean).pop() ?? s
  return tail.length > 40 ? `${tail.slice(0, 37)}…` : tail
}

function symbolizer(symbols: ReadonlyMap<string, string>): (s: string) => string {
  if (symbols.size === 0) return (s) => s
  const keys = [...symbols.keys()].sort((a, b) => b.length - a.length)
  const re = new RegExp(keys.map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g')
  return (s) => s.replace(re, (m) => symbols.get(m) ?? m)
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
const asArray = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v])
