#!/usr/bin/env node
// Thin launcher: the CLI lives in dist/src/cli (built by `npm run build`).
// crosspipe pins one AWS SDK version that supports Node 20 (package.json); the SDK's warning is
// about versions published later, which crosspipe does not use, so it would only be noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
const { main } = await import('../dist/src/cli/main.js')
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err) => {
    // A bug, not a user error: user errors are mapped to exit codes inside main().
    process.stderr.write(`crosspipe: internal error: ${err && err.stack ? err.stack : String(err)}\n`)
    process.exitCode = 70
  },
)
