// Issue 10: `check` on templates nobody here wrote. Each test is a setup written for the test in
// the shape public samples have it (a flag in Fn::Equals, a role name for CodeBuild, a key by id
// or alias, an existing bucket, a two-pass deploy…), with the exact calls and findings expected.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { applyPatch, checkManifestFile, checkSetup, patchesOf, renderCheck } from '../../src/check/index.js'
import { CheckManifest } from '../../src/check/existing.js'
import { stackKeys } from '../../src/check/resolve.js'
import { parseTemplate } from '../../src/model/cfn-yaml.js'
import type { ParsedTemplate } from '../../src/model/cfn-yaml.js'
import type { CheckResult } from '../../src/check/index.js'
import { CrosspipeError } from '../../src/model/errors.js'
import { fixtures, goodSetup, props } from './helpers.js'

const rules = (r: CheckResult): string[] =>
  r.findings.map((f) => `${f.severity} ${f.rule} ${f.stack}/${f.logicalId}`)
const denied = (r: CheckResult): string[] =>
  r.calls.filter((c) => c.decision !== 'Allowed').map((c) => `${c.principal} ${c.operation} ${c.resource}`)
const body = (s: ReturnType<typeof goodSetup>, file: string): any => s.templates.get(file)!.body
const GOOD = checkSetup(goodSetup())
const callKeys = (r: CheckResult): string[] =>
  r.calls.map((c) => `${c.stage}|${c.action}|${c.principal}|${c.operation}|${c.resource}|${c.decision}`)

// ---- class 1: conditions compare as strings; no derived call is an error ----

function flaggedPipeline(value: string): ReturnType<typeof goodSetup> {
  const s = goodSetup()
  const b = body(s, 'ci-pipeline.yaml')
  b.Parameters.CreatePipeline = { Type: 'String', Default: 'false', AllowedValues: ['true', 'false'] }
  // `!Equals [!Ref CreatePipeline, true]`: a YAML boolean against the parameter's string.
  b.Conditions = { PipelineOn: { 'Fn::Equals': [{ Ref: 'CreatePipeline' }, true] } }
  b.Resources.Pipeline.Condition = 'PipelineOn'
  s.manifest.stacks[3]!.parameters.CreatePipeline = value
  return s
}

test('class 1: !Equals [!Ref Flag, true] holds for the parameter value "true"', () => {
  const r = checkSetup(flaggedPipeline('true'))
  assert.deepEqual(callKeys(r), callKeys(GOOD))
  assert.equal(r.calls.length, 43)
  assert.deepEqual(r.findings, [])
  assert.equal(r.ok, true)
})

test('class 1: a manifest whose pipeline a condition removes derives no call: an error, never a pass', () => {
  const r = checkSetup(flaggedPipeline('false'))
  assert.equal(r.calls.length, 0)
  assert.deepEqual(rules(r), ['error no-calls-derived ci-base/(manifest)'])
  assert.match(
    r.findings[0]!.message,
    /no stack of this manifest creates an AWS::CodePipeline::Pipeline \(manifest pipeline "pipeline"\)/,
  )
  assert.equal(r.ok, false)
  assert.match(renderCheck(r, { color: false }), /✗ 0 calls/)
})

test('class 1: numbers and lists compare as CloudFormation compares them', () => {
  const s = goodSetup()
  const b = body(s, 'ci-pipeline.yaml')
  b.Parameters.Replicas = { Type: 'Number', Default: 2 }
  b.Conditions = {
    Two: { 'Fn::Equals': [{ Ref: 'Replicas' }, 2] },
    NotTwo: { 'Fn::Not': [{ Condition: 'Two' }] },
  }
  b.Resources.Pipeline.Condition = 'Two'
  assert.equal(checkSetup(s).calls.length, 43)
  b.Resources.Pipeline.Condition = 'NotTwo'
  assert.deepEqual(rules(checkSetup(s)), ['error no-calls-derived ci-base/(manifest)'])
})

// ---- class 2: templates CloudFormation accepts are read ----

test('class 2: a CodeBuild ServiceRole given as the role name (!Ref BuildRole)', () => {
  const s = goodSetup()
  props(s, 'ci-pipeline.yaml', 'BuildProject').ServiceRole = { Ref: 'BuildRole' }
  const r = checkSetup(s)
  assert.deepEqual(callKeys(r), callKeys(GOOD))
  const assume = r.calls.find((c) => c.principal === 'codebuild.amazonaws.com')!
  assert.equal(assume.resource, 'arn:aws:iam::111111111111:role/{ci-pipeline.BuildRole.Name}')
  assert.deepEqual(r.findings, [])
})

test('class 2: Fn::GetAtt and Ref of types check has no case for take the specification attributes and shapes', () => {
  const s = goodSetup()
  const b = body(s, 'ci-pipeline.yaml')
  b.Resources.Images = { Type: 'AWS::ECR::Repository', Properties: {} }
  b.Resources.Vpc = { Type: 'AWS::EC2::VPC', Properties: { CidrBlock: '10.0.0.0/16' } }
  b.Resources.Queue = { Type: 'AWS::SQS::Queue', Properties: {} }
  b.Resources.Custom = {
    Type: 'Custom::Thing',
    Properties: { ServiceToken: { 'Fn::GetAtt': ['Queue', 'Arn'] } },
  }
  const build = b.Resources.BuildPolicy.Properties.PolicyDocument.Statement
  build.push({
    Sid: 'Images',
    Effect: 'Allow',
    Action: 'ecr:BatchGetImage',
    Resource: { 'Fn::GetAtt': ['Images', 'Arn'] },
  })
  build.push({
    Sid: 'Misc',
    Effect: 'Allow',
    Action: 'sqs:SendMessage',
    Resource: { 'Fn::GetAtt': 'Queue.Arn' },
    Condition: {
      StringEquals: {
        'aws:SourceVpc': { Ref: 'Vpc' },
        // CidrBlockAssociations is a list attribute: joined like one
        'aws:ResourceTag/cidrs': { 'Fn::Join': [',', { 'Fn::GetAtt': ['Vpc', 'CidrBlockAssociations'] }] },
        // a custom resource returns whatever its provider does
        'aws:ResourceTag/custom': { 'Fn::GetAtt': ['Custom', 'AnyOutput'] },
      },
    },
  })
  const r = checkSetup(s)
  assert.deepEqual(r.findings, [])
  assert.deepEqual(callKeys(r), callKeys(GOOD))
})

test('class 2: an attribute the type does not have is refused as CloudFormation refuses it, in its own file', () => {
  const s = goodSetup()
  const b = body(s, 'ci-pipeline.yaml')
  b.Resources.Images = { Type: 'AWS::ECR::Repository', Properties: {} }
  b.Resources.BuildPolicy.Properties.PolicyDocument.Statement[0].Resource = {
    'Fn::GetAtt': ['Images', 'Nope'],
  }
  assert.throws(
    () => checkSetup(s),
    (e: unknown) =>
      e instanceof CrosspipeError &&
      /^ci-pipeline\.yaml: AWS::ECR::Repository has no attribute Nope, so CloudFormation rejects Fn::GetAtt Images\.Nope \(its attributes: .*Arn/.test(
        e.message,
      ),
  )
})

test('class 2: a malformed managed policy of one stack attached in another is reported in the template that declares it', () => {
  const s = goodSetup()
  body(s, 'ci-base.yaml').Resources.SharedBuildPolicy = {
    Type: 'AWS::IAM::ManagedPolicy',
    Properties: {
      ManagedPolicyName: 'shared-build',
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Permit', Action: 's3:GetObject', Resource: '*' }],
      },
    },
  }
  props(s, 'ci-pipeline.yaml', 'BuildRole').ManagedPolicyArns = [
    'arn:aws:iam::111111111111:policy/shared-build',
  ]
  assert.throws(
    () => checkSetup(s),
    (e: unknown) =>
      e instanceof CrosspipeError &&
      e.problems[0]?.location?.file === 'ci-base.yaml' &&
      /Effect/.test(e.message),
  )
})

test('class 2: duplicate mapping keys are read as CloudFormation reads them (the last wins), each a warning with both places', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'crosspipe-dup-'))
  try {
    cpSync(join(fixtures, 'good'), dir, { recursive: true })
    const file = join(dir, 'ci-base.yaml')
    const text = readFileSync(file, 'utf8')
      .replace(
        'Description: Pipeline artifact key and bucket (CI account)\n',
        'Description: first\nDescription: Pipeline artifact key and bucket (CI account)\n',
      )
      .replace(
        '      EnableKeyRotation: true\n',
        '      EnableKeyRotation: false\n      EnableKeyRotation: true\n',
      )
    writeFileSync(file, text)
    const r = await checkManifestFile(join(dir, 'manifest.json'))
    const lines = text.split('\n')
    const at = (s: string, from = 0) => lines.findIndex((l, i) => i >= from && l.includes(s)) + 1
    const d1 = at('Description: first')
    const k1 = at('EnableKeyRotation: false')
    const shown = file.startsWith(process.cwd()) ? file.slice(process.cwd().length + 1) : file
    assert.deepEqual(
      r.findings.map((f) => [f.rule, f.severity, f.stack, f.logicalId, f.location?.line, f.message]),
      [
        [
          'duplicate-key',
          'warning',
          'ci-base',
          'Description',
          d1 + 1,
          `duplicate key "Description" at ${shown}:${d1 + 1}:1 (first at ${shown}:${d1}:1); CloudFormation reads the last one, so the value at line ${d1} is ignored. Remove one.`,
        ],
        [
          'duplicate-key',
          'warning',
          'ci-base',
          'ArtifactKey',
          k1 + 1,
          `duplicate key "EnableKeyRotation" at ${shown}:${k1 + 1}:7 (first at ${shown}:${k1}:7); CloudFormation reads the last one, so the value at line ${k1} is ignored. Remove one.`,
        ],
      ],
    )
    // the last value is the one read: rotation is on, so no key-rotation-off
    assert.equal(r.ok, true)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

// ---- class 3: keys ----

test("class 3: a store naming its key by id: readers in other accounts are evaluated against the writer's key", () => {
  const s = goodSetup()
  props(s, 'ci-pipeline.yaml', 'Pipeline').ArtifactStore.EncryptionKey.Id = {
    'Fn::Select': [1, { 'Fn::Split': ['/', { Ref: 'ArtifactKeyArn' }] }],
  }
  const r = checkSetup(s)
  assert.deepEqual(denied(r), [])
  const decrypts = r.calls
    .filter((c) => c.operation === 'kms:Decrypt')
    .map((c) => `${c.principal} ${c.resource}`)
  assert.deepEqual(
    [...new Set(decrypts)],
    [
      'arn:aws:iam::111111111111:role/{ci-pipeline.BuildRole.Name} arn:aws:kms:eu-west-1:111111111111:key/{ci-base.ArtifactKey.KeyId}',
      'arn:aws:iam::222222222222:role/cross-account-role arn:aws:kms:eu-west-1:111111111111:key/{ci-base.ArtifactKey.KeyId}',
      'arn:aws:iam::333333333333:role/cross-account-role arn:aws:kms:eu-west-1:111111111111:key/{ci-base.ArtifactKey.KeyId}',
    ],
  )
  assert.deepEqual(rules(r), ['warning artifact-key-not-arn ci-pipeline/Pipeline'])
})

test('class 3: an alias resolves to its key: calls are on the key ARN, never the alias ARN', () => {
  const s = goodSetup()
  props(s, 'ci-pipeline.yaml', 'Pipeline').ArtifactStore.EncryptionKey.Id =
    'arn:aws:kms:eu-west-1:111111111111:alias/codepipeline-crossaccounts'
  props(s, 'ci-pipeline.yaml', 'BuildProject').EncryptionKey = 'alias/codepipeline-crossaccounts'
  const r = checkSetup(s)
  assert.deepEqual(denied(r), [])
  const keys = new Set(r.calls.filter((c) => c.operation.startsWith('kms:')).map((c) => c.resource))
  assert.deepEqual([...keys], ['arn:aws:kms:eu-west-1:111111111111:key/{ci-base.ArtifactKey.KeyId}'])
  assert.deepEqual(rules(r), ['warning artifact-key-not-arn ci-pipeline/Pipeline'])
})

test("class 3: a CodeBuild project encrypts with its own EncryptionKey (an alias of another key), not the store's", () => {
  const s = goodSetup()
  const base = body(s, 'ci-base.yaml')
  base.Resources.BuildKey = structuredClone(base.Resources.ArtifactKey)
  base.Resources.BuildKeyAlias = {
    Type: 'AWS::KMS::Alias',
    Properties: { AliasName: 'alias/build', TargetKeyId: { Ref: 'BuildKey' } },
  }
  props(s, 'ci-pipeline.yaml', 'BuildProject').EncryptionKey = 'alias/build'
  const r = checkSetup(s)
  const write = r.calls.find((c) => c.action === 'Build' && c.operation === 'kms:GenerateDataKey')!
  assert.equal(write.resource, 'arn:aws:kms:eu-west-1:111111111111:key/{ci-base.BuildKey.KeyId}')
  assert.deepEqual(rules(r), ['error codebuild-key-mismatch ci-pipeline/BuildProject'])
})

// ---- class 4: existing resources and multi-pass deploys ----

function existingBucketSetup(): Parameters<typeof checkSetup>[0] & { existing: any } {
  const s = goodSetup()
  const base = body(s, 'ci-base.yaml')
  const policy = structuredClone(base.Resources.ArtifactBucketPolicy.Properties.PolicyDocument)
  delete base.Resources.ArtifactBucket
  delete base.Resources.ArtifactBucketPolicy
  delete base.Outputs.ArtifactBucketName
  for (const st of s.manifest.stacks)
    if ('ArtifactBucketName' in st.parameters) st.parameters.ArtifactBucketName = 'artifacts-made-by-hand'
  // the policy as applied by hand: the same statements with the names written out
  const text = JSON.stringify(policy)
  const resolved = JSON.parse(
    text
      .replaceAll('{"Fn::GetAtt":["ArtifactBucket","Arn"]}', '"arn:aws:s3:::artifacts-made-by-hand"')
      .replaceAll('{"Fn::Sub":"${ArtifactBucket.Arn}/*"}', '"arn:aws:s3:::artifacts-made-by-hand/*"')
      .replace(/\{"Fn::Join":\[.*?\]\]\}/, '"arn:aws:s3:::artifacts-made-by-hand/*"')
      .replaceAll('${AWS::Partition}', 'aws')
      .replaceAll('${DevAccountId}', '222222222222')
      .replaceAll('${ProdAccountId}', '333333333333')
      .replaceAll('${CrossAccountRoleName}', 'cross-account-role')
      .replace(/\{"Fn::Sub":("[^"]*")\}/g, '$1'),
  )
  return {
    ...s,
    existing: {
      roles: [],
      keys: [],
      buckets: [
        {
          name: 'artifacts-made-by-hand',
          account: '111111111111',
          region: 'eu-west-1',
          policy: resolved,
          encryption: { algorithm: 'aws:kms', key: 'arn:aws:kms:eu-west-1:111111111111:key/x' },
        },
      ],
    },
  }
}

test('class 4: an artifact bucket made by hand, declared under existing with its policy: reads are allowed', () => {
  const input = existingBucketSetup()
  const r = checkSetup(input)
  assert.deepEqual(denied(r), [])
  assert.equal(r.calls.length, 43)
  assert.deepEqual(rules(r), [])
  // without the declaration the bucket has no policy, so the target accounts' reads are denied
  const without = checkSetup({ ...input, existing: undefined })
  assert.deepEqual(
    [...new Set(denied(without))],
    [
      'arn:aws:iam::222222222222:role/cross-account-role s3:GetObject arn:aws:s3:::artifacts-made-by-hand/pipeline/BuildArtifact/{object}',
      'arn:aws:iam::333333333333:role/cross-account-role s3:GetObject arn:aws:s3:::artifacts-made-by-hand/pipeline/BuildArtifact/{object}',
    ],
  )
})

test('class 4: an existing bucket in a manifest file is read, its findings located in the manifest, bad entries refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'crosspipe-existing-'))
  try {
    cpSync(join(fixtures, 'good'), dir, { recursive: true })
    const input = existingBucketSetup()
    writeFileSync(
      join(dir, 'ci-base.yaml'),
      JSON.stringify(input.templates.get('ci-base.yaml')!.body, null, 2),
    )
    const m = JSON.parse(JSON.stringify(input.manifest))
    // the existing bucket's policy lacks the deny of plain HTTP: a finding located in the manifest
    input.existing.buckets[0].policy.Statement.shift()
    m.existing = input.existing
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m, null, 2))
    const r = await checkManifestFile(join(dir, 'manifest.json'))
    assert.deepEqual(rules(r), ['warning bucket-insecure-transport (existing)/artifacts-made-by-hand'])
    assert.equal(r.findings[0]!.location?.file, join(dir, 'manifest.json'))
    assert.ok((r.findings[0]!.location?.line ?? 0) > 1)
    m.existing.buckets[0].account = '1234'
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m, null, 2))
    await assert.rejects(
      checkManifestFile(join(dir, 'manifest.json')),
      (e: unknown) =>
        e instanceof CrosspipeError &&
        e.code === 'invalid-manifest' &&
        /12 digits/.test(e.problems[0]!.message),
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

/** The documented two-pass shape: the CI stack first without the target roles, then again with them. */
function twoPass(secondPhase: number): Parameters<typeof checkSetup>[0] {
  const s = goodSetup()
  const base = body(s, 'ci-base.yaml')
  base.Parameters.TargetRolesExist = { Type: 'String', Default: 'false' }
  base.Conditions = { RolesExist: { 'Fn::Equals': [{ Ref: 'TargetRolesExist' }, true] } }
  const key = base.Resources.ArtifactKey.Properties.KeyPolicy.Statement[1]
  // the second pass names the roles themselves, as the samples do
  key.Principal = {
    AWS: {
      'Fn::If': [
        'RolesExist',
        [
          { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${DevAccountId}:role/${CrossAccountRoleName}' },
          { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${ProdAccountId}:role/${CrossAccountRoleName}' },
        ],
        [{ 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root' }],
      ],
    },
  }
  delete key.Condition
  const first = s.manifest.stacks[0]!
  s.manifest.stacks.push({
    ...first,
    phase: secondPhase,
    parameters: { ...first.parameters, TargetRolesExist: 'true' },
  })
  return s
}

test('class 4: a stack deployed twice (a two-pass deploy): the second pass names roles the earlier phases created', () => {
  const r = checkSetup(twoPass(4))
  assert.deepEqual(denied(r), [])
  assert.deepEqual(rules(r), [])
  assert.equal(r.calls.length, 43)
})

test('class 4: the second pass in the phase that creates the roles is judged against that order', () => {
  const r = checkSetup(twoPass(2))
  assert.deepEqual(rules(r), [
    'error principal-not-yet-created ci-base/ArtifactKey',
    'error principal-not-yet-created ci-base/ArtifactKey',
  ])
  assert.match(
    r.findings[0]!.message,
    /phase 2\) names arn:aws:iam::222222222222:role\/cross-account-role as a principal, but stack dev-roles creates it in phase 2 \(in parallel\)/,
  )
  const s = twoPass(4)
  s.manifest.stacks.push({ ...s.manifest.stacks[0]!, phase: 4 })
  assert.throws(() => checkSetup(s), /two stacks are named "ci-base" in phase 4/)
})

// ---- class 5: every printed fix is proven by the engine; the tests apply each one and check again ----

/** A manifest file and its templates as checkSetup input. */
function loadSetup(manifestPath: string): Parameters<typeof checkSetup>[0] {
  const dir = dirname(manifestPath)
  const manifest = CheckManifest.parse(JSON.parse(readFileSync(manifestPath, 'utf8')))
  const templates = new Map<string, ParsedTemplate>()
  for (const s of manifest.stacks)
    templates.set(
      s.template,
      parseTemplate(readFileSync(join(dir, s.template), 'utf8'), s.template, { duplicateKeys: 'warn' }),
    )
  return { manifest, templates, existing: manifest.existing }
}

const callId = (c: CheckResult['calls'][number]): string =>
  `${c.stage}|${c.action}|${c.principal}|${c.operation}|${c.resource}`

/** Applies every printed fix of a result to its setup, checks again, and asserts what the fix promised. */
function applyEveryFix(input: Parameters<typeof checkSetup>[0], r: CheckResult): number {
  const allowed = new Set(r.calls.filter((c) => c.decision === 'Allowed').map(callId))
  let n = 0
  for (const f of r.findings) {
    if (f.fix === null) continue
    assert.equal(f.fixVerified, true, `${f.rule}: a printed fix is a verified fix`)
    const [patch] = patchesOf(f)
    assert.ok(patch, `${f.rule}: the verified fix comes with its edits`)
    const keys = stackKeys(input.manifest.stacks)
    const templateOf = (stack: string) =>
      input.manifest.stacks.filter((_, i) => keys[i] === stack).map((s) => s.template)
    const fixed = applyPatch(patch, input.templates, templateOf, input.existing)
    const again = checkSetup({ ...input, templates: fixed.templates, existing: fixed.existing })
    const key = `${f.rule}|${f.stack}|${f.logicalId}`
    const count = (x: CheckResult) =>
      x.findings.filter((g) => `${g.rule}|${g.stack}|${g.logicalId}` === key).length
    if (f.rule === 'call-denied') {
      const before = r.calls.filter((c) => c.decision !== 'Allowed').length
      assert.ok(
        again.calls.filter((c) => c.decision !== 'Allowed').length < before,
        `${f.message}: fewer denied calls`,
      )
    } else assert.ok(count(again) < count(r), `${f.rule} ${f.stack}/${f.logicalId}: the finding is gone`)
    for (const c of again.calls)
      if (allowed.has(callId(c))) assert.equal(c.decision, 'Allowed', `${f.rule} fix denies ${callId(c)}`)
    n++
  }
  return n
}

test('class 5: every fix printed for every fixture of test/check is verified, applied and checked again', () => {
  let fixes = 0
  const dirs = readdirSync(fixtures, { withFileTypes: true }).filter((d) => d.isDirectory())
  for (const d of dirs) {
    const input = loadSetup(join(fixtures, d.name, 'manifest.json'))
    const r = checkSetup(input)
    for (const f of r.findings) if (f.fix === null) assert.doesNotMatch(f.message, /^$/)
    fixes += applyEveryFix(input, r)
  }
  assert.ok(fixes >= 20, `${fixes} fixes applied`)
})

test('class 5: a bucket policy narrowed from s3:* keeps the PutObject the pipeline role gets from it', () => {
  const input = loadSetup(join(fixtures, 'reference', 'manifest.json'))
  const r = checkSetup(input)
  const f = r.findings.find((x) => x.rule === 'wildcard-cross-account' && x.stack === 'ci')!
  assert.equal(f.fix, 'Action:\n  - s3:GetObject\n  - s3:PutObject\n')
  assert.equal(f.fixVerified, true)
  applyEveryFix(input, r)
})

test('class 5: passrole-cross-account when the action role is the wrong one: the fix changes the action RoleArn', () => {
  const s = goodSetup()
  const action = props(s, 'ci-pipeline.yaml', 'Pipeline').Stages[2].Actions[0]
  // the dev action runs as the prod action role, with the dev deployment role
  action.RoleArn = { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${ProdAccountId}:role/cross-account-role' }
  const r = checkSetup(s)
  const f = r.findings.find((x) => x.rule === 'passrole-cross-account')!
  assert.equal(f.fix, 'RoleArn: arn:aws:iam::222222222222:role/cross-account-role\n')
  assert.equal(f.fixVerified, true)
  applyEveryFix(s, r)
})

test('class 5: a trust fix replaces the statement that names the wrong principal instead of adding beside it', () => {
  const input = loadSetup(join(fixtures, 'call-denied-trust', 'manifest.json'))
  const r = checkSetup(input)
  const f = r.findings.find((x) => x.rule === 'call-denied')!
  assert.match(f.fix!, /AssumeRolePolicyDocument\.Statement\.0: replace with/)
  assert.match(
    renderCheck(r, { color: false }),
    /fix \(verified: applied to the model, the call is allowed and no allowed call becomes denied\):/,
  )
  applyEveryFix(input, r)
})

test('class 5: a fix the engine cannot prove is not printed, and the output says so', () => {
  const s = goodSetup()
  // the bucket policy grants s3:* to the target accounts, but no pipeline call uses the bucket
  // through that statement once the targets read nothing: nothing to narrow to
  const stages = props(s, 'ci-pipeline.yaml', 'Pipeline').Stages
  stages.splice(2)
  const st = props(s, 'ci-base.yaml', 'ArtifactBucketPolicy').PolicyDocument.Statement[2]
  st.Action = 's3:*'
  const r = checkSetup(s)
  const f = r.findings.find((x) => x.rule === 'wildcard-cross-account')!
  assert.equal(f.fix, null)
})

// ---- class 6: privilege escalation, admin-equivalent roles, reads of every repository, unknown actions ----

test('class 6: a deployment role that may create roles and put their policies on any role is privilege escalation', () => {
  const s = goodSetup()
  const role = props(s, 'target-roles.yaml', 'CloudFormationRole')
  role.ManagedPolicyArns = []
  role.Policies = [
    {
      PolicyName: 'deploy',
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: ['s3:*', 'lambda:*'], Resource: '*' },
          { Effect: 'Allow', Action: ['iam:CreateRole', 'iam:PutRolePolicy'], Resource: '*' },
        ],
      },
    },
  ]
  const r = checkSetup(s)
  assert.deepEqual(rules(r), [
    'error deploy-role-escalation dev-roles/CloudFormationRole',
    'error deploy-role-escalation prod-roles/CloudFormationRole',
  ])
  assert.match(
    r.findings[0]!.message,
    /may iam:CreateRole, iam:PutRolePolicy on any role of account 222222222222/,
  )
  // limited to the application's roles by a path, it is not
  role.Policies[0].PolicyDocument.Statement[1].Resource = {
    'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/app/*',
  }
  assert.deepEqual(rules(checkSetup(s)), [])
})

test('class 6: a deployment role with AdministratorAccess is admin-equivalent (PowerUserAccess is not)', () => {
  const s = goodSetup()
  props(s, 'target-roles.yaml', 'CloudFormationRole').ManagedPolicyArns = [
    'arn:aws:iam::aws:policy/AdministratorAccess',
  ]
  assert.deepEqual(rules(checkSetup(s)), [
    'error admin-equivalent-role dev-roles/CloudFormationRole',
    'error admin-equivalent-role prod-roles/CloudFormationRole',
  ])
})

test('class 6: an action role another account assumes that may read every repository', () => {
  const s = goodSetup()
  props(s, 'target-roles.yaml', 'CrossAccountPolicy').PolicyDocument.Statement.push({
    Effect: 'Allow',
    Action: ['codecommit:GitPull', 'codecommit:GetBranch'],
    Resource: '*',
  })
  assert.deepEqual(rules(checkSetup(s)), [
    'warning repository-read-any dev-roles/CrossAccountRole',
    'warning repository-read-any prod-roles/CrossAccountRole',
  ])
})

test('class 6: an action name the service does not have (kms:ReEncrypt) grants nothing: unknown-action', () => {
  const s = goodSetup()
  props(s, 'target-roles.yaml', 'CrossAccountPolicy').PolicyDocument.Statement[3].Action.push(
    'kms:ReEncrypt',
    'kms:ReEncrypt*',
  )
  const r = checkSetup(s)
  assert.deepEqual(rules(r), [
    'warning unknown-action dev-roles/CrossAccountPolicy',
    'warning unknown-action prod-roles/CrossAccountPolicy',
  ])
  assert.match(r.findings[0]!.message, /names kms:ReEncrypt, which is not an action of its service/)
})

// ---- shapes found in public samples (README, "check on public samples") ----

test('samples: Fn::GetAtt of an AWS::Serverless::Function (Transform AWS::Serverless-2016-10-31) is read', () => {
  const s = goodSetup()
  const b = body(s, 'ci-pipeline.yaml')
  b.Transform = 'AWS::Serverless-2016-10-31'
  b.Resources.Notify = {
    Type: 'AWS::Serverless::Function',
    Properties: {
      Runtime: 'nodejs20.x',
      Handler: 'index.handler',
      InlineCode: 'exports.handler = async () => {}',
    },
  }
  props(s, 'ci-pipeline.yaml', 'BuildPolicy').PolicyDocument.Statement.push({
    Effect: 'Allow',
    Action: 'lambda:InvokeFunction',
    Resource: { 'Fn::GetAtt': ['Notify', 'Arn'] },
  })
  const r = checkSetup(s)
  assert.deepEqual(callKeys(r), callKeys(GOOD))
  assert.deepEqual(rules(r), [])
  // An attribute the generated function does not have is still CloudFormation's error.
  props(s, 'ci-pipeline.yaml', 'BuildPolicy').PolicyDocument.Statement.at(-1).Resource = {
    'Fn::GetAtt': ['Notify', 'Nope'],
  }
  assert.throws(() => checkSetup(s), /AWS::Serverless::Function has no attribute Nope/)
})

test('samples: an error inside a short-form !Join is located at the value, not at an outer list item', () => {
  const text = [
    'Parameters:',
    '  Ids: { Type: String }',
    'Resources:',
    '  Topic:',
    '    Type: AWS::SNS::Topic',
    '    Properties:',
    '      TopicName: !Join',
    "        - ','",
    '        - - !Ref AWS::AccountId',
    "          - !Join [ ',', !Ref Ids ]",
    '',
  ].join('\n')
  const t = parseTemplate(text, 't.yaml')
  const path = ['Resources', 'Topic', 'Properties', 'TopicName', 'Fn::Join', 1, 1, 'Fn::Join', 1]
  assert.deepEqual(t.locate(path), { line: 10, column: 31 })
  assert.deepEqual(t.locate(['Resources', 'Topic', 'Type']), { line: 5, column: 11 })
})

test('samples: an action type crosspipe does not catalogue still reads and writes artifacts', () => {
  const s = goodSetup()
  const pipeline = props(s, 'ci-pipeline.yaml', 'Pipeline')
  // A GitHub (version 1) source: CodePipeline writes its output with the pipeline role.
  pipeline.Stages[0].Actions[0].ActionTypeId = {
    Category: 'Source',
    Owner: 'ThirdParty',
    Provider: 'GitHub',
    Version: '1',
  }
  pipeline.Stages[0].Actions[0].Configuration = { Owner: 'o', Repo: 'r', Branch: 'main', OAuthToken: 'x' }
  // An Elastic Beanstalk deploy in the dev account reads the build output as its action role.
  pipeline.Stages[2].Actions.push({
    Name: 'beanstalk',
    ActionTypeId: { Category: 'Deploy', Owner: 'AWS', Provider: 'ElasticBeanstalk', Version: '1' },
    InputArtifacts: [{ Name: 'BuildArtifact' }],
    Configuration: { ApplicationName: 'app', EnvironmentName: 'env' },
    RoleArn: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${DevAccountId}:role/cross-account-role' },
    RunOrder: 3,
  })
  const r = checkSetup(s)
  const of = (action: string) =>
    r.calls.filter((c) => c.action === action).map((c) => `${c.principal} ${c.operation} ${c.decision}`)
  assert.deepEqual(of('Source'), [
    'arn:aws:iam::111111111111:role/pipeline-role s3:PutObject Allowed',
    'arn:aws:iam::111111111111:role/pipeline-role kms:GenerateDataKey Allowed',
  ])
  assert.deepEqual(of('beanstalk'), [
    'arn:aws:iam::111111111111:role/pipeline-role sts:AssumeRole Allowed',
    'arn:aws:iam::222222222222:role/cross-account-role s3:GetObject Allowed',
    'arn:aws:iam::222222222222:role/cross-account-role kms:Decrypt Allowed',
  ])
  // The pipeline role's grant on the key is used: no key-unused-principal false alarm.
  assert.deepEqual(rules(r), [
    'warning action-not-catalogued ci-pipeline/Pipeline',
    'warning action-not-catalogued ci-pipeline/Pipeline',
  ])
})

test('samples: passrole-cross-account with a stray action RoleArn: the fix is the action role the pipeline uses there', () => {
  const s = goodSetup()
  const action = props(s, 'ci-pipeline.yaml', 'Pipeline').Stages[2].Actions[1]
  // the execute action of dev names a role of an account that is not part of the setup
  action.RoleArn = 'arn:aws:iam::999999999999:role/CP-Access'
  action.Configuration.RoleArn = {
    'Fn::Sub': 'arn:${AWS::Partition}:iam::${DevAccountId}:role/cloudformation-role',
  }
  const r = checkSetup(s)
  const f = r.findings.find((x) => x.rule === 'passrole-cross-account')!
  assert.equal(f.fix, 'RoleArn: arn:aws:iam::222222222222:role/cross-account-role\n')
  assert.equal(f.fixVerified, true)
  applyEveryFix(s, r)
})

test('samples: a fix in a template deployed to several accounts names the account as ${AWS::AccountId}', () => {
  const s = goodSetup()
  // target-roles.yaml is deployed by dev-roles (222222222222) and prod-roles (333333333333)
  const pass = props(s, 'target-roles.yaml', 'CrossAccountPolicy').PolicyDocument.Statement.find(
    (x: any) => x.Sid === 'PassDeploymentRole',
  )
  pass.Resource = '*'
  delete pass.Condition
  const r = checkSetup(s)
  const fixes = r.findings.filter((f) => f.rule === 'passrole-unrestricted')
  assert.deepEqual(
    fixes.map((f) => `${f.stack} ${f.fixVerified}`),
    ['dev-roles true', 'prod-roles true'],
  )
  for (const f of fixes)
    assert.equal(
      f.fix,
      [
        'Effect: Allow',
        'Action: iam:PassRole',
        'Resource:',
        '  Fn::Sub: arn:aws:iam::${AWS::AccountId}:role/cloudformation-role',
        'Condition:',
        '  StringEquals:',
        '    iam:PassedToService: cloudformation.amazonaws.com',
        '',
      ].join('\n'),
    )
  assert.equal(applyEveryFix(s, r), 2)
  // A template of one stack keeps its literal ARN.
  const single = goodSetup()
  single.manifest.stacks = single.manifest.stacks.filter((x) => x.name !== 'prod-roles')
  const ci = body(single, 'ci-pipeline.yaml')
  ci.Resources.Pipeline.Properties.Stages = ci.Resources.Pipeline.Properties.Stages.filter(
    (st: any) => !JSON.stringify(st).includes('ProdAccountId'),
  )
  const p2 = props(single, 'target-roles.yaml', 'CrossAccountPolicy').PolicyDocument.Statement.find(
    (x: any) => x.Sid === 'PassDeploymentRole',
  )
  p2.Resource = '*'
  delete p2.Condition
  const one = checkSetup(single).findings.find((f) => f.rule === 'passrole-unrestricted')!
  assert.match(one.fix!, /Resource: arn:aws:iam::222222222222:role\/cloudformation-role/)
})

test('samples: one stack name in two accounts (the same target template for test and prod) is read as two stacks', () => {
  const s = goodSetup()
  s.manifest.stacks.find((x) => x.name === 'prod-roles')!.name = 'dev-roles'
  const r = checkSetup(s)
  assert.deepEqual(callKeys(r), callKeys(GOOD))
  assert.deepEqual(r.findings, [])
  // findings and fixes name each by account and region; fixes are proven and applied to its template
  const pass = props(s, 'target-roles.yaml', 'CrossAccountPolicy').PolicyDocument.Statement.find(
    (x: any) => x.Sid === 'PassDeploymentRole',
  )
  pass.Resource = '*'
  delete pass.Condition
  const bad = checkSetup(s)
  assert.deepEqual(rules(bad), [
    'error passrole-unrestricted dev-roles (222222222222 eu-west-1)/CrossAccountPolicy',
    'error passrole-unrestricted dev-roles (333333333333 eu-west-1)/CrossAccountPolicy',
  ])
  assert.equal(applyEveryFix(s, bad), 2)
  // the same name twice in one account and region and phase is still an error
  const twice = goodSetup()
  Object.assign(
    twice.manifest.stacks.find((x) => x.name === 'prod-roles')!,
    {
      name: 'dev-roles',
      account: '222222222222',
    },
  )
  assert.throws(
    () => checkSetup(twice),
    /two stacks are named "dev-roles" in phase 2 in account 222222222222/,
  )
  // and a fromStack of a name several accounts use is ambiguous
  const amb = goodSetup()
  amb.manifest.stacks.find((x) => x.name === 'prod-roles')!.name = 'ci-base'
  assert.throws(
    () => checkSetup(amb),
    /fromStack "ci-base" is ambiguous: stacks of several accounts or regions have that name/,
  )
})

test('samples: a pipeline of one stage is an error (CodePipeline requires two)', () => {
  const s = goodSetup()
  const pipeline = props(s, 'ci-pipeline.yaml', 'Pipeline')
  pipeline.Stages = pipeline.Stages.slice(0, 1)
  const r = checkSetup(s)
  const f = r.findings.filter((x) => x.rule === 'pipeline-stage-limit')
  assert.deepEqual(
    f.map((x) => `${x.severity} ${x.stack}/${x.logicalId} ${x.location?.line}`),
    ['error ci-pipeline/Pipeline 116'],
  )
  assert.match(f[0]!.message, /has 1 stage; CodePipeline requires at least two/)
  assert.equal(r.ok, false)
})

test('samples: an Fn::Transform macro cannot be run offline: a clear error naming the macro and what to check instead', () => {
  const s = goodSetup()
  const action = props(s, 'ci-pipeline.yaml', 'Pipeline').Stages[2].Actions[0]
  action.RoleArn = { 'Fn::Transform': [{ Name: 'AccountRoleAlias', Parameters: { Alias: 'Dev' } }] }
  assert.throws(
    () => checkSetup(s),
    (e: unknown) =>
      e instanceof CrosspipeError &&
      e.problems[0]!.location?.path ===
        'Resources.Pipeline.Properties.Stages.2.Actions.0.RoleArn.Fn::Transform' &&
      /Fn::Transform runs the macro AccountRoleAlias .*--template-stage Processed/.test(
        e.problems[0]!.message,
      ),
  )
})

test('samples: a key policy no call reads is still checked: a statement without Resource is an invalid policy', () => {
  const s = goodSetup()
  body(s, 'ci-base.yaml').Resources.SpareKey = {
    Type: 'AWS::KMS::Key',
    Properties: {
      EnableKeyRotation: true,
      KeyPolicy: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root' } },
            Action: 'kms:*',
          },
        ],
      },
    },
  }
  assert.throws(
    () => checkSetup(s),
    (e: unknown) =>
      e instanceof CrosspipeError &&
      e.code === 'invalid-policy' &&
      e.problems[0]!.location?.path === 'Resources.SpareKey.Properties.KeyPolicy' &&
      /statement 0, Resource: a statement of a resource-based policy needs Resource or NotResource/.test(
        e.problems[0]!.message,
      ),
  )
  body(s, 'ci-base.yaml').Resources.SpareKey.Properties.KeyPolicy.Statement[0].Resource = '*'
  assert.deepEqual(rules(checkSetup(s)), [])
})

test('samples: unknown-action is located at the unknown action, not at the start of its list', () => {
  const s = goodSetup()
  const text = readFileSync(join(fixtures, 'good', 'target-roles.yaml'), 'utf8').replace(
    '            Action: [kms:Decrypt, kms:DescribeKey]\n',
    '            Action:\n              - kms:Decrypt\n              - kms:DescribeKey\n              - kms:ReEncrypt\n',
  )
  s.templates.set('target-roles.yaml', parseTemplate(text, 'target-roles.yaml'))
  const r = checkSetup(s)
  const line = text.split('\n').findIndex((l) => l.includes('- kms:ReEncrypt')) + 1
  assert.deepEqual(
    r.findings.map((f) => `${f.rule} ${f.stack} ${f.location?.line}:${f.location?.column}`),
    [`unknown-action dev-roles ${line}:17`, `unknown-action prod-roles ${line}:17`],
  )
})
