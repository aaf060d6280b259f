/**
 * An S3 operation: its name (AWS's), the HTTP binding of its input and output (the AWS SDK v3's
 * own request and output types), and one function from input to output. The service is the list
 * of operations (`operations/index.ts`) and the route table (`routes.ts`) that names them.
 */
import type { Acceptance } from '../../operations/index.js'
import type { RequestContext, RestRequest, RestResponse } from '../types.js'
import type { S3Env } from './api.js'
import type { InputBinding, OutputBinding } from './http.js'
import type { BucketRecord } from './store.js'

/** What an operation sees besides its input. */
export interface Call {
  readonly env: S3Env
  readonly ctx: RequestContext
  /** The request, for what belongs to the envelope rather than the operation: signing facts, body integrity. */
  readonly req: RestRequest
}

/** A call on an existing bucket, loaded and checked (region, expected owner) before the operation runs. */
export interface BucketCall extends Call {
  readonly bucket: BucketRecord
}

/** An answer an output binding cannot express (a 304, a stored document sent as it was stored). */
export class Raw {
  constructor(readonly response: RestResponse) {}
}

/**
 * What an operation declares about its input beyond its binding. A member of the operation's input
 * in S3's model that the request carries (its header, a header of its prefix, its query parameter)
 * is honoured when the binding reads it, when `honours` names it (read from the request's envelope,
 * as Content-MD5 and the checksum headers are), or when every operation honours it (api.ts:
 * `x-amz-expected-bucket-owner`, Content-MD5, `x-amz-sdk-checksum-algorithm`, Content-Length); it
 * is accepted without effect when `accepts` (or every operation: `x-amz-request-payer`) says why;
 * anything else — and a bound member `refuses` names — is refused with `InvalidArgument`
 * before the operation runs, as the operation layer does for the other services
 * (src/sandbox/operations/index.ts).
 */
export interface S3Members<I> {
  /** Members read outside the binding, from the request itself. */
  readonly honours?: readonly (keyof I & string)[]
  /** Members accepted without effect, each with why (`when`: the header's value it is accepted at). */
  readonly accepts?: { readonly [K in keyof I & string]?: Acceptance }
  /**
   * Why a member is refused, said to the client. A member named here is refused even when the
   * binding reads it (a query parameter the route table must still know as this operation's).
   */
  readonly refuses?: { readonly [K in (keyof I & string) | '*']?: string }
  /** The operation checks Content-MD5 and the checksum headers against its body itself. */
  readonly ownIntegrity?: true
  /** The operation refuses every request itself (Object Lock on buckets that have none). */
  readonly refusesEveryRequest?: true
}

interface OperationBase<I, O> {
  /** AWS's operation name, as in the route table. */
  readonly name: string
  readonly input: InputBinding<I>
  readonly output: OutputBinding<O>
  /** Its members beyond the binding: see {@link S3Members}. */
  readonly members?: S3Members<I>
}

/** An operation on an existing bucket (or an object in it). */
export interface BucketOperation<I, O> extends OperationBase<I, O> {
  readonly bucket?: true
  run(input: I, call: BucketCall): Promise<O | Raw> | O | Raw
}

/** An operation that does not need an existing bucket (ListBuckets, CreateBucket). */
export interface FreeOperation<I, O> extends OperationBase<I, O> {
  readonly bucket: false
  run(input: I, call: Call): Promise<O | Raw> | O | Raw
}

/** Any operation. */
export type Operation<I = never, O = never> = BucketOperation<I, O> | FreeOperation<I, O>

/** Declares an operation on a bucket, inferring its types from the SDK types given. */
export function operation<I, O>(op: BucketOperation<I, O>): BucketOperation<I, O> {
  return op
}

/** Declares an operation that needs no existing bucket. */
export function freeOperation<I, O>(op: FreeOperation<I, O>): FreeOperation<I, O> {
  return op
}
