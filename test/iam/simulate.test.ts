// Targeted assertions on the engine's API: the decisions the sandbox and `crosspipe check` rely on first.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { simulate, accessDeniedMessage, compilePolicy, PolicyValidationError } from '../../src/iam/index.js'

const TOOLS = '111111111111'
const PROD = '222222222222'
const session = `arn:aws:sts::${TOOLS}:assumed-role/pipeline-role/s1`
const key = `arn:aws:kms:eu-west-1:${PROD}:key/1234abcd-12ab-34cd-56ef-1234567890ab`
const allowAll = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }
const enableIam = (acct: string) => ({
  Sid: 'EnableIAM',
  Effect: 'Allow',
  Principal: { AWS: `arn:aws:iam::${acct}:root` },
  Action: 'kms:*',
  Resource: '*',
})

test('cross-account KMS: key policy and identity policy must both allow', () => {
  const keyPolicy = { Version: '2012-10-17', Statement: [enableIam(PROD), enableIam(TOOLS)] }
  const ok = simulate({
    principal: session,
    action: 'kms:Decrypt',
    resource: key,
    identityPolicies: [allowAll],
    resourcePolicy: keyPolicy,
  })
  assert.equal(ok.decision, 'Allowed')
  const noKey = simulate({
    principal: session,
    action: 'kms:Decrypt',
    resource: key,
    identityPolicies: [allowAll],
    resourcePolicy: { Version: '2012-10-17', Statement: [enableIam(PROD)] },
  })
  assert.equal(noKey.decision, 'ImplicitlyDenied')
  assert.equal(noKey.denialReason, 'because no resource-based policy allows the kms:Decrypt action')
  assert.equal(
    accessDeniedMessage({ principal: session, action: 'kms:Decrypt', resource: key }, noKey),
    `User: ${session} is not authorized to perform: kms:Decrypt on resource: ${key} because no resource-based policy allows the kms:Decrypt action`,
  )
  const noId = simulate({
    principal: session,
    action: 'kms:Decrypt',
    resource: key,
    identityPolicies: [],
    resourcePolicy: keyPolicy,
  })
  assert.equal(noId.denialReason, 'because no identity-based policy allows the kms:Decrypt action')
})

test('same-account KMS: identity policies count only with the Enable IAM policies statement', () => {
  const own = `arn:aws:sts::${PROD}:assumed-role/app/s`
  const withRoot = simulate({
    principal: own,
    action: 'kms:Decrypt',
    resource: key,
    identityPolicies: [allowAll],
    resourcePolicy: { Version: '2012-10-17', Statement: [enableIam(PROD)] },
  })
  assert.equal(withRoot.decision, 'Allowed')
  const without = simulate({
    principal: own,
    action: 'kms:Decrypt',
    resource: key,
    identityPolicies: [allowAll],
    resourcePolicy: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${PROD}:role/admin` },
          Action: 'kms:*',
          Resource: '*',
        },
      ],
    },
  })
  assert.equal(without.decision, 'ImplicitlyDenied')
  assert.match(without.denialReason!, /no resource-based policy/)
})

test('explicit deny wins and is named', () => {
  const r = simulate({
    principal: session,
    action: 's3:GetObject',
    resource: 'arn:aws:s3:::artifacts/x',
    resourceAccount: TOOLS,
    identityPolicies: [allowAll],
    resourcePolicy: {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'DenyHttp',
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:*',
          Resource: 'arn:aws:s3:::artifacts/*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ],
    },
    context: { 'aws:SecureTransport': 'false' },
  })
  assert.equal(r.decision, 'ExplicitlyDenied')
  assert.equal(r.denialReason, 'with an explicit deny in a resource-based policy')
  assert.equal(r.matched[0]?.sid, 'DenyHttp')
})

test('compilePolicy rejects a Principal in an identity policy, naming statement and element', () => {
  assert.throws(
    () =>
      compilePolicy({
        Version: '2012-10-17',
        Statement: [{ Sid: 'X', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: '*' }],
      }),
    (e: unknown) =>
      e instanceof PolicyValidationError &&
      e.problems[0]?.element === 'Principal' &&
      e.problems[0]?.sid === 'X',
  )
})
