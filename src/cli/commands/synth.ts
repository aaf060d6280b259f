import { relative, resolve } from 'node:path'
import { CrosspipeError } from '../../model/errors.js'
import type { ResolvedPipeline } from '../../model/index.js'
import type { deriveForTarget as DeriveFn } from '../../synth/index.js'
import type { Command, CommandContext } from '../command.js'
import { EXIT } from '../command.js'
import { replaceDirectory } from '../files.js'
import { limitLines } from './check.js'

/** `crosspipe synth`: templates and manifest.json. */
export const synthCommand: Command = {
  name: 'synth',
  summary: 'Write one CloudFormation template per stack and manifest.json',
  usage: 'crosspipe synth [-c crosspipe.yml] [-o crosspipe.out] [--format yaml|json]',
  details: `Reads the definition, checks it and AWS's limits, and replaces the output directory with
one <stack>.template.yaml per stack (or .json) and manifest.json (accounts, regions, deploy phases,
parameters), in one step; a directory that already holds exactly those files is left as it is.
Nothing is written when the definition has an error. Every AWS limit the definition
reaches is listed with what crosspipe does about it: a template over CloudFormation's 51,200-byte
TemplateBody limit is uploaded by deploy to the pipeline's artifact bucket; a stage with more than
CodePipeline's 50 actions is split into <stage>-part1, -part2, … that run one after another (the
approval is in part 1, and crosspipe approve <stage> approves it).`,
  options: {
    config: {
      type: 'string',
      short: 'c',
      value: 'FILE',
      description: 'The pipeline definition.',
      default: 'crosspipe.yml',
    },
    output: {
      type: 'string',
      short: 'o',
      value: 'DIR',
      description: 'The output directory.',
      default: 'crosspipe.out',
    },
    format: { type: 'string', value: 'yaml|json', description: 'Template format.', default: 'yaml' },
  },
  maxPositionals: 0,
  async run({ args, term, cwd }) {
    const format = args.values.format as string
    if (format !== 'yaml' && format !== 'json') {
      throw new CrosspipeError(
        'usage',
        `crosspipe synth: --format must be "yaml" or "json", not "${format}".`,
      )
    }
    const { loadPipeline } = await import('../../model/index.js')
    const { synthesize, limitsReached, deriveForTarget } = await import('../../synth/index.js')
    const pipeline = await loadPipeline(resolve(cwd, args.values.config as string))
    const out = synthesize(pipeline, { format })
    const limits = limitsReached(pipeline, out)
    const dir = resolve(cwd, args.values.output as string)
    const written = replaceDirectory(dir, out.files)
    if (args.values.json) {
      term.out(
        JSON.stringify({ ok: true, directory: dir, written, manifest: out.manifest, limits }, null, 2) + '\n',
      )
    } else {
      const rel = relative(cwd, dir) || '.'
      for (const s of out.manifest.stacks) {
        term.out(`phase ${s.phase}  ${s.account} ${s.region}  ${s.name}  →  ${rel}/${s.template}\n`)
      }
      const section = limitLines(term, limits)
      if (section.length) term.out(section.join('\n') + '\n')
      const n = Object.keys(out.files).length
      term.out(
        written
          ? `wrote ${n} files to ${rel}/\n`
          : `${rel}/ already holds these ${n} files: nothing written\n`,
      )
      printDerivedPermissions(term, pipeline, deriveForTarget)
    }
    return EXIT.ok
  },
}

type DeriveForTarget = typeof DeriveFn

/** The deployment role statements derived from application templates (`fromTemplate`), per stage. */
function printDerivedPermissions(
  term: CommandContext['term'],
  pipeline: ResolvedPipeline,
  deriveForTarget: DeriveForTarget,
): void {
  for (const s of pipeline.stages) {
    if (s.deployPermissions?.fromTemplate === undefined || !s.appTemplate) continue
    const t = s.targets[0]!
    const d = deriveForTarget(pipeline, s, t.account, t.region)
    term.out(
      `\nstage ${s.name}: deployment role statements derived from ${relative(process.cwd(), s.appTemplate.file)} (shown for ${t.account} ${t.region}):\n`,
    )
    for (const st of d.statements) {
      const cond = st.Condition ? ` if ${JSON.stringify(st.Condition)}` : ''
      term.out(`  ${st.Sid}: ${st.Action.join(', ')}\n    on ${st.Resource.join(', ')}${cond}\n`)
    }
    for (const n of d.notes) term.out(`  note: ${n}\n`)
  }
}
