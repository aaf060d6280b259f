/**
 * The template's Rules section: assertions on parameter values, checked before any resource is
 * touched. A rule whose `RuleCondition` is false is skipped; a false `Assert` refuses the
 * operation with a ValidationError carrying its `AssertDescription`.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/rules-section-structure.html
 * Rule functions: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-rules.html
 */
import { templateError, validationError } from './errors.js'
import { resolveValue, type IntrinsicContext } from './intrinsics.js'

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

function list(v: unknown): string[] {
  return Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))) : []
}

/** Evaluates one rule-function expression to a boolean. */
function truth(expr: unknown, ctx: IntrinsicContext): boolean {
  if (!isObject(expr) || Object.keys(expr).length !== 1)
    throw templateError('Every Assert and RuleCondition must be a rule function')
  const [fn, arg] = Object.entries(expr)[0]!
  const args = Array.isArray(arg) ? arg : [arg]
  switch (fn) {
    case 'Fn::And':
      return args.every((a) => truth(a, ctx))
    case 'Fn::Or':
      return args.some((a) => truth(a, ctx))
    case 'Fn::Not':
      if (args.length !== 1) throw templateError('Fn::Not takes one rule function')
      return !truth(args[0], ctx)
    case 'Fn::Equals': {
      if (args.length !== 2) throw templateError('Fn::Equals takes two values')
      const [a, b] = args.map((x) => resolveValue(x, ctx))
      return JSON.stringify(a) === JSON.stringify(b)
    }
    case 'Fn::Contains': {
      if (args.length !== 2) throw templateError('Fn::Contains takes a list and a string')
      const [l, s] = args.map((x) => resolveValue(x, ctx))
      return list(l).includes(String(s))
    }
    case 'Fn::EachMemberEquals': {
      if (args.length !== 2) throw templateError('Fn::EachMemberEquals takes a list and a string')
      const [l, s] = args.map((x) => resolveValue(x, ctx))
      return list(l).every((x) => x === String(s as string))
    }
    case 'Fn::EachMemberIn': {
      if (args.length !== 2) throw templateError('Fn::EachMemberIn takes two lists')
      const [a, b] = args.map((x) => list(resolveValue(x, ctx)))
      return a!.every((x) => b!.includes(x))
    }
    case 'Fn::RefAll':
    case 'Fn::ValueOf':
    case 'Fn::ValueOfAll':
      // These read AWS resources (VPCs, subnets…) the sandbox does not have.
      throw validationError(`Rule function ${fn} is not supported by the crosspipe sandbox`)
    default:
      throw templateError(`Unsupported rule function ${fn}`)
  }
}

/** Checks every rule against resolved parameters; throws the first failed assertion. */
export function checkRules(
  rules: Readonly<Record<string, unknown>> | undefined,
  ctx: IntrinsicContext,
): void {
  for (const [name, rule] of Object.entries(rules ?? {})) {
    if (!isObject(rule) || !Array.isArray(rule.Assertions)) {
      throw templateError(`Rule ${name} must contain an Assertions list`)
    }
    if (rule.RuleCondition !== undefined && !truth(rule.RuleCondition, ctx)) continue
    for (const a of rule.Assertions as unknown[]) {
      if (!isObject(a) || a.Assert === undefined)
        throw templateError(`Every assertion of rule ${name} must contain an Assert`)
      if (!truth(a.Assert, ctx)) {
        throw validationError(
          typeof a.AssertDescription === 'string' ? a.AssertDescription : `Assertion failed for rule ${name}`,
        )
      }
    }
  }
}
