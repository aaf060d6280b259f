import { createInterface } from 'node:readline/promises'
import type { DeployResult } from '../../deploy/index.js'
import { pipelineStartedText } from '../../deploy/pipeline-start.js'
import { CrosspipeError } from '../../model/errors.js'
import type { Command, CommandContext } from '../command.js'
import { EXIT } from '../command.js'
import { DEPLOY_INPUT_OPTIONS } from '../options.js'
import { style } from '../output.js'

/** The deploy engine and the AWS SDK, loaded only when deploy or destroy runs. */
const deployLib = async () => ({
  ...(await import('../../deploy/index.js')),
  ...(await import('../inputs.js')),
})
import { progressIo } from '../progress.js'

function parseConcurrency(v: string | undefined): number | undefined {
  if (v === undefined) return undefined
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 64) {
    throw new CrosspipeError('usage', `--concurrency must be a whole number from 1 to 64, not "${v}".`)
  }
  return Number(v)
}

/** Ctrl-C once: stop starting new work; twice: leave at once. */
function interruptSignal(ctx: CommandContext): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController()
  const onInt = (): void => {
    if (ac.signal.aborted) process.exit(130)
    ac.abort()
    ctx.term.err(
      `\n${style(ctx.term, 'yellow', 'interrupted:')} no new stack operations will start; waiting for those in flight (Ctrl-C again to leave now)\n`,
    )
  }
  process.on('SIGINT', onInt)
  return { signal: ac.signal, dispose: () => void process.off('SIGINT', onInt) }
}

function report(ctx: CommandContext, r: DeployResult, summaryText: (r: DeployResult) => string): number {
  if (ctx.args.values.json) ctx.term.out(JSON.stringify(r, null, 2) + '\n')
  else {
    ctx.term.out(summaryText(r) + '\n')
    for (const p of r.pipelinesStarted ?? [])
      ctx.term.out(`${style(ctx.term, 'yellow', 'note:')} ${pipelineStartedText(p)}\n`)
  }
  if (r.stacks.some((s) => s.error?.kind === 'unresolvable')) return EXIT.badInput
  return r.success ? EXIT.ok : EXIT.failed
}

/**
 * The sandbox serves CodeCommit and S3 sources, not CodeConnections (GitHub, GitLab, Bitbucket:
 * source `type: connection`, the `CodeStarSourceConnection` action). Deploying such a pipeline
 * into it would fail only at the pipeline stack, after every other stack was created; refuse
 * before anything is deployed.
 */
function refuseWhatTheSandboxCannotRun(templates: Readonly<Record<string, string>>): void {
  const files = Object.keys(templates).filter((f) => /\bCodeStarSourceConnection\b/.test(templates[f] ?? ''))
  if (files.length)
    throw new CrosspipeError(
      'usage',
      'crosspipe deploy --sandbox: the sandbox does not serve CodeConnections, so a pipeline whose source is `type: connection` (GitHub, GitLab, Bitbucket) cannot run there; nothing was deployed. To try the pipeline in the sandbox, give it a codecommit source and register a local git repository with `crosspipe sandbox repo add NAME PATH`; to deploy it to AWS, use --profile-map, profiles in crosspipe.yml or --assume-role.',
      files.map((f) => ({
        location: { file: f },
        message: 'has a CodeStarSourceConnection source action',
      })),
    )
}

/** `crosspipe deploy`. */
export const deployCommand: Command = {
  name: 'deploy',
  summary: 'Deploy every stack into every account in the right order, by change sets',
  usage:
    'crosspipe deploy [-c crosspipe.yml | -m manifest.json] (--sandbox | --profile-map … | --assume-role ROLE) [--dry-run]',
  details: `Plans first: for each stack × account × region, create / update / no change, with the change
set's resource changes. Then applies phase by phase; stacks of a phase deploy in parallel. A second
deploy with nothing changed reports "no change" for every stack. Ctrl-C stops starting new work
and lets operations in flight finish. CodePipeline starts a pipeline's first execution when the
pipeline is created: deploy then says which execution that is, where it is and at which approval it
will wait (follow it with crosspipe status).
Exit code 0 when every stack succeeded, 1 when one failed, 2 for bad input (a manifest whose
templates do not parse, or whose parameters and outputs do not match them, is refused before
anything is deployed).`,
  options: {
    ...DEPLOY_INPUT_OPTIONS,
    'dry-run': { type: 'boolean', description: 'Print the plan and change nothing.' },
    'replace-failed': {
      type: 'boolean',
      description: 'Delete and recreate stacks left in ROLLBACK_COMPLETE.',
    },
    concurrency: {
      type: 'string',
      value: 'N',
      description: 'Stacks deployed at once within a phase.',
      default: '8',
    },
    'template-bucket': {
      type: 'string',
      value: 'BUCKET',
      description: 'S3 bucket for templates over 51,200 bytes.',
    },
  },
  maxPositionals: 0,
  async run(ctx) {
    const { args, term, cwd } = ctx
    const { deploy, summaryText, readDeployInput, accountAccess, accountsOf } = await deployLib()
    const input = await readDeployInput('deploy', args, cwd)
    if (args.values.sandbox) refuseWhatTheSandboxCannotRun(input.templates)
    const credentials = accountAccess('deploy', args, accountsOf(input), cwd)
    const io = progressIo(term, { verbose: Boolean(args.values.verbose) })
    const sig = interruptSignal(ctx)
    try {
      const concurrency = parseConcurrency(args.values.concurrency as string | undefined)
      const bucket = args.values['template-bucket'] as string | undefined
      const r = await deploy({
        manifest: input.manifest,
        templates: input.templates,
        manifestFile: input.file,
        credentials,
        dryRun: Boolean(args.values['dry-run']),
        replaceFailed: Boolean(args.values['replace-failed']),
        ...(concurrency ? { concurrency } : {}),
        ...(bucket ? { templateBucket: bucket } : {}),
        signal: sig.signal,
        io: args.values.json ? undefined : io,
      })
      io.finish()
      return report(ctx, r, summaryText)
    } finally {
      sig.dispose()
    }
  },
}

async function confirm(ctx: CommandContext, question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false
  const rl = createInterface({ input: process.stdin, output: process.stderr })
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim())
  } finally {
    rl.close()
  }
}

/** `crosspipe destroy`. */
export const destroyCommand: Command = {
  name: 'destroy',
  summary: 'Delete the application stacks, then every stack in reverse order',
  usage:
    'crosspipe destroy [-c crosspipe.yml | -m manifest.json] (--sandbox | --profile-map … | --assume-role ROLE) [--yes]',
  details: `Deletes first the application stacks the pipeline deployed (the CloudFormation actions' stacks,
such as my-app-dev), each through its deployment role, which the target stacks hold: deleted later,
they could no longer be deleted. --keep-app-stacks leaves them. Then deletes crosspipe's stacks in
reverse phase order. The versioned artifact bucket is emptied first (every version and delete
marker); KMS keys are scheduled for deletion with their waiting period, which is printed. The plan
and the prompt list every stack. Asks for confirmation unless --yes is given (required when not on
a terminal).`,
  options: {
    ...DEPLOY_INPUT_OPTIONS,
    yes: { type: 'boolean', short: 'y', description: 'Do not ask for confirmation.' },
    'keep-app-stacks': {
      type: 'boolean',
      description: 'Leave the application stacks the pipeline deployed (deleted first by default).',
    },
    'dry-run': { type: 'boolean', description: 'Print what would be deleted and change nothing.' },
    concurrency: {
      type: 'string',
      value: 'N',
      description: 'Stacks deleted at once within a phase.',
      default: '8',
    },
  },
  maxPositionals: 0,
  async run(ctx) {
    const { args, term, cwd } = ctx
    const { destroy, summaryText, readDeployInput, accountAccess, accountsOf } = await deployLib()
    const input = await readDeployInput('destroy', args, cwd)
    const credentials = accountAccess('destroy', args, accountsOf(input), cwd)
    const dryRun = Boolean(args.values['dry-run'])
    let yes = Boolean(args.values.yes)
    const keepAppStacks = Boolean(args.values['keep-app-stacks'])
    if (!yes && !dryRun) {
      const accounts = [...new Set(input.manifest.stacks.map((s) => s.account))]
      const { applicationStacks } = await import('../../plan/index.js')
      const apps = keepAppStacks ? [] : applicationStacks(input.manifest, input.templates)
      const appText = apps.length
        ? `, first the application stack(s) ${apps.map((a) => `${a.stack} (${a.account} ${a.region})`).join(', ')} the pipeline deployed (--keep-app-stacks leaves them)`
        : ''
      yes = await confirm(
        ctx,
        `Delete ${input.manifest.stacks.length} stack(s) of "${input.manifest.pipeline}" in account(s) ${accounts.join(', ')}${appText}? [y/N] `,
      )
      if (!yes) {
        throw new CrosspipeError(
          'usage',
          'crosspipe destroy: not confirmed; nothing was deleted. Pass --yes to confirm without a prompt.',
        )
      }
    }
    const io = progressIo(term, { verbose: Boolean(args.values.verbose) })
    const sig = interruptSignal(ctx)
    try {
      const concurrency = parseConcurrency(args.values.concurrency as string | undefined)
      const r = await destroy({
        manifest: input.manifest,
        templates: input.templates,
        manifestFile: input.file,
        credentials,
        yes,
        dryRun,
        keepAppStacks,
        ...(concurrency ? { concurrency } : {}),
        signal: sig.signal,
        io: args.values.json ? undefined : io,
      })
      io.finish()
      return report(ctx, r, summaryText)
    } finally {
      sig.dispose()
    }
  },
}
