/**
 * The answer to a request for a service the sandbox does not serve, in that service's own
 * protocol, so that every client shows the message instead of failing to parse the body (the AWS
 * SDK for JavaScript, and so the CDK, crashed on an XML answer to a JSON request).
 *
 * The protocol is read from the request itself, as each protocol's clients mark their requests:
 * - Smithy RPC v2 CBOR: the `smithy-protocol: rpc-v2-cbor` header
 *   (https://smithy.io/2.0/additional-specs/protocols/smithy-rpc-v2.html);
 * - AWS JSON 1.0/1.1: `X-Amz-Target` and `Content-Type: application/x-amz-json-1.x`
 *   (https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html);
 * - AWS query (and EC2 query): an `Action` parameter in the query string or form body
 *   (https://smithy.io/2.0/aws/protocols/aws-query-protocol.html);
 * - REST-XML or REST-JSON otherwise: the service's model says which. Of AWS's services only
 *   S3 (served), S3 Control, CloudFront and Route 53 are REST-XML (the `metadata.protocol` of
 *   every service model in botocore 1.43); the rest of the REST services are REST-JSON.
 */
import { XML_NAMESPACES } from '../../iam/aws-facts.js'
import { AwsError } from '../errors.js'
import { jsonError, queryError } from './protocols.js'
import type { WireResponse } from './protocols.js'

/** Signing names of the REST-XML services (see above). */
const REST_XML = new Set(['s3', 'cloudfront', 'route53'])

/** The protocol a request for an unserved service speaks. */
export type UnservedProtocol = 'cbor' | 'json' | 'query' | 'rest-xml' | 'rest-json'

/** Reads the protocol off the request. */
export function protocolOfRequest(
  signingName: string,
  headers: ReadonlyMap<string, readonly string[]>,
  query: readonly (readonly [string, string])[],
  formAction: string | undefined,
): UnservedProtocol {
  if (headers.get('smithy-protocol')?.[0]?.toLowerCase() === 'rpc-v2-cbor') return 'cbor'
  if (headers.has('x-amz-target')) return 'json'
  if (formAction !== undefined || query.some(([k]) => k === 'Action')) return 'query'
  return REST_XML.has(signingName) ? 'rest-xml' : 'rest-json'
}

/** The sandbox's answer for an unserved service, in the request's protocol. */
export function unservedAnswer(
  signingName: string,
  protocol: UnservedProtocol,
  headers: ReadonlyMap<string, readonly string[]>,
  served: readonly string[],
  requestId: string,
): WireResponse {
  const message = `${signingName} is not supported by the crosspipe sandbox: it serves ${served.join(', ')}. Point this client at AWS (or another emulator) for ${signingName}.`
  switch (protocol) {
    case 'json': {
      const ctype = headers.get('content-type')?.[0] ?? ''
      const version = /application\/x-amz-json-1\.0/i.test(ctype) ? '1.0' : '1.1'
      return jsonError(version, new AwsError('UnknownOperationException', message, 400), requestId)
    }
    case 'query':
      return queryError(new AwsError('InvalidAction', message, 400), XML_NAMESPACES.sts, requestId)
    case 'rest-json':
      // REST-JSON errors: the code in `x-amzn-errortype`, the message in the body
      // (https://smithy.io/2.0/aws/protocols/aws-restjson1-protocol.html#operation-error-serialization).
      return {
        status: 400,
        headers: {
          'content-type': 'application/json',
          'x-amzn-requestid': requestId,
          'x-amzn-errortype': 'UnknownOperationException',
        },
        body: JSON.stringify({ message }),
      }
    case 'rest-xml':
      // REST-XML errors (other than S3's): `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>`
      // (https://smithy.io/2.0/aws/protocols/aws-restxml-protocol.html#error-response-serialization).
      return {
        status: 400,
        headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
        body:
          '<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code>' +
          `<Message>${escapeXml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      }
    case 'cbor':
      // RPC v2 CBOR errors: a CBOR map with `__type` and `message`.
      return {
        status: 400,
        headers: {
          'content-type': 'application/cbor',
          'smithy-protocol': 'rpc-v2-cbor',
          'x-amzn-requestid': requestId,
        },
        body: cborMap({ __type: 'UnknownOperationException', message }),
      }
  }
}

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** A CBOR (RFC 8949) map of text strings: all an error body needs, so no library for it. */
function cborMap(fields: Record<string, string>): Buffer {
  const parts: Buffer[] = [head(5, Object.keys(fields).length)]
  for (const [k, v] of Object.entries(fields)) parts.push(text(k), text(v))
  return Buffer.concat(parts)
}

function text(s: string): Buffer {
  const b = Buffer.from(s, 'utf8')
  return Buffer.concat([head(3, b.length), b])
}

/** The initial byte(s) of a CBOR item: major type and length. */
function head(major: number, n: number): Buffer {
  if (n < 24) return Buffer.from([(major << 5) | n])
  if (n < 0x100) return Buffer.from([(major << 5) | 24, n])
  if (n < 0x10000) return Buffer.from([(major << 5) | 25, n >> 8, n & 0xff])
  const b = Buffer.alloc(5)
  b[0] = (major << 5) | 26
  b.writeUInt32BE(n, 1)
  return b
}
