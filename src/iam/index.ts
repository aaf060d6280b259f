/**
 * The IAM policy engine: AWS's authorization decision, offline, fast, and explained.
 * `crosspipe check` and the sandbox both decide every authorization here. See README.md.
 */
export {
  simulate,
  describeContext,
  accessDeniedMessage,
  explicitDenyPhrase,
  implicitDenyPhrase,
  SimulateInputError,
} from './evaluate.js'
export { compilePolicy, validatePolicy, PolicyValidationError, type CompileOptions } from './compile.js'
export { serviceRuleFor, type ServiceRule } from './rules.js'
export { PrincipalFormatError } from './principal.js'
export { CONDITION_OPERATORS } from './conditions.js'
export { compileGlob, type Matcher } from './glob.js'
export * from './types.js'
export * from './arn.js'
export * from './aws-facts.js'
export {
  awsManagedPolicy,
  awsManagedPolicies,
  awsManagedPoliciesSource,
  type AwsManagedPolicy,
  type AwsManagedPoliciesSource,
} from './managed-policies.js'
