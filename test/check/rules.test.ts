// The rules that the file fixtures do not cover, each from a one-change variant of the good
// setup: it produces exactly its finding.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { checkSetup, renderCheck } from '../../src/check/index.js'
import type { CheckResult } from '../../src/check/index.js'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { RULE_DESCRIPTIONS } from '../../src/check/rule-docs.js'
import { goodSetup, props } from './helpers.js'
import { awsManagedPolicy, awsManagedPoliciesSource } from '../../src/iam/index.js'

function rulesOf(r: CheckResult): string[] {
  return [...new Set(r.findings.map((f) => f.rule))]
}
function expectOnly(r: CheckResult, rule: string): void {
  assert.deepEqual(rulesOf(r), [rule], renderCheck(r, { color: false }))
}
const approval = (i: number) => ({
  Name: `approve-${i}`,
  ActionTypeId: { Category: 'Approval', Owner: 'AWS', Provider: 'Manual', Version: '1' },
})

test('the good setup, loaded in memory, has no finding', () => {
  const r = checkSetup(goodSetup())
  assert.deepEqual(r.findings, [])
  assert.equal(r.ok, true)
})

test('stage-action-limit: 51 actions in one stage', () => {
  const s = goodSetup()
  const stages = props(s, 'ci-pipeline.yaml', 'Pipeline').Stages
  stages[3].Actions.push(...Array.from({ length: 48 }, (_, i) => approval(i)))
  assert.equal(stages[3].Actions.length, 51)
  const r = checkSetup(s)
  expectOnly(r, 'stage-action-limit')
  assert.equal(r.ok, false)
  assert.match(r.findings[0]!.message, /51 actions.*at most 50/)
})

test('50 actions in one stage are fine', () => {
  const s = goodSetup()
  props(s, 'ci-pipeline.yaml', 'Pipeline').Stages[3].Actions.push(
    ...Array.from({ length: 47 }, (_, i) => approval(i)),
  )
  assert.deepEqual(checkSetup(s).findings, [])
})

test('action-config-too-long: a 1,001-character configuration value', () => {
  const s = goodSetup()
  const cfg = props(s, 'ci-pipeline.yaml', 'Pipeline').Stages[2].Actions[0].Configuration
  cfg.ParameterOverrides = JSON.stringify({ Big: 'x'.repeat(1001 - 10) })
  assert.equal(cfg.ParameterOverrides.length, 1001)
  const r = checkSetup(s)
  expectOnly(r, 'action-config-too-long')
  assert.match(
    r.findings[0]!.message,
    /ParameterOverrides of action StagingDev\/create-changeset is 1001 characters/,
  )
  cfg.ParameterOverrides = JSON.stringify({ Big: 'x'.repeat(1000 - 10) })
  assert.deepEqual(checkSetup(s).findings, [])
})

test('policy-too-large: inline policies of a role over 10,240 characters', () => {
  const s = goodSetup()
  const doc = props(s, 'ci-pipeline.yaml', 'PipelineRole').Policies[0].PolicyDocument
  doc.Statement.push({
    Sid: 'Many',
    Effect: 'Allow',
    Action: 'codecommit:GetBranch',
    Resource: Array.from({ length: 200 }, (_, i) => ({
      'Fn::Sub': `arn:\${AWS::Partition}:codecommit:\${AWS::Region}:\${AWS::AccountId}:repository-number-${i}`,
    })),
  })
  const r = checkSetup(s)
  expectOnly(r, 'policy-too-large')
  assert.match(r.findings[0]!.message, /inline policies of role pipeline-role total \d+ characters.*10240/)
})

test('policy-too-large: a trust policy over 2,048 characters', () => {
  const s = goodSetup()
  const trust = props(s, 'target-roles.yaml', 'CrossAccountRole').AssumeRolePolicyDocument
  trust.Statement[0].Condition.ArnEquals['aws:PrincipalArn'] = [
    ...Array.from({ length: 60 }, (_, i) => `arn:aws:iam::111111111111:role/pipeline-role-${i}`),
    { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${ToolsAccountId}:role/${PipelineRoleName}' },
  ]
  const r = checkSetup(s)
  expectOnly(r, 'policy-too-large')
  assert.match(r.findings[0]!.message, /trust policy of role cross-account-role is \d+ characters.*2048/)
})

test('sensitive-action-any-resource: the action role reads any object', () => {
  const s = goodSetup()
  props(s, 'target-roles.yaml', 'CrossAccountPolicy').PolicyDocument.Statement[2].Resource = '*'
  const r = checkSetup(s)
  expectOnly(r, 'sensitive-action-any-resource')
  assert.equal(r.ok, true, 'a warning does not fail check')
  assert.equal(r.findings.length, 2, 'one per target account (the template is deployed twice)')
})

test('wildcard-cross-account: cloudformation:* for a role another account assumes (the reference)', () => {
  const s = goodSetup()
  props(s, 'target-roles.yaml', 'CrossAccountPolicy').PolicyDocument.Statement[0].Action = [
    'cloudformation:*',
  ]
  const r = checkSetup(s)
  expectOnly(r, 'wildcard-cross-account')
  assert.match(
    r.findings[0]!.message,
    /cloudformation:\* to role cross-account-role, which another account can assume/,
  )
})

test('managed-policy-unknown: a managed policy ARN that AWS does not publish is assumed to grant nothing', () => {
  const s = goodSetup()
  // The path is part of the ARN: AWSCodeDeployRole exists only under service-role/.
  props(s, 'target-roles.yaml', 'CloudFormationRole').ManagedPolicyArns = [
    'arn:aws:iam::aws:policy/AWSCodeDeployRole',
  ]
  const r = checkSetup(s)
  expectOnly(r, 'managed-policy-unknown')
  assert.match(r.findings[0]!.message, /not an AWS managed policy .*assumed to grant nothing/)
})

test('AWS managed policies come from the data set: any one AWS publishes is evaluated with its document', () => {
  const s = goodSetup()
  // AWSLambda_FullAccess grants no CloudFormation, S3 or KMS action the deployment needs beyond
  // what the role already has, so the setup stays clean; what matters is that it is not "unknown".
  props(s, 'target-roles.yaml', 'CloudFormationRole').ManagedPolicyArns = [
    'arn:aws:iam::aws:policy/AWSLambda_FullAccess',
    'arn:aws:iam::aws:policy/service-role/AWSCodeDeployRole',
  ]
  const r = checkSetup(s)
  assert.deepEqual(
    r.findings.filter((f) => f.rule === 'managed-policy-unknown'),
    [],
  )
  const doc = awsManagedPolicy('arn:aws:iam::aws:policy/ReadOnlyAccess')
  assert.ok(doc && doc.path === '/' && JSON.stringify(doc.document).includes('"s3:Get*"'))
  assert.equal(
    awsManagedPolicy('arn:aws-cn:iam::aws:policy/service-role/AWSCodeDeployRole')?.path,
    '/service-role/',
  )
  assert.equal(awsManagedPolicy('arn:aws:iam::aws:policy/NoSuchPolicyAtAll'), undefined)
  assert.ok(awsManagedPoliciesSource().policies > 1000)
})

test('key-unused-principal: the key lets a role use it that no action needs', () => {
  const s = goodSetup()
  const stmt = props(s, 'ci-base.yaml', 'ArtifactKey').KeyPolicy.Statement[1]
  stmt.Condition.ArnEquals['aws:PrincipalArn'].push({
    'Fn::Sub': 'arn:${AWS::Partition}:iam::${DevAccountId}:role/cloudformation-role',
  })
  const r = checkSetup(s)
  expectOnly(r, 'key-unused-principal')
  assert.match(
    r.findings[0]!.message,
    /222222222222:role\/cloudformation-role use the key, but no pipeline action needs it/,
  )
})

test('action-not-catalogued: an action type whose calls are unknown is a warning', () => {
  const s = goodSetup()
  props(s, 'ci-pipeline.yaml', 'Pipeline').Stages[1].Actions.push({
    Name: 'scan',
    ActionTypeId: { Category: 'Test', Owner: 'ThirdParty', Provider: 'Scanner', Version: '1' },
  })
  const r = checkSetup(s)
  expectOnly(r, 'action-not-catalogued')
})

test('call-denied: the fix names the policy and the statement to add, as YAML', () => {
  const s = goodSetup()
  // The action role may no longer read artifacts: an identity-side denial.
  props(s, 'target-roles.yaml', 'CrossAccountPolicy').PolicyDocument.Statement.splice(2, 1)
  const r = checkSetup(s)
  expectOnly(r, 'call-denied')
  const f = r.findings.find((x) => x.message.includes('s3:GetObject'))!
  assert.equal(f.stack, 'dev-roles')
  assert.equal(f.logicalId, 'CrossAccountPolicy')
  assert.match(
    f.fix!,
    /^# target-roles\.yaml: Resources\.CrossAccountPolicy\.Properties\.PolicyDocument\.Statement: add\n- Effect: Allow\n {2}Action: s3:GetObject\n {2}Resource: arn:aws:s3:::\{ci-base\.ArtifactBucket\.Name\}\/pipeline\/BuildArtifact\/\*\n$/,
  )
  assert.ok(f.location?.line)
  const text = renderCheck(r, { color: false })
  assert.match(text, /✗ cross-account-role@222222222222 s3:GetObject/)
  assert.match(
    text,
    /fix \(verified: applied to the model, the call is allowed and no allowed call becomes denied\):\n +# target-roles\.yaml/,
  )
})

test('call-denied: an explicit Deny is named', () => {
  const s = goodSetup()
  props(s, 'ci-base.yaml', 'ArtifactBucketPolicy').PolicyDocument.Statement.push({
    Sid: 'NoProd',
    Effect: 'Deny',
    Principal: { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${ProdAccountId}:root' } },
    Action: 's3:GetObject',
    Resource: { 'Fn::Sub': '${ArtifactBucket.Arn}/*' },
  })
  const r = checkSetup(s)
  expectOnly(r, 'call-denied')
  assert.equal(r.findings.length, 1)
  assert.match(r.findings[0]!.message, /explicitly denied by .*Sid NoProd/)
  assert.equal(r.calls.find((c) => c.decision === 'ExplicitlyDenied')?.operation, 's3:GetObject')
})

test('JSON output has exactly the fields of the issue', () => {
  const s = goodSetup()
  props(s, 'ci-base.yaml', 'ArtifactKey').EnableKeyRotation = false
  const r = JSON.parse(JSON.stringify(checkSetup(s)))
  assert.deepEqual(Object.keys(r).sort(), ['calls', 'findings', 'ok'])
  assert.deepEqual(
    Object.keys(r.calls[0]).sort(),
    ['action', 'decision', 'principal', 'operation', 'reasons', 'resource', 'stage'].sort(),
  )
  assert.deepEqual(Object.keys(r.findings[0]).sort(), [
    'fix',
    'fixVerified',
    'location',
    'logicalId',
    'message',
    'rule',
    'severity',
    'stack',
  ])
  assert.equal(r.findings[0].rule, 'key-rotation-off')
  assert.equal(r.findings[0].severity, 'warning')
  assert.equal(r.ok, true)
})

test('Fn::GetArtifactAtt in ParameterOverrides: the deployment role reads the artifact (Lambda code)', () => {
  const s = goodSetup()
  const cfg = props(s, 'ci-pipeline.yaml', 'Pipeline').Stages[2].Actions[0].Configuration
  cfg.ParameterOverrides =
    '{"CodeBucket": {"Fn::GetArtifactAtt": ["BuildArtifact", "BucketName"]}, "CodeKey": {"Fn::GetArtifactAtt": ["BuildArtifact", "ObjectKey"]}}'
  const r = checkSetup(s)
  const byDeployRole = r.calls.filter(
    (c) => c.stage === 'StagingDev' && c.principal.endsWith(':222222222222:role/cloudformation-role'),
  )
  assert.deepEqual(
    byDeployRole.map((c) => c.operation),
    ['s3:GetObject', 'kms:Decrypt'],
  )
  // PowerUserAccess allows both on its side; the bucket and key policies of the CI account do not name the role.
  assert.ok(byDeployRole.every((c) => c.decision === 'ImplicitlyDenied'))
  expectOnly(r, 'call-denied')
  assert.equal(r.findings.length, 2)
  assert.deepEqual(r.findings.map((f) => f.logicalId).sort(), ['ArtifactBucketPolicy', 'ArtifactKey'])
  assert.ok(
    r.findings.every((f) =>
      f.fix?.includes('aws:PrincipalArn: arn:aws:iam::222222222222:role/cloudformation-role'),
    ),
  )
})

test('SARIF: one rule per rule id, one result per finding, located in its template', async () => {
  const { toSarif } = await import('../../src/check/index.js')
  const s = goodSetup()
  props(s, 'ci-base.yaml', 'ArtifactKey').EnableKeyRotation = false
  props(s, 'target-roles.yaml', 'CrossAccountPolicy').PolicyDocument.Statement[0].Action = [
    'cloudformation:*',
  ]
  const r = checkSetup(s)
  const sarif = toSarif(r) as any
  assert.equal(sarif.version, '2.1.0')
  const run = sarif.runs[0]
  assert.deepEqual(
    run.tool.driver.rules.map((x: { id: string }) => x.id),
    ['key-rotation-off', 'wildcard-cross-account'],
  )
  assert.equal(run.results.length, r.findings.length)
  const rot = run.results.find((x: any) => x.ruleId === 'key-rotation-off')
  assert.equal(rot.level, 'warning')
  assert.equal(rot.locations[0].physicalLocation.artifactLocation.uri, 'ci-base.yaml')
  assert.equal(rot.locations[0].physicalLocation.region.startLine, 17)
  assert.equal(rot.locations[0].logicalLocations[0].fullyQualifiedName, 'ci-base/ArtifactKey')
  assert.equal(run.results.find((x: any) => x.ruleId === 'wildcard-cross-account').level, 'error')
})

test('render: colour only when asked, a summary line, ✓ and ✗', () => {
  const s = goodSetup()
  props(s, 'ci-base.yaml', 'ArtifactKey').EnableKeyRotation = false
  const r = checkSetup(s)
  const plain = renderCheck(r, { color: false })
  assert.ok(!plain.includes('\u001b['))
  assert.match(plain, /^Pipeline\n {2}service role\n {4}✓ codepipeline\.amazonaws\.com sts:AssumeRole/)
  assert.match(plain, /Stage Production\n {2}create-changeset\n/)
  assert.match(plain, /warning key-rotation-off ci-base\/ArtifactKey ci-base\.yaml:17:5/)
  assert.match(plain, /✓ 43 calls: 43 allowed, 0 denied; 0 errors, 1 warning\n$/)
  assert.ok(renderCheck(r, { color: true }).includes('\u001b[32m✓\u001b[0m'))
})

test('principal-not-yet-created: a role of the same stack named by a literal ARN, with nothing to order them', () => {
  const s = goodSetup()
  const resources = (s.templates.get('ci-base.yaml')!.body as any).Resources
  resources.Auditor = {
    Type: 'AWS::IAM::Role',
    Properties: {
      RoleName: 'auditor',
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'cloudformation.amazonaws.com' },
            Action: 'sts:AssumeRole',
          },
        ],
      },
    },
  }
  resources.ArtifactKey.Properties.KeyPolicy.Statement.push({
    Effect: 'Allow',
    Principal: { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/auditor' } },
    Action: 'kms:DescribeKey',
    Resource: '*',
  })
  const r = checkSetup(s)
  expectOnly(r, 'principal-not-yet-created')
  assert.match(
    r.findings[0]!.message,
    /the same stack creates it, but nothing makes ArtifactKey wait for Auditor/,
  )
  // DependsOn orders them; so would !GetAtt Auditor.Arn.
  resources.ArtifactKey.DependsOn = 'Auditor'
  assert.deepEqual(checkSetup(s).findings, [])
  delete resources.ArtifactKey.DependsOn
  resources.ArtifactKey.Properties.KeyPolicy.Statement.at(-1).Principal.AWS = {
    'Fn::GetAtt': ['Auditor', 'Arn'],
  }
  assert.deepEqual(checkSetup(s).findings, [])
})

test('every rule id of the registry is documented in RULES.md: a row of the table and a section with an example', () => {
  const doc = readFileSync(join(import.meta.dirname, '..', '..', 'src', 'check', 'RULES.md'), 'utf8')
  const ids = Object.keys(RULE_DESCRIPTIONS)
  assert.ok(ids.length >= 28, `${ids.length} rule ids`)
  for (const id of ids) {
    assert.ok(doc.includes(`| [\`${id}\`](#${id})`), `${id}: a row of the RULES.md table`)
    const at = doc.indexOf(`\n## ${id}\n`)
    assert.ok(at >= 0, `${id}: a section "## ${id}" in RULES.md`)
    const section = doc.slice(at + 1).split(/\n## /)[0]!
    // an example finding, except for the two rules whose example is a call of the catalogue
    if (!['managed-policy-unknown', 'action-not-catalogued'].includes(id))
      assert.match(section, new RegExp(`\`\`\`yaml\\nrule: ${id}\\n`), `${id}: an example`)
  }
})
