// The tables of kilobyte rows are ordinary rowid tables, and a state directory written with the
// first layout (WITHOUT ROWID) is migrated in place with every row kept; the row cache of the
// namespaces every request reads never answers a value the database does not hold.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ItemTable, openDb } from '../../src/sandbox/store/db.js'
import { migrateToRowid } from '../../src/sandbox/store/layout.js'
import { S3Store } from '../../src/sandbox/services/s3/store.js'

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'crosspipe-layout-'))
  try {
    fn(dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const declared = (db: Database.Database, table: string): string =>
  (
    db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) as {
      sql: string
    }
  ).sql

/** A state directory as the first layout wrote it: the tables WITHOUT ROWID, with rows in them. */
function firstLayout(dir: string): void {
  const db = new Database(join(dir, 'sandbox.db'))
  db.pragma('journal_mode = WAL')
  db.exec(`
    CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID;
    CREATE TABLE items (
      ns TEXT NOT NULL, scope TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL,
      PRIMARY KEY (ns, scope, id)
    ) WITHOUT ROWID;
    CREATE TABLE s3_buckets (name TEXT PRIMARY KEY, body TEXT NOT NULL) WITHOUT ROWID;
    CREATE TABLE s3_objects (
      bucket TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL, version_id TEXT NOT NULL,
      latest INTEGER NOT NULL, delete_marker INTEGER NOT NULL, blob TEXT, inline BLOB, meta TEXT NOT NULL,
      PRIMARY KEY (bucket, key, seq)
    ) WITHOUT ROWID;
    CREATE INDEX s3_objects_latest ON s3_objects (bucket, latest, key);
  `)
  const item = db.prepare('INSERT INTO items VALUES (?, ?, ?, ?)')
  for (let i = 0; i < 500; i++)
    item.run('iam.role', '111111111111', `role-${i}`, JSON.stringify({ i, pad: 'x'.repeat(1500) }))
  db.prepare('INSERT INTO s3_buckets VALUES (?, ?)').run(
    'b',
    JSON.stringify({ name: 'b', account: '111111111111' }),
  )
  const obj = db.prepare('INSERT INTO s3_objects VALUES (?, ?, ?, ?, ?, 0, NULL, ?, ?)')
  obj.run('b', 'k', 1, 'v1', 0, Buffer.from('one'), JSON.stringify({ etag: '"1"' }))
  obj.run('b', 'k', 2, 'v2', 1, Buffer.from('two'), JSON.stringify({ etag: '"2"' }))
  db.close()
}

test('a state directory of the first layout is migrated to rowid tables with every row and index kept', () => {
  withDir((dir) => {
    firstLayout(dir)
    const db = openDb(dir)
    const s3 = new S3Store(db)
    for (const t of ['items', 's3_buckets', 's3_objects'])
      assert.doesNotMatch(declared(db, t), /WITHOUT ROWID/i, t)
    // Small rows keep the compact layout.
    assert.match(declared(db, 'meta'), /WITHOUT ROWID/i)
    const roles = new ItemTable<{ i: number }>(db, 'iam.role')
    assert.equal(roles.list('111111111111').length, 500)
    assert.equal(roles.get('111111111111', 'role-321')?.i, 321)
    assert.equal(s3.bucket('b')?.name, 'b')
    assert.equal(s3.latest('b', 'k')?.versionId, 'v2')
    assert.equal(s3.version('b', 'k', 'v1')?.inline?.toString(), 'one')
    const idx = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 's3_objects'")
      .all() as {
      name: string
    }[]
    assert.ok(
      idx.some((r) => r.name === 's3_objects_latest'),
      'the latest-version index is there again',
    )
    assert.equal(
      (
        db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name LIKE '%without_rowid%'").get() as {
          n: number
        }
      ).n,
      0,
    )
    db.close()
    // Opening again changes nothing.
    const again = openDb(dir)
    new S3Store(again)
    assert.equal(new ItemTable(again, 'iam.role').list('111111111111').length, 500)
    again.close()
  })
})

test('a migration that fails leaves the first layout as it was (one transaction)', () => {
  withDir((dir) => {
    firstLayout(dir)
    const db = new Database(join(dir, 'sandbox.db'))
    assert.throws(
      () =>
        migrateToRowid(
          db,
          'items',
          'CREATE TABLE items (ns TEXT, scope TEXT, id TEXT, body TEXT, PRIMARY KEY (ns, scope, id)) WITHOUT ROWID',
        ),
      /still WITHOUT ROWID/,
    )
    assert.match(declared(db, 'items'), /WITHOUT ROWID/i)
    assert.equal((db.prepare('SELECT count(*) AS n FROM items').get() as { n: number }).n, 500)
    db.close()
  })
})

test('a cached namespace answers what the database holds: after writes, deletes and a rolled-back transaction', () => {
  withDir((dir) => {
    const db = openDb(dir)
    const a = new ItemTable<{ v: number }>(db, 'credential', { cached: true })
    const b = new ItemTable<{ v: number }>(db, 'credential', { cached: true })
    a.put('', 'k', { v: 1 })
    assert.equal(a.get('', 'k')?.v, 1)
    // Another table of the same namespace writes: the first one sees it.
    b.put('', 'k', { v: 2 })
    assert.equal(a.get('', 'k')?.v, 2)
    // Each get is a value of its own.
    a.get('', 'k')!.v = 99
    assert.equal(a.get('', 'k')?.v, 2)
    // A write read back inside a transaction that rolls back is not remembered.
    assert.throws(() =>
      db.transaction(() => {
        a.put('', 'k', { v: 3 })
        assert.equal(a.get('', 'k')?.v, 3)
        throw new Error('roll back')
      })(),
    )
    assert.equal(a.get('', 'k')?.v, 2)
    b.delete('', 'k')
    assert.equal(a.get('', 'k'), undefined)
    db.close()
  })
})
