import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { CrosspipeError } from '../../model/errors.js'
import type { Command } from '../command.js'
import { EXIT } from '../command.js'
import { writeFiles } from '../files.js'
import { style, terminalIo } from '../output.js'
import { progressIo } from '../progress.js'
import type { StageReview } from '../../deploy/index.js'

/** How long one step took, for the closing table. */
interface Step {
  readonly name: string
  readonly ms: number
}

function git(cwd: string, ...args: string[]): void {
  execFileSync('git', args, {
    cwd,
    stdio: 'ignore',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'crosspipe demo',
      GIT_AUTHOR_EMAIL: 'demo@crosspipe.invalid',
      GIT_COMMITTER_NAME: 'crosspipe demo',
      GIT_COMMITTER_EMAIL: 'demo@crosspipe.invalid',
    },
  })
}

/**
 * `crosspipe demo`: the main job on a machine with no AWS account. A sandbox with ci/dev/prod
 * accounts, the init example in a git repository standing in for CodeCommit, every stack
 * deployed, the pipeline run through build and dev, prod approved, and where each account's
 * application stack ended up.
 */
export const demoCommand: Command = {
  name: 'demo',
  summary: 'The whole system end to end in a local sandbox: deploy, build, dev, approve, prod',
  usage: 'crosspipe demo [--dir DIR] [--keep]',
  details: `Starts a sandbox with ci, dev and prod accounts in a temporary state directory, writes the
init example as a git repository (standing in for the CodeCommit repository), deploys every stack,
runs the pipeline through build and dev, approves prod, and prints where each account's
application stack is and how long each step took. Needs git. The sandbox is stopped at the end
unless --keep is given (then \`crosspipe sandbox stop --state <dir>\` stops it).`,
  options: {
    dir: {
      type: 'string',
      value: 'DIR',
      description: 'Where to write the example project (default: a temporary directory).',
    },
    keep: { type: 'boolean', description: 'Leave the sandbox running at the end.' },
  },
  maxPositionals: 0,
  async run({ args, term, cwd }) {
    const started = Date.now()
    const steps: Step[] = []
    // --json: no progress, one JSON document on stdout at the end.
    const json = Boolean(args.values.json)
    const step = async <T>(name: string, f: () => Promise<T> | T): Promise<T> => {
      if (!json) term.err(`${style(term, 'bold', '▸')} ${name}\n`)
      const t0 = Date.now()
      const r = await f()
      steps.push({ name, ms: Date.now() - t0 })
      return r
    }
    try {
      execFileSync('git', ['--version'], { stdio: 'ignore' })
    } catch {
      throw new CrosspipeError(
        'usage',
        'crosspipe demo needs git on the PATH (its repository stands in for CodeCommit).',
      )
    }
    const { exampleProject, parsePipeline } = await import('../../model/index.js')
    const { synthesize, Names } = await import('../../synth/index.js')
    const { deploy, runPipeline, approve, resolveExecution, reviewStage, reviewSummary, reviews, stageOf } =
      await import('../../deploy/index.js')
    const { printReview } = await import('../changesets.js')
    const { sandboxAccess } = await import('../../aws/index.js')
    const { detachSandbox, stopSandbox, DEFAULT_ACCOUNTS } = await import('../../sandbox/index.js')
    const { registerRepository } = await import('../../sandbox/services/codepipeline/repositories.js')

    const project = args.values.dir
      ? resolve(cwd, args.values.dir as string)
      : mkdtempSync(join(tmpdir(), 'crosspipe-demo-'))
    const stateDir = join(project, '.crosspipe', 'sandbox')
    const files = exampleProject()
    const pipeline = parsePipeline(files['crosspipe.yml'] ?? '', join(project, 'crosspipe.yml'))
    if (pipeline.source.type !== 'codecommit') throw new Error('the init example has a CodeCommit source')
    const source = pipeline.source
    const names = new Names(pipeline)

    const sandbox = await step('start a sandbox with ci, dev and prod accounts', () =>
      detachSandbox({ stateDir, port: 0, reset: true, accounts: { ...DEFAULT_ACCOUNTS } }),
    )
    let keep = Boolean(args.values.keep)
    try {
      await step(`write the init example to ${project} and commit it`, () => {
        writeFiles(project, files)
        git(project, 'init', '-q', '-b', source.branch)
        git(project, 'add', 'crosspipe.yml', 'template.yml', 'buildspec.yml')
        git(project, 'commit', '-q', '-m', 'The crosspipe init example')
        registerRepository(stateDir, {
          name: source.repository,
          path: project,
          account: source.account ?? pipeline.ci.account,
          region: pipeline.ci.region,
        })
      })
      const secure = sandbox.httpsEndpoint !== undefined && sandbox.caFile !== undefined
      const credentials = sandboxAccess({
        endpointUrl: secure ? sandbox.httpsEndpoint : sandbox.endpoint,
        ...(secure ? { caFile: sandbox.caFile } : {}),
        credentialsFile: sandbox.credentialsFile,
        configFile: sandbox.configFile,
        profiles: Object.fromEntries(sandbox.accounts.map((a) => [a.id, a.name])),
      })
      const out = synthesize(pipeline)
      const templates: Record<string, string> = {}
      for (const t of out.templates) templates[t.file] = out.files[t.file] ?? ''
      const io = json ? undefined : progressIo(term, { verbose: Boolean(args.values.verbose) })
      const deployed = await step('deploy every stack into every account', () =>
        deploy({
          manifest: out.manifest,
          templates,
          credentials,
          ...(io ? { io } : {}),
          pollIntervalMs: 200,
        }),
      )
      io?.finish()
      if (!deployed.success) {
        if (json)
          term.out(
            JSON.stringify(
              { ok: false, deploy: deployed, sandbox: { endpoint: sandbox.endpoint, stateDir } },
              null,
              2,
            ) + '\n',
          )
        else
          term.out(
            `${style(term, 'red', 'deploy failed')}; the sandbox is left running for a look: crosspipe status --sandbox --state ${stateDir}\n`,
          )
        keep = true
        return EXIT.failed
      }
      const api = credentials.codePipeline({ account: pipeline.ci.account, region: pipeline.ci.region })
      const runIo = json ? undefined : terminalIo(term, { verbose: Boolean(args.values.verbose) })
      // The pipeline starts an execution when it is created (as on AWS); follow that one.
      const executionId = await resolveExecution(api, names.pipeline)
      let report = await step('run the pipeline: source, build, dev', () =>
        runPipeline({
          api,
          pipeline: names.pipeline,
          executionId,
          pollIntervalMs: 250,
          timeoutMs: 300_000,
          ...(runIo ? { io: runIo } : {}),
        }),
      )
      // The change sets reviewed at each approval: printed as they come, or in the --json document.
      const reviewed: StageReview[] = []
      while (report.waitingForApproval) {
        const at = report.waitingForApproval
        // The prod approval reviews the prepared change sets: show them, as crosspipe approve does.
        const review = reviews(stageOf(pipeline, at.stage))
          ? await reviewStage({ access: credentials, pipeline, stage: at.stage })
          : undefined
        if (review && json) reviewed.push(review)
        else if (review) printReview(term, review)
        await step(`approve ${at.stage}`, () =>
          approve({
            api,
            pipeline: names.pipeline,
            stage: at.stage,
            comment: review
              ? `Approved by crosspipe demo after review: ${reviewSummary(review)}`
              : 'Approved by crosspipe demo',
          }),
        )
        report = await step(`deploy ${at.stage}`, () =>
          runPipeline({
            api,
            pipeline: names.pipeline,
            executionId,
            pollIntervalMs: 250,
            timeoutMs: 300_000,
            ...(runIo ? { io: runIo } : {}),
          }),
        )
      }
      const stacks: { stage: string; account: string; region: string; stack: string; status: string }[] = []
      for (const s of pipeline.stages) {
        for (const t of s.targets) {
          const d = await credentials
            .cloudFormation({ account: t.account, region: t.region })
            .describeStack(s.stack)
          stacks.push({
            stage: s.name,
            account: t.account,
            region: t.region,
            stack: s.stack,
            status: d?.status ?? 'not deployed',
          })
        }
      }
      const ok = report.execution.status === 'Succeeded'
      if (json) {
        term.out(
          JSON.stringify(
            {
              ok,
              pipeline: names.pipeline,
              executionId,
              status: report.execution.status,
              stacks,
              reviews: reviewed,
              steps: steps.map((st) => ({ step: st.name, ms: st.ms })),
              totalMs: Date.now() - started,
              ...(args.values.dir || keep ? { project } : {}),
              ...(keep ? { sandbox: { endpoint: sandbox.endpoint, stateDir } } : {}),
            },
            null,
            2,
          ) + '\n',
        )
        return ok ? EXIT.ok : EXIT.failed
      }
      term.out(`\npipeline ${names.pipeline}: execution ${executionId} ${report.execution.status}\n`)
      for (const st of stacks)
        term.out(
          `  ${st.stage.padEnd(6)} account ${st.account} ${st.region}: stack ${st.stack} ${st.status}\n`,
        )
      term.out('\nsteps:\n')
      for (const st of steps) term.out(`  ${(st.ms / 1000).toFixed(1).padStart(6)} s  ${st.name}\n`)
      term.out(`  ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s  in all\n`)
      if (keep) {
        term.out(
          `\nThe sandbox keeps running (${sandbox.endpoint}); state in ${stateDir}.\nStop it with: crosspipe sandbox stop --state ${stateDir}\n`,
        )
      }
      return report.execution.status === 'Succeeded' ? EXIT.ok : EXIT.failed
    } finally {
      if (!keep) {
        await stopSandbox(stateDir)
        if (!args.values.dir) rmSync(project, { recursive: true, force: true })
      }
    }
  },
}
