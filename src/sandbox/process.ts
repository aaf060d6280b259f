/**
 * Entry of a detached sandbox process (`crosspipe sandbox --detach`): starts the sandbox with the
 * options passed as one JSON argument, logs messages as JSON lines on stdout (the log file), and
 * stops cleanly on SIGTERM / SIGINT.
 */
// Object writes are open/write/fsync/rename/fsync on the libuv thread pool; four threads (the
// default) queue under eight concurrent writers. Must be set before the pool first starts.
process.env['UV_THREADPOOL_SIZE'] ??= '16'

import type { IoMessage } from '../model/io.js'
import { startSandbox, type StartSandboxOptions } from './index.js'

const options = JSON.parse(process.argv[2] ?? '{}') as StartSandboxOptions
const sandbox = await startSandbox({
  ...options,
  io: { notify: (m: IoMessage) => void process.stdout.write(JSON.stringify(m) + '\n') },
})
let stopping = false
const stop = (): void => {
  if (stopping) return
  stopping = true
  void sandbox.stop().then(() => process.exit(0))
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
