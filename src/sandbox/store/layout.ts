/**
 * Table layouts that change between versions of the sandbox, and the one migration they need so
 * far: from `WITHOUT ROWID` to an ordinary (rowid) table.
 *
 * The first tables were declared `WITHOUT ROWID` for their composite keys. SQLite advises that
 * layout only for rows smaller than about a twentieth of a page
 * (https://www.sqlite.org/withoutrowid.html#when_to_use_without_rowid), and the sandbox's are not:
 * a session's credential record or a role is a kilobyte or two of JSON, an S3 object row holds
 * bodies up to 64 KiB inline. In a `WITHOUT ROWID` table the whole row lives in the key's B-tree,
 * so every insert or overwrite moves those bytes through the interior pages and splits them
 * (overflow pages for the larger ones); in a rowid table the key is a small separate index and the
 * row is written once. Measured with the sandbox's statements on this layout: an S3 overwrite of a
 * 1 KiB object 19 µs → 7 µs, its read 8.5 → 4 µs; a 1.5 KB item insert 60 → 23 µs.
 */
import type { Db } from './db.js'

/** True when the table exists and is declared `WITHOUT ROWID`. */
function withoutRowid(db: Db, table: string): boolean {
  const row = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) as
    { sql: string } | undefined
  return row !== undefined && /\bWITHOUT\s+ROWID\b/i.test(row.sql)
}

/**
 * Rebuilds `table` as declared by `create` (a rowid table with the same columns, in the same
 * order) when the state directory holds it in the old `WITHOUT ROWID` layout: one transaction, so a
 * crash leaves either the old table or the new one, never half of each. Indexes on the old table
 * are dropped with it; the caller creates the new table's indexes after this (`CREATE INDEX IF NOT
 * EXISTS`). A no-op on a table that does not exist yet or already has the new layout.
 */
export function migrateToRowid(db: Db, table: string, create: string): void {
  if (!withoutRowid(db, table)) return
  const old = `${table}__without_rowid`
  db.transaction(() => {
    const indexes = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL")
      .all(table) as { name: string }[]
    for (const { name } of indexes) db.exec(`DROP INDEX "${name}"`)
    db.exec(`ALTER TABLE "${table}" RENAME TO "${old}"`)
    db.exec(create)
    if (withoutRowid(db, table))
      throw new Error(`layout of ${table}: the new declaration is still WITHOUT ROWID`)
    db.exec(`INSERT INTO "${table}" SELECT * FROM "${old}"`)
    db.exec(`DROP TABLE "${old}"`)
  })()
}
