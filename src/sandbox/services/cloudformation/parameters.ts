/**
 * Parameter values: the caller's values, previous values (`UsePreviousValue`), defaults, type
 * conversion (lists), constraints, SSM parameter types, and how they are shown back (`NoEcho`).
 *
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_Parameter.html
 * SSM types: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-supplied-parameter-types.html#cloudformation-supplied-parameter-types-ssm-parameter-types
 */
import { validationError } from './errors.js'
import type { ParameterValue } from './intrinsics.js'
import type { ParameterDecl, Template } from './template.js'

/** A parameter as the caller sends it (API_Parameter.html). */
export interface ParameterInput {
  readonly ParameterKey: string
  readonly ParameterValue?: string
  readonly UsePreviousValue?: boolean
}

/** A parameter as stored with the stack: the value given (or the SSM name) and what it resolved to. */
export interface StoredParameter {
  readonly key: string
  /** The value as given or defaulted (for SSM types: the parameter name). */
  readonly value: string
  /** For SSM parameter types: the value read from Parameter Store. */
  readonly resolvedValue?: string
  readonly noEcho: boolean
}

/** Reads an SSM parameter's value (as the caller), or throws the ValidationError AWS gives. */
export type SsmReader = (name: string) => Promise<string>

/** Options for {@link resolveParameters}. */
export interface ResolveParametersOptions {
  readonly template: Template
  readonly given: readonly ParameterInput[]
  /** The stack's current parameters, for UsePreviousValue. */
  readonly previous?: readonly StoredParameter[]
  readonly readSsm: SsmReader
}

/** The result: values for the evaluator and the records to store. */
export interface ResolvedParameters {
  readonly values: Map<string, ParameterValue>
  readonly stored: StoredParameter[]
}

function isListType(t: string): boolean {
  return t === 'CommaDelimitedList' || t.startsWith('List<')
}

function splitList(s: string): string[] {
  // CloudFormation trims nothing but accepts an empty string as an empty list.
  return s === '' ? [] : s.split(',')
}

function truthy(v: unknown): boolean {
  return v === true || v === 'true' || v === 'True' || v === 'TRUE'
}

/**
 * Resolves the parameters of a template against what the caller sent. Errors are the
 * ValidationErrors CreateStack/UpdateStack return: unknown keys, missing values, failed
 * constraints.
 */
export async function resolveParameters(opts: ResolveParametersOptions): Promise<ResolvedParameters> {
  const decls = opts.template.Parameters ?? {}
  const unknown = opts.given.filter((g) => !(g.ParameterKey in decls)).map((g) => g.ParameterKey)
  if (unknown.length)
    throw validationError(`Parameters: [${unknown.join(', ')}] do not exist in the template`)
  const given = new Map(opts.given.map((g) => [g.ParameterKey, g]))
  const previous = new Map((opts.previous ?? []).map((p) => [p.key, p]))
  const missing: string[] = []
  const raw = new Map<string, string>()
  for (const [name, decl] of Object.entries(decls)) {
    const g = given.get(name)
    if (g?.UsePreviousValue) {
      const prev = previous.get(name)
      if (!prev)
        throw validationError(
          `Invalid input for parameter key ${name}. Cannot specify usePreviousValue as true for a parameter key not in the previous template`,
        )
      raw.set(name, prev.value)
    } else if (g?.ParameterValue !== undefined) raw.set(name, g.ParameterValue)
    else if (decl.Default !== undefined) raw.set(name, defaultText(decl.Default))
    else missing.push(name)
  }
  if (missing.length) throw validationError(`Parameters: [${missing.join(', ')}] must have values`)
  const values = new Map<string, ParameterValue>()
  const stored: StoredParameter[] = []
  for (const [name, decl] of Object.entries(decls)) {
    const text = raw.get(name)!
    const noEcho = truthy(decl.NoEcho)
    const ssm = /^AWS::SSM::Parameter::Value<(.+)>$/.exec(decl.Type)
    if (ssm) {
      const resolved = await opts.readSsm(text)
      const inner = ssm[1]!
      values.set(name, isListType(inner) ? splitList(resolved) : resolved)
      stored.push({ key: name, value: text, resolvedValue: resolved, noEcho })
      continue
    }
    checkConstraints(name, decl, text)
    values.set(name, isListType(decl.Type) ? splitList(text) : text)
    stored.push({ key: name, value: text, noEcho })
  }
  return { values, stored }
}

/** Defaults may be written as numbers or lists in YAML; CloudFormation reads them as text. */
function defaultText(v: unknown): string {
  if (Array.isArray(v)) return v.map(String).join(',')
  return String(v)
}

/**
 * The constraints of parameters-section-structure.html, with the texts CloudFormation returns
 * (a `ConstraintDescription` replaces the pattern/values text, as its documentation says).
 */
function checkConstraints(name: string, decl: ParameterDecl, text: string): void {
  const fail = (standard: string): never => {
    if (decl.ConstraintDescription !== undefined) {
      throw validationError(`Parameter ${name} failed to satisfy constraint: ${decl.ConstraintDescription}`)
    }
    throw validationError(standard)
  }
  const items = isListType(decl.Type) ? splitList(text) : [text]
  const numeric = decl.Type === 'Number' || decl.Type === 'List<Number>'
  for (const item of items) {
    if (numeric && (item.trim() === '' || !Number.isFinite(Number(item)))) {
      throw validationError(`Parameter '${name}' must be a number.`)
    }
    if (decl.AllowedValues !== undefined) {
      const allowed = decl.AllowedValues.map(String)
      if (!allowed.includes(item)) fail(`Parameter '${name}' must be one of AllowedValues`)
    }
    if (decl.AllowedPattern !== undefined) {
      let re: RegExp
      try {
        re = new RegExp(`^(?:${decl.AllowedPattern})$`)
      } catch {
        throw validationError(
          `Template format error: Parameter '${name}' AllowedPattern is not a valid regular expression`,
        )
      }
      if (!re.test(item)) fail(`Parameter '${name}' must match pattern ${decl.AllowedPattern}`)
    }
    if (decl.MinLength !== undefined && item.length < Number(decl.MinLength)) {
      fail(`Parameter '${name}' must contain at least ${Number(decl.MinLength)} characters`)
    }
    if (decl.MaxLength !== undefined && item.length > Number(decl.MaxLength)) {
      fail(`Parameter '${name}' must contain at most ${Number(decl.MaxLength)} characters`)
    }
    if (decl.MinValue !== undefined && Number(item) < Number(decl.MinValue)) {
      fail(`Parameter '${name}' must be a number not less than ${Number(decl.MinValue)}`)
    }
    if (decl.MaxValue !== undefined && Number(item) > Number(decl.MaxValue)) {
      fail(`Parameter '${name}' must be a number not greater than ${Number(decl.MaxValue)}`)
    }
  }
}

/** What DescribeStacks shows for a parameter: `****` for NoEcho (API_Parameter.html). */
export function displayValue(p: StoredParameter): string {
  return p.noEcho ? '****' : p.value
}
