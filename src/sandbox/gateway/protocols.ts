/**
 * Rendering answers and errors in each protocol's wire shape:
 * - awsQuery (STS, IAM): https://smithy.io/2.0/aws/protocols/aws-query-protocol.html
 * - awsJson 1.0/1.1 (KMS…): https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html
 * - restXml (S3): https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
 */
import type { AwsError } from '../errors.js'
import { toXml, type XmlObject } from './xml.js'

/** An HTTP answer ready to send. */
export interface WireResponse {
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: Buffer | string
}

/** awsQuery success: `<ActionResponse><ActionResult>…</ActionResult><ResponseMetadata>…`. */
export function queryResult(
  action: string,
  xmlns: string,
  result: XmlObject | undefined,
  requestId: string,
): WireResponse {
  const body: Record<string, XmlObject> = {}
  if (result !== undefined) body[`${action}Result`] = result
  body['ResponseMetadata'] = { RequestId: requestId }
  return {
    status: 200,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body: toXml(`${action}Response`, body, xmlns),
  }
}

/** awsQuery error: `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`. */
export function queryError(err: AwsError, xmlns: string, requestId: string): WireResponse {
  return {
    status: err.status,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId, ...err.headers },
    body: toXml(
      'ErrorResponse',
      { Error: { Type: err.type, Code: err.code, Message: err.message, ...err.extra }, RequestId: requestId },
      xmlns,
    ),
  }
}

/** awsJson success. */
export function jsonResult(version: string, output: unknown, requestId: string): WireResponse {
  return {
    status: 200,
    headers: { 'content-type': `application/x-amz-json-${version}`, 'x-amzn-requestid': requestId },
    body: JSON.stringify(output ?? {}),
  }
}

/** awsJson error: `{"__type": code, "message": …}` and `x-amzn-ErrorType`. */
export function jsonError(version: string, err: AwsError, requestId: string): WireResponse {
  return {
    status: err.status,
    headers: {
      'content-type': `application/x-amz-json-${version}`,
      'x-amzn-requestid': requestId,
      'x-amzn-errortype': err.code,
      ...err.headers,
    },
    body: JSON.stringify({ __type: err.code, message: err.message, ...err.extra }),
  }
}

/** restXml (S3) error: `<Error><Code/><Message/>…<RequestId/><HostId/></Error>`. */
export function s3Error(err: AwsError, requestId: string, hostId: string, head: boolean): WireResponse {
  return {
    status: err.status,
    headers: {
      'content-type': 'application/xml',
      'x-amz-request-id': requestId,
      'x-amz-id-2': hostId,
      ...err.headers,
    },
    // HEAD answers carry no body; the SDKs derive the error from the status alone.
    body: head
      ? ''
      : toXml('Error', {
          Code: err.code,
          Message: err.message,
          ...err.extra,
          RequestId: requestId,
          HostId: hostId,
        }),
  }
}
