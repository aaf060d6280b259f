/**
 * Resource providers: what the engine calls to create, update and delete one resource type.
 * A provider never touches another service's store; it calls the service's API through
 * {@link AwsCalls}, bound to the identity the stack deploys as (its RoleARN session, or the
 * caller), so IAM decides for a stack exactly as for a direct call. Services added later
 * (CodePipeline, CodeBuild) register their own providers with {@link ProviderRegistry.register}.
 *
 * The life cycle mirrors the registry handler contract (create / update / delete, physical id,
 * read-only attributes): https://docs.aws.amazon.com/cloudformation-cli/latest/userguide/resource-type-test-contract.html
 */
import type { XmlObject } from './gateway/xml.js'

/** A restXml request to a sandbox service (S3). */
export interface RestCall {
  readonly method: string
  /** Decoded path, e.g. `/bucket` or `/bucket/key`. */
  readonly path: string
  readonly query?: readonly (readonly [string, string])[]
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: string | Buffer
}

/** A restXml answer. */
export interface RestResult {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: Buffer
}

/**
 * Calls to the sandbox's services as one identity. Every method throws the service's AwsError
 * (AccessDenied, NoSuchEntity…) exactly as the gateway would have answered it.
 */
export interface AwsCalls {
  /** The principal ARN the calls are made as (an assumed-role session, a user, a root). */
  readonly principal: string
  /** An awsQuery action (IAM, STS): the children of `<ActionResult>`. */
  query(
    service: string,
    action: string,
    params: Readonly<Record<string, string>>,
  ): Promise<XmlObject | undefined>
  /** An awsJson action (KMS): the response document. */
  json(service: string, action: string, input: Readonly<Record<string, unknown>>): Promise<unknown>
  /** A restXml request (S3). */
  rest(service: string, call: RestCall): Promise<RestResult>
  /**
   * Authorizes an action on a resource of this account with the identity's policies, for the
   * services the sandbox does not run as separate APIs yet (their resources live in
   * CloudFormation's local store, see local-store.ts). Throws AccessDenied in AWS's form.
   */
  authorize(
    action: string,
    resource: string,
    context?: Readonly<Record<string, string>>,
    /** The owner of a resource whose ARN has no account (S3). */
    resourceAccount?: string,
  ): Promise<void>
}

/** Where and for whom a provider works. */
export interface ProviderContext {
  readonly account: string
  readonly region: string
  readonly partition: string
  /** The partition's DNS suffix (`amazonaws.com`). */
  readonly urlSuffix: string
  readonly stackName: string
  readonly stackId: string
  readonly logicalId: string
  readonly aws: AwsCalls
  /** Resources of services without their own API yet (SNS, SQS, EventBridge). */
  readonly local: LocalResources
  /**
   * A generated physical name, as CloudFormation makes one when a name property is omitted:
   * `<stack name>-<logical id>-<random>`, cut to `maxLength`, lower-cased where names must be.
   * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-name.html
   */
  physicalName(opts?: {
    readonly maxLength?: number
    readonly lowercase?: boolean
    readonly separator?: string
  }): string
  /**
   * Tells the engine that the physical resource exists while a create still has steps to take
   * (a bucket before its configuration, a role before its policies). A later step that fails
   * then leaves a resource the rollback deletes, as a registry handler's progress events carry
   * the primary identifier once it is known; without it, a resource with a fixed name would stay
   * behind and the next attempt would fail with AlreadyExists.
   * https://docs.aws.amazon.com/cloudformation-cli/latest/userguide/resource-type-test-contract.html
   */
  created(physicalId: string): void
}

/** What a provisioned resource is: its physical id, its `Ref` value and its `GetAtt` attributes. */
export interface ProvisionResult {
  readonly physicalId: string
  /** The `Ref` value when it is not the physical id. */
  readonly ref?: string
  readonly attributes: Readonly<Record<string, unknown>>
}

/** A provisioned resource as the engine remembers it. */
export interface CurrentResource {
  readonly physicalId: string
  readonly properties: Readonly<Record<string, unknown>>
  readonly attributes: Readonly<Record<string, unknown>>
}

/** One resource type's handlers. */
export interface ResourceProvider {
  readonly type: string
  /**
   * The property that gives the resource a custom name (`BucketName`, `RoleName`…). A change
   * that needs replacement while this name stays the same fails, as on AWS: two resources cannot
   * have one name.
   */
  readonly nameProperty?: string
  /** Creates the resource from resolved, validated properties. */
  create(ctx: ProviderContext, props: Readonly<Record<string, unknown>>): Promise<ProvisionResult>
  /**
   * Updates in place (only properties that do not cause replacement changed). Absent: the type
   * cannot be updated in place in the sandbox, and such an update fails loudly.
   */
  update?(
    ctx: ProviderContext,
    current: CurrentResource,
    props: Readonly<Record<string, unknown>>,
  ): Promise<ProvisionResult>
  /** Deletes the resource; a resource that is already gone is not an error (as AWS). */
  delete(ctx: ProviderContext, current: CurrentResource): Promise<void>
}

/** A map of resource types to providers, open to registration by other services. */
export class ProviderRegistry {
  private readonly providers = new Map<string, ResourceProvider>()

  /** Registers (or replaces) the provider of a type. */
  register(p: ResourceProvider): this {
    this.providers.set(p.type, p)
    return this
  }

  /** The provider of a type, or undefined. */
  get(type: string): ResourceProvider | undefined {
    return this.providers.get(type)
  }

  /** Every registered type, sorted. */
  types(): string[] {
    return [...this.providers.keys()].sort()
  }
}

/**
 * The small store for resources of services the sandbox does not run yet: values by kind
 * (`sns-topic`, `ssm-parameter`…) and id, in the stack's account and region.
 */
export interface LocalResources {
  get<T>(kind: string, id: string): T | undefined
  put<T>(kind: string, id: string, value: T): void
  delete(kind: string, id: string): boolean
  list<T>(kind: string): { id: string; value: T }[]
}
