#!/usr/bin/env node
import { readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Script } from 'node:vm'
// Thin launcher: the CLI is bundled into dist/cli (built by `npm run build`).
// crosspipe pins one AWS SDK version that supports Node 20 (package.json); the SDK's warning is
// about versions published later, which crosspipe does not use, so it would only be noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
// Output piped into a reader that stops early (`crosspipe check | head`): the reader has what it
// wanted, so stop quietly, as other command-line tools do, instead of failing with EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err && err.code === 'EPIPE') process.exit(process.exitCode ?? 0)
    throw err
  })
}
let main
try {
  main = fastMain(process.argv[2])
} catch {
  // a damaged fast bundle: the ES module CLI runs the command as well, only slower to start
}
main ??= (await import('../dist/cli/main.js')).main
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err) => {
    // A bug, not a user error: user errors are mapped to exit codes inside main(). The stack trace
    // is for whoever fixes it, on request.
    const detail = process.env.CROSSPIPE_DEBUG && err && err.stack ? err.stack : String(err?.message ?? err)
    process.stderr.write(
      `crosspipe: internal error: ${detail}\n` +
        (process.env.CROSSPIPE_DEBUG
          ? ''
          : 'This is a bug in crosspipe; run again with CROSSPIPE_DEBUG=1 for the stack trace and report it.\n'),
    )
    process.exitCode = 70
  },
)

/**
 * The commands the build gives a bundle of their own (FAST_COMMANDS in scripts/build.mjs: `synth`,
 * `check`) start from it, compiled from the V8 code cache the build wrote beside it (build.mjs says
 * why). Returns undefined for a command without one: the ES module CLI then runs it.
 */
function fastMain(command) {
  // A command name, never a path: the bundle's file name is made from it.
  if (typeof command !== 'string' || !/^[a-z]+$/.test(command)) return undefined
  const file = fileURLToPath(new URL(`../dist/cli/${command}.fast.cjs`, import.meta.url))
  let source
  try {
    source = readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
  const cacheFile = `${file}.v8cache`
  let cachedData
  try {
    cachedData = readFileSync(cacheFile)
  } catch {
    // no cache (a build that could not write it): V8 compiles, as for any module
  }
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${source}\n})`
  // No importModuleDynamically: Node 20 loses it when the script comes from a code cache, so the
  // build refuses a fast bundle that still has an import() (scripts/build.mjs).
  const script = new Script(wrapped, { filename: file, cachedData })
  // CROSSPIPE_START_CACHE=report: for tests and for whoever wonders why start-up is slow.
  if (process.env.CROSSPIPE_START_CACHE === 'report')
    process.stderr.write(
      `crosspipe start: ${command}.fast.cjs, code cache ${cachedData === undefined ? 'missing' : script.cachedDataRejected ? 'rejected' : 'accepted'}\n`,
    )
  const module = { exports: {} }
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file))
  if (process.env.CROSSPIPE_START_CACHE !== 'write') return module.exports.main
  // The build's warm-up run: the cache then holds every function this command compiled.
  return async (argv) => {
    const code = await module.exports.main(argv)
    writeFileSync(cacheFile, script.createCachedData())
    return code
  }
}
