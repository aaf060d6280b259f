/**
 * One scheduler of dependent work (DESIGN.md "One work graph", after aws-cdk-cli's `WorkGraph`):
 * nodes with dependencies, run with bounded concurrency, forward (a node after its dependencies:
 * creating) or reverse (a node after every node that depends on it: deleting). The sandbox's
 * CloudFormation engine provisions and deletes a stack's resources with it; `deploy` and
 * `destroy` run their plans' stacks with it. Pure: it imports nothing but the language.
 *
 * What a failure does is the caller's choice, because the two callers want different things:
 * - `skip-dependents` (deploy): a node whose dependency did not succeed is not run but skipped,
 *   and the rest of the graph goes on;
 * - `stop` (CloudFormation): after the first failure no new node starts — CloudFormation cancels
 *   the rest of the operation — while the nodes already running finish and are recorded, so that a
 *   rollback knows every resource that exists.
 */

/** One unit of work and the ids of the nodes it depends on. */
export interface WorkNode<T> {
  readonly id: string
  /** Ids of nodes this one depends on. Ids that are not nodes of the graph are ignored. */
  readonly dependsOn: Iterable<string>
  readonly value: T
}

/** What became of one node. */
export type WorkOutcome<R> =
  | { readonly state: 'succeeded'; readonly result: R }
  /** `run` threw (`error`) or returned a result that `succeeded` rejects (`result`). */
  | { readonly state: 'failed'; readonly result?: R; readonly error?: unknown }
  /** Not run because a node it waits for did not succeed (`because`: that node's id). */
  | { readonly state: 'skipped'; readonly because: string }
  /**
   * Not run because the graph stopped (a failure under `stop`, or `stopped()` turned true); this
   * wins over `skipped`, as an interrupted deploy reports every stack it did not start as cancelled.
   */
  | { readonly state: 'not-started' }

/** Options of {@link runWorkGraph}. */
export interface WorkGraphOptions<T, R> {
  readonly nodes: readonly WorkNode<T>[]
  /**
   * `forward` (default): a node runs once its dependencies have succeeded. `reverse`: a node runs
   * once every node that depends on it is finished — the order of deletion.
   */
  readonly direction?: 'forward' | 'reverse'
  /** At most this many nodes run at once (default: no bound). */
  readonly concurrency?: number
  /** `skip-dependents` (default) or `stop`; see the module comment. */
  readonly onFailure?: 'skip-dependents' | 'stop'
  /** Checked before each start: once true, nothing new starts (an interrupted deploy, a cancelled update). */
  readonly stopped?: () => boolean
  /** Whether a returned result counts as success (default: every result does; only throwing fails). */
  readonly succeeded?: (result: R) => boolean
  /** Runs one node. */
  readonly run: (node: WorkNode<T>) => Promise<R>
  /** Told of each node's outcome as it is decided (in that order), skipped and not-started ones included. */
  readonly onOutcome?: (node: WorkNode<T>, outcome: WorkOutcome<R>) => void
}

/** Thrown before anything runs when the graph has a cycle or a duplicate id. */
export class WorkGraphError extends Error {
  override readonly name = 'WorkGraphError'
}

/**
 * Runs a work graph; resolves when every node has an outcome (never rejects because a node
 * failed). Ready nodes start in the order of `nodes`. Outcomes are keyed by node id.
 */
export async function runWorkGraph<T, R>(o: WorkGraphOptions<T, R>): Promise<Map<string, WorkOutcome<R>>> {
  const byId = new Map<string, WorkNode<T>>()
  for (const n of o.nodes) {
    if (byId.has(n.id)) throw new WorkGraphError(`duplicate work graph node "${n.id}"`)
    byId.set(n.id, n)
  }
  // waitsFor: the nodes that must finish before a node may start, in the chosen direction.
  const waitsFor = new Map<string, Set<string>>(o.nodes.map((n) => [n.id, new Set<string>()]))
  for (const n of o.nodes) {
    for (const d of n.dependsOn) {
      if (!byId.has(d) || d === n.id) continue
      if (o.direction === 'reverse') waitsFor.get(d)!.add(n.id)
      else waitsFor.get(n.id)!.add(d)
    }
  }
  const cycle = findCycle(waitsFor)
  if (cycle) throw new WorkGraphError(`work graph cycle: ${cycle.join(' -> ')}`)

  const limit = Math.max(1, o.concurrency ?? Number.POSITIVE_INFINITY)
  const succeeded = o.succeeded ?? (() => true)
  const outcomes = new Map<string, WorkOutcome<R>>()
  const pending = [...o.nodes]
  const running = new Set<Promise<void>>()
  let failedOnce = false

  const decide = (n: WorkNode<T>, outcome: WorkOutcome<R>): void => {
    outcomes.set(n.id, outcome)
    if (outcome.state === 'failed') failedOnce = true
    o.onOutcome?.(n, outcome)
  }
  const halted = (): boolean => (o.onFailure === 'stop' && failedOnce) || o.stopped?.() === true

  const start = (n: WorkNode<T>): void => {
    const p = (async () => {
      try {
        const result = await o.run(n)
        decide(n, succeeded(result) ? { state: 'succeeded', result } : { state: 'failed', result })
      } catch (error) {
        decide(n, { state: 'failed', error })
      }
    })().finally(() => running.delete(p))
    running.add(p)
  }

  for (;;) {
    // Schedule every node that can be decided now: skipped, not started, or started. Deciding a
    // node may decide others before it in the list (their dependency was skipped): scan again.
    let progressed = true
    while (progressed) {
      progressed = false
      for (let i = 0; i < pending.length; i++) {
        const n = pending[i]!
        const waits = [...waitsFor.get(n.id)!]
        const blocker = waits.find((d) => {
          const s = outcomes.get(d)?.state
          return s !== undefined && s !== 'succeeded'
        })
        if (halted()) {
          pending.splice(i--, 1)
          decide(n, { state: 'not-started' })
          progressed = true
          continue
        }
        if (blocker !== undefined && o.direction !== 'reverse') {
          pending.splice(i--, 1)
          decide(n, { state: 'skipped', because: blocker })
          progressed = true
          continue
        }
        // In reverse, a node waits for its dependents to finish, whatever their outcome: a
        // resource is deleted after those that use it, even when deleting one of them failed.
        if (!waits.every((d) => outcomes.has(d))) continue
        if (running.size >= limit) continue
        pending.splice(i--, 1)
        start(n)
      }
    }
    if (!running.size) break
    await Promise.race(running)
  }
  return outcomes
}

/** The nodes of one cycle in a `waitsFor` map, or undefined. */
function findCycle(waitsFor: ReadonlyMap<string, ReadonlySet<string>>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>()
  const path: string[] = []
  const visit = (id: string): string[] | undefined => {
    const s = state.get(id)
    if (s === 'done') return undefined
    if (s === 'visiting') return [...path.slice(path.indexOf(id)), id]
    state.set(id, 'visiting')
    path.push(id)
    for (const d of waitsFor.get(id) ?? []) {
      const c = visit(d)
      if (c) return c
    }
    path.pop()
    state.set(id, 'done')
    return undefined
  }
  for (const id of waitsFor.keys()) {
    const c = visit(id)
    if (c) return c
  }
  return undefined
}

/** Runs `work` over `items` with at most `limit` at once, results in input order: a work graph without edges. */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const outcomes = await runWorkGraph({
    nodes: items.map((value, i) => ({ id: String(i), dependsOn: [], value })),
    concurrency: limit,
    run: (n) => work(n.value),
  })
  return items.map((_, i) => {
    const r = outcomes.get(String(i))!
    if (r.state === 'succeeded') return r.result
    throw r.state === 'failed' ? r.error : new Error(`work item ${i} did not run`)
  })
}
