/**
 * The gateway: one HTTP listener on loopback for every service, as LocalStack's edge port.
 *
 * A request is routed by its SigV4 credential scope's service name, then by `X-Amz-Target`,
 * then by the awsQuery `Action` parameter — the same facts the real endpoints dispatch on — and
 * its signature is verified before any service code runs. Services answer with values or throw
 * {@link AwsError}; anything else escaping a service is a bug, logged and answered 500.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createTlsServer } from 'node:https'
import type { TLSSocket } from 'node:tls'
import type { AddressInfo } from 'node:net'
import { pipeline, Readable } from 'node:stream'
import { XML_NAMESPACES } from '../../iam/aws-facts.js'
import { emit, type IoHost } from '../../model/io.js'
import { identityOf, type Identity } from '../auth/identity.js'
import { MAX_API_BODY_BYTES, MAX_BODY_BYTES } from '../config.js'
import { hostId as newHostId, requestId as newRequestId } from '../ids.js'
import type { Runtime } from '../runtime.js'
import type { RequestContext, Service } from '../services/types.js'
import { CorruptBodyError } from '../store/blobs.js'
import { isDiskFull } from '../store/state-dir.js'
import { authError, type AuthFailure, type AuthFamily } from './auth-errors.js'
import {
  ChunkedDecoder,
  ChunkedError,
  decodeChunked,
  type ChunkedFailure,
  type ChunkSigning,
} from './chunked.js'
import { protocolOfRequest, unservedAnswer } from './unserved.js'
import { AwsError, isAwsError } from '../errors.js'
import { ClientGoneError, requestedChecksums, spoolBody, type SpooledBody } from './spool.js'
import { jsonError, jsonResult, queryError, queryResult, s3Error, type WireResponse } from './protocols.js'
import {
  checkTime,
  computeSignature,
  headerMap,
  parseRawQuery,
  readClaim,
  type ClaimProblem,
  sameSignature,
  sha256Hex,
  signingRuleProblem,
  type SignatureClaim,
} from './sigv4.js'

/** Options for {@link startGateway}. */
export interface GatewayOptions {
  readonly runtime: Runtime
  /** 0 picks a free port. */
  readonly port: number
  readonly io?: IoHost
  /** Admin API token (`x-crosspipe-admin-token`), required for `/_crosspipe/accounts` writes. */
  readonly adminToken: string
  /**
   * A second, HTTPS listener with this key and certificate (PEM), so that requests can carry
   * `aws:SecureTransport = true` as they do on AWS. Port 0 picks a free one.
   */
  readonly tls?: { readonly key: Buffer; readonly cert: Buffer; readonly port: number }
  /** Called after the admin API added an account (the profile files must list it). */
  readonly onAccountsChanged?: () => void
}

/** A running gateway. */
export interface Gateway {
  readonly server: Server
  readonly port: number
  readonly endpoint: string
  /** The HTTPS endpoint, when a TLS listener was asked for. */
  readonly httpsEndpoint?: string
  close(): Promise<void>
}

const HOST = '127.0.0.1'

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? '0')
    if (declared > limit) {
      req.resume()
      reject(new BodyTooLarge())
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size > limit) {
        req.removeAllListeners('data')
        req.resume()
        reject(new BodyTooLarge())
        return
      }
      chunks.push(c)
    })
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)))
    req.on('error', (e) => reject(new ClientGoneError(e.message)))
    req.on('aborted', () => reject(new ClientGoneError('the client closed the connection mid-body')))
  })
}

/**
 * S3 PutObject and UploadPart bodies of this size or more are streamed to disk rather than read
 * into memory (aws-chunked ones whatever their size): memory per upload stays bounded, and the
 * body is written and hashed on a worker thread (store/body-workers.ts) instead of the event loop.
 * Every body the S3 store keeps in a file (over 64 KiB, s3/store.ts's INLINE_MAX) is streamed;
 * smaller ones, kept in their row, are read whole. Measured with 8 clients on a loaded 2-core
 * machine, three interleaved rounds, server CPU per PutObject and requests per second: at 96 KiB
 * 1.2 ms and 1,060/s streamed against 1.4 ms and 830/s read whole; at 256 KiB 1.55 ms and 830/s
 * against 2.0 ms and 580/s. (Before the workers, when the event loop hashed streamed bodies itself,
 * reading whole was cheaper below 1 MiB, where this bound then sat.)
 */
const STREAM_MIN_BYTES = 64 * 1024 + 1

/** The x-amz-content-sha256 values of aws-chunked bodies the gateway decodes. */
const STREAMING_MODES = [
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
  'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
]

/** Whether a request's body is streamed to disk (see {@link STREAM_MIN_BYTES}). */
function streams(
  method: string,
  headers: ReadonlyMap<string, readonly string[]>,
  query: readonly (readonly [string, string])[],
): boolean {
  if (method !== 'PUT' || headers.has('x-amz-copy-source')) return false
  const sha = headers.get('x-amz-content-sha256')?.[0] ?? ''
  if (sha.startsWith('STREAMING-')) {
    // aws-chunked: streamed whatever its size, so that what is read into memory never depends on
    // a length the client declares (its Content-Length counts the chunk framing, and the AWS SDKs
    // send it with Transfer-Encoding: chunked and no Content-Length). Its decoded length was
    // checked before (see decodedLengthProblem).
    if (!STREAMING_MODES.includes(sha)) return false
  } else {
    if ((headers.get('content-encoding')?.[0] ?? '').includes('aws-chunked')) return false
    const declared = Number(headers.get('content-length')?.[0] ?? 'NaN')
    if (!Number.isSafeInteger(declared) || declared < STREAM_MIN_BYTES || declared > MAX_BODY_BYTES)
      return false
  }
  // Bucket subresources (?policy, ?tagging, …) have small XML bodies; objects and parts stream.
  return query.every(
    ([k]) => k === 'partNumber' || k === 'uploadId' || k.startsWith('X-Amz-') || k === 'x-id',
  )
}

/**
 * An S3 aws-chunked request must say the length of its decoded body in
 * `x-amz-decoded-content-length` ("For all requests, you must include the
 * x-amz-decoded-content-length header":
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html): without it the sandbox
 * answers as S3 does for a body of unknown length, `MissingContentLength` (411,
 * https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList); over the
 * largest body the sandbox takes, `EntityTooLarge`, before any of the body is read.
 */
function decodedLengthProblem(headers: ReadonlyMap<string, readonly string[]>): AwsError | undefined {
  if (!(headers.get('x-amz-content-sha256')?.[0] ?? '').startsWith('STREAMING-')) return undefined
  const v = headers.get('x-amz-decoded-content-length')?.[0]
  if (v === undefined)
    return new AwsError('MissingContentLength', 'You must provide the Content-Length HTTP header.', 411)
  if (!/^\d{1,16}$/.test(v))
    return new AwsError(
      'InvalidArgument',
      'x-amz-decoded-content-length must be a non-negative integer.',
      400,
    )
  if (Number(v) > MAX_BODY_BYTES)
    return new AwsError('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', 400)
  return undefined
}

/**
 * The answer to a write on a full disk. S3 documents no error for it, so the sandbox uses HTTP 507
 * Insufficient Storage (RFC 4918 §11.5): the AWS SDKs retry only throttling codes, transient codes
 * and statuses 500, 502, 503 and 504
 * (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html), so a client gets
 * this message at once instead of retrying a write that cannot succeed. See s3/SPEC.md.
 */
function diskFullError(runtime: Runtime): AwsError {
  return new AwsError(
    'InsufficientStorage',
    `The sandbox cannot store this: the disk holding ${runtime.stateDir} is full. Delete objects (deletes still work) or free space on that disk, then retry.`,
    507,
  )
}

function familyOf(s: Service | undefined): AuthFamily {
  if (!s) return 'query'
  return s.protocol === 'rest-xml' ? 's3' : s.protocol === 'json' ? 'json' : 'query'
}

function identityFor(runtime: Runtime, accessKeyId: string): Identity | undefined {
  const c = runtime.credential(accessKeyId)
  return c ? identityOf(c) : undefined
}

/** Finds the service for a request: signing name, then X-Amz-Target, then the Action parameter. */
function route(
  services: readonly Service[],
  claim: SignatureClaim | undefined,
  target: string | undefined,
  action: string | undefined,
): Service | undefined {
  if (claim) return services.find((s) => s.signingName === claim.service)
  if (target) {
    const prefix = target.split('.')[0]
    return services.find((s) => s.protocol === 'json' && s.targetPrefix === prefix)
  }
  if (action) return services.find((s) => s.protocol === 'query' && Object.hasOwn(s.actions, action))
  return services.find((s) => s.protocol === 'rest-xml')
}

/** An answer: a protocol's wire answer, or an S3 object body streamed from its file. */
type Outgoing =
  | WireResponse
  | { readonly status: number; readonly headers: Record<string, string>; readonly body: Readable }

function send(res: ServerResponse, w: Outgoing, head: boolean, io?: IoHost): void {
  if (w.body instanceof Readable) {
    // A large object body from its file: streamed, with the content-length the service set.
    res.writeHead(w.status, w.headers)
    if (head) {
      w.body.destroy()
      res.end()
      return
    }
    pipeline(w.body, res, (err) => {
      // The client went away, or the file could not be read after the headers were sent: the
      // connection is closed mid-body, which the client sees as a short read (never wrong bytes).
      if (err) emit(io, 'debug', 'sandbox.client-gone', `response body not completed: ${err.message}`)
    })
    return
  }
  const body = typeof w.body === 'string' ? Buffer.from(w.body) : w.body
  const headers: Record<string, string | number> = { ...w.headers }
  if (headers['content-length'] === undefined) headers['content-length'] = body.length
  res.writeHead(w.status, headers)
  res.end(head ? undefined : body)
}

function renderError(
  service: Service | undefined,
  err: AwsError,
  requestId: string,
  method: string,
): WireResponse {
  if (!service || service.protocol === 'query')
    return queryError(err, service?.xmlNamespace ?? XML_NAMESPACES.sts, requestId)
  if (service.protocol === 'json') return jsonError(service.jsonVersion, err, requestId)
  return s3Error(err, requestId, newHostId(), method === 'HEAD')
}

/** The chunk signing material of a signed aws-chunked body; undefined for an unsigned one. */
function chunkSigning(mode: string, key: Buffer, claim: SignatureClaim): ChunkSigning | undefined {
  if (!mode.startsWith('STREAMING-AWS4-HMAC-SHA256-PAYLOAD')) return undefined
  return {
    key,
    amzDate: claim.amzDate,
    scope: `${claim.scopeDate}/${claim.region}/${claim.service}/aws4_request`,
    seedSignature: claim.signature,
  }
}

/** Starts the gateway on 127.0.0.1. */
export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const { runtime, io } = opts
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    void handle(req, res).catch((e: unknown) => {
      if (e instanceof ClientGoneError || (req.destroyed && !req.complete)) {
        emit(
          io,
          'debug',
          'sandbox.client-gone',
          `${req.method ?? ''} ${req.url ?? ''}: ${String((e as Error).message)}`,
        )
        res.destroy()
        return
      }
      emit(
        io,
        'error',
        'sandbox.bug',
        `sandbox: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
      )
      if (!res.headersSent)
        send(
          res,
          queryError(
            new AwsError('InternalFailure', 'Internal failure in the sandbox.', 500),
            '',
            newRequestId(),
          ),
          false,
        )
      else res.destroy()
    })
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = newRequestId()
    const method = req.method ?? 'GET'
    const url = req.url ?? '/'
    const qi = url.indexOf('?')
    const rawPath = qi < 0 ? url : url.slice(0, qi)
    const rawQuery = qi < 0 ? '' : url.slice(qi + 1)
    if (rawPath.startsWith('/_crosspipe/')) return admin(req, res, rawPath, method)

    const headers = headerMap(req.rawHeaders)
    const query = parseRawQuery(rawQuery)
    const claimOrProblem = readClaim(headers, query)
    const claim = 'kind' in claimOrProblem ? undefined : claimOrProblem
    const target = headers.get('x-amz-target')?.[0]
    let service = route(runtime.services, claim, target, query.find(([k]) => k === 'Action')?.[1])
    const isS3 = service?.protocol === 'rest-xml'
    const fail = (e: AwsError): void =>
      send(res, renderError(service, e, requestId, method), method === 'HEAD')

    if (isS3 && claim) {
      const p = decodedLengthProblem(headers)
      if (p) return fail(p)
    }
    const streamed = isS3 && claim !== undefined && streams(method, headers, query)
    let body: Buffer
    try {
      body = streamed
        ? Buffer.alloc(0)
        : await readBody(req, isS3 || !service ? MAX_BODY_BYTES : MAX_API_BODY_BYTES)
    } catch (e) {
      if (e instanceof BodyTooLarge)
        return fail(
          isS3
            ? new AwsError('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', 400)
            : new AwsError('RequestEntityTooLarge', 'Request body is too large.', 413),
        )
      throw e
    }
    // Unsigned awsQuery requests name their action only in the form body.
    if (
      !claim &&
      !target &&
      body.length > 0 &&
      headers.get('content-type')?.[0]?.startsWith('application/x-www-form-urlencoded')
    ) {
      const action = new URLSearchParams(body.toString('utf8')).get('Action') ?? undefined
      service = (action && route(runtime.services, undefined, undefined, action)) || service
    }
    const family = familyOf(service)
    if (claim && !service) {
      // Answered in the unserved service's own protocol, so that its clients can read the message.
      const formAction = headers.get('content-type')?.[0]?.startsWith('application/x-www-form-urlencoded')
        ? (new URLSearchParams(body.toString('utf8')).get('Action') ?? undefined)
        : undefined
      const protocol = protocolOfRequest(claim.service, headers, query, formAction)
      const served = [...new Set(runtime.services.map((s) => s.signingName))].sort()
      return send(res, unservedAnswer(claim.service, protocol, headers, served, requestId), method === 'HEAD')
    }
    if (!claim) {
      const p = claimOrProblem as ClaimProblem
      return fail(
        authError(
          p.kind === 'malformed'
            ? { kind: 'malformed', message: p.message, presigned: !headers.has('authorization') }
            : p,
          family,
        ),
      )
    }
    const authFail = (f: AuthFailure): void => fail(authError(f, family))
    const rule = signingRuleProblem(claim, headers)
    if (rule) return authFail(rule)

    const identity = identityFor(runtime, claim.accessKeyId)
    if (!identity || identity.credential.status !== 'Active')
      return authFail({ kind: 'unknown-key', accessKeyId: claim.accessKeyId })
    const now = new Date()
    const cred = identity.credential
    if (cred.sessionToken !== undefined && claim.securityToken !== cred.sessionToken)
      return authFail({ kind: 'bad-token' })
    if (cred.sessionToken === undefined && claim.securityToken !== undefined && claim.securityToken !== '')
      return authFail({ kind: 'bad-token' })
    const time = checkTime(claim, now)
    if (time?.kind === 'bad-date') return authFail({ kind: 'bad-date' })
    if (time?.kind === 'skewed' || time?.kind === 'not-yet-valid')
      return authFail({ kind: 'skewed', requestTime: time.requestTime, now })
    if (time?.kind === 'expired')
      return authFail({ kind: 'expired-url', expiresAt: time.expiresAt, now, expires: claim.expires ?? 0 })

    // The payload line of the canonical request.
    const contentSha = headers.get('x-amz-content-sha256')?.[0]
    let payloadHash: string
    if (isS3) {
      if (contentSha !== undefined) payloadHash = contentSha
      else if (claim.presigned) payloadHash = 'UNSIGNED-PAYLOAD'
      else
        return fail(
          new AwsError(
            'InvalidRequest',
            'Missing required header for this request: x-amz-content-sha256',
            400,
          ),
        )
    } else {
      // Other services sign the body itself, whatever x-amz-content-sha256 says: UNSIGNED-PAYLOAD and
      // streaming are S3's (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html#create-canonical-request).
      payloadHash = sha256Hex(body)
    }
    const rawReq = { method, rawPath, rawQuery, rawHeaders: req.rawHeaders }
    const computed = computeSignature({
      request: rawReq,
      headers,
      query,
      claim,
      payloadHash,
      secret: cred.secretAccessKey,
    })
    if (!sameSignature(computed.signature, claim.signature))
      return authFail({
        kind: 'signature',
        accessKeyId: claim.accessKeyId,
        stringToSign: computed.stringToSign,
        canonicalRequest: computed.canonicalRequest,
      })
    // Expiry of temporary credentials is checked after the signature, as AWS does.
    if (cred.expiration !== undefined && Date.parse(cred.expiration) <= now.getTime())
      return authFail({ kind: 'expired-token' })

    // Body: a signed hash must match; streaming bodies are decoded and their chunk signatures checked.
    let payload = body
    let trailers: ReadonlyMap<string, string> = new Map()
    let spooled: SpooledBody | undefined
    /** The payload hash is the body's SHA-256 (a signed payload), to compare with the body. */
    const signedPayload = /^[0-9a-f]{64}$/.test(payloadHash)
    if (streamed) {
      const chunked = payloadHash.startsWith('STREAMING-')
      if (!chunked && !signedPayload && payloadHash !== 'UNSIGNED-PAYLOAD')
        return fail(
          new AwsError(
            'InvalidArgument',
            `x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-… or a SHA-256 hex digest`,
            400,
          ),
        )
      // aws-chunked: decoded (and its chunk signatures verified) as it arrives, never held whole.
      const declaredDecoded = Number(headers.get('x-amz-decoded-content-length')?.[0])
      const decoder = chunked
        ? new ChunkedDecoder(
            chunkSigning(payloadHash, computed.key, claim),
            payloadHash.endsWith('-TRAILER') && payloadHash.startsWith('STREAMING-AWS4-HMAC-SHA256-PAYLOAD'),
            declaredDecoded,
          )
        : undefined
      try {
        spooled = await spoolBody(req, runtime.blobs, requestedChecksums(headers), decoder, signedPayload)
      } catch (e) {
        if (isDiskFull(e)) return diskFullWrite(e)
        if (e instanceof ChunkedError) return chunkedFail(e)
        throw e
      }
      const declared = chunked ? declaredDecoded : Number(headers.get('content-length')![0])
      // The hash of a streamed body is known only at its end: compare it before anything is committed.
      const problem =
        spooled.size !== declared
          ? new AwsError(
              'IncompleteBody',
              'You did not provide the number of bytes specified by the Content-Length HTTP header',
              400,
            )
          : signedPayload && spooled.sha256 !== payloadHash
            ? authError(
                // The spool computed the SHA-256 because payloadHash is one.
                { kind: 'content-sha256-mismatch', claimed: payloadHash, actual: spooled.sha256! },
                family,
              )
            : undefined
      if (problem) {
        await spooled.discard()
        return fail(problem)
      }
      trailers = spooled.trailers
    } else if (signedPayload) {
      // S3 compares the body with the hash it was sent; for the other services payloadHash is the
      // body's own hash (above), which the signature already covers.
      if (isS3) {
        const actual = sha256Hex(body)
        if (actual !== payloadHash)
          return authFail({ kind: 'content-sha256-mismatch', claimed: payloadHash, actual })
      }
    } else if (payloadHash.startsWith('STREAMING-')) {
      if (!STREAMING_MODES.includes(payloadHash))
        return fail(
          new AwsError('InvalidArgument', `Unsupported x-amz-content-sha256 value: ${payloadHash}`, 400),
        )
      const decoded = decodeChunked(
        body,
        chunkSigning(payloadHash, computed.key, claim),
        payloadHash.endsWith('-TRAILER') && payloadHash.startsWith('STREAMING-AWS4-HMAC-SHA256-PAYLOAD'),
      )
      if (!decoded.ok) return chunkedFail(decoded)
      const declared = headers.get('x-amz-decoded-content-length')?.[0]
      if (declared !== undefined && Number(declared) !== decoded.body.length)
        return chunkedFail({ reason: 'length', message: '' })
      payload = decoded.body
      trailers = decoded.trailers
    } else if (payloadHash !== 'UNSIGNED-PAYLOAD') {
      return fail(
        new AwsError(
          'InvalidArgument',
          `x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-… or a SHA-256 hex digest`,
          400,
        ),
      )
    }

    const region = claim.region
    const ctx: RequestContext = {
      requestId,
      region,
      partition: runtime.partition(region),
      identity,
      // aws:SecureTransport: true only for requests that came over TLS.
      secureTransport: (req.socket as Partial<TLSSocket>).encrypted === true,
      sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
      now,
      runtime,
    }
    const svc = service!
    const verified: Verified = {
      method,
      rawPath,
      query,
      headers,
      body: payload,
      trailers,
      target,
      presigned: claim.presigned,
      host: headers.get('host')?.[0] ?? '',
      spooled,
    }
    const deleting = method === 'DELETE' || (method === 'POST' && query.some(([k]) => k === 'delete'))
    try {
      let answer: Outgoing
      try {
        answer = await dispatch(svc, ctx, verified)
      } catch (e) {
        // A delete on a full disk: give back the reserved space (state-dir.ts) and try once more.
        if (!deleting || !isDiskFull(e) || !runtime.reserve.release()) throw e
        emit(
          io,
          'warn',
          'sandbox.disk-full',
          `the disk holding ${runtime.stateDir} is full: used the reserved space for a delete`,
        )
        answer = await dispatch(svc, ctx, verified)
      }
      if (deleting) runtime.reserve.ensure()
      send(res, answer, method === 'HEAD', io)
    } catch (e) {
      if (isAwsError(e)) return fail(e)
      if (isDiskFull(e)) return diskFullWrite(e)
      if (e instanceof CorruptBodyError) {
        emit(
          io,
          'error',
          'sandbox.corrupt',
          `sandbox: ${e.object ?? 'an object'} is corrupt: its body file ${e.path} ${e.reason}; answered 500 InternalError. Restore the file from a backup, or delete the object.`,
          { object: e.object, path: e.path },
        )
        return fail(new AwsError('InternalError', 'We encountered an internal error. Please try again.', 500))
      }
      throw e
    } finally {
      await spooled?.discard()
    }

    /** The answer to an aws-chunked body that could not be decoded (see gateway/SPEC.md). */
    function chunkedFail(f: ChunkedFailure): void {
      if (f.reason === 'signature') return authFail({ kind: 'signature', accessKeyId: claim!.accessKeyId })
      if (f.reason === 'length')
        return fail(
          new AwsError(
            'IncompleteBody',
            'You did not provide the number of bytes specified by the Content-Length HTTP header',
            400,
          ),
        )
      fail(
        f.code
          ? new AwsError(f.code, f.message, 400)
          : new AwsError('IncompleteBody', 'The request body terminated unexpectedly', 400),
      )
    }

    function diskFullWrite(e: unknown): void {
      emit(io, 'warn', 'sandbox.disk-full', `${method} ${rawPath}: ${(e as Error).message}`)
      fail(diskFullError(runtime))
    }
  }

  async function admin(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    method: string,
  ): Promise<void> {
    const json = (status: number, v: unknown): void =>
      send(res, { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(v) }, false)
    const body = await readBody(req, 64 * 1024).catch(() => Buffer.alloc(0))
    if (path === '/_crosspipe/health') return json(200, { status: 'running', pid: process.pid })
    if (req.headers['x-crosspipe-admin-token'] !== opts.adminToken)
      return json(403, { message: 'admin token required' })
    if (path === '/_crosspipe/accounts' && method === 'GET')
      return json(200, { accounts: runtime.accounts().map((a) => ({ name: a.name, id: a.id })) })
    if (path === '/_crosspipe/accounts' && method === 'POST') {
      let input: { name?: unknown; id?: unknown }
      try {
        input = JSON.parse(body.toString('utf8')) as { name?: unknown; id?: unknown }
      } catch {
        return json(400, { message: 'body must be JSON {"name": …, "id": …}' })
      }
      if (
        typeof input.name !== 'string' ||
        typeof input.id !== 'string' ||
        !/^\d{12}$/.test(input.id) ||
        !/^[A-Za-z0-9_-]{1,64}$/.test(input.name)
      )
        return json(400, { message: 'name must be 1-64 letters, digits, _ or -, and id 12 digits' })
      if (runtime.accounts().some((x) => x.name === input.name && x.id !== input.id))
        return json(409, { message: `an account named ${input.name} already exists` })
      const a = runtime.addAccount(input.name, input.id)
      opts.onAccountsChanged?.()
      return json(200, { name: a.name, id: a.id })
    }
    return json(404, { message: `no admin route ${method} ${path}` })
  }

  const listen = (server: Server, port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.on('clientError', (_err, socket) => {
        if (socket.writable)
          socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n')
        else socket.destroy()
      })
      server.once('error', reject)
      server.listen(port, HOST, () => resolve((server.address() as AddressInfo).port))
    })
  const stop = (server: Server): Promise<void> =>
    new Promise<void>((res2) => {
      server.close(() => res2())
      server.closeAllConnections()
    })
  const serverOptions = { keepAliveTimeout: 65_000, requestTimeout: 300_000 }
  const server = createServer(serverOptions, handler)
  const port = await listen(server, opts.port)
  let httpsEndpoint: string | undefined
  let tlsServer: Server | undefined
  if (opts.tls) {
    tlsServer = createTlsServer({ ...serverOptions, key: opts.tls.key, cert: opts.tls.cert }, handler)
    try {
      httpsEndpoint = `https://${HOST}:${await listen(tlsServer, opts.tls.port)}`
    } catch (e) {
      await stop(server)
      throw e
    }
  }
  return {
    server,
    port,
    endpoint: `http://${HOST}:${port}`,
    httpsEndpoint,
    close: async () => {
      await Promise.all([stop(server), tlsServer ? stop(tlsServer) : Promise.resolve()])
    },
  }
}

/** Everything dispatch needs from the verified request. */
interface Verified {
  readonly method: string
  readonly rawPath: string
  readonly query: readonly (readonly [string, string])[]
  readonly headers: Map<string, string[]>
  readonly body: Buffer
  readonly trailers: ReadonlyMap<string, string>
  readonly target: string | undefined
  readonly presigned: boolean
  readonly host: string
  readonly spooled?: SpooledBody
}

function safeDecodePath(p: string): string {
  try {
    return decodeURIComponent(p)
  } catch {
    throw new AwsError('InvalidURI', "Couldn't parse the specified URI.", 400)
  }
}

async function dispatch(service: Service, ctx: RequestContext, v: Verified): Promise<Outgoing> {
  if (service.protocol === 'rest-xml') {
    const first = new Map<string, string>()
    for (const [k, vals] of v.headers) first.set(k, vals[0]!)
    const r = await service.handle(
      {
        method: v.method,
        path: safeDecodePath(v.rawPath),
        rawPath: v.rawPath,
        query: v.query,
        headers: first,
        body: v.body,
        trailers: v.trailers,
        host: v.host,
        presigned: v.presigned,
        spooled: v.spooled,
        streamResponse: true,
      },
      ctx,
    )
    const headers: Record<string, string> = {
      'x-amz-request-id': ctx.requestId,
      'x-amz-id-2': newHostId(),
      ...r.headers,
    }
    return r.stream
      ? { status: r.status, headers, body: r.stream }
      : { status: r.status, headers, body: r.body ?? '' }
  }
  if (service.protocol === 'json') {
    const op = v.target?.startsWith(service.targetPrefix + '.')
      ? v.target.slice(service.targetPrefix.length + 1)
      : undefined
    if (v.method !== 'POST' || !op || !Object.hasOwn(service.actions, op))
      return jsonError(
        service.jsonVersion,
        new AwsError(
          'UnknownOperationException',
          op
            ? `${op} of ${service.signingName} is not supported by the crosspipe sandbox (src/sandbox/services/${service.name}/SPEC.md lists what is).`
            : '',
          400,
        ),
        ctx.requestId,
      )
    let input: unknown
    try {
      input = v.body.length === 0 ? {} : JSON.parse(v.body.toString('utf8'))
    } catch {
      return jsonError(
        service.jsonVersion,
        new AwsError('SerializationException', 'Start of structure or map found where not expected.', 400),
        ctx.requestId,
      )
    }
    if (input === null || typeof input !== 'object' || Array.isArray(input))
      return jsonError(
        service.jsonVersion,
        new AwsError('SerializationException', 'Start of structure or map found where not expected.', 400),
        ctx.requestId,
      )
    const out = await service.actions[op]!(input as Record<string, unknown>, ctx)
    return jsonResult(service.jsonVersion, out, ctx.requestId)
  }
  // awsQuery: parameters from the form body (POST) or the query string (GET).
  const params = new Map<string, string>()
  for (const [k, val] of v.query) if (!k.startsWith('X-Amz-')) params.set(k, val)
  const ctype = v.headers.get('content-type')?.[0] ?? ''
  if (v.method === 'POST' && v.body.length > 0) {
    if (!ctype.startsWith('application/x-www-form-urlencoded'))
      throw new AwsError(
        'InvalidParameterValue',
        'Content-Type must be application/x-www-form-urlencoded.',
        400,
      )
    for (const [k, val] of new URLSearchParams(v.body.toString('utf8'))) params.set(k, val)
  }
  const action = params.get('Action')
  if (!action)
    return queryError(
      new AwsError('MissingAction', 'Missing Action', 400),
      service.xmlNamespace,
      ctx.requestId,
    )
  if (!Object.hasOwn(service.actions, action))
    return queryError(
      new AwsError(
        'InvalidAction',
        `Could not find operation ${action} for version ${params.get('Version') ?? 'NO_VERSION_SPECIFIED'}: the crosspipe sandbox does not support it (src/sandbox/services/${service.name}/SPEC.md lists what it does).`,
        400,
      ),
      service.xmlNamespace,
      ctx.requestId,
    )
  const result = await service.actions[action]!(params, ctx)
  return queryResult(action, service.xmlNamespace, result, ctx.requestId)
}
