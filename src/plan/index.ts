/**
 * Plan, then apply (DESIGN.md): manifest + deployed state → an ordered, serializable plan. Pure.
 */
export * from './types.js'
export { applicationStacks, applicationEntries, APPLICATION_TEMPLATE, type ApplicationStack } from './apps.js'
export {
  destroyNotes,
  formatPlan,
  isInProgress,
  planDeploy,
  planDestroy,
  stackId,
  type PlanDeployOptions,
  type PlanDestroyOptions,
} from './plan.js'
