// Runs a crosspipe SimulateRequest through @cloud-copilot/iam-simulate (AGPL: imported from test/ and bench/ only).
import { runSimulation } from '@cloud-copilot/iam-simulate'
import { describeContext, type SimulateRequest, type Decision } from '../../src/iam/index.js'

/** The iam-simulate input for a crosspipe request (policies must be documents). */
export function toIamSimulate(req: SimulateRequest): any {
  const named = (p: any, name: string) => ({ name, policy: p })
  return {
    request: {
      principal: req.principal,
      action: req.action,
      resource: {
        resource: req.resource,
        accountId: req.resourceAccount ?? req.resource.split(':')[4] ?? '',
      },
      // iam-simulate derives no context keys: hand it the context crosspipe derived, so both
      // engines decide on the same request (derivation is tested by the corpus on its own).
      contextVariables: describeContext(req),
    },
    identityPolicies: (req.identityPolicies ?? []).map((p, i) => named(p, `identity-${i}`)),
    serviceControlPolicies: (req.serviceControlPolicies ?? []).map((level, li) => ({
      orgIdentifier: `level-${li}`,
      policies: level.map((p, i) => named(p, `scp-${li}-${i}`)),
    })),
    resourceControlPolicies: (req.resourceControlPolicies ?? []).map((level, li) => ({
      orgIdentifier: `level-${li}`,
      policies: level.map((p, i) => named(p, `rcp-${li}-${i}`)),
    })),
    ...(req.resourcePolicy ? { resourcePolicy: req.resourcePolicy } : {}),
    ...(req.permissionBoundary
      ? { permissionBoundaryPolicies: [named(req.permissionBoundary, 'boundary')] }
      : {}),
    ...(req.sessionPolicy ? { sessionPolicy: req.sessionPolicy } : {}),
  }
}

/** iam-simulate's decision, or an error string when it refused the input. */
export async function iamSimulateDecision(req: SimulateRequest): Promise<Decision | `error: ${string}`> {
  const r: any = await runSimulation(toIamSimulate(req), {})
  if (r.resultType === 'error') return `error: ${JSON.stringify(r.errors).slice(0, 300)}`
  return r.overallResult as Decision
}
