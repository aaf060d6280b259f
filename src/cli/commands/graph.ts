import { writeFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { CrosspipeError } from '../../model/errors.js'
import type { Command } from '../command.js'
import { EXIT } from '../command.js'

/** `crosspipe graph`: draw accounts, roles, keys, buckets and every call with its decision. */
export const graphCommand: Command = {
  name: 'graph',
  summary: 'Draw the permission flow: accounts, roles, trust, grants and every call with its decision',
  usage:
    'crosspipe graph [-c crosspipe.yml | -m manifest.json | --cdk-out cdk.out [--bootstrap-trust ENV=ACCOUNTS]…] [-o graph.html] [--format html|mermaid|dot]',
  details: `Writes one self-contained HTML page (no network access needed to open it), or Mermaid or
DOT text (printed unless -o is given). Calls are the ones \`crosspipe check\` derives, coloured by
decision; selecting a node or a denied call shows the deciding statements and the fix.`,
  options: {
    config: { type: 'string', short: 'c', value: 'FILE', description: 'The pipeline definition.' },
    manifest: {
      type: 'string',
      short: 'm',
      value: 'FILE',
      description: 'A manifest of hand-written templates.',
    },
    output: {
      type: 'string',
      short: 'o',
      value: 'FILE',
      description: 'Where to write (default graph.html for html).',
    },
    format: { type: 'string', value: 'FORMAT', description: 'html (default), mermaid or dot.' },
    'cdk-out': {
      type: 'string',
      value: 'DIR',
      description: 'A CDK cloud assembly, as `check --cdk-out` reads it.',
    },
    'bootstrap-trust': {
      type: 'string',
      multiple: true,
      value: 'ENV=ACCOUNTS',
      description: 'With --cdk-out: as for `check --cdk-out`.',
    },
    'bootstrap-template': {
      type: 'string',
      value: 'FILE',
      description: 'With --cdk-out: as for `check --cdk-out`.',
    },
  },
  maxPositionals: 0,
  async run({ args, term, cwd }) {
    const g = await import('../../graph/index.js')
    const { loadPipeline } = await import('../../model/index.js')
    if (args.values.config && args.values.manifest)
      throw new CrosspipeError(
        'usage',
        'crosspipe graph: give either -c (a definition) or -m (a manifest), not both.',
      )
    const format = (args.values.format as string | undefined) ?? 'html'
    if (!(g.GRAPH_FORMATS as readonly string[]).includes(format))
      throw new CrosspipeError(
        'usage',
        `crosspipe graph: --format ${format} is not one of ${g.GRAPH_FORMATS.join(', ')}.`,
      )
    let graph
    if (args.values['cdk-out']) {
      if (args.values.config || args.values.manifest)
        throw new CrosspipeError('usage', 'crosspipe graph: give one of -c, -m or --cdk-out.')
      const { cdkSetupOf } = await import('../../check/cdk/cli.js')
      const { input, result } = await cdkSetupOf(cwd, args.values)
      graph = g.buildGraph(input, result)
    } else {
      const input = args.values.manifest
        ? await g.manifestInput(resolve(cwd, args.values.manifest as string))
        : g.pipelineInput(
            await loadPipeline(resolve(cwd, (args.values.config as string | undefined) ?? 'crosspipe.yml')),
          )
      graph = g.buildGraph(input)
    }
    const text = g.renderGraph(graph, format as 'html' | 'mermaid' | 'dot')
    const out = (args.values.output as string | undefined) ?? (format === 'html' ? 'graph.html' : undefined)
    if (!out) {
      term.out(text)
      return EXIT.ok
    }
    await writeFile(resolve(cwd, out), text)
    term.err(`wrote ${out} (${Math.round(text.length / 1024)} KB)\n`)
    return EXIT.ok
  },
}
