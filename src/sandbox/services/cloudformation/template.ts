/**
 * Templates: reading the text (JSON, or YAML with short-form tags) and checking the structure
 * CloudFormation checks before it starts any work — sections, resource and parameter members,
 * references to names the template does not declare, capabilities. Every failure here is a
 * `ValidationError` with CloudFormation's `Template format error: …` texts, returned by the API
 * call itself (CreateStack, ValidateTemplate…), never as a failed stack.
 *
 * Template anatomy: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-anatomy.html
 * Resources: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/resources-section-structure.html
 * Parameters: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html
 * Capabilities: https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html
 */
import { leadingCommentsEnd, parseTemplate, tooDeepMessage, tooDeepPath } from '../../../model/cfn-yaml.js'
import { CrosspipeError } from '../../../model/errors.js'
import { templateError, validationError, insufficientCapabilities } from './errors.js'

/** A resource as declared in the template. */
export interface ResourceDecl {
  readonly Type: string
  readonly Properties?: Readonly<Record<string, unknown>>
  readonly DependsOn?: string | readonly string[]
  readonly Condition?: string
  readonly DeletionPolicy?: unknown
  readonly UpdateReplacePolicy?: unknown
  readonly Metadata?: unknown
  readonly CreationPolicy?: unknown
  readonly UpdatePolicy?: unknown
}

/** A parameter as declared in the template. */
export interface ParameterDecl {
  readonly Type: string
  readonly Default?: unknown
  readonly AllowedValues?: readonly unknown[]
  readonly AllowedPattern?: string
  readonly ConstraintDescription?: string
  readonly Description?: string
  readonly MaxLength?: unknown
  readonly MinLength?: unknown
  readonly MaxValue?: unknown
  readonly MinValue?: unknown
  readonly NoEcho?: unknown
}

/** An output as declared in the template. */
export interface OutputDecl {
  readonly Value: unknown
  readonly Description?: unknown
  readonly Condition?: string
  readonly Export?: { readonly Name: unknown }
}

/** A template in long form, after the structure checks of {@link checkTemplate}. */
export interface Template {
  readonly AWSTemplateFormatVersion?: string
  readonly Description?: string
  readonly Metadata?: Readonly<Record<string, unknown>>
  readonly Parameters?: Readonly<Record<string, ParameterDecl>>
  readonly Mappings?: Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, unknown>>>>>>
  readonly Conditions?: Readonly<Record<string, unknown>>
  readonly Transform?: string | readonly string[]
  readonly Resources: Readonly<Record<string, ResourceDecl>>
  readonly Outputs?: Readonly<Record<string, OutputDecl>>
  readonly Rules?: Readonly<Record<string, unknown>>
}

/** The pseudo parameters: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/pseudo-parameter-reference.html */
export const PSEUDO_PARAMETERS: readonly string[] = [
  'AWS::AccountId',
  'AWS::NotificationARNs',
  'AWS::NoValue',
  'AWS::Partition',
  'AWS::Region',
  'AWS::StackId',
  'AWS::StackName',
  'AWS::URLSuffix',
]

const SECTIONS = new Set([
  'AWSTemplateFormatVersion',
  'Description',
  'Metadata',
  'Parameters',
  'Rules',
  'Mappings',
  'Conditions',
  'Transform',
  'Resources',
  'Outputs',
])
const RESOURCE_MEMBERS = new Set([
  'Type',
  'Properties',
  'DependsOn',
  'Condition',
  'DeletionPolicy',
  'UpdateReplacePolicy',
  'Metadata',
  'CreationPolicy',
  'UpdatePolicy',
])
const PARAMETER_MEMBERS = new Set([
  'Type',
  'Default',
  'AllowedValues',
  'AllowedPattern',
  'ConstraintDescription',
  'Description',
  'MaxLength',
  'MinLength',
  'MaxValue',
  'MinValue',
  'NoEcho',
])
const OUTPUT_MEMBERS = new Set(['Value', 'Description', 'Condition', 'Export'])

/** The policies DeletionPolicy and UpdateReplacePolicy accept (aws-attribute-deletionpolicy.html). */
const POLICIES = new Set(['Delete', 'Retain', 'RetainExceptOnCreate', 'Snapshot'])

/** Transforms the sandbox expands; any other fails loudly rather than deploying a wrong template. */
export const LANGUAGE_EXTENSIONS = 'AWS::LanguageExtensions'

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/**
 * Reads a template body. JSON first when it looks like JSON (the positions JSON.parse reports
 * are not lines), else YAML with the short-form tags; the error texts are CloudFormation's
 * `JSON not well-formed` / `YAML not well-formed` with the position.
 */
export function readTemplateText(text: string): Record<string, unknown> {
  const trimmed = text.trimStart()
  if (trimmed.startsWith('{')) {
    let v: unknown
    try {
      v = JSON.parse(text)
    } catch {
      // fall through to YAML, which reports line and column
    }
    if (isObject(v)) {
      // Every reader of a template recurses into it: refuse what would overflow the stack (issue 11).
      if (tooDeepPath(v)) throw templateError(`${tooDeepMessage()}.`)
      return v
    }
  }
  try {
    return parseTemplate(text, 'template').body
  } catch (e) {
    if (e instanceof CrosspipeError) {
      const problem = e.problems[0]
      const loc = problem?.location
      const at = loc?.line !== undefined ? ` (line ${loc.line}, column ${loc.column ?? 1})` : ''
      // Too deep, or an alias bomb: say so, rather than a syntax error the text does not have.
      if (
        problem &&
        (problem.message === tooDeepMessage() || problem.message.startsWith('the YAML cannot be read'))
      )
        throw templateError(`${problem.message}${at}.`)
      const kind = trimmed.startsWith('{') ? 'JSON' : 'YAML'
      throw templateError(`${kind} not well-formed.${at}`)
    }
    throw e
  }
}

/** The transforms a template declares, in order. */
export function transformsOf(body: Readonly<Record<string, unknown>>): string[] {
  const t = body.Transform
  if (t === undefined) return []
  if (typeof t === 'string') return [t]
  if (Array.isArray(t) && t.every((x) => typeof x === 'string')) return t
  throw templateError('Transform must be a string or a list of strings')
}

/** Names the template declares: parameters, resources, conditions, mappings. */
interface Names {
  readonly parameters: ReadonlySet<string>
  readonly resources: ReadonlySet<string>
  readonly conditions: ReadonlySet<string>
}

/**
 * Checks a template's structure and returns it typed. Checks, in CloudFormation's order of
 * texts: unknown top-level sections, a non-empty Resources section, each resource's Type and
 * members, parameter declarations, outputs, references to undeclared names, condition names.
 */
export function checkTemplate(body: Readonly<Record<string, unknown>>): Template {
  const unknown = Object.keys(body).filter((k) => !SECTIONS.has(k))
  if (unknown.length) throw templateError(`Invalid template property or properties [${unknown.join(', ')}]`)
  if (body.AWSTemplateFormatVersion !== undefined && body.AWSTemplateFormatVersion !== '2010-09-09') {
    throw templateError(
      `Unsupported template format version ${JSON.stringify(body.AWSTemplateFormatVersion)}`,
    )
  }
  if (body.Description !== undefined && typeof body.Description !== 'string') {
    throw templateError('Every Description member must be a string')
  }
  for (const t of transformsOf(body)) {
    if (t !== LANGUAGE_EXTENSIONS)
      throw validationError(`Transform ${t} is not supported by the crosspipe sandbox`)
  }
  const resources = body.Resources
  if (!isObject(resources) || Object.keys(resources).length === 0) {
    throw templateError('At least one Resources member must be defined.')
  }
  // Fn::ForEach (AWS::LanguageExtensions) expands keys; the sandbox does not expand them, and says so
  // rather than reading `Fn::ForEach::X` as a resource without a Type.
  for (const section of [resources, body.Outputs, body.Conditions]) {
    if (isObject(section) && Object.keys(section).some((k) => k.startsWith('Fn::ForEach'))) {
      throw validationError('Fn::ForEach is not supported by the crosspipe sandbox')
    }
  }
  const params = body.Parameters ?? {}
  if (!isObject(params)) throw templateError('Parameters must be a mapping')
  for (const [name, p] of Object.entries(params)) {
    if (!isObject(p) || typeof p.Type !== 'string') {
      throw templateError(`[/Parameters/${name}] Every Parameters object must contain a Type member.`)
    }
    for (const k of Object.keys(p)) {
      if (!PARAMETER_MEMBERS.has(k)) throw templateError(`Invalid template parameter property '${k}'`)
    }
    if (!isParameterType(p.Type)) throw templateError(`Unrecognized parameter type: ${p.Type}`)
    if (p.AllowedValues !== undefined && !Array.isArray(p.AllowedValues)) {
      throw templateError(`[/Parameters/${name}/AllowedValues] must be a list`)
    }
  }
  const mappings = body.Mappings ?? {}
  if (!isObject(mappings)) throw templateError('Mappings must be a mapping')
  for (const [name, m] of Object.entries(mappings)) {
    if (!isObject(m)) throw templateError(`Mappings attribute ${name} must be a JSON object`)
    for (const [k, v] of Object.entries(m)) {
      if (!isObject(v)) throw templateError(`Mappings attribute ${name}.${k} must be a JSON object`)
    }
  }
  const conditions = body.Conditions ?? {}
  if (!isObject(conditions)) throw templateError('Conditions must be a mapping')
  for (const [id, r] of Object.entries(resources)) {
    if (!isObject(r) || typeof r.Type !== 'string') {
      throw templateError(`[/Resources/${id}] Every Resources object must contain a Type member.`)
    }
    for (const k of Object.keys(r)) {
      if (!RESOURCE_MEMBERS.has(k)) throw templateError(`Invalid template resource property '${k}'`)
    }
    if (r.Properties !== undefined && !isObject(r.Properties)) {
      throw templateError(`[/Resources/${id}/Properties] Every Properties object must be a JSON object`)
    }
    for (const pol of ['DeletionPolicy', 'UpdateReplacePolicy'] as const) {
      const v = r[pol]
      if (v !== undefined && (typeof v !== 'string' || !POLICIES.has(v))) {
        throw templateError(`Unrecognized ${pol} ${JSON.stringify(v)} for resource ${id}`)
      }
    }
    if (r.Condition !== undefined && (typeof r.Condition !== 'string' || !(r.Condition in conditions))) {
      throw templateError(
        `Unresolved dependencies [${JSON.stringify(r.Condition)}]. Cannot reference resources in the Conditions block of the template`,
      )
    }
  }
  const outputs = body.Outputs ?? {}
  if (!isObject(outputs)) throw templateError('Outputs must be a mapping')
  for (const [id, o] of Object.entries(outputs)) {
    if (!isObject(o) || !('Value' in o))
      throw templateError(`Every Outputs member must contain a Value object`)
    for (const k of Object.keys(o)) {
      if (!OUTPUT_MEMBERS.has(k)) throw templateError(`Invalid outputs property : [${k}]`)
    }
    if (o.Condition !== undefined && (typeof o.Condition !== 'string' || !(o.Condition in conditions))) {
      throw templateError(
        `Unresolved dependencies [${JSON.stringify(o.Condition)}]. Cannot reference resources in the Conditions block of the template`,
      )
    }
    if (o.Export !== undefined && (!isObject(o.Export) || !('Name' in o.Export))) {
      throw templateError(`[/Outputs/${id}/Export] Export must contain a Name`)
    }
  }
  if (!transformsOf(body).includes(LANGUAGE_EXTENSIONS)) {
    const fn = languageExtensionUse({ r: resources, o: outputs, c: conditions })
    if (fn) throw templateError(`${fn} requires the AWS::LanguageExtensions transform`)
  }
  const names: Names = {
    parameters: new Set(Object.keys(params)),
    resources: new Set(Object.keys(resources)),
    conditions: new Set(Object.keys(conditions)),
  }
  checkReferences(resources, names, 'Resources')
  checkReferences(outputs, names, 'Outputs')
  checkConditionReferences(conditions, names)
  return body as unknown as Template
}

/**
 * The first function only the AWS::LanguageExtensions transform provides (Fn::Length,
 * Fn::ToJsonString, Fn::FindInMap with a DefaultValue), or undefined.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/transform-aws-languageextensions.html
 */
function languageExtensionUse(value: unknown): string | undefined {
  if (Array.isArray(value)) {
    for (const v of value) {
      const f = languageExtensionUse(v)
      if (f) return f
    }
    return undefined
  }
  if (!isObject(value)) return undefined
  const keys = Object.keys(value)
  if (keys.length === 1) {
    const k = keys[0]!
    if (k === 'Fn::Length' || k === 'Fn::ToJsonString') return k
    if (k === 'Fn::FindInMap' && Array.isArray(value[k]) && (value[k] as unknown[]).length === 4)
      return 'Fn::FindInMap with DefaultValue'
  }
  for (const v of Object.values(value)) {
    const f = languageExtensionUse(v)
    if (f) return f
  }
  return undefined
}

/** Whether a string is a parameter type CloudFormation accepts. */
export function isParameterType(t: string): boolean {
  if (t === 'String' || t === 'Number' || t === 'CommaDelimitedList' || t === 'List<Number>') return true
  if (t === 'AWS::SSM::Parameter::Name') return true
  const ssm = /^AWS::SSM::Parameter::Value<(.+)>$/.exec(t)
  if (ssm) {
    const inner = ssm[1]!
    return (
      inner === 'String' || inner === 'List<String>' || inner === 'CommaDelimitedList' || isAwsType(inner)
    )
  }
  const list = /^List<(.+)>$/.exec(t)
  if (list) return isAwsType(list[1]!)
  return isAwsType(t)
}

/** AWS-specific parameter types (`AWS::EC2::VPC::Id`…): accepted as strings in the sandbox. */
function isAwsType(t: string): boolean {
  return /^AWS::[A-Za-z0-9]+::[A-Za-z0-9:]+$/.test(t) && !t.startsWith('AWS::SSM::')
}

/** Every `Ref`/`GetAtt`/`Sub` name, `DependsOn` entry and `Fn::If` condition under a value. */
export interface References {
  readonly refs: Set<string>
  readonly getAtts: Set<string>
  readonly conditions: Set<string>
}

/** Collects the references of a value (a resource declaration, an output…). */
export function collectReferences(
  value: unknown,
  out: References = { refs: new Set(), getAtts: new Set(), conditions: new Set() },
): References {
  if (Array.isArray(value)) {
    for (const v of value) collectReferences(v, out)
    return out
  }
  if (!isObject(value)) return out
  const keys = Object.keys(value)
  if (keys.length === 1) {
    const k = keys[0]!
    const v = value[k]
    if (k === 'Ref' && typeof v === 'string') {
      out.refs.add(v)
      return out
    }
    if (k === 'Fn::GetAtt') {
      const target: unknown = Array.isArray(v) ? v[0] : typeof v === 'string' ? v.split('.')[0] : undefined
      if (typeof target === 'string') out.getAtts.add(target)
      if (Array.isArray(v)) for (const x of v.slice(1)) collectReferences(x, out)
      return out
    }
    if (k === 'Fn::Sub') {
      const text: unknown = Array.isArray(v) ? (v as unknown[])[0] : v
      const vars: unknown = Array.isArray(v) ? (v as unknown[])[1] : undefined
      const local = isObject(vars) ? new Set(Object.keys(vars)) : new Set<string>()
      if (typeof text === 'string') {
        for (const name of subVariables(text)) {
          if (local.has(name)) continue
          const dot = name.indexOf('.')
          if (dot > 0) out.getAtts.add(name.slice(0, dot))
          else out.refs.add(name)
        }
      }
      if (vars !== undefined) collectReferences(vars, out)
      return out
    }
    if (k === 'Fn::If' && Array.isArray(v) && typeof v[0] === 'string') {
      out.conditions.add(v[0])
      collectReferences(v.slice(1), out)
      return out
    }
    if (k === 'Condition' && typeof v === 'string') {
      out.conditions.add(v)
      return out
    }
  }
  for (const v of Object.values(value)) collectReferences(v, out)
  return out
}

/** The `${…}` variables of an `Fn::Sub` string, without `${!literal}` escapes. */
export function subVariables(text: string): string[] {
  const out: string[] = []
  for (const m of text.matchAll(/\$\{([^}]*)\}/g)) {
    const name = m[1]!
    if (name.startsWith('!')) continue
    out.push(name.trim())
  }
  return out
}

function checkReferences(
  section: Record<string, unknown>,
  names: Names,
  where: 'Resources' | 'Outputs',
): void {
  const unresolved = new Set<string>()
  for (const [id, decl] of Object.entries(section)) {
    const value = where === 'Resources' && isObject(decl) ? { ...decl, Condition: undefined } : decl
    const refs = collectReferences(
      where === 'Outputs' && isObject(decl) ? { ...decl, Condition: undefined } : value,
    )
    for (const r of refs.refs) {
      if (!names.parameters.has(r) && !names.resources.has(r) && !PSEUDO_PARAMETERS.includes(r))
        unresolved.add(r)
    }
    for (const r of refs.getAtts) {
      if (!names.resources.has(r))
        throw validationError(`Template error: instance of Fn::GetAtt references undefined resource ${r}`)
    }
    for (const c of refs.conditions) {
      if (!names.conditions.has(c)) throw templateError(`Unresolved condition dependency ${c} in Fn::If`)
    }
    if (where === 'Resources' && isObject(decl)) {
      const deps = decl.DependsOn
      const list = deps === undefined ? [] : Array.isArray(deps) ? deps : [deps]
      for (const d of list) {
        if (typeof d !== 'string' || !names.resources.has(d)) unresolved.add(String(d))
      }
      if (list.includes(id)) throw validationError(`Circular dependency between resources: [${id}]`)
    }
  }
  if (unresolved.size) {
    throw templateError(
      `Unresolved resource dependencies [${[...unresolved].join(', ')}] in the ${where} block of the template`,
    )
  }
}

function checkConditionReferences(conditions: Record<string, unknown>, names: Names): void {
  for (const value of Object.values(conditions)) {
    const refs = collectReferences(value)
    const bad = [...refs.refs].filter((r) => !names.parameters.has(r) && !PSEUDO_PARAMETERS.includes(r))
    bad.push(...refs.getAtts)
    if (bad.length) {
      throw templateError(
        `Unresolved dependencies [${bad.join(', ')}]. Cannot reference resources in the Conditions block of the template`,
      )
    }
    for (const c of refs.conditions) {
      if (!names.conditions.has(c))
        throw templateError(
          `Unresolved dependencies [${c}]. Cannot reference resources in the Conditions block of the template`,
        )
    }
  }
}

/** IAM resource types that need a capability, and the property that gives each a custom name. */
const IAM_TYPES: Readonly<Record<string, string | undefined>> = {
  'AWS::IAM::Role': 'RoleName',
  'AWS::IAM::ManagedPolicy': 'ManagedPolicyName',
  'AWS::IAM::User': 'UserName',
  'AWS::IAM::Group': 'GroupName',
  'AWS::IAM::InstanceProfile': 'InstanceProfileName',
  'AWS::IAM::Policy': undefined,
  'AWS::IAM::AccessKey': undefined,
  'AWS::IAM::UserToGroupAddition': undefined,
}

/**
 * The capability a template needs: `CAPABILITY_NAMED_IAM` when an IAM resource has a custom
 * name, `CAPABILITY_IAM` for other IAM resources, none otherwise (API_CreateStack.html,
 * "Capabilities").
 */
export function requiredCapability(t: Template): 'CAPABILITY_IAM' | 'CAPABILITY_NAMED_IAM' | undefined {
  let need: 'CAPABILITY_IAM' | 'CAPABILITY_NAMED_IAM' | undefined
  for (const r of Object.values(t.Resources)) {
    if (!(r.Type in IAM_TYPES)) continue
    const nameProp = IAM_TYPES[r.Type]
    if (nameProp !== undefined && r.Properties?.[nameProp] !== undefined) return 'CAPABILITY_NAMED_IAM'
    need = 'CAPABILITY_IAM'
  }
  return need
}

/** Throws `InsufficientCapabilitiesException` when the template needs a capability not given. */
export function checkCapabilities(t: Template, given: readonly string[]): void {
  const need = requiredCapability(t)
  if (need === undefined || given.includes('CAPABILITY_NAMED_IAM')) return
  if (need === 'CAPABILITY_IAM' && given.includes('CAPABILITY_IAM')) return
  throw insufficientCapabilities(need)
}

/** Reads a template text and checks it; the one entry point the engine uses. */
export function loadTemplate(text: string): Template {
  const key = cacheKey(text)
  const cached = parsed.get(key)
  if (cached) {
    // Most recently used last, so the oldest is evicted first.
    parsed.delete(key)
    parsed.set(key, cached)
    return structuredClone(cached)
  }
  const template = checkTemplate(readTemplateText(text))
  parsed.set(key, structuredClone(template))
  parsedChars += key.length
  for (const [k] of parsed) {
    if (parsedChars <= PARSED_CHARS_MAX || parsed.size <= 1) break
    parsed.delete(k)
    parsedChars -= k.length
  }
  return template
}

/**
 * The key of a text in {@link parsed}: the text, with its leading comments (if any) replaced by one
 * empty comment line. Texts with the same key read to the same template (comments carry no value,
 * and no error a parse throws is kept), so the templates synth writes for each target account,
 * which differ only in their header comments, are read once. A text without leading comments
 * never starts with `#`, so it cannot share a key with one that has them (nor take JSON's path).
 */
function cacheKey(text: string): string {
  const start = leadingCommentsEnd(text)
  return start === 0 ? text : `#\n${text.slice(start)}`
}

/**
 * Templates already read, by {@link cacheKey}: a stack operation reads its template at
 * CreateChangeSet and again at ExecuteChangeSet (and a deploy of many stacks from one template,
 * once per stack), and parsing YAML costs far more than a copy. Copies go out, so no caller can
 * change another's.
 */
const parsed = new Map<string, Template>()
let parsedChars = 0
/** At most this many characters of template text are kept (the keys are texts). */
const PARSED_CHARS_MAX = 4_000_000
