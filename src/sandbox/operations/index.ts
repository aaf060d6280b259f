/**
 * The operation layer: a sandbox service is a list of operations, each declared once with the AWS
 * SDK for JavaScript v3's own input and output types, whose input is parsed and validated and whose
 * output is serialized from AWS's service model (model.ts) — so member names, types, required
 * members, constraints and validation messages are AWS's, not hand-written.
 *
 * ```ts
 * import type { AssumeRoleRequest, AssumeRoleResponse } from '@aws-sdk/client-sts'
 * operation<AssumeRoleRequest, AssumeRoleResponse>('AssumeRole', (input, ctx) => { … })
 * ```
 *
 * A service built here has the gateway's `QueryService` / `JsonService` shape (services/types.ts),
 * so the gateway serves old-style services (S3, until it is converted) and
 * new-style ones alike, with no second dispatch: {@link queryService} and {@link jsonService} are
 * that adapter. Operations the model has but the service does not declare are not in `actions`, so
 * the gateway answers them "not supported by the crosspipe sandbox" in the service's protocol.
 */
import { AwsError } from '../errors.js'
import type { JsonAction, JsonService, QueryAction, QueryService, RequestContext } from '../services/types.js'
import { readJsonInput, writeJsonOutput } from './json.js'
import { serviceModel, type ServiceModel } from './model.js'
import { readQueryInput, writeQueryOutput } from './query.js'
import { validationMessage, violationsOf, violationText, type Violation } from './validate.js'

type Leaf = string | number | boolean | Date | Uint8Array

/**
 * An SDK v3 input type as the handler receives it, validated: the members the SDK types as required
 * (`RoleArn: string | undefined`, a key without `?`, which is how the SDK marks the model's
 * required members) are present; optional ones stay optional. Nested structures alike.
 */
export type Validated<T> = T extends Leaf
  ? T
  : T extends readonly (infer E)[]
    ? Validated<E>[]
    : T extends object
      ? {
          [K in keyof T as object extends Pick<T, K> ? never : K]-?: Validated<NonNullable<T[K]>>
        } & {
          [K in keyof T as object extends Pick<T, K> ? K : never]?: Validated<NonNullable<T[K]>>
        }
      : T

/** A handler's answer: the SDK output type, or a promise of it. */
type Answer<O> = O | Promise<O>

/** One operation: its model name and its handler. */
export interface Operation {
  readonly name: string
  readonly handler: (input: never, ctx: RequestContext) => Answer<unknown>
}

/** Declares an operation with the SDK's own types for its input and output. */
export function operation<I extends object, O extends object>(
  name: string,
  handler: (input: Validated<I>, ctx: RequestContext) => Answer<O>,
): Operation {
  return { name, handler: handler }
}

/** What a service built from operations says about itself. */
export interface OperationServiceOptions {
  /** Folder name and IAM prefix (`sts`). */
  readonly name: string
  /** The model file (`dist/data/models/<model>.json`); defaults to {@link name}. */
  readonly model?: string
  readonly signingName: string
  readonly global?: boolean
  readonly operations: readonly Operation[]
  /**
   * The code of a constraint violation: `ValidationError` for awsQuery services and
   * `ValidationException` for awsJson ones unless the service documents another (CloudWatch Logs:
   * `InvalidParameterException`).
   */
  readonly validationCode?: string
  /**
   * The error for an input that breaks the model's constraints, when the service does not answer in
   * the common form (`<validationCode>`: "N validation errors detected: …"): ECR, for one, answers
   * `InvalidParameterException` "Invalid parameter at 'x' failed to satisfy constraint: '…'".
   */
  readonly validationError?: (found: readonly Violation[]) => AwsError
}

/** Checks that every declared operation is in the model: a typo is a bug, found on the service's first request. */
function declared(model: ServiceModel, o: OperationServiceOptions): void {
  for (const op of o.operations)
    if (!Object.hasOwn(model.operations, op.name))
      throw new Error(`service ${o.name}: operation ${op.name} is not in AWS's ${o.model ?? o.name} model`)
}

/** Validates a parsed input, throwing AWS's error for its violations. */
function validate(
  model: ServiceModel,
  shape: string | undefined,
  input: unknown,
  code: string,
  error: OperationServiceOptions['validationError'],
): void {
  if (!shape) return
  const found = violationsOf(model, shape, input)
  if (!found.length) return
  throw error ? error(found) : new AwsError(code, validationMessage(found.map(violationText)), 400)
}

/**
 * A lazily loaded model: the model file is read on the first request, not at start-up, so a
 * sandbox that starts and answers only S3 never reads STS's model.
 */
function lazyModel(name: string): () => ServiceModel {
  let m: ServiceModel | undefined
  return () => (m ??= serviceModel(name))
}

/**
 * The gateway's actions for a service's operations, one way for both protocols: the input read from
 * the wire by the model (`read`), validated against it, the handler run, its output written by the
 * model (`write`). Declared operations are checked against the model on the first request.
 */
function actionsOf<Wire, Out>(
  o: OperationServiceOptions,
  defaultCode: string,
  read: (m: ServiceModel, shape: string | undefined, wire: Wire) => Record<string, unknown>,
  write: (m: ServiceModel, shape: string | undefined, output: unknown) => Out,
): Record<string, (wire: Wire, ctx: RequestContext) => Promise<Out>> {
  const model = lazyModel(o.model ?? o.name)
  let checked = false
  const code = o.validationCode ?? defaultCode
  const actions: Record<string, (wire: Wire, ctx: RequestContext) => Promise<Out>> = {}
  for (const op of o.operations) {
    actions[op.name] = async (wire, ctx) => {
      const m = model()
      if (!checked) {
        declared(m, o)
        checked = true
      }
      const spec = m.operations[op.name]!
      const input = read(m, spec.input, wire)
      validate(m, spec.input, input, code, o.validationError)
      const output = await (op.handler as (i: unknown, c: RequestContext) => Answer<unknown>)(input, ctx)
      return write(m, spec.output, output)
    }
  }
  return actions
}

/**
 * An awsQuery service from operations. The model gives the XML namespace and API version; they are
 * passed here too (`xmlNamespace`, `apiVersion`) because the gateway renders errors in the
 * namespace before any model is loaded.
 */
export function queryService(
  o: OperationServiceOptions & { readonly xmlNamespace: string; readonly apiVersion: string },
): QueryService {
  const actions: Record<string, QueryAction> = actionsOf(
    o,
    'ValidationError',
    readQueryInput,
    writeQueryOutput,
  )
  return {
    name: o.name,
    signingName: o.signingName,
    global: o.global,
    protocol: 'query',
    xmlNamespace: o.xmlNamespace,
    apiVersion: o.apiVersion,
    actions,
  }
}

/** An awsJson service from operations. */
export function jsonService(
  o: OperationServiceOptions & { readonly jsonVersion: '1.0' | '1.1'; readonly targetPrefix: string },
): JsonService {
  const actions: Record<string, JsonAction> = actionsOf(
    o,
    'ValidationException',
    readJsonInput,
    writeJsonOutput,
  )
  return {
    name: o.name,
    signingName: o.signingName,
    global: o.global,
    protocol: 'json',
    jsonVersion: o.jsonVersion,
    targetPrefix: o.targetPrefix,
    actions,
  }
}

export { serviceModel } from './model.js'
export type { ServiceModel, Shape, ShapeRef } from './model.js'
export { readQueryInput, writeQueryOutput } from './query.js'
export { readJsonInput, writeJsonOutput } from './json.js'
export { violations, violationsOf, violationText, validationMessage } from './validate.js'
export type { Violation } from './validate.js'
export { payloadOf, readXmlPayload, writeXmlOutput, XmlBodyError } from './rest-xml.js'
export type { Payload, XmlOutputOptions, XmlReadOptions } from './rest-xml.js'
