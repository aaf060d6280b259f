// The shared work graph (src/workgraph), table-driven from cases/workgraph.json: start order,
// outcomes, the concurrency bound, skip-on-failure, stop-on-failure and reverse order.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { mapConcurrent, runWorkGraph, type WorkOutcome } from '../../src/workgraph/index.js'

interface Case {
  readonly name: string
  readonly direction?: 'forward' | 'reverse'
  readonly concurrency?: number
  readonly onFailure?: 'skip-dependents' | 'stop'
  readonly nodes: readonly { id: string; dependsOn?: string[]; ms?: number; fail?: boolean }[]
  readonly starts?: readonly string[]
  readonly outcomes?: Readonly<Record<string, string>>
  readonly peak?: number
  readonly error?: string
}

const { cases } = JSON.parse(readFileSync(join(import.meta.dirname, 'cases', 'workgraph.json'), 'utf8')) as {
  cases: Case[]
}

function describe(o: WorkOutcome<unknown>): string {
  return o.state === 'skipped' ? `skipped:${o.because}` : o.state
}

for (const c of cases) {
  test(c.name, async () => {
    const starts: string[] = []
    let now = 0
    let peak = 0
    const run = () =>
      runWorkGraph({
        nodes: c.nodes.map((n) => ({ id: n.id, dependsOn: n.dependsOn ?? [], value: n })),
        ...(c.direction ? { direction: c.direction } : {}),
        ...(c.concurrency !== undefined ? { concurrency: c.concurrency } : {}),
        ...(c.onFailure ? { onFailure: c.onFailure } : {}),
        run: async (node) => {
          starts.push(node.id)
          peak = Math.max(peak, ++now)
          await new Promise((r) => setTimeout(r, node.value.ms ?? 10))
          now--
          if (node.value.fail) throw new Error(`${node.id} failed`)
          return node.id
        },
      })
    if (c.error !== undefined) {
      await assert.rejects(run(), { message: c.error })
      assert.deepEqual(starts, [])
      return
    }
    const outcomes = await run()
    assert.deepEqual(starts, c.starts)
    assert.deepEqual(
      Object.fromEntries(c.nodes.map((n) => [n.id, describe(outcomes.get(n.id)!)])),
      c.outcomes,
    )
    assert.equal(peak, c.peak)
  })
}

test('a result that `succeeded` rejects is a failure, with the result kept', async () => {
  const out = await runWorkGraph({
    nodes: [
      { id: 'a', dependsOn: [], value: 1 },
      { id: 'b', dependsOn: ['a'], value: 2 },
    ],
    succeeded: (r: number) => r > 1,
    run: (n) => Promise.resolve(n.value),
  })
  assert.deepEqual(out.get('a'), { state: 'failed', result: 1 })
  assert.deepEqual(out.get('b'), { state: 'skipped', because: 'a' })
})

test('stopped(): once true nothing new starts; onOutcome hears of every node', async () => {
  let stop = false
  const heard: string[] = []
  const out = await runWorkGraph({
    nodes: ['a', 'b', 'c'].map((id, i) => ({ id, dependsOn: i ? [['a', 'b', 'c'][i - 1]!] : [], value: id })),
    stopped: () => stop,
    run: (n) => {
      if (n.id === 'a') stop = true
      return Promise.resolve(n.id)
    },
    onOutcome: (n, o) => heard.push(`${n.id}:${o.state}`),
  })
  assert.deepEqual(
    ['a', 'b', 'c'].map((id) => `${id}:${out.get(id)!.state}`),
    ['a:succeeded', 'b:not-started', 'c:not-started'],
  )
  assert.deepEqual(heard.sort(), ['a:succeeded', 'b:not-started', 'c:not-started'])
})

test('mapConcurrent keeps input order, bounds concurrency and rethrows a failure', async () => {
  let now = 0
  let peak = 0
  const out = await mapConcurrent([30, 10, 20, 5], 2, async (ms) => {
    peak = Math.max(peak, ++now)
    await new Promise((r) => setTimeout(r, ms))
    now--
    return ms * 2
  })
  assert.deepEqual(out, [60, 20, 40, 10])
  assert.equal(peak, 2)
  await assert.rejects(
    mapConcurrent([1, 2], 2, (x) => (x === 2 ? Promise.reject(new Error('two')) : Promise.resolve(x))),
    { message: 'two' },
  )
})
