import { resolve } from 'node:path'
import { CrosspipeError } from '../../model/errors.js'
import type { Command } from '../command.js'
import { EXIT } from '../command.js'

/** `crosspipe check`: prove every cross-account call is allowed, and nothing more. */
export const checkCommand: Command = {
  name: 'check',
  summary: 'Prove offline that every cross-account call will be allowed, and flag excess privilege',
  usage: 'crosspipe check [-c crosspipe.yml | -m manifest.json] [--json | --sarif]',
  details: `With -c (the default), synthesizes the definition in memory and checks it. With -m, checks
hand-written templates listed in a manifest (see the README's manifest format).
Exit code 0 when every call is allowed and there is no error finding, 1 otherwise, 2 for bad input.`,
  options: {
    config: { type: 'string', short: 'c', value: 'FILE', description: 'The pipeline definition.' },
    manifest: {
      type: 'string',
      short: 'm',
      value: 'FILE',
      description: 'A manifest of hand-written templates.',
    },
    sarif: { type: 'boolean', description: 'Print SARIF 2.1.0 for code-scanning tools.' },
  },
  maxPositionals: 0,
  async run({ args, term, cwd }) {
    const { checkManifestFile, checkPipeline, renderCheck, toSarif } = await import('../../check/index.js')
    const { loadPipeline } = await import('../../model/index.js')
    if (args.values.config && args.values.manifest) {
      throw new CrosspipeError(
        'usage',
        'crosspipe check: give either -c (a definition) or -m (a manifest), not both.',
      )
    }
    const result = args.values.manifest
      ? await checkManifestFile(resolve(cwd, args.values.manifest as string))
      : checkPipeline(
          await loadPipeline(resolve(cwd, (args.values.config as string | undefined) ?? 'crosspipe.yml')),
        )
    if (args.values.sarif) term.out(JSON.stringify(toSarif(result), null, 2) + '\n')
    else if (args.values.json) term.out(JSON.stringify(result, null, 2) + '\n')
    else term.out(renderCheck(result, { color: term.color }))
    return result.ok ? EXIT.ok : EXIT.failed
  },
}
