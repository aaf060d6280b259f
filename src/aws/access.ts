/**
 * Credentials per account, the AWS way, and the SDK clients built from them. This is the only
 * file in crosspipe that decides which credentials talk to which account (DESIGN.md "One place
 * for credentials").
 *
 * Three ways in, all ending in one {@link AccountAccess}:
 * - {@link profileAccess}: one named profile per account (the `profiles` map of crosspipe.yml or
 *   `--profile-map ci=…,dev=…`). Profiles are read by the SDK's `fromIni`, so every kind of
 *   profile works: static keys, `role_arn` + `source_profile`, `credential_process` and IAM
 *   Identity Center (SSO) profiles (`sso_session` / `sso_start_url`).
 * - {@link assumeRoleAccess}: one identity (a profile, or the SDK's default chain) that assumes a
 *   role of the same name in every account, e.g. `OrganizationAccountAccessRole`, which AWS
 *   Organizations creates in member accounts:
 *   https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_accounts_access-cross-account-role.html
 * - {@link sandboxAccess}: a credentials file and config file with one profile per account, and
 *   an endpoint (the crosspipe sandbox writes these into its state directory).
 *
 * Every client is configured with the SDK's `standard` retry mode, which retries throttling errors
 * (such as CloudFormation's `Throttling: Rate exceeded`) and transient errors (HTTP 500/502/503/504,
 * connection failures) with exponential backoff and jitter, and with more attempts than the default
 * three, because a deploy of many stacks polls CloudFormation a lot and is throttled:
 * https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
 */
import {
  CancelUpdateStackCommand,
  CloudFormationClient,
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  GetTemplateCommand,
  ListStackResourcesCommand,
  type Change,
  type Capability,
} from '@aws-sdk/client-cloudformation'
import {
  DeleteObjectsCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3Client,
  type ObjectIdentifier,
} from '@aws-sdk/client-s3'
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { readFileSync } from 'node:fs'
import { Agent } from 'node:https'
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls'
import { CodePipelineClient } from '@aws-sdk/client-codepipeline'
import { CodeBuildClient } from '@aws-sdk/client-codebuild'
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs'
import { SdkCodePipeline, type CodePipelineApi } from './codepipeline.js'
import { SdkCodeBuildLogs, type CodeBuildLogsApi } from './codebuild-logs.js'
import { fromIni, fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers'
import { ALL_REGIONS, partitionOf, roleArn } from '../iam/arn.js'
import { endpointHost } from '../iam/aws-facts.js'
import { CrosspipeError } from '../model/errors.js'
import { networkError } from './network.js'
import type {
  AccountAccess,
  CallerIdentity,
  ChangeSetDescription,
  CloudFormationApi,
  CreateChangeSetInput,
  S3Api,
  StackDescription,
  StackEvent,
  StackLocation,
  StackResource,
} from './types.js'

/** Options every kind of access shares. */
export interface ClientOptions {
  /**
   * Send every request to this endpoint instead of AWS (the sandbox, moto, LocalStack…). Defaults
   * to `AWS_ENDPOINT_URL`, the variable the AWS SDKs and CLI read for the same purpose:
   * https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html
   */
  readonly endpointUrl?: string
  /**
   * A PEM file of extra certificate authorities to trust for HTTPS, e.g. the sandbox's
   * self-signed certificate (the AWS CLI's `ca_bundle` / `AWS_CA_BUNDLE` setting does the same:
   * https://docs.aws.amazon.com/sdkref/latest/guide/feature-gen-config.html).
   */
  readonly caFile?: string
  /** Attempts per request, first one included (SDK `maxAttempts`). Default 8. */
  readonly maxAttempts?: number
  /** `standard` (default) or `adaptive` (adds client-side rate limiting). */
  readonly retryMode?: 'standard' | 'adaptive'
}

/** Options of {@link profileAccess}. */
export interface ProfileAccessOptions extends ClientOptions {
  /** Account id → profile name. Every account the manifest names must have one. */
  readonly profiles: Readonly<Record<string, string>>
  /** The shared credentials file (default: `AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/credentials`). */
  readonly credentialsFile?: string
  /** The shared config file (default: `AWS_CONFIG_FILE` or `~/.aws/config`). */
  readonly configFile?: string
}

/** Options of {@link assumeRoleAccess}. */
export interface AssumeRoleAccessOptions extends ClientOptions {
  /** The role name to assume in every account, e.g. `OrganizationAccountAccessRole`. */
  readonly roleName: string
  /** The role's path (default `/`). */
  readonly rolePath?: string
  /** The profile of the identity that assumes the roles; the SDK's default chain when absent. */
  readonly profile?: string
  /** RoleSessionName (default `crosspipe`), visible in CloudTrail. */
  readonly sessionName?: string
  readonly credentialsFile?: string
  readonly configFile?: string
}

/** Options of {@link sandboxAccess}. */
export interface SandboxAccessOptions extends ClientOptions {
  /** The sandbox's endpoint, e.g. `http://127.0.0.1:4566`. */
  readonly endpointUrl: string
  /** The credentials file the sandbox wrote (one profile per account). */
  readonly credentialsFile: string
  /** The config file the sandbox wrote. */
  readonly configFile?: string
  /**
   * Account id → profile name in those files (the sandbox names profiles after its accounts:
   * `ci`, `dev`…; its state file lists `{ name, id }` per account). Default: the account id.
   */
  readonly profiles?: Readonly<Record<string, string>>
}

/** A credential provider, as the SDK's providers and clients type it. */
type CredentialProvider = ReturnType<typeof fromIni>
type Credentials = Awaited<ReturnType<CredentialProvider>>

/** How to get credentials for one account. */
interface CredentialSource {
  readonly provider: CredentialProvider
  readonly description: string
}

/**
 * How long before they expire credentials are fetched again: the SDK clients' own margin (their
 * identity cache refreshes 5 minutes ahead), so that a client that asks for fresh credentials gets them.
 */
const REFRESH_BEFORE_EXPIRY_MS = 5 * 60_000

/**
 * One resolution of a provider, shared by every client that uses it, until the credentials come
 * within {@link REFRESH_BEFORE_EXPIRY_MS} of their expiry (or a client forces a refresh). Each SDK
 * client caches the credentials it resolved, but only for itself: an account's STS, CloudFormation,
 * S3 and CodePipeline clients would otherwise each resolve the same source — one AssumeRole call per
 * client for a role (and one more resolution of the base identity per account), one parse of the
 * profile files per client for a profile. Concurrent first calls share one resolution; a failed
 * one is not kept, so the next call tries again.
 */
function shared(provider: CredentialProvider): CredentialProvider {
  let cached: { promise: Promise<Credentials>; value?: Credentials } | undefined
  const fresh = (c: Credentials) =>
    c.expiration === undefined || c.expiration.getTime() - Date.now() > REFRESH_BEFORE_EXPIRY_MS
  return (props) => {
    // The SDK's identity cache passes `forceRefresh` through to the provider it wraps.
    const force = (props as { readonly forceRefresh?: boolean } | undefined)?.forceRefresh === true
    if (cached && !force && (cached.value === undefined || fresh(cached.value))) return cached.promise
    const entry: { promise: Promise<Credentials>; value?: Credentials } = { promise: provider(props) }
    cached = entry
    entry.promise.then(
      (c) => (entry.value = c),
      () => {
        if (cached === entry) cached = undefined
      },
    )
    return entry.promise
  }
}

/**
 * TLS contexts that trust Node's authorities and one more PEM (`caFile`), by the PEM's text: every
 * access of the process that trusts the same file shares one (building it parses the ~150 root
 * certificates, about 20 ms).
 */
const secureContexts = new Map<string, SecureContext>()

function secureContextTrusting(pem: string): SecureContext {
  let c = secureContexts.get(pem)
  if (!c) {
    c = createSecureContext({ ca: [...rootCertificates, pem] })
    secureContexts.set(pem, c)
  }
  return c
}

const DEFAULT_MAX_ATTEMPTS = 8

/**
 * One profile per account. A missing account in the map, or a profile that the files do not
 * define, is a `CrosspipeError` (`credentials`) when first used — deploy checks every account up
 * front with {@link verifyAccess}, before it changes anything.
 */
export function profileAccess(options: ProfileAccessOptions): AccountAccess {
  const endpointUrl = resolveEndpoint(options.endpointUrl)
  return new SdkAccess(options, endpointUrl, (account, region) => {
    const profile = options.profiles[account]
    if (profile === undefined)
      throw new CrosspipeError(
        'credentials',
        `no profile for account ${account}: add it to the profiles map of crosspipe.yml or pass --profile-map ${account}=<profile>`,
      )
    return {
      description: `profile "${profile}"`,
      provider: fromIni({
        profile,
        ...(options.credentialsFile !== undefined ? { filepath: options.credentialsFile } : {}),
        ...(options.configFile !== undefined ? { configFilepath: options.configFile } : {}),
        // The STS/SSO clients fromIni makes for role_arn and SSO profiles must use the same endpoint.
        clientConfig: { region, ...(endpointUrl !== undefined ? { endpoint: endpointUrl } : {}) },
      }),
    }
  })
}

/** One identity that assumes the same role in every account. */
export function assumeRoleAccess(options: AssumeRoleAccessOptions): AccountAccess {
  const endpointUrl = resolveEndpoint(options.endpointUrl)
  // Resolved once for every account's AssumeRole, not once per account (see shared()).
  const base = shared(
    options.profile !== undefined
      ? fromIni({
          profile: options.profile,
          ...(options.credentialsFile !== undefined ? { filepath: options.credentialsFile } : {}),
          ...(options.configFile !== undefined ? { configFilepath: options.configFile } : {}),
          ...(endpointUrl !== undefined ? { clientConfig: { endpoint: endpointUrl } } : {}),
        })
      : fromNodeProviderChain(),
  )
  return new SdkAccess(options, endpointUrl, (account, region) => {
    const partition = partitionOf(region)
    if (partition === undefined)
      throw new CrosspipeError('credentials', `"${region}" is not an AWS region crosspipe knows`)
    const arn = roleArn(partition, account, options.roleName, options.rolePath ?? '/')
    return {
      description: `role ${arn}${options.profile !== undefined ? ` assumed with profile "${options.profile}"` : ''}`,
      provider: fromTemporaryCredentials({
        masterCredentials: base,
        params: { RoleArn: arn, RoleSessionName: options.sessionName ?? 'crosspipe' },
        clientConfig: { region, ...(endpointUrl !== undefined ? { endpoint: endpointUrl } : {}) },
      }),
    }
  })
}

/**
 * The sandbox: a profile per account in files the sandbox wrote, and its endpoint. It takes the
 * paths rather than a sandbox state directory so that `src/aws` does not depend on the sandbox.
 */
export function sandboxAccess(options: SandboxAccessOptions): AccountAccess {
  return new SdkAccess(options, options.endpointUrl, (account, region) => {
    const profiles = options.profiles
    const profile = profiles === undefined ? account : profiles[account]
    if (profile === undefined)
      throw new CrosspipeError(
        'credentials',
        `account ${account} is not an account of the sandbox at ${options.endpointUrl} (it has: ${Object.entries(
          profiles ?? {},
        )
          .map(([id, name]) => `${name} ${id}`)
          .join(', ')}); start the sandbox with that account or fix the manifest`,
      )
    return {
      description: `sandbox profile "${profile}" at ${options.endpointUrl}`,
      provider: fromIni({
        profile,
        filepath: options.credentialsFile,
        ...(options.configFile !== undefined ? { configFilepath: options.configFile } : {}),
        clientConfig: { region, endpoint: options.endpointUrl },
      }),
    }
  })
}

/** One account a deployment will use, with the identity its credentials resolved to. */
export interface VerifiedAccount {
  readonly account: string
  readonly identity: CallerIdentity
  readonly description: string
}

/**
 * Checks, before anything is changed, that credentials resolve for every account and that they
 * are credentials *of that account* (a profile map that swaps two accounts would otherwise deploy
 * prod's stacks into dev). Throws `CrosspipeError` (`credentials`) naming each failing account.
 */
export async function verifyAccess(
  access: AccountAccess,
  locations: readonly StackLocation[],
): Promise<readonly VerifiedAccount[]> {
  const byAccount = new Map<string, StackLocation>()
  for (const l of locations) if (!byAccount.has(l.account)) byAccount.set(l.account, l)
  const results = await Promise.all(
    [...byAccount.values()].map(async (l) => {
      try {
        const identity = await access.whoAmI(l)
        if (identity.account !== l.account)
          return {
            problem: `the credentials for account ${l.account} (${access.describe(l.account)}) belong to account ${identity.account} (${identity.arn})`,
          }
        return { ok: { account: l.account, identity, description: access.describe(l.account) } }
      } catch (err) {
        const net = err instanceof CrosspipeError ? undefined : networkError(err)
        const e = net ?? err
        return {
          problem: e instanceof Error ? e.message : String(e),
          unreachable: e instanceof CrosspipeError && e.code === 'unreachable',
        }
      }
    }),
  )
  const problems = results.flatMap((r) => (r.problem !== undefined ? [{ message: r.problem }] : []))
  if (problems.length > 0) {
    const unreachable = results.every((r) => 'unreachable' in r && r.unreachable)
    throw new CrosspipeError(
      unreachable ? 'unreachable' : 'credentials',
      unreachable
        ? 'cannot reach the AWS endpoint for any account; nothing was changed'
        : 'credentials are missing or wrong for some accounts; nothing was changed',
      problems.length > 1 && unreachable ? problems.slice(0, 1) : problems,
    )
  }
  return results.flatMap((r) => (r.ok ? [r.ok] : []))
}

function resolveEndpoint(explicit: string | undefined): string | undefined {
  const value = explicit ?? process.env.AWS_ENDPOINT_URL
  return value === undefined || value === '' ? undefined : value
}

/** Names of the errors the SDK's credential providers throw when a profile cannot be used. */
function isCredentialsError(err: unknown): err is Error {
  return (
    err instanceof Error &&
    (err.name === 'CredentialsProviderError' ||
      err.name === 'ExpiredToken' ||
      err.name === 'ExpiredTokenException' ||
      err.name === 'InvalidClientTokenId' ||
      err.name === 'UnrecognizedClientException')
  )
}

class SdkAccess implements AccountAccess {
  private readonly sources = new Map<string, CredentialSource>()
  private readonly cfn = new Map<string, CloudFormationApi>()
  private readonly s3s = new Map<string, S3Api>()
  private readonly pipelines = new Map<string, CodePipelineApi>()
  private readonly buildLogs = new Map<string, CodeBuildLogsApi>()
  private readonly stsClients = new Map<string, STSClient>()

  constructor(
    private readonly options: ClientOptions,
    private readonly endpointUrl: string | undefined,
    private readonly makeSource: (account: string, region: string) => CredentialSource,
  ) {}

  describe(account: string): string {
    for (const [key, s] of this.sources) if (key.startsWith(`${account}/`)) return s.description
    return this.makeSource(account, firstRegion()).description
  }

  /** Sources are per account and partition: a role ARN names its partition. */
  private source(account: string, region: string): CredentialSource {
    const key = `${account}/${partitionOf(region) ?? region}`
    let s = this.sources.get(key)
    if (!s) {
      const made = this.makeSource(account, region)
      s = { ...made, provider: shared(made.provider) }
      this.sources.set(key, s)
    }
    return s
  }

  private agent: Agent | undefined

  private config(l: StackLocation) {
    const source = this.source(l.account, l.region)
    if (this.options.caFile !== undefined && this.agent === undefined) {
      // Trust the given authorities in addition to Node's defaults, for every client. One secure
      // context, built once: given `ca` instead, the agent parses the ~150 certificates again for
      // every new connection (tls.connect builds a context from its options) and folds them into
      // every request's pool key — most of a 20-stack deploy's CPU time against the sandbox.
      this.agent = new Agent({
        keepAlive: true,
        secureContext: secureContextTrusting(readFileSync(this.options.caFile, 'utf8')),
      })
    }
    return {
      ...(this.agent !== undefined ? { requestHandler: { httpsAgent: this.agent } } : {}),
      region: l.region,
      credentials: source.provider,
      maxAttempts: this.options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      retryMode: this.options.retryMode ?? 'standard',
      ...(this.endpointUrl !== undefined ? { endpoint: this.endpointUrl } : {}),
      // Resolve each command's middleware stack once per client, not on every call (the SDK's
      // `cacheMiddleware` option: safe because nothing here changes a stack after the first call).
      cacheMiddleware: true,
    }
  }

  cloudFormation(l: StackLocation): CloudFormationApi {
    const key = `${l.account}/${l.region}`
    let api = this.cfn.get(key)
    if (!api) {
      api = new SdkCloudFormation(new CloudFormationClient(this.config(l)), this.source(l.account, l.region))
      this.cfn.set(key, api)
    }
    return api
  }

  s3(l: StackLocation): S3Api {
    const key = `${l.account}/${l.region}`
    let api = this.s3s.get(key)
    if (!api) {
      // Path-style addressing for custom endpoints: a local endpoint has no per-bucket DNS names.
      const client = new S3Client({ ...this.config(l), forcePathStyle: this.endpointUrl !== undefined })
      api = new SdkS3(client, l.region, this.endpointUrl, this.source(l.account, l.region))
      this.s3s.set(key, api)
    }
    return api
  }

  codePipeline(l: StackLocation): CodePipelineApi {
    const key = `${l.account}/${l.region}`
    let api = this.pipelines.get(key)
    if (!api) {
      const source = this.source(l.account, l.region)
      api = new SdkCodePipeline(
        new CodePipelineClient(this.config(l)),
        (call) => guard(source, call),
        (buildId, region, lines) =>
          this.codeBuildLogs({ account: l.account, region: region ?? l.region }).tail(buildId, lines),
        `account ${l.account} ${l.region}`,
      )
      this.pipelines.set(key, api)
    }
    return api
  }

  codeBuildLogs(l: StackLocation): CodeBuildLogsApi {
    const key = `${l.account}/${l.region}`
    let api = this.buildLogs.get(key)
    if (!api) {
      const source = this.source(l.account, l.region)
      api = new SdkCodeBuildLogs(
        new CodeBuildClient(this.config(l)),
        new CloudWatchLogsClient(this.config(l)),
        (call) => guard(source, call),
      )
      this.buildLogs.set(key, api)
    }
    return api
  }

  async whoAmI(l: StackLocation): Promise<CallerIdentity> {
    const source = this.source(l.account, l.region)
    // Kept like the other clients rather than destroyed after the call: destroying a client
    // destroys its request handler's agent, which every client of this access shares (caFile).
    const key = `${l.account}/${l.region}`
    let sts = this.stsClients.get(key)
    if (!sts) {
      sts = new STSClient(this.config(l))
      this.stsClients.set(key, sts)
    }
    const client = sts
    const r = await guard(source, () => client.send(new GetCallerIdentityCommand({})))
    return { account: r.Account ?? '', arn: r.Arn ?? '' }
  }
}

/** Any known region: descriptions do not depend on it (the first of the table in src/iam/arn.ts). */
function firstRegion(): string {
  return ALL_REGIONS[0] ?? ''
}

/** Turns a credentials failure into a user error that names the account's credential source. */
async function guard<T>(source: CredentialSource, call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (err) {
    if (isCredentialsError(err))
      throw new CrosspipeError('credentials', `cannot use ${source.description}: ${err.message}`)
    const net = networkError(err)
    if (net) throw net
    throw err
  }
}

/** DescribeStacks on a missing stack is a `ValidationError` "Stack with id X does not exist". */
function isMissingStack(err: unknown): boolean {
  return err instanceof Error && err.name === 'ValidationError' && /does not exist/.test(err.message)
}

function toRecord<T>(
  items: readonly T[] | undefined,
  key: (t: T) => string | undefined,
  value: (t: T) => string | undefined,
) {
  const out: Record<string, string> = {}
  for (const i of items ?? []) {
    const k = key(i)
    if (k !== undefined) out[k] = value(i) ?? ''
  }
  return out
}

class SdkCloudFormation implements CloudFormationApi {
  constructor(
    private readonly client: CloudFormationClient,
    private readonly source: CredentialSource,
  ) {}

  private send<T>(call: () => Promise<T>): Promise<T> {
    return guard(this.source, call)
  }

  async describeStack(stackName: string): Promise<StackDescription | undefined> {
    try {
      const r = await this.send(() => this.client.send(new DescribeStacksCommand({ StackName: stackName })))
      const s = r.Stacks?.[0]
      if (!s || s.StackStatus === 'DELETE_COMPLETE') return undefined
      return {
        stackId: s.StackId ?? '',
        name: s.StackName ?? stackName,
        status: s.StackStatus ?? 'UNKNOWN',
        ...(s.StackStatusReason !== undefined ? { statusReason: s.StackStatusReason } : {}),
        parameters: toRecord(
          s.Parameters,
          (p) => p.ParameterKey,
          (p) => p.ResolvedValue ?? p.ParameterValue,
        ),
        outputs: toRecord(
          s.Outputs,
          (o) => o.OutputKey,
          (o) => o.OutputValue,
        ),
        tags: toRecord(
          s.Tags,
          (t) => t.Key,
          (t) => t.Value,
        ),
      }
    } catch (err) {
      if (isMissingStack(err)) return undefined
      throw err
    }
  }

  async getTemplate(stackName: string): Promise<string | undefined> {
    try {
      const r = await this.send(() =>
        this.client.send(new GetTemplateCommand({ StackName: stackName, TemplateStage: 'Original' })),
      )
      return r.TemplateBody
    } catch (err) {
      if (isMissingStack(err)) return undefined
      throw err
    }
  }

  async createChangeSet(i: CreateChangeSetInput): Promise<{ id: string; stackId: string }> {
    const r = await this.send(() =>
      this.client.send(
        new CreateChangeSetCommand({
          StackName: i.stackName,
          ChangeSetName: i.changeSetName,
          ChangeSetType: i.changeSetType,
          ...(i.templateUrl !== undefined
            ? { TemplateURL: i.templateUrl }
            : { TemplateBody: i.templateBody }),
          Parameters: Object.entries(i.parameters).map(([ParameterKey, ParameterValue]) => ({
            ParameterKey,
            ParameterValue,
          })),
          Capabilities: i.capabilities as Capability[],
          ...(i.tags ? { Tags: Object.entries(i.tags).map(([Key, Value]) => ({ Key, Value })) } : {}),
          ...(i.description !== undefined ? { Description: i.description } : {}),
        }),
      ),
    )
    return { id: r.Id ?? i.changeSetName, stackId: r.StackId ?? '' }
  }

  async describeChangeSet(stackName: string, changeSetId: string): Promise<ChangeSetDescription> {
    const changes: Change[] = []
    let token: string | undefined
    let status = 'UNKNOWN'
    let statusReason: string | undefined
    let executionStatus: string | undefined
    let id = changeSetId
    do {
      const r = await this.send(() =>
        this.client.send(
          new DescribeChangeSetCommand({
            StackName: stackName,
            ChangeSetName: changeSetId,
            NextToken: token,
          }),
        ),
      )
      status = r.Status ?? status
      statusReason = r.StatusReason ?? statusReason
      executionStatus = r.ExecutionStatus ?? executionStatus
      id = r.ChangeSetId ?? id
      changes.push(...(r.Changes ?? []))
      token = r.NextToken
    } while (token)
    return {
      id,
      status,
      ...(statusReason !== undefined ? { statusReason } : {}),
      ...(executionStatus !== undefined ? { executionStatus } : {}),
      changes: changes.flatMap((c) =>
        c.ResourceChange
          ? [
              {
                action: c.ResourceChange.Action ?? 'Dynamic',
                logicalId: c.ResourceChange.LogicalResourceId ?? '',
                ...(c.ResourceChange.PhysicalResourceId
                  ? { physicalId: c.ResourceChange.PhysicalResourceId }
                  : {}),
                resourceType: c.ResourceChange.ResourceType ?? '',
                ...(c.ResourceChange.Replacement ? { replacement: c.ResourceChange.Replacement } : {}),
                ...(c.ResourceChange.Scope?.length ? { scope: c.ResourceChange.Scope } : {}),
                ...(c.ResourceChange.Details?.length
                  ? {
                      details: c.ResourceChange.Details.map((d) => ({
                        name: d.Target?.Name ?? d.Target?.Attribute ?? '',
                        ...(d.Target?.RequiresRecreation
                          ? { requiresRecreation: d.Target.RequiresRecreation }
                          : {}),
                        ...(d.Evaluation ? { evaluation: d.Evaluation } : {}),
                        ...(d.ChangeSource ? { changeSource: d.ChangeSource } : {}),
                        ...(d.CausingEntity ? { causingEntity: d.CausingEntity } : {}),
                      })),
                    }
                  : {}),
              },
            ]
          : [],
      ),
    }
  }

  async executeChangeSet(stackName: string, changeSetId: string): Promise<void> {
    await this.send(() =>
      this.client.send(new ExecuteChangeSetCommand({ StackName: stackName, ChangeSetName: changeSetId })),
    )
  }

  async deleteChangeSet(stackName: string, changeSetId: string): Promise<void> {
    await this.send(() =>
      this.client.send(new DeleteChangeSetCommand({ StackName: stackName, ChangeSetName: changeSetId })),
    )
  }

  async describeStackEvents(stackName: string, since?: Date): Promise<readonly StackEvent[]> {
    const out: StackEvent[] = []
    let token: string | undefined
    for (;;) {
      const r = await this.send(() =>
        this.client.send(new DescribeStackEventsCommand({ StackName: stackName, NextToken: token })),
      )
      let older = false
      for (const e of r.StackEvents ?? []) {
        const timestamp = e.Timestamp ?? new Date(0)
        if (since && timestamp < since) {
          older = true
          continue
        }
        out.push({
          eventId: e.EventId ?? '',
          timestamp,
          logicalId: e.LogicalResourceId ?? '',
          ...(e.PhysicalResourceId ? { physicalId: e.PhysicalResourceId } : {}),
          resourceType: e.ResourceType ?? '',
          status: e.ResourceStatus ?? '',
          ...(e.ResourceStatusReason ? { reason: e.ResourceStatusReason } : {}),
        })
      }
      token = r.NextToken
      if (!token || older || !since) break
    }
    return out
  }

  async listStackResources(stackName: string): Promise<readonly StackResource[]> {
    const out: StackResource[] = []
    let token: string | undefined
    do {
      const r = await this.send(() =>
        this.client.send(new ListStackResourcesCommand({ StackName: stackName, NextToken: token })),
      )
      for (const s of r.StackResourceSummaries ?? [])
        out.push({
          logicalId: s.LogicalResourceId ?? '',
          ...(s.PhysicalResourceId ? { physicalId: s.PhysicalResourceId } : {}),
          resourceType: s.ResourceType ?? '',
          status: s.ResourceStatus ?? '',
        })
      token = r.NextToken
    } while (token)
    return out
  }

  async deleteStack(stackName: string, roleArn?: string): Promise<void> {
    await this.send(() =>
      this.client.send(
        new DeleteStackCommand({ StackName: stackName, ...(roleArn ? { RoleARN: roleArn } : {}) }),
      ),
    )
  }

  async cancelUpdateStack(stackName: string): Promise<void> {
    await this.send(() => this.client.send(new CancelUpdateStackCommand({ StackName: stackName })))
  }
}

class SdkS3 implements S3Api {
  constructor(
    private readonly client: S3Client,
    private readonly region: string,
    private readonly endpointUrl: string | undefined,
    private readonly source: CredentialSource,
  ) {}

  async putObject(
    bucket: string,
    key: string,
    body: string,
    options: { readonly kmsKeyId?: string } = {},
  ): Promise<void> {
    await guard(this.source, () =>
      this.client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentType: 'text/plain',
          // https://docs.aws.amazon.com/AmazonS3/latest/userguide/specifying-kms-encryption.html
          ...(options.kmsKeyId ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: options.kmsKeyId } : {}),
        }),
      ),
    )
  }

  /**
   * Virtual-hosted-style URL on AWS (the form the S3 documentation recommends:
   * https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html); path-style under a
   * custom endpoint, which serves every bucket from one host.
   */
  objectUrl(bucket: string, key: string): string {
    const path = key.split('/').map(encodeURIComponent).join('/')
    if (this.endpointUrl !== undefined) return `${this.endpointUrl.replace(/\/+$/, '')}/${bucket}/${path}`
    if (partitionOf(this.region) === undefined)
      throw new CrosspipeError(
        'usage',
        `"${this.region}" is not an AWS region crosspipe knows; pass an endpoint URL for it`,
      )
    return `https://${bucket}.${endpointHost('s3', this.region)}/${path}`
  }

  async emptyBucket(bucket: string, signal?: AbortSignal): Promise<number> {
    let deleted = 0
    let keyMarker: string | undefined
    let versionMarker: string | undefined
    for (;;) {
      if (signal?.aborted) return deleted
      let page
      try {
        page = await guard(this.source, () =>
          this.client.send(
            new ListObjectVersionsCommand({
              Bucket: bucket,
              KeyMarker: keyMarker,
              VersionIdMarker: versionMarker,
            }),
          ),
        )
      } catch (err) {
        if (err instanceof Error && err.name === 'NoSuchBucket') return deleted
        throw err
      }
      // Versions and delete markers both have to go before DeleteBucket succeeds on a versioned bucket:
      // https://docs.aws.amazon.com/AmazonS3/latest/userguide/empty-bucket.html
      const ids: ObjectIdentifier[] = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].flatMap(
        (v) =>
          v.Key !== undefined
            ? [{ Key: v.Key, ...(v.VersionId !== undefined ? { VersionId: v.VersionId } : {}) }]
            : [],
      )
      // DeleteObjects takes at most 1,000 keys per request; ListObjectVersions returns at most 1,000.
      for (let i = 0; i < ids.length; i += 1000) {
        const batch = ids.slice(i, i + 1000)
        const r = await guard(this.source, () =>
          this.client.send(
            new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch, Quiet: true } }),
          ),
        )
        const failed = r.Errors ?? []
        if (failed.length > 0)
          throw new Error(
            `could not delete ${failed.length} object(s) from bucket ${bucket}: ${failed[0]?.Code ?? ''} ${failed[0]?.Message ?? ''}`,
          )
        deleted += batch.length
      }
      if (!page.IsTruncated) return deleted
      keyMarker = page.NextKeyMarker
      versionMarker = page.NextVersionIdMarker
    }
  }
}
