/**
 * Work that must end when the sandbox stops: running builds (child processes) and the pipeline
 * engine's timers and pollers. The runtime has no stop hook of its own, so the first
 * registration wraps `Runtime.close` — which `RunningSandbox.stop()` calls — to run the hooks
 * first, before the database they might still write to is closed.
 */
import type { Runtime } from './runtime.js'

const hooks = new WeakMap<Runtime, (() => void)[]>()

/** Runs `fn` when the runtime closes (before the database closes). */
export function registerShutdown(runtime: Runtime, fn: () => void): void {
  let list = hooks.get(runtime)
  if (!list) {
    const fns: (() => void)[] = []
    list = fns
    hooks.set(runtime, fns)
    const close = runtime.close.bind(runtime)
    runtime.close = (): void => {
      for (const f of fns.splice(0)) {
        try {
          f()
        } catch {
          // A failing hook must not keep the database open.
        }
      }
      close()
    }
  }
  list.push(fn)
}
