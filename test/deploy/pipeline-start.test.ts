// approvalsInTemplate: the Manual approval actions of a pipeline template, by stage; a template
// that cannot hold the category "Approval" is not parsed, and one that spells it with an escape is.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { approvalsInTemplate } from '../../src/deploy/pipeline-start.js'

const pipeline = (category: string) => `Resources:
  Pipeline:
    Type: AWS::CodePipeline::Pipeline
    Properties:
      Stages:
        - Name: Source
          Actions:
            - Name: Checkout
              ActionTypeId: {Category: Source, Owner: AWS, Provider: CodeCommit, Version: "1"}
        - Name: prod
          Actions:
            - Name: Approve
              ActionTypeId: {Category: ${category}, Owner: AWS, Provider: Manual, Version: "1"}
`

test('approval actions are found by stage, also when an escape spells the category; none in a pipeline without one', () => {
  assert.deepEqual(approvalsInTemplate(pipeline('Approval'), 'p.yaml'), [
    { stage: 'prod', action: 'Approve' },
  ])
  assert.deepEqual(approvalsInTemplate(pipeline('"\\x41pproval"'), 'p.yaml'), [
    { stage: 'prod', action: 'Approve' },
  ])
  const json = JSON.stringify({
    Resources: {
      P: {
        Type: 'AWS::CodePipeline::Pipeline',
        Properties: {
          Stages: [{ Name: 's', Actions: [{ Name: 'a', ActionTypeId: { Category: 'Approval' } }] }],
        },
      },
    },
  }).replace('Approval', '\\u0041pproval')
  assert.deepEqual(approvalsInTemplate(json, 'p.json'), [{ stage: 's', action: 'a' }])
  assert.deepEqual(approvalsInTemplate(pipeline('Build'), 'p.yaml'), [])
  // Not a template at all: nothing, not an error.
  assert.deepEqual(approvalsInTemplate('Approval: [', 'p.yaml'), [])
})
