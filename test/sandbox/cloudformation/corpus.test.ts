// The CloudFormation engine corpus: each file under cases/ is a sequence of stack operations
// (create, update, delete, change sets) with the stack states, resources, outputs, exports and
// events expected after each — or the exact error the call must return.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ACCOUNT, REGION, harness, type Harness } from './harness.js'

const dir = join(import.meta.dirname, 'cases')

interface Step {
  op: 'create' | 'update' | 'delete' | 'createChangeSet' | 'executeChangeSet' | 'deleteChangeSet'
  stack: string
  template?: string | Record<string, unknown>
  usePreviousTemplate?: boolean
  parameters?: Record<string, string | { usePrevious: true }>
  capabilities?: string[]
  roleArn?: string
  deny?: string[]
  changeSet?: string
  changeSetType?: 'CREATE' | 'UPDATE'
  disableRollback?: boolean
  tags?: Record<string, string>
  error?: { code: string; message: string }
  expect?: {
    status?: string
    statusReason?: string
    outputs?: Record<string, string>
    resources?: Record<string, string>
    resourceReasons?: Record<string, string>
    physicalIds?: Record<string, string>
    exports?: Record<string, string>
    events?: string[]
    noEvents?: string[]
    parameters?: Record<string, string>
    changeSet?: {
      status?: string
      reason?: string
      executionStatus?: string
      changes?: Record<string, unknown>[]
    }
    local?: Record<string, Record<string, Record<string, unknown> | null>>
  }
}

function fill(s: string, stack: string): string {
  return s.replaceAll('{account}', ACCOUNT).replaceAll('{region}', REGION).replaceAll('{stackName}', stack)
}

function matches(actual: unknown, expected: string, stack: string): boolean {
  const e = fill(expected, stack)
  if (e.length > 2 && e.startsWith('/') && e.endsWith('/'))
    return new RegExp(e.slice(1, -1)).test(String(actual))
  return actual === e
}

async function runStep(h: Harness, step: Step): Promise<void> {
  h.deny.clear()
  for (const d of step.deny ?? []) h.deny.add(d)
  const templateBody =
    step.template === undefined
      ? undefined
      : typeof step.template === 'string'
        ? step.template
        : JSON.stringify(step.template)
  const parameters = Object.entries(step.parameters ?? {}).map(([k, v]) =>
    typeof v === 'string'
      ? { ParameterKey: k, ParameterValue: v }
      : { ParameterKey: k, UsePreviousValue: true },
  )
  const input = {
    stackName: step.stack,
    templateBody,
    usePreviousTemplate: step.usePreviousTemplate,
    parameters,
    capabilities: step.capabilities,
    roleArn: step.roleArn,
    disableRollback: step.disableRollback,
    tags: step.tags ? Object.entries(step.tags).map(([Key, Value]) => ({ Key, Value })) : undefined,
  }
  const call = async (): Promise<void> => {
    switch (step.op) {
      case 'create':
        await h.engine.createStack(h.op, input)
        break
      case 'update':
        await h.engine.updateStack(h.op, input)
        break
      case 'delete':
        await h.engine.deleteStack(h.op, step.stack, { roleArn: step.roleArn })
        break
      case 'createChangeSet':
        await h.engine.createChangeSet(h.op, {
          ...input,
          changeSetName: step.changeSet!,
          changeSetType: step.changeSetType,
        })
        break
      case 'executeChangeSet':
        await h.engine.executeChangeSet(h.op, step.changeSet!, step.stack, {
          disableRollback: step.disableRollback,
        })
        break
      case 'deleteChangeSet':
        h.engine.deleteChangeSet(h.op.scope, step.changeSet!, step.stack)
        break
    }
  }
  if (step.error) {
    await assert.rejects(call(), (e: any) => {
      assert.equal(e.code, step.error!.code, `error code (message: ${e.message})`)
      assert.ok(matches(e.message, step.error!.message, step.stack), `error message: ${e.message}`)
      return true
    })
  } else await call()
  await h.engine.idle()
  const x = step.expect
  if (!x) return
  const stacks = h.engine.listStacks(h.op.scope).filter((s) => s.stackName === step.stack)
  // The live stack of that name if there is one (as DescribeStacks by name finds it): a stack
  // deleted and created again within the same millisecond ties on creation time.
  const stack = stacks.find((s) => s.status !== 'DELETE_COMPLETE') ?? stacks[0]!
  assert.ok(stack, `stack ${step.stack} exists`)
  if (x.status)
    assert.equal(
      stack.status,
      x.status,
      `stack status (reason: ${stack.statusReason ?? '-'}; events: ${JSON.stringify(
        h.store
          .events(h.op.scope, stack.stackId)
          .map((e) => `${e.logicalResourceId} ${e.resourceStatus} ${e.resourceStatusReason ?? ''}`)
          .reverse(),
        null,
        1,
      )})`,
    )
  if (x.statusReason)
    assert.ok(
      matches(stack.statusReason, x.statusReason, step.stack) ||
        (stack.statusReason ?? '').includes(fill(x.statusReason, step.stack)),
      `status reason: ${stack.statusReason}`,
    )
  for (const [k, v] of Object.entries(x.outputs ?? {})) {
    const o = stack.outputs.find((o) => o.key === k)
    assert.ok(o && matches(o.value, v, step.stack), `output ${k}: got ${o?.value}, want ${v}`)
  }
  if (x.outputs)
    assert.equal(
      stack.outputs.length,
      Object.keys(x.outputs).length,
      `outputs: ${JSON.stringify(stack.outputs)}`,
    )
  if (x.resources) {
    const live = Object.fromEntries(Object.values(stack.resources).map((r) => [r.logicalId, r.status]))
    assert.deepEqual(live, x.resources, 'resource statuses')
  }
  for (const [k, v] of Object.entries(x.resourceReasons ?? {})) {
    const r = stack.resources[k]
    assert.ok(r?.statusReason?.includes(fill(v, step.stack)), `reason of ${k}: ${r?.statusReason}`)
  }
  for (const [k, v] of Object.entries(x.physicalIds ?? {})) {
    assert.ok(
      matches(stack.resources[k]?.physicalId, v, step.stack),
      `physical id of ${k}: ${stack.resources[k]?.physicalId}`,
    )
  }
  for (const [k, v] of Object.entries(x.parameters ?? {})) {
    assert.equal(stack.parameters.find((p) => p.key === k)?.value, v, `parameter ${k}`)
  }
  if (x.exports) {
    const ex = Object.fromEntries(h.engine.listExports(h.op.scope).map((e) => [e.name, e.value]))
    assert.deepEqual(
      ex,
      Object.fromEntries(Object.entries(x.exports).map(([k, v]) => [k, fill(v, step.stack)])),
      'exports',
    )
  }
  if (x.events || x.noEvents) {
    const events = h.store
      .events(h.op.scope, stack.stackId)
      .reverse()
      .map(
        (e) =>
          `${e.logicalResourceId} ${e.resourceStatus}${e.resourceStatusReason ? ' ' + e.resourceStatusReason : ''}`,
      )
    let i = 0
    for (const want of x.events ?? []) {
      const w = fill(want, step.stack)
      while (i < events.length && !events[i]!.startsWith(w)) i++
      assert.ok(i < events.length, `event "${w}" in order among:\n${events.join('\n')}`)
      i++
    }
    for (const no of x.noEvents ?? [])
      assert.ok(
        !events.some((e) => e.startsWith(fill(no, step.stack))),
        `no event "${no}" among:\n${events.join('\n')}`,
      )
  }
  if (x.changeSet) {
    const cs = h.engine.getChangeSet(h.op.scope, step.changeSet!, step.stack)
    if (x.changeSet.status)
      assert.equal(cs.status, x.changeSet.status, `change set status (${cs.statusReason})`)
    if (x.changeSet.reason) assert.equal(cs.statusReason, x.changeSet.reason)
    if (x.changeSet.executionStatus) assert.equal(cs.executionStatus, x.changeSet.executionStatus)
    if (x.changeSet.changes) {
      const got = cs.changes.map((c, i) => {
        const o: Record<string, unknown> = { action: c.action, logicalId: c.logicalId }
        if (c.replacement) o.replacement = c.replacement
        // Details are compared only where the case lists them.
        if (x.changeSet!.changes![i]?.details) {
          o.details = c.details.map((d) => ({
            name: d.name,
            requiresRecreation: d.requiresRecreation,
            evaluation: d.evaluation,
          }))
        }
        return o
      })
      assert.deepEqual(got, x.changeSet.changes)
    }
  }
  for (const [kind, items] of Object.entries(x.local ?? {})) {
    for (const [id, want] of Object.entries(items)) {
      const got = h.store.local(h.op.scope).get<Record<string, unknown>>(kind, id)
      if (want === null) assert.equal(got, undefined, `${kind} ${id} is gone`)
      else for (const [k, v] of Object.entries(want)) assert.deepEqual(got?.[k], v, `${kind} ${id}.${k}`)
    }
  }
}

for (const file of readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()) {
  const c = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { description: string; steps: Step[] }
  test(`${file}: ${c.description}`, async () => {
    const h = harness()
    for (const [i, step] of c.steps.entries()) {
      try {
        await runStep(h, step)
      } catch (e) {
        if (e instanceof Error) e.message = `step ${i + 1} (${step.op} ${step.stack}): ${e.message}`
        throw e
      }
    }
  })
}
