/**
 * Small builders for CloudFormation's long form (`{ "Fn::Sub": … }`), which `stringifyTemplate`
 * writes back as the short form (`!Sub`). Intrinsic functions:
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html
 */
import { formatArn } from '../iam/arn.js'
import type { Tags } from './types.js'

/** A CloudFormation value: a literal or an intrinsic function in long form. */
export type CfnValue = string | { readonly [fn: string]: unknown }

/** `!Sub` when the string has a `${…}` variable; a plain string otherwise (cfn-lint W1020 flags a needless Sub). */
export function sub(s: string): CfnValue {
  // `${Name}` alone reads better as `!Ref Name`, and is the same value.
  const only = /^\$\{([A-Za-z0-9:]+)\}$/.exec(s)
  if (only) return { Ref: only[1]! }
  return s.includes('${') ? { 'Fn::Sub': s } : s
}

/** `!Ref name`. */
export function ref(name: string): CfnValue {
  return { Ref: name }
}

/** `!GetAtt resource.attribute`. */
export function getAtt(resource: string, attribute: string): CfnValue {
  return { 'Fn::GetAtt': [resource, attribute] }
}

/**
 * The partition as a pseudo parameter, so one template deploys in every partition (DESIGN.md: no
 * literal partitions). Pseudo parameters:
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/pseudo-parameter-reference.html
 */
export const PARTITION = '${AWS::Partition}'
/** The deploying stack's account, as a pseudo parameter. */
export const ACCOUNT = '${AWS::AccountId}'
/** The deploying stack's region, as a pseudo parameter. */
export const REGION = '${AWS::Region}'

/** An ARN (for `!Sub`) in the template's own partition, built with the one ARN helper of src/iam. */
export function arnIn(service: string, resource: string, region = '', account = ''): string {
  return formatArn({ partition: PARTITION, service, region, account, resource })
}

/** `arn:${AWS::Partition}:iam::<account>:role/<name>` for `!Sub`. */
export function roleArnSub(account: string, name: string): string {
  return arnIn('iam', `role/${name}`, '', account)
}

/** `arn:${AWS::Partition}:iam::<account>:root`: the account principal. */
export function accountRootSub(account: string): string {
  return arnIn('iam', 'root', '', account)
}

/** `Tags` as CloudFormation's list of `{ Key, Value }`, sorted by key for stable output. */
export function tagList(tags: Tags): { Key: string; Value: string }[] {
  return Object.keys(tags)
    .sort()
    .map((Key) => ({ Key, Value: tags[Key]! }))
}

/** `Tags` property only when there are tags (an empty list is noise). */
export function tagsProp(tags: Tags): { Tags?: { Key: string; Value: string }[] } {
  return Object.keys(tags).length ? { Tags: tagList(tags) } : {}
}

/** A logical-id fragment from a name: `eu-west-1` → `EuWest1`, `prod-eu` → `ProdEu`. */
export function pascal(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('')
}

/** A resource in long form. */
export interface CfnResource {
  readonly Type: string
  readonly Properties?: Record<string, unknown>
  readonly DependsOn?: string | readonly string[]
  readonly [other: string]: unknown
}

/**
 * A template under construction: parameters, resources and outputs in insertion order (so the
 * output is deterministic), each with the comment written above it in YAML.
 */
export class TemplateBuilder {
  readonly parameters: Record<string, Record<string, unknown>> = {}
  readonly resources: Record<string, CfnResource> = {}
  readonly outputs: Record<string, Record<string, unknown>> = {}
  readonly comments: Record<string, string> = {}

  constructor(readonly description: string) {}

  /** Adds a parameter; its comment says where the value comes from. */
  parameter(name: string, def: Record<string, unknown>, comment?: string): void {
    this.parameters[name] = def
    if (comment) this.comments[`Parameters.${name}`] = comment
  }

  /** Adds a resource with the comment that says what it is for. Logical ids must be unique. */
  resource(id: string, res: CfnResource, comment?: string): void {
    if (this.resources[id]) throw new Error(`synth bug: duplicate logical id ${id}`)
    this.resources[id] = res
    if (comment) this.comments[`Resources.${id}`] = comment
  }

  /** Adds an output. */
  output(name: string, def: Record<string, unknown>): void {
    this.outputs[name] = def
  }

  /** The template in long form. */
  build(): Record<string, unknown> {
    const t: Record<string, unknown> = {
      AWSTemplateFormatVersion: '2010-09-09',
      Description: this.description,
    }
    if (Object.keys(this.parameters).length) t.Parameters = this.parameters
    t.Resources = this.resources
    if (Object.keys(this.outputs).length) t.Outputs = this.outputs
    return t
  }
}
