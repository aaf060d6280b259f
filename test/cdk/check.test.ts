// `crosspipe check --cdk-out`: real CDK Pipelines apps, synthesized with aws-cdk-lib once per app
// for this file, read back as cloud assemblies and checked.
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { before, describe, it } from 'node:test'
import { checkCdkAssembly, readCloudAssembly } from '../../src/check/cdk/index.js'
import { BOOTSTRAP_TEMPLATE } from '../../src/check/cdk/bootstrap-template.generated.js'
import { CrosspipeError } from '../../src/model/errors.js'
import { cli } from '../cli/helpers.js'
import { cdkAvailable, synthApp } from './apps.js'

const PIPE = { account: '111111111111', region: 'eu-west-1' }
const DEV = { account: '222222222222', region: 'eu-west-1' }
const TEST = { account: '333333333333', region: 'eu-west-1' }
const PROD_US = { account: '444444444444', region: 'us-east-1' }
const deployRole = (e: { account: string; region: string }) =>
  `arn:aws:iam::${e.account}:role/cdk-hnb659fds-deploy-role-${e.account}-${e.region}`

const skip = (await cdkAvailable())
  ? false
  : 'aws-cdk-lib is not installed (npm install): CDK apps cannot be synthesized'

describe('check --cdk-out on real CDK Pipelines apps', { skip }, () => {
  let one = ''
  let many = ''
  before(async () => {
    one = await synthApp({ pipeline: PIPE, stages: [DEV], assets: true })
    many = await synthApp({ pipeline: PIPE, stages: [DEV], waves: [[TEST, PROD_US]] })
  })

  it('reads the assembly: pipeline stack, stage stacks in nested assemblies, asset destinations', () => {
    const a = readCloudAssembly(one)
    const top = a.stacks.filter((s) => s.assembly === '').map((s) => s.stackName)
    assert.deepEqual(top, ['PipelineStack'])
    const nested = a.stacks.filter((s) => s.assembly !== '')
    assert.deepEqual(nested.map((s) => `${s.stackName}@${s.account}/${s.region}`).sort(), [
      'App1-222222222222-eu-west-1-Service@222222222222/eu-west-1',
      'App1-222222222222-eu-west-1-Site@222222222222/eu-west-1',
    ])
    assert.equal(nested[0]!.assumeRoleArn, deployRole(DEV))
    assert.ok(
      a.assets.some(
        (d) =>
          d.kind === 'file' &&
          d.account === DEV.account &&
          /file-publishing-role/.test(d.assumeRoleArn ?? ''),
      ),
    )
  })

  it('one target account: every call allowed, including the bootstrap roles and asset publishing', () => {
    const r = checkCdkAssembly(one)
    const denied = r.calls.filter((c) => c.decision !== 'Allowed')
    assert.deepEqual(denied, [], JSON.stringify(denied, null, 1))
    const assume = r.calls.filter((c) => c.operation === 'sts:AssumeRole' && c.resource === deployRole(DEV))
    assert.ok(
      assume.length >= 4,
      'the pipeline role assumes the deploy role for Prepare and Deploy of both stacks',
    )
    const passExec = r.calls.find(
      (c) => c.operation === 'iam:PassRole' && /cfn-exec-role-222222222222/.test(c.resource),
    )
    assert.equal(passExec?.principal, deployRole(DEV))
    assert.equal(passExec?.decision, 'Allowed')
    const publish = r.calls.find(
      (c) => c.stage === 'Assets' && /file-publishing-role-222222222222/.test(c.resource),
    )
    assert.equal(publish?.decision, 'Allowed')
    assert.ok(
      r.calls.some(
        (c) =>
          c.stage === 'Assets' &&
          c.operation === 's3:PutObject' &&
          /cdk-hnb659fds-assets-222222222222-eu-west-1/.test(c.resource),
      ),
    )
    // The one error is true: the default bootstrap gives the CloudFormation execution role
    // AdministratorAccess (`cdk bootstrap` without --cloudformation-execution-policies), and the
    // pipeline deploys with it, so whoever can start the pipeline is an administrator of the target.
    const errors = r.findings.filter((f) => f.severity === 'error')
    assert.deepEqual(
      errors.map((f) => `${f.rule} ${f.logicalId}`),
      ['admin-equivalent-role CloudFormationExecutionRole'],
      JSON.stringify(errors, null, 1),
    )
  })

  it('a target bootstrapped without --trust: the deploy and file-publishing roles deny the pipeline, with the cdk bootstrap fix', () => {
    const r = checkCdkAssembly(one, { trust: new Map([[DEV.account, []]]) })
    assert.equal(r.ok, false)
    const denied = r.calls.filter((c) => c.decision !== 'Allowed')
    assert.ok(denied.length > 0)
    assert.ok(
      denied.every((c) => c.operation === 'sts:AssumeRole' && /-222222222222-eu-west-1$/.test(c.resource)),
      JSON.stringify(denied, null, 1),
    )
    assert.ok(denied.some((c) => c.resource === deployRole(DEV)))
    assert.ok(denied.some((c) => /file-publishing-role/.test(c.resource)))
    const f = r.findings.find(
      (x) => x.rule === 'call-denied' && x.stack === 'CDKToolkit-222222222222-eu-west-1',
    )
    assert.ok(f, 'a call-denied finding on the bootstrap stack')
    assert.match(f.fix ?? '', /cdk bootstrap aws:\/\/222222222222\/eu-west-1 --trust 111111111111/)
    assert.match(f.message, /does not trust account 111111111111/)
  })

  it('the CLI: every call allowed for the trusted setup (exit 1 for the admin execution role), the denied call for the untrusted one', () => {
    // Every call allowed; exit 1 only for the administrator execution role of the default bootstrap.
    const good = cli(['check', '--cdk-out', one])
    assert.equal(good.code, 1, good.stdout + good.stderr)
    assert.match(good.stdout, /calls: \d+ allowed, 0 denied; 1 error/)
    assert.match(good.stdout, /admin-equivalent-role/)
    const bad = cli(['check', '--cdk-out', one, '--bootstrap-trust', '222222222222=', '--json'])
    assert.equal(bad.code, 1, bad.stderr)
    const r = JSON.parse(bad.stdout)
    assert.ok(r.calls.some((c: any) => c.decision !== 'Allowed' && c.resource === deployRole(DEV)))
    const usage = cli(['check', '--cdk-out', one, '--bootstrap-trust', 'prod=1'])
    assert.equal(usage.code, 2)
    assert.match(usage.stderr, /expected ACCOUNT=ACCOUNTS/)
  })

  it('graph --cdk-out draws the same calls, the untrusted deploy role in the denied colour', () => {
    const r = cli(['graph', '--cdk-out', one, '--bootstrap-trust', '222222222222=', '--format', 'mermaid'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /subgraph n\d+\["account 222222222222/)
    const edge = r.stdout.split('\n').findIndex((l) => /-->\|"✗ sts:AssumeRole"\|/.test(l))
    assert.ok(edge > 0, 'a denied sts:AssumeRole edge')
    assert.match(r.stdout, /linkStyle \d+ stroke:#cf222e,stroke-width:3px/)
  })

  it('a customised bootstrap template: a deploy role without ExecuteChangeSet is reported', () => {
    const dir = mkdtempSync(join(tmpdir(), 'crosspipe-bootstrap-'))
    const custom = BOOTSTRAP_TEMPLATE.replace(/\n\s*- cloudformation:ExecuteChangeSet/, '')
    assert.notEqual(custom, BOOTSTRAP_TEMPLATE)
    writeFileSync(join(dir, 'bootstrap.yaml'), custom)
    const r = checkCdkAssembly(one, { template: { file: 'bootstrap.yaml', text: custom } })
    const denied = r.calls.filter((c) => c.decision !== 'Allowed')
    assert.ok(denied.length > 0)
    assert.ok(
      denied.every((c) => c.operation === 'cloudformation:ExecuteChangeSet'),
      JSON.stringify(denied, null, 1),
    )
    const viaCli = cli(['check', '--cdk-out', one, '--bootstrap-template', join(dir, 'bootstrap.yaml')])
    assert.equal(viaCli.code, 1)
    assert.match(viaCli.stdout, /cloudformation:ExecuteChangeSet/)
  })

  it('several accounts, a wave and a cross-region stage: each deploy role is assumed in its own account and region', () => {
    const r = checkCdkAssembly(many)
    for (const e of [DEV, TEST, PROD_US]) {
      const calls = r.calls.filter((c) => c.operation === 'sts:AssumeRole' && c.resource === deployRole(e))
      assert.ok(calls.length >= 2, `deploy role of ${e.account}`)
      assert.ok(calls.every((c) => c.decision === 'Allowed'))
    }
    // The wave is one pipeline stage deploying to both accounts.
    const waveStage = r.calls.filter((c) => c.stage === 'Wave1').map((c) => c.resource)
    assert.ok(
      waveStage.some((x) => x.includes(TEST.account)) && waveStage.some((x) => x.includes(PROD_US.account)),
    )
    // The cross-region stage reads the artifact CodePipeline copied into the us-east-1 support stack's bucket.
    const replicated = r.calls.filter(
      (c) => c.principal === deployRole(PROD_US) && c.operation === 's3:GetObject',
    )
    assert.ok(
      replicated.length > 0 && replicated.every((c) => /pipelinestack-support-us/.test(c.resource)),
      JSON.stringify(replicated),
    )
    // CDK names the replication key by alias ARN; AWS documents only key ids and ARNs for
    // cross-account actions, which check reports (rule artifact-key-not-arn).
    assert.ok(r.findings.some((f) => f.rule === 'artifact-key-not-arn' && f.stack === 'PipelineStack'))
  })

  it('bad input: no assembly, or a stack without a concrete environment, is a clear error', () => {
    assert.throws(
      () => readCloudAssembly(join(tmpdir(), 'no-such-cdk-out')),
      (e: unknown) => e instanceof CrosspipeError && e.code === 'file-not-found',
    )
    const dir = mkdtempSync(join(tmpdir(), 'crosspipe-cdk-bad-'))
    writeFileSync(join(dir, 'S.template.json'), '{"Resources":{}}')
    writeFileSync(
      join(dir, 'manifest.json'),
      JSON.stringify({
        version: '55.0.0',
        artifacts: {
          S: {
            type: 'aws:cloudformation:stack',
            environment: 'aws://unknown-account/unknown-region',
            properties: { templateFile: 'S.template.json' },
          },
        },
      }),
    )
    const r = cli(['check', '--cdk-out', dir])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /artifacts\.S\.environment/)
    assert.match(r.stderr, /explicit account and region/)
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/)
    assert.ok(readFileSync(join(dir, 'manifest.json'), 'utf8'))
  })
})

describe('check --cdk-out: the limits of a 50-stage CDK pipeline', { skip }, () => {
  let dir = ''
  before(async () => {
    const stages = Array.from({ length: 50 }, (_, i) => ({
      account: String(200000000000 + i),
      region: 'eu-west-1',
    }))
    dir = await synthApp({ pipeline: PIPE, stages })
  })
  it('reports the stage count over 50 and the pipeline template over the 51,200-byte request limit', () => {
    const r = checkCdkAssembly(dir)
    const stages = r.findings.find((f) => f.rule === 'pipeline-stage-limit')
    assert.ok(stages, 'pipeline-stage-limit reported')
    assert.equal(stages.severity, 'error')
    assert.match(stages.message, /has 53 stages/)
    const size = r.findings.find((f) => f.rule === 'template-too-large' && f.stack === 'PipelineStack')
    assert.ok(size, 'template-too-large reported for the pipeline stack')
    assert.match(size.message, /over the 51,200 bytes/)
    assert.equal(r.ok, false)
  })
})
