import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import type { AccountAccess, CodePipelineApi } from '../../aws/index.js'
import type { ExecutionReport } from '../../deploy/index.js'
import { CrosspipeError } from '../../model/errors.js'
import type { ResolvedPipeline } from '../../model/index.js'
import type { OptionSpec } from '../args.js'
import type { Command, CommandContext } from '../command.js'
import { EXIT } from '../command.js'
import { confirmApproval, printReview, reviewIfAny } from '../changesets.js'
import { DEPLOY_INPUT_OPTIONS } from '../options.js'
import { style, terminalIo } from '../output.js'
import { stageWaitText } from '../../deploy/run.js'

/** Options of run, status and approve: where the pipeline is, and how to reach its account. */
const PIPELINE_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  config: DEPLOY_INPUT_OPTIONS.config!,
  sandbox: DEPLOY_INPUT_OPTIONS.sandbox!,
  state: DEPLOY_INPUT_OPTIONS.state!,
  'profile-map': DEPLOY_INPUT_OPTIONS['profile-map']!,
  'assume-role': DEPLOY_INPUT_OPTIONS['assume-role']!,
  profile: DEPLOY_INPUT_OPTIONS.profile!,
  'endpoint-url': DEPLOY_INPUT_OPTIONS['endpoint-url']!,
  account: {
    type: 'string',
    value: 'ID',
    description: "The pipeline's account (default: ci.account of the definition).",
  },
  region: {
    type: 'string',
    value: 'REGION',
    description: "The pipeline's region (default: ci.region of the definition).",
  },
}

/** Finds the pipeline's name, account and region, and a CodePipeline client for them. */
async function locate(
  command: string,
  ctx: CommandContext,
  name: string | undefined,
): Promise<{ api: CodePipelineApi; pipeline: string; access: AccountAccess; definition?: ResolvedPipeline }> {
  const { args, cwd } = ctx
  const configFile = resolve(cwd, (args.values.config as string | undefined) ?? 'crosspipe.yml')
  let definition: ResolvedPipeline | undefined
  if (args.values.config || existsSync(configFile)) {
    const { loadPipeline } = await import('../../model/index.js')
    definition = await loadPipeline(configFile)
  }
  const { Names } = await import('../../synth/index.js')
  const pipeline = name ?? (definition ? new Names(definition).pipeline : undefined)
  const account = (args.values.account as string | undefined) ?? definition?.ci.account
  const region = (args.values.region as string | undefined) ?? definition?.ci.region
  if (!pipeline || !account || !region) {
    throw new CrosspipeError(
      'usage',
      `crosspipe ${command}: name the pipeline and where it is: run it next to crosspipe.yml (or give -c), or pass the pipeline name with --account and --region.`,
    )
  }
  if (!/^\d{12}$/.test(account))
    throw new CrosspipeError('usage', `--account must be a 12-digit account id, not "${account}".`)
  const { accountAccess } = await import('../inputs.js')
  const access = accountAccess(
    command,
    args,
    {
      // The target accounts too: review reads (and a rejection deletes) their change sets.
      accounts: [
        ...new Set([account, ...(definition?.stages.flatMap((s) => s.targets.map((t) => t.account)) ?? [])]),
      ],
      ...(definition ? { pipeline: definition } : {}),
    },
    cwd,
  )
  return {
    api: access.codePipeline({ account, region }),
    pipeline,
    access,
    ...(definition ? { definition } : {}),
  }
}

function printReport(ctx: CommandContext, r: ExecutionReport): void {
  const t = ctx.term
  const colour = (s: string): string =>
    style(
      t,
      s === 'Succeeded'
        ? 'green'
        : s === 'Failed' || s === 'Stopped'
          ? 'red'
          : s === 'InProgress'
            ? 'yellow'
            : 'dim',
      s,
    )
  t.out(`pipeline ${r.pipeline}, execution ${r.execution.executionId}: ${colour(r.execution.status)}\n`)
  let stage = ''
  for (const a of r.actions) {
    if (a.stageName !== stage) {
      stage = a.stageName
      t.out(`  ${stage}\n`)
    }
    const took =
      a.startTime && a.lastUpdateTime
        ? ` ${((a.lastUpdateTime.getTime() - a.startTime.getTime()) / 1000).toFixed(1)} s`
        : ''
    t.out(`    ${a.actionName.padEnd(28)} ${colour(a.status)}${style(t, 'dim', took)}\n`)
    if (a.status === 'Failed') t.out(`      ${style(t, 'red', a.errorMessage ?? a.errorCode ?? 'failed')}\n`)
    if (a.logTail) {
      t.out(`      ${style(t, 'dim', `last ${a.logTail.length} lines of the build log:`)}\n`)
      for (const l of a.logTail) t.out(`      ${style(t, 'dim', '│')} ${l}\n`)
    }
    if (a.hint) t.out(`      ${style(t, 'yellow', 'hint:')} ${a.hint}\n`)
    if (a.summary && a.status !== 'Failed') t.out(`      ${style(t, 'dim', a.summary)}\n`)
  }
  if (r.waitingForApproval) {
    t.out(
      `  waiting for approval at ${r.waitingForApproval.stage} › ${r.waitingForApproval.action}: crosspipe approve ${r.pipeline} ${r.waitingForApproval.stage}\n`,
    )
  }
  if (r.waitingForStage) {
    t.out(
      `  ${style(t, 'yellow', 'waiting:')} ${stageWaitText(r.pipeline, r.execution.executionId, r.waitingForStage)}\n`,
    )
  }
}

function exitFor(r: ExecutionReport): number {
  const waitsForPerson = r.waitingForApproval !== undefined || r.waitingForStage?.heldAtApproval !== undefined
  return r.execution.status === 'Succeeded' || (r.execution.status === 'InProgress' && waitsForPerson)
    ? EXIT.ok
    : EXIT.failed
}

/** `crosspipe run`. */
export const runCommand: Command = {
  name: 'run',
  summary: 'Start a pipeline execution and follow it until it ends or waits for approval',
  usage:
    'crosspipe run [pipeline] [-c crosspipe.yml] (--sandbox | --profile-map … | --assume-role ROLE) [--no-follow]',
  details: `Starts an execution of the pipeline of crosspipe.yml (or the one named) and prints each action
as its status changes; a failed action shows its error and a hint. A stage runs one execution at a
time: when this execution waits to enter a stage another one holds, run names that execution and
what it waits for. It returns when only a person can move the execution on: at a manual approval
of its own, or behind another execution's approval (both with the crosspipe approve command to
run). Takes the same account access options as deploy (profiles in crosspipe.yml, --profile-map,
--assume-role, --endpoint-url, --sandbox); it uses the pipeline's account. Exit 0 when the
execution succeeded or waits for an approval, 1 when it failed or was stopped or superseded.`,
  options: {
    ...PIPELINE_OPTIONS,
    'no-follow': { type: 'boolean', description: 'Start the execution and return at once.' },
    timeout: {
      type: 'string',
      value: 'SECONDS',
      description: 'Stop following after this long.',
      default: '3600',
    },
  },
  maxPositionals: 1,
  async run(ctx) {
    const { args, term } = ctx
    const timeout = Number(args.values.timeout)
    if (!Number.isFinite(timeout) || timeout <= 0)
      throw new CrosspipeError(
        'usage',
        `--timeout must be a number of seconds, not "${String(args.values.timeout)}".`,
      )
    const { api, pipeline } = await locate('run', ctx, args.positionals[0])
    const { runPipeline, executionReport } = await import('../../deploy/index.js')
    if (args.values['no-follow']) {
      const id = await api.startExecution(pipeline)
      const r = await executionReport(api, pipeline, id)
      if (args.values.json) term.out(JSON.stringify(r, null, 2) + '\n')
      else term.out(`started execution ${id} of ${pipeline}; follow it with crosspipe status\n`)
      return EXIT.ok
    }
    const ac = new AbortController()
    const onInt = (): void => ac.abort()
    process.once('SIGINT', onInt)
    try {
      const r = await runPipeline({
        api,
        pipeline,
        timeoutMs: timeout * 1000,
        signal: ac.signal,
        io: args.values.json ? undefined : terminalIo(term, { verbose: Boolean(args.values.verbose) }),
      })
      if (args.values.json) term.out(JSON.stringify(r, null, 2) + '\n')
      else printReport(ctx, r)
      return exitFor(r)
    } finally {
      process.off('SIGINT', onInt)
    }
  },
}

/** `crosspipe status`. */
export const statusCommand: Command = {
  name: 'status',
  summary: 'Show the latest (or a given) pipeline execution, action by action',
  usage:
    'crosspipe status [pipeline] [--execution ID] [-c crosspipe.yml] (--sandbox | --profile-map … | --assume-role ROLE)',
  options: {
    ...PIPELINE_OPTIONS,
    execution: { type: 'string', value: 'ID', description: 'The execution (default: the latest).' },
  },
  maxPositionals: 1,
  async run(ctx) {
    const { args, term } = ctx
    const { api, pipeline, access, definition } = await locate('status', ctx, args.positionals[0])
    const { executionReport, resolveExecution } = await import('../../deploy/index.js')
    const id = await resolveExecution(api, pipeline, args.values.execution as string | undefined)
    const r = await executionReport(api, pipeline, id)
    // A waiting approval that reviews change sets: show what approving would deploy.
    const review = r.waitingForApproval
      ? await reviewIfAny(ctx, access, definition, r.waitingForApproval.stage, false, false)
      : undefined
    if (args.values.json) term.out(JSON.stringify(review ? { ...r, review } : r, null, 2) + '\n')
    else {
      printReport(ctx, r)
      if (review) printReview(term, review)
    }
    return exitFor(r)
  },
}

/** `crosspipe approve`. */
export const approveCommand: Command = {
  name: 'approve',
  summary: 'Approve (or reject) the manual approval waiting in a stage',
  usage:
    'crosspipe approve [pipeline] <stage> [--reject] [--comment TEXT] (--sandbox | --profile-map … | --assume-role ROLE)',
  details: `Approves the Manual approval waiting in the stage. A definition stage with more actions than
CodePipeline allows in one stage (50) runs as <stage>-part1, -part2, … with the approval in part 1:
crosspipe approve <stage> approves it (the part's own name works too).`,
  options: {
    ...PIPELINE_OPTIONS,
    reject: {
      type: 'boolean',
      description: 'Reject instead of approving (with review: the prepared change sets are deleted).',
    },
    yes: { type: 'boolean', description: 'Do not ask for confirmation after showing the change sets.' },
    comment: { type: 'string', value: 'TEXT', description: 'The summary recorded with the result.' },
  },
  maxPositionals: 2,
  async run(ctx) {
    const { args, term } = ctx
    const [a, b] = args.positionals
    if (!a)
      throw new CrosspipeError(
        'usage',
        'crosspipe approve: name the stage to approve, e.g. crosspipe approve prod.',
      )
    const name = b ? a : undefined
    const stage = b ?? a
    const { api, pipeline, access, definition } = await locate('approve', ctx, name)
    const { approve, reviewSummary, discardChangeSets } = await import('../../deploy/index.js')
    const reject = Boolean(args.values.reject)
    // With review: every prepared change set is printed before the decision (and asked about
    // on a terminal unless --yes).
    const review = await reviewIfAny(ctx, access, definition, stage, true)
    if (review && !args.values.json && !(await confirmApproval(ctx, reject))) {
      term.out('nothing done\n')
      return EXIT.ok
    }
    const comment =
      (args.values.comment as string | undefined) ??
      (review ? `${reject ? 'Rejected' : 'Approved'} after review: ${reviewSummary(review)}` : undefined)
    const r = await approve({ api, pipeline, stage, reject, ...(comment ? { comment } : {}) })
    const discarded = review && reject ? await discardChangeSets(access, review) : undefined
    if (args.values.json)
      term.out(
        JSON.stringify({ ...r, ...(review ? { review } : {}), ...(discarded ? { discarded } : {}) }) + '\n',
      )
    else {
      term.out(`${r.approved ? 'approved' : 'rejected'} ${pipeline} › ${r.stage} › ${r.action}\n`)
      for (const d of discarded ?? [])
        if (d.outcome !== 'none')
          term.out(
            `  ${d.account} ${d.region}: change set deleted${d.outcome === 'stack-deleted' ? `, and the empty new stack ${d.stack}` : `; stack ${d.stack} unchanged`}\n`,
          )
    }
    return EXIT.ok
  },
}
