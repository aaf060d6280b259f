// fast-check generators: random policies and requests over a small universe of principals, actions,
// resources and condition keys, so random statements often match and decisions are interesting.
import fc from 'fast-check'
import type { SimulateRequest } from '../../src/iam/index.js'

export const A = '111111111111'
export const B = '222222222222'

interface Target {
  readonly action: string
  readonly resource: string
  readonly resourceAccount?: string
}

const KEY_A = `arn:aws:kms:eu-west-1:${A}:key/aaaaaaaa-1111-2222-3333-444444444444`
const KEY_B = `arn:aws:kms:eu-west-1:${B}:key/bbbbbbbb-1111-2222-3333-444444444444`

const targets: Target[] = [
  { action: 's3:GetObject', resource: 'arn:aws:s3:::artifacts-a/pipe/app.zip', resourceAccount: A },
  { action: 's3:PutObject', resource: 'arn:aws:s3:::artifacts-a/pipe/app.zip', resourceAccount: A },
  { action: 's3:GetObject', resource: 'arn:aws:s3:::artifacts-b/alice/app.zip', resourceAccount: B },
  { action: 's3:ListBucket', resource: 'arn:aws:s3:::artifacts-b', resourceAccount: B },
  { action: 'kms:Decrypt', resource: KEY_B },
  { action: 'kms:Encrypt', resource: KEY_A },
  { action: 'kms:GenerateDataKey', resource: KEY_B },
  { action: 'sts:AssumeRole', resource: `arn:aws:iam::${B}:role/cross-account-role` },
  { action: 'sts:AssumeRole', resource: `arn:aws:iam::${A}:role/pipeline-role` },
  { action: 'cloudformation:CreateStack', resource: `arn:aws:cloudformation:eu-west-1:${B}:stack/app/1234` },
  { action: 'iam:PassRole', resource: `arn:aws:iam::${A}:role/build-role` },
]

const principals = [
  `arn:aws:sts::${A}:assumed-role/pipeline-role/s1`,
  `arn:aws:sts::${B}:assumed-role/cross-account-role/s2`,
  `arn:aws:iam::${A}:user/alice`,
  `arn:aws:iam::${B}:user/bob`,
  'codepipeline.amazonaws.com',
]

const actionPatterns = [
  '*',
  's3:*',
  's3:Get*',
  's3:GetObject',
  's3:PutObject',
  's3:List*',
  's3:?etObject',
  'kms:*',
  'kms:Decrypt',
  'kms:Encrypt',
  'kms:GenerateDataKey*',
  'sts:AssumeRole',
  'sts:*',
  'cloudformation:*',
  'cloudformation:CreateStack',
  'iam:PassRole',
  'iam:Pass*',
]

const resourcePatterns = [
  '*',
  'arn:aws:s3:::artifacts-a/*',
  'arn:aws:s3:::artifacts-b/*',
  'arn:aws:s3:::artifacts-?/*',
  'arn:aws:s3:::artifacts-b',
  'arn:aws:s3:::*',
  'arn:aws:s3:::artifacts-b/${aws:username}/*',
  `arn:aws:kms:*:${B}:key/*`,
  `arn:aws:kms:eu-west-1:${A}:key/*`,
  KEY_B,
  `arn:aws:iam::${B}:role/cross-account-role`,
  `arn:aws:iam::*:role/*`,
  `arn:aws:iam::${A}:role/build-*`,
  `arn:aws:cloudformation:eu-west-1:${B}:stack/app/*`,
  `arn:aws:cloudformation:*:*:stack/*`,
]

const principalValues: unknown[] = [
  '*',
  { AWS: '*' },
  { AWS: A },
  { AWS: B },
  { AWS: `arn:aws:iam::${A}:root` },
  { AWS: `arn:aws:iam::${B}:root` },
  { AWS: `arn:aws:iam::${A}:role/pipeline-role` },
  { AWS: `arn:aws:iam::${B}:role/cross-account-role` },
  { AWS: `arn:aws:sts::${A}:assumed-role/pipeline-role/s1` },
  { AWS: `arn:aws:iam::${A}:user/alice` },
  { AWS: [`arn:aws:iam::${B}:user/bob`, A] },
  { Service: 'codepipeline.amazonaws.com' },
]

/** Condition blocks over keys that iam-simulate accepts for every action here (global keys). */
const conditionBlocks: Record<string, unknown>[] = [
  { Bool: { 'aws:SecureTransport': 'true' } },
  { Bool: { 'aws:SecureTransport': 'false' } },
  { BoolIfExists: { 'aws:SecureTransport': 'false' } },
  { StringEquals: { 'aws:PrincipalAccount': A } },
  { StringNotEquals: { 'aws:PrincipalAccount': [A, B] } },
  { StringEquals: { 'aws:ResourceAccount': '${aws:PrincipalAccount}' } },
  { StringLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/pipeline-*' } },
  { ArnLike: { 'aws:PrincipalArn': `arn:aws:iam::${B}:*` } },
  { ArnNotEquals: { 'aws:PrincipalArn': `arn:aws:iam::${A}:role/pipeline-role` } },
  { StringEqualsIgnoreCase: { 'aws:PrincipalTag/team': 'DEVOPS' } },
  { StringEquals: { 'aws:PrincipalTag/team': 'devops' } },
  { StringNotLike: { 'aws:PrincipalTag/team': 'dev*' } },
  { StringEqualsIfExists: { 'aws:PrincipalTag/team': 'ops' } },
  { Null: { 'aws:PrincipalTag/team': 'true' } },
  { Null: { 'aws:PrincipalTag/team': 'false' } },
  { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } },
  { NotIpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '2001:db8::/32'] } },
  { NumericLessThan: { 'aws:MultiFactorAuthAge': '3600' } },
  { NumericGreaterThanEquals: { 'aws:MultiFactorAuthAge': 100 } },
  { DateGreaterThan: { 'aws:CurrentTime': '2026-01-01T00:00:00Z' } },
  { DateLessThan: { 'aws:CurrentTime': '2025-06-01T00:00:00Z' } },
  { 'ForAnyValue:StringEquals': { 'aws:CalledVia': 'cloudformation.amazonaws.com' } },
  {
    'ForAllValues:StringEquals': {
      'aws:CalledVia': ['cloudformation.amazonaws.com', 'codepipeline.amazonaws.com'],
    },
  },
  { 'ForAnyValue:StringNotEquals': { 'aws:CalledVia': 'cloudformation.amazonaws.com' } },
  { 'ForAllValues:StringLike': { 'aws:CalledVia': '*.amazonaws.com' } },
  { StringEquals: { 'aws:PrincipalOrgID': 'o-abc123' } },
]

const contextPools: Record<string, unknown[]> = {
  'aws:SecureTransport': ['true', 'false'],
  'aws:PrincipalTag/team': ['devops', 'DevOps', 'ops'],
  'aws:SourceIp': ['10.1.2.3', '192.0.2.7', '2001:db8::1'],
  'aws:MultiFactorAuthAge': ['50', '500', '7200'],
  'aws:CalledVia': [
    ['cloudformation.amazonaws.com'],
    ['cloudformation.amazonaws.com', 'codepipeline.amazonaws.com'],
    ['s3.amazonaws.com'],
  ],
  'aws:PrincipalOrgID': ['o-abc123', 'o-zzz999'],
}

const oneOrMany = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | T[]> =>
  fc.oneof(arb, fc.array(arb, { minLength: 1, maxLength: 3 }))

const conditionArb: fc.Arbitrary<Record<string, unknown> | undefined> = fc.option(
  fc.array(fc.constantFrom(...conditionBlocks), { minLength: 1, maxLength: 2 }).map((blocks) => {
    const out: Record<string, Record<string, unknown>> = {}
    for (const b of blocks)
      for (const [op, kv] of Object.entries(b))
        out[op] = { ...(out[op] ?? {}), ...(kv as Record<string, unknown>) }
    return out
  }),
  { freq: 2 },
)

function statementArb(withPrincipal: boolean, withResource: boolean): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .record({
      effect: fc.constantFrom('Allow', 'Allow', 'Allow', 'Allow', 'Allow', 'Deny'),
      notAction: fc.boolean().map((b) => b && Math.random() < 0.2),
      actions: oneOrMany(fc.constantFrom(...actionPatterns)),
      notResource: fc.constantFrom(false, false, false, false, true),
      resources: oneOrMany(fc.constantFrom(...resourcePatterns)),
      principal: fc.constantFrom(...principalValues),
      notPrincipal: fc.constantFrom(false, false, false, false, false, false, false, true),
      condition: conditionArb,
    })
    .map((s) => {
      const st: Record<string, unknown> = { Effect: s.effect }
      // NotPrincipal only with Deny, the one use AWS documents.
      if (withPrincipal)
        st[s.notPrincipal && s.effect === 'Deny' && s.principal !== '*' ? 'NotPrincipal' : 'Principal'] =
          s.principal
      st[s.notAction ? 'NotAction' : 'Action'] = s.actions
      if (withResource) st[s.notResource ? 'NotResource' : 'Resource'] = s.resources
      if (s.condition) st.Condition = s.condition
      return st
    })
}

function policyArb(
  withPrincipal: boolean,
  withResource = true,
  max = 3,
): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .array(statementArb(withPrincipal, withResource), { minLength: 1, maxLength: max })
    .map((Statement) => ({ Version: '2012-10-17', Statement }))
}

/** A context with the derived keys spelled out, so both engines see the same request. */
function contextFor(
  principal: string,
  t: Target,
  extra: Record<string, unknown>,
): Record<string, string | string[]> {
  if (!principal.startsWith('arn:')) {
    // A service principal: no principal keys; the resource account still applies.
    const ctx: Record<string, string | string[]> = {
      'aws:CurrentTime': '2026-03-01T12:00:00Z',
      'aws:ResourceAccount': t.resourceAccount ?? t.resource.split(':')[4]!,
    }
    for (const [k, v] of Object.entries(extra))
      if (!k.startsWith('aws:Principal')) ctx[k] = v as string | string[]
    return ctx
  }
  const parts = principal.split(':')
  const account = parts[4]!
  const res = parts[5]!
  const roleName = res.startsWith('assumed-role/') ? res.split('/')[1] : undefined
  const ctx: Record<string, string | string[]> = {
    'aws:PrincipalArn': roleName ? `arn:aws:iam::${account}:role/${roleName}` : principal,
    'aws:PrincipalAccount': account,
    'aws:PrincipalType': roleName ? 'AssumedRole' : 'User',
    'aws:CurrentTime': '2026-03-01T12:00:00Z',
    'aws:ResourceAccount': t.resourceAccount ?? t.resource.split(':')[4]!,
  }
  if (!roleName) ctx['aws:username'] = res.split('/').pop()!
  for (const [k, v] of Object.entries(extra)) ctx[k] = v as string | string[]
  return ctx
}

/** A random request with random policies of every type. */
export const requestArb: fc.Arbitrary<SimulateRequest> = fc
  .record({
    principal: fc.constantFrom(...principals),
    target: fc.constantFrom(...targets),
    identity: fc.array(policyArb(false), { minLength: 0, maxLength: 2 }),
    resourcePolicy: fc.option(policyArb(true), { freq: 4 }),
    trustPolicy: policyArb(true, false),
    scps: fc.option(
      fc.array(fc.array(policyArb(false, true, 2), { minLength: 1, maxLength: 2 }), {
        minLength: 1,
        maxLength: 2,
      }),
      { freq: 3 },
    ),
    rcps: fc.option(
      fc.array(fc.array(policyArb(true, true, 2), { minLength: 1, maxLength: 1 }), {
        minLength: 1,
        maxLength: 1,
      }),
      {
        freq: 5,
      },
    ),
    boundary: fc.option(policyArb(false), { freq: 4 }),
    session: fc.option(policyArb(false), { freq: 5 }),
    // Helpers that make a request likely to be allowed: a statement granting the target action, an
    // SCP FullAWSAccess at each level. Without them random policies almost never allow anything.
    help: fc.record({
      identity: fc.boolean(),
      resource: fc.boolean(),
      boundary: fc.boolean(),
      session: fc.boolean(),
      scpFull: fc.constantFrom(true, true, true, false),
      grantee: fc.constantFrom('caller', 'role', 'account', 'star'),
      actionForm: fc.constantFrom('exact', 'service', 'star'),
    }),
    extra: fc.record(
      Object.fromEntries(Object.entries(contextPools).map(([k, vs]) => [k, fc.constantFrom(...vs)])),
      { requiredKeys: [] },
    ),
  })
  .map((g) => {
    const t = g.target
    const isTrust = t.action === 'sts:AssumeRole'
    const isSession = g.principal.includes(':assumed-role/')
    const h = g.help
    const action =
      h.actionForm === 'exact' ? t.action : h.actionForm === 'service' ? `${t.action.split(':')[0]}:*` : '*'
    const grant = { Effect: 'Allow', Action: action, Resource: h.actionForm === 'exact' ? t.resource : '*' }
    const parts = g.principal.split(':')
    const account = parts[4] ?? A
    const roleName = isSession ? parts[5]!.split('/')[1] : undefined
    const isService = !g.principal.startsWith('arn:')
    const grantee =
      isService && h.grantee !== 'star'
        ? { Service: g.principal }
        : h.grantee === 'star'
          ? '*'
          : h.grantee === 'account'
            ? { AWS: `arn:aws:iam::${account}:root` }
            : h.grantee === 'role' && roleName
              ? { AWS: `arn:aws:iam::${account}:role/${roleName}` }
              : { AWS: g.principal }
    const withGrant = (p: Record<string, unknown>, principal?: unknown): Record<string, unknown> => {
      const st =
        principal === undefined
          ? grant
          : { ...grant, Principal: principal, ...(isTrust ? { Resource: undefined } : {}) }
      const clean = JSON.parse(JSON.stringify(st)) as Record<string, unknown>
      return { ...p, Statement: [clean, ...(p.Statement as unknown[])] }
    }
    if (h.identity)
      g.identity = [
        withGrant(g.identity[0] ?? { Version: '2012-10-17', Statement: [] }),
        ...g.identity.slice(1),
      ]
    if (h.resource) {
      if (isTrust) g.trustPolicy = withGrant(g.trustPolicy, grantee)
      else g.resourcePolicy = withGrant(g.resourcePolicy ?? { Version: '2012-10-17', Statement: [] }, grantee)
    }
    if (h.boundary && g.boundary) g.boundary = withGrant(g.boundary)
    if (h.session && g.session) g.session = withGrant(g.session)
    if (h.scpFull && g.scps) g.scps = g.scps.map((level) => [FULL_ACCESS, ...level])
    if (isService) {
      // A service principal has no identity-based policies, boundary or session, and SCPs do not apply to it.
      g.identity = []
      g.scps = null
      g.boundary = null
    }
    const req: SimulateRequest = {
      principal: g.principal,
      action: t.action,
      resource: t.resource,
      ...(t.resourceAccount ? { resourceAccount: t.resourceAccount } : {}),
      context: contextFor(g.principal, t, g.extra),
      identityPolicies: g.identity,
      // iam:PassRole has no resource-based policy (a role's trust policy does not govern it).
      ...(isTrust
        ? { resourcePolicy: g.trustPolicy }
        : g.resourcePolicy && t.action !== 'iam:PassRole'
          ? { resourcePolicy: g.resourcePolicy }
          : {}),
      ...(g.scps ? { serviceControlPolicies: g.scps } : {}),
      ...(g.rcps ? { resourceControlPolicies: g.rcps.map((l) => l.map((p) => rcpOf(p))) } : {}),
      ...(g.boundary ? { permissionBoundary: g.boundary } : {}),
      ...(g.session && isSession ? { sessionPolicy: g.session } : {}),
    }
    return req
  })

const FULL_ACCESS = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }

/** RCPs: Principal "*" only, Deny statements only (RCPFullAWSAccess allows everything else). */
function rcpOf(p: Record<string, unknown>): Record<string, unknown> {
  const Statement = (p.Statement as Record<string, unknown>[]).map(
    ({ NotAction, NotPrincipal: _np, ...s }) => ({
      ...s,
      ...(NotAction ? { Action: NotAction } : {}),
      Action: ([] as string[])
        .concat((NotAction ?? s.Action) as string)
        .filter((a) => a !== '*')
        .concat('s3:GetObject'),
      Effect: 'Deny',
      Principal: '*',
    }),
  )
  return { ...p, Statement }
}
