import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { CrosspipeError } from '../../model/errors.js'
import { DEFAULT_PORT } from '../../sandbox/config.js'
import type { Command, CommandContext } from '../command.js'
import { EXIT } from '../command.js'
import { DEFAULT_SANDBOX_STATE } from '../options.js'
import { terminalIo } from '../output.js'

/** The sandbox library, loaded only when a sandbox command runs (it opens SQLite, starts servers). */
const sandboxLib = () => import('../../sandbox/index.js')

/** Parses `ci=111111111111,dev=222222222222`. */
export function parseAccounts(value: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const part of value.split(',').filter(Boolean)) {
    const m = /^([A-Za-z][\w-]*)=(\d{12})$/.exec(part.trim())
    if (!m) {
      throw new CrosspipeError(
        'usage',
        `crosspipe sandbox: --accounts entry "${part}" is not NAME=ACCOUNT_ID with a 12-digit id (for example ci=111111111111,dev=222222222222).`,
      )
    }
    if (m[1]! in out)
      throw new CrosspipeError('usage', `crosspipe sandbox: --accounts names "${m[1]}" twice.`)
    if (Object.values(out).includes(m[2]!)) {
      throw new CrosspipeError('usage', `crosspipe sandbox: --accounts gives account id ${m[2]} twice.`)
    }
    out[m[1]!] = m[2]!
  }
  if (Object.keys(out).length === 0)
    throw new CrosspipeError('usage', 'crosspipe sandbox: --accounts is empty.')
  return out
}

function parsePort(value: string | undefined, option = '--port', fallback = DEFAULT_PORT): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!/^\d+$/.test(value) || n > 65535) {
    throw new CrosspipeError(
      'usage',
      `crosspipe sandbox: ${option} must be a number from 0 to 65535 (0: a free port), not "${value}".`,
    )
  }
  return n
}

/** `--https-port`: undefined (a free port) when not given. */
function httpsPort(ctx: CommandContext): number | undefined {
  const v = ctx.args.values['https-port'] as string | undefined
  return v === undefined ? undefined : parsePort(v, '--https-port', 0)
}

async function foreground(ctx: CommandContext, stateDir: string): Promise<number> {
  const { args, term } = ctx
  // Everything the sandbox (and the builds it runs) creates is private to its user.
  process.umask(0o077)
  const accounts = args.values.accounts ? parseAccounts(args.values.accounts as string) : undefined
  const { startSandbox } = await sandboxLib()
  const tlsPort = httpsPort(ctx)
  const sandbox = await startSandbox({
    port: parsePort(args.values.port as string | undefined),
    ...(tlsPort !== undefined ? { tlsPort } : {}),
    stateDir,
    ...(accounts ? { accounts } : {}),
    reset: Boolean(args.values.reset),
    io: terminalIo(term, { verbose: Boolean(args.values.verbose) }),
    // The command does nothing else while the sandbox runs: a worker thread would only add its start-up.
    thread: 'main',
  })
  if (args.values.json) {
    term.out(
      JSON.stringify({
        endpoint: sandbox.endpoint,
        accounts: sandbox.accounts.map((a) => ({ name: a.name, id: a.id })),
      }) + '\n',
    )
  } else {
    // The library has announced the endpoint (and state directory) on stderr; add what to do next.
    if (sandbox.httpsEndpoint)
      term.out(`HTTPS: ${sandbox.httpsEndpoint} (certificate: ${sandbox.caFile ?? ''})\n`)
    for (const a of sandbox.accounts)
      term.out(`  account ${a.name.padEnd(8)} ${a.id}   profile "${a.profile}"\n`)
    term.out(
      `\nUse it from another shell:  eval "$(crosspipe sandbox env --profile ${sandbox.accounts[0]?.profile ?? 'ci'})"\n`,
    )
    term.out('Press Ctrl-C to stop.\n')
  }
  await new Promise<void>((done) => {
    let stopping = false
    const stop = (): void => {
      if (stopping) return
      stopping = true
      void sandbox.stop().then(done)
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  return EXIT.ok
}

/**
 * `crosspipe sandbox repo add NAME PATH`: a local git repository stands in for a CodeCommit
 * repository; the sandbox's CodeCommit source actions read it, and new commits start executions.
 */
async function repo(ctx: CommandContext, stateDir: string): Promise<number> {
  const { args, term } = ctx
  const [, verb, name, path] = args.positionals
  const { readSandboxState } = await sandboxLib()
  const { listRepositories, registerRepository } =
    await import('../../sandbox/services/codepipeline/repositories.js')
  if (verb === 'list') {
    const repos = listRepositories(stateDir)
    if (args.values.json) term.out(JSON.stringify(repos, null, 2) + '\n')
    else for (const r of repos) term.out(`${r.name}  ${r.account} ${r.region}  ${r.path}\n`)
    return EXIT.ok
  }
  if (verb !== 'add' || !name || !path) {
    throw new CrosspipeError('usage', 'crosspipe sandbox repo: use `repo add NAME PATH` or `repo list`.')
  }
  const state = readSandboxState(stateDir)
  if (!state) {
    throw new CrosspipeError(
      'sandbox',
      `No sandbox is running from ${stateDir}: start one with \`crosspipe sandbox --detach\`.`,
    )
  }
  // Run from a project: the repository belongs where the definition's pipeline looks for it.
  const fromDefinition = await definitionRepository(ctx, name)
  const which = (args.values.account as string | undefined) ?? fromDefinition?.account ?? 'ci'
  const account = /^\d{12}$/.test(which) ? which : state.accounts.find((a) => a.name === which)?.id
  if (!account) {
    throw new CrosspipeError(
      'usage',
      `The sandbox has no account "${which}"; it has ${state.accounts.map((a) => `${a.name} (${a.id})`).join(', ')}.`,
    )
  }
  if (!state.accounts.some((a) => a.id === account)) {
    throw new CrosspipeError(
      'usage',
      `Account ${account}${fromDefinition && !args.values.account ? ` (from ${fromDefinition.file})` : ''} is not an account of the sandbox, which has ${state.accounts.map((a) => `${a.name} (${a.id})`).join(', ')}: start the sandbox with --accounts naming it, or pass --account.`,
    )
  }
  const region = (args.values.region as string | undefined) ?? fromDefinition?.region ?? state.region
  const rec = registerRepository(stateDir, { name, path: resolve(ctx.cwd, path), account, region })
  if (args.values.json) term.out(JSON.stringify(rec, null, 2) + '\n')
  else term.out(`repository ${rec.name} (${rec.account} ${rec.region}) → ${rec.path}\n`)
  return EXIT.ok
}

/**
 * The account and region a definition's pipeline reads repository NAME from: its CodeCommit
 * source's account (or the CI account) in the CI region. From `-c FILE`, or `crosspipe.yml` in
 * the working directory when there is one; undefined outside a project.
 */
async function definitionRepository(
  ctx: CommandContext,
  name: string,
): Promise<{ account: string; region: string; file: string } | undefined> {
  const given = ctx.args.values.config as string | undefined
  const file = resolve(ctx.cwd, given ?? 'crosspipe.yml')
  if (!given && !existsSync(file)) return undefined
  const { loadPipeline } = await import('../../model/load.js')
  const p = await loadPipeline(file)
  const src = p.source
  const account =
    src.type === 'codecommit' && src.repository === name && src.account ? src.account : p.ci.account
  return { account, region: p.ci.region, file }
}

/** `crosspipe sandbox`: run, detach, stop, or print the environment for a profile. */
export const sandboxCommand: Command = {
  name: 'sandbox',
  summary: 'Run a local multi-account AWS (STS, IAM, KMS, S3, …) that enforces IAM across accounts',
  usage: `crosspipe sandbox [--port ${DEFAULT_PORT}] [--https-port PORT] [--state DIR] [--accounts ci=111111111111,dev=…] [--reset] [--detach]
crosspipe sandbox stop [--state DIR]
crosspipe sandbox env --profile NAME [--state DIR]
crosspipe sandbox status [--state DIR]
crosspipe sandbox repo add NAME PATH [-c crosspipe.yml] [--account ci] [--region REGION] [--state DIR]
crosspipe sandbox repo list [--state DIR]`,
  details: `Runs in the foreground on 127.0.0.1 until Ctrl-C (or in the background with --detach).
State (accounts, roles, keys, buckets, objects) persists in the state directory; --reset starts empty.
The state directory also holds an AWS credentials file and config file with one profile per
account, so the AWS CLI and SDKs work unchanged:
  eval "$(crosspipe sandbox env --profile dev)" && aws sts get-caller-identity
The state directory holds every account's root keys, so it is private to you: directories 0700,
files 0600 (an older directory is fixed at start, and the sandbox says so; one owned by another user
is refused). One sandbox at a time uses it: a second one is refused with the first one's pid (a
killed sandbox does not count). A database that does not match its object bodies is refused with
what to do (restore from a backup, or --reset), never repaired by deleting bodies; an object whose
body file changed on disk is answered 500 InternalError, never with wrong bytes. On a full disk
writes fail at once with 507 InsufficientStorage (SDKs do not retry it) and deletes still work.
Run from a project, repo add registers the repository in the account and region of its
crosspipe.yml (or -c FILE), where the pipeline looks for it.
Builds are not containers: a CodeBuild build runs its buildspec's commands with this machine's bash
and tools, as you, in the state directory's codebuild/work; they can read and change your files and
use your network. The image is recorded, not pulled, and the build log says so (its lines keep
CodeBuild's "[Container]" prefix so tools can parse them).
It serves STS, IAM (every AWS managed policy), KMS, S3, SSM Parameter Store, ECR repositories (no
images), CloudFormation, CodeBuild, CodePipeline and CloudWatch Logs for build logs, each operation
as its services/<name>/SPEC.md says, so the CDK's \`cdk bootstrap\` and \`cdk deploy\` work against
it. Anything else (Lambda, SNS, …, or an operation not listed) is refused in that service's own
protocol with "not supported by the crosspipe sandbox", which the AWS CLI, boto3 and the SDKs show
as is.
Requests must be signed with Signature Version 4 (the profiles written here make the AWS CLI v1
and boto3 presign S3 URLs with it).`,
  options: {
    port: {
      type: 'string',
      value: 'PORT',
      description: `Port on 127.0.0.1 (0: a free port).`,
      default: String(DEFAULT_PORT),
    },
    'https-port': {
      type: 'string',
      value: 'PORT',
      description: 'Port of the HTTPS listener on 127.0.0.1 (default: a free port).',
    },
    state: { type: 'string', value: 'DIR', description: 'State directory.', default: DEFAULT_SANDBOX_STATE },
    accounts: {
      type: 'string',
      value: 'NAME=ID,…',
      description: 'Accounts to create (default ci, dev, prod).',
    },
    reset: { type: 'boolean', description: 'Start with empty state.' },
    detach: { type: 'boolean', description: 'Run in the background and return once it answers.' },
    profile: { type: 'string', value: 'NAME', description: 'With env: the account profile.' },
    account: {
      type: 'string',
      value: 'NAME|ID',
      description:
        "With repo add: the account that owns the repository (default: the definition's CodeCommit source account or CI account, else ci).",
    },
    region: {
      type: 'string',
      value: 'REGION',
      description: "With repo add: its region (default: the definition's CI region, else the sandbox's).",
    },
    config: {
      type: 'string',
      short: 'c',
      value: 'FILE',
      description: 'With repo add: the pipeline definition (default crosspipe.yml when present).',
    },
  },
  maxPositionals: 4,
  async run(ctx) {
    const { args, term, cwd } = ctx
    const stateDir = resolve(cwd, args.values.state as string)
    const sub = args.positionals[0]
    const { detachSandbox, formatEnvExports, readSandboxState, sandboxEnv, stopSandbox } = await sandboxLib()
    switch (sub) {
      case undefined:
        if (!args.values.detach) return foreground(ctx, stateDir)
        {
          const accounts = args.values.accounts ? parseAccounts(args.values.accounts as string) : undefined
          const tlsPort = httpsPort(ctx)
          const s = await detachSandbox({
            port: parsePort(args.values.port as string | undefined),
            ...(tlsPort !== undefined ? { tlsPort } : {}),
            stateDir,
            ...(accounts ? { accounts } : {}),
            reset: Boolean(args.values.reset),
          })
          if (args.values.json) term.out(JSON.stringify(s, null, 2) + '\n')
          else
            term.out(
              `crosspipe sandbox running in the background on ${s.endpoint} (pid ${s.pid}); stop it with \`crosspipe sandbox stop\`\n`,
            )
          return EXIT.ok
        }
      case 'stop': {
        const stopped = await stopSandbox(stateDir)
        if (args.values.json) term.out(JSON.stringify({ stopped }) + '\n')
        else term.out(stopped ? 'sandbox stopped\n' : `no sandbox was running from ${stateDir}\n`)
        return EXIT.ok
      }
      case 'env': {
        const profile = args.values.profile as string | undefined
        if (!profile)
          throw new CrosspipeError(
            'usage',
            'crosspipe sandbox env: --profile NAME is required (an account name such as ci or dev).',
          )
        const env = sandboxEnv(stateDir, profile)
        term.out(args.values.json ? JSON.stringify(env, null, 2) + '\n' : formatEnvExports(env) + '\n')
        return EXIT.ok
      }
      case 'status': {
        const s = readSandboxState(stateDir)
        if (args.values.json) term.out(JSON.stringify({ running: Boolean(s), ...(s ?? {}) }, null, 2) + '\n')
        else if (!s) term.out(`no sandbox is running from ${stateDir}\n`)
        else {
          term.out(`sandbox running on ${s.endpoint} (pid ${s.pid}, since ${s.startedAt})\n`)
          for (const a of s.accounts) term.out(`  account ${a.name.padEnd(8)} ${a.id}\n`)
        }
        return s ? EXIT.ok : EXIT.failed
      }
      case 'repo':
        return repo(ctx, stateDir)
      default:
        throw new CrosspipeError(
          'usage',
          `crosspipe sandbox: unknown subcommand "${sub}"; use stop, env, status or repo (or none to run).`,
        )
    }
  },
}
