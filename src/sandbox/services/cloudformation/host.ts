/**
 * The engine's host inside the sandbox: how CloudFormation acts for a stack.
 *
 * - Without a RoleARN, CloudFormation "uses a temporary session that it generates from your user
 *   credentials" — the sandbox makes the calls as the caller's own identity.
 * - With a RoleARN, the caller must be allowed `iam:PassRole` on it, and CloudFormation assumes
 *   it: the role's trust policy must allow the service principal `cloudformation.amazonaws.com`;
 *   every call is then made as that role's session.
 *   https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html
 *
 * Calls go through the other services' own handlers with a RequestContext for that identity —
 * never into their stores — so they authorize a stack's work exactly as a direct request.
 */
import { parseArn, servicePrincipal, simulate } from '../../../iam/index.js'
import { authorize as authorizeCall } from '../../auth/authorize.js'
import { identityOf, type Identity } from '../../auth/identity.js'
import { AwsError } from '../../errors.js'
import { callJson, callQueryResult, callRest, type Unsupported } from '../../internal/client.js'
import type { Runtime } from '../../runtime.js'
import { issueSession } from '../../auth/sessions.js'
import type { Caller, EngineHost } from './engine.js'
import { validationError } from './errors.js'
import type { AwsCalls, RestResult } from '../../cfn-providers.js'
import type { Scope } from './store.js'

/** The service principal CloudFormation assumes roles as. */
export const CLOUDFORMATION_PRINCIPAL = servicePrincipal('cloudformation')

/** The session name CloudFormation gives the role sessions it creates. */
const SESSION_NAME = 'AWSCloudFormation'

/**
 * A template's resource of a service or action the sandbox does not serve fails as the template's
 * problem (400 NotSupported), not the sandbox's.
 */
const NOT_SUPPORTED: Unsupported = {
  service: (name) =>
    new AwsError(
      'NotSupported',
      `The crosspipe sandbox has no ${name} service; ${name} resources cannot be provisioned`,
      400,
    ),
  action: (name, _protocol, action) =>
    new AwsError(
      'NotSupported',
      action === undefined
        ? `${name} is not a restXml service`
        : `The crosspipe sandbox's ${name} has no action ${action}`,
      400,
    ),
}

/**
 * Calls made as one identity in one region, through the internal client (internal/client.ts)
 * that CodeBuild and CodePipeline use too.
 */
export function callsAs(runtime: Runtime, identity: Identity, region: string): AwsCalls {
  const as = { identity, region }
  return {
    principal: identity.arn,
    query: (service, action, params) => callQueryResult(runtime, as, service, action, params, NOT_SUPPORTED),
    json: (service, action, input) => callJson(runtime, as, service, action, input, NOT_SUPPORTED),
    async rest(service, call): Promise<RestResult> {
      const res = await callRest(runtime, as, service, call, NOT_SUPPORTED)
      const out =
        res.body === undefined
          ? Buffer.alloc(0)
          : Buffer.isBuffer(res.body)
            ? res.body
            : Buffer.from(res.body)
      return { status: res.status, headers: { ...(res.headers ?? {}) }, body: out }
    },
    authorize(action, resource, context, resourceAccount) {
      authorizeCall(
        { identity, region, secureTransport: true, sourceIp: '127.0.0.1', now: new Date(), runtime },
        { action, resource, context, ...(resourceAccount ? { resourceAccount } : {}) },
        'query',
      )
      return Promise.resolve()
    },
  }
}

/** The engine host over a running sandbox. */
export function sandboxHost(runtime: Runtime): EngineHost {
  return {
    deployer({ caller, roleArn, scope }) {
      const identity = caller.handle as Identity
      if (roleArn === undefined) return Promise.resolve(callsAs(runtime, identity, scope.region))
      return Promise.resolve(
        callsAs(runtime, assumeForStack(runtime, identity, roleArn, scope), scope.region),
      )
    },
    async readTemplateUrl({ caller, url, scope }) {
      const loc = s3Location(url)
      if (!loc) throw validationError('TemplateURL must be a supported URL.')
      const calls = callsAs(runtime, caller.handle as Identity, scope.region)
      try {
        const res = await calls.rest('s3', { method: 'GET', path: `/${loc.bucket}/${loc.key}` })
        return res.body.toString('utf8')
      } catch (e) {
        if (e instanceof AwsError) {
          throw validationError(`S3 error: ${e.message}`)
        }
        throw e
      }
    },
  }
}

/**
 * Checks `iam:PassRole` for the caller and that the role trusts CloudFormation, then issues a
 * session of the role. Errors are those of the API call (AccessDenied; ValidationError
 * `Role … is invalid or cannot be assumed`).
 */
function assumeForStack(runtime: Runtime, caller: Identity, roleArn: string, scope: Scope): Identity {
  const now = new Date()
  authorizeCall(
    { identity: caller, region: scope.region, secureTransport: true, sourceIp: '127.0.0.1', now, runtime },
    {
      action: 'iam:PassRole',
      resource: roleArn,
      context: { 'iam:PassedToService': CLOUDFORMATION_PRINCIPAL },
    },
    'query',
  )
  const arn = parseArn(roleArn)
  const roleName = arn?.resource.startsWith('role/') ? arn.resource.split('/').pop() : undefined
  const role = arn && roleName ? runtime.iam.role(arn.account, roleName) : undefined
  const invalid = validationError(`Role ${roleArn} is invalid or cannot be assumed`)
  if (!role || !arn) throw invalid
  const decision = simulate({
    principal: CLOUDFORMATION_PRINCIPAL,
    action: 'sts:AssumeRole',
    resource: role.arn,
    resourceAccount: arn.account,
    resourcePolicy: runtime.iam.parsed(role.assumeRolePolicy),
    context: { 'aws:PrincipalServiceName': CLOUDFORMATION_PRINCIPAL },
  })
  if (decision.decision !== 'Allowed') throw invalid
  const rec = issueSession({
    runtime,
    account: arn.account,
    partition: arn.partition,
    role,
    sessionName: SESSION_NAME,
    durationSeconds: 3600,
    now,
  })
  return identityOf(rec)
}

/** Bucket and key of an S3 URL (path style or virtual-hosted style, any endpoint host). */
export function s3Location(url: string): { bucket: string; key: string } | undefined {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return undefined
  }
  const path = decodeURIComponent(u.pathname.replace(/^\//, ''))
  const host = u.hostname
  const virtual = /^(.+)\.s3[.-]/.exec(host)
  if (virtual) return path ? { bucket: virtual[1]!, key: path } : undefined
  const slash = path.indexOf('/')
  if (slash <= 0) return undefined
  return { bucket: path.slice(0, slash), key: path.slice(slash + 1) }
}

/** The caller of a request as the engine sees it. */
export function callerOf(identity: Identity): Caller {
  return {
    principal: identity.arn,
    account: identity.account,
    partition: identity.partition,
    handle: identity,
  }
}
