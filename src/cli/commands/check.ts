import { resolve } from 'node:path'
import { CrosspipeError } from '../../model/errors.js'
import type { Command } from '../command.js'
import { EXIT } from '../command.js'

/** `crosspipe check`: prove every cross-account call is allowed, and nothing more. */
export const checkCommand: Command = {
  name: 'check',
  summary: 'Prove offline that every cross-account call will be allowed, and flag excess privilege',
  usage:
    'crosspipe check [-c crosspipe.yml | -m manifest.json | --cdk-out cdk.out [--bootstrap-trust ENV=ACCOUNTS]… [--bootstrap-template FILE]] [--json | --sarif]',
  details: `With -c (the default), synthesizes the definition in memory and checks it. With -m, checks
hand-written templates listed in a manifest (see the README's manifest format). With --cdk-out,
checks the pipeline of a CDK Pipelines app from its cloud assembly, with the bootstrap roles of
every environment modelled from the bootstrap template (README, "Checking CDK Pipelines").
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
    'cdk-out': {
      type: 'string',
      value: 'DIR',
      description: 'A CDK cloud assembly (the output of `cdk synth`).',
    },
    'bootstrap-trust': {
      type: 'string',
      multiple: true,
      value: 'ENV=ACCOUNTS',
      description:
        'With --cdk-out: the accounts ENV (ACCOUNT or ACCOUNT/REGION) was bootstrapped to trust (--trust), comma-separated, empty for none. Default: the pipeline account.',
    },
    'bootstrap-template': {
      type: 'string',
      value: 'FILE',
      description:
        'With --cdk-out: the customised bootstrap template the environments were bootstrapped with.',
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
    if (args.values['cdk-out'] && (args.values.config || args.values.manifest))
      throw new CrosspipeError('usage', 'crosspipe check: give one of -c, -m or --cdk-out.')
    const result = args.values['cdk-out']
      ? await (await import('../../check/cdk/cli.js')).checkCdkOut(cwd, args.values)
      : args.values.manifest
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
