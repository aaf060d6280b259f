import { existsSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { CrosspipeError } from '../../model/errors.js'
import type { Command } from '../command.js'
import { EXIT } from '../command.js'
import { writeFiles } from '../files.js'

/** `crosspipe init [dir]`: the example definition, app template and buildspec. */
export const initCommand: Command = {
  name: 'init',
  summary: 'Write an example crosspipe.yml, application template and buildspec',
  usage: 'crosspipe init [dir] [--force]',
  details: `Writes into DIR (default: the current directory):
  crosspipe.yml          the pipeline definition (CI account, dev and prod targets, approval before prod)
  crosspipe.schema.json  the JSON Schema editors use to complete and validate crosspipe.yml
  template.yml           an example application template
  buildspec.yml          the CodeBuild buildspec that packages it
Existing files are never overwritten unless --force is given.`,
  options: { force: { type: 'boolean', description: 'Overwrite existing files.' } },
  maxPositionals: 1,
  async run({ args, term, cwd }) {
    const { exampleProject, pipelineJsonSchema } = await import('../../model/index.js')
    const dir = resolve(cwd, args.positionals[0] ?? '.')
    const files: Record<string, string> = {
      ...exampleProject(),
      'crosspipe.schema.json': JSON.stringify(pipelineJsonSchema(), null, 2) + '\n',
    }
    const existing = Object.keys(files).filter((f) => existsSync(join(dir, f)))
    if (existing.length && !args.values.force) {
      throw new CrosspipeError(
        'usage',
        `crosspipe init: ${existing.map((f) => relative(cwd, join(dir, f)) || f).join(', ')} already exist${existing.length === 1 ? 's' : ''}; nothing was written. Use --force to overwrite, or choose another directory.`,
      )
    }
    const written = writeFiles(dir, files)
    if (args.values.json) term.out(JSON.stringify({ ok: true, files: written }, null, 2) + '\n')
    else {
      for (const f of written) term.out(`wrote ${relative(cwd, f) || f}\n`)
      const rel = relative(cwd, dir)
      term.out(`\nNext: ${rel ? `cd ${rel} && ` : ''}crosspipe synth && crosspipe check\n`)
    }
    return EXIT.ok
  },
}
