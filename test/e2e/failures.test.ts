/**
 * The classic cross-account failures on the deployed init example, one at a time, with the built
 * CLI against a detached sandbox (issue 7, "Proof"): each one is made by editing the synthesized
 * templates and deploying them with `deploy -m manifest.json`. For each, `crosspipe run` fails at
 * the action AWS would fail at, with AWS's error text, and `crosspipe check` on the same templates
 * names the same cause before the run. Then a buildspec whose command fails: the build action
 * fails and the run shows the tail of the build log.
 *
 * Every case restores the templates as synthesized before making its one change, so the cases do
 * not depend on one another's order; the deploy of the next case puts the stacks back.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { cli, commit, deployExample, edit, expectExit, stopExample, type DeployedExample } from './helpers.js'

let e: DeployedExample | undefined
let pristine = ''

before(() => {
  e = deployExample()
  pristine = join(e.dir, 'pristine.out')
  cpSync(e.out, pristine, { recursive: true })
})

after(() => {
  stopExample(e)
  if (e) rmSync(e.dir, { recursive: true, force: true })
})

function example(): DeployedExample {
  if (!e) throw new Error('the example was not deployed')
  return e
}

const CI_BASE = 'my-app-ci-base.template.yaml'
const PIPELINE = 'my-app-pipeline.template.yaml'
const DEV_ROLE =
  '                  - !Sub arn:${AWS::Partition}:iam::222222222222:role/my-app-cross-account-eu-west-1\n'

/** The templates as synthesized, then `change`. */
function templatesWith(change: (out: string) => void): void {
  const { out } = example()
  rmSync(out, { recursive: true, force: true })
  cpSync(pristine, out, { recursive: true })
  change(out)
}

/** Removes the dev role from the statement `sid` of the CI base template (key or bucket policy). */
function withoutDevRoleIn(out: string, sid: string): void {
  const file = join(out, CI_BASE)
  const text = readFileSync(file, 'utf8')
  const at = text.indexOf(`Sid: ${sid}`)
  const role = text.indexOf(DEV_ROLE, at)
  assert.ok(at > 0 && role > at, `statement ${sid} names the dev role`)
  writeFileSync(file, text.slice(0, role) + text.slice(role + DEV_ROLE.length))
}

/** Adds a parameter of the pipeline stack taken from an output of the CI base stack. */
function pipelineParameterFromCiBase(out: string, name: string, output: string, value: string): void {
  const ciBase = join(out, CI_BASE)
  writeFileSync(
    ciBase,
    readFileSync(ciBase, 'utf8').replace(/\n*$/, '\n') + `  ${output}:\n    Value: ${value}\n`,
  )
  edit(join(out, PIPELINE), /\nResources:\n/, `\n  ${name}:\n    Type: String\nResources:\n`)
  const manifestFile = join(out, 'manifest.json')
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as {
    stacks: { name: string; parameters: Record<string, unknown> }[]
  }
  const stack = manifest.stacks.find((s) => s.name === 'my-app-pipeline')
  assert.ok(stack, 'the manifest has the pipeline stack')
  stack.parameters[name] = { fromStack: 'my-app-ci-base', output }
  writeFileSync(manifestFile, JSON.stringify(manifest, null, 2))
}

interface Finding {
  readonly rule: string
  readonly message: string
}

/** `crosspipe check -m manifest.json --json`: exit 1 and the findings. */
function checkFails(): Finding[] {
  const { dir } = example()
  const r = expectExit(
    cli(['check', '-m', 'crosspipe.out/manifest.json', '--json'], { cwd: dir }),
    1,
    'check',
  )
  return (JSON.parse(r.stdout) as { findings: Finding[] }).findings.filter(
    (f) => (f as { severity?: string }).severity === 'error',
  )
}

/** Deploys the edited templates, then `crosspipe run`: exit 1, and its output. */
function deployAndRunFails(timeoutSeconds = 20): string {
  const { dir, state } = example()
  expectExit(
    cli(['deploy', '--sandbox', '--state', state, '-m', 'crosspipe.out/manifest.json'], { cwd: dir }),
    0,
    'deploy -m',
  )
  // --timeout: an execution that does not fail waits to enter prod behind an earlier one.
  const r = expectExit(
    cli(['run', '--sandbox', '--state', state, '--timeout', String(timeoutSeconds)], { cwd: dir }),
    1,
    'run',
  )
  return r.stdout
}

/** The report's line for an action, and the lines under it up to the next action. */
function failedAction(stdout: string, action: string): string {
  const m = new RegExp(`\\n    ${action}\\s+Failed[^\\n]*\\n((?:      [^\\n]*\\n)*)`).exec(stdout)
  assert.ok(m, `action ${action} failed in:\n${stdout}`)
  return m[1] ?? ''
}

test('1. the dev role missing from the artifact key policy: dev fails on kms:Decrypt; check flags it', () => {
  templatesWith((out) => withoutDevRoleIn(out, 'TargetRolesDecryptArtifacts'))
  const findings = checkFails()
  assert.ok(
    findings.some(
      (f) =>
        f.rule === 'call-denied' &&
        /222222222222.*cannot kms:Decrypt/.test(f.message) &&
        /key policy/.test(f.message),
    ),
    JSON.stringify(findings, null, 2),
  )
  const stdout = deployAndRunFails()
  assert.match(stdout, /execution \S+: Failed/)
  const detail = failedAction(stdout, 'prepare-222222222222-eu-west-1')
  assert.match(
    detail,
    /User: arn:aws:sts::222222222222:assumed-role\/my-app-cross-account-eu-west-1\/\S+ is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:eu-west-1:111111111111:key\/[0-9a-f-]+ because no resource-based policy allows the kms:Decrypt action/,
  )
  assert.match(detail, /hint: the artifact key policy must allow this role/)
  assert.match(stdout, /\n {2}Build\n {4}Build\s+Succeeded/)
})

test('2. the dev role missing from the artifact bucket policy: dev fails on s3:GetObject; check flags it', () => {
  templatesWith((out) => withoutDevRoleIn(out, 'TargetRolesReadArtifacts'))
  const findings = checkFails()
  assert.ok(
    findings.some(
      (f) =>
        f.rule === 'call-denied' &&
        /222222222222.*cannot s3:GetObject/.test(f.message) &&
        /bucket policy/.test(f.message),
    ),
    JSON.stringify(findings, null, 2),
  )
  const detail = failedAction(deployAndRunFails(), 'prepare-222222222222-eu-west-1')
  // S3 answers a denied cross-account read with a bare "Access Denied" (no policy detail, unlike KMS).
  assert.match(
    detail,
    /Insufficient permissions The provided role does not have permissions to perform this action on s3:\/\/my-app-ci-base-artifactbucket-[0-9a-f]+\/my-app\/BuildOutpu\/\S+ Underlying error: Access Denied \(Service: Amazon S3; Status Code: 403; Error Code: AccessDenied\)/,
  )
  assert.match(detail, /hint: the artifact bucket policy and the role policy must both allow this call/)
})

test("3. the CodeBuild project encrypting with another key: the build's output cannot be written; check flags codebuild-key-mismatch", () => {
  templatesWith((out) => {
    edit(
      join(out, CI_BASE),
      '  ArtifactKeyAlias:\n',
      [
        '  OtherKey:',
        '    Type: AWS::KMS::Key',
        '    Properties:',
        '      Description: Another key of the CI account',
        '      EnableKeyRotation: true',
        '      KeyPolicy:',
        '        Version: "2012-10-17"',
        '        Statement:',
        '          - Sid: EnableIamPolicies',
        '            Effect: Allow',
        '            Principal:',
        '              AWS: !Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:root',
        '            Action: kms:*',
        '            Resource: "*"',
        '  ArtifactKeyAlias:',
        '',
      ].join('\n'),
    )
    pipelineParameterFromCiBase(out, 'OtherKeyArn', 'OtherKeyArn', '!GetAtt OtherKey.Arn')
    edit(
      join(out, PIPELINE),
      '      EncryptionKey: !Ref ArtifactKeyArnEuWest1\n      Tags:',
      '      EncryptionKey: !Ref OtherKeyArn\n      Tags:',
    )
  })
  const findings = checkFails()
  assert.ok(
    findings.some((f) => f.rule === 'codebuild-key-mismatch'),
    JSON.stringify(findings, null, 2),
  )
  // The bucket policy's DenyUploadsWithOtherKeys refuses the build's upload with the other key.
  const detail = failedAction(deployAndRunFails(), 'Build')
  assert.match(
    detail,
    /Build terminated with state: FAILED\. Phase: UPLOAD_ARTIFACTS, Code: CLIENT_ERROR, Message: Error uploading artifacts: AccessDenied: User: arn:aws:sts::111111111111:assumed-role\/my-app-build\/\S+ is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::my-app-ci-base-artifactbucket-[0-9a-f]+\/my-app\/BuildOutpu\/\S+" with an explicit deny in a resource-based policy/,
  )
})

function keyIdTemplates(): void {
  templatesWith((out) => {
    pipelineParameterFromCiBase(out, 'ArtifactKeyIdEuWest1', 'ArtifactKeyId', '!Ref ArtifactKey')
    edit(
      join(out, PIPELINE),
      '          Id: !Ref ArtifactKeyArnEuWest1\n',
      '          Id: !Ref ArtifactKeyIdEuWest1\n',
    )
  })
}

test('4a. the artifact store naming its key by id, not ARN: check warns artifact-key-not-arn (no action in another account writes artifacts here)', () => {
  keyIdTemplates()
  const { dir } = example()
  // A warning, not an error: readers decrypt with the key ARN S3 keeps in each object, so the id
  // breaks only an action in another account that writes an artifact (none does in this example;
  // issue 10, and 4b below).
  const r = expectExit(
    cli(['check', '-m', 'crosspipe.out/manifest.json', '--json'], { cwd: dir }),
    0,
    'check',
  )
  const findings = (JSON.parse(r.stdout) as { findings: (Finding & { severity?: string })[] }).findings
  assert.ok(
    findings.some(
      (f) =>
        f.rule === 'artifact-key-not-arn' &&
        f.severity === 'warning' &&
        /names its key as "\{my-app-ci-base/.test(f.message),
    ),
    JSON.stringify(findings, null, 2),
  )
})

test(
  '4b. the artifact store naming its key by id, not ARN: the run fails at the first action in another account',
  {
    todo: 'the sandbox runs this pipeline through dev: no action in another account writes an artifact with the store key, and input artifacts are decrypted by S3 with the key ARN kept in the object',
  },
  () => {
    keyIdTemplates()
    const stdout = deployAndRunFails(6)
    const failed = /\n {4}(\S+)\s+Failed[^\n]*\n {6}([^\n]*)/.exec(stdout)
    assert.ok(failed, stdout)
    assert.match(failed[1] ?? '', /222222222222/)
  },
)

test('5. a buildspec whose command fails: the build action fails and the run shows the log tail', () => {
  const { dir, state } = example()
  templatesWith(() => undefined)
  expectExit(
    cli(['deploy', '--sandbox', '--state', state, '-m', 'crosspipe.out/manifest.json'], { cwd: dir }),
    0,
    'deploy -m (as synthesized)',
  )
  edit(
    join(dir, 'buildspec.yml'),
    '      - test -f template.yml\n',
    '      - test -f template.yml\n      - \'echo "unit tests: 1 of 12 failed" >&2; exit 3\'\n',
  )
  commit(dir, 'A failing test')
  const r = expectExit(cli(['run', '--sandbox', '--state', state, '--timeout', '20'], { cwd: dir }), 1, 'run')
  const detail = failedAction(r.stdout, 'Build')
  assert.match(
    detail,
    /Build terminated with state: FAILED\. Phase: BUILD, Code: COMMAND_EXECUTION_ERROR, Message: Error while executing command: .*exit 3.*Reason: exit status 3/,
  )
  assert.match(detail, /last \d+ lines of the build log:/)
  assert.match(detail, /│ .*unit tests: 1 of 12 failed/)
  assert.match(detail, /│ .*Phase complete: BUILD State: FAILED/)
  // The same tail live on stderr, as the action fails.
  assert.match(
    r.stderr,
    /error: Build › Build {2}Failed[\s\S]*last \d+ lines of the build log:[\s\S]*unit tests: 1 of 12 failed/,
  )
  // And from status, afterwards.
  const s = expectExit(cli(['status', '--sandbox', '--state', state], { cwd: dir }), 1, 'status')
  assert.match(failedAction(s.stdout, 'Build'), /│ .*unit tests: 1 of 12 failed/)
  // The stages after the build never ran.
  assert.doesNotMatch(r.stdout, /\n {2}dev\n/)
})

/** Case 6: the dev deployment role may create the bucket but not SSM parameters; a new parameter in the application template. */
function deployRoleWithoutSsm(): string {
  const { dir, state } = example()
  edit(join(dir, 'buildspec.yml'), /\n {6}- 'echo "unit tests[^\n]*\n/, '\n')
  edit(
    join(dir, 'crosspipe.yml'),
    '    stack: my-app-dev\n',
    [
      '    stack: my-app-dev',
      '    deployPermissions:',
      '      statements:',
      '        - Effect: Allow',
      '          Action: [s3:CreateBucket, s3:PutBucketVersioning, s3:PutEncryptionConfiguration, s3:PutBucketPublicAccessBlock, s3:GetBucketLocation]',
      '          Resource: "*"',
      '',
    ].join('\n'),
  )
  expectExit(cli(['deploy', '--sandbox', '--state', state], { cwd: dir }), 0, 'deploy (dev role without SSM)')
  edit(
    join(dir, 'template.yml'),
    '\nOutputs:\n',
    '\n  VersionParameter:\n    Type: AWS::SSM::Parameter\n    Properties:\n      Type: String\n      Value: "2"\n\nOutputs:\n',
  )
  commit(dir, 'A resource the dev deployment role may not create')
  return expectExit(cli(['run', '--sandbox', '--state', state, '--timeout', '20'], { cwd: dir }), 1, 'run')
    .stdout
}

let case6 = ''

test('6. a template resource the deployment role may not create: the dev deploy action fails', () => {
  case6 = deployRoleWithoutSsm()
  assert.match(case6, /\n {4}prepare-222222222222-eu-west-1\s+Succeeded/)
  const detail = failedAction(case6, 'deploy-222222222222-eu-west-1')
  assert.match(detail, /Stack my-app-dev .*UPDATE_ROLLBACK_COMPLETE/)
})

test(
  "6b. … with CloudFormation's reason (the resource's CREATE_FAILED status reason)",
  // The cross-account role may call DescribeStackEvents, which CodePipeline uses for this message
  // (action-reference-CloudFormation.html).
  () => {
    const detail = failedAction(case6, 'deploy-222222222222-eu-west-1')
    assert.match(detail, /VersionParameter/)
    assert.match(detail, /not authorized to perform: ssm:PutParameter/)
    // A hint that is true: the stage's deployPermissions, not check (which passes here).
    assert.match(detail, /hint: the deployment role my-app-dev-cfn-eu-west-1 may not ssm:PutParameter/)
  },
)
