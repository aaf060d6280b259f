/**
 * End-to-end helpers: the init example as a git repository (standing in for CodeCommit), a
 * detached sandbox on a free loopback port, every stack deployed with the built CLI, and the
 * synthesized templates to edit. Needs `git` and a built dist/ (`npm run build`).
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { cli, tempDir, type CliRun } from '../cli/helpers.js'

export { cli, tempDir, type CliRun }

/** Commits every change of the example repository. */
export function commit(dir: string, message: string): void {
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: 'crosspipe e2e',
    GIT_AUTHOR_EMAIL: 'e2e@crosspipe.invalid',
    GIT_COMMITTER_NAME: 'crosspipe e2e',
    GIT_COMMITTER_EMAIL: 'e2e@crosspipe.invalid',
  }
  execFileSync('git', ['add', 'crosspipe.yml', 'template.yml', 'buildspec.yml'], { cwd: dir, env })
  execFileSync('git', ['commit', '-q', '-m', message], { cwd: dir, env })
}

/** Fails with the command's output when it did not exit with `code`. */
export function expectExit(r: CliRun, code: number, what: string): CliRun {
  if (r.code !== code)
    throw new Error(
      `${what}: exit ${r.code}, expected ${code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`,
    )
  return r
}

/** The deployed example: a project directory, its sandbox state directory and the synthesized output. */
export interface DeployedExample {
  readonly dir: string
  readonly state: string
  /** Where `crosspipe synth` wrote the templates and manifest.json (relative to dir: crosspipe.out). */
  readonly out: string
}

/**
 * `crosspipe init`, a git repository on the example's branch, a detached sandbox, the repository
 * registered as the example's CodeCommit repository (my-app, CI account, eu-west-1), every stack
 * deployed, and the templates synthesized for editing.
 */
export function deployExample(): DeployedExample {
  const dir = tempDir('crosspipe-e2e-')
  const state = join(dir, '.crosspipe', 'sandbox')
  expectExit(cli(['init'], { cwd: dir }), 0, 'init')
  const yml = readFileSync(join(dir, 'crosspipe.yml'), 'utf8')
  if (!/repository: my-app\n\s+branch: main/.test(yml) || !/region: eu-west-1/.test(yml))
    throw new Error('the init example no longer has a CodeCommit source my-app/main in eu-west-1')
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: dir })
  commit(dir, 'The crosspipe init example')
  expectExit(
    cli(['sandbox', '--detach', '--port', '0', '--reset', '--state', state], { cwd: dir }),
    0,
    'sandbox --detach',
  )
  expectExit(
    cli(['sandbox', 'repo', 'add', 'my-app', dir, '--region', 'eu-west-1', '--state', state], { cwd: dir }),
    0,
    'sandbox repo add',
  )
  expectExit(cli(['deploy', '--sandbox', '--state', state], { cwd: dir }), 0, 'deploy')
  expectExit(cli(['synth'], { cwd: dir }), 0, 'synth')
  return { dir, state, out: join(dir, 'crosspipe.out') }
}

/** Stops the sandbox of a deployed example (for `after` hooks; never throws). */
export function stopExample(e: DeployedExample | undefined): void {
  if (e) cli(['sandbox', 'stop', '--state', e.state], { cwd: e.dir })
}

/** Replaces `from` with `to` in a file; throws when `from` is not there, so an edit cannot silently miss. */
export function edit(file: string, from: string | RegExp, to: string): void {
  const text = readFileSync(file, 'utf8')
  const next = text.replace(from, to)
  if (next === text) throw new Error(`edit of ${file}: ${String(from)} not found`)
  writeFileSync(file, next)
}
