// The SQL store queues the writes of one turn of the event loop and applies them in one transaction:
// reads see every write at once, values are copied when written, and the database holds them
// once the run is over — also for a second connection, as after a restart.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDb } from '../../../src/sandbox/store/db.js'
import { SqlCfnStore, type StackRecord } from '../../../src/sandbox/services/cloudformation/store.js'

const scope = { account: '123456789012', region: 'eu-west-1' }

function stack(status: StackRecord['status']): StackRecord {
  return {
    stackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/s/1',
    stackName: 's',
    account: scope.account,
    region: scope.region,
    partition: 'aws',
    status,
    creationTime: '2026-01-01T00:00:00.000Z',
    templateBody: '{}',
    parameters: [],
    capabilities: [],
    notificationArns: [],
    tags: [],
    disableRollback: false,
    enableTerminationProtection: false,
    resources: {},
    outputs: [],
    imports: [],
  }
}

test('queued writes: read back at once, copied when written, in the database after the run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfn-store-'))
  const db = openDb(dir)
  try {
    const store = new SqlCfnStore(db)
    const s = stack('CREATE_IN_PROGRESS')
    store.putStack(scope, s)
    store.addEvent(scope, {
      eventId: 'e1',
      stackId: s.stackId,
      stackName: s.stackName,
      logicalResourceId: 's',
      physicalResourceId: s.stackId,
      resourceType: 'AWS::CloudFormation::Stack',
      resourceStatus: 'CREATE_IN_PROGRESS',
      timestamp: '2026-01-01T00:00:00.000Z',
    })
    s.status = 'CREATE_COMPLETE' // not written: the store keeps what was put
    // Nothing written yet: another connection sees an empty table.
    const other = openDb(dir)
    const count = () =>
      (
        other.prepare("SELECT count(*) AS n FROM items WHERE ns LIKE 'cloudformation.%'").get() as {
          n: number
        }
      ).n
    assert.equal(count(), 0)
    assert.equal(store.getStack(scope, s.stackId)?.status, 'CREATE_IN_PROGRESS', 'a read sees the write')
    assert.equal(count(), 2, 'the read applied both writes')
    store.putStack(scope, { ...s, status: 'CREATE_COMPLETE' })
    store.putStack(scope, { ...s, status: 'UPDATE_IN_PROGRESS' })
    await new Promise((r) => setImmediate(r))
    const body = other.prepare("SELECT body FROM items WHERE ns = 'cloudformation.stack'").get() as {
      body: string
    }
    assert.equal((JSON.parse(body.body) as StackRecord).status, 'UPDATE_IN_PROGRESS', 'the last write wins')
    assert.deepEqual(
      store.events(scope, s.stackId).map((e) => e.resourceStatus),
      ['CREATE_IN_PROGRESS'],
    )
    other.close()
  } finally {
    db.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
