/**
 * What a service is to the gateway. A service lives in `services/<name>/` (api.ts, store.ts,
 * errors.ts, SPEC.md) and describes itself with one of three protocol shapes; the gateway does
 * routing, signature verification, identity, request ids and error rendering, so a service's
 * handlers only see parsed input and a {@link RequestContext}.
 */
import type { Identity } from '../auth/identity.js'
import type { Readable } from 'node:stream'
import type { SpooledBody } from '../gateway/spool.js'
import type { XmlObject } from '../gateway/xml.js'
import type { Runtime } from '../runtime.js'

/** Everything a handler knows about the request beyond its input. */
export interface RequestContext {
  readonly requestId: string
  /** The region the request was signed for (its SigV4 scope). */
  readonly region: string
  readonly partition: string
  readonly identity: Identity
  /** Whether the request arrived over TLS (`aws:SecureTransport`). */
  readonly secureTransport: boolean
  readonly sourceIp: string
  readonly now: Date
  readonly runtime: Runtime
}

/** awsQuery parameters, flattened as sent (`Tags.member.1.Key`). */
export type QueryParams = ReadonlyMap<string, string>

/** An awsQuery action: returns the children of `<ActionResult>` (or nothing for empty results). */
export type QueryAction = (
  params: QueryParams,
  ctx: RequestContext,
) => Promise<XmlObject | undefined> | XmlObject | undefined

/** An awsJson action: returns the response document. */
export type JsonAction = (input: Readonly<Record<string, unknown>>, ctx: RequestContext) => unknown

/** A restXml request after signature verification, body decoded (aws-chunked removed). */
export interface RestRequest {
  readonly method: string
  /** Decoded path, e.g. `/bucket/a key`. */
  readonly path: string
  readonly rawPath: string
  /** Decoded query pairs, in order. */
  readonly query: readonly (readonly [string, string])[]
  /** Lower-case header names to their (first) values. */
  readonly headers: ReadonlyMap<string, string>
  readonly body: Buffer
  /** Trailing headers of an aws-chunked body (`x-amz-checksum-crc32`…). */
  readonly trailers: ReadonlyMap<string, string>
  readonly host: string
  /** The request was authenticated by a presigned URL. */
  readonly presigned: boolean
  /**
   * A large body streamed to a temporary file instead of {@link RestRequest.body} (which is then
   * empty): S3 PutObject and UploadPart. Verified against the payload hash already.
   */
  readonly spooled?: SpooledBody
  /** The caller (the gateway) can send a {@link RestResponse.stream}; internal callers want bytes. */
  readonly streamResponse?: boolean
}

/** A restXml answer. */
export interface RestResponse {
  readonly status: number
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: Buffer | string
  /**
   * The body as a stream instead (large object bodies), with its `content-length` header; only
   * for requests that allow it ({@link RestRequest.streamResponse}).
   */
  readonly stream?: Readable
}

interface ServiceBase {
  /** Folder name and the service's prefix in IAM actions (`kms`, `s3`). */
  readonly name: string
  /** The SigV4 signing name that routes requests to it. */
  readonly signingName: string
  /** Global services (IAM) keep one state per account, not per region. */
  readonly global?: boolean
}

/** An awsQuery service (STS, IAM, CloudFormation). */
export interface QueryService extends ServiceBase {
  readonly protocol: 'query'
  readonly xmlNamespace: string
  readonly apiVersion: string
  readonly actions: Readonly<Record<string, QueryAction>>
}

/** An awsJson 1.0/1.1 service (KMS, CodePipeline, CodeBuild). */
export interface JsonService extends ServiceBase {
  readonly protocol: 'json'
  readonly jsonVersion: '1.0' | '1.1'
  /** `X-Amz-Target` prefix, e.g. `TrentService`. */
  readonly targetPrefix: string
  readonly actions: Readonly<Record<string, JsonAction>>
}

/** A restXml service (S3). */
export interface RestXmlService extends ServiceBase {
  readonly protocol: 'rest-xml'
  handle(req: RestRequest, ctx: RequestContext): Promise<RestResponse>
}

/** Any service the gateway can route to. */
export type Service = QueryService | JsonService | RestXmlService
