/**
 * The internal client: calls from one sandbox service into another (CodeBuild and CodePipeline
 * today), made as an identity. It lives below the services so that none imports another.
 *
 * On AWS these services act with a role's temporary credentials: CodeBuild with the project's
 * service role, CodePipeline with the pipeline role or an action's role. So that the sandbox
 * authorizes those calls exactly as direct calls, they go through the other services' own
 * handlers (S3's restXml handler, KMS's and STS's actions) with a {@link RequestContext} whose
 * identity is that role session — never through a private shortcut into another service's store.
 */
import { XMLParser } from 'fast-xml-parser'
import { endpointHost } from '../../iam/index.js'
import { identityOf, type Identity } from '../auth/identity.js'
import { requestId } from '../ids.js'
import { AwsError } from '../errors.js'
import { queryResult } from '../gateway/protocols.js'
import type { RestCall } from '../cfn-providers.js'
import type { XmlObject } from '../gateway/xml.js'
import type { Runtime } from '../runtime.js'
import type { RequestContext, RestResponse, Service } from '../services/types.js'

/** Who acts, and in which region (the SigV4 scope a real client would sign for). */
export interface Acting {
  readonly identity: Identity
  readonly region: string
}

export { identityOf } from '../auth/identity.js'

/** A request context for an internal call, as the gateway would build it. */
export function contextFor(runtime: Runtime, as: Acting): RequestContext {
  return {
    requestId: requestId(),
    region: as.region,
    partition: runtime.partition(as.region),
    identity: as.identity,
    secureTransport: true,
    sourceIp: '127.0.0.1',
    now: new Date(),
    runtime,
  }
}

/**
 * How a call to a service or action the sandbox does not serve fails. Between services it is the
 * sandbox's own fault (500 InternalFailure, the default); CloudFormation words it as a resource
 * the sandbox cannot provision (400 NotSupported, host.ts), since the template chose it.
 */
export interface Unsupported {
  service(name: string): AwsError
  /** `action` is undefined for a restXml service (no action names). */
  action(name: string, protocol: Service['protocol'], action?: string): AwsError
}

const INTERNAL_FAILURE: Unsupported = {
  service: (name) =>
    new AwsError(
      'InternalFailure',
      `The crosspipe sandbox has no ${name} service registered; ${name} calls cannot be made.`,
      500,
    ),
  action: (name, protocol, action) =>
    new AwsError(
      'InternalFailure',
      action === undefined
        ? `${name} is not a restXml service`
        : `${name} has no ${protocol === 'json' ? 'awsJson' : 'awsQuery'} action ${action}`,
      500,
    ),
}

function service(runtime: Runtime, name: string, unsupported: Unsupported): Service {
  const s = runtime.services.find((x) => x.name === name)
  if (!s) throw unsupported.service(name)
  return s
}

/** An awsJson action of another service (KMS, CodeBuild), as `as`. */
export async function callJson(
  runtime: Runtime,
  as: Acting,
  name: string,
  action: string,
  input: Readonly<Record<string, unknown>>,
  unsupported: Unsupported = INTERNAL_FAILURE,
): Promise<unknown> {
  const s = service(runtime, name, unsupported)
  if (s.protocol !== 'json' || !Object.hasOwn(s.actions, action))
    throw unsupported.action(name, 'json', action)
  return await s.actions[action]!(input, contextFor(runtime, as))
}

/** An awsQuery action of another service (IAM, STS), as `as`: the handler's result, before rendering. */
export async function callQueryResult(
  runtime: Runtime,
  as: Acting,
  name: string,
  action: string,
  params: Readonly<Record<string, string>>,
  unsupported: Unsupported = INTERNAL_FAILURE,
): Promise<XmlObject | undefined> {
  const s = service(runtime, name, unsupported)
  if (s.protocol !== 'query' || !Object.hasOwn(s.actions, action))
    throw unsupported.action(name, 'query', action)
  const map = new Map<string, string>(Object.entries({ Action: action, Version: s.apiVersion, ...params }))
  return (await s.actions[action]!(map, contextFor(runtime, as))) ?? undefined
}

const xml = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  isArray: (tag) => tag === 'member',
})

/**
 * An awsQuery action of another service (STS, CloudFormation), as `as`. The result is rendered
 * to XML and parsed back, so callers read it as an SDK reads the wire answer (lists are
 * `{ member: [...] }`), whatever the service keeps in memory.
 */
export async function callQuery(
  runtime: Runtime,
  as: Acting,
  name: string,
  action: string,
  params: Readonly<Record<string, string>>,
): Promise<Record<string, unknown>> {
  const result = await callQueryResult(runtime, as, name, action, params)
  const s = service(runtime, name, INTERNAL_FAILURE)
  const wire = queryResult(action, s.protocol === 'query' ? s.xmlNamespace : '', result, requestId())
  const doc = xml.parse(String(wire.body)) as Record<string, Record<string, unknown>>
  const resp = doc[`${action}Response`] ?? {}
  const r = resp[`${action}Result`]
  return r !== null && typeof r === 'object' ? (r as Record<string, unknown>) : {}
}

/**
 * A restXml request to another service (S3), as `as`, sent as a client would: to the service's
 * endpoint host in the caller's region, with its `content-length`. Errors throw the service's
 * AwsError.
 */
export async function callRest(
  runtime: Runtime,
  as: Acting,
  name: string,
  req: RestCall,
  unsupported: Unsupported = INTERNAL_FAILURE,
): Promise<RestResponse> {
  const s = service(runtime, name, unsupported)
  if (s.protocol !== 'rest-xml') throw unsupported.action(name, s.protocol)
  const headers = new Map<string, string>()
  for (const [k, v] of Object.entries(req.headers ?? {})) headers.set(k.toLowerCase(), v)
  const body =
    req.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body)
  headers.set('content-length', String(body.length))
  const rawPath = req.path
    .split('/')
    .map((p) => encodeURIComponent(p))
    .join('/')
  return await s.handle(
    {
      method: req.method,
      path: req.path,
      rawPath,
      query: req.query ?? [],
      headers,
      body,
      trailers: new Map(),
      host: endpointHost(name, as.region),
      presigned: false,
    },
    contextFor(runtime, as),
  )
}

/**
 * A role session assumes another role through STS's own AssumeRole (trust policy and the
 * caller's identity policy, cross-account rules): what CodePipeline does for an action's RoleArn.
 */
export async function assumeRoleAs(
  runtime: Runtime,
  as: Acting,
  roleArn: string,
  sessionName: string,
): Promise<Identity> {
  const r = await callQuery(runtime, as, 'sts', 'AssumeRole', {
    RoleArn: roleArn,
    RoleSessionName: sessionName,
  })
  const creds = r['Credentials'] as Record<string, string> | undefined
  const akid = creds?.['AccessKeyId']
  const rec = akid ? runtime.credential(akid) : undefined
  if (!rec) throw new AwsError('InternalFailure', `AssumeRole of ${roleArn} returned no credentials`, 500)
  return identityOf(rec)
}

/** An AwsError's `Code: message` for action and build details. */
export function describeError(e: unknown): string {
  if (e instanceof AwsError) return `${e.code}: ${e.message}`
  return e instanceof Error ? e.message : String(e)
}
