/**
 * CloudFormation over awsQuery (API version 2010-05-15): the actions of the API reference,
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_Operations.html, mapped
 * onto the {@link CloudFormationEngine}. Every action is authorized first, with the action's
 * resource and condition keys from the Service Authorization Reference
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudformation.html).
 * Behaviour and sources: SPEC.md.
 */
import { formatArn } from '../../../iam/arn.js'
import { XML_NAMESPACES } from '../../../iam/aws-facts.js'
import { authorize } from '../../auth/authorize.js'
import type { XmlObject } from '../../gateway/xml.js'
import type { Runtime } from '../../runtime.js'
import { memberList, optional, optionalInt, required, tagList } from '../query-params.js'
import type { QueryParams, QueryService, RequestContext } from '../types.js'
import { CloudFormationEngine, type OpContext, type StackInput } from './engine.js'
import { validationError } from './errors.js'
import { callerOf, sandboxHost } from './host.js'
import { displayValue, type ParameterInput } from './parameters.js'
import { SqlCfnStore, type ChangeSetRecord, type StackRecord } from './store.js'
import { requiredCapability, type Template } from './template.js'

const XMLNS = XML_NAMESPACES.cloudformation

function bool(p: QueryParams, name: string): boolean | undefined {
  const v = p.get(name)
  return v === undefined ? undefined : v === 'true'
}

function parametersOf(p: QueryParams): ParameterInput[] {
  const out: ParameterInput[] = []
  for (let i = 1; ; i++) {
    const key = p.get(`Parameters.member.${i}.ParameterKey`)
    if (key === undefined) break
    out.push({
      ParameterKey: key,
      ParameterValue: p.get(`Parameters.member.${i}.ParameterValue`),
      UsePreviousValue: p.get(`Parameters.member.${i}.UsePreviousValue`) === 'true',
    })
  }
  return out
}

function stackInput(p: QueryParams): StackInput {
  const onFailure = optional(p, 'OnFailure')
  if (
    onFailure !== undefined &&
    onFailure !== 'DO_NOTHING' &&
    onFailure !== 'ROLLBACK' &&
    onFailure !== 'DELETE'
  ) {
    throw validationError(
      `1 validation error detected: Value '${onFailure}' at 'onFailure' failed to satisfy constraint: Member must satisfy enum value set: [DO_NOTHING, ROLLBACK, DELETE]`,
    )
  }
  if (onFailure !== undefined && p.get('DisableRollback') !== undefined) {
    throw validationError('You can specify either DisableRollback or OnFailure, but not both.')
  }
  if (p.has('RollbackConfiguration.RollbackTriggers.member.1.Arn')) {
    throw validationError(
      'Rollback triggers (RollbackConfiguration) are not supported by the crosspipe sandbox',
    )
  }
  for (const url of ['StackPolicyURL', 'StackPolicyDuringUpdateURL']) {
    if (p.has(url))
      throw validationError(`${url} is not supported by the crosspipe sandbox; send the policy as a body`)
  }
  return {
    stackName: required(p, 'StackName'),
    templateBody: optional(p, 'TemplateBody'),
    templateUrl: optional(p, 'TemplateURL'),
    usePreviousTemplate: bool(p, 'UsePreviousTemplate'),
    parameters: parametersOf(p),
    capabilities: memberList(p, 'Capabilities'),
    roleArn: optional(p, 'RoleARN'),
    notificationArns: p.has('NotificationARNs.member.1') ? memberList(p, 'NotificationARNs') : undefined,
    // Tags travel as Tags.member.N.Key/Value; an empty `Tags=` removes them all, and no Tags
    // parameter leaves them as they are (API_UpdateStack.html, "Tags").
    tags: p.has('Tags.member.1.Key') ? tagList(p) : p.has('Tags') ? [] : undefined,
    disableRollback: bool(p, 'DisableRollback'),
    onFailure,
    timeoutInMinutes: optionalInt(p, 'TimeoutInMinutes', 1, 100000),
    enableTerminationProtection: bool(p, 'EnableTerminationProtection'),
    stackPolicyBody: optional(p, 'StackPolicyBody'),
    stackPolicyDuringUpdateBody: optional(p, 'StackPolicyDuringUpdateBody'),
    clientRequestToken: optional(p, 'ClientRequestToken'),
  }
}

function list<T>(items: readonly T[], f: (x: T) => XmlObject | string): XmlObject {
  return { member: items.map(f) }
}

/** `Stack` of API_Stack.html. */
function stackXml(s: StackRecord): XmlObject {
  return {
    StackId: s.stackId,
    StackName: s.stackName,
    ChangeSetId: s.changeSetId,
    Description: s.description,
    Parameters: list(s.parameters, (p) => ({
      ParameterKey: p.key,
      ParameterValue: displayValue(p),
      ResolvedValue: p.resolvedValue,
    })),
    CreationTime: s.creationTime,
    DeletionTime: s.deletionTime,
    LastUpdatedTime: s.lastUpdatedTime,
    RollbackConfiguration: {},
    StackStatus: s.status,
    StackStatusReason: s.statusReason,
    DisableRollback: s.disableRollback,
    NotificationARNs: list(s.notificationArns, (a) => a),
    TimeoutInMinutes: s.timeoutInMinutes,
    Capabilities: list(s.capabilities, (c) => c),
    Outputs: list(s.outputs, (o) => ({
      OutputKey: o.key,
      OutputValue: o.value,
      Description: o.description,
      ExportName: o.exportName,
    })),
    RoleARN: s.roleArn,
    Tags: list(s.tags, (t) => ({ Key: t.Key, Value: t.Value })),
    EnableTerminationProtection: s.enableTerminationProtection,
    DriftInformation: { StackDriftStatus: 'NOT_CHECKED' },
  }
}

function changeSetXml(cs: ChangeSetRecord): XmlObject {
  return {
    ChangeSetName: cs.changeSetName,
    ChangeSetId: cs.changeSetId,
    StackId: cs.stackId,
    StackName: cs.stackName,
    Description: cs.description,
    Parameters: list(cs.parameters, (p) => ({
      ParameterKey: p.key,
      ParameterValue: displayValue(p),
      ResolvedValue: p.resolvedValue,
    })),
    CreationTime: cs.creationTime,
    ExecutionStatus: cs.executionStatus,
    Status: cs.status,
    StatusReason: cs.statusReason,
    NotificationARNs: list(cs.notificationArns, (a) => a),
    RollbackConfiguration: {},
    Capabilities: list(cs.capabilities, (c) => c),
    Tags: list(cs.tags, (t) => ({ Key: t.Key, Value: t.Value })),
    Changes: list(cs.changes, (c) => ({
      Type: 'Resource',
      ResourceChange: {
        Action: c.action,
        LogicalResourceId: c.logicalId,
        PhysicalResourceId: c.physicalId,
        ResourceType: c.resourceType,
        Replacement: c.replacement,
        Scope: list(c.scope, (s) => s),
        Details: list(c.details, (d) => ({
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
function page<T>(p: QueryParams, items: readonly T[], size: number): { items: readonly T[]; next?: string } {
  const token = optional(p, 'NextToken')
  const start = token ? Number(Buffer.from(token, 'base64url').toString('utf8')) : 0
  if (!Number.isInteger(start) || start < 0) throw validationError('Invalid NextToken')
  const slice = items.slice(start, start + size)
  return {
    items: slice,
    next: start + size < items.length ? Buffer.from(String(start + size)).toString('base64url') : undefined,
  }
}

function capabilitiesOf(t: Template): { caps: string[]; reason?: string } {
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

  const conditionKeys = (input: StackInput): Record<string, string> => {
    // cloudformation:RoleArn and cloudformation:TemplateUrl condition keys (list_awscloudformation.html).
    const c: Record<string, string> = {}
    if (input.roleArn !== undefined) c['cloudformation:RoleArn'] = input.roleArn
    if (input.templateUrl !== undefined) c['cloudformation:TemplateUrl'] = input.templateUrl
    return c
  }

  const resourceXml = (s: StackRecord, detail: boolean) => (r: StackRecord['resources'][string]) => ({
    StackName: s.stackName,
    StackId: s.stackId,
    LogicalResourceId: r.logicalId,
    PhysicalResourceId: r.physicalId,
    ResourceType: r.type,
    [detail ? 'LastUpdatedTimestamp' : 'Timestamp']: r.lastUpdated,
    ResourceStatus: r.status,
    ResourceStatusReason: r.statusReason,
    Metadata: detail && r.metadata !== undefined ? JSON.stringify(r.metadata) : undefined,
    DriftInformation: { StackResourceDriftStatus: 'NOT_CHECKED' },
  })

  return {
    name: 'cloudformation',
    signingName: 'cloudformation',
    protocol: 'query',
    xmlNamespace: XMLNS,
    apiVersion: '2010-05-15',
    actions: {
      CreateStack: async (p, ctx) => {
        const input = stackInput(p)
        allow(ctx, 'CreateStack', stackArn(ctx, input.stackName), conditionKeys(input))
        return { StackId: await engine.createStack(op(ctx), input) }
      },

      UpdateStack: async (p, ctx) => {
        const input = stackInput(p)
        allow(ctx, 'UpdateStack', stackArn(ctx, input.stackName), conditionKeys(input))
        return { StackId: await engine.updateStack(op(ctx), input) }
      },

      CancelUpdateStack: (p, ctx) => {
        const name = required(p, 'StackName')
        allow(ctx, 'CancelUpdateStack', stackArn(ctx, name))
        engine.cancelUpdateStack(op(ctx).scope, name)
        return undefined
      },

      SetStackPolicy: (p, ctx) => {
        const name = required(p, 'StackName')
        if (p.has('StackPolicyURL'))
          throw validationError(
            'StackPolicyURL is not supported by the crosspipe sandbox; send the policy as a body',
          )
        allow(ctx, 'SetStackPolicy', stackArn(ctx, name))
        engine.setStackPolicy(op(ctx).scope, name, required(p, 'StackPolicyBody'))
        return undefined
      },

      GetStackPolicy: (p, ctx) => {
        const name = required(p, 'StackName')
        allow(ctx, 'GetStackPolicy', stackArn(ctx, name))
        return { StackPolicyBody: engine.getStackPolicy(op(ctx).scope, name) }
      },

      UpdateTerminationProtection: (p, ctx) => {
        const name = required(p, 'StackName')
        const enable = required(p, 'EnableTerminationProtection') === 'true'
        allow(ctx, 'UpdateTerminationProtection', stackArn(ctx, name))
        return { StackId: engine.updateTerminationProtection(op(ctx).scope, name, enable) }
      },

      ContinueUpdateRollback: async (p, ctx) => {
        const name = required(p, 'StackName')
        const roleArn = optional(p, 'RoleARN')
        allow(
          ctx,
          'ContinueUpdateRollback',
          stackArn(ctx, name),
          roleArn ? { 'cloudformation:RoleArn': roleArn } : {},
        )
        await engine.continueUpdateRollback(op(ctx), name, memberList(p, 'ResourcesToSkip'), roleArn)
        return {}
      },

      DeleteStack: async (p, ctx) => {
        const name = required(p, 'StackName')
        const roleArn = optional(p, 'RoleARN')
        allow(ctx, 'DeleteStack', stackArn(ctx, name), roleArn ? { 'cloudformation:RoleArn': roleArn } : {})
        await engine.deleteStack(op(ctx), name, {
          roleArn,
          retainResources: memberList(p, 'RetainResources'),
          clientRequestToken: optional(p, 'ClientRequestToken'),
        })
        return undefined
      },

      DescribeStacks: (p, ctx) => {
        const name = optional(p, 'StackName')
        allow(ctx, 'DescribeStacks', stackArn(ctx, name))
        const stacks = engine.describeStacks(op(ctx).scope, name)
        const pg = page(p, stacks, 100)
        return { Stacks: list(pg.items, stackXml), NextToken: pg.next }
      },

      ListStacks: (p, ctx) => {
        allow(ctx, 'ListStacks', '*')
        const stacks = engine.listStacks(op(ctx).scope, memberList(p, 'StackStatusFilter'))
        const pg = page(p, stacks, 100)
        return {
          StackSummaries: list(pg.items, (s) => ({
            StackId: s.stackId,
            StackName: s.stackName,
            TemplateDescription: s.description,
            CreationTime: s.creationTime,
            LastUpdatedTime: s.lastUpdatedTime,
            DeletionTime: s.deletionTime,
            StackStatus: s.status,
            StackStatusReason: s.statusReason,
            DriftInformation: { StackDriftStatus: 'NOT_CHECKED' },
          })),
          NextToken: pg.next,
        }
      },

      DescribeStackEvents: (p, ctx) => {
        const name = required(p, 'StackName')
        allow(ctx, 'DescribeStackEvents', stackArn(ctx, name))
        const pg = page(p, engine.events(op(ctx).scope, name), 100)
        return {
          StackEvents: list(pg.items, (e) => ({
            StackId: e.stackId,
            EventId: e.eventId,
            StackName: e.stackName,
            LogicalResourceId: e.logicalResourceId,
            PhysicalResourceId: e.physicalResourceId,
            ResourceType: e.resourceType,
            Timestamp: e.timestamp,
            ResourceStatus: e.resourceStatus,
            ResourceStatusReason: e.resourceStatusReason,
            ResourceProperties: e.resourceProperties,
            ClientRequestToken: e.clientRequestToken,
          })),
          NextToken: pg.next,
        }
      },

      DescribeStackResource: (p, ctx) => {
        const name = required(p, 'StackName')
        const logical = required(p, 'LogicalResourceId')
        allow(ctx, 'DescribeStackResource', stackArn(ctx, name))
        const s = engine.getStack(op(ctx).scope, name)
        const r = s.resources[logical]
        if (!r) throw validationError(`Resource ${logical} does not exist for stack ${name}`)
        return { StackResourceDetail: resourceXml(s, true)(r) }
      },

      DescribeStackResources: (p, ctx) => {
        const name = optional(p, 'StackName')
        const physical = optional(p, 'PhysicalResourceId')
        const logical = optional(p, 'LogicalResourceId')
        if (name === undefined && physical === undefined) {
          throw validationError('Either StackName or PhysicalResourceId must be specified.')
        }
        allow(ctx, 'DescribeStackResources', stackArn(ctx, name))
        const scope = op(ctx).scope
        const s =
          name !== undefined
            ? engine.getStack(scope, name)
            : engine
                .describeStacks(scope)
                .find((x) => Object.values(x.resources).some((r) => r.physicalId === physical))
        if (!s) throw validationError(`Stack for ${physical} does not exist`)
        const rs = Object.values(s.resources).filter((r) => logical === undefined || r.logicalId === logical)
        return { StackResources: list(rs, resourceXml(s, false)) }
      },

      ListStackResources: (p, ctx) => {
        const name = required(p, 'StackName')
        allow(ctx, 'ListStackResources', stackArn(ctx, name))
        const s = engine.getStack(op(ctx).scope, name)
        const pg = page(p, Object.values(s.resources), 100)
        return {
          StackResourceSummaries: list(pg.items, (r) => ({
            LogicalResourceId: r.logicalId,
            PhysicalResourceId: r.physicalId,
            ResourceType: r.type,
            LastUpdatedTimestamp: r.lastUpdated,
            ResourceStatus: r.status,
            ResourceStatusReason: r.statusReason,
            DriftInformation: { StackResourceDriftStatus: 'NOT_CHECKED' },
          })),
          NextToken: pg.next,
        }
      },

      GetTemplate: (p, ctx) => {
        const name = optional(p, 'StackName')
        const cs = optional(p, 'ChangeSetName')
        if (name === undefined && cs === undefined)
          throw validationError('Either StackName or ChangeSetName must be specified.')
        allow(ctx, 'GetTemplate', stackArn(ctx, name))
        return {
          TemplateBody: engine.getTemplate(op(ctx).scope, name ?? '', cs),
          StagesAvailable: list(['Original', 'Processed'], (x) => x),
        }
      },

      GetTemplateSummary: async (p, ctx) => {
        const name = optional(p, 'StackName')
        allow(ctx, 'GetTemplateSummary', stackArn(ctx, name))
        const { template } = await engine.summarize(op(ctx), {
          stackName: name,
          templateBody: optional(p, 'TemplateBody'),
          templateUrl: optional(p, 'TemplateURL'),
        })
        const caps = capabilitiesOf(template)
        const byType = new Map<string, string[]>()
        for (const [id, r] of Object.entries(template.Resources))
          byType.set(r.Type, [...(byType.get(r.Type) ?? []), id])
        return {
          Parameters: list(Object.entries(template.Parameters ?? {}), ([k, d]) => ({
            ParameterKey: k,
            DefaultValue:
              d.Default === undefined
                ? undefined
                : Array.isArray(d.Default)
                  ? d.Default.join(',')
                  : String(d.Default as string),
            ParameterType: d.Type,
            NoEcho: d.NoEcho === true || d.NoEcho === 'true',
            Description: d.Description,
            ParameterConstraints: d.AllowedValues
              ? { AllowedValues: list(d.AllowedValues.map(String), (x) => x) }
              : {},
          })),
          Description: template.Description,
          Capabilities: list(caps.caps, (c) => c),
          CapabilitiesReason: caps.reason,
          ResourceTypes: list([...byType.keys()], (t) => t),
          Version: template.AWSTemplateFormatVersion,
          Metadata: template.Metadata !== undefined ? JSON.stringify(template.Metadata) : undefined,
          DeclaredTransforms: list(
            typeof template.Transform === 'string' ? [template.Transform] : [...(template.Transform ?? [])],
            (t) => t,
          ),
          ResourceIdentifierSummaries: list([...byType], ([t, ids]) => ({
            ResourceType: t,
            LogicalResourceIds: list(ids, (x) => x),
          })),
        }
      },

      ValidateTemplate: async (p, ctx) => {
        allow(ctx, 'ValidateTemplate', '*')
        const { template } = await engine.summarize(op(ctx), {
          templateBody: optional(p, 'TemplateBody'),
          templateUrl: optional(p, 'TemplateURL'),
        })
        const caps = capabilitiesOf(template)
        return {
          Parameters: list(Object.entries(template.Parameters ?? {}), ([k, d]) => ({
            ParameterKey: k,
            DefaultValue:
              d.Default === undefined
                ? undefined
                : Array.isArray(d.Default)
                  ? d.Default.join(',')
                  : String(d.Default as string),
            NoEcho: d.NoEcho === true || d.NoEcho === 'true',
            Description: d.Description,
          })),
          Description: template.Description,
          Capabilities: list(caps.caps, (c) => c),
          CapabilitiesReason: caps.reason,
          DeclaredTransforms: list(
            typeof template.Transform === 'string' ? [template.Transform] : [...(template.Transform ?? [])],
            (t) => t,
          ),
        }
      },

      CreateChangeSet: async (p, ctx) => {
        const input = stackInput(p)
        allow(ctx, 'CreateChangeSet', stackArn(ctx, input.stackName), conditionKeys(input))
        const type = optional(p, 'ChangeSetType') ?? 'UPDATE'
        if (type === 'IMPORT') {
          throw validationError(
            'ChangeSetType IMPORT (resource import) is not supported by the crosspipe sandbox',
          )
        }
        if (type !== 'CREATE' && type !== 'UPDATE') {
          throw validationError(
            `1 validation error detected: Value '${type}' at 'changeSetType' failed to satisfy constraint: Member must satisfy enum value set: [UPDATE, IMPORT, CREATE]`,
          )
        }
        const r = await engine.createChangeSet(op(ctx), {
          ...input,
          changeSetName: required(p, 'ChangeSetName'),
          changeSetType: type,
          description: optional(p, 'Description'),
        })
        return { Id: r.id, StackId: r.stackId }
      },

      DescribeChangeSet: (p, ctx) => {
        const name = required(p, 'ChangeSetName')
        const stack = optional(p, 'StackName')
        allow(ctx, 'DescribeChangeSet', stackArn(ctx, stack))
        return changeSetXml(engine.getChangeSet(op(ctx).scope, name, stack))
      },

      ExecuteChangeSet: async (p, ctx) => {
        const name = required(p, 'ChangeSetName')
        const stack = optional(p, 'StackName')
        allow(ctx, 'ExecuteChangeSet', stackArn(ctx, stack))
        await engine.executeChangeSet(op(ctx), name, stack, {
          disableRollback: bool(p, 'DisableRollback'),
          clientRequestToken: optional(p, 'ClientRequestToken'),
        })
        return {}
      },

      DeleteChangeSet: (p, ctx) => {
        const name = required(p, 'ChangeSetName')
        const stack = optional(p, 'StackName')
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

      ListChangeSets: (p, ctx) => {
        const stack = required(p, 'StackName')
        allow(ctx, 'ListChangeSets', stackArn(ctx, stack))
        const pg = page(p, engine.listChangeSets(op(ctx).scope, stack), 100)
        return {
          Summaries: list(pg.items, (c) => ({
            StackId: c.stackId,
            StackName: c.stackName,
            ChangeSetId: c.changeSetId,
            ChangeSetName: c.changeSetName,
            ExecutionStatus: c.executionStatus,
            Status: c.status,
            StatusReason: c.statusReason,
            CreationTime: c.creationTime,
            Description: c.description,
            IncludeNestedStacks: false,
          })),
          NextToken: pg.next,
        }
      },

      ListExports: (p, ctx) => {
        allow(ctx, 'ListExports', '*')
        const pg = page(p, engine.listExports(op(ctx).scope), 100)
        return {
          Exports: list(pg.items, (e) => ({ ExportingStackId: e.stackId, Name: e.name, Value: e.value })),
          NextToken: pg.next,
        }
      },
    },
  }
}
