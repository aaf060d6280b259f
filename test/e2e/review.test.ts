/**
 * Issue 15, part 1: review at the approval, end to end with the built CLI in the sandbox. The init
 * example reviews prod (`approval: { review: true }`): the prod change set exists while the
 * approval waits, `status` and `approve` print it resource by resource, a rejection deletes it and
 * leaves no stack behind, an approval deploys it, and a later change shows Modify with its
 * properties. Needs git.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { sandboxAccess } from '../../src/aws/index.js'
import { readSandboxState } from '../../src/sandbox/index.js'
import { cli, commit, deployExample, edit, expectExit, stopExample } from './helpers.js'
import type { DeployedExample } from './helpers.js'

let e: DeployedExample | undefined
before(() => {
  e = deployExample()
})
after(() => stopExample(e))

function prodStack(): Promise<string | undefined> {
  const s = readSandboxState(e!.state)!
  const access = sandboxAccess({
    endpointUrl: s.endpoint,
    credentialsFile: s.credentialsFile,
    configFile: s.configFile,
    profiles: Object.fromEntries(s.accounts.map((a) => [a.id, a.name])),
  })
  return access
    .cloudFormation({ account: '333333333333', region: 'eu-west-1' })
    .describeStack('my-app-prod')
    .then((d) => d?.status)
}

function runToApproval(): void {
  const r = expectExit(
    cli(['run', '--sandbox', '--state', e!.state, '--timeout', '120'], { cwd: e!.dir }),
    0,
    'run',
  )
  assert.match(r.stdout, /waiting for approval at prod › approve/)
}

/** The pipeline starts an execution when it is created (as on AWS): follow it with status to the approval. */
async function firstExecutionAtApproval(): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const r = cli(['status', '--sandbox', '--state', e!.state], { cwd: e!.dir })
    if (/waiting for approval at prod › approve/.test(r.stdout)) return
    await new Promise((res) => setTimeout(res, 200))
  }
  assert.fail('the first execution never reached the prod approval')
}

test('review: the change set is prepared before the approval; status shows it; reject deletes it and the new stack', async () => {
  await firstExecutionAtApproval()
  assert.equal(await prodStack(), 'REVIEW_IN_PROGRESS', 'the prod change set exists before the approval')
  const status = expectExit(cli(['status', '--sandbox', '--state', e!.state], { cwd: e!.dir }), 0, 'status')
  assert.match(status.stdout, /change sets my-app-prod of stage prod:/)
  assert.match(
    status.stdout,
    /333333333333 eu-west-1 stack my-app-prod \(new stack\): 2 to add, 0 to modify, 0 to remove/,
  )
  assert.match(status.stdout, /\+ Add {4}DataBucket AWS::S3::Bucket/)
  assert.match(status.stdout, /\+ Add {4}BucketNameParameter AWS::SSM::Parameter/)

  const rej = expectExit(
    cli(['approve', 'prod', '--reject', '--json', '--sandbox', '--state', e!.state], { cwd: e!.dir }),
    0,
    'approve --reject',
  )
  const j = JSON.parse(rej.stdout)
  assert.equal(j.approved, false)
  assert.equal(j.review.targets[0].status, 'ready')
  assert.equal(j.review.targets[0].counts.add, 2)
  assert.deepEqual(
    j.review.targets[0].changes.map(
      (c: { action: string; logicalId: string }) => `${c.action} ${c.logicalId}`,
    ),
    ['Add DataBucket', 'Add BucketNameParameter'],
  )
  assert.equal(j.discarded[0].outcome, 'stack-deleted')
  assert.equal(await prodStack(), undefined, 'a rejected first deploy leaves no prod stack')
})

test('review: approve deploys; a later change shows Modify with its properties; rejecting it keeps the stack', async () => {
  runToApproval()
  const ok = expectExit(
    cli(['approve', 'prod', '--sandbox', '--state', e!.state], { cwd: e!.dir }),
    0,
    'approve',
  )
  assert.match(ok.stdout, /2 to add/)
  assert.match(ok.stdout, /approved my-app › prod › approve/)
  // The approved execution deploys prod.
  for (let i = 0; i < 100 && (await prodStack()) !== 'CREATE_COMPLETE'; i++)
    await new Promise((r) => setTimeout(r, 200))
  assert.equal(await prodStack(), 'CREATE_COMPLETE')

  // A change to the parameter's description and a new queue: Modify (no replacement) and Add.
  edit(
    join(e!.dir, 'template.yml'),
    "Description: The name of the application's data bucket.\n\nOutputs:",
    "Description: The application's data bucket.\n\n  Events:\n    Type: AWS::SQS::Queue\n\nOutputs:",
  )
  commit(e!.dir, 'describe the parameter differently, add a queue')
  runToApproval()
  const r = expectExit(
    cli(['approve', 'prod', '--reject', '--sandbox', '--state', e!.state], { cwd: e!.dir }),
    0,
    'approve --reject',
  )
  assert.match(r.stdout, /stack my-app-prod: 1 to add, 1 to modify, 0 to remove/)
  assert.match(r.stdout, /~ Modify BucketNameParameter AWS::SSM::Parameter/)
  assert.match(r.stdout, /\n {8}Description\n/)
  assert.match(r.stdout, /\+ Add {4}Events AWS::SQS::Queue/)
  assert.match(r.stdout, /change set deleted; stack my-app-prod unchanged/)
  assert.equal(await prodStack(), 'CREATE_COMPLETE', 'a rejected update leaves the stack as it was')
})
