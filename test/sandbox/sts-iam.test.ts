// STS and IAM through the real SDK v3 clients: identities, roles, policies, cross-account AssumeRole.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { GetCallerIdentityCommand, AssumeRoleCommand, GetSessionTokenCommand } from '@aws-sdk/client-sts'
import {
  CreateRoleCommand,
  GetRoleCommand,
  PutRolePolicyCommand,
  GetRolePolicyCommand,
  CreateUserCommand,
  CreateAccessKeyCommand,
  PutUserPolicyCommand,
  CreatePolicyCommand,
  AttachRolePolicyCommand,
  GetPolicyVersionCommand,
  DeleteRoleCommand,
  ListRolesCommand,
  ListRolePoliciesCommand,
  UpdateAssumeRolePolicyCommand,
  DeletePolicyCommand,
  DetachRolePolicyCommand,
  DeleteRolePolicyCommand,
  CreatePolicyVersionCommand,
  ListAttachedRolePoliciesCommand,
  GetPolicyCommand,
  ListPoliciesCommand,
  GetUserCommand,
  ListUsersCommand,
} from '@aws-sdk/client-iam'
import { CreateBucketCommand, PutObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3'
import { ListKeysCommand } from '@aws-sdk/client-kms'
import { harness, failure, trustAccount, allowAll, type Harness, type Creds } from './helpers.js'

let h: Harness
before(async () => {
  h = await harness()
})
after(async () => {
  await h.close()
})

async function userWith(account: string, name: string, policy: string): Promise<Creds> {
  const { iam } = h.clients(h.creds(account))
  await iam.send(new CreateUserCommand({ UserName: name }))
  await iam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: 'p', PolicyDocument: policy }))
  const k = await iam.send(new CreateAccessKeyCommand({ UserName: name }))
  return { accessKeyId: k.AccessKey!.AccessKeyId!, secretAccessKey: k.AccessKey!.SecretAccessKey! }
}

test('GetCallerIdentity answers as the account root', async () => {
  const { sts } = h.clients(h.creds('dev'))
  const id = await sts.send(new GetCallerIdentityCommand({}))
  assert.equal(id.Account, '222222222222')
  assert.equal(id.Arn, 'arn:aws:iam::222222222222:root')
  assert.equal(id.UserId, '222222222222')
})

test('roles, inline policies and managed policies round-trip, documents URL-encoded as IAM returns them', async () => {
  const { iam } = h.clients(h.creds('dev'))
  const trust = trustAccount('111111111111')
  const r = await iam.send(
    new CreateRoleCommand({ RoleName: 'deploy', AssumeRolePolicyDocument: trust, Path: '/ci/' }),
  )
  assert.equal(r.Role?.Arn, 'arn:aws:iam::222222222222:role/ci/deploy')
  assert.match(r.Role!.RoleId!, /^AROA[A-Z0-9]{17}$/)
  const got = await iam.send(new GetRoleCommand({ RoleName: 'DEPLOY' }))
  assert.equal(decodeURIComponent(got.Role!.AssumeRolePolicyDocument!), trust)
  const dup = await failure(
    iam.send(new CreateRoleCommand({ RoleName: 'Deploy', AssumeRolePolicyDocument: trust })),
  )
  assert.equal(dup.name, 'EntityAlreadyExistsException')
  assert.equal(dup.status, 409)

  await iam.send(
    new PutRolePolicyCommand({
      RoleName: 'deploy',
      PolicyName: 'inline',
      PolicyDocument: allowAll('s3:GetObject'),
    }),
  )
  const ip = await iam.send(new GetRolePolicyCommand({ RoleName: 'deploy', PolicyName: 'inline' }))
  assert.equal(decodeURIComponent(ip.PolicyDocument!), allowAll('s3:GetObject'))
  assert.deepEqual((await iam.send(new ListRolePoliciesCommand({ RoleName: 'deploy' }))).PolicyNames, [
    'inline',
  ])

  const mp = await iam.send(
    new CreatePolicyCommand({ PolicyName: 'managed', PolicyDocument: allowAll('kms:Decrypt') }),
  )
  await iam.send(new AttachRolePolicyCommand({ RoleName: 'deploy', PolicyArn: mp.Policy!.Arn! }))
  const v2 = await iam.send(
    new CreatePolicyVersionCommand({
      PolicyArn: mp.Policy!.Arn!,
      PolicyDocument: allowAll('kms:*'),
      SetAsDefault: true,
    }),
  )
  assert.equal(v2.PolicyVersion?.VersionId, 'v2')
  const v = await iam.send(new GetPolicyVersionCommand({ PolicyArn: mp.Policy!.Arn!, VersionId: 'v1' }))
  assert.equal(decodeURIComponent(v.PolicyVersion!.Document!), allowAll('kms:Decrypt'))
  assert.equal(v.PolicyVersion!.IsDefaultVersion, false)
  const att = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: 'deploy' }))
  assert.deepEqual(
    att.AttachedPolicies?.map((p) => p.PolicyName),
    ['managed'],
  )

  const conflict = await failure(iam.send(new DeleteRoleCommand({ RoleName: 'deploy' })))
  assert.equal(conflict.name, 'DeleteConflictException')
  assert.equal(
    (await failure(iam.send(new DeletePolicyCommand({ PolicyArn: mp.Policy!.Arn! })))).name,
    'DeleteConflictException',
  )
  await iam.send(new DetachRolePolicyCommand({ RoleName: 'deploy', PolicyArn: mp.Policy!.Arn! }))
  await iam.send(new DeleteRolePolicyCommand({ RoleName: 'deploy', PolicyName: 'inline' }))
  await iam.send(new DeleteRoleCommand({ RoleName: 'deploy' }))
  const gone = await failure(iam.send(new GetRoleCommand({ RoleName: 'deploy' })))
  assert.equal(gone.name, 'NoSuchEntityException')
  assert.equal(gone.status, 404)
  assert.match(gone.message, /The role with name deploy cannot be found/)
})

test('ListRoles and ListUsers leave Tags out; CreateRole, GetRole, CreateUser and GetUser have them', async () => {
  // "IAM resource-listing operations return a subset of the available attributes" (API_ListRoles.html,
  // API_ListUsers.html).
  const { iam } = h.clients(h.creds('prod'))
  const tags = [{ Key: 'team', Value: 'listing' }]
  const role = await iam.send(
    new CreateRoleCommand({
      RoleName: 'tagged',
      Path: '/listing/',
      AssumeRolePolicyDocument: trustAccount('333333333333'),
      Tags: tags,
    }),
  )
  assert.deepEqual(role.Role!.Tags, tags)
  assert.deepEqual((await iam.send(new GetRoleCommand({ RoleName: 'tagged' }))).Role!.Tags, tags)
  const roles = (await iam.send(new ListRolesCommand({ PathPrefix: '/listing/' }))).Roles!
  assert.deepEqual(
    roles.map((r) => [r.RoleName, r.Tags, r.RoleLastUsed]),
    [['tagged', undefined, undefined]],
  )
  const user = await iam.send(new CreateUserCommand({ UserName: 'tagged', Path: '/listing/', Tags: tags }))
  assert.deepEqual(user.User!.Tags, tags)
  assert.deepEqual((await iam.send(new GetUserCommand({ UserName: 'tagged' }))).User!.Tags, tags)
  const users = (await iam.send(new ListUsersCommand({ PathPrefix: '/listing/' }))).Users!
  assert.deepEqual(
    users.map((u) => [u.UserName, u.Tags]),
    [['tagged', undefined]],
  )
})

test('malformed policies are refused with MalformedPolicyDocument', async () => {
  const { iam } = h.clients(h.creds('prod'))
  const bad = await failure(
    iam.send(new CreatePolicyCommand({ PolicyName: 'x', PolicyDocument: '{"Version":"2012-10-17",' })),
  )
  assert.equal(bad.name, 'MalformedPolicyDocumentException')
  const principal = await failure(
    iam.send(
      new CreatePolicyCommand({
        PolicyName: 'y',
        PolicyDocument: JSON.stringify({
          Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: '*' }],
        }),
      }),
    ),
  )
  assert.equal(principal.name, 'MalformedPolicyDocumentException')
  const trust = await failure(
    iam.send(new CreateRoleCommand({ RoleName: 'r', AssumeRolePolicyDocument: allowAll('sts:AssumeRole') })),
  )
  assert.equal(trust.name, 'MalformedPolicyDocumentException')
})

test('cross-account AssumeRole: trust policy and the caller identity policy must both allow', async () => {
  // Target role in prod trusts the ci account.
  const prod = h.clients(h.creds('prod'))
  await prod.iam.send(
    new CreateRoleCommand({ RoleName: 'target', AssumeRolePolicyDocument: trustAccount('111111111111') }),
  )
  const arn = 'arn:aws:iam::333333333333:role/target'
  const root = await failure(
    h.clients(h.creds('ci')).sts.send(new AssumeRoleCommand({ RoleArn: arn, RoleSessionName: 'sx' })),
  )
  assert.equal(root.name, 'AccessDenied')
  assert.match(root.message, /Roles may not be assumed by root accounts/)

  const withGrant = await userWith('ci', 'alice', allowAll('sts:AssumeRole', arn))
  const without = await userWith('ci', 'bob', allowAll('s3:GetObject'))
  const denied = await failure(
    h.clients(without).sts.send(new AssumeRoleCommand({ RoleArn: arn, RoleSessionName: 'bob' })),
  )
  assert.equal(denied.name, 'AccessDenied')
  assert.equal(denied.status, 403)
  assert.equal(
    denied.message,
    `User: arn:aws:iam::111111111111:user/bob is not authorized to perform: sts:AssumeRole on resource: ${arn} because no identity-based policy allows the sts:AssumeRole action`,
  )
  const out = await h
    .clients(withGrant)
    .sts.send(new AssumeRoleCommand({ RoleArn: arn, RoleSessionName: 'alice-session', DurationSeconds: 900 }))
  assert.equal(out.AssumedRoleUser?.Arn, 'arn:aws:sts::333333333333:assumed-role/target/alice-session')
  assert.match(out.Credentials!.AccessKeyId!, /^ASIA/)
  const session = {
    accessKeyId: out.Credentials!.AccessKeyId!,
    secretAccessKey: out.Credentials!.SecretAccessKey!,
    sessionToken: out.Credentials!.SessionToken!,
  }
  const me = await h.clients(session).sts.send(new GetCallerIdentityCommand({}))
  assert.equal(me.Account, '333333333333')
  assert.equal(me.Arn, 'arn:aws:sts::333333333333:assumed-role/target/alice-session')
  assert.match(me.UserId!, /^AROA[A-Z0-9]{17}:alice-session$/)

  // The session acts in prod with the role's (empty) permissions.
  const iamDenied = await failure(h.clients(session).iam.send(new ListRolesCommand({})))
  assert.equal(iamDenied.name, 'AccessDenied')

  // ExternalId condition in the trust policy.
  await prod.iam.send(
    new UpdateAssumeRolePolicyCommand({
      RoleName: 'target',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { AWS: 'arn:aws:iam::111111111111:root' },
            Action: 'sts:AssumeRole',
            Condition: { StringEquals: { 'sts:ExternalId': 'secret-123' } },
          },
        ],
      }),
    }),
  )
  const noExt = await failure(
    h.clients(withGrant).sts.send(new AssumeRoleCommand({ RoleArn: arn, RoleSessionName: 'ab' })),
  )
  assert.equal(noExt.name, 'AccessDenied')
  await h
    .clients(withGrant)
    .sts.send(new AssumeRoleCommand({ RoleArn: arn, RoleSessionName: 'ab', ExternalId: 'secret-123' }))

  const long = await failure(
    h.clients(withGrant).sts.send(
      new AssumeRoleCommand({
        RoleArn: arn,
        RoleSessionName: 'ab',
        ExternalId: 'secret-123',
        DurationSeconds: 7200,
      }),
    ),
  )
  assert.equal(long.name, 'ValidationError')
  const badName = await failure(
    h.clients(withGrant).sts.send(new AssumeRoleCommand({ RoleArn: arn, RoleSessionName: 'a b' })),
  )
  assert.equal(badName.name, 'ValidationError')
})

test('AWS managed policies: attachable, readable, enforced, unchangeable', async () => {
  const { iam } = h.clients(h.creds('dev'))
  const arn = 'arn:aws:iam::aws:policy/PowerUserAccess'
  const p = await iam.send(new GetPolicyCommand({ PolicyArn: arn }))
  assert.equal(p.Policy?.DefaultVersionId, 'v12')
  const v = await iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: 'v12' }))
  assert.deepEqual(JSON.parse(decodeURIComponent(v.PolicyVersion!.Document!)).Statement[0].NotAction, [
    'iam:*',
    'organizations:*',
    'account:*',
  ])
  const change = await failure(
    iam.send(new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: allowAll('*') })),
  )
  assert.equal(change.name, 'AccessDenied')

  await iam.send(
    new CreateRoleCommand({ RoleName: 'power', AssumeRolePolicyDocument: trustAccount('222222222222') }),
  )
  await iam.send(new AttachRolePolicyCommand({ RoleName: 'power', PolicyArn: arn }))
  await iam.send(new CreateUserCommand({ UserName: 'carol' }))
  await iam.send(
    new PutUserPolicyCommand({
      UserName: 'carol',
      PolicyName: 'p',
      PolicyDocument: allowAll('sts:AssumeRole'),
    }),
  )
  const k = await iam.send(new CreateAccessKeyCommand({ UserName: 'carol' }))
  const carol = h.clients({
    accessKeyId: k.AccessKey!.AccessKeyId!,
    secretAccessKey: k.AccessKey!.SecretAccessKey!,
  })
  const s = await carol.sts.send(
    new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::222222222222:role/power', RoleSessionName: 'power' }),
  )
  const session = h.clients({
    accessKeyId: s.Credentials!.AccessKeyId!,
    secretAccessKey: s.Credentials!.SecretAccessKey!,
    sessionToken: s.Credentials!.SessionToken!,
  })
  await session.iam.send(new ListRolesCommand({}))
  const denied = await failure(
    session.iam.send(
      new CreateRoleCommand({ RoleName: 'x', AssumeRolePolicyDocument: trustAccount('222222222222') }),
    ),
  )
  assert.equal(denied.name, 'AccessDenied')
  assert.match(denied.message, /iam:CreateRole/)
})

test('every AWS managed policy exists, with its path, from the shared data set, and is enforced', async () => {
  const { iam, s3 } = h.clients(h.creds('dev'))
  // ListPolicies -Scope AWS pages through all of them (MaxItems 1000 at most per page).
  const names: string[] = []
  let marker: string | undefined
  do {
    const r = await iam.send(new ListPoliciesCommand({ Scope: 'AWS', MaxItems: 1000, Marker: marker }))
    names.push(...r.Policies!.map((p) => `${p.Path}${p.PolicyName}`))
    marker = r.IsTruncated ? r.Marker : undefined
  } while (marker)
  assert.ok(names.length > 1000, `${names.length} AWS managed policies`)
  assert.ok(names.includes('/ReadOnlyAccess') && names.includes('/service-role/AWSCodeDeployRole'))
  const sr = await iam.send(
    new ListPoliciesCommand({ Scope: 'AWS', PathPrefix: '/service-role/', MaxItems: 1000 }),
  )
  assert.ok(sr.Policies!.length > 50 && sr.Policies!.every((p) => p.Path === '/service-role/'))
  // The path is part of the ARN.
  const wrong = await failure(
    iam.send(new GetPolicyCommand({ PolicyArn: 'arn:aws:iam::aws:policy/AWSCodeDeployRole' })),
  )
  assert.equal(wrong.name, 'NoSuchEntityException')

  // ReadOnlyAccess (s3:Get*, s3:List*, …) attached to a role: reads pass, writes are denied.
  await s3.send(new CreateBucketCommand({ Bucket: 'ro-bucket' }))
  await s3.send(new PutObjectCommand({ Bucket: 'ro-bucket', Key: 'k', Body: 'v' }))
  await iam.send(
    new CreateRoleCommand({ RoleName: 'reader', AssumeRolePolicyDocument: trustAccount('222222222222') }),
  )
  await iam.send(
    new AttachRolePolicyCommand({ RoleName: 'reader', PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }),
  )
  const creds = await userWith('dev', 'ro-user', allowAll('sts:AssumeRole'))
  const a = await h
    .clients(creds)
    .sts.send(
      new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::222222222222:role/reader', RoleSessionName: 'ro' }),
    )
  const reader = h.clients({
    accessKeyId: a.Credentials!.AccessKeyId!,
    secretAccessKey: a.Credentials!.SecretAccessKey!,
    sessionToken: a.Credentials!.SessionToken!,
  })
  // The role was used: GetRole says when and in which region (ListRoles does not).
  const used = await iam.send(new GetRoleCommand({ RoleName: 'reader' }))
  assert.equal(used.Role?.RoleLastUsed?.Region, 'us-east-1')
  assert.ok(Math.abs(used.Role!.RoleLastUsed!.LastUsedDate!.getTime() - Date.now()) < 60_000)
  const got = await reader.s3.send(new GetObjectCommand({ Bucket: 'ro-bucket', Key: 'k' }))
  assert.equal(await got.Body!.transformToString(), 'v')
  const put = await failure(
    reader.s3.send(new PutObjectCommand({ Bucket: 'ro-bucket', Key: 'k2', Body: 'x' })),
  )
  assert.equal(put.name, 'AccessDenied')
})

test('a session policy caps the session; one the engine cannot evaluate is refused', async () => {
  const { iam } = h.clients(h.creds('dev'))
  await iam.send(new CreateUserCommand({ UserName: 'dave' }))
  await iam.send(
    new PutUserPolicyCommand({
      UserName: 'dave',
      PolicyName: 'p',
      PolicyDocument: allowAll('sts:AssumeRole'),
    }),
  )
  const k = await iam.send(new CreateAccessKeyCommand({ UserName: 'dave' }))
  const dave = h.clients({
    accessKeyId: k.AccessKey!.AccessKeyId!,
    secretAccessKey: k.AccessKey!.SecretAccessKey!,
  })
  const RoleArn = 'arn:aws:iam::222222222222:role/power'
  const bad = await failure(
    dave.sts.send(
      new AssumeRoleCommand({
        RoleArn,
        RoleSessionName: 'capped',
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Maybe', Action: 's3:*', Resource: '*' }],
        }),
      }),
    ),
  )
  assert.equal(bad.name, 'MalformedPolicyDocumentException')
  const s = await dave.sts.send(
    new AssumeRoleCommand({ RoleArn, RoleSessionName: 'capped', Policy: allowAll('s3:*') }),
  )
  assert.ok(s.PackedPolicySize !== undefined)
  const session = h.clients({
    accessKeyId: s.Credentials!.AccessKeyId!,
    secretAccessKey: s.Credentials!.SecretAccessKey!,
    sessionToken: s.Credentials!.SessionToken!,
  })
  const denied = await failure(session.iam.send(new ListRolesCommand({})))
  assert.equal(denied.name, 'AccessDenied')
  assert.match(denied.message, /session policy/)
})

test('GetSessionToken: the user itself for a while, without IAM, and not from session credentials', async () => {
  const creds = await userWith('dev', 'erin', allowAll('*'))
  const user = h.clients(creds)
  const t = await user.sts.send(new GetSessionTokenCommand({ DurationSeconds: 900 }))
  assert.ok(t.Credentials!.Expiration!.getTime() - Date.now() <= 900_000)
  const session = h.clients({
    accessKeyId: t.Credentials!.AccessKeyId!,
    secretAccessKey: t.Credentials!.SecretAccessKey!,
    sessionToken: t.Credentials!.SessionToken!,
  })
  const id = await session.sts.send(new GetCallerIdentityCommand({}))
  assert.equal(id.Arn, 'arn:aws:iam::222222222222:user/erin')
  // The user's own permissions (here: everything) outside IAM and STS.
  await session.kms.send(new ListKeysCommand({}))
  const iamDenied = await failure(session.iam.send(new ListRolesCommand({})))
  assert.equal(iamDenied.name, 'AccessDenied')
  assert.match(iamDenied.message, /GetSessionToken without MFA may not call IAM/)
  const again = await failure(session.sts.send(new GetSessionTokenCommand({})))
  assert.equal(again.name, 'AccessDenied')
  // The root user's sessions last one hour at most: a longer duration "defaults to one hour"
  // (API_GetSessionToken.html, DurationSeconds), it is not refused.
  const rootLong = await h
    .clients(h.creds('dev'))
    .sts.send(new GetSessionTokenCommand({ DurationSeconds: 7200 }))
  const left = rootLong.Credentials!.Expiration!.getTime() - Date.now()
  assert.ok(left > 3_500_000 && left <= 3_600_000, `root session of ${left} ms`)
})
