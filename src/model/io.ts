/**
 * The I/O host (after aws-cdk-cli's toolkit-lib): library functions never print; they emit typed
 * messages that the CLI renders as text, live progress or `--json`, and tests collect.
 */

export type MessageLevel = 'debug' | 'info' | 'warn' | 'error' | 'result'

/** One message from the library. `code` is stable (e.g. `deploy.stack.event`); `data` is typed per code. */
export interface IoMessage<T = unknown> {
  readonly level: MessageLevel
  readonly code: string
  readonly message: string
  readonly data?: T
  readonly time: Date
}

/** Receives messages; the CLI implements it. */
export interface IoHost {
  notify(msg: IoMessage): void
}

/** An I/O host that drops everything (the default for library callers that pass none). */
export const silentIo: IoHost = { notify() {} }

/** An I/O host that records messages, for tests. */
export function recordingIo(): IoHost & { readonly messages: IoMessage[] } {
  const messages: IoMessage[] = []
  return { messages, notify: (m) => void messages.push(m) }
}

/** Emits a message with the current time. */
export function emit<T>(
  io: IoHost | undefined,
  level: MessageLevel,
  code: string,
  message: string,
  data?: T,
): void {
  io?.notify({ level, code, message, data, time: new Date() })
}
