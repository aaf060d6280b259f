/**
 * The operation layer: a sandbox service is a list of operations, each declared once with the AWS
 * SDK for JavaScript v3's own input and output types, whose input is parsed and validated and whose
 * output is serialized from AWS's service model (model.ts) — so member names, types, required
 * members, constraints and validation messages are AWS's, not hand-written.
 *
 * ```ts
 * import type { AssumeRoleRequest, AssumeRoleResponse } from '@aws-sdk/client-sts'
 * operation<AssumeRoleRequest, AssumeRoleResponse>('AssumeRole', (input, ctx) => { … }, {
 *   honours: ['RoleArn', 'RoleSessionName', 'Policy', 'DurationSeconds', 'ExternalId', 'SourceIdentity'],
 *   refuses: { PolicyArns: 'pass the session policy as Policy (inline JSON) instead' },
 * })
 * ```
 *
 * Every operation also declares the members of its input it acts on ({@link Members}): `honours`,
 * the members its handler's behaviour depends on as AWS documents them, and `accepts`, members
 * taken without effect here, each with its reason (an idempotency token: the sandbox runs each
 * request once anyway), optionally only at one value (`RetainExceptOnCreate: false`, AWS's
 * default). After the input is parsed and validated, and before the handler runs, the layer
 * refuses any member present in the request that is neither: a member a handler ignores would
 * otherwise be silently dropped — the user asks for something and the sandbox pretends it did it.
 * The answer names the member and says that it is the sandbox's limit, in the service's own error
 * shape and code (its validation code unless `unsupportedCode` says another, 400):
 *
 *   `StartBuild: imageOverride is not supported by the crosspipe sandbox (a limit of the sandbox, not an error in the request): …`
 *
 * A member is named by its model name; a member of a structure member, or of the structures of a
 * list member, by a dotted path (`RollbackConfiguration.RollbackTriggers`): declaring a path
 * declares its parent honoured in part, and the parent's other members are then refused. The
 * declared names are type-checked against the SDK's input type and checked against AWS's model
 * on the service's first request (and by test/sandbox/members.test.ts for every service).
 *
 * The rule for each member: honoured only if the handler acts on it as AWS documents; accepted
 * only where it truly changes nothing here, saying why (a token that tells retries apart, a filter
 * over a set that is always empty, a flag at the value AWS treats as absent); otherwise refused —
 * and never refused when clients send it routinely and the sandbox can honour it (S3's checksum
 * headers, `x-amz-expected-bucket-owner`). S3, served by its own route table, applies the same
 * rule to the headers and query parameters of its operations (S3Members, services/s3/operation.ts).
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

type Item<T> = T extends readonly (infer E)[] ? E : T
type Nested<T> = NonNullable<Item<NonNullable<T>>>

/**
 * An input member's name (`RoleArn`), or a member of a structure member or of a list member's
 * structures, dotted (`RollbackConfiguration.RollbackTriggers`, `Parameters.UsePreviousValue`).
 */
export type MemberPath<I> = I extends unknown ? MemberPathOf<I> : never
type MemberPathOf<I> = {
  [K in keyof I & string]:
    | K
    | (Nested<I[K]> extends Leaf
        ? never
        : Nested<I[K]> extends object
          ? `${K}.${keyof Nested<I[K]> & string}`
          : never)
}[keyof I & string]

/**
 * A member accepted though it changes nothing in the sandbox: why (said in the declaration and
 * SPEC.md), and, when it is accepted at one value only (AWS's default, "off"), that value or a
 * test of it; any other value is refused like an undeclared member.
 */
export type Acceptance =
  string | { readonly why: string; readonly when: Leaf | ((value: unknown) => boolean) }

/** The members of an operation's input it acts on, and those it accepts without effect. */
export interface Members<I> {
  /** The members the handler's behaviour depends on, as AWS documents them. */
  readonly honours: readonly MemberPath<I>[]
  /** Members accepted without effect here, each with its reason. */
  readonly accepts?: { readonly [P in MemberPath<I>]?: Acceptance }
  /**
   * What to tell a client whose request is refused, after the common sentence: by member, or `*`
   * for any member (`send the policy as a body`, `it runs a build as its project says, …`).
   */
  readonly refuses?: { readonly [P in MemberPath<I> | '*']?: string }
  /**
   * The handler refuses every request itself, whatever its members (an operation of the model
   * the sandbox answers only to say it does not model it, such as ECR's image operations): its
   * own message says more than a member's would, so the layer leaves the members to it.
   */
  readonly refusesEveryRequest?: true
}

/** One operation: its model name, its handler and the members it declares. */
export interface Operation {
  readonly name: string
  readonly handler: (input: never, ctx: RequestContext) => Answer<unknown>
  readonly members: Members<Record<string, unknown>>
}

/**
 * Declares an operation with the SDK's own types for its input and output, and the members of its
 * input it honours or accepts (everything else sent is refused before `handler` runs).
 */
export function operation<I extends object, O extends object>(
  name: string,
  handler: (input: Validated<I>, ctx: RequestContext) => Answer<O>,
  members: Members<I>,
): Operation {
  return { name, handler, members: members as unknown as Members<Record<string, unknown>> }
}

/** A declaration as a tree of member names: honoured whole, accepted, or honoured in part. */
interface MemberNode {
  whole: boolean
  accept?: Acceptance
  readonly children: Map<string, MemberNode>
}

function memberTree(m: Members<Record<string, unknown>>): MemberNode {
  const root: MemberNode = { whole: false, children: new Map() }
  const at = (path: string): MemberNode => {
    let n = root
    for (const seg of path.split('.')) {
      let c = n.children.get(seg)
      if (!c) n.children.set(seg, (c = { whole: false, children: new Map() }))
      n = c
    }
    return n
  }
  for (const p of m.honours) at(p).whole = true
  for (const [p, a] of Object.entries(m.accepts ?? {})) if (a !== undefined) at(p).accept = a
  return root
}

function accepted(a: Acceptance, v: unknown): boolean {
  if (typeof a === 'string') return true
  return typeof a.when === 'function' ? a.when(v) : a.when === v
}

/** The present members of `value` that the declaration neither honours nor accepts, as dotted paths. */
function refusedMembers(node: MemberNode, value: unknown, prefix: string, out: string[]): void {
  if (value === null || typeof value !== 'object' || value instanceof Date || value instanceof Uint8Array)
    return
  if (Array.isArray(value)) {
    for (const item of value) refusedMembers(node, item, prefix, out)
    return
  }
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined || v === null) continue
    const path = prefix ? `${prefix}.${k}` : k
    const c = node.children.get(k)
    if (!c) {
      if (!out.includes(path)) out.push(path)
    } else if (c.whole) continue
    else if (c.accept !== undefined) {
      if (!accepted(c.accept, v) && !out.includes(path)) out.push(path)
    } else refusedMembers(c, v, path, out)
  }
}

/**
 * The members of a parsed, validated input that an operation neither honours nor accepts, as
 * dotted paths in the order met (empty: the handler may run).
 */
export function refusedMembersOf(members: Members<Record<string, unknown>>, input: unknown): string[] {
  const out: string[] = []
  refusedMembers(memberTree(members), input, '', out)
  return out
}

/** The message of a refusal: the operation, the members, that it is the sandbox's limit, and what to do. */
export function refusalMessage(
  op: string,
  refused: readonly string[],
  members: Pick<Members<Record<string, unknown>>, 'refuses'>,
): string {
  const hints = members.refuses
  const said = [...new Set(refused.map((p) => hints?.[p] ?? hints?.['*']).filter((x) => x !== undefined))]
  const many = refused.length > 1
  return (
    `${op}: ${refused.join(', ')} ${many ? 'are' : 'is'} not supported by the crosspipe sandbox ` +
    `(a limit of the sandbox, not an error in the request): ` +
    (said.length ? said.join('; ') : `send the request without ${many ? 'them' : 'it'}`)
  )
}

/**
 * The problems of a declaration against the model: a declared path that is not a member of the
 * operation's input (a list's items are its structure's members), or one both honoured and accepted.
 */
export function declarationProblems(
  model: ServiceModel,
  op: string,
  members: Members<Record<string, unknown>>,
): string[] {
  const spec = model.operations[op]
  const problems: string[] = []
  const paths = [
    ...members.honours,
    ...Object.keys(members.accepts ?? {}),
    ...Object.keys(members.refuses ?? {}).filter((p) => p !== '*'),
  ]
  for (const p of paths) {
    let shape = spec?.input ? model.shapes[spec.input] : undefined
    for (const seg of p.split('.')) {
      while (shape?.type === 'list') shape = model.shapes[shape.member!.shape]
      const ref = shape?.type === 'structure' ? shape.members?.[seg] : undefined
      shape = ref ? model.shapes[ref.shape] : undefined
      if (!shape) {
        problems.push(`${op}: ${p} is not a member of its input in AWS's model`)
        break
      }
    }
  }
  for (const p of Object.keys(members.accepts ?? {}))
    if (members.honours.includes(p)) problems.push(`${op}: ${p} is both honoured and accepted`)
  return problems
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
  /**
   * The code of a refused member (one the operation neither honours nor accepts): the service's
   * invalid-parameter code (ECR: `InvalidParameterException`); defaults to the validation code.
   */
  readonly unsupportedCode?: string
}

/** What a service built from operations declares, for the test that checks every declaration. */
export interface Declarations {
  /** The model file name. */
  readonly model: string
  readonly operations: readonly Operation[]
}

const DECLARATIONS = new WeakMap<object, Declarations>()

/** The operations a service built here declares (undefined for S3, which declares its own). */
export function declarationsOf(service: object): Declarations | undefined {
  return DECLARATIONS.get(service)
}

/** Checks that every declared operation is in the model: a typo is a bug, found on the service's first request. */
function declared(model: ServiceModel, o: OperationServiceOptions): void {
  for (const op of o.operations) {
    if (!Object.hasOwn(model.operations, op.name))
      throw new Error(`service ${o.name}: operation ${op.name} is not in AWS's ${o.model ?? o.name} model`)
    const problems = declarationProblems(model, op.name, op.members)
    if (problems.length) throw new Error(`service ${o.name}: ${problems.join('; ')}`)
  }
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
  const unsupportedCode = o.unsupportedCode ?? code
  const actions: Record<string, (wire: Wire, ctx: RequestContext) => Promise<Out>> = {}
  for (const op of o.operations) {
    const tree = memberTree(op.members)
    actions[op.name] = async (wire, ctx) => {
      const m = model()
      if (!checked) {
        declared(m, o)
        checked = true
      }
      const spec = m.operations[op.name]!
      const input = read(m, spec.input, wire)
      validate(m, spec.input, input, code, o.validationError)
      const refused: string[] = []
      if (!op.members.refusesEveryRequest) refusedMembers(tree, input, '', refused)
      if (refused.length)
        throw new AwsError(unsupportedCode, refusalMessage(op.name, refused, op.members), 400)
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
  const service: QueryService = {
    name: o.name,
    signingName: o.signingName,
    global: o.global,
    protocol: 'query',
    xmlNamespace: o.xmlNamespace,
    apiVersion: o.apiVersion,
    actions,
  }
  DECLARATIONS.set(service, { model: o.model ?? o.name, operations: o.operations })
  return service
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
  const service: JsonService = {
    name: o.name,
    signingName: o.signingName,
    global: o.global,
    protocol: 'json',
    jsonVersion: o.jsonVersion,
    targetPrefix: o.targetPrefix,
    actions,
  }
  DECLARATIONS.set(service, { model: o.model ?? o.name, operations: o.operations })
  return service
}

export { serviceModel } from './model.js'
export type { ServiceModel, Shape, ShapeRef } from './model.js'
export { readQueryInput, writeQueryOutput } from './query.js'
export { readJsonInput, writeJsonOutput } from './json.js'
export { violations, violationsOf, violationText, validationMessage } from './validate.js'
export type { Violation } from './validate.js'
export { payloadOf, readXmlPayload, writeXmlOutput, XmlBodyError } from './rest-xml.js'
export type { Payload, XmlOutputOptions, XmlReadOptions } from './rest-xml.js'
