/**
 * CloudFormation over awsQuery (API version 2010-05-15): the actions of the API reference,
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_Operations.html, declared
 * as operations of CloudFormation's model (src/sandbox/operations) and mapped onto the
 * {@link CloudFormationEngine}. The model reads the parameters (`Parameters.member.N.ParameterKey`,
 * `Tags.member.N.Key`…), checks required members, enums (`OnFailure`, `ChangeSetType`,
 * `StackStatusFilter`), lengths and patterns (`ChangeSetName`, `StackNameOrId`, `RoleARN`…) with
 * AWS's messages, and writes the answers in the model's member order; the handlers check what the
 * model cannot say (one of two members, what the sandbox does not support). Every action is
 * authorized first, with the action's resource and condition keys from the Service Authorization
 * Reference (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudformation.html).
 * Behaviour and sources: SPEC.md.
 */
import type * as Cfn from '@aws-sdk/client-cloudformation'
import { formatArn } from '../../../iam/arn.js'
import { QUOTAS, XML_NAMESPACES } from '../../../iam/aws-facts.js'
import { authorize } from '../../auth/authorize.js'
import { operation, queryService, type Validated } from '../../operations/index.js'
import type { Runtime } from '../../runtime.js'
import type { QueryService, RequestContext } from '../types.js'
import { CloudFormationEngine, type OpContext, type StackInput } from './engine.js'
import { validationError } from './errors.js'
import { callerOf, sandboxHost } from './host.js'
import { displayValue, type ParameterInput, type StoredParameter } from './parameters.js'
import { SqlCfnStore, type ChangeSetRecord, type StackRecord } from './store.js'
import { loadTemplate, requiredCapability, type ParameterDecl, type Template } from './template.js'

/**
 * What CreateStack, UpdateStack and CreateChangeSet share, as the model hands it over: UpdateStack's
 * members (a superset of CreateChangeSet's stack members) and CreateStack's own.
 */
type StackRequest = Validated<
  Cfn.UpdateStackInput &
    Pick<Cfn.CreateStackInput, 'OnFailure' | 'TimeoutInMinutes' | 'EnableTerminationProtection'>
>

/** A member the sandbox does not implement: refused, never silently ignored. */
function unsupported(what: string): Error {
  return validationError(`${what} is not supported by the crosspipe sandbox`)
}

/**
 * NotificationARNs: the SNS topics AWS sends the stack's events to. The sandbox has no SNS, so it
 * takes none; an empty list (UpdateStack: remove them all) is what it keeps anyway.
 */
const NO_NOTIFICATIONS = {
  why: 'an empty list: no topics to notify',
  when: (v: unknown): boolean => Array.isArray(v) && v.length === 0,
}

/**
 * What CreateStack, UpdateStack and CreateChangeSet take of the members about notifications and
 * rollback triggers: their empty values, which are what the sandbox does anyway.
 */
const STACK_WRITE_ACCEPTS = {
  NotificationARNs: NO_NOTIFICATIONS,
  'RollbackConfiguration.RollbackTriggers': {
    why: 'no triggers: nothing to monitor',
    when: (v: unknown): boolean => Array.isArray(v) && v.length === 0,
  },
  'RollbackConfiguration.MonitoringTimeInMinutes': {
    why: '0 is the default: no monitoring period',
    when: 0,
  },
} as const

/** …and what they refuse of those members otherwise, and of ResourceTypes. */
const STACK_WRITE_REFUSES = {
  NotificationARNs: 'it has no SNS topics to notify of stack events',
  'RollbackConfiguration.RollbackTriggers': 'rollback triggers (CloudWatch alarms) are not modelled',
  'RollbackConfiguration.MonitoringTimeInMinutes': 'rollback triggers (CloudWatch alarms) are not modelled',
  ResourceTypes:
    'it would have to refuse templates by the resource types listed, and does not (API_CreateStack.html, ResourceTypes)',
} as const

/** `RetainExceptOnCreate` (CreateStack, UpdateStack, ExecuteChangeSet): its default only. */
const RETAIN_NOTHING = {
  why: 'false is the default: a rollback deletes what the operation created and retains nothing else',
  when: false,
} as const

/**
 * `Parameters.member.N`: the model makes no member of `Parameter` required, but a parameter
 * without a key names nothing (API_Parameter.html: "The key associated with the parameter").
 */
function parametersOf(ps: readonly Validated<Cfn.Parameter>[] | undefined): ParameterInput[] | undefined {
  return ps?.map((p, i) => {
    if (p.ParameterKey === undefined)
      throw validationError(`Parameters.member.${i + 1}: ParameterKey must be specified`)
    return {
      ParameterKey: p.ParameterKey,
      ParameterValue: p.ParameterValue,
      UsePreviousValue: p.UsePreviousValue === true,
    }
  })
}

function stackInput(input: StackRequest): StackInput {
  if (input.OnFailure !== undefined && input.DisableRollback !== undefined)
    throw validationError('You can specify either DisableRollback or OnFailure, but not both.')
  // Rollback triggers, policy URLs, ResourceTypes and RetainExceptOnCreate are refused by the
  // operations' member declarations, before this runs.
  return {
    stackName: input.StackName,
    templateBody: input.TemplateBody,
    templateUrl: input.TemplateURL,
    usePreviousTemplate: input.UsePreviousTemplate,
    parameters: parametersOf(input.Parameters),
    capabilities: input.Capabilities,
    roleArn: input.RoleARN,
    // An empty list (`NotificationARNs=`, `Tags=`) removes them all; leaving the member out keeps
    // them as they are (API_UpdateStack.html, "NotificationARNs", "Tags").
    notificationArns: input.NotificationARNs,
    tags: input.Tags,
    disableRollback: input.DisableRollback,
    onFailure: input.OnFailure,
    timeoutInMinutes: input.TimeoutInMinutes,
    enableTerminationProtection: input.EnableTerminationProtection,
    stackPolicyBody: input.StackPolicyBody,
    stackPolicyDuringUpdateBody: input.StackPolicyDuringUpdateBody,
    clientRequestToken: input.ClientRequestToken,
  }
}

/**
 * A new stack's name: at most 128 characters (API_CreateStack.html, StackName), a limit the model
 * does not carry (its `StackName` shape has no constraints). AWS answers a longer one with
 * `Stack name cannot exceed 128 characters` _(observed: eksctl-io/eksctl#7703, CreateStack)_;
 * the engine checks the name's pattern.
 */
function checkNewStackName(name: string): void {
  if (!name.startsWith('arn:') && name.length > QUOTAS.cloudFormation.stackNameLength)
    throw validationError(`Stack name cannot exceed ${QUOTAS.cloudFormation.stackNameLength} characters`)
}

/** A stored ISO time as the SDK's `Date`. */
const at = (iso: string): Date => new Date(iso)
const atOptional = (iso: string | undefined): Date | undefined => (iso === undefined ? undefined : at(iso))

/** `Parameter` of API_Parameter.html: NoEcho values shown as `****`. */
function parameterOut(p: StoredParameter): Cfn.Parameter {
  return { ParameterKey: p.key, ParameterValue: displayValue(p), ResolvedValue: p.resolvedValue }
}

/**
 * Capabilities as stored: the model checked each against the `Capability` enum when it was sent
 * (and `requiredCapability` names only enum values), so the store's strings are the SDK's enum.
 */
function capabilitiesOut(caps: readonly string[]): Cfn.Capability[] {
  return caps as Cfn.Capability[]
}

/** `Stack` of API_Stack.html. */
function stackOut(s: StackRecord): Cfn.Stack {
  return {
    StackId: s.stackId,
    StackName: s.stackName,
    ChangeSetId: s.changeSetId,
    Description: s.description,
    Parameters: s.parameters.map(parameterOut),
    CreationTime: at(s.creationTime),
    DeletionTime: atOptional(s.deletionTime),
    LastUpdatedTime: atOptional(s.lastUpdatedTime),
    RollbackConfiguration: {},
    StackStatus: s.status,
    StackStatusReason: s.statusReason,
    DisableRollback: s.disableRollback,
    NotificationARNs: [...s.notificationArns],
    TimeoutInMinutes: s.timeoutInMinutes,
    Capabilities: capabilitiesOut(s.capabilities),
    Outputs: s.outputs.map((o) => ({
      OutputKey: o.key,
      OutputValue: o.value,
      Description: o.description,
      ExportName: o.exportName,
    })),
    RoleARN: s.roleArn,
    Tags: s.tags.map((t) => ({ Key: t.Key, Value: t.Value })),
    EnableTerminationProtection: s.enableTerminationProtection,
    DriftInformation: { StackDriftStatus: 'NOT_CHECKED' },
  }
}

/** DescribeChangeSet's answer (API_DescribeChangeSet.html). */
function changeSetOut(cs: ChangeSetRecord): Cfn.DescribeChangeSetOutput {
  return {
    ChangeSetName: cs.changeSetName,
    ChangeSetId: cs.changeSetId,
    StackId: cs.stackId,
    StackName: cs.stackName,
    Description: cs.description,
    Parameters: cs.parameters.map(parameterOut),
    CreationTime: at(cs.creationTime),
    ExecutionStatus: cs.executionStatus,
    Status: cs.status,
    StatusReason: cs.statusReason,
    NotificationARNs: [...cs.notificationArns],
    RollbackConfiguration: {},
    Capabilities: capabilitiesOut(cs.capabilities),
    Tags: cs.tags.map((t) => ({ Key: t.Key, Value: t.Value })),
    Changes: cs.changes.map((c) => ({
      Type: 'Resource',
      ResourceChange: {
        Action: c.action,
        LogicalResourceId: c.logicalId,
        PhysicalResourceId: c.physicalId,
        ResourceType: c.resourceType,
        Replacement: c.replacement,
        Scope: c.scope as Cfn.ResourceAttribute[],
        Details: c.details.map((d) => ({
          Target: { Attribute: 'Properties', Name: d.name, RequiresRecreation: d.requiresRecreation },
          Evaluation: d.evaluation,
          ChangeSource: d.changeSource,
          CausingEntity: d.causingEntity,
        })),
      },
    })),
    IncludeNestedStacks: false,
  }
}

/** Index-based paging tokens (opaque to clients, as AWS's). */
function page<T>(
  token: string | undefined,
  items: readonly T[],
  size: number,
): { items: T[]; next?: string } {
  const start = token ? Number(Buffer.from(token, 'base64url').toString('utf8')) : 0
  if (!Number.isInteger(start) || start < 0) throw validationError('Invalid NextToken')
  return {
    items: items.slice(start, start + size),
    next: start + size < items.length ? Buffer.from(String(start + size)).toString('base64url') : undefined,
  }
}

function capabilitiesOf(t: Template): { caps: Cfn.Capability[]; reason?: string } {
  const need = requiredCapability(t)
  if (!need) return { caps: [] }
  const types = [
    ...new Set(
      Object.values(t.Resources)
        .map((r) => r.Type)
        .filter((x) => x.startsWith('AWS::IAM::')),
    ),
  ]
  return { caps: [need], reason: `The following resource(s) require capabilities: [${types.join(', ')}]` }
}

/** A template parameter's `Default` as the API shows it: lists joined by commas, numbers as written. */
function defaultOf(d: ParameterDecl): string | undefined {
  const v = d.Default
  if (v === undefined) return undefined
  const text = (x: unknown): string => (typeof x === 'string' ? x : JSON.stringify(x))
  return Array.isArray(v) ? v.map(text).join(',') : text(v)
}

function noEcho(d: ParameterDecl): boolean {
  return d.NoEcho === true || d.NoEcho === 'true'
}

function transformsOf(t: Template): string[] {
  return typeof t.Transform === 'string' ? [t.Transform] : [...(t.Transform ?? [])]
}

/** The CloudFormation service. */
export function cloudformationService(runtime: Runtime): QueryService {
  // Filled by the composition root (services/index.ts) with every service's providers.
  const providers = runtime.providers
  const engine = new CloudFormationEngine({
    store: new SqlCfnStore(runtime.db),
    providers,
    host: sandboxHost(runtime),
  })

  const op = (ctx: RequestContext): OpContext => ({
    scope: { account: ctx.identity.account, region: ctx.region },
    partition: ctx.partition,
    caller: callerOf(ctx.identity),
  })

  /** The ARN a stack action is authorized on: the stack's, or `stack/<name>/*` before it exists. */
  const stackArn = (ctx: RequestContext, nameOrId: string | undefined): string => {
    if (nameOrId === undefined) return '*'
    if (nameOrId.startsWith('arn:')) return nameOrId
    const existing = engine.findStack({ account: ctx.identity.account, region: ctx.region }, nameOrId)
    return (
      existing?.stackId ??
      formatArn({
        partition: ctx.partition,
        service: 'cloudformation',
        region: ctx.region,
        account: ctx.identity.account,
        resource: `stack/${nameOrId}/*`,
      })
    )
  }

  const allow = (
    ctx: RequestContext,
    action: string,
    resource: string,
    extra: Record<string, string> = {},
  ): void => {
    authorize(ctx, { action: `cloudformation:${action}`, resource, context: extra }, 'query')
  }

  /** The cloudformation:RoleArn condition key, when a role is given (list_awscloudformation.html). */
  const roleKey = (roleArn: string | undefined): Record<string, string> =>
    roleArn !== undefined ? { 'cloudformation:RoleArn': roleArn } : {}

  const conditionKeys = (input: StackInput): Record<string, string> => {
    // cloudformation:RoleArn and cloudformation:TemplateUrl condition keys (list_awscloudformation.html).
    const c = roleKey(input.roleArn)
    if (input.templateUrl !== undefined) c['cloudformation:TemplateUrl'] = input.templateUrl
    return c
  }

  type Resource = StackRecord['resources'][string]

  /** `StackResource` of DescribeStackResources (API_StackResource.html). */
  const resourceOut =
    (s: StackRecord) =>
    (r: Resource): Cfn.StackResource => ({
      StackName: s.stackName,
      StackId: s.stackId,
      LogicalResourceId: r.logicalId,
      PhysicalResourceId: r.physicalId,
      ResourceType: r.type,
      Timestamp: at(r.lastUpdated),
      ResourceStatus: r.status,
      ResourceStatusReason: r.statusReason,
      DriftInformation: { StackResourceDriftStatus: 'NOT_CHECKED' },
    })

  /** `StackResourceDetail` of DescribeStackResource (API_StackResourceDetail.html). */
  const resourceDetailOut = (s: StackRecord, r: Resource): Cfn.StackResourceDetail => ({
    StackName: s.stackName,
    StackId: s.stackId,
    LogicalResourceId: r.logicalId,
    PhysicalResourceId: r.physicalId,
    ResourceType: r.type,
    LastUpdatedTimestamp: at(r.lastUpdated),
    ResourceStatus: r.status,
    ResourceStatusReason: r.statusReason,
    Metadata: r.metadata !== undefined ? JSON.stringify(r.metadata) : undefined,
    DriftInformation: { StackResourceDriftStatus: 'NOT_CHECKED' },
  })

  return queryService({
    name: 'cloudformation',
    signingName: 'cloudformation',
    xmlNamespace: XML_NAMESPACES.cloudformation,
    apiVersion: '2010-05-15',
    operations: [
      operation<Cfn.CreateStackInput, Cfn.CreateStackOutput>(
        'CreateStack',
        async (i, ctx) => {
          const input = stackInput(i)
          checkNewStackName(input.stackName)
          allow(ctx, 'CreateStack', stackArn(ctx, input.stackName), conditionKeys(input))
          return { StackId: await engine.createStack(op(ctx), input) }
        },
        {
          honours: [
            'StackName',
            'TemplateBody',
            'TemplateURL',
            'Parameters.ParameterKey',
            'Parameters.ParameterValue',
            'Parameters.UsePreviousValue',
            'Capabilities',
            'RoleARN',
            'Tags',
            'DisableRollback',
            'OnFailure',
            'StackPolicyBody',
            'ClientRequestToken',
            'EnableTerminationProtection',
          ],
          accepts: {
            ...STACK_WRITE_ACCEPTS,
            // Kept and shown by DescribeStacks (SPEC.md §1).
            TimeoutInMinutes:
              'its least value is a minute and the sandbox creates a stack in milliseconds (no resource here waits on anything outside it)',
            RetainExceptOnCreate: RETAIN_NOTHING,
          },
          refuses: {
            ...STACK_WRITE_REFUSES,
            StackPolicyURL:
              'the sandbox reads no policy from a URL; send the policy as a body (StackPolicyBody)',
          },
        },
      ),

      operation<Cfn.UpdateStackInput, Cfn.UpdateStackOutput>(
        'UpdateStack',
        async (i, ctx) => {
          const input = stackInput(i)
          allow(ctx, 'UpdateStack', stackArn(ctx, input.stackName), conditionKeys(input))
          return { StackId: await engine.updateStack(op(ctx), input) }
        },
        {
          honours: [
            'StackName',
            'TemplateBody',
            'TemplateURL',
            'Parameters.ParameterKey',
            'Parameters.ParameterValue',
            'Parameters.UsePreviousValue',
            'Capabilities',
            'RoleARN',
            'Tags',
            'UsePreviousTemplate',
            'StackPolicyDuringUpdateBody',
            'StackPolicyBody',
            'DisableRollback',
            'ClientRequestToken',
          ],
          accepts: {
            ...STACK_WRITE_ACCEPTS,
            RetainExceptOnCreate: RETAIN_NOTHING,
          },
          refuses: {
            ...STACK_WRITE_REFUSES,
            StackPolicyURL:
              'the sandbox reads no policy from a URL; send the policy as a body (StackPolicyBody)',
            StackPolicyDuringUpdateURL:
              'the sandbox reads no policy from a URL; send the policy as a body (StackPolicyDuringUpdateBody)',
          },
        },
      ),

      operation<Cfn.CancelUpdateStackInput, object>(
        'CancelUpdateStack',
        (i, ctx) => {
          allow(ctx, 'CancelUpdateStack', stackArn(ctx, i.StackName))
          engine.cancelUpdateStack(op(ctx).scope, i.StackName)
          return {}
        },
        {
          honours: ['StackName'],
          accepts: {
            ClientRequestToken:
              'it tells retries of one cancellation apart; the sandbox cancels at most one update of a stack, so a retry changes nothing either way',
          },
        },
      ),

      operation<Cfn.SetStackPolicyInput, object>(
        'SetStackPolicy',
        (i, ctx) => {
          // The model makes neither member required; API_SetStackPolicy.html: "You must specify
          // either the StackPolicyBody or the StackPolicyURL parameter, but not both."
          if (i.StackPolicyBody === undefined)
            throw validationError('You must specify either StackPolicyBody or StackPolicyURL.')
          allow(ctx, 'SetStackPolicy', stackArn(ctx, i.StackName))
          engine.setStackPolicy(op(ctx).scope, i.StackName, i.StackPolicyBody)
          return {}
        },
        {
          honours: ['StackName', 'StackPolicyBody'],
          refuses: {
            StackPolicyURL:
              'the sandbox reads no policy from a URL; send the policy as a body (StackPolicyBody)',
          },
        },
      ),

      operation<Cfn.GetStackPolicyInput, Cfn.GetStackPolicyOutput>(
        'GetStackPolicy',
        (i, ctx) => {
          allow(ctx, 'GetStackPolicy', stackArn(ctx, i.StackName))
          return { StackPolicyBody: engine.getStackPolicy(op(ctx).scope, i.StackName) }
        },
        { honours: ['StackName'] },
      ),

      operation<Cfn.UpdateTerminationProtectionInput, Cfn.UpdateTerminationProtectionOutput>(
        'UpdateTerminationProtection',
        (i, ctx) => {
          allow(ctx, 'UpdateTerminationProtection', stackArn(ctx, i.StackName))
          return {
            StackId: engine.updateTerminationProtection(
              op(ctx).scope,
              i.StackName,
              i.EnableTerminationProtection,
            ),
          }
        },
        { honours: ['EnableTerminationProtection', 'StackName'] },
      ),

      operation<Cfn.ContinueUpdateRollbackInput, Cfn.ContinueUpdateRollbackOutput>(
        'ContinueUpdateRollback',
        async (i, ctx) => {
          allow(ctx, 'ContinueUpdateRollback', stackArn(ctx, i.StackName), roleKey(i.RoleARN))
          await engine.continueUpdateRollback(op(ctx), i.StackName, i.ResourcesToSkip ?? [], i.RoleARN)
          return {}
        },
        {
          honours: ['StackName', 'RoleARN', 'ResourcesToSkip'],
          accepts: {
            ClientRequestToken:
              'it tells retries of one request apart; the sandbox continues a rollback once per request, and a retry of a finished one fails as it would',
          },
        },
      ),

      operation<Cfn.DeleteStackInput, object>(
        'DeleteStack',
        async (i, ctx) => {
          // FORCE_DELETE_STACK deletes a DELETE_FAILED stack without its resources
          // (API_DeleteStack.html, DeletionMode); the engine deletes the standard way only, and the
          // declaration refuses any other mode.
          allow(ctx, 'DeleteStack', stackArn(ctx, i.StackName), roleKey(i.RoleARN))
          await engine.deleteStack(op(ctx), i.StackName, {
            roleArn: i.RoleARN,
            retainResources: i.RetainResources ?? [],
            clientRequestToken: i.ClientRequestToken,
          })
          return {}
        },
        {
          honours: ['StackName', 'RetainResources', 'RoleARN', 'ClientRequestToken'],
          accepts: {
            DeletionMode: {
              why: 'STANDARD is the default: the stack is deleted with its resources',
              when: 'STANDARD',
            },
          },
          refuses: {
            DeletionMode:
              'FORCE_DELETE_STACK is not modelled: the engine deletes stacks the standard way only',
          },
        },
      ),

      operation<Cfn.DescribeStacksInput, Cfn.DescribeStacksOutput>(
        'DescribeStacks',
        (i, ctx) => {
          allow(ctx, 'DescribeStacks', stackArn(ctx, i.StackName))
          const pg = page(i.NextToken, engine.describeStacks(op(ctx).scope, i.StackName), 100)
          return { Stacks: pg.items.map(stackOut), NextToken: pg.next }
        },
        { honours: ['StackName', 'NextToken'] },
      ),

      operation<Cfn.ListStacksInput, Cfn.ListStacksOutput>(
        'ListStacks',
        (i, ctx) => {
          allow(ctx, 'ListStacks', '*')
          const pg = page(i.NextToken, engine.listStacks(op(ctx).scope, i.StackStatusFilter ?? []), 100)
          return {
            StackSummaries: pg.items.map((s) => ({
              StackId: s.stackId,
              StackName: s.stackName,
              TemplateDescription: s.description,
              CreationTime: at(s.creationTime),
              LastUpdatedTime: atOptional(s.lastUpdatedTime),
              DeletionTime: atOptional(s.deletionTime),
              StackStatus: s.status,
              StackStatusReason: s.statusReason,
              DriftInformation: { StackDriftStatus: 'NOT_CHECKED' },
            })),
            NextToken: pg.next,
          }
        },
        { honours: ['NextToken', 'StackStatusFilter'] },
      ),

      operation<Cfn.DescribeStackEventsInput, Cfn.DescribeStackEventsOutput>(
        'DescribeStackEvents',
        (i, ctx) => {
          allow(ctx, 'DescribeStackEvents', stackArn(ctx, i.StackName))
          const pg = page(i.NextToken, engine.events(op(ctx).scope, i.StackName), 100)
          return {
            StackEvents: pg.items.map((e) => ({
              StackId: e.stackId,
              EventId: e.eventId,
              StackName: e.stackName,
              LogicalResourceId: e.logicalResourceId,
              PhysicalResourceId: e.physicalResourceId,
              ResourceType: e.resourceType,
              Timestamp: at(e.timestamp),
              // A stack's or a resource's status, as the engine recorded it (ResourceStatus is
              // the model's set of both).
              ResourceStatus: e.resourceStatus as Cfn.ResourceStatus,
              ResourceStatusReason: e.resourceStatusReason,
              ResourceProperties: e.resourceProperties,
              ClientRequestToken: e.clientRequestToken,
            })),
            NextToken: pg.next,
          }
        },
        { honours: ['StackName', 'NextToken'] },
      ),

      operation<Cfn.DescribeStackResourceInput, Cfn.DescribeStackResourceOutput>(
        'DescribeStackResource',
        (i, ctx) => {
          allow(ctx, 'DescribeStackResource', stackArn(ctx, i.StackName))
          const s = engine.getStack(op(ctx).scope, i.StackName)
          const r = s.resources[i.LogicalResourceId]
          if (!r)
            throw validationError(`Resource ${i.LogicalResourceId} does not exist for stack ${i.StackName}`)
          return { StackResourceDetail: resourceDetailOut(s, r) }
        },
        { honours: ['StackName', 'LogicalResourceId'] },
      ),

      operation<Cfn.DescribeStackResourcesInput, Cfn.DescribeStackResourcesOutput>(
        'DescribeStackResources',
        (i, ctx) => {
          const { StackName: name, PhysicalResourceId: physical, LogicalResourceId: logical } = i
          if (name === undefined && physical === undefined)
            throw validationError('Either StackName or PhysicalResourceId must be specified.')
          allow(ctx, 'DescribeStackResources', stackArn(ctx, name))
          const scope = op(ctx).scope
          const s =
            name !== undefined
              ? engine.getStack(scope, name)
              : engine
                  .describeStacks(scope)
                  .find((x) => Object.values(x.resources).some((r) => r.physicalId === physical))
          if (!s) throw validationError(`Stack for ${physical} does not exist`)
          const rs = Object.values(s.resources).filter(
            (r) => logical === undefined || r.logicalId === logical,
          )
          return { StackResources: rs.map(resourceOut(s)) }
        },
        { honours: ['StackName', 'LogicalResourceId', 'PhysicalResourceId'] },
      ),

      operation<Cfn.ListStackResourcesInput, Cfn.ListStackResourcesOutput>(
        'ListStackResources',
        (i, ctx) => {
          allow(ctx, 'ListStackResources', stackArn(ctx, i.StackName))
          const s = engine.getStack(op(ctx).scope, i.StackName)
          const pg = page(i.NextToken, Object.values(s.resources), 100)
          return {
            StackResourceSummaries: pg.items.map((r) => ({
              LogicalResourceId: r.logicalId,
              PhysicalResourceId: r.physicalId,
              ResourceType: r.type,
              LastUpdatedTimestamp: at(r.lastUpdated),
              ResourceStatus: r.status,
              ResourceStatusReason: r.statusReason,
              DriftInformation: { StackResourceDriftStatus: 'NOT_CHECKED' },
            })),
            NextToken: pg.next,
          }
        },
        { honours: ['StackName', 'NextToken'] },
      ),

      // The template as submitted (`Original`). `Processed` is the template after its transforms
      // (API_GetTemplate.html, TemplateStage): the same text for a template that declares none; the
      // sandbox keeps no processed text, so it refuses Processed for one that declares a transform.
      operation<Cfn.GetTemplateInput, Cfn.GetTemplateOutput>(
        'GetTemplate',
        (i, ctx) => {
          const { StackName: name, ChangeSetName: cs } = i
          if (name === undefined && cs === undefined)
            throw validationError('Either StackName or ChangeSetName must be specified.')
          allow(ctx, 'GetTemplate', stackArn(ctx, name))
          const body = engine.getTemplate(op(ctx).scope, name ?? '', cs)
          if (i.TemplateStage === 'Processed' && body !== '' && transformsOf(loadTemplate(body)).length)
            throw unsupported('TemplateStage Processed for a template that declares a Transform')
          return { TemplateBody: body, StagesAvailable: ['Original', 'Processed'] }
        },
        { honours: ['StackName', 'ChangeSetName', 'TemplateStage'] },
      ),

      operation<Cfn.GetTemplateSummaryInput, Cfn.GetTemplateSummaryOutput>(
        'GetTemplateSummary',
        async (i, ctx) => {
          allow(ctx, 'GetTemplateSummary', stackArn(ctx, i.StackName))
          const { template } = await engine.summarize(op(ctx), {
            stackName: i.StackName,
            templateBody: i.TemplateBody,
            templateUrl: i.TemplateURL,
          })
          const caps = capabilitiesOf(template)
          const byType = new Map<string, string[]>()
          for (const [id, r] of Object.entries(template.Resources))
            byType.set(r.Type, [...(byType.get(r.Type) ?? []), id])
          return {
            Parameters: Object.entries(template.Parameters ?? {}).map(([k, d]) => ({
              ParameterKey: k,
              DefaultValue: defaultOf(d),
              ParameterType: d.Type,
              NoEcho: noEcho(d),
              Description: d.Description,
              ParameterConstraints: d.AllowedValues ? { AllowedValues: d.AllowedValues.map(String) } : {},
            })),
            Description: template.Description,
            Capabilities: caps.caps,
            CapabilitiesReason: caps.reason,
            ResourceTypes: [...byType.keys()],
            Version: template.AWSTemplateFormatVersion,
            Metadata: template.Metadata !== undefined ? JSON.stringify(template.Metadata) : undefined,
            DeclaredTransforms: transformsOf(template),
            ResourceIdentifierSummaries: [...byType].map(([t, ids]) => ({
              ResourceType: t,
              LogicalResourceIds: ids,
            })),
          }
        },
        {
          honours: ['TemplateBody', 'TemplateURL', 'StackName'],
          accepts: {
            CallAs: { why: 'SELF is the default: the caller acts as itself', when: 'SELF' },
            'TemplateSummaryConfig.TreatUnrecognizedResourceTypesAsWarnings': {
              why: 'false is the default: an unrecognized type is an error',
              when: false,
            },
          },
          refuses: {
            StackSetName: 'StackSets are not modelled',
            CallAs: 'StackSets (and their delegated administrators) are not modelled',
          },
        },
      ),

      operation<Cfn.ValidateTemplateInput, Cfn.ValidateTemplateOutput>(
        'ValidateTemplate',
        async (i, ctx) => {
          allow(ctx, 'ValidateTemplate', '*')
          const { template } = await engine.summarize(op(ctx), {
            templateBody: i.TemplateBody,
            templateUrl: i.TemplateURL,
          })
          const caps = capabilitiesOf(template)
          return {
            Parameters: Object.entries(template.Parameters ?? {}).map(([k, d]) => ({
              ParameterKey: k,
              DefaultValue: defaultOf(d),
              NoEcho: noEcho(d),
              Description: d.Description,
            })),
            Description: template.Description,
            Capabilities: caps.caps,
            CapabilitiesReason: caps.reason,
            DeclaredTransforms: transformsOf(template),
          }
        },
        { honours: ['TemplateBody', 'TemplateURL'] },
      ),

      operation<Cfn.CreateChangeSetInput, Cfn.CreateChangeSetOutput>(
        'CreateChangeSet',
        async (i, ctx) => {
          const input = stackInput(i)
          // Resource import (API_CreateChangeSet.html, ChangeSetType IMPORT, ResourcesToImport) and
          // drift reversal (DeploymentMode) are not modelled: the declaration refuses their members,
          // the type is refused here.
          const type = i.ChangeSetType ?? 'UPDATE'
          if (type === 'CREATE') checkNewStackName(input.stackName)
          if (type === 'IMPORT') throw unsupported('ChangeSetType IMPORT (resource import)')
          allow(ctx, 'CreateChangeSet', stackArn(ctx, input.stackName), conditionKeys(input))
          // IncludeNestedStacks, ClientToken and ImportExistingResources are accepted without effect
          // (the declaration says why; SPEC.md §1).
          const r = await engine.createChangeSet(op(ctx), {
            ...input,
            changeSetName: i.ChangeSetName,
            changeSetType: type,
            description: i.Description,
          })
          return { Id: r.id, StackId: r.stackId }
        },
        {
          honours: [
            'StackName',
            'TemplateBody',
            'TemplateURL',
            'Parameters.ParameterKey',
            'Parameters.ParameterValue',
            'Parameters.UsePreviousValue',
            'Capabilities',
            'RoleARN',
            'Tags',
            'UsePreviousTemplate',
            'ChangeSetName',
            'Description',
            'ChangeSetType',
          ],
          accepts: {
            ...STACK_WRITE_ACCEPTS,
            IncludeNestedStacks: 'the CDK CLI sends true; the sandbox has no nested stacks to include',
            ClientToken:
              'it tells retries of one request apart; the sandbox creates the change set once per request, and a retry with the same name fails as it would',
            ImportExistingResources:
              '`cdk bootstrap` sends true; the sandbox imports nothing, so a named resource that already exists outside the stack fails to create, as it would without the flag',
            OnStackFailure: {
              why: 'ROLLBACK is what a failed execution does here unless ExecuteChangeSet says DisableRollback',
              when: 'ROLLBACK',
            },
          },
          refuses: {
            ...STACK_WRITE_REFUSES,
            ResourcesToImport: 'resource import (ChangeSetType IMPORT) is not modelled',
            DeploymentMode: 'drift reversal (DeploymentMode) is not modelled',
            OnStackFailure:
              'a failed execution rolls back unless ExecuteChangeSet says DisableRollback; use that',
          },
        },
      ),

      // IncludePropertyValues asks for each change's before and after values
      // (API_DescribeChangeSet.html); they are optional members, and the sandbox's answer has none.
      operation<Cfn.DescribeChangeSetInput, Cfn.DescribeChangeSetOutput>(
        'DescribeChangeSet',
        (i, ctx) => {
          allow(ctx, 'DescribeChangeSet', stackArn(ctx, i.StackName))
          const cs = engine.getChangeSet(op(ctx).scope, i.ChangeSetName, i.StackName)
          return changeSetOut(cs)
        },
        {
          honours: ['ChangeSetName', 'StackName'],
          accepts: {
            // The CDK CLI sends true.
            IncludePropertyValues:
              "the before and after values it asks for are optional members of each change's details, which the sandbox's answer leaves out",
          },
          refuses: {
            NextToken: 'the sandbox answers every change in one page and gives no NextToken',
          },
        },
      ),

      operation<Cfn.ExecuteChangeSetInput, Cfn.ExecuteChangeSetOutput>(
        'ExecuteChangeSet',
        async (i, ctx) => {
          allow(ctx, 'ExecuteChangeSet', stackArn(ctx, i.StackName))
          await engine.executeChangeSet(op(ctx), i.ChangeSetName, i.StackName, {
            disableRollback: i.DisableRollback,
            clientRequestToken: i.ClientRequestToken,
          })
          return {}
        },
        {
          honours: ['ChangeSetName', 'StackName', 'ClientRequestToken', 'DisableRollback'],
          accepts: {
            RetainExceptOnCreate: RETAIN_NOTHING,
          },
        },
      ),

      operation<Cfn.DeleteChangeSetInput, Cfn.DeleteChangeSetOutput>(
        'DeleteChangeSet',
        (i, ctx) => {
          const { ChangeSetName: name, StackName: stack } = i
          allow(ctx, 'DeleteChangeSet', stackArn(ctx, stack))
          // A name that a live stack has no change set of is deleted already: DeleteChangeSet has
          // no ChangeSetNotFound error (API_DeleteChangeSet.html lists InvalidChangeSetStatus
          // only), and the CDK CLI deletes its change set's name unguarded before creating it.
          const scope = op(ctx).scope
          if (
            !name.startsWith('arn:') &&
            stack !== undefined &&
            engine.findStack(scope, stack) &&
            !engine.listChangeSets(scope, stack).some((c) => c.changeSetName === name)
          )
            return {}
          engine.deleteChangeSet(scope, name, stack)
          return {}
        },
        { honours: ['ChangeSetName', 'StackName'] },
      ),

      operation<Cfn.ListChangeSetsInput, Cfn.ListChangeSetsOutput>(
        'ListChangeSets',
        (i, ctx) => {
          allow(ctx, 'ListChangeSets', stackArn(ctx, i.StackName))
          const pg = page(i.NextToken, engine.listChangeSets(op(ctx).scope, i.StackName), 100)
          return {
            Summaries: pg.items.map((c) => ({
              StackId: c.stackId,
              StackName: c.stackName,
              ChangeSetId: c.changeSetId,
              ChangeSetName: c.changeSetName,
              ExecutionStatus: c.executionStatus,
              Status: c.status,
              StatusReason: c.statusReason,
              CreationTime: at(c.creationTime),
              Description: c.description,
              IncludeNestedStacks: false,
            })),
            NextToken: pg.next,
          }
        },
        { honours: ['StackName', 'NextToken'] },
      ),

      operation<Cfn.ListExportsInput, Cfn.ListExportsOutput>(
        'ListExports',
        (i, ctx) => {
          allow(ctx, 'ListExports', '*')
          const pg = page(i.NextToken, engine.listExports(op(ctx).scope), 100)
          return {
            Exports: pg.items.map((e) => ({ ExportingStackId: e.stackId, Name: e.name, Value: e.value })),
            NextToken: pg.next,
          }
        },
        { honours: ['NextToken'] },
      ),
    ],
  })
}
