// The SQL store keeps a summary of every stack of a region in memory (name, status, exports,
// imports) so that finding a stack by name and listing exports do not read and parse every stack
// record. These tests hold it to the records themselves: after creates, updates (accepted and
// refused), a rolled-back create, deletes, and a restart mid-operation, what the engine answers
// equals what the stored records say, and a fresh store over the same database (a restart) agrees.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { harness, type Harness } from './harness.js'
import { openDb, type Db } from '../../../src/sandbox/store/db.js'
import { SqlCfnStore, type CfnStore } from '../../../src/sandbox/services/cloudformation/store.js'
import type { CloudFormationEngine } from '../../../src/sandbox/services/cloudformation/engine.js'
import type { ResourceProvider } from '../../../src/sandbox/cfn-providers.js'

/** The exports as the stored records say (the pre-index way: every record read and parsed). */
function exportsOfRecords(store: CfnStore, h: Harness): string[] {
  return store
    .listStacks(h.op.scope)
    .filter((s) => s.status !== 'DELETE_COMPLETE' && s.status !== 'REVIEW_IN_PROGRESS')
    .flatMap((s) =>
      s.outputs.flatMap((o) => (o.exportName ? [`${o.exportName}=${o.value}@${s.stackName}`] : [])),
    )
    .sort()
}

function exportsOfEngine(engine: CloudFormationEngine, h: Harness): string[] {
  return engine
    .listExports(h.op.scope)
    .map((e) => `${e.name}=${e.value}@${engine.getStack(h.op.scope, e.stackId).stackName}`)
    .sort()
}

/** The engine's exports equal the records', in this store and in a fresh one over the database. */
function agree(h: Harness, db: Db, expected: string[]): void {
  assert.deepEqual(exportsOfEngine(h.engine, h), expected)
  assert.deepEqual(exportsOfRecords(h.store, h), expected)
  ;(h.store as SqlCfnStore).flush()
  const fresh = harness({ store: new SqlCfnStore(db) })
  assert.deepEqual(exportsOfEngine(fresh.engine, fresh), expected)
}

const handle = { H: { Type: 'AWS::CloudFormation::WaitConditionHandle' } }
const exporter = (outputs: Record<string, unknown>) => JSON.stringify({ Resources: handle, Outputs: outputs })

test('exports and names from the stack index follow creates, updates, a refused update, a rolled-back create and deletes, and survive a restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfn-index-'))
  const db = openDb(dir)
  try {
    const h = harness({ store: new SqlCfnStore(db) })
    const fail: ResourceProvider = {
      type: 'Test::Fails',
      create: () => Promise.reject(new Error('boom')),
      delete: () => Promise.resolve(),
    }
    h.providers.register(fail)
    await h.engine.createStack(h.op, {
      stackName: 'a',
      templateBody: exporter({ X: { Value: 'one', Export: { Name: 'x' } } }),
    })
    await h.engine.idle()
    await h.engine.createStack(h.op, {
      stackName: 'b',
      templateBody: JSON.stringify({
        Resources: handle,
        Outputs: { I: { Value: { 'Fn::ImportValue': 'x' } } },
      }),
    })
    await h.engine.idle()
    assert.equal(h.engine.getStack(h.op.scope, 'b').status, 'CREATE_COMPLETE')
    agree(h, db, ['x=one@a'])

    // An export in use cannot change: the update rolls back and the export keeps its value.
    await h.engine.updateStack(h.op, {
      stackName: 'a',
      templateBody: exporter({ X: { Value: 'two', Export: { Name: 'x' } } }),
    })
    await h.engine.idle()
    assert.equal(h.engine.getStack(h.op.scope, 'a').status, 'UPDATE_ROLLBACK_COMPLETE')
    agree(h, db, ['x=one@a'])

    // An added export is listed at once.
    await h.engine.updateStack(h.op, {
      stackName: 'a',
      templateBody: exporter({
        X: { Value: 'one', Export: { Name: 'x' } },
        Y: { Value: 'why', Export: { Name: 'y' } },
      }),
    })
    await h.engine.idle()
    agree(h, db, ['x=one@a', 'y=why@a'])

    // A create that fails rolls back; its exports are never listed, and its name is free again.
    await h.engine.createStack(h.op, {
      stackName: 'c',
      templateBody: JSON.stringify({
        Resources: { ...handle, F: { Type: 'Test::Fails', DependsOn: 'H' } },
        Outputs: { Z: { Value: 'zed', Export: { Name: 'z' } } },
      }),
    })
    await h.engine.idle()
    assert.equal(h.engine.getStack(h.op.scope, 'c').status, 'ROLLBACK_COMPLETE')
    agree(h, db, ['x=one@a', 'y=why@a'])
    await h.engine.deleteStack(h.op, 'c')
    await h.engine.idle()
    assert.equal(h.engine.findStack(h.op.scope, 'c'), undefined)

    // Once its importer is gone an export can be removed; a deleted stack exports nothing.
    await h.engine.deleteStack(h.op, 'b')
    await h.engine.idle()
    assert.equal(h.engine.findStack(h.op.scope, 'b'), undefined)
    await h.engine.updateStack(h.op, {
      stackName: 'a',
      templateBody: exporter({ Y: { Value: 'why', Export: { Name: 'y' } } }),
    })
    await h.engine.idle()
    agree(h, db, ['y=why@a'])
    await h.engine.deleteStack(h.op, 'a')
    await h.engine.idle()
    agree(h, db, [])
    assert.equal(h.engine.findStack(h.op.scope, 'a'), undefined)
  } finally {
    db.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a stack whose operation a restart interrupts is found by name in the new store, failed, with its exports as last recorded', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfn-index-'))
  const db = openDb(dir)
  try {
    const h = harness({ store: new SqlCfnStore(db) })
    let release: () => void = () => {}
    const hang: ResourceProvider = {
      type: 'Test::Hangs',
      create: () => new Promise((res) => (release = () => res({ physicalId: 'p', attributes: {} }))),
      delete: () => Promise.resolve(),
    }
    h.providers.register(hang)
    await h.engine.createStack(h.op, {
      stackName: 'a',
      templateBody: exporter({ X: { Value: 'one', Export: { Name: 'x' } } }),
    })
    await h.engine.idle()
    await h.engine.updateStack(h.op, {
      stackName: 'a',
      templateBody: JSON.stringify({
        Resources: { ...handle, W: { Type: 'Test::Hangs' } },
        Outputs: { X: { Value: 'two', Export: { Name: 'x' } } },
      }),
    })
    // The update is under way (W hangs): what the store holds now is what a kill -9 leaves.
    await new Promise((r) => setTimeout(r, 20))
    assert.equal(h.engine.getStack(h.op.scope, 'a').status, 'UPDATE_IN_PROGRESS')
    ;(h.store as SqlCfnStore).flush()
    const restarted = harness({ store: new SqlCfnStore(db) })
    const s = restarted.engine.getStack(restarted.op.scope, 'a')
    assert.equal(s.status, 'UPDATE_ROLLBACK_FAILED')
    assert.equal(s.statusReason, 'The crosspipe sandbox stopped while this operation was in progress')
    assert.deepEqual(exportsOfEngine(restarted.engine, restarted), ['x=one@a'])
    assert.deepEqual(
      restarted.engine.describeStacks(restarted.op.scope).map((x) => `${x.stackName}:${x.status}`),
      ['a:UPDATE_ROLLBACK_FAILED'],
    )
    release()
    await h.engine.idle()
  } finally {
    db.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
