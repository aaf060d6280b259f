/**
 * CodeCommit repositories of the sandbox: local git repositories registered under a name in an
 * account and region, which a pipeline's CodeCommit source action reads (its branch head, as a
 * zip of the tree — the CODE_ZIP output format of action-reference-CodeCommit.html). CodeCommit
 * itself is not served over the wire; the source action authorizes the CodeCommit permissions it
 * needs (codecommit:GetBranch, GetCommit, UploadArchive, GetUploadArchiveStatus) as its role.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { CrosspipeError } from '../../../model/errors.js'
import type { Runtime } from '../../runtime.js'
import { openDb } from '../../store/db.js'
import { ItemTable } from '../../store/db.js'
import { scopeOf, type RepositoryRecord } from './store.js'

/** Options for {@link registerRepository}. */
export interface RegisterRepositoryOptions {
  /** The repository name (CodeCommit's pattern: letters, digits, `.`, `_`, `-`, up to 100). */
  readonly name: string
  /** A local git repository (a work tree or a bare repository). */
  readonly path: string
  /** The account that owns it (the sandbox's account id). */
  readonly account: string
  /** The region it lives in. */
  readonly region: string
}

/**
 * Registers (or re-points) a local git repository as a CodeCommit repository of the sandbox.
 * `target` is a running sandbox's runtime, or a state directory: the row is written to its
 * database (which a running sandbox shares, WAL mode), and the sandbox's poller sees new commits
 * on its next tick. This is what `crosspipe sandbox repo add NAME PATH` calls.
 */
export function registerRepository(target: Runtime | string, o: RegisterRepositoryOptions): RepositoryRecord {
  if (!/^[\w.-]{1,100}$/.test(o.name) || o.name.endsWith('.git'))
    throw new CrosspipeError(
      'usage',
      `Repository name ${o.name}: use 1 to 100 letters, digits, ., _ or -, not ending in .git.`,
    )
  const path = resolve(o.path)
  if (!existsSync(path) || !statSync(path).isDirectory())
    throw new CrosspipeError('usage', `${path} is not a directory: give the path of a git repository.`)
  try {
    execFileSync('git', ['-C', path, 'rev-parse', '--git-dir'], { stdio: 'ignore' })
  } catch {
    throw new CrosspipeError(
      'usage',
      `${path} is not a git repository (git rev-parse failed): run git init there first.`,
    )
  }
  if (!/^\d{12}$/.test(o.account))
    throw new CrosspipeError('usage', `Account ${o.account} is not a 12-digit account id.`)
  const rec: RepositoryRecord = {
    name: o.name,
    path,
    account: o.account,
    region: o.region,
    created: new Date().toISOString(),
  }
  if (typeof target === 'string') {
    const db = openDb(resolve(target))
    try {
      new ItemTable<RepositoryRecord>(db, 'codecommit.repository').put(
        scopeOf(o.account, o.region),
        o.name,
        rec,
      )
    } finally {
      db.close()
    }
  } else
    new ItemTable<RepositoryRecord>(target.db, 'codecommit.repository').put(
      scopeOf(o.account, o.region),
      o.name,
      rec,
    )
  return rec
}

/** The repositories registered in a state directory or runtime. */
export function listRepositories(target: Runtime | string): RepositoryRecord[] {
  if (typeof target !== 'string')
    return new ItemTable<RepositoryRecord>(target.db, 'codecommit.repository').all().map((r) => r.value)
  const db = openDb(resolve(target))
  try {
    return new ItemTable<RepositoryRecord>(db, 'codecommit.repository').all().map((r) => r.value)
  } finally {
    db.close()
  }
}
