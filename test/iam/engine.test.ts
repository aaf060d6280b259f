// Targeted assertions on the engine's building blocks and API contracts: wildcard and ARN
// matching, CIDR parsing, validation messages, the compile cache, context derivation, service rules.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  compilePolicy,
  describeContext,
  PolicyValidationError,
  PrincipalFormatError,
  serviceRuleFor,
  simulate,
  SimulateInputError,
  validatePolicy,
  CONDITION_OPERATORS,
} from '../../src/iam/index.js'
import { compileArnParts, compileGlob, globParts } from '../../src/iam/glob.js'
import { parseCidr, parseOperator } from '../../src/iam/conditions.js'
import { parseTemplate, resolveString } from '../../src/iam/variables.js'

test('glob: * spans anything, ? one character, case as asked', () => {
  assert.ok(compileGlob('a*c')('abbbc'))
  assert.ok(compileGlob('a*c')('ac'))
  assert.ok(!compileGlob('a?c')('ac'))
  assert.ok(compileGlob('a?c')('abc'))
  assert.ok(!compileGlob('ABC')('abc'))
  assert.ok(compileGlob('ABC', true)('abc'))
  assert.ok(compileGlob('a.c')('a.c') && !compileGlob('a.c')('abc'), 'regex metacharacters are literal')
  assert.ok(compileGlob('x(y)+')('x(y)+'))
})

test('ARN patterns: wildcards in the first five parts never span a colon', () => {
  const m = compileArnParts(globParts('arn:aws:logs:*:111111111111:log-group:*'))
  assert.ok(m('arn:aws:logs:eu-west-1:111111111111:log-group:/a:log-stream:b'))
  assert.ok(!m('arn:aws:logs:eu-west-1:extra:111111111111:log-group:x'))
  assert.ok(!compileArnParts(globParts('arn:aws:s3:*'))('arn:aws:s3:::bucket/key'))
})

test('CIDR: IPv4, IPv6, embedded IPv4, bad input', () => {
  assert.equal(parseCidr('10.0.0.0/8')?.bits, 8)
  assert.equal(parseCidr('2001:db8::/32')?.v6, true)
  assert.equal(parseCidr('::ffff:192.0.2.1')?.v6, true)
  assert.equal(parseCidr('10.0.0.0/33'), undefined)
  assert.equal(parseCidr('256.0.0.1'), undefined)
  assert.equal(parseCidr('1:2:3:4:5:6:7:8:9'), undefined)
  assert.equal(parseCidr('10.0.0.0/8/8'), undefined)
})

test('operators: every documented operator parses, with IfExists and set qualifiers', () => {
  for (const op of CONDITION_OPERATORS) {
    assert.notEqual(typeof parseOperator(op), 'string', op)
    if (op !== 'Null') {
      assert.notEqual(typeof parseOperator(`${op}IfExists`), 'string', op)
      assert.notEqual(typeof parseOperator(`ForAllValues:${op}`), 'string', op)
    }
  }
  assert.equal(typeof parseOperator('StringEqual'), 'string')
  assert.equal(typeof parseOperator('ForAnyValue:Null'), 'string')
})

test('variables: defaults, escapes, version 2008 is literal', () => {
  const ctx = { variable: (k: string) => (k === 'aws:username' ? 'alice' : undefined) }
  assert.equal(resolveString(parseTemplate('home/${aws:username}/x', true), ctx), 'home/alice/x')
  assert.equal(resolveString(parseTemplate("${aws:userid, 'nobody'}", true), ctx), 'nobody')
  assert.equal(resolveString(parseTemplate('${aws:userid}', true), ctx), undefined)
  assert.equal(resolveString(parseTemplate('a${*}b${?}c${$}', true), ctx), 'a*b?c$')
  assert.equal(resolveString(parseTemplate('${aws:username}', false), ctx), '${aws:username}')
})

test('PolicyValidationError names the statement, its Sid and the element', () => {
  const doc = {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' },
      { Sid: 'Bad', Effect: 'allow', Action: 'GetObject', Resource: 'bucket' },
    ],
  }
  try {
    compilePolicy(doc, { name: 'inline policy "Deploy" of role pipeline-role' })
    assert.fail('expected a PolicyValidationError')
  } catch (e) {
    assert.ok(e instanceof PolicyValidationError)
    assert.equal(e.code, 'IAM_INVALID_POLICY')
    assert.deepEqual(
      e.problems.map((p) => [p.statementIndex, p.sid, p.element]),
      [
        [1, 'Bad', 'Effect'],
        [1, 'Bad', 'Action'],
        [1, 'Bad', 'Resource'],
      ],
    )
    assert.match(
      e.message,
      /^inline policy "Deploy" of role pipeline-role: invalid policy: statement 1 \(Sid "Bad"\), Effect:/,
    )
  }
  assert.deepEqual(validatePolicy(doc, 'identity').length, 3)
  assert.deepEqual(validatePolicy({ Version: '2012-10-17', Statement: [] }, 'identity'), [])
})

test('simulate throws on a malformed policy rather than deciding', () => {
  assert.throws(
    () =>
      simulate({
        principal: 'arn:aws:iam::111111111111:user/alice',
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::b/k',
        resourceAccount: '111111111111',
        identityPolicies: [
          { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject' }] },
        ],
      }),
    PolicyValidationError,
  )
})

test('compilePolicy caches by document identity and kind', () => {
  const doc = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] }
  assert.equal(compilePolicy(doc), compilePolicy(doc))
  assert.notEqual(compilePolicy(doc), compilePolicy(doc, { kind: 'boundary' }))
  assert.equal(compilePolicy(doc, { name: 'x' }).name, 'x')
})

test('a compiled policy and its document decide alike, and names reach the reasons', () => {
  const bucket = {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'Tools',
        Effect: 'Allow',
        Principal: { AWS: 'arn:aws:iam::111111111111:root' },
        Action: 's3:GetObject',
        Resource: 'arn:aws:s3:::b/*',
      },
    ],
  }
  const base = {
    principal: 'arn:aws:sts::111111111111:assumed-role/r/s',
    action: 's3:GetObject',
    resource: 'arn:aws:s3:::b/k',
    resourceAccount: '222222222222',
    identityPolicies: [
      { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] },
    ],
  }
  const a = simulate({
    ...base,
    resourcePolicy: bucket,
    policyNames: { resource: 'bucket policy of b', identity: ['Deploy'] },
  })
  const b = simulate({
    ...base,
    resourcePolicy: compilePolicy(bucket, { kind: 'resource', name: 'bucket policy of b' }),
  })
  assert.equal(a.decision, 'Allowed')
  assert.equal(b.decision, 'Allowed')
  assert.ok(
    a.reasons.some((r) => r.includes('Statement 0 ("Tools") of bucket policy of b')),
    a.reasons.join('|'),
  )
  assert.ok(
    a.reasons.some((r) => r.includes('of Deploy allows')),
    a.reasons.join('|'),
  )
  assert.deepEqual(a.matched[0], {
    policyType: 'resource-based policy',
    policyName: 'bucket policy of b',
    effect: 'Allow',
    statementIndex: 0,
    sid: 'Tools',
  })
  assert.deepEqual(JSON.parse(JSON.stringify(a)).decision, 'Allowed')
})

test('describeContext derives the documented keys for a role session', () => {
  const ctx = describeContext({
    principal: 'arn:aws:sts::111111111111:assumed-role/pipeline-role/s1',
    action: 'kms:Decrypt',
    resource: 'arn:aws:kms:eu-west-1:222222222222:key/k',
    principalId: 'AROAEXAMPLE',
    now: new Date('2026-03-01T12:00:00.000Z'),
    context: { 'kms:EncryptionContext:Project': 'app', 'aws:SecureTransport': 'true' },
  })
  assert.equal(ctx['aws:principalarn'], 'arn:aws:iam::111111111111:role/pipeline-role')
  assert.equal(ctx['aws:principalaccount'], '111111111111')
  assert.equal(ctx['aws:principaltype'], 'AssumedRole')
  assert.equal(ctx['aws:userid'], 'AROAEXAMPLE:s1')
  assert.equal(ctx['aws:resourceaccount'], '222222222222')
  assert.equal(ctx['aws:currenttime'], '2026-03-01T12:00:00Z')
  assert.equal(ctx['aws:epochtime'], '1772366400')
  assert.equal(ctx['aws:requestedregion'], 'eu-west-1')
  assert.equal(ctx['kms:calleraccount'], '111111111111')
  assert.deepEqual(ctx['kms:encryptioncontextkeys'], ['Project'])
  assert.equal(ctx['aws:principalisawsservice'], 'false')
  assert.equal(ctx['aws:securetransport'], 'true')
  assert.equal(ctx['aws:username'], undefined)
})

test('service rules by action and resource', () => {
  assert.equal(serviceRuleFor('kms:Decrypt', 'arn:aws:kms:eu-west-1:1:key/k').id, 'kms-key-policy')
  assert.equal(serviceRuleFor('kms:ListAliases', '*').id, 'default')
  assert.equal(serviceRuleFor('sts:AssumeRole', 'arn:aws:iam::1:role/r').id, 'role-trust-policy')
  assert.equal(serviceRuleFor('STS:TagSession', 'arn:aws:iam::1:role/r').id, 'role-trust-policy')
  assert.equal(serviceRuleFor('iam:PassRole', 'arn:aws:iam::1:role/r').id, 'pass-role')
  assert.equal(serviceRuleFor('sts:GetCallerIdentity', '*').alwaysAllowed, true)
  assert.equal(serviceRuleFor('s3:GetObject', 'arn:aws:s3:::b/k').id, 'default')
  for (const id of ['kms:Decrypt', 'sts:AssumeRole', 'iam:PassRole'])
    assert.match(
      serviceRuleFor(id, id.startsWith('kms') ? 'arn:aws:kms:r:1:key/k' : 'arn:aws:iam::1:role/r').docs,
      /^https:\/\/docs\.aws\.amazon\.com\//,
    )
})

test('bad requests are typed errors, not decisions', () => {
  const base = {
    principal: 'arn:aws:iam::111111111111:user/a',
    action: 's3:GetObject',
    resource: 'arn:aws:s3:::b/k',
  }
  assert.throws(() => simulate(base), SimulateInputError, 'S3 ARN without resourceAccount')
  assert.throws(() => simulate({ ...base, resourceAccount: '1', action: 'GetObject' }), SimulateInputError)
  assert.throws(
    () => simulate({ ...base, resourceAccount: '1', principal: 'pipeline-role' }),
    PrincipalFormatError,
  )
  assert.throws(
    () => simulate({ ...base, resourceAccount: '1', principal: 'arn:aws:iam::1:role/x' }),
    PrincipalFormatError,
  )
})

test('reasons explain a cross-account KMS denial with the fix', () => {
  const r = simulate({
    principal: 'arn:aws:sts::111111111111:assumed-role/pipeline-role/s1',
    action: 'kms:Decrypt',
    resource: 'arn:aws:kms:eu-west-1:222222222222:key/k',
    identityPolicies: [
      { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: '*' }] },
    ],
    resourcePolicy: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::222222222222:root' },
          Action: 'kms:*',
          Resource: '*',
        },
      ],
    },
  })
  assert.equal(r.decision, 'ImplicitlyDenied')
  assert.equal(r.denialReason, 'because no resource-based policy allows the kms:Decrypt action')
  assert.ok(
    r.reasons.some((s) => s.includes('Enable IAM policies')),
    r.reasons.join('|'),
  )
})
