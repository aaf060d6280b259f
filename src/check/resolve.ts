/**
 * Resolution of the intrinsics of every template in a manifest, so that policies can be
 * evaluated as AWS will see them after deployment.
 *
 * Values that only exist after deployment (a key's id, a generated bucket or role name) are given
 * deterministic placeholders built the way CloudFormation builds physical names
 * (`<stack>-<LogicalId>-<suffix>`), and recorded in a symbol table so that output can show them
 * as `{stack.LogicalId.Attribute}`. The same placeholder flows through `Ref`/`GetAtt`/`Sub`, through
 * a stack's outputs and through the manifest's `fromStack` references into other accounts, so a
 * key ARN is the same string in the key policy's stack and in the target account's role policy.
 *
 * Intrinsic functions: https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference.html
 * Pseudo parameters: https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/pseudo-parameter-reference.html
 * Ref / GetAtt return values: each resource type's page in the Template Reference, section "Return values".
 */
import { createHash } from 'node:crypto'
import { partitionOf, formatArn } from '../iam/arn.js'
import { dnsSuffix } from '../iam/aws-facts.js'
import { CrosspipeError } from '../model/errors.js'
import type { ParsedTemplate } from '../model/cfn-yaml.js'
import type { ManifestStackEntry } from '../synth/manifest.js'
import { resourceAttributes, samGenerated } from './spec.js'

/** A template path, as `ParsedTemplate.locate` takes it. */
export type TemplatePath = readonly (string | number)[]

/** One stack of the manifest with its parsed template. */
export interface StackInput {
  readonly entry: ManifestStackEntry
  readonly template: ParsedTemplate
  /** Where the stack is in the manifest (for errors about its parameters). */
  readonly manifestFile?: string
  readonly index: number
}

/** A resource after resolution (only those whose Condition holds). */
export interface ResolvedResource {
  readonly logicalId: string
  readonly type: string
  readonly properties: Readonly<Record<string, unknown>>
  readonly path: TemplatePath
}

/** A stack with every intrinsic of its resources and outputs evaluated. */
export interface ResolvedStack {
  readonly name: string
  readonly account: string
  readonly region: string
  readonly partition: string
  readonly phase: number
  readonly template: ParsedTemplate
  readonly resources: ReadonlyMap<string, ResolvedResource>
  readonly outputs: Readonly<Record<string, unknown>>
  /** `Ref` of a resource (its physical id). */
  physicalId(logicalId: string): string
  /** `Fn::GetAtt` of a resource. */
  attribute(logicalId: string, attribute: string): string
}

/** The removal marker for `Ref: AWS::NoValue`. */
const NO_VALUE = Symbol('AWS::NoValue')

/** A problem found while resolving that is not bad input but an ordering issue (a finding). */
export interface OrderProblem {
  readonly stack: string
  readonly parameter: string
  readonly fromStack: string
  readonly message: string
}

/** Resolves every stack of a manifest, each once, following `fromStack` references. */
export class ManifestResolver {
  readonly #inputs = new Map<string, StackInput>()
  readonly #done = new Map<string, ResolvedStack>()
  readonly #busy = new Set<string>()
  /** Placeholder → symbolic name, for output. */
  readonly symbols = new Map<string, string>()
  /** `fromStack` references to a stack that is not deployed in an earlier phase. */
  readonly orderProblems: OrderProblem[] = []

  /** Every pass of each stack, by its key (stackKeys), in phase order (a stack listed twice is deployed twice). */
  readonly #passes = new Map<string, string[]>()
  /** The stack keys of each manifest stack name (several when one name is used in several accounts). */
  readonly #byName = new Map<string, Set<string>>()
  readonly #keyOf = new Map<StackInput, string>()

  constructor(inputs: readonly StackInput[]) {
    const keys = stackKeys(inputs.map((i) => i.entry))
    inputs.forEach((i, n) => {
      const name = keys[n]!
      this.#keyOf.set(i, name)
      this.#byName.set(i.entry.name, (this.#byName.get(i.entry.name) ?? new Set()).add(name))
      const passes = this.#passes.get(name) ?? []
      const same = passes.map((k) => this.#inputs.get(k)!).find((x) => x.entry.phase === i.entry.phase)
      if (same)
        throw manifestError(
          i,
          `stacks[${i.index}].name`,
          `two stacks are named "${i.entry.name}" in phase ${i.entry.phase} in account ${i.entry.account} and ${i.entry.region}; stack names are unique in an account and region, except for a stack deployed again in a later phase (a multi-pass deploy)`,
        )
      const key = `${name}\u0000${i.entry.phase}`
      this.#inputs.set(key, i)
      passes.push(key)
      passes.sort((a, b) => this.#inputs.get(a)!.entry.phase - this.#inputs.get(b)!.entry.phase)
      this.#passes.set(name, passes)
    })
  }

  /** The key a stack of the manifest goes by in findings and symbols (see stackKeys). */
  keyOf(input: StackInput): string {
    return this.#keyOf.get(input) ?? input.entry.name
  }

  /** Every stack, resolved as its last pass leaves it, in manifest order. */
  all(): ResolvedStack[] {
    return [...this.#passes.keys()].map((n) => this.stack(n))
  }

  /** The passes of stacks deployed more than once, except their last, resolved. */
  earlierPasses(): ResolvedStack[] {
    return [...this.#passes.values()].flatMap((keys) => keys.slice(0, -1).map((k) => this.#resolve(k)))
  }

  /** One stack as its last pass leaves it (memoized). */
  stack(name: string): ResolvedStack {
    const keys = this.#passes.get(name)
    if (!keys) throw new Error(`bug: unknown stack ${name}`)
    return this.#resolve(keys[keys.length - 1]!)
  }

  #resolve(key: string): ResolvedStack {
    const done = this.#done.get(key)
    if (done) return done
    const input = this.#inputs.get(key)
    if (!input) throw new Error(`bug: unknown stack ${key}`)
    const name = input.entry.name
    if (this.#busy.has(key))
      throw manifestError(
        input,
        `stacks[${input.index}].parameters`,
        `stack "${name}" depends on its own outputs through fromStack references (a cycle)`,
      )
    this.#busy.add(key)
    try {
      const r = new StackResolution(input, this)
      const resolved = r.run()
      this.#done.set(key, resolved)
      return resolved
    } finally {
      this.#busy.delete(key)
    }
  }

  /**
   * The value of another stack's output, for a `fromStack` parameter: the output of the last pass
   * of that stack deployed before this one.
   */
  output(from: StackInput, param: string, ref: { fromStack: string; output: string }): unknown {
    const at = `stacks[${from.index}].parameters.${param}`
    const named = [...(this.#byName.get(ref.fromStack) ?? [])]
    if (named.length > 1)
      throw manifestError(
        from,
        at,
        `fromStack "${ref.fromStack}" is ambiguous: stacks of several accounts or regions have that name (${named.join(', ')})`,
      )
    const keys = named.length ? this.#passes.get(named[0]!) : undefined
    if (!keys) throw manifestError(from, at, `fromStack "${ref.fromStack}" is not a stack of this manifest`)
    const before = keys.filter((k) => this.#inputs.get(k)!.entry.phase < from.entry.phase)
    const key = before.length ? before[before.length - 1]! : keys[keys.length - 1]!
    const target = this.#inputs.get(key)!
    if (target.entry.phase >= from.entry.phase)
      this.orderProblems.push({
        stack: this.keyOf(from),
        parameter: param,
        fromStack: ref.fromStack,
        message: `parameter ${param} of stack ${from.entry.name} (phase ${from.entry.phase}) takes output ${ref.output} of stack ${ref.fromStack}, which deploys in phase ${target.entry.phase}: the output does not exist yet when ${from.entry.name} deploys`,
      })
    const s = this.#resolve(key)
    if (!(ref.output in s.outputs))
      throw manifestError(
        from,
        at,
        `stack "${ref.fromStack}" has no output "${ref.output}" (its outputs: ${Object.keys(s.outputs).join(', ') || 'none'})`,
      )
    return s.outputs[ref.output]
  }

  /** An export (`Fn::ImportValue`) of a stack in the same account and region. */
  exportValue(account: string, region: string, name: string): unknown {
    for (const n of this.#passes.keys()) {
      const i = this.#inputs.get(this.#passes.get(n)!.at(-1)!)!
      if (i.entry.account !== account || i.entry.region !== region) continue
      const outs = (i.template.body.Outputs ?? {}) as Record<string, { Export?: { Name?: unknown } }>
      for (const [outName, o] of Object.entries(outs)) {
        if (o?.Export?.Name === undefined) continue
        const s = this.stack(n)
        const exportName = s.outputs[`${EXPORT_PREFIX}${outName}`]
        if (exportName === name) return s.outputs[outName]
      }
    }
    return undefined
  }
}

/**
 * The key of each manifest stack, as findings, symbols and fixes name it: its name, or, when stacks
 * of several accounts or regions share the name (CloudFormation stack names are unique per
 * account and region, so a sample may deploy one target template under one name to test and prod),
 * `name (account region)`.
 */
export function stackKeys(entries: readonly ManifestStackEntry[]): string[] {
  const where = new Map<string, Set<string>>()
  for (const e of entries) where.set(e.name, (where.get(e.name) ?? new Set()).add(`${e.account} ${e.region}`))
  return entries.map((e) => (where.get(e.name)!.size > 1 ? `${e.name} (${e.account} ${e.region})` : e.name))
}

const EXPORT_PREFIX = '\u0000export:'

/** The macro an `Fn::Transform` names (`{ Name, Parameters }`, also written as a list of one). */
function macroName(arg: unknown): string {
  const m: unknown = Array.isArray(arg) ? (arg as unknown[])[0] : arg
  return isObject(m) && typeof m.Name === 'string' ? m.Name : '(unnamed)'
}

/** The resource types whose Ref and Fn::GetAtt values `check` builds itself (see `getAtt`). */
const KNOWN_TYPES = new Set([
  'AWS::IAM::Role',
  'AWS::IAM::User',
  'AWS::IAM::ManagedPolicy',
  'AWS::KMS::Key',
  'AWS::S3::Bucket',
  'AWS::CodeBuild::Project',
  'AWS::SNS::Topic',
  'AWS::Lambda::Function',
  'AWS::CodeCommit::Repository',
])

function manifestError(i: StackInput, path: string, message: string): CrosspipeError {
  return new CrosspipeError('invalid-manifest', `${i.manifestFile ?? 'manifest'}: ${message}`, [
    { location: { file: i.manifestFile ?? 'manifest', path }, message },
  ])
}

/** A short stable hash, for placeholders. */
function hash(s: string, n: number): string {
  return createHash('sha256').update(s).digest('hex').slice(0, n)
}

/** The resolution of one stack. */
class StackResolution {
  readonly #in: StackInput
  readonly #owner: ManifestResolver
  readonly #body: Record<string, unknown>
  readonly #params = new Map<string, unknown>()
  readonly #conditions = new Map<string, boolean>()
  readonly #condBusy = new Set<string>()
  readonly #resourcesRaw: Record<string, Record<string, unknown>>
  readonly #resolved = new Map<string, ResolvedResource>()
  readonly #resBusy = new Set<string>()
  readonly partition: string

  constructor(input: StackInput, owner: ManifestResolver) {
    this.#in = input
    this.#owner = owner
    this.#body = input.template.body
    const p = partitionOf(input.entry.region)
    if (!p)
      throw manifestError(
        input,
        `stacks[${input.index}].region`,
        `"${input.entry.region}" is not an AWS region`,
      )
    this.partition = p
    const res = this.#body.Resources
    if (!isObject(res) || Object.keys(res).length === 0)
      throw this.error(
        ['Resources'],
        'a template needs a Resources section with at least one resource',
        'invalid-template',
      )
    this.#resourcesRaw = res as Record<string, Record<string, unknown>>
  }

  get name(): string {
    return this.#in.entry.name
  }

  /** The stack's key: its name, or its name with account and region when the name is not unique. */
  get key(): string {
    return this.#owner.keyOf(this.#in)
  }

  error(
    path: TemplatePath,
    message: string,
    code: 'unresolvable' | 'invalid-template' = 'unresolvable',
  ): CrosspipeError {
    const t = this.#in.template
    let loc: { line: number; column: number } | undefined
    for (let n = path.length; n > 0 && !loc; n--) loc = t.locate(path.slice(0, n))
    return new CrosspipeError(code, `${t.file}: ${message}`, [
      { location: { file: t.file, ...loc, path: path.join('.') }, message },
    ])
  }

  run(): ResolvedStack {
    this.#resolveParameters()
    for (const id of Object.keys(this.#resourcesRaw)) this.#resource(id)
    const outputs: Record<string, unknown> = {}
    const rawOut = this.#body.Outputs
    if (rawOut !== undefined && !isObject(rawOut))
      throw this.error(['Outputs'], 'Outputs must be a mapping', 'invalid-template')
    for (const [name, o] of Object.entries(rawOut ?? {})) {
      if (!isObject(o) || !('Value' in o))
        throw this.error(['Outputs', name], `output ${name} needs a Value`, 'invalid-template')
      if (typeof o.Condition === 'string' && !this.condition(o.Condition, ['Outputs', name, 'Condition']))
        continue
      outputs[name] = this.value(o.Value, ['Outputs', name, 'Value'])
      if (isObject(o.Export))
        outputs[`${EXPORT_PREFIX}${name}`] = this.value(o.Export.Name, ['Outputs', name, 'Export', 'Name'])
    }
    return {
      name: this.key,
      account: this.#in.entry.account,
      region: this.#in.entry.region,
      partition: this.partition,
      phase: this.#in.entry.phase,
      template: this.#in.template,
      resources: this.#resolved,
      outputs,
      physicalId: (id) => this.ref(id, ['Resources', id]),
      attribute: (id, a) => this.getAtt(id, a, ['Resources', id]),
    }
  }

  #resolveParameters(): void {
    const declared = (this.#body.Parameters ?? {}) as Record<string, Record<string, unknown>>
    const given = this.#in.entry.parameters
    for (const name of Object.keys(given)) {
      if (!(name in declared))
        throw manifestError(
          this.#in,
          `stacks[${this.#in.index}].parameters.${name}`,
          `stack "${this.name}" passes parameter ${name}, which template ${this.#in.template.file} does not declare (CloudFormation rejects unknown parameters)`,
        )
    }
    for (const [name, decl] of Object.entries(declared)) {
      const g = given[name]
      let v: unknown
      if (g === undefined) {
        if (decl?.Default === undefined)
          throw this.error(
            ['Parameters', name],
            `parameter ${name} has no Default and stack "${this.name}" in the manifest gives it no value`,
          )
        v =
          typeof decl.Default === 'number' || typeof decl.Default === 'boolean'
            ? String(decl.Default)
            : decl.Default
      } else if (typeof g === 'string') v = g
      else v = this.#owner.output(this.#in, name, g)
      const type = typeof decl?.Type === 'string' ? decl.Type : 'String'
      if ((type === 'CommaDelimitedList' || type.startsWith('List<')) && typeof v === 'string')
        v = v.split(',').map((x) => x.trim())
      const allowed = decl?.AllowedValues
      if (Array.isArray(allowed) && typeof v === 'string' && !allowed.map(String).includes(v))
        throw this.error(
          ['Parameters', name, 'AllowedValues'],
          `parameter ${name} is "${v}", not one of its AllowedValues (${allowed.join(', ')})`,
        )
      this.#params.set(name, v)
    }
  }

  condition(name: string, at: TemplatePath): boolean {
    const known = this.#conditions.get(name)
    if (known !== undefined) return known
    const conds = (this.#body.Conditions ?? {}) as Record<string, unknown>
    if (!(name in conds)) throw this.error(at, `condition ${name} is not defined in Conditions`)
    if (this.#condBusy.has(name)) throw this.error(['Conditions', name], `condition ${name} refers to itself`)
    this.#condBusy.add(name)
    const v = this.#bool(conds[name], ['Conditions', name])
    this.#condBusy.delete(name)
    this.#conditions.set(name, v)
    return v
  }

  #bool(expr: unknown, at: TemplatePath): boolean {
    if (isObject(expr) && Object.keys(expr).length === 1) {
      const [fn, arg] = Object.entries(expr)[0]!
      const p = [...at, fn]
      switch (fn) {
        case 'Condition':
          if (typeof arg !== 'string') break
          return this.condition(arg, p)
        case 'Fn::Equals': {
          if (!Array.isArray(arg) || arg.length !== 2) break
          // CloudFormation compares the two values as strings: `!Equals [!Ref Flag, true]` holds
          // for a parameter value "true" (Template Reference, Fn::Equals: "Compares if two values
          // are equal"; parameter values are strings, and YAML booleans and numbers in a template
          // are read as their string form).
          const a = this.value(arg[0], [...p, 0])
          const b = this.value(arg[1], [...p, 1])
          return JSON.stringify(asConditionValue(a)) === JSON.stringify(asConditionValue(b))
        }
        case 'Fn::Not':
          if (!Array.isArray(arg) || arg.length !== 1) break
          return !this.#bool(arg[0], [...p, 0])
        case 'Fn::And':
          if (!Array.isArray(arg) || arg.length < 2) break
          return arg.every((x, i) => this.#bool(x, [...p, i]))
        case 'Fn::Or':
          if (!Array.isArray(arg) || arg.length < 2) break
          return arg.some((x, i) => this.#bool(x, [...p, i]))
      }
    }
    if (expr === true || expr === 'true') return true
    if (expr === false || expr === 'false') return false
    throw this.error(at, `cannot evaluate this condition: ${JSON.stringify(expr)}`)
  }

  #resource(id: string): ResolvedResource | undefined {
    const done = this.#resolved.get(id)
    if (done) return done
    const raw = this.#resourcesRaw[id]
    if (!isObject(raw) || typeof raw.Type !== 'string')
      throw this.error(['Resources', id], `resource ${id} needs a Type`, 'invalid-template')
    if (typeof raw.Condition === 'string' && !this.condition(raw.Condition, ['Resources', id, 'Condition']))
      return undefined
    if (this.#resBusy.has(id))
      throw this.error(['Resources', id], `resource ${id} refers to itself (a circular dependency)`)
    this.#resBusy.add(id)
    const props =
      raw.Properties === undefined ? {} : this.value(raw.Properties, ['Resources', id, 'Properties'])
    this.#resBusy.delete(id)
    if (!isObject(props))
      throw this.error(['Resources', id, 'Properties'], 'Properties must be a mapping', 'invalid-template')
    const r: ResolvedResource = { logicalId: id, type: raw.Type, properties: props, path: ['Resources', id] }
    this.#resolved.set(id, r)
    return r
  }

  /** A name property of a resource, resolved without resolving the whole resource (which may refer back). */
  #nameProp(id: string, prop: string): string | undefined {
    const raw = this.#resourcesRaw[id]
    const v = isObject(raw) && isObject(raw.Properties) ? raw.Properties[prop] : undefined
    if (v === undefined) return undefined
    const r = this.value(v, ['Resources', id, 'Properties', prop])
    return typeof r === 'string' ? r : undefined
  }

  #generated(id: string, kind: string, lower = false): string {
    const base = `${this.name}-${id}-${hash(`${this.#in.entry.account}/${this.#in.entry.region}/${this.name}/${id}/${kind}`, 8).toUpperCase()}`
    const v = lower ? base.toLowerCase() : base
    this.#owner.symbols.set(v, `{${this.key}.${id}.${kind}}`)
    return v
  }

  #keyId(id: string): string {
    const h = hash(`${this.#in.entry.account}/${this.#in.entry.region}/${this.name}/${id}/KeyId`, 32)
    const v = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`
    this.#owner.symbols.set(v, `{${this.key}.${id}.KeyId}`)
    return v
  }

  #arn(service: string, resource: string, opts: { region?: boolean; account?: boolean } = {}): string {
    return formatArn({
      partition: this.partition,
      service,
      region: opts.region === false ? '' : this.#in.entry.region,
      account: opts.account === false ? '' : this.#in.entry.account,
      resource,
    })
  }

  #typeOf(id: string, at: TemplatePath): string {
    const raw = this.#resourcesRaw[id]
    if (!isObject(raw)) throw this.error(at, `${id} is neither a parameter nor a resource of this template`)
    if (typeof raw.Type !== 'string')
      throw this.error(['Resources', id], `resource ${id} needs a Type`, 'invalid-template')
    return raw.Type
  }

  #iamPath(id: string): string {
    const p = this.#nameProp(id, 'Path')
    return p ?? '/'
  }

  /** `Ref` semantics. */
  ref(name: string, at: TemplatePath): string {
    const pseudo = this.#pseudo(name, at)
    if (pseudo !== undefined) return pseudo
    if (this.#params.has(name)) {
      const v = this.#params.get(name)
      return v as string
    }
    const type = this.#typeOf(name, at)
    switch (type) {
      case 'AWS::IAM::Role':
      case 'AWS::IAM::User':
        return (
          this.#nameProp(name, type === 'AWS::IAM::Role' ? 'RoleName' : 'UserName') ??
          this.#generated(name, 'Name')
        )
      case 'AWS::IAM::ManagedPolicy':
        return this.#arn(
          'iam',
          `policy${this.#iamPath(name)}${this.#nameProp(name, 'ManagedPolicyName') ?? this.#generated(name, 'Name')}`,
          { region: false },
        )
      case 'AWS::KMS::Key':
        return this.#keyId(name)
      case 'AWS::KMS::Alias':
        return this.#nameProp(name, 'AliasName') ?? this.#generated(name, 'Name')
      case 'AWS::S3::Bucket':
        return this.#nameProp(name, 'BucketName') ?? this.#generated(name, 'Name', true)
      case 'AWS::CodeBuild::Project':
        return this.#nameProp(name, 'Name') ?? this.#generated(name, 'Name')
      case 'AWS::CodePipeline::Pipeline':
        return this.#nameProp(name, 'Name') ?? this.#generated(name, 'Name')
      case 'AWS::SNS::Topic':
        return this.#arn('sns', this.#nameProp(name, 'TopicName') ?? this.#generated(name, 'Name'))
      case 'AWS::Lambda::Function':
        return this.#nameProp(name, 'FunctionName') ?? this.#generated(name, 'Name')
      default:
        return this.#generated(name, 'Ref')
    }
  }

  #pseudo(name: string, at: TemplatePath): string | undefined {
    const e = this.#in.entry
    switch (name) {
      case 'AWS::AccountId':
        return e.account
      case 'AWS::Region':
        return e.region
      case 'AWS::Partition':
        return this.partition
      case 'AWS::StackName':
        return e.name
      case 'AWS::StackId':
        return this.#arn('cloudformation', `stack/${e.name}/${this.#generated('Stack', 'Id').toLowerCase()}`)
      case 'AWS::URLSuffix':
        return dnsSuffix(this.partition)
      case 'AWS::NotificationARNs':
        return ''
      case 'AWS::NoValue':
        throw this.error(at, 'Ref AWS::NoValue is only valid as a whole property value')
    }
    return undefined
  }

  /** `Fn::GetAtt` semantics for the attributes crosspipe reads. */
  getAtt(id: string, attr: string, at: TemplatePath): string {
    // A SAM resource has the attributes of the resource it becomes (spec.ts, SAM_GENERATED).
    const type = samGenerated(this.#typeOf(id, at))
    if (
      isObject(this.#resourcesRaw[id]) &&
      typeof this.#resourcesRaw[id].Condition === 'string' &&
      !this.condition(this.#resourcesRaw[id].Condition, ['Resources', id, 'Condition'])
    )
      throw this.error(
        at,
        `${id} is not created (its Condition ${String(this.#resourcesRaw[id].Condition)} is false), so ${id}.${attr} has no value`,
      )
    // An attribute crosspipe has no case for takes its shape from the resource specification:
    // CloudFormation refuses only attributes the type does not have.
    const unsupported = (): string => {
      const v = this.#specAttribute(id, type, attr, at)
      if (typeof v !== 'string') throw this.error(at, `${id}.${attr} is a list; a string is needed here`)
      return v
    }
    switch (type) {
      case 'AWS::IAM::Role':
        if (attr === 'Arn')
          return this.#arn('iam', `role${this.#iamPath(id)}${this.ref(id, at)}`, { region: false })
        if (attr === 'RoleId') return this.#generated(id, 'RoleId').toUpperCase()
        return unsupported()
      case 'AWS::IAM::User':
        if (attr === 'Arn')
          return this.#arn('iam', `user${this.#iamPath(id)}${this.ref(id, at)}`, { region: false })
        return unsupported()
      case 'AWS::IAM::ManagedPolicy':
        if (attr === 'PolicyArn') return this.ref(id, at)
        return unsupported()
      case 'AWS::KMS::Key':
        if (attr === 'Arn') return this.#arn('kms', `key/${this.ref(id, at)}`)
        if (attr === 'KeyId') return this.ref(id, at)
        return unsupported()
      case 'AWS::S3::Bucket': {
        const b = this.ref(id, at)
        if (attr === 'Arn') return this.#arn('s3', b, { region: false, account: false })
        if (attr === 'DomainName') return `${b}.s3.${dnsSuffix(this.partition)}`
        if (attr === 'RegionalDomainName')
          return `${b}.s3.${this.#in.entry.region}.${dnsSuffix(this.partition)}`
        return unsupported()
      }
      case 'AWS::CodeBuild::Project':
        if (attr === 'Arn') return this.#arn('codebuild', `project/${this.ref(id, at)}`)
        return unsupported()
      case 'AWS::SNS::Topic':
        if (attr === 'TopicArn') return this.ref(id, at)
        if (attr === 'TopicName') return this.ref(id, at).split(':').pop()!
        return unsupported()
      case 'AWS::Lambda::Function':
        if (attr === 'Arn') return this.#arn('lambda', `function:${this.ref(id, at)}`)
        return unsupported()
      case 'AWS::CodeCommit::Repository': {
        const name = this.#nameProp(id, 'RepositoryName') ?? this.#generated(id, 'Name')
        if (attr === 'Arn') return this.#arn('codecommit', name)
        if (attr === 'Name') return name
        return unsupported()
      }
      default:
        return unsupported()
    }
  }

  /**
   * `Fn::GetAtt` of an attribute crosspipe does not reason about: a placeholder of the shape the
   * resource specification gives it (a list attribute is a list of one placeholder).
   * Template Reference, Fn::GetAtt: "The attributes available for each resource type are listed
   * in the Return values section of that resource type's page"; an attribute the type does not
   * have is a template error.
   */
  #specAttribute(id: string, type: string, attr: string, at: TemplatePath): unknown {
    // Custom resources and third-party types return whatever their provider returns.
    if (type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource')
      return this.#generated(id, attr)
    const attrs = resourceAttributes(type)
    if (!attrs) return this.#generated(id, attr)
    const shape = attrs[attr]
    if (shape === undefined)
      throw this.error(
        at,
        `${type} has no attribute ${attr}, so CloudFormation rejects Fn::GetAtt ${id}.${attr} (its attributes: ${Object.keys(attrs).join(', ') || 'none'})`,
      )
    if (shape === 'list') return [this.#generated(id, attr)]
    // An ARN attribute is an ARN of the type's service, account and region, so a policy that
    // names it is a valid policy (ARN format: IAM User Guide, "IAM identifiers").
    if (/Arn$/.test(attr) && shape === 'string') {
      const [, service = 'unknown', kind = 'resource'] = type.split('::')
      return this.#arn(service.toLowerCase(), `${kind.toLowerCase()}/${this.#generated(id, attr)}`)
    }
    return this.#generated(id, attr)
  }

  /** Resolves a value: every intrinsic evaluated, `AWS::NoValue` removed. */
  value(v: unknown, at: TemplatePath): unknown {
    const r = this.#value(v, at)
    return r === NO_VALUE ? undefined : r
  }

  #value(v: unknown, at: TemplatePath): unknown {
    if (Array.isArray(v)) {
      const out: unknown[] = []
      v.forEach((x, i) => {
        const r = this.#value(x, [...at, i])
        if (r !== NO_VALUE) out.push(r)
      })
      return out
    }
    if (!isObject(v)) return v
    const keys = Object.keys(v)
    if (keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::')))
      return this.#intrinsic(keys[0]!, v[keys[0]!], [...at, keys[0]!])
    const out: Record<string, unknown> = {}
    for (const k of keys) {
      const r = this.#value(v[k], [...at, k])
      if (r !== NO_VALUE) out[k] = r
    }
    return out
  }

  #str(v: unknown, at: TemplatePath, what: string): string {
    const r = this.#value(v, at)
    if (typeof r === 'string') return r
    if (typeof r === 'number' || typeof r === 'boolean') return String(r)
    throw this.error(at, `${what} must be a string, not ${JSON.stringify(r)}`)
  }

  #list(v: unknown, at: TemplatePath, what: string): unknown[] {
    const r = this.#value(v, at)
    if (Array.isArray(r)) return r
    throw this.error(at, `${what} must be a list`)
  }

  #intrinsic(fn: string, arg: unknown, at: TemplatePath): unknown {
    switch (fn) {
      case 'Ref': {
        if (typeof arg !== 'string') throw this.error(at, 'Ref takes a name')
        if (arg === 'AWS::NoValue') return NO_VALUE
        return this.ref(arg, at)
      }
      case 'Fn::GetAtt': {
        let parts: unknown[]
        if (typeof arg === 'string') {
          const dot = arg.indexOf('.')
          parts = dot < 0 ? [arg] : [arg.slice(0, dot), arg.slice(dot + 1)]
        } else parts = Array.isArray(arg) ? arg : []
        if (parts.length !== 2 || typeof parts[0] !== 'string')
          throw this.error(at, 'Fn::GetAtt takes [LogicalId, Attribute]')
        const attr = this.#str(parts[1], [...at, 1], 'the attribute of Fn::GetAtt')
        const type = this.#typeOf(parts[0], at)
        if (!KNOWN_TYPES.has(type)) return this.#specAttribute(parts[0], type, attr, at)
        return this.getAtt(parts[0], attr, at)
      }
      case 'Fn::Sub': {
        let text: unknown = arg
        let vars: Record<string, unknown> = {}
        if (Array.isArray(arg)) {
          if (arg.length !== 2 || !isObject(arg[1]))
            throw this.error(at, 'Fn::Sub takes a string or [string, {variables}]')
          text = arg[0]
          vars = arg[1]
        }
        if (typeof text !== 'string') throw this.error(at, 'Fn::Sub needs a string')
        return text.replace(/\$\{([^}]*)\}/g, (_m, name: string) => {
          if (name.startsWith('!')) return `\${${name.slice(1)}}`
          const n = name.trim()
          if (n in vars) return this.#str(vars[n], [...at, 1, n], `variable ${n} of Fn::Sub`)
          const dot = n.indexOf('.')
          if (dot > 0 && !n.startsWith('AWS::')) return this.getAtt(n.slice(0, dot), n.slice(dot + 1), at)
          if (n === 'AWS::NoValue') throw this.error(at, 'AWS::NoValue cannot be used inside Fn::Sub')
          const r = this.ref(n, at)
          if (typeof r !== 'string') throw this.error(at, `\${${n}} is a list; Fn::Sub needs a string`)
          return r
        })
      }
      case 'Fn::Join': {
        if (!Array.isArray(arg) || arg.length !== 2)
          throw this.error(at, 'Fn::Join takes [delimiter, [values]]')
        const sep = this.#str(arg[0], [...at, 0], 'the delimiter of Fn::Join')
        const items = this.#list(arg[1], [...at, 1], 'the values of Fn::Join')
        return items
          .map((x, i) => {
            if (typeof x !== 'string')
              throw this.error([...at, 1, i], `Fn::Join joins strings, not ${JSON.stringify(x)}`)
            return x
          })
          .join(sep)
      }
      case 'Fn::Select': {
        if (!Array.isArray(arg) || arg.length !== 2)
          throw this.error(at, 'Fn::Select takes [index, [values]]')
        const idx = Number(this.#str(arg[0], [...at, 0], 'the index of Fn::Select'))
        const items = this.#list(arg[1], [...at, 1], 'the values of Fn::Select')
        if (!Number.isInteger(idx) || idx < 0 || idx >= items.length)
          throw this.error(
            at,
            `Fn::Select index ${idx} is out of range (the list has ${items.length} values)`,
          )
        return items[idx]
      }
      case 'Fn::Split': {
        if (!Array.isArray(arg) || arg.length !== 2)
          throw this.error(at, 'Fn::Split takes [delimiter, string]')
        const sep = this.#str(arg[0], [...at, 0], 'the delimiter of Fn::Split')
        return this.#str(arg[1], [...at, 1], 'the source of Fn::Split').split(sep)
      }
      case 'Fn::If': {
        if (!Array.isArray(arg) || arg.length !== 3 || typeof arg[0] !== 'string')
          throw this.error(at, 'Fn::If takes [condition, value if true, value if false]')
        return this.condition(arg[0], [...at, 0])
          ? this.#value(arg[1], [...at, 1])
          : this.#value(arg[2], [...at, 2])
      }
      case 'Fn::FindInMap': {
        if (!Array.isArray(arg) || arg.length < 3)
          throw this.error(at, 'Fn::FindInMap takes [map, top key, second key]')
        const [m, k1, k2] = [0, 1, 2].map((i) => this.#str(arg[i], [...at, i], 'a key of Fn::FindInMap'))
        const maps = (this.#body.Mappings ?? {}) as Record<string, Record<string, Record<string, unknown>>>
        const found = maps[m!]?.[k1!]?.[k2!]
        if (found === undefined) throw this.error(at, `Mappings has no ${m}.${k1}.${k2}`)
        return found
      }
      case 'Fn::Base64':
        return this.#str(arg, at, 'the value of Fn::Base64')
      case 'Fn::GetAZs': {
        const region = this.#str(arg, at, 'the region of Fn::GetAZs') || this.#in.entry.region
        return ['a', 'b', 'c'].map((z) => `${region}${z}`)
      }
      case 'Fn::ImportValue': {
        const name = this.#str(arg, at, 'the export name of Fn::ImportValue')
        const v = this.#owner.exportValue(this.#in.entry.account, this.#in.entry.region, name)
        if (v === undefined)
          throw this.error(
            at,
            `no stack of the manifest in ${this.#in.entry.account}/${this.#in.entry.region} exports "${name}"`,
          )
        return v
      }
      case 'Fn::Length':
        return this.#list(arg, at, 'the value of Fn::Length').length
      case 'Fn::ToJsonString':
        return JSON.stringify(this.#value(arg, at))
      case 'Fn::Equals':
      case 'Fn::And':
      case 'Fn::Or':
      case 'Fn::Not':
        return this.#bool({ [fn]: arg }, at.slice(0, -1))
      case 'Fn::Transform': {
        // A macro is a Lambda function of the account that CloudFormation invokes when it
        // processes the template (CloudFormation User Guide, "Perform custom processing on
        // CloudFormation templates with template macros"): its output cannot be known offline.
        throw this.error(
          at,
          `Fn::Transform runs the macro ${macroName(arg)} (a Lambda function) when CloudFormation processes the template, which crosspipe check cannot do offline. Check the processed template instead: \`aws cloudformation get-template --template-stage Processed\` of a deployed stack or change set, or write the value the macro returns`,
        )
      }
      default:
        throw this.error(at, `${fn} cannot be resolved by crosspipe check`)
    }
  }
}

/** A value as CloudFormation compares it in `Fn::Equals`: scalars as strings, lists item by item. */
function asConditionValue(v: unknown): unknown {
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  if (Array.isArray(v)) return v.map(asConditionValue)
  return v
}

/** Whether a value is a plain mapping. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}
