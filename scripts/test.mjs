// Runs every test file under test/ with Node's test runner, TypeScript loaded by tsx.
// Node 20's runner does not expand globs itself, so the files are listed here.
// Usage: node scripts/test.mjs [path-filter ...]   (filters are substrings of the file path)
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (name === 'node_modules' || name === 'fixtures' || name === 'cases') continue
    if (statSync(p).isDirectory()) walk(p, out)
    else if (name.endsWith('.test.ts')) out.push(p)
  }
  return out
}
const filters = process.argv.slice(2)
const files = walk('test', [])
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort()
if (files.length === 0) {
  console.error('no test files matched')
  process.exit(1)
}
const reporter = process.env.CROSSPIPE_TEST_REPORTER ?? 'spec'
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-reporter=${reporter}`, '--test-concurrency=2', ...files],
  {
    stdio: 'inherit',
    // The pinned AWS SDK supports Node 20; its notice about later versions is noise in test logs.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...process.env },
  },
)
process.exit(r.status ?? 1)
