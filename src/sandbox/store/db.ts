/**
 * The sandbox's metadata store: one SQLite database (better-sqlite3) in the state directory.
 *
 * Durability: WAL journal with `synchronous=NORMAL`. In WAL mode a commit is appended to the WAL
 * before the statement returns, so an acknowledged write survives the process being killed
 * (SIGKILL, crash) — the OS still holds and later writes those pages. What NORMAL gives up is the
 * fsync of the WAL at each commit, so after a *power loss* the last commits may be missing, but
 * the database is never corrupted (https://www.sqlite.org/pragma.html#pragma_synchronous and
 * https://www.sqlite.org/wal.html). That is the right trade for a laptop sandbox whose promise is
 * "survives kill -9 and a restart"; object bodies are still fsynced before their row commits (see
 * blobs.ts), so even after a power loss no row ever points at a torn body.
 */
import Database from 'better-sqlite3'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { migrateToRowid } from './layout.js'
import { mkdirPrivate, touchPrivate } from './state-dir.js'

const ITEMS = `CREATE TABLE items (
  ns TEXT NOT NULL, scope TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL,
  PRIMARY KEY (ns, scope, id)
)`

/** The open database. */
export type Db = Database.Database

/** Opens (creating if needed) the database under a state directory. */
export function openDb(stateDir: string): Db {
  mkdirPrivate(stateDir)
  const path = join(stateDir, 'sandbox.db')
  // SQLite gives the WAL and SHM files the database file's mode: create it 0600 first.
  touchPrivate(path)
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.pragma('busy_timeout = 5000')
  db.exec('CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID')
  // Items are JSON documents of up to a few kilobytes: a rowid table (layout.ts says why).
  migrateToRowid(db, 'items', ITEMS)
  db.exec(ITEMS.replace('CREATE TABLE', 'CREATE TABLE IF NOT EXISTS'))
  for (const f of ['sandbox.db-wal', 'sandbox.db-shm'])
    if (existsSync(join(stateDir, f))) touchPrivate(join(stateDir, f))
  return db
}

/** The row caches of each open database, by namespace: shared by every table of a namespace. */
const caches = new WeakMap<Db, Map<string, Map<string, string>>>()
/** Rows a namespace's cache holds before it starts again (a bound on memory, not a tuning knob). */
const CACHE_LIMIT = 20_000

/**
 * A typed view of one namespace of the generic `items` table: JSON values keyed by a scope
 * (account and region, or account alone for global services) and an id. Services with richer
 * queries (S3 objects) keep their own tables.
 */
export class ItemTable<T> {
  private readonly getStmt: Database.Statement<[string, string, string], { body: string }>
  private readonly putStmt: Database.Statement<[string, string, string, string]>
  private readonly delStmt: Database.Statement<[string, string, string]>
  private readonly listStmt: Database.Statement<
    [string, string, string, string],
    { id: string; body: string }
  >
  private readonly listAllStmt: Database.Statement<[string], { scope: string; id: string; body: string }>

  /** Bodies read before, by `scope \0 id`, for a namespace read on every request (see the constructor). */
  private readonly cache: Map<string, string> | undefined

  /**
   * `cached`: keep the JSON of rows read, for a namespace that every request reads (the credential a
   * request is signed with, the roles and policies IAM evaluates) and that no other process writes
   * — the sandbox holds its state directory's lock; only a namespace another process may write
   * while the sandbox runs (repositories registered by the CLI) must not say so. A body is cached
   * as text, so every `get` still returns a value of its own to change; it is cached only when
   * read outside a transaction (a value written by a transaction that rolls back never enters),
   * and dropped by any write or delete of its row through any table of the database.
   */
  constructor(
    private readonly db: Db,
    private readonly ns: string,
    options: { readonly cached?: boolean } = {},
  ) {
    if (options.cached) {
      let byNs = caches.get(db)
      if (!byNs) caches.set(db, (byNs = new Map<string, Map<string, string>>()))
      let cache = byNs.get(ns)
      if (!cache) byNs.set(ns, (cache = new Map<string, string>()))
      this.cache = cache
    }
    this.getStmt = db.prepare('SELECT body FROM items WHERE ns = ? AND scope = ? AND id = ?')
    this.putStmt = db.prepare('INSERT OR REPLACE INTO items (ns, scope, id, body) VALUES (?, ?, ?, ?)')
    this.delStmt = db.prepare('DELETE FROM items WHERE ns = ? AND scope = ? AND id = ?')
    // Prefix listing as a range scan: ids >= prefix and < prefix followed by the highest code point.
    this.listStmt = db.prepare(
      'SELECT id, body FROM items WHERE ns = ? AND scope = ? AND id >= ? AND id < ? ORDER BY id',
    )
    this.listAllStmt = db.prepare('SELECT scope, id, body FROM items WHERE ns = ? ORDER BY scope, id')
  }

  /** The value at scope/id, or undefined. */
  get(scope: string, id: string): T | undefined {
    if (this.cache === undefined) {
      const row = this.getStmt.get(this.ns, scope, id)
      return row ? (JSON.parse(row.body) as T) : undefined
    }
    const key = `${scope}\0${id}`
    let body = this.cache.get(key)
    if (body === undefined) {
      body = this.getStmt.get(this.ns, scope, id)?.body
      if (body === undefined) return undefined
      if (!this.db.inTransaction) {
        if (this.cache.size >= CACHE_LIMIT) this.cache.clear()
        this.cache.set(key, body)
      }
    }
    return JSON.parse(body) as T
  }

  /** Writes (inserts or replaces) a value. */
  put(scope: string, id: string, value: T): void {
    this.putJson(scope, id, JSON.stringify(value))
  }

  /**
   * Writes a value serialized earlier by `JSON.stringify` (the body {@link put} would write): for a
   * writer that must capture a value now and write it later, serializing once is the copy.
   */
  putJson(scope: string, id: string, json: string): void {
    this.cache?.delete(`${scope}\0${id}`)
    this.putStmt.run(this.ns, scope, id, json)
  }

  /** Deletes a value; true when one existed. */
  delete(scope: string, id: string): boolean {
    this.cache?.delete(`${scope}\0${id}`)
    return this.delStmt.run(this.ns, scope, id).changes > 0
  }

  /** Values in a scope whose id starts with a prefix, in id order. */
  list(scope: string, prefix = ''): { id: string; value: T }[] {
    return this.listStmt
      .all(this.ns, scope, prefix, prefix + '\u{10ffff}')
      .map((r) => ({ id: r.id, value: JSON.parse(r.body) as T }))
  }

  /** Every value of the namespace, in every scope. */
  all(): { scope: string; id: string; value: T }[] {
    return this.listAllStmt
      .all(this.ns)
      .map((r) => ({ scope: r.scope, id: r.id, value: JSON.parse(r.body) as T }))
  }
}
