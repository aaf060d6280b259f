/* eslint-disable @typescript-eslint/no-unsafe-return -- templates are untyped JSON, read with any */
/**
 * The cross-account properties every synthesized pipeline must have, as assertions shared by the
 * targeted tests and the property test. Each reads the templates as CloudFormation would (Subs
 * resolved with the stack's account, region and the aws partition) — not snapshots.
 */
import assert from 'node:assert/strict'
import type { ResolvedPipeline } from '../../src/model/schema.js'
import { Manifest } from '../../src/synth/manifest.js'
import type { ManifestStackEntry } from '../../src/synth/manifest.js'
import type { SynthOutput } from '../../src/synth/index.js'
import { Names } from '../../src/synth/names.js'
import { resolvedSize } from '../../src/synth/policy.js'
import { fastTemplateYaml } from '../../src/synth/yaml.js'
import { stringifyTemplate } from '../../src/model/cfn-yaml.js'

export type Json = any

/** Resolves a value of a stack's template: pseudo parameters, and parameters given in `params`. */
export function resolve(v: Json, stack: ManifestStackEntry, params: Record<string, string> = {}): Json {
  const lookup = (n: string): string => {
    if (n === 'AWS::Partition') return 'aws'
    if (n === 'AWS::AccountId') return stack.account
    if (n === 'AWS::Region') return stack.region
    if (n in params) return params[n]!
    return `{${n}}`
  }
  if (typeof v === 'string') return v
  if (Array.isArray(v)) return v.map((x) => resolve(x, stack, params))
  if (v && typeof v === 'object') {
    if (typeof v['Fn::Sub'] === 'string')
      return v['Fn::Sub'].replace(/\$\{([^}]+)\}/g, (_: string, n: string) => lookup(n))
    if (typeof v.Ref === 'string') return lookup(v.Ref)
    if (Array.isArray(v['Fn::GetAtt'])) return `{${v['Fn::GetAtt'].join('.')}}`
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x, stack, params)]))
  }
  return v
}

export const list = (v: Json): Json[] => (v === undefined ? [] : Array.isArray(v) ? v : [v])

/** IAM's ArnLike: `*` any characters, `?` one. */
export function arnLike(pattern: string, value: string): boolean {
  const re = new RegExp(
    '^' +
      pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.') +
      '$',
  )
  return re.test(value)
}

/** A synthesized output with helpers to find stacks and resources. */
export class View {
  constructor(
    readonly p: ResolvedPipeline,
    readonly out: SynthOutput,
  ) {}
  stack(name: string): ManifestStackEntry {
    const s = this.out.manifest.stacks.find((x) => x.name === name)
    assert.ok(s, `stack ${name} in the manifest`)
    return s
  }
  body(name: string): Json {
    const t = this.out.templates.find((x) => x.stack === name)
    assert.ok(t, `template of ${name}`)
    return t.body
  }
  resources(name: string, type?: string): [string, Json][] {
    return Object.entries(this.body(name).Resources as Json).filter(
      ([, r]: [string, Json]) => !type || r.Type === type,
    )
  }
  /** The role of a stack by RoleName (resolved), or undefined. */
  roleNamed(stack: string, roleName: string): Json {
    return this.resources(stack, 'AWS::IAM::Role').find(([, r]) => r.Properties.RoleName === roleName)?.[1]
  }
  /** Every statement that applies to a role: its inline policies and managed policies that name it. */
  roleStatements(stack: string, roleId: string): Json[] {
    const role = this.body(stack).Resources[roleId]
    const inline = list(role.Properties.Policies).flatMap((p: Json) => list(p.PolicyDocument.Statement))
    const managed = this.resources(stack, 'AWS::IAM::ManagedPolicy')
      .filter(([, r]) => list(r.Properties.Roles).some((x: Json) => x.Ref === roleId))
      .flatMap(([, r]) => list(r.Properties.PolicyDocument.Statement))
    return [...inline, ...managed]
  }
}

/** Whether a resource-policy statement admits the role ARN (Principal account + aws:PrincipalArn condition). */
export function admits(stmt: Json, stack: ManifestStackEntry, roleArn: string): boolean {
  const account = roleArn.split(':')[4]
  const principals = list(resolve(stmt.Principal?.AWS, stack))
  if (!principals.includes(`arn:aws:iam::${account}:root`)) return false
  const cond = stmt.Condition ?? {}
  const eq = cond.ArnEquals?.['aws:PrincipalArn']
  const like = cond.ArnLike?.['aws:PrincipalArn']
  if (eq !== undefined) return list(resolve(eq, stack)).includes(roleArn)
  if (like !== undefined) return list(resolve(like, stack)).some((pat: string) => arnLike(pat, roleArn))
  return false
}

/** Asserts every cross-account property and every limit of a synthesized pipeline. */
export function assertCrossAccountProperties(p: ResolvedPipeline, out: SynthOutput): void {
  const v = new View(p, out)
  const n = new Names(p)
  const ci = p.ci.account
  const pipelineRoleArn = `arn:aws:iam::${ci}:role/${n.pipelineRole}`
  Manifest.parse(out.manifest)
  assert.equal(out.files['manifest.json'], JSON.stringify(out.manifest, null, 2) + '\n')

  // --- phases: every parameter comes from an earlier phase's output ---------------------------
  for (const s of out.manifest.stacks) {
    for (const [k, val] of Object.entries(s.parameters)) {
      if (typeof val === 'string') continue
      const from = v.stack(val.fromStack)
      assert.ok(from.phase < s.phase, `${s.name}.${k} comes from an earlier phase`)
      assert.ok(v.body(from.name).Outputs?.[val.output], `${from.name} has output ${val.output}`)
      assert.ok(v.body(s.name).Parameters?.[k], `${s.name} declares parameter ${k}`)
    }
    for (const k of Object.keys(v.body(s.name).Parameters ?? {}))
      assert.ok(k in s.parameters, `${s.name}.${k} is given`)
    assert.ok(out.files[s.template], `file ${s.template}`)
  }

  // --- the CI base of each region ---------------------------------------------------------------
  const regions = [...new Set([p.ci.region, ...p.stages.flatMap((s) => s.targets.map((t) => t.region))])]
  const readersOf = (region: string): string[] => {
    const arns: string[] = []
    for (const s of p.stages)
      for (const t of s.targets.filter((x) => x.region === region)) {
        arns.push(`arn:aws:iam::${t.account}:role/${n.crossAccountRole(region)}`)
        // Deployment roles read artifacts only with readArtifacts (least privilege by default).
        if (s.readArtifacts) arns.push(`arn:aws:iam::${t.account}:role/${n.deploymentRole(s.name, region)}`)
        if (s.tests) arns.push(`arn:aws:iam::${t.account}:role/${n.testRole(s.name, region)}`)
      }
    return arns
  }
  for (const region of regions) {
    const name = n.ciBaseStack(region, p.ci.region)
    const s = v.stack(name)
    assert.equal(s.account, ci)
    assert.equal(s.phase, 1)
    const r = v.body(name).Resources
    assert.equal(r.ArtifactKey.Properties.EnableKeyRotation, true)
    const enc = r.ArtifactBucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0]
    assert.deepEqual(enc.ServerSideEncryptionByDefault, {
      SSEAlgorithm: 'aws:kms',
      KMSMasterKeyID: { 'Fn::GetAtt': ['ArtifactKey', 'Arn'] },
    })
    assert.equal(enc.BucketKeyEnabled, true)
    assert.deepEqual(r.ArtifactBucket.Properties.VersioningConfiguration, { Status: 'Enabled' })
    assert.ok(
      Object.values(r.ArtifactBucket.Properties.PublicAccessBlockConfiguration).every((x) => x === true),
    )
    assert.equal(
      r.ArtifactBucket.Properties.OwnershipControls.Rules[0].ObjectOwnership,
      'BucketOwnerEnforced',
    )
    assert.ok(r.ArtifactBucket.Properties.LifecycleConfiguration.Rules[0].ExpirationInDays > 0)
    assert.deepEqual(v.body(name).Outputs.ArtifactKeyArn.Value, { 'Fn::GetAtt': ['ArtifactKey', 'Arn'] })
    const key = list(r.ArtifactKey.Properties.KeyPolicy.Statement)
    const bucket = list(r.ArtifactBucketPolicy.Properties.PolicyDocument.Statement)
    const bySid = (ss: Json[], sid: string) => ss.find((x) => x.Sid === sid)
    // TLS and key enforcement
    const tls = bySid(bucket, 'DenyInsecureTransport')
    assert.equal(tls.Effect, 'Deny')
    assert.equal(tls.Condition.Bool['aws:SecureTransport'], 'false')
    const otherKeys = bySid(bucket, 'DenyUploadsWithOtherKeys')
    assert.deepEqual(otherKeys.Condition.StringNotEquals['s3:x-amz-server-side-encryption-aws-kms-key-id'], {
      'Fn::GetAtt': ['ArtifactKey', 'Arn'],
    })
    // exactly the readers: every role that needs to read is admitted, with read-only actions …
    const readers = readersOf(region)
    const targetAccounts = [...new Set(readers.map((a) => a.split(':')[4]))].sort()
    for (const [ss, sid, actions] of [
      [key, 'TargetRolesDecryptArtifacts', ['kms:Decrypt', 'kms:DescribeKey']],
      [bucket, 'TargetRolesReadArtifacts', ['s3:GetObject', 's3:GetObjectVersion']],
    ] as const) {
      const st = bySid(ss, sid)
      if (!readers.length) {
        assert.equal(st, undefined)
        continue
      }
      assert.deepEqual(list(st.Action), actions, `${name} ${sid} actions`)
      for (const arn of readers) assert.ok(admits(st, s, arn), `${name} ${sid} admits ${arn}`)
      // … the principals are exactly the target accounts of this region …
      assert.deepEqual(
        list(resolve(st.Principal.AWS, s)).sort(),
        targetAccounts.map((a) => `arn:aws:iam::${a}:root`),
      )
      // … and nothing else of those accounts: not the account's other roles.
      for (const a of targetAccounts)
        assert.ok(!admits(st, s, `arn:aws:iam::${a}:role/Admin`), `${sid} excludes other roles`)
    }
    // every other Allow to another account is the source role's
    for (const st of [...key, ...bucket].filter((x) => x.Effect === 'Allow')) {
      for (const pr of list(resolve(st.Principal?.AWS, s))) {
        if (pr === `arn:aws:iam::${ci}:root`) continue
        assert.ok(
          [
            'TargetRolesDecryptArtifacts',
            'TargetRolesReadArtifacts',
            'SourceRoleEncryptArtifacts',
            'SourceRoleWritesSourceArtifact',
          ].includes(st.Sid),
          `unexpected grant ${st.Sid}`,
        )
      }
      assert.ok(!list(st.Action).includes('s3:*'), 'no s3:*')
    }
    assert.ok(resolvedSize(r.ArtifactKey.Properties.KeyPolicy) <= 32_768, 'key policy size')
    assert.ok(resolvedSize(r.ArtifactBucketPolicy.Properties.PolicyDocument) <= 20_480, 'bucket policy size')
  }

  // --- target stacks -----------------------------------------------------------------------------
  const groups = new Map<string, { account: string; region: string; stages: string[] }>()
  for (const s of p.stages)
    for (const t of s.targets) {
      const k = `${t.account}/${t.region}`
      if (!groups.has(k)) groups.set(k, { account: t.account, region: t.region, stages: [] })
      groups.get(k)!.stages.push(s.name)
    }
  for (const g of groups.values()) {
    const name = n.targetStack(g.account, g.region)
    const s = v.stack(name)
    assert.equal(s.account, g.account)
    assert.equal(s.region, g.region)
    assert.equal(s.phase, 2)
    assert.deepEqual(s.parameters.ArtifactKeyArn, {
      fromStack: n.ciBaseStack(g.region, p.ci.region),
      output: 'ArtifactKeyArn',
    })
    const crossName = n.crossAccountRole(g.region)
    const cross = v.roleNamed(name, crossName)
    assert.ok(cross, `${name} has ${crossName}`)
    // trusted only by the CI pipeline role: account principal + aws:PrincipalArn
    const trust = list(cross.Properties.AssumeRolePolicyDocument.Statement)
    assert.equal(trust.length, 1)
    assert.deepEqual(resolve(trust[0].Principal, s), { AWS: `arn:aws:iam::${ci}:root` })
    assert.deepEqual(resolve(trust[0].Condition, s), { ArnEquals: { 'aws:PrincipalArn': pipelineRoleArn } })
    const [crossId] = v.resources(name, 'AWS::IAM::Role').find(([, r]) => r === cross)!
    const stmts = v.roleStatements(name, crossId)
    for (const st of stmts) {
      assert.equal(st.Effect, 'Allow')
      for (const a of list(st.Action)) assert.ok(!a.endsWith(':*') && a !== '*', `no wildcard action ${a}`)
      const res = list(resolve(st.Resource, s))
      if (res.includes('*')) assert.deepEqual(list(st.Action), ['cloudformation:ValidateTemplate'])
      for (const a of list(st.Action).filter(
        (x: string) => x.startsWith('cloudformation:') && x !== 'cloudformation:ValidateTemplate',
      )) {
        // only this account's own stacks and change sets, in this region
        for (const r of res)
          assert.match(
            r,
            new RegExp(`^arn:aws:cloudformation:${g.region}:${g.account}:(stack|changeSet)/`),
            `${a} on ${r}`,
          )
      }
    }
    // PassRole: exactly the deployment roles of this account, only to CloudFormation
    const pass = stmts.filter((st) => list(st.Action).includes('iam:PassRole'))
    assert.equal(pass.length, 1)
    assert.deepEqual(pass[0].Condition, {
      StringEquals: { 'iam:PassedToService': 'cloudformation.amazonaws.com' },
    })
    assert.deepEqual(
      list(resolve(pass[0].Resource, s)).sort(),
      g.stages.map((st) => `arn:aws:iam::${g.account}:role/${n.deploymentRole(st, g.region)}`).sort(),
    )
    // deployment roles: trusted by CloudFormation only, no conditions CloudFormation does not set
    for (const st of g.stages) {
      const dr = v.roleNamed(name, n.deploymentRole(st, g.region))
      assert.ok(dr, `deployment role of ${st}`)
      assert.deepEqual(dr.Properties.AssumeRolePolicyDocument.Statement, [
        { Effect: 'Allow', Principal: { Service: 'cloudformation.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ])
      const stage = p.stages.find((x) => x.name === st)!
      if (!stage.readArtifacts) {
        assert.doesNotMatch(
          JSON.stringify(dr.Properties.Policies ?? []),
          /ReadArtifacts|DecryptArtifacts|ArtifactKeyArn/,
          `deployment role of ${st} gets no artifact access without readArtifacts`,
        )
      }
      if (stage.tests) {
        const [, proj] = v
          .resources(name, 'AWS::CodeBuild::Project')
          .find(([, r]) => r.Properties.Name === n.testProject(st))!
        assert.deepEqual(proj.Properties.EncryptionKey, { Ref: 'ArtifactKeyArn' })
        const tr = v.roleNamed(name, n.testRole(st, g.region))
        const tt = tr.Properties.AssumeRolePolicyDocument.Statement[0]
        assert.equal(tt.Principal.Service, 'codebuild.amazonaws.com')
        assert.equal(resolve(tt.Condition.StringEquals['aws:SourceAccount'], s), g.account)
      }
    }
  }

  // --- the pipeline ------------------------------------------------------------------------------
  const ps = v.stack(n.pipelineStack)
  assert.equal(ps.account, ci)
  assert.equal(ps.region, p.ci.region)
  assert.equal(ps.phase, Math.max(...out.manifest.stacks.map((x) => x.phase)))
  const body = v.body(n.pipelineStack)
  const pipe = Object.values(body.Resources as Json).find(
    (r: Json) => r.Type === 'AWS::CodePipeline::Pipeline',
  ) as Json
  const keyParamOf = (region: string) => {
    const stores = pipe.Properties.ArtifactStores
      ? pipe.Properties.ArtifactStores.filter((x: Json) => x.Region === region).map(
          (x: Json) => x.ArtifactStore,
        )
      : region === p.ci.region
        ? [pipe.Properties.ArtifactStore]
        : []
    assert.equal(stores.length, 1, `one artifact store in ${region}`)
    const id = stores[0].EncryptionKey.Id
    assert.ok(id.Ref, 'key given by a parameter')
    // the store's key is the ARN output of that region's CI base (never an id or alias)
    assert.deepEqual(ps.parameters[id.Ref], {
      fromStack: n.ciBaseStack(region, p.ci.region),
      output: 'ArtifactKeyArn',
    })
    return id.Ref as string
  }
  for (const region of regions) keyParamOf(region)
  const build = Object.values(body.Resources as Json).find(
    (r: Json) => r.Type === 'AWS::CodeBuild::Project',
  ) as Json
  assert.deepEqual(build.Properties.EncryptionKey, { Ref: keyParamOf(p.ci.region) })
  const deployed = new Map<string, number>()
  for (const stage of pipe.Properties.Stages) {
    assert.ok(stage.Actions.length <= 50, `${stage.Name}: ${stage.Actions.length} actions`)
    for (const a of stage.Actions) {
      for (const [k, val] of Object.entries(a.Configuration ?? {})) {
        const len = typeof val === 'string' ? val.length : resolvedSize(val) - 2
        assert.ok(len <= 1000, `${a.Name}.${k} ≤ 1000`)
      }
      if (a.ActionTypeId.Provider !== 'CloudFormation' && a.ActionTypeId.Category !== 'Test') continue
      const region = a.Region ?? p.ci.region
      const actionRole = resolve(a.RoleArn, ps)
      const account = actionRole.split(':')[4]
      // the action role is that target's cross-account role, which its target stack creates
      assert.equal(actionRole, `arn:aws:iam::${account}:role/${n.crossAccountRole(region)}`)
      assert.ok(v.roleNamed(n.targetStack(account, region), n.crossAccountRole(region)))
      if (a.ActionTypeId.Provider === 'CloudFormation') {
        const cfgRole = resolve(a.Configuration.RoleArn, ps)
        // same-account rule: the deployment role is in the action role's account
        assert.equal(cfgRole.split(':')[4], account, `${a.Name}: Configuration.RoleArn in the same account`)
        const roleName = cfgRole.split(':role/')[1]
        assert.ok(v.roleNamed(n.targetStack(account, region), roleName), `${roleName} exists`)
        if (a.Configuration.ActionMode === 'CHANGE_SET_EXECUTE') {
          const k = `${a.Configuration.StackName}@${account}/${region}`
          deployed.set(k, (deployed.get(k) ?? 0) + 1)
        }
      }
    }
  }
  // every stage × target deploys exactly once
  for (const s of p.stages)
    for (const t of s.targets) assert.equal(deployed.get(`${s.stack}@${t.account}/${t.region}`), 1)
  // the pipeline role assumes exactly the cross-account (and source) roles
  const prStmts = v.roleStatements(n.pipelineStack, 'PipelineRole')
  const assumed = prStmts
    .filter((x) => list(x.Action).includes('sts:AssumeRole'))
    .flatMap((x) => list(resolve(x.Resource, ps)))
  const expected = [...groups.values()].map(
    (g) => `arn:aws:iam::${g.account}:role/${n.crossAccountRole(g.region)}`,
  )
  if (p.source.type === 'codecommit' && p.source.account && p.source.account !== ci) {
    expected.push(`arn:aws:iam::${p.source.account}:role/${n.sourceRole}`)
  }
  assert.deepEqual(assumed.sort(), [...new Set(expected)].sort())

  // --- change detection: a CodeCommit repository in the CI account triggers by event -----------
  const trigger = body.Resources.SourceTrigger
  if (p.source.type === 'codecommit' && !(p.source.account && p.source.account !== ci)) {
    const src = pipe.Properties.Stages[0].Actions[0]
    assert.equal(src.Configuration.PollForSourceChanges, 'false')
    const pipelineArn = `arn:aws:codepipeline:${p.ci.region}:${ci}:${n.pipeline}`
    assert.deepEqual(resolve(trigger.Properties.EventPattern.resources, ps), [
      `arn:aws:codecommit:${p.ci.region}:${ci}:${p.source.repository}`,
    ])
    assert.deepEqual(trigger.Properties.EventPattern.detail.referenceName, [p.source.branch])
    const [target] = trigger.Properties.Targets
    assert.equal(resolve(target.Arn, ps), pipelineArn)
    assert.deepEqual(target.RoleArn, { 'Fn::GetAtt': ['SourceTriggerRole', 'Arn'] })
    const ts = v.roleStatements(n.pipelineStack, 'SourceTriggerRole')
    assert.deepEqual(
      ts.map((x) => [x.Action, resolve(x.Resource, ps)]),
      [['codepipeline:StartPipelineExecution', pipelineArn]],
    )
  } else assert.equal(trigger, undefined)

  // --- limits over every template ------------------------------------------------------------------
  const roleNames = new Map<string, string>()
  for (const s of out.manifest.stacks) {
    const text = out.files[s.template]!
    const bytes = Buffer.byteLength(text)
    assert.equal(s.upload === true, bytes > 51_200, `${s.name} upload flag (${bytes} bytes)`)
    const res = v.resources(s.name)
    assert.ok(res.length <= 500)
    for (const [id, r] of res) {
      if (r.Type === 'AWS::IAM::Role') {
        // a role without a name gets a generated, unique one
        const rn = r.Properties.RoleName
        if (rn !== undefined) {
          assert.ok(rn.length <= 64, `${rn} ≤ 64`)
          const k = `${s.account}:${rn}`
          assert.ok(!roleNames.has(k), `role ${rn} created twice in ${s.account}`)
          roleNames.set(k, s.name)
        }
        const inline = list(r.Properties.Policies).reduce(
          (sum: number, x: Json) => sum + resolvedSize(x.PolicyDocument),
          0,
        )
        assert.ok(inline <= 10_240, `${s.name}.${id} inline ${inline}`)
      }
      if (r.Type === 'AWS::IAM::ManagedPolicy') assert.ok(resolvedSize(r.Properties.PolicyDocument) <= 6_144)
    }
  }
}

/** The fast writer must give stringifyTemplate's exact bytes, or decline. */
export function assertSameYaml(
  body: Record<string, unknown>,
  comments: Record<string, string>,
  header?: string,
): boolean {
  const fast = fastTemplateYaml(body, { comments, ...(header !== undefined ? { header } : {}) })
  if (fast === undefined) return false
  assert.equal(fast, stringifyTemplate(body, { comments, ...(header !== undefined ? { header } : {}) }))
  return true
}
