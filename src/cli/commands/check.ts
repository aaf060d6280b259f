import { resolve } from 'node:path'
import { CrosspipeError } from '../../model/errors.js'
import type { Command } from '../command.js'
import { EXIT } from '../command.js'

/** `crosspipe check`: prove every cross-account call is allowed, and nothing more. */
export const checkCommand: Command = {
  name: 'check',
  summary: 'Prove offline that every cross-account call will be allowed, and flag excess privilege',
  usage: 'crosspipe check [-c crosspipe.yml | -m manifest.json] [--app-template FILE]… [--json | --sarif]',
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
    'app-template': {
      type: 'string',
      value: 'FILE',
      multiple: true,
      description:
        'An application template: check the calls CloudFormation makes as the deployment role for each of its resources (fromTemplate stages are found by the definition).',
    },
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
    const { parseTemplate } = await import('../../model/cfn-yaml.js')
    const { readFile } = await import('node:fs/promises')
    const appTemplates = await Promise.all(
      ((args.values['app-template'] as string[] | undefined) ?? []).map(async (f) => {
        const file = resolve(cwd, f)
        const text = await readFile(file, 'utf8').catch(() => {
          throw new CrosspipeError('file-not-found', `--app-template ${f}: ${file} does not exist`)
        })
        return { file: f, body: parseTemplate(text, f).body }
      }),
    )
    const result = args.values.manifest
      ? await checkManifestFile(resolve(cwd, args.values.manifest as string), appTemplates)
      : checkPipeline(
          await loadPipeline(resolve(cwd, (args.values.config as string | undefined) ?? 'crosspipe.yml')),
          appTemplates,
        )
    if (args.values.sarif) term.out(JSON.stringify(toSarif(result), null, 2) + '\n')
    else if (args.values.json) term.out(JSON.stringify(result, null, 2) + '\n')
    else term.out(renderCheck(result, { color: term.color }))
    return result.ok ? EXIT.ok : EXIT.failed
  },
}
