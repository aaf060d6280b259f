// Runs crosspipe SimulateRequests through @cloud-copilot/iam-simulate (AGPL: imported from test/ and
// bench/ only), in worker threads.
import { Worker } from 'node:worker_threads'
import { describeContext, type SimulateRequest } from '../../src/iam/index.js'

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

/**
 * The worker's code: plain JavaScript run without the tsx loader (execArgv: []). iam-simulate looks
 * its data up with dynamic import(), and through tsx's resolve hook every such call costs a round
 * trip to the loader thread.
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const loaded = import(workerData.iamSimulate)
parentPort.on('message', async ({ id, simulations }) => {
  const { runSimulation } = await loaded
  const out = await Promise.all(simulations.map(async (s) => {
    const r = await runSimulation(s, {})
    return r.resultType === 'error' ? 'error: ' + JSON.stringify(r.errors) : r.overallResult
  }))
  parentPort.postMessage({ id, out })
})
`

/** A pool of iam-simulate workers; `decide` returns its decision, or `error: …` when it refused the input. */
export class IamSimulatePool {
  private readonly workers: Worker[]
  private next = 0
  private seq = 0
  private readonly pending = new Map<number, (out: string[]) => void>()
  constructor(size = 2) {
    this.workers = Array.from({ length: size }, () => {
      const w = new Worker(WORKER, {
        eval: true,
        execArgv: [],
        workerData: { iamSimulate: import.meta.resolve('@cloud-copilot/iam-simulate') },
      })
      w.on('message', ({ id, out }: { id: number; out: string[] }) => {
        this.pending.get(id)?.(out)
        this.pending.delete(id)
      })
      return w
    })
  }
  /** Decides a batch of requests on one worker. */
  decideAll(reqs: readonly SimulateRequest[]): Promise<string[]> {
    const id = this.seq++
    const w = this.workers[this.next++ % this.workers.length]!
    return new Promise((resolve) => {
      this.pending.set(id, resolve)
      w.postMessage({ id, simulations: reqs.map(toIamSimulate) })
    })
  }
  async decide(req: SimulateRequest): Promise<string> {
    return (await this.decideAll([req]))[0]!
  }
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()))
  }
}
