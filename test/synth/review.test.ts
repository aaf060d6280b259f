/**
 * Issue 15: review at the approval in the synthesized pipeline (change sets of every target
 * before the approval, executed after it, tests last) and deployment roles derived from the
 * application template in the target stacks.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parsePipeline } from '../../src/model/index.js'
import { synthesize } from '../../src/synth/index.js'
import { DEV, PROD, examplePipeline, stage } from './builder.js'

type Action = { Name: string; RunOrder: number; Configuration?: Record<string, string> }

function prodActions(review: boolean, tests = false): Action[] {
  const p = examplePipeline({
    stages: [
      stage('dev', [{ account: DEV }]),
      stage('prod', [{ account: PROD }, { account: PROD, region: 'us-east-1' }], {
        approval: { comment: 'Ship it?', ...(review ? { review: true } : {}) },
        ...(tests
          ? { tests: { image: 'i', computeType: 'BUILD_GENERAL1_SMALL', environment: {}, commands: ['t'] } }
          : {}),
      }),
    ],
  })
  const pipe = synthesize(p).templates.find((t) => t.stack.endsWith('-pipeline'))!.body as any
  return pipe.Resources.Pipeline.Properties.Stages.find((s: { Name: string }) => s.Name === 'prod')
    .Actions as Action[]
}

test('review: every prepare at run order 1, the approval at 2, every execute at 3, tests at 4', () => {
  const a = prodActions(true, true)
  const order = Object.fromEntries(a.map((x) => [x.Name, x.RunOrder]))
  assert.deepEqual(order, {
    approve: 2,
    [`prepare-${PROD}-eu-west-1`]: 1,
    [`deploy-${PROD}-eu-west-1`]: 3,
    [`test-${PROD}-eu-west-1`]: 4,
    [`prepare-${PROD}-us-east-1`]: 1,
    [`deploy-${PROD}-us-east-1`]: 3,
    [`test-${PROD}-us-east-1`]: 4,
  })
  const custom = a.find((x) => x.Name === 'approve')!.Configuration!.CustomData!
  assert.match(
    custom,
    /^Ship it\? Change sets myapp-prod are prepared for 2 targets; review them with: crosspipe approve myapp prod$/,
  )
})

test('without review the approval comes first and nothing is prepared before it', () => {
  const a = prodActions(false)
  assert.equal(a.find((x) => x.Name === 'approve')!.RunOrder, 1)
  assert.ok(a.filter((x) => x.Name !== 'approve').every((x) => x.RunOrder >= 2))
  assert.equal(a.find((x) => x.Name === 'approve')!.Configuration!.CustomData, 'Ship it?')
})

test('review refuses a stage that needs more than one pipeline stage of 50 actions', () => {
  const targets = Array.from({ length: 25 }, (_, i) => `      - account: "${String(400000000000 + i)}"`).join(
    '\n',
  )
  const yml = `name: big
ci: { account: "111111111111", region: eu-west-1 }
source: { type: codecommit, repository: big }
stages:
  - name: prod
    approval: { review: true }
    stack: big
    targets:
${targets}
`
  assert.throws(
    () => parsePipeline(yml, 'crosspipe.yml'),
    (e: any): boolean =>
      (e.problems as { message: string }[]).some((p) =>
        /review prepares every target's change set before the approval in one pipeline stage \(at most 50 actions\), but this stage needs 51/.test(
          p.message,
        ),
      ),
  )
})

test('fromTemplate: the deployment role gets the derived statements and no managed policy', () => {
  const p = examplePipeline({
    stages: [
      stage('dev', [{ account: DEV }], {
        deployPermissions: { managedPolicies: [], statements: [], fromTemplate: true },
        appTemplate: {
          file: 'template.yml',
          body: { Resources: { Q: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'orders' } } } },
        },
      }),
    ],
  })
  const t = synthesize(p).templates.find((x) => x.stack.includes(`target-${DEV}`))!.body as any
  const role = t.Resources.DeploymentRoleDev.Properties
  assert.equal(role.ManagedPolicyArns, undefined)
  const st = role.Policies[0].PolicyDocument.Statement
  assert.deepEqual(
    st.map((s: { Sid: string }) => s.Sid),
    ['Q'],
  )
  assert.deepEqual([st[0].Resource].flat(), [`arn:aws:sqs:eu-west-1:${DEV}:orders`])
  assert.ok(st[0].Action.includes('sqs:CreateQueue') && st[0].Action.includes('sqs:DeleteQueue'))
  assert.throws(
    () =>
      synthesize(
        examplePipeline({
          stages: [
            stage('dev', [{ account: DEV }], {
              deployPermissions: { managedPolicies: [], statements: [], fromTemplate: true },
            }),
          ],
        }),
      ),
    /deployPermissions.fromTemplate needs the application template/,
  )
})
