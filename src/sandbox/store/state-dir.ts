/**
 * The state directory as a private, exclusively owned place.
 *
 * It holds every account's root keys (in the database and the credentials file) and the object
 * bodies, and its CodeBuild projects run commands as the user who started the sandbox; so
 * everything under it is private to that user (`0700` directories, `0600` files), and one sandbox
 * at a time owns it (an OS-level lock, released by the kernel when the process dies, so a killed
 * sandbox never blocks the next one). Modes are set explicitly, not left to the umask.
 */
import Database from 'better-sqlite3'
import {
  chmodSync,
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { CrosspipeError } from '../../model/errors.js'

/** Mode of every directory under the state directory. */
export const DIR_MODE = 0o700
/** Mode of every file under the state directory. */
export const FILE_MODE = 0o600

const LOCK_FILE = 'sandbox.lock'
const PID_FILE = 'sandbox.pid'

/** Creates a directory (and its missing parents under it) with mode 0700 whatever the umask. */
export function mkdirPrivate(dir: string): void {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: DIR_MODE })
  if ((statSync(dir).mode & 0o777) !== DIR_MODE) chmodSync(dir, DIR_MODE)
}

/** Creates (or truncates) a file with mode 0600 whatever the umask, and writes it. */
export function writePrivate(path: string, data: string | Uint8Array): void {
  writeFileSync(path, data, { mode: FILE_MODE })
  chmodSync(path, FILE_MODE)
}

/** Writes a private file atomically (temporary file, then rename). */
export function writePrivateAtomic(path: string, data: string): void {
  const tmp = `${path}.${process.pid}.tmp`
  writePrivate(tmp, data)
  renameSync(tmp, path)
}

/** Opens a file for appending with mode 0600 (creating it), and returns its descriptor. */
export function openPrivateAppend(path: string): number {
  const fd = openSync(path, 'a', FILE_MODE)
  chmodSync(path, FILE_MODE)
  return fd
}

/** What {@link securePrivate} changed. */
export interface PrivacyReport {
  /** Paths whose mode was made private (relative to the state directory). */
  readonly fixed: readonly string[]
}

function uid(): number | undefined {
  return typeof process.getuid === 'function' ? process.getuid() : undefined
}

/**
 * Makes the state directory private, creating it if missing: refuses (exit 2) a directory owned
 * by another user, and sets every directory under it to 0700 and every file to 0600, returning
 * what it changed so the caller can say so. Symbolic links are not followed.
 */
export function securePrivate(stateDir: string): PrivacyReport {
  mkdirSync(stateDir, { recursive: true, mode: DIR_MODE })
  const me = uid()
  const top = lstatSync(stateDir)
  if (!top.isDirectory())
    throw new CrosspipeError('sandbox', `The sandbox state path ${stateDir} is not a directory.`)
  if (me !== undefined && top.uid !== me)
    throw new CrosspipeError(
      'sandbox',
      `The sandbox state directory ${stateDir} belongs to user id ${top.uid}, not to you (${me}): it holds every account's root keys, so the sandbox only uses a directory of its own. Use another --state directory.`,
    )
  const fixed: string[] = []
  const walk = (dir: string, rel: string): void => {
    const st = lstatSync(dir)
    if ((st.mode & 0o777) !== DIR_MODE) fix(dir, rel || '.', DIR_MODE, st.mode)
    for (const name of readdirSync(dir)) {
      const p = join(dir, name)
      const r = rel ? `${rel}/${name}` : name
      const s = lstatSync(p)
      if (me !== undefined && s.uid !== me)
        throw new CrosspipeError(
          'sandbox',
          `${p} in the sandbox state directory belongs to user id ${s.uid}, not to you (${me}): the sandbox will not use a state directory that others can change. Remove it (or use another --state directory).`,
        )
      if (s.isDirectory()) walk(p, r)
      else if (s.isFile() && (s.mode & 0o777) !== FILE_MODE) fix(p, r, FILE_MODE, s.mode)
    }
  }
  const fix = (p: string, rel: string, mode: number, was: number): void => {
    try {
      chmodSync(p, mode)
    } catch (e) {
      throw new CrosspipeError(
        'sandbox',
        `Cannot make ${p} private (mode ${(was & 0o777).toString(8)}, ${(e as NodeJS.ErrnoException).code ?? 'error'}): the sandbox state directory must not be readable or writable by others. Fix its permissions or use another --state directory.`,
      )
    }
    if ((statSync(p).mode & 0o777) !== mode)
      throw new CrosspipeError(
        'sandbox',
        `Cannot make ${p} private: its file system keeps mode ${(statSync(p).mode & 0o777).toString(8)}. Put the sandbox state directory on a file system with Unix permissions (--state DIR).`,
      )
    fixed.push(`${rel} (was ${(was & 0o777).toString(8)})`)
  }
  walk(stateDir, '')
  return { fixed }
}

/** The exclusive hold of a state directory; released by {@link StateLock.release} or the process's death. */
export interface StateLock {
  release(): void
}

/** The pid recorded by the holder of the lock, if any. */
function holderPid(stateDir: string): number | undefined {
  try {
    const n = Number(readFileSync(join(stateDir, PID_FILE), 'utf8').trim())
    return Number.isInteger(n) && n > 0 ? n : undefined
  } catch {
    return undefined
  }
}

/**
 * Takes the state directory's exclusive lock: an SQLite database in exclusive locking mode
 * (https://www.sqlite.org/pragma.html#pragma_locking_mode), i.e. a POSIX advisory lock the kernel
 * drops when the process ends however it ends, so a killed sandbox leaves no stale lock. A second
 * sandbox on the same directory is refused with the holder's pid.
 */
export function lockStateDir(stateDir: string): StateLock {
  const path = join(stateDir, LOCK_FILE)
  if (!existsSync(path)) writePrivate(path, '')
  const db = new Database(path, { timeout: 1000 })
  try {
    db.pragma('locking_mode = EXCLUSIVE')
    db.exec('BEGIN EXCLUSIVE; COMMIT')
  } catch (e) {
    db.close()
    if ((e as { code?: string }).code === 'SQLITE_BUSY') {
      const pid = holderPid(stateDir)
      throw new CrosspipeError(
        'sandbox',
        `A sandbox is already running from ${stateDir} (pid ${pid ?? 'unknown'}), and one state directory serves one sandbox: stop it with \`crosspipe sandbox stop --state ${stateDir}\` (or kill ${pid ?? 'it'}), or use another --state directory.`,
      )
    }
    throw e
  }
  chmodSync(path, FILE_MODE)
  writePrivate(join(stateDir, PID_FILE), `${process.pid}\n`)
  let released = false
  return {
    release() {
      if (released) return
      released = true
      db.close()
    },
  }
}

/**
 * True when a live process holds the state directory's lock. A pid file left by a killed sandbox
 * does not count: the kernel released its lock when it died.
 */
export function stateDirLocked(stateDir: string): boolean {
  const path = join(stateDir, LOCK_FILE)
  if (!existsSync(path)) return false
  let db: Database.Database
  try {
    db = new Database(path, { timeout: 0, fileMustExist: true })
  } catch {
    return false
  }
  try {
    db.exec('BEGIN IMMEDIATE; ROLLBACK')
    return false
  } catch (e) {
    return (e as { code?: string }).code === 'SQLITE_BUSY'
  } finally {
    db.close()
  }
}

/** The body files under `objects/` (shard directories of two characters), for the consistency check. */
export function countBodies(objectsDir: string, limit = Infinity): number {
  if (!existsSync(objectsDir)) return 0
  let n = 0
  for (const shard of readdirSync(objectsDir)) {
    if (shard.length !== 2) continue
    const p = join(objectsDir, shard)
    if (!statSync(p).isDirectory()) continue
    n += readdirSync(p).length
    if (n >= limit) return n
  }
  return n
}

/**
 * Refuses a state directory whose database is missing or empty while object bodies exist: starting
 * would make new keys and treat every body as garbage. Nothing is deleted; the message says what to do.
 */
export function checkDatabasePresent(stateDir: string): void {
  const dbPath = join(stateDir, 'sandbox.db')
  const size = existsSync(dbPath) ? statSync(dbPath).size : -1
  const wal = join(stateDir, 'sandbox.db-wal')
  const walSize = existsSync(wal) ? statSync(wal).size : 0
  if (size > 0 || walSize > 0) return
  const bodies = countBodies(join(stateDir, 'objects'))
  if (bodies === 0) return
  throw new CrosspipeError(
    'sandbox',
    `${dbPath} is ${size < 0 ? 'missing' : 'empty'} but ${join(stateDir, 'objects')} holds ${bodies} object bodies: the database that names them is lost. Restore sandbox.db (with sandbox.db-wal) from a backup, or start empty with \`crosspipe sandbox --reset\` (deletes those bodies). Nothing was changed.`,
  )
}

/** Makes sure a newly created file descriptor-less path exists with mode 0600 (SQLite copies the database's mode to its WAL and SHM). */
export function touchPrivate(path: string): void {
  if (!existsSync(path)) closeSync(openSync(path, 'a', FILE_MODE))
  chmodSync(path, FILE_MODE)
}

/** True for the errors of a full disk (or an exhausted quota), from the file system or SQLite. */
export function isDiskFull(e: unknown): boolean {
  const code = (e as { code?: unknown } | undefined)?.code
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL'
}

/**
 * A file of reserved space in the state directory, given back when the disk is full so that a
 * delete (which still writes a few database pages) can free space; made again once there is room.
 */
export class SpaceReserve {
  constructor(
    private readonly path: string,
    private readonly bytes = 1024 * 1024,
  ) {}

  /** Makes the reserve if it is missing and the disk has room; never throws. */
  ensure(): void {
    try {
      if (existsSync(this.path) && statSync(this.path).size === this.bytes) return
      writePrivate(this.path, Buffer.alloc(this.bytes, 0x52))
    } catch {
      try {
        rmSync(this.path, { force: true })
      } catch {
        // nothing more to do: the reserve is made at the next chance
      }
    }
  }

  /** Gives the reserved space back; true when there was some. */
  release(): boolean {
    if (!existsSync(this.path)) return false
    rmSync(this.path, { force: true })
    return true
  }
}
