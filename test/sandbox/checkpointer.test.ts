// The WAL checkpoints run on a worker thread: the sandbox's own connection never checkpoints
// (so no request pays for one), the worker does copy committed pages into the database file
// while the sandbox runs, and closing leaves no WAL behind.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDb } from '../../src/sandbox/store/db.js'
import { startCheckpointer } from '../../src/sandbox/store/checkpointer.js'

const fill = (db: ReturnType<typeof openDb>, from: number, n: number): void => {
  const put = db.prepare('INSERT OR REPLACE INTO items (ns, scope, id, body) VALUES (?, ?, ?, ?)')
  db.transaction(() => {
    for (let i = from; i < from + n; i++) put.run('t', 's', String(i), 'x'.repeat(1000))
  })()
}

async function until(what: string, ok: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms
  while (!ok()) {
    if (Date.now() > end) assert.fail(`${what} within ${ms} ms`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

test('without the worker and with automatic checkpoints off, committed pages stay in the WAL (the control)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'crosspipe-ckpt-'))
  try {
    const db = openDb(dir)
    db.pragma('wal_autocheckpoint = 0')
    const before = statSync(join(dir, 'sandbox.db')).size
    fill(db, 0, 2000)
    assert.equal(statSync(join(dir, 'sandbox.db')).size, before)
    assert.ok(statSync(join(dir, 'sandbox.db-wal')).size > 2_000_000)
    db.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('the worker checkpoints what the connection commits; the connection itself never does; close removes the WAL', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'crosspipe-ckpt-'))
  try {
    const db = openDb(dir)
    const errors: string[] = []
    const ckpt = startCheckpointer(db, (m) => errors.push(m))
    assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 0)
    const dbFile = join(dir, 'sandbox.db')
    const before = statSync(dbFile).size
    fill(db, 0, 2000)
    // 2,000 rows of 1 KB: under SQLite's default threshold (1,000 pages), so only the worker moves them.
    await until(
      'the worker copies the pages into the database file',
      () => statSync(dbFile).size > before + 1_500_000,
    )
    // It keeps doing so: the WAL is reused from its start instead of growing with every write.
    const wal = statSync(join(dir, 'sandbox.db-wal')).size
    for (let round = 1; round <= 5; round++) {
      fill(db, round * 2000, 2000)
      await new Promise((r) => setTimeout(r, 450))
    }
    assert.ok(
      statSync(join(dir, 'sandbox.db-wal')).size < wal * 3,
      'the WAL is reused, not grown by every round',
    )
    assert.equal((db.prepare('SELECT count(*) AS n FROM items').get() as { n: number }).n, 12_000)
    ckpt.stop()
    db.close()
    assert.equal(
      existsSync(join(dir, 'sandbox.db-wal')),
      false,
      'the last connection to close checkpoints and removes the WAL',
    )
    assert.deepEqual(errors, [])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a checkpointer never keeps a process alive by itself', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'crosspipe-ckpt-'))
  try {
    const { spawnSync } = await import('node:child_process')
    const code = `
      import { openDb } from ${JSON.stringify(join(import.meta.dirname, '../../src/sandbox/store/db.ts'))}
      import { startCheckpointer } from ${JSON.stringify(join(import.meta.dirname, '../../src/sandbox/store/checkpointer.ts'))}
      startCheckpointer(openDb(${JSON.stringify(dir)}))
    `
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      timeout: 20_000,
      encoding: 'utf8',
    })
    assert.equal(r.signal, null, 'the process ended without being killed')
    assert.equal(r.status, 0, r.stderr)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
