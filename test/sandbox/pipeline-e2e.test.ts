/**
 * End to end in the sandbox: the `crosspipe init` example synthesized and deployed through the
 * library (over the sandbox's HTTPS endpoint: the artifact bucket's policy denies requests
 * without TLS), its CodeCommit source a local git repository registered with the sandbox. The
 * pipeline the CI stack creates is CodePipeline's own, so its first execution starts on creation
 * and must carry the commit through Source → Build → dev (change set create + execute in the dev
 * account as its cross-account role) → the prod approval (approved here with the SDK) → prod.
 * Any failed action fails the test with its error from ListActionExecutions.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { Agent } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation'
import {
  CodePipelineClient,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  ListActionExecutionsCommand,
  ListPipelineExecutionsCommand,
  PutApprovalResultCommand,
} from '@aws-sdk/client-codepipeline'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { sandboxAccess } from '../../src/aws/index.js'
import { deploy } from '../../src/deploy/index.js'
import { exampleProject, parsePipeline } from '../../src/model/index.js'
import { startSandbox, type RunningSandbox } from '../../src/sandbox/index.js'
import { registerRepository } from '../../src/sandbox/services/codepipeline/repositories.js'
import { synthesize } from '../../src/synth/index.js'

const ACCOUNTS = { ci: '111111111111', dev: '222222222222', prod: '333333333333' }
const REGION = 'eu-west-1'
const PIPELINE = 'my-app'

let sandbox: RunningSandbox | undefined
let dir = ''

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'crosspipe-pipeline-e2e-'))
  sandbox = await startSandbox({ stateDir: join(dir, 'state'), port: 0, accounts: ACCOUNTS })
})
after(async () => {
  await sandbox?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

/** An SDK client's options as one account's root profile, over HTTPS. */
function clientOptions(s: RunningSandbox, name: keyof typeof ACCOUNTS) {
  const a = s.accounts.find((x) => x.id === ACCOUNTS[name])!
  return {
    endpoint: s.httpsEndpoint!,
    region: REGION,
    credentials: { accessKeyId: a.accessKeyId, secretAccessKey: a.secretAccessKey },
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca: readFileSync(s.caFile!) }) }),
  }
}

function git(cwd: string, ...args: string[]): void {
  execFileSync('git', args, { cwd, stdio: 'pipe' })
}

test('the init example deployed into the sandbox runs: source → build → dev → approval → prod', async (t) => {
  const s = sandbox!
  if (!s.httpsEndpoint || !s.caFile) return t.skip('the sandbox has no HTTPS endpoint (openssl missing)')
  const files = exampleProject()

  // The source: the repository and branch the example names, as a local git repository.
  const repo = join(dir, 'repo')
  mkdirSync(repo)
  writeFileSync(join(repo, 'template.yml'), files['template.yml']!)
  writeFileSync(join(repo, 'buildspec.yml'), files['buildspec.yml']!)
  git(repo, 'init', '-q', '-b', 'main')
  git(repo, 'add', 'template.yml', 'buildspec.yml')
  git(repo, '-c', 'user.name=test', '-c', 'user.email=test@example.com', 'commit', '-q', '-m', 'app')
  registerRepository(s.stateDir, { name: 'my-app', path: repo, account: ACCOUNTS.ci, region: REGION })

  // Synthesize and deploy every stack through the library, as `crosspipe deploy --sandbox` does.
  const out = synthesize(parsePipeline(files['crosspipe.yml']!, 'crosspipe.yml'))
  const access = sandboxAccess({
    endpointUrl: s.httpsEndpoint,
    caFile: s.caFile,
    credentialsFile: s.credentialsFile,
    configFile: s.configFile,
    profiles: Object.fromEntries(s.accounts.map((a) => [a.id, a.profile])),
  })
  const deployed = await deploy({
    manifest: out.manifest,
    templates: out.files,
    credentials: access,
    pollIntervalMs: 50,
  })
  assert.ok(
    deployed.stacks.every((x) => x.status === 'CREATE_COMPLETE'),
    deployed.stacks
      .map((x) => `${x.stack}: ${x.outcome} ${x.status ?? ''} ${x.error?.message ?? ''}`)
      .join('\n'),
  )

  // The pipeline the CI stack created started its first execution on creation.
  const cp = new CodePipelineClient(clientOptions(s, 'ci'))
  const executions = (await cp.send(new ListPipelineExecutionsCommand({ pipelineName: PIPELINE })))
    .pipelineExecutionSummaries!
  assert.equal(executions.length, 1, JSON.stringify(executions))
  const id = executions[0]!.pipelineExecutionId!

  /** The failed actions of the execution with their errors, for assertion messages. */
  const failures = async (): Promise<string> => {
    const list = await cp.send(
      new ListActionExecutionsCommand({ pipelineName: PIPELINE, filter: { pipelineExecutionId: id } }),
    )
    return (list.actionExecutionDetails ?? [])
      .filter((a) => a.status === 'Failed')
      .map((a) => `${a.stageName}/${a.actionName}: ${JSON.stringify(a.output?.executionResult ?? {})}`)
      .join('\n')
  }
  /** Waits until `done` holds, failing with the failed actions' errors if the execution fails. */
  const waitFor = async (what: string, done: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> => {
    const end = Date.now() + timeoutMs
    for (;;) {
      if (await done()) return
      const e = (
        await cp.send(new GetPipelineExecutionCommand({ pipelineName: PIPELINE, pipelineExecutionId: id }))
      ).pipelineExecution!
      if (e.status === 'Failed' || e.status === 'Stopped' || e.status === 'Superseded')
        assert.fail(`execution ${e.status} waiting for ${what}:\n${await failures()}`)
      if (Date.now() > end)
        assert.fail(`timed out waiting for ${what} (execution ${e.status}):\n${await failures()}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }

  // Source, Build and dev run; the execution stops at the prod approval.
  let token: string | undefined
  await waitFor('the prod approval', async () => {
    const state = await cp.send(new GetPipelineStateCommand({ name: PIPELINE }))
    for (const st of state.stageStates ?? [])
      for (const a of st.actionStates ?? [])
        if (a.latestExecution?.status === 'InProgress' && a.latestExecution.token) {
          token = a.latestExecution.token
          assert.equal(st.stageName, 'prod', `waiting at ${st.stageName}/${a.actionName}`)
          return true
        }
    return false
  })
  const prod = (await cp.send(new GetPipelineStateCommand({ name: PIPELINE }))).stageStates!.find(
    (x) => x.stageName === 'prod',
  )!
  const approval = prod.actionStates!.find((a) => a.latestExecution?.token === token)!

  // dev is deployed before the approval.
  const cfn = (name: keyof typeof ACCOUNTS) => new CloudFormationClient(clientOptions(s, name))
  const stackStatus = async (name: keyof typeof ACCOUNTS, stack: string) =>
    (await cfn(name).send(new DescribeStacksCommand({ StackName: stack }))).Stacks![0]!.StackStatus
  assert.equal(await stackStatus('dev', 'my-app-dev'), 'CREATE_COMPLETE')

  await cp.send(
    new PutApprovalResultCommand({
      pipelineName: PIPELINE,
      stageName: 'prod',
      actionName: approval.actionName!,
      token: token!,
      result: { status: 'Approved', summary: 'ship it' },
    }),
  )
  await waitFor('the execution to succeed', async () => {
    const e = (
      await cp.send(new GetPipelineExecutionCommand({ pipelineName: PIPELINE, pipelineExecutionId: id }))
    ).pipelineExecution!
    return e.status === 'Succeeded'
  })
  assert.equal(await stackStatus('dev', 'my-app-dev'), 'CREATE_COMPLETE')
  assert.equal(await stackStatus('prod', 'my-app-prod'), 'CREATE_COMPLETE')
})
