/**
 * Parsing, validation and compilation of policy documents.
 *
 * Grammar: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
 * Elements: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html
 * A compiled policy keeps its statements indexed by service prefix, its actions lower-cased and
 * split, its wildcards compiled to matchers, so evaluating a request does no parsing at all.
 */
import { compileArnGlob, compileGlob, hasWildcard, type Matcher } from './glob.js'
import { compileCondition, parseOperator, type CompiledCondition } from './conditions.js'
import { addAwsPrincipal, type PrincipalSet } from './principal.js'
import { parseTemplate, withoutVariables, type Template } from './variables.js'
import type { CompiledPolicy, PolicyDocument, PolicyKind, PolicyProblem } from './types.js'

/** Thrown by {@link compilePolicy} for a malformed policy; lists every problem found. */
export class PolicyValidationError extends Error {
  /** Stable code for callers that map errors to exit codes. */
  readonly code = 'IAM_INVALID_POLICY'
  constructor(
    readonly problems: readonly PolicyProblem[],
    readonly policyName?: string,
  ) {
    super(
      `${policyName ? `${policyName}: ` : ''}invalid policy: ` +
        problems.map((p) => `${where(p)}${p.element}: ${p.message}`).join('; '),
    )
    this.name = 'PolicyValidationError'
  }
}

function where(p: PolicyProblem): string {
  if (p.statementIndex === undefined) return ''
  return `statement ${p.statementIndex}${p.sid ? ` (Sid "${p.sid}")` : ''}, `
}

/** Options for {@link compilePolicy}. */
export interface CompileOptions {
  /** What the policy is attached as; decides which elements it may contain. Default `identity`. */
  readonly kind?: PolicyKind
  /** A human name for explanations, e.g. `bucket policy of artifacts-bucket`. */
  readonly name?: string
}

/** A resource entry of a statement: all, a precompiled matcher, or a template with variables. */
export type ResourceEntry =
  | { readonly all: true }
  | { readonly matcher: Matcher; readonly raw: string }
  | { readonly tpl: Template; readonly raw: string }

/** A statement compiled for evaluation. */
export interface CompiledStatement {
  readonly index: number
  readonly sid?: string
  readonly effect: 'Allow' | 'Deny'
  readonly notAction: boolean
  /** `*` among the actions. */
  readonly actionAll: boolean
  /** Action-name matchers (lower-case) by service prefix (lower-case). */
  readonly byService: ReadonlyMap<string, readonly Matcher[]>
  /** Matchers over the whole lower-case action, for patterns with a wildcard in the prefix. */
  readonly anyService: readonly Matcher[]
  /** Undefined when the statement has no Resource element (trust policies): it applies to any resource. */
  readonly resources?: readonly ResourceEntry[]
  readonly notResource: boolean
  readonly principal?: PrincipalSet
  readonly notPrincipal: boolean
  readonly conditions: readonly CompiledCondition[]
}

const TOP_ELEMENTS = new Set(['Version', 'Id', 'Statement'])
const STATEMENT_ELEMENTS = new Set([
  'Sid',
  'Effect',
  'Principal',
  'NotPrincipal',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
])
const PRINCIPAL_TYPES = new Set(['AWS', 'Service', 'Federated', 'CanonicalUser'])

/** Which kinds name principals, and whether they must name resources. */
const KIND_RULES: Record<
  PolicyKind,
  { principal: 'required' | 'forbidden'; resource: 'required' | 'optional' | 'forbidden' }
> = {
  identity: { principal: 'forbidden', resource: 'required' },
  boundary: { principal: 'forbidden', resource: 'required' },
  session: { principal: 'forbidden', resource: 'required' },
  // SCPs may omit Resource (the original SCP syntax allowed only "*"):
  // https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_syntax.html
  scp: { principal: 'forbidden', resource: 'optional' },
  rcp: { principal: 'required', resource: 'required' },
  resource: { principal: 'required', resource: 'required' },
  // A role trust policy has no Resource: the role it is attached to is the resource.
  // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
  trust: { principal: 'required', resource: 'forbidden' },
}

/** The result of analysing a document: problems, and statements when there were none. */
interface Analysis {
  readonly problems: PolicyProblem[]
  readonly statements: CompiledStatement[]
  readonly variables: boolean
}

function asList(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [v]
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function analyze(doc: unknown, kind: PolicyKind): Analysis {
  const problems: PolicyProblem[] = []
  const statements: CompiledStatement[] = []
  if (!isRecord(doc)) {
    problems.push({ element: 'Policy', message: 'a policy document must be a JSON object' })
    return { problems, statements, variables: false }
  }
  for (const k of Object.keys(doc))
    if (!TOP_ELEMENTS.has(k))
      problems.push({ element: k, message: `unknown element "${k}" (allowed: Version, Id, Statement)` })
  const version = doc.Version
  if (version !== undefined && version !== '2012-10-17' && version !== '2008-10-17')
    problems.push({
      element: 'Version',
      message: `${JSON.stringify(version)} is not a policy language version (use "2012-10-17")`,
    })
  // Policy variables exist only in version 2012-10-17; without it `${…}` is literal text.
  // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html
  const variables = version === '2012-10-17'
  if (doc.Statement === undefined) {
    problems.push({ element: 'Statement', message: 'a policy needs a Statement element' })
    return { problems, statements, variables }
  }
  const list = asList(doc.Statement)
  list.forEach((st, index) => {
    const s = compileStatement(st, index, kind, variables, problems)
    if (s) statements.push(s)
  })
  return { problems, statements, variables }
}

function stringList(
  v: unknown,
  element: string,
  add: (element: string, message: string) => void,
  allowScalars = false,
): string[] | undefined {
  const items = asList(v)
  if (items.length === 0) {
    add(element, `${element} must not be empty`)
    return undefined
  }
  const out: string[] = []
  for (const x of items) {
    if (typeof x === 'string') out.push(x)
    else if (allowScalars && (typeof x === 'number' || typeof x === 'boolean')) out.push(String(x))
    else {
      add(element, `${element} values must be strings, found ${JSON.stringify(x)}`)
      return undefined
    }
  }
  return out
}

const ACTION_RE = /^[a-zA-Z0-9*?-]+:[a-zA-Z0-9*?_-]+$/

function compileStatement(
  st: unknown,
  index: number,
  kind: PolicyKind,
  variables: boolean,
  problems: PolicyProblem[],
): CompiledStatement | undefined {
  const before = problems.length
  if (!isRecord(st)) {
    problems.push({
      statementIndex: index,
      element: 'Statement',
      message: 'a statement must be a JSON object',
    })
    return undefined
  }
  const sid = typeof st.Sid === 'string' ? st.Sid : undefined
  const add = (element: string, message: string): void => {
    problems.push({ statementIndex: index, ...(sid !== undefined ? { sid } : {}), element, message })
  }
  for (const k of Object.keys(st)) if (!STATEMENT_ELEMENTS.has(k)) add(k, `unknown element "${k}"`)
  if (st.Sid !== undefined && typeof st.Sid !== 'string') add('Sid', 'Sid must be a string')
  const effect = st.Effect
  if (effect !== 'Allow' && effect !== 'Deny')
    add('Effect', `Effect must be "Allow" or "Deny" (case-sensitive), found ${JSON.stringify(effect)}`)
  const rules = KIND_RULES[kind]

  // Action / NotAction
  let notAction = false
  let actionAll = false
  const byService = new Map<string, Matcher[]>()
  const anyService: Matcher[] = []
  if (st.Action !== undefined && st.NotAction !== undefined)
    add('Action', 'a statement has Action or NotAction, not both')
  else if (st.Action === undefined && st.NotAction === undefined)
    add('Action', 'a statement needs Action or NotAction')
  else {
    notAction = st.Action === undefined
    const element = notAction ? 'NotAction' : 'Action'
    const actions = stringList(notAction ? st.NotAction : st.Action, element, add)
    // RCPs take neither NotAction nor a bare "*" action:
    // https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_syntax.html
    if (kind === 'rcp' && notAction) add('NotAction', 'a resource control policy cannot use NotAction')
    for (const a of actions ?? []) {
      if (a === '*' && kind === 'rcp') add(element, 'a resource control policy cannot use the action "*"')
      if (a === '*') {
        actionAll = true
        continue
      }
      if (!ACTION_RE.test(a)) {
        add(element, `"${a}" is not an action: write service-prefix:ActionName, e.g. s3:GetObject`)
        continue
      }
      const lower = a.toLowerCase()
      const colon = lower.indexOf(':')
      const svc = lower.slice(0, colon)
      if (hasWildcard(svc)) anyService.push(compileGlob(lower))
      else {
        const list = byService.get(svc) ?? []
        list.push(compileGlob(lower.slice(colon + 1)))
        byService.set(svc, list)
      }
    }
  }

  // Resource / NotResource
  let resources: ResourceEntry[] | undefined
  let notResource = false
  const hasRes = st.Resource !== undefined || st.NotResource !== undefined
  if (st.Resource !== undefined && st.NotResource !== undefined)
    add('Resource', 'a statement has Resource or NotResource, not both')
  else if (rules.resource === 'forbidden' && hasRes)
    add(
      st.Resource !== undefined ? 'Resource' : 'NotResource',
      `a ${kindName(kind)} names no Resource (the policy's own resource is implied)`,
    )
  else if (rules.resource === 'required' && !hasRes)
    add('Resource', `a statement of a ${kindName(kind)} needs Resource or NotResource`)
  else if (hasRes) {
    notResource = st.Resource === undefined
    const element = notResource ? 'NotResource' : 'Resource'
    const values = stringList(notResource ? st.NotResource : st.Resource, element, add)
    resources = []
    for (const r of values ?? []) {
      if (r === '*') {
        resources.push({ all: true })
        continue
      }
      const plain = withoutVariables(r)
      if (!plain.startsWith('arn:') || plain.split(':').length < 6) {
        add(element, `"${r}" is not an ARN (arn:partition:service:region:account:resource) or "*"`)
        continue
      }
      const tpl = parseTemplate(r, variables)
      resources.push(tpl.isStatic ? { matcher: compileArnGlob(r), raw: r } : { tpl, raw: r })
    }
  }

  // Principal / NotPrincipal
  let principal: PrincipalSet | undefined
  let notPrincipal = false
  const hasPrincipal = st.Principal !== undefined || st.NotPrincipal !== undefined
  if (st.Principal !== undefined && st.NotPrincipal !== undefined)
    add('Principal', 'a statement has Principal or NotPrincipal, not both')
  else if (rules.principal === 'forbidden' && hasPrincipal)
    add(
      st.Principal !== undefined ? 'Principal' : 'NotPrincipal',
      `a ${kindName(kind)} names no Principal: it applies to the identity it is attached to`,
    )
  else if (rules.principal === 'required' && !hasPrincipal)
    add('Principal', `a statement of a ${kindName(kind)} needs Principal or NotPrincipal`)
  else if (hasPrincipal) {
    notPrincipal = st.Principal === undefined
    const element = notPrincipal ? 'NotPrincipal' : 'Principal'
    principal = compilePrincipal(notPrincipal ? st.NotPrincipal : st.Principal, element, add)
  }

  // Condition
  const conditions: CompiledCondition[] = []
  if (st.Condition !== undefined) {
    if (!isRecord(st.Condition)) add('Condition', 'Condition must be an object of operator → { key: values }')
    else
      for (const [opName, block] of Object.entries(st.Condition)) {
        const op = parseOperator(opName)
        if (typeof op === 'string') {
          add('Condition', op)
          continue
        }
        if (!isRecord(block)) {
          add('Condition', `"${opName}" must map condition keys to values`)
          continue
        }
        for (const [key, raw] of Object.entries(block)) {
          if (!/^[^:\s]+:\S.*$/.test(key)) {
            add('Condition', `"${key}" is not a condition key (service:KeyName)`)
            continue
          }
          const values = stringList(raw, 'Condition', add, true)
          if (!values) continue
          if (op.def.family === 'null' && values.some((v) => v !== 'true' && v !== 'false')) {
            add('Condition', `Null takes "true" or "false", found ${JSON.stringify(raw)}`)
            continue
          }
          conditions.push(compileCondition(opName, op, key, values, variables))
        }
      }
  }
  if (problems.length > before) return undefined
  return {
    index,
    ...(sid !== undefined ? { sid } : {}),
    effect: effect as 'Allow' | 'Deny',
    notAction,
    actionAll,
    byService,
    anyService,
    ...(resources ? { resources } : {}),
    notResource,
    ...(principal ? { principal } : {}),
    notPrincipal,
    conditions,
  }
}

function compilePrincipal(
  v: unknown,
  element: string,
  add: (element: string, message: string) => void,
): PrincipalSet | undefined {
  const keys = new Set<string>()
  const accounts = new Set<string>()
  if (v === '*') return { any: true, keys, accounts }
  if (!isRecord(v)) {
    add(element, `${element} must be "*" or an object with AWS, Service, Federated or CanonicalUser`)
    return undefined
  }
  let any = false
  for (const [type, raw] of Object.entries(v)) {
    if (!PRINCIPAL_TYPES.has(type)) {
      add(element, `unknown principal type "${type}" (AWS, Service, Federated, CanonicalUser)`)
      continue
    }
    const values = stringList(raw, element, add)
    for (const value of values ?? []) {
      if (type === 'AWS') {
        if (value === '*') any = true
        else {
          const problem = addAwsPrincipal(value, keys, accounts)
          if (problem) add(element, problem)
        }
      } else if (type === 'Service') {
        if (value === '*') any = true
        else keys.add(`service|${value.toLowerCase()}`)
      } else if (type === 'Federated') keys.add(`federated|${value.toLowerCase()}`)
      else keys.add(`canonical|${value}`)
    }
  }
  return { any, keys, accounts }
}

function kindName(kind: PolicyKind): string {
  switch (kind) {
    case 'identity':
      return 'identity-based policy'
    case 'resource':
      return 'resource-based policy'
    case 'trust':
      return 'role trust policy'
    case 'scp':
      return 'service control policy'
    case 'rcp':
      return 'resource control policy'
    case 'boundary':
      return 'permissions boundary'
    case 'session':
      return 'session policy'
  }
}

/** A compiled policy: the public {@link CompiledPolicy} plus what evaluation needs. */
export class CompiledPolicyImpl implements CompiledPolicy {
  readonly compiled = true as const
  private readonly byServiceCache = new Map<string, readonly CompiledStatement[]>()
  constructor(
    readonly source: PolicyDocument,
    readonly kind: PolicyKind,
    readonly statements: readonly CompiledStatement[],
    readonly name?: string,
  ) {}

  /** The statements whose Action could match an action of `service` (lower-case), in document order. */
  statementsFor(service: string): readonly CompiledStatement[] {
    let list = this.byServiceCache.get(service)
    if (!list) {
      list = this.statements.filter(
        (s) => s.notAction || s.actionAll || s.anyService.length > 0 || s.byService.has(service),
      )
      this.byServiceCache.set(service, list)
    }
    return list
  }
}

const compiledCache = new WeakMap<object, Map<string, CompiledPolicyImpl>>()
// A second cache by content, for callers that rebuild equal documents per request (the sandbox reads
// policies back from its store): serializing is several times cheaper than compiling.
const byText = new Map<string, CompiledPolicyImpl>()

/**
 * Validates and compiles a policy once, to evaluate many requests against. Compiling the same
 * document object again (same kind and name) returns the cached result.
 *
 * @throws PolicyValidationError naming each bad statement (index and Sid) and element.
 */
export function compilePolicy(doc: PolicyDocument, opts: CompileOptions = {}): CompiledPolicy {
  return compileInternal(doc, opts.kind ?? 'identity', opts.name)
}

/** {@link compilePolicy} returning the implementation type (for the evaluator). */
export function compileInternal(doc: PolicyDocument, kind: PolicyKind, name?: string): CompiledPolicyImpl {
  const cacheKey = name === undefined ? kind : kind + '|' + name
  let byKind = compiledCache.get(doc)
  const hit = byKind?.get(cacheKey)
  if (hit) return hit
  const text = cacheKey + '\n' + JSON.stringify(doc)
  let c = byText.get(text)
  if (!c) {
    const a = analyze(doc, kind)
    if (a.problems.length > 0) throw new PolicyValidationError(a.problems, name)
    c = new CompiledPolicyImpl(doc, kind, a.statements, name)
    if (byText.size > 2000) byText.clear()
    byText.set(text, c)
  }
  if (!byKind) compiledCache.set(doc, (byKind = new Map<string, CompiledPolicyImpl>()))
  byKind.set(cacheKey, c)
  return c
}

/** Every problem of a policy, without throwing; an empty list means the policy is valid for `kind`. */
export function validatePolicy(doc: unknown, kind: PolicyKind = 'identity'): PolicyProblem[] {
  return analyze(doc, kind).problems
}

/**
 * Accepts a document or a compiled policy. A compiled policy is used as is; a plain object that
 * only looks compiled is recompiled from its source.
 */
export function toCompiled(
  p: PolicyDocument | CompiledPolicy,
  kind: PolicyKind,
  name?: string,
): CompiledPolicyImpl {
  if (p instanceof CompiledPolicyImpl) return p
  if ((p as CompiledPolicy).compiled === true && isRecord((p as CompiledPolicy).source))
    return compileInternal((p as CompiledPolicy).source, kind, name ?? (p as CompiledPolicy).name)
  return compileInternal(p as PolicyDocument, kind, name)
}
