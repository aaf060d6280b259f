#!/usr/bin/env node
// Thin launcher: the CLI lives in dist/src/cli (built by `npm run build`).
import { main } from '../dist/src/cli/main.js'
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
