#!/usr/bin/env node
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
const { main } = await import('../dist/cli/main.js')
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
