/**
 * `crosspipe sandbox`: a local multi-account AWS (STS, IAM, KMS, S3) that speaks the real wire
 * protocols and enforces IAM across accounts through the same engine as `crosspipe check`.
 *
 * The library API for the CLI: {@link startSandbox} (foreground, tests), {@link detachSandbox}
 * and {@link stopSandbox} (scripts), {@link sandboxEnv} (`crosspipe sandbox env`),
 * {@link readSandboxState} (`deploy --sandbox` finds the running endpoint and credentials file).
 */
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmodSync, closeSync, existsSync, readFileSync, rmSync, statfsSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CrosspipeError } from '../model/errors.js'
import { emit, type IoHost } from '../model/io.js'
import { DEFAULT_ACCOUNTS, DEFAULT_REGION } from './config.js'
import { startGateway } from './gateway/server.js'
import { Runtime } from './runtime.js'
import { buildServices } from './services/index.js'
import { pruneSessions } from './auth/sessions.js'
import { startOnWorker } from './thread.js'
import {
  checkDatabasePresent,
  isDiskFull,
  lockStateDir,
  mkdirPrivate,
  openPrivateAppend,
  securePrivate,
  stateDirLocked,
  writePrivateAtomic,
  type StateLock,
} from './store/state-dir.js'

export { DEFAULT_ACCOUNTS, DEFAULT_PORT, DEFAULT_REGION } from './config.js'

/** Options for {@link startSandbox}. */
export interface StartSandboxOptions {
  /** Port on 127.0.0.1; 0 (the default) picks a free one. */
  readonly port?: number
  /** Where state lives: the database, object bodies, the credentials and config files. */
  readonly stateDir: string
  /** Account name → 12-digit id, created if missing. Default: {@link DEFAULT_ACCOUNTS} on an empty state. */
  readonly accounts?: Readonly<Record<string, string>>
  /** Start empty: delete the state directory's sandbox data first. */
  readonly reset?: boolean
  /** Region written to the profiles (requests may sign for any region). */
  readonly region?: string
  /**
   * Also listen with HTTPS (a self-signed certificate made with `openssl`, kept in the state
   * directory), so clients that trust it send `aws:SecureTransport = true` as on AWS. Default: on
   * when `openssl` is installed.
   */
  readonly tls?: boolean
  /** Port of the HTTPS listener; 0 (the default) picks a free one. */
  readonly tlsPort?: number
  readonly io?: IoHost
  /**
   * Which thread runs the sandbox (its server, services and database): `'worker'` (the default) a
   * `worker_threads` Worker of this process, `'main'` the calling thread. Every call a client in
   * this process makes to the sandbox is signed and sent by the client, then verified, authorized
   * and answered by the sandbox: on one thread both halves share one core, so a program that
   * starts a sandbox and deploys into it (the library's own use) is CPU-bound on that thread while
   * the machine's other cores idle. On a worker the two halves run side by side. One worker serves
   * every sandbox of the process and outlives them (it keeps no process alive), so its start-up
   * (about 0.3 s: the sandbox's modules load again in the worker) is paid once per process.
   * `'main'` is for a process that does nothing else (the `crosspipe sandbox` command), where a
   * worker would only add that start-up and a hop per message.
   */
  readonly thread?: 'main' | 'worker'
}

/** An account of a running sandbox and its root credentials. */
export interface SandboxAccount {
  readonly name: string
  readonly id: string
  /** The profile name in the credentials and config files (the account's name). */
  readonly profile: string
  readonly accessKeyId: string
  readonly secretAccessKey: string
}

/** A running sandbox. */
export interface RunningSandbox {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string
  readonly port: number
  readonly region: string
  readonly stateDir: string
  readonly accounts: readonly SandboxAccount[]
  /** AWS shared credentials file with one profile per account. */
  readonly credentialsFile: string
  /** AWS config file with region and `endpoint_url` per profile. */
  readonly configFile: string
  /** `https://127.0.0.1:<port>` when TLS is on. */
  readonly httpsEndpoint?: string
  /** The certificate clients must trust for {@link RunningSandbox.httpsEndpoint} (PEM). */
  readonly caFile?: string
  /**
   * Stops listening, closes the database, removes the state file and releases the state
   * directory's lock, then resolves (on a worker too: the worker then waits for the next sandbox of
   * the process, holding nothing of this one). Calls after the first return the first call's promise.
   */
  stop(): Promise<void>
}

/** What the state directory records about the running sandbox (`sandbox.json`). */
export interface SandboxState {
  readonly endpoint: string
  readonly port: number
  readonly pid: number
  readonly region: string
  readonly startedAt: string
  readonly credentialsFile: string
  readonly configFile: string
  readonly httpsEndpoint?: string
  readonly caFile?: string
  readonly accounts: readonly { readonly name: string; readonly id: string }[]
}

const STATE_FILE = 'sandbox.json'
const TOKEN_FILE = 'admin-token'

const writeAtomic = writePrivateAtomic

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * The state of the sandbox running from a state directory, or undefined when none runs there. A
 * state file left by a killed sandbox does not count: the running sandbox holds the directory's
 * lock, which the kernel released when it died (a pid check alone is fooled by a reused pid or an
 * unreaped process).
 */
export function readSandboxState(stateDir: string): SandboxState | undefined {
  const dir = resolve(stateDir)
  const p = join(dir, STATE_FILE)
  if (!existsSync(p)) return undefined
  try {
    const s = JSON.parse(readFileSync(p, 'utf8')) as SandboxState
    if (s.pid === process.pid) return s
    return pidAlive(s.pid) && stateDirLocked(dir) ? s : undefined
  } catch {
    return undefined
  }
}

function credentialsText(accounts: readonly SandboxAccount[]): string {
  return (
    accounts
      .map(
        (a) =>
          `[${a.profile}]\naws_access_key_id = ${a.accessKeyId}\naws_secret_access_key = ${a.secretAccessKey}\n`,
      )
      .join('\n') + '\n'
  )
}

function configText(accounts: readonly SandboxAccount[], endpoint: string, region: string): string {
  // endpoint_url in a profile: https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html
  // path-style S3 addressing for the AWS CLI: https://docs.aws.amazon.com/cli/latest/topic/s3-config.html
  return (
    accounts
      .map(
        (a) =>
          `[profile ${a.profile}]\nregion = ${region}\noutput = json\nendpoint_url = ${endpoint}\ns3 =\n    addressing_style = path\n    signature_version = s3v4\n`,
      )
      .join('\n') + '\n'
  )
}

/** A self-signed certificate for the loopback listener, made once per state directory; undefined without openssl. */
function tlsMaterial(
  stateDir: string,
  io: IoHost | undefined,
): { key: Buffer; cert: Buffer; caFile: string } | undefined {
  const dir = join(stateDir, 'tls')
  const keyFile = join(dir, 'key.pem')
  const caFile = join(dir, 'cert.pem')
  if (!existsSync(keyFile) || !existsSync(caFile)) {
    mkdirPrivate(dir)
    const r = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        caFile,
        '-days',
        '3650',
        '-subj',
        '/CN=crosspipe sandbox',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
      { stdio: 'ignore' },
    )
    if (r.status !== 0 || !existsSync(keyFile)) {
      emit(
        io,
        'warn',
        'sandbox.tls',
        'openssl is not available: the sandbox listens on HTTP only (aws:SecureTransport is false)',
      )
      return undefined
    }
  }
  // openssl writes the certificate with the umask's mode: everything in the state directory is private.
  for (const f of [keyFile, caFile]) chmodSync(f, 0o600)
  return { key: readFileSync(keyFile), cert: readFileSync(caFile), caFile }
}

/**
 * A start-up failure the user can fix, as one line with the fix (exit 2), instead of a stack
 * trace: a full disk, a corrupted or unreadable database.
 */
function startupError(e: unknown, stateDir: string): unknown {
  if (e instanceof CrosspipeError) return e
  const code = (e as { code?: unknown }).code
  const db = join(stateDir, 'sandbox.db')
  // SQLite reports a failed write of its shared-memory or journal file as an I/O error.
  if (
    isDiskFull(e) ||
    (typeof code === 'string' && code.startsWith('SQLITE_IOERR') && diskAlmostFull(stateDir))
  )
    return new CrosspipeError(
      'sandbox',
      `The disk holding ${stateDir} is full (no space left: ${String(code)}): free some space on it (or use another --state directory), then start the sandbox again.`,
    )
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT_VTAB')
    return new CrosspipeError(
      'sandbox',
      `${db} is corrupted (${String(code)}: ${(e as Error).message}): restore sandbox.db, sandbox.db-wal and objects/ from a backup, or start empty with \`crosspipe sandbox --reset\` (deletes all sandbox state).`,
    )
  if (typeof code === 'string' && code.startsWith('SQLITE_'))
    return new CrosspipeError(
      'sandbox',
      `Cannot open ${db} (${code}: ${(e as Error).message}): check the file and its directory, restore it from a backup, or start empty with \`crosspipe sandbox --reset\`.`,
    )
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
    return new CrosspipeError(
      'sandbox',
      `Cannot write in ${stateDir} (${String(code)}: ${(e as Error).message}): use a --state directory you own on a writable disk.`,
    )
  return e
}

/** True when the file system of a directory has less than 1 MiB free for its user. */
function diskAlmostFull(dir: string): boolean {
  try {
    const s = statfsSync(dir)
    return s.bavail * s.bsize < 1024 * 1024
  } catch {
    return false
  }
}

/**
 * Starts a sandbox in this process: on a worker thread unless `options.thread` is `'main'` (see
 * {@link StartSandboxOptions.thread}). Either way it returns once the sandbox listens, and a
 * start-up failure rejects with the same `CrosspipeError`.
 */
export async function startSandbox(options: StartSandboxOptions): Promise<RunningSandbox> {
  if ((options.thread ?? 'worker') === 'worker') return startOnWorker(options)
  return startSandboxHere(options)
}

/** What the worker entry (worker.ts) hears from a sandbox it runs. */
export interface SandboxHooks {
  /** The accounts, each time the profile files are written (at start, and for each admin API change). */
  readonly onAccounts?: (accounts: readonly SandboxAccount[]) => void
}

/**
 * Starts a sandbox on the calling thread, whatever `options.thread` says: {@link startSandbox}
 * with `thread: 'main'`, and the worker entry's own start.
 */
export async function startSandboxHere(
  options: StartSandboxOptions,
  hooks: SandboxHooks = {},
): Promise<RunningSandbox> {
  const stateDir = resolve(options.stateDir)
  let lock: StateLock | undefined
  try {
    const privacy = securePrivate(stateDir)
    lock = lockStateDir(stateDir)
    if (privacy.fixed.length > 0)
      emit(
        options.io,
        'warn',
        'sandbox.private',
        `made ${privacy.fixed.length} path${privacy.fixed.length === 1 ? '' : 's'} in ${stateDir} private to you (directories 0700, files 0600): ${privacy.fixed.slice(0, 5).join(', ')}${privacy.fixed.length > 5 ? ', …' : ''}`,
        { fixed: privacy.fixed },
      )
    return await startLocked(options, stateDir, lock, hooks)
  } catch (e) {
    lock?.release()
    throw startupError(e, stateDir)
  }
}

async function startLocked(
  options: StartSandboxOptions,
  stateDir: string,
  lock: StateLock,
  hooks: SandboxHooks,
): Promise<RunningSandbox> {
  const region = options.region ?? DEFAULT_REGION
  for (const [name, id] of Object.entries(options.accounts ?? {}))
    if (!/^\d{12}$/.test(id) || !/^[A-Za-z0-9_-]{1,64}$/.test(name))
      throw new CrosspipeError(
        'usage',
        `Account ${name}=${id}: names are letters, digits, _ or - and ids are 12 digits (e.g. ci=111111111111).`,
      )
  if (options.reset)
    for (const f of ['sandbox.db', 'sandbox.db-wal', 'sandbox.db-shm', 'objects', 'credentials', 'config'])
      rmSync(join(stateDir, f), { recursive: true, force: true })
  checkDatabasePresent(stateDir)
  // Directories services create later with default modes (CodeBuild's logs and work trees).
  for (const d of ['codebuild', 'codebuild/logs', 'codebuild/work']) mkdirPrivate(join(stateDir, d))

  const runtime = new Runtime({
    stateDir,
    defaultRegion: region,
    onCheckpointError: (m) =>
      emit(
        options.io,
        'warn',
        'sandbox.checkpoint',
        `the database checkpoint failed (${m}); nothing is lost, the WAL file grows until one succeeds`,
      ),
  })
  try {
    buildServices(runtime)
    const wanted = options.accounts ?? (runtime.accounts().length === 0 ? DEFAULT_ACCOUNTS : {})
    for (const [name, id] of Object.entries(wanted)) runtime.addAccount(name, id)
    pruneSessions(runtime, new Date())
    const orphans = runtime.sweepBlobs()
    if (orphans > 0)
      emit(
        options.io,
        'warn',
        'sandbox.sweep',
        `moved ${orphans} object ${orphans === 1 ? 'body' : 'bodies'} that no row names (writes interrupted before they were acknowledged) to ${join(stateDir, 'objects', 'orphans')}; delete them when you do not need them`,
      )
    runtime.reserve.ensure()
  } catch (e) {
    runtime.close()
    throw e
  }

  const tokenPath = join(stateDir, TOKEN_FILE)
  const adminToken = existsSync(tokenPath)
    ? readFileSync(tokenPath, 'utf8').trim()
    : randomBytes(24).toString('hex')
  writeAtomic(tokenPath, adminToken)

  let gateway
  let caFile: string | undefined
  // Rewrites the profile files and the state file; set once the gateway listens.
  let publish = (): void => {}
  try {
    const tls = options.tls === false ? undefined : tlsMaterial(stateDir, options.io)
    caFile = tls?.caFile
    gateway = await startGateway({
      runtime,
      port: options.port ?? 0,
      io: options.io,
      adminToken,
      tls: tls ? { key: tls.key, cert: tls.cert, port: options.tlsPort ?? 0 } : undefined,
      onAccountsChanged: () => publish(),
    })
  } catch (e) {
    runtime.close()
    const err = e as NodeJS.ErrnoException & { port?: number }
    if (err.code === 'EADDRINUSE') {
      const https = err.port !== undefined && err.port === options.tlsPort && options.tlsPort !== options.port
      throw new CrosspipeError(
        'sandbox',
        https
          ? `HTTPS port ${err.port} on 127.0.0.1 is in use (another sandbox or program listens there): pick another with --https-port (0 picks a free one).`
          : `Port ${err.port ?? options.port ?? 0} on 127.0.0.1 is in use (another sandbox or program listens there): pick another with --port (0 picks a free one), or stop what uses it.`,
      )
    }
    throw e
  }

  const accounts = (): SandboxAccount[] =>
    runtime.accounts().map((a) => {
      const c = runtime.credential(a.rootAccessKeyId)!
      return {
        name: a.name,
        id: a.id,
        profile: a.name,
        accessKeyId: c.accessKeyId,
        secretAccessKey: c.secretAccessKey,
      }
    })
  const credentialsFile = join(stateDir, 'credentials')
  const configFile = join(stateDir, 'config')
  const startedAt = new Date().toISOString()
  const endpoint = gateway.endpoint
  let state!: SandboxState
  let current: SandboxAccount[] = []
  publish = () => {
    const list = accounts()
    current = list
    writeAtomic(credentialsFile, credentialsText(list))
    writeAtomic(configFile, configText(list, endpoint, region))
    state = {
      endpoint,
      port: gateway.port,
      pid: process.pid,
      region,
      startedAt,
      credentialsFile,
      configFile,
      httpsEndpoint: gateway.httpsEndpoint,
      caFile: gateway.httpsEndpoint ? caFile : undefined,
      accounts: list.map((a) => ({ name: a.name, id: a.id })),
    }
    writeAtomic(join(stateDir, STATE_FILE), JSON.stringify(state, null, 2) + '\n')
    hooks.onAccounts?.(list)
  }
  publish()
  emit(
    options.io,
    'info',
    'sandbox.started',
    `sandbox listening on ${gateway.endpoint} (state in ${stateDir})`,
    state,
  )

  let stopping: Promise<void> | undefined
  return {
    endpoint: gateway.endpoint,
    port: gateway.port,
    region,
    stateDir,
    // Accounts added through the admin API appear here too.
    get accounts() {
      return current
    },
    credentialsFile,
    configFile,
    httpsEndpoint: state.httpsEndpoint,
    caFile: state.caFile,
    stop() {
      // A second call while the first is closing waits for the same close.
      return (stopping ??= (async () => {
        await gateway.close()
        runtime.close()
        const s = readSandboxState(stateDir)
        if (s?.pid === process.pid) rmSync(join(stateDir, STATE_FILE), { force: true })
        lock.release()
        emit(options.io, 'info', 'sandbox.stopped', `sandbox on ${gateway.endpoint} stopped`)
      })())
    },
  }
}

/** Options for {@link sandboxEnv}. */
export interface SandboxEnvOptions {
  /**
   * Point at the HTTPS listener and trust its certificate (`AWS_CA_BUNDLE` for the AWS CLI,
   * `NODE_EXTRA_CA_CERTS` for Node processes), so requests carry `aws:SecureTransport = true`.
   */
  readonly secure?: boolean
}

/** Environment variables that point the AWS CLI and SDKs at a sandbox profile. */
export function sandboxEnv(
  stateDir: string,
  profile: string,
  options: SandboxEnvOptions = {},
): Record<string, string> {
  const s = readSandboxState(stateDir)
  if (!s)
    throw new CrosspipeError(
      'sandbox',
      `No sandbox is running from ${resolve(stateDir)}: start one with \`crosspipe sandbox\`.`,
    )
  if (!s.accounts.some((a) => a.name === profile))
    throw new CrosspipeError(
      'usage',
      `The sandbox has no account named ${profile}; it has ${s.accounts.map((a) => a.name).join(', ')}.`,
    )
  if (options.secure && (!s.httpsEndpoint || !s.caFile))
    throw new CrosspipeError(
      'sandbox',
      'This sandbox has no HTTPS listener (openssl was not available when it started).',
    )
  return {
    AWS_SHARED_CREDENTIALS_FILE: s.credentialsFile,
    AWS_CONFIG_FILE: s.configFile,
    AWS_PROFILE: profile,
    AWS_ENDPOINT_URL: options.secure ? s.httpsEndpoint! : s.endpoint,
    AWS_REGION: s.region,
    AWS_DEFAULT_REGION: s.region,
    ...(options.secure ? { AWS_CA_BUNDLE: s.caFile!, NODE_EXTRA_CA_CERTS: s.caFile! } : {}),
  }
}

/** `export NAME='value'` lines for a POSIX shell. */
export function formatEnvExports(env: Readonly<Record<string, string>>): string {
  return Object.entries(env)
    .map(([k, v]) => `export ${k}='${v.replace(/'/g, `'\\''`)}'`)
    .join('\n')
}

/** Options for {@link detachSandbox}: those of startSandbox that can be serialized, and a log file. */
export interface DetachSandboxOptions extends Omit<StartSandboxOptions, 'io'> {
  /** Where the background process writes its messages (default `<stateDir>/sandbox.log`). */
  readonly logFile?: string
  /** How long to wait for it to answer, in ms (default 20 s). */
  readonly timeoutMs?: number
}

/** Starts a sandbox in a background process and returns once it answers. */
export async function detachSandbox(options: DetachSandboxOptions): Promise<SandboxState> {
  const stateDir = resolve(options.stateDir)
  const running = readSandboxState(stateDir)
  if (running)
    throw new CrosspipeError(
      'sandbox',
      `A sandbox is already running from ${stateDir} (pid ${running.pid}, ${running.endpoint}).`,
    )
  if (stateDirLocked(stateDir))
    throw new CrosspipeError(
      'sandbox',
      `Another sandbox is using the state directory ${stateDir}: stop it with \`crosspipe sandbox stop --state ${stateDir}\`, or use another --state directory.`,
    )
  securePrivate(stateDir)
  rmSync(join(stateDir, STATE_FILE), { force: true })
  const here = fileURLToPath(import.meta.url)
  const fromSource = here.endsWith('.ts')
  const entry = join(dirname(here), fromSource ? 'process.ts' : 'process.js')
  const logFile = options.logFile ?? join(stateDir, 'sandbox.log')
  const log = openPrivateAppend(logFile)
  const logStart = statSize(logFile)
  const args = JSON.stringify({ ...options, stateDir, logFile: undefined, timeoutMs: undefined })
  const child = spawn(process.execPath, [...(fromSource ? ['--import', 'tsx'] : []), entry, args], {
    detached: true,
    stdio: ['ignore', log, log],
  })
  closeSync(log)
  child.unref()
  let exited = false
  child.once('exit', () => (exited = true))
  const deadline = Date.now() + (options.timeoutMs ?? 20_000)
  while (Date.now() < deadline) {
    const s = readSandboxState(stateDir)
    if (s && s.pid === child.pid) return s
    if (exited || child.exitCode !== null) break
    await new Promise((r) => setTimeout(r, 50))
  }
  // The background process logged why it stopped as one JSON line (process.ts): say it here.
  const why = lastLoggedError(logFile, logStart)
  if (!exited && child.exitCode === null && child.pid !== undefined) {
    try {
      process.kill(child.pid, 'SIGTERM')
    } catch {
      // already gone
    }
  }
  throw new CrosspipeError(
    'sandbox',
    why
      ? `The background sandbox did not start: ${why}`
      : `The background sandbox did not answer within ${Math.round((options.timeoutMs ?? 20_000) / 1000)} s; see ${logFile}.`,
  )
}

function statSize(path: string): number {
  try {
    return statSync(path).size
  } catch {
    return 0
  }
}

/** The message of the last `error` line a detached sandbox wrote to its log after `from`. */
function lastLoggedError(logFile: string, from: number): string | undefined {
  let text: string
  try {
    text = readFileSync(logFile).subarray(from).toString('utf8')
  } catch {
    return undefined
  }
  let found: string | undefined
  for (const line of text.split('\n')) {
    try {
      const m = JSON.parse(line) as { level?: string; message?: string }
      if (m.level === 'error' && typeof m.message === 'string') found = m.message
    } catch {
      // not a message line
    }
  }
  return found
}

/** Stops the sandbox running from a state directory; false when none was running. */
export async function stopSandbox(stateDir: string, timeoutMs = 10_000): Promise<boolean> {
  const s = readSandboxState(stateDir)
  if (!s) return false
  process.kill(s.pid, 'SIGTERM')
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (!pidAlive(s.pid) || !stateDirLocked(resolve(stateDir))) return true
    await new Promise((r) => setTimeout(r, 50))
  }
  process.kill(s.pid, 'SIGKILL')
  rmSync(join(resolve(stateDir), STATE_FILE), { force: true })
  return true
}

/** Adds an account to a running sandbox through its admin API. */
export async function addSandboxAccount(stateDir: string, name: string, id: string): Promise<void> {
  const s = readSandboxState(stateDir)
  if (!s) throw new CrosspipeError('sandbox', `No sandbox is running from ${resolve(stateDir)}.`)
  const token = readFileSync(join(resolve(stateDir), TOKEN_FILE), 'utf8').trim()
  const res = await fetch(`${s.endpoint}/_crosspipe/accounts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-crosspipe-admin-token': token },
    body: JSON.stringify({ name, id }),
  })
  if (!res.ok) throw new CrosspipeError('usage', `The sandbox refused the account: ${await res.text()}`)
}
