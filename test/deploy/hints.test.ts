/**
 * The hints `run` gives for a failed action (issue 12 item 8): each names what to change, and
 * does not send the user to `check` for what check cannot see (the application template's needs).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { hintFor } from '../../src/deploy/index.js'

test('a template that needs IAM capabilities: add them to the stage', () => {
  const h = hintFor('Requires capabilities : [CAPABILITY_NAMED_IAM]')
  assert.match(h ?? '', /add capabilities: \[CAPABILITY_NAMED_IAM\] to this stage in crosspipe\.yml/)
  assert.doesNotMatch(h ?? '', /run crosspipe check/)
})

test('a resource the deployment role may not create: deployPermissions, not check', () => {
  const h = hintFor(
    'VersionParameter CREATE_FAILED: User: arn:aws:sts::222222222222:assumed-role/my-app-dev-cfn-eu-west-1/AWSCloudFormation is not authorized to perform: ssm:PutParameter on resource: arn:aws:ssm:eu-west-1:222222222222:parameter/x',
  )
  assert.match(h ?? '', /the deployment role my-app-dev-cfn-eu-west-1 may not ssm:PutParameter/)
  assert.match(h ?? '', /deployPermissions/)
  assert.match(h ?? '', /check proves the pipeline's own calls, not what the application template creates/)
})

test("a call of the pipeline's own roles still points to check", () => {
  const h = hintFor(
    'User: arn:aws:sts::222222222222:assumed-role/my-app-cross-account-eu-west-1/x is not authorized to perform: cloudformation:CreateChangeSet',
  )
  assert.match(h ?? '', /run crosspipe check/)
})
