/**
 * What the rest of crosspipe sees of AWS: small, SDK-free interfaces over the CloudFormation and
 * S3 calls that deploy and destroy make. Only `src/aws` imports `@aws-sdk/*` (DESIGN.md "One place
 * for credentials"); everything else talks to these interfaces, which also lets the deploy engine
 * be tested against an in-memory fake with deterministic failures.
 */
import type { CodeBuildLogsApi } from './codebuild-logs.js'
import type { CodePipelineApi } from './codepipeline.js'

/** Where a stack lives. */
export interface StackLocation {
  readonly account: string
  readonly region: string
}

/** A stack as DescribeStacks reports it (absent stacks are `undefined`, not a status). */
export interface StackDescription {
  readonly stackId: string
  readonly name: string
  /** A CloudFormation stack status such as `CREATE_COMPLETE` or `ROLLBACK_COMPLETE`. */
  readonly status: string
  readonly statusReason?: string
  readonly parameters: Readonly<Record<string, string>>
  readonly outputs: Readonly<Record<string, string>>
  readonly tags: Readonly<Record<string, string>>
}

/** One DescribeStackEvents entry. */
export interface StackEvent {
  readonly eventId: string
  readonly timestamp: Date
  readonly logicalId: string
  readonly physicalId?: string
  readonly resourceType: string
  readonly status: string
  readonly reason?: string
}

/** One resource change of a change set (DescribeChangeSet `Changes[].ResourceChange`). */
export interface ResourceChange {
  /** `Add`, `Modify`, `Remove`, `Import` or `Dynamic`. */
  readonly action: string
  readonly logicalId: string
  readonly physicalId?: string
  readonly resourceType: string
  /** `True`, `False` or `Conditional` for a `Modify`. */
  readonly replacement?: string
  /** What changes (`Properties`, `Tags`, `Metadata`…), for a `Modify`. */
  readonly scope?: readonly string[]
  /** The changing properties of a `Modify` (DescribeChangeSet `ResourceChangeDetail`). */
  readonly details?: readonly ResourceChangeDetail[]
}

/** One changing property of a resource (`ResourceChange.Details[]`). */
export interface ResourceChangeDetail {
  /** The property name (`Target.Name`), or the attribute (`Tags`, `Metadata`) when it is not a property. */
  readonly name: string
  /** `Never`, `Conditionally` or `Always`. */
  readonly requiresRecreation?: string
  /** `Static` (known now) or `Dynamic` (known only when the change set runs). */
  readonly evaluation?: string
  /** `DirectModification`, `ResourceReference`, `ParameterReference`… */
  readonly changeSource?: string
  /** The entity that causes the change when it is not the template itself (`Ref`/`GetAtt` target). */
  readonly causingEntity?: string
}

/** A change set as DescribeChangeSet reports it. */
export interface ChangeSetDescription {
  readonly id: string
  /** `CREATE_PENDING`, `CREATE_IN_PROGRESS`, `CREATE_COMPLETE`, `FAILED`, `DELETE_*`. */
  readonly status: string
  readonly statusReason?: string
  /** `UNAVAILABLE`, `AVAILABLE`, `EXECUTE_IN_PROGRESS`, `EXECUTE_COMPLETE`, `EXECUTE_FAILED`, `OBSOLETE`. */
  readonly executionStatus?: string
  readonly changes: readonly ResourceChange[]
}

/** One ListStackResources entry. */
export interface StackResource {
  readonly logicalId: string
  readonly physicalId?: string
  readonly resourceType: string
  readonly status: string
}

/** The input of {@link CloudFormationApi.createChangeSet}: exactly one of templateBody / templateUrl. */
export interface CreateChangeSetInput {
  readonly stackName: string
  readonly changeSetName: string
  readonly changeSetType: 'CREATE' | 'UPDATE'
  readonly templateBody?: string
  readonly templateUrl?: string
  readonly parameters: Readonly<Record<string, string>>
  readonly capabilities: readonly string[]
  readonly tags?: Readonly<Record<string, string>>
  readonly description?: string
}

/** The CloudFormation calls deploy and destroy make, for one account and region. */
export interface CloudFormationApi {
  /** DescribeStacks for one stack; `undefined` when it does not exist (or was deleted). */
  describeStack(stackName: string): Promise<StackDescription | undefined>
  /** GetTemplate (`Original` stage); `undefined` when the stack does not exist. */
  getTemplate(stackName: string): Promise<string | undefined>
  createChangeSet(input: CreateChangeSetInput): Promise<{ readonly id: string; readonly stackId: string }>
  /** DescribeChangeSet, every page of changes. */
  describeChangeSet(stackName: string, changeSetId: string): Promise<ChangeSetDescription>
  executeChangeSet(stackName: string, changeSetId: string): Promise<void>
  deleteChangeSet(stackName: string, changeSetId: string): Promise<void>
  /**
   * DescribeStackEvents, newest first, paging back until an event older than `since` (events are
   * returned in reverse chronological order, so the first page usually suffices).
   */
  describeStackEvents(stackName: string, since?: Date): Promise<readonly StackEvent[]>
  listStackResources(stackName: string): Promise<readonly StackResource[]>
  /**
   * DeleteStack; `roleArn` is the service role CloudFormation deletes with (RoleARN; without it,
   * the role the stack was deployed with).
   */
  deleteStack(stackName: string, roleArn?: string): Promise<void>
  cancelUpdateStack(stackName: string): Promise<void>
}

/** The S3 calls deploy and destroy make, for one account and region. */
export interface S3Api {
  /** PutObject of a template body (deploy uploads templates too large for TemplateBody). */
  putObject(
    bucket: string,
    key: string,
    body: string,
    /** Encrypt with this KMS key (SSE-KMS), as a bucket policy that requires it demands. */
    options?: { readonly kmsKeyId?: string },
  ): Promise<void>
  /** The URL CloudFormation reads an uploaded template from (TemplateURL), honouring the endpoint. */
  objectUrl(bucket: string, key: string): string
  /**
   * Deletes every object version and delete marker of a bucket, so that CloudFormation can delete
   * it; returns how many were deleted. A bucket that does not exist counts as empty.
   */
  emptyBucket(bucket: string, signal?: AbortSignal): Promise<number>
}

/** Who a set of credentials is (STS GetCallerIdentity). */
export interface CallerIdentity {
  readonly account: string
  readonly arn: string
}

/**
 * Access to every account a deployment touches: the single place that decides which credentials
 * are used for which account (after aws-cdk-cli's `EnvironmentAccess`).
 */
export interface AccountAccess {
  /** How credentials are obtained, for messages (`profile "dev" for 222222222222`, …). */
  describe(account: string): string
  cloudFormation(location: StackLocation): CloudFormationApi
  s3(location: StackLocation): S3Api
  /** CodePipeline in the pipeline's account and region. */
  codePipeline(location: StackLocation): CodePipelineApi
  /**
   * CodeBuild build logs (BatchGetBuilds, then CloudWatch Logs GetLogEvents) in an account and
   * region. Optional so that in-memory fakes of this interface need not have it.
   */
  codeBuildLogs?(location: StackLocation): CodeBuildLogsApi
  /** GetCallerIdentity with the credentials for `account`. */
  whoAmI(location: StackLocation): Promise<CallerIdentity>
}
