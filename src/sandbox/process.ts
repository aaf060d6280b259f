/**
 * Entry of a detached sandbox process (`crosspipe sandbox --detach`): starts the sandbox with the
 * options passed as one JSON argument, logs messages as JSON lines on stdout (the log file), and
 * stops cleanly on SIGTERM / SIGINT. A start-up failure the user can fix (a port in use, a full
 * disk, a state directory in use) is one `error` line with the fix and exit code 2, which
 * `detachSandbox` repeats to the user; only a bug logs a stack trace.
 */
// Object writes are open/write/fsync/rename/fsync on the libuv thread pool; four threads (the
// default) queue under eight concurrent writers. Must be set before the pool first starts.
process.env['UV_THREADPOOL_SIZE'] ??= '16'
// Everything the sandbox (and the builds it runs) creates is private to its user.
process.umask(0o077)

import { CrosspipeError } from '../model/errors.js'
import type { IoMessage } from '../model/io.js'
import { startSandbox, type StartSandboxOptions } from './index.js'

const log = (m: Omit<IoMessage, 'time'> & { time?: Date }): void =>
  void process.stdout.write(JSON.stringify({ time: new Date(), ...m }) + '\n')

const options = JSON.parse(process.argv[2] ?? '{}') as StartSandboxOptions
let sandbox: Awaited<ReturnType<typeof startSandbox>>
try {
  // This process runs nothing else: the sandbox needs no worker thread of its own.
  sandbox = await startSandbox({ ...options, thread: 'main', io: { notify: (m: IoMessage) => log(m) } })
} catch (e) {
  if (e instanceof CrosspipeError) {
    log({ level: 'error', code: 'sandbox.start-failed', message: e.message })
    process.exit(2)
  }
  log({
    level: 'error',
    code: 'sandbox.bug',
    message: `sandbox: unexpected error at start: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
  })
  process.exit(70)
}
let stopping = false
const stop = (): void => {
  if (stopping) return
  stopping = true
  void sandbox.stop().then(() => process.exit(0))
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
