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
import { randomUUID } from 'node:crypto'
import { endpointHost, parseArn, servicePrincipal, simulate } from '../../../iam/index.js'
import { authorize as authorizeCall } from '../../auth/authorize.js'
import { identityOf, type Identity } from '../../auth/identity.js'
import { AwsError } from '../../gateway/errors.js'
import type { Runtime } from '../../runtime.js'
import { issueSession } from '../../auth/sessions.js'
import type { RequestContext, Service } from '../types.js'
import type { Caller, EngineHost } from './engine.js'
import { validationError } from './errors.js'
import type { AwsCalls, RestResult } from '../../cfn-providers.js'
import type { Scope } from './store.js'

/** The service principal CloudFormation assumes roles as. */
export const CLOUDFORMATION_PRINCIPAL = servicePrincipal('cloudformation')

/** The session name CloudFormation gives the role sessions it creates. */
const SESSION_NAME = 'AWSCloudFormation'

function contextFor(runtime: Runtime, identity: Identity, region: string): RequestContext {
  return {
    requestId: randomUUID(),
    region,
    partition: runtime.partition(region),
    identity,
    // CloudFormation reaches the service endpoints over TLS (aws:SecureTransport).
    secureTransport: true,
    sourceIp: '127.0.0.1',
    now: new Date(),
    runtime,
  }
}

function serviceNamed(runtime: Runtime, name: string): Service {
  const s = runtime.services.find((x) => x.name === name)
  if (!s)
    throw new AwsError(
      'NotSupported',
      `The crosspipe sandbox has no ${name} service; ${name} resources cannot be provisioned`,
      400,
    )
  return s
}

/** Calls made as one identity in one region. */
export function callsAs(runtime: Runtime, identity: Identity, region: string): AwsCalls {
  return {
    principal: identity.arn,
    async query(service, action, params) {
      const s = serviceNamed(runtime, service)
      if (s.protocol !== 'query' || !Object.hasOwn(s.actions, action)) {
        throw new AwsError('NotSupported', `The crosspipe sandbox's ${service} has no action ${action}`, 400)
      }
      const map = new Map<string, string>(
        Object.entries({ Action: action, Version: s.apiVersion, ...params }),
      )
      return (await s.actions[action]!(map, contextFor(runtime, identity, region))) ?? undefined
    },
    async json(service, action, input) {
      const s = serviceNamed(runtime, service)
      if (s.protocol !== 'json' || !Object.hasOwn(s.actions, action)) {
        throw new AwsError('NotSupported', `The crosspipe sandbox's ${service} has no action ${action}`, 400)
      }
      return await s.actions[action]!(input, contextFor(runtime, identity, region))
    },
    async rest(service, call): Promise<RestResult> {
      const s = serviceNamed(runtime, service)
      if (s.protocol !== 'rest-xml')
        throw new AwsError('NotSupported', `${service} is not a restXml service`, 400)
      const headers = new Map<string, string>()
      for (const [k, v] of Object.entries(call.headers ?? {})) headers.set(k.toLowerCase(), v)
      const body =
        call.body === undefined
          ? Buffer.alloc(0)
          : Buffer.isBuffer(call.body)
            ? call.body
            : Buffer.from(call.body)
      headers.set('content-length', String(body.length))
      const rawPath = call.path
        .split('/')
        .map((p) => encodeURIComponent(p))
        .join('/')
      const res = await s.handle(
        {
          method: call.method,
          path: call.path,
          rawPath,
          query: call.query ?? [],
          headers,
          body,
          trailers: new Map(),
          host: endpointHost('s3', region),
          presigned: false,
        },
        contextFor(runtime, identity, region),
      )
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
