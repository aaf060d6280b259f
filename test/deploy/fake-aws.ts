/**
 * An in-memory CloudFormation + S3 behind the `AccountAccess` interface, for deterministic deploy
 * tests: failures, rollbacks, cancellation and concurrency that moto cannot show. Operations
 * advance one step per DescribeStacks call, so tests do not depend on timers.
 *
 * Failure injection: a resource of type `Test::Fail` fails with `Properties.Reason`; a bucket
 * (`AWS::S3::Bucket`) with objects fails to delete, as S3 refuses to delete a non-empty bucket.
 */
import { parseTemplate } from '../../src/model/cfn-yaml.js'
import { CrosspipeError } from '../../src/model/errors.js'
import type {
  AccountAccess,
  CodePipelineApi,
  ChangeSetDescription,
  CloudFormationApi,
  CreateChangeSetInput,
  ResourceChange,
  S3Api,
  StackDescription,
  StackEvent,
  StackLocation,
} from '../../src/aws/index.js'

interface Resource {
  type: string
  physicalId: string
  status: string
  props: unknown
}
interface Op {
  kind: 'CREATE' | 'UPDATE' | 'DELETE'
  queue: { logicalId: string; type: string; fail?: string; remove?: boolean; props: unknown }[]
  rollingBack: boolean
  cancel: boolean
  lastStep?: number
}
interface Stack {
  stackId: string
  name: string
  status: string
  statusReason?: string
  template?: string
  parameters: Record<string, string>
  tags: Record<string, string>
  resources: Map<string, Resource>
  events: StackEvent[]
  op?: Op
  pending?: { template: string; parameters: Record<string, string>; tags: Record<string, string> }
}
interface ChangeSet {
  id: string
  stackName: string
  type: 'CREATE' | 'UPDATE'
  template: string
  parameters: Record<string, string>
  tags: Record<string, string>
  status: string
  reason?: string
  describes: number
  changes: ResourceChange[]
}

/** One mutating call, for asserting what a deploy wrote. */
export interface Call {
  readonly op: string
  readonly account: string
  readonly region: string
  readonly stack?: string
}

let eventCounter = 0

function body(text: string): Record<string, any> {
  return parseTemplate(text, 'template').body as Record<string, any>
}

class FakeCfn implements CloudFormationApi {
  readonly stacks = new Map<string, Stack>()
  readonly changeSets = new Map<string, ChangeSet>()
  constructor(
    private readonly world: FakeAws,
    private readonly loc: StackLocation,
  ) {}

  private log(op: string, stack?: string) {
    this.world.calls.push({ op, ...this.loc, ...(stack ? { stack } : {}) })
  }

  private event(s: Stack, logicalId: string, type: string, status: string, reason?: string) {
    s.events.unshift({
      eventId: `e${++eventCounter}`,
      timestamp: new Date(),
      logicalId,
      resourceType: type,
      status,
      ...(reason ? { reason } : {}),
    })
  }

  private outputs(s: Stack): Record<string, string> {
    if (!s.template || !['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'UPDATE_ROLLBACK_COMPLETE'].includes(s.status))
      return {}
    const out: Record<string, string> = {}
    for (const [k, o] of Object.entries(body(s.template).Outputs ?? {})) {
      const v = (o as any).Value
      if (typeof v === 'string') out[k] = v
      else if (v?.Ref && s.parameters[v.Ref] !== undefined) out[k] = s.parameters[v.Ref]!
      else if (v?.Ref) out[k] = s.resources.get(v.Ref)?.physicalId ?? ''
      else if (v?.['Fn::GetAtt'])
        out[k] = `arn:fake:${this.loc.account}:${[v['Fn::GetAtt']].flat().join('.')}`
      else out[k] = JSON.stringify(v)
    }
    return out
  }

  /** Advances a running operation by one step. */
  private step(s: Stack) {
    const op = s.op
    if (!op) return
    // With `stepMs`, each step takes that long in wall-clock time, like a real provisioning.
    if (this.world.stepMs > 0) {
      const now = Date.now()
      if (op.lastStep !== undefined && now - op.lastStep < this.world.stepMs) return
      if (op.lastStep === undefined) {
        op.lastStep = now
        return
      }
      op.lastStep = now
    }
    const next = op.queue.shift()
    if (op.cancel && !op.rollingBack && op.kind === 'UPDATE') {
      op.rollingBack = true
      op.queue = []
      s.status = 'UPDATE_ROLLBACK_IN_PROGRESS'
      this.event(s, s.name, 'AWS::CloudFormation::Stack', s.status, 'Stack update cancelled')
      return
    }
    if (next && !op.rollingBack) {
      if (op.kind === 'DELETE') {
        const r = s.resources.get(next.logicalId)!
        if (r.type === 'AWS::S3::Bucket' && (this.world.buckets.get(r.physicalId) ?? 0) > 0) {
          this.event(
            s,
            next.logicalId,
            r.type,
            'DELETE_FAILED',
            'The bucket you tried to delete is not empty. You must delete all versions in the bucket.',
          )
          s.status = 'DELETE_FAILED'
          s.op = undefined
          return
        }
        this.event(s, next.logicalId, r.type, 'DELETE_COMPLETE')
        s.resources.delete(next.logicalId)
        this.world.buckets.delete(r.physicalId)
        return
      }
      const verb = s.resources.has(next.logicalId) ? 'UPDATE' : 'CREATE'
      if (next.remove) {
        s.resources.delete(next.logicalId)
        this.event(s, next.logicalId, next.type, 'DELETE_COMPLETE')
        return
      }
      this.event(s, next.logicalId, next.type, `${verb}_IN_PROGRESS`)
      if (next.fail !== undefined) {
        this.event(s, next.logicalId, next.type, `${verb}_FAILED`, next.fail)
        for (const q of op.queue)
          this.event(s, q.logicalId, q.type, `${verb}_FAILED`, `Resource ${verb.toLowerCase()} cancelled`)
        op.rollingBack = true
        op.queue = []
        s.status = op.kind === 'CREATE' ? 'ROLLBACK_IN_PROGRESS' : 'UPDATE_ROLLBACK_IN_PROGRESS'
        this.event(
          s,
          s.name,
          'AWS::CloudFormation::Stack',
          s.status,
          `The following resource(s) failed to ${verb.toLowerCase()}: [${next.logicalId}].`,
        )
        return
      }
      const physicalId = `${s.name}-${next.logicalId}-${this.loc.account}`.toLowerCase()
      s.resources.set(next.logicalId, {
        type: next.type,
        physicalId,
        status: `${verb}_COMPLETE`,
        props: next.props,
      })
      if (next.type === 'AWS::S3::Bucket' && !this.world.buckets.has(physicalId))
        this.world.buckets.set(physicalId, 0)
      this.event(s, next.logicalId, next.type, `${verb}_COMPLETE`)
      return
    }
    if (op.rollingBack) {
      if (op.kind === 'CREATE') {
        // As on AWS, ListStackResources still lists what the rollback deleted, as DELETE_COMPLETE.
        for (const [id, r] of s.resources) {
          this.event(s, id, r.type, 'DELETE_COMPLETE')
          r.status = 'DELETE_COMPLETE'
          this.world.buckets.delete(r.physicalId)
        }
        s.status = 'ROLLBACK_COMPLETE'
      } else s.status = 'UPDATE_ROLLBACK_COMPLETE'
      s.pending = undefined
      this.event(s, s.name, 'AWS::CloudFormation::Stack', s.status)
      s.op = undefined
      return
    }
    if (op.kind === 'DELETE') {
      s.status = 'DELETE_COMPLETE'
      this.event(s, s.name, 'AWS::CloudFormation::Stack', s.status)
      this.stacks.delete(s.name)
      s.op = undefined
      return
    }
    if (s.pending) {
      s.template = s.pending.template
      s.parameters = s.pending.parameters
      s.tags = s.pending.tags
      s.pending = undefined
    }
    s.status = `${op.kind}_COMPLETE`
    this.event(s, s.name, 'AWS::CloudFormation::Stack', s.status)
    s.op = undefined
  }

  describeStack(name: string): Promise<StackDescription | undefined> {
    const s = this.stacks.get(name)
    if (!s) return Promise.resolve(undefined)
    this.step(s)
    if (!this.stacks.has(name)) return Promise.resolve(undefined)
    const hidden = this.world.noEcho
    return Promise.resolve({
      stackId: s.stackId,
      name,
      status: s.status,
      ...(s.statusReason ? { statusReason: s.statusReason } : {}),
      parameters: Object.fromEntries(
        Object.entries(s.parameters).map(([k, v]) => [k, hidden.has(k) ? '****' : v]),
      ),
      outputs: this.outputs(s),
      tags: { ...s.tags },
    })
  }

  getTemplate(name: string): Promise<string | undefined> {
    return Promise.resolve(this.stacks.get(name)?.template)
  }

  async createChangeSet(i: CreateChangeSetInput): Promise<{ id: string; stackId: string }> {
    this.log('CreateChangeSet', i.stackName)
    let template = i.templateBody
    if (i.templateUrl !== undefined) {
      template = this.world.objects.get(i.templateUrl)
      if (template === undefined)
        throw Object.assign(new Error(`TemplateURL ${i.templateUrl} not found`), { name: 'ValidationError' })
    }
    const existing = this.stacks.get(i.stackName)
    if (i.changeSetType === 'UPDATE' && !existing)
      throw Object.assign(new Error(`Stack [${i.stackName}] does not exist`), { name: 'ValidationError' })
    if (i.changeSetType === 'CREATE' && existing && existing.status !== 'REVIEW_IN_PROGRESS')
      throw Object.assign(new Error(`Stack [${i.stackName}] already exists`), {
        name: 'AlreadyExistsException',
      })
    await Promise.resolve()
    const s: Stack = existing ?? {
      stackId: `arn:fake:cloudformation:${this.loc.region}:${this.loc.account}:stack/${i.stackName}`,
      name: i.stackName,
      status: 'REVIEW_IN_PROGRESS',
      parameters: {},
      tags: {},
      resources: new Map(),
      events: [],
    }
    if (!existing) {
      this.stacks.set(i.stackName, s)
      this.event(s, s.name, 'AWS::CloudFormation::Stack', 'REVIEW_IN_PROGRESS', 'User Initiated')
    }
    const id = `arn:fake:changeSet/${i.changeSetName}`
    const tags = { ...(i.tags ?? {}) }
    const sameParams = JSON.stringify(s.parameters) === JSON.stringify(i.parameters)
    const unchanged =
      i.changeSetType === 'UPDATE' &&
      s.template === template &&
      sameParams &&
      JSON.stringify(s.tags) === JSON.stringify(tags)
    const newRes = (body(template ?? '{}').Resources ?? {}) as Record<string, any>
    const oldRes = s.template ? ((body(s.template).Resources ?? {}) as Record<string, any>) : {}
    const changes: ResourceChange[] = []
    for (const [k, r] of Object.entries(newRes)) {
      if (!(k in oldRes)) changes.push({ action: 'Add', logicalId: k, resourceType: r.Type })
      else if (JSON.stringify(oldRes[k]) !== JSON.stringify(r) || !sameParams)
        changes.push({ action: 'Modify', logicalId: k, resourceType: r.Type, replacement: 'False' })
    }
    for (const [k, r] of Object.entries(oldRes))
      if (!(k in newRes)) changes.push({ action: 'Remove', logicalId: k, resourceType: r.Type })
    this.changeSets.set(id, {
      id,
      stackName: i.stackName,
      type: i.changeSetType,
      template: template ?? '',
      parameters: { ...i.parameters },
      tags,
      status: unchanged ? 'FAILED' : 'CREATE_COMPLETE',
      ...(unchanged
        ? {
            reason:
              "The submitted information didn't contain changes. Submit different information to create a change set.",
          }
        : {}),
      describes: 0,
      changes: unchanged ? [] : changes,
    })
    return { id, stackId: s.stackId }
  }

  describeChangeSet(_stack: string, id: string): Promise<ChangeSetDescription> {
    const c = this.changeSets.get(id)
    if (!c)
      return Promise.reject(
        Object.assign(new Error(`ChangeSet [${id}] does not exist`), { name: 'ChangeSetNotFoundException' }),
      )
    // The first describe sees it still being created, as on AWS.
    const status = c.describes++ === 0 ? 'CREATE_IN_PROGRESS' : c.status
    return Promise.resolve({
      id,
      status,
      ...(status === 'FAILED' && c.reason ? { statusReason: c.reason } : {}),
      executionStatus: status === 'CREATE_COMPLETE' ? 'AVAILABLE' : 'UNAVAILABLE',
      changes: c.changes,
    })
  }

  executeChangeSet(stackName: string, id: string): Promise<void> {
    this.log('ExecuteChangeSet', stackName)
    const c = this.changeSets.get(id)!
    const s = this.stacks.get(stackName)!
    const resources = (body(c.template).Resources ?? {}) as Record<string, any>
    const queue = c.changes.map((ch) => {
      const r = resources[ch.logicalId]
      return {
        logicalId: ch.logicalId,
        type: ch.resourceType,
        props: r?.Properties,
        ...(ch.action === 'Remove' ? { remove: true } : {}),
        ...(r?.Type === 'Test::Fail' ? { fail: String(r.Properties?.Reason ?? 'failed') } : {}),
      }
    })
    s.op = { kind: c.type, queue, rollingBack: false, cancel: false }
    s.pending = { template: c.template, parameters: c.parameters, tags: c.tags }
    if (c.type === 'CREATE') s.template = c.template
    s.status = `${c.type}_IN_PROGRESS`
    this.event(s, s.name, 'AWS::CloudFormation::Stack', s.status, 'User Initiated')
    this.changeSets.delete(id)
    this.world.active++
    this.world.maxActive = Math.max(this.world.maxActive, this.world.active)
    const done = () => {
      if (s.op) return setTimeout(done, 1)
      this.world.active--
    }
    setTimeout(done, 1)
    return Promise.resolve()
  }

  deleteChangeSet(_stack: string, id: string): Promise<void> {
    this.log('DeleteChangeSet', _stack)
    this.changeSets.delete(id)
    return Promise.resolve()
  }

  describeStackEvents(nameOrId: string): Promise<readonly StackEvent[]> {
    const name = nameOrId.includes(':stack/') ? nameOrId.slice(nameOrId.indexOf(':stack/') + 7) : nameOrId
    return Promise.resolve([...(this.stacks.get(name)?.events ?? this.world.graveyard.get(name) ?? [])])
  }

  listStackResources(name: string) {
    const s = this.stacks.get(name)
    return Promise.resolve(
      [...(s?.resources ?? [])].map(([logicalId, r]) => ({
        logicalId,
        physicalId: r.physicalId,
        resourceType: r.type,
        status: r.status,
      })),
    )
  }

  deleteStack(name: string): Promise<void> {
    this.log('DeleteStack', name)
    const s = this.stacks.get(name)
    if (!s) return Promise.resolve()
    s.op = {
      kind: 'DELETE',
      queue: [...s.resources]
        .filter(([, r]) => r.status !== 'DELETE_COMPLETE')
        .map(([logicalId, r]) => ({ logicalId, type: r.type, props: r.props })),
      rollingBack: false,
      cancel: false,
    }
    s.status = 'DELETE_IN_PROGRESS'
    this.event(s, s.name, 'AWS::CloudFormation::Stack', s.status, 'User Initiated')
    this.world.graveyard.set(name, s.events)
    return Promise.resolve()
  }

  cancelUpdateStack(name: string): Promise<void> {
    this.log('CancelUpdateStack', name)
    const s = this.stacks.get(name)
    if (s?.op && s.status === 'UPDATE_IN_PROGRESS') s.op.cancel = true
    return Promise.resolve()
  }
}

class FakeS3 implements S3Api {
  constructor(
    private readonly world: FakeAws,
    private readonly loc: StackLocation,
  ) {}
  putObject(bucket: string, key: string, text: string): Promise<void> {
    this.world.calls.push({ op: 'PutObject', ...this.loc })
    this.world.objects.set(this.objectUrl(bucket, key), text)
    return Promise.resolve()
  }
  objectUrl(bucket: string, key: string): string {
    return `https://${bucket}.s3.fake/${key}`
  }
  emptyBucket(bucket: string): Promise<number> {
    this.world.calls.push({ op: 'EmptyBucket', ...this.loc })
    const n = this.world.buckets.get(bucket) ?? 0
    this.world.buckets.set(bucket, 0)
    return Promise.resolve(n)
  }
}

/** The fake world: every account and region, the call log, and knobs for tests. */
export class FakeAws implements AccountAccess {
  readonly calls: Call[] = []
  /** Bucket physical id → number of object versions. */
  readonly buckets = new Map<string, number>()
  /** Uploaded objects by URL. */
  readonly objects = new Map<string, string>()
  /** Events of deleted stacks (DescribeStackEvents by name still answers while deleting). */
  readonly graveyard = new Map<string, StackEvent[]>()
  /** Parameter names DescribeStacks hides as `****` (NoEcho). */
  readonly noEcho = new Set<string>()
  /** Accounts without credentials. */
  readonly missingProfiles = new Set<string>()
  /** Milliseconds each operation step takes (0: one step per DescribeStacks call). */
  stepMs = 0
  active = 0
  maxActive = 0
  private readonly cfns = new Map<string, FakeCfn>()

  describe(account: string): string {
    return `fake profile for ${account}`
  }
  cloudFormation(l: StackLocation): FakeCfn {
    const k = `${l.account}/${l.region}`
    let c = this.cfns.get(k)
    if (!c) this.cfns.set(k, (c = new FakeCfn(this, { account: l.account, region: l.region })))
    return c
  }
  s3(l: StackLocation): S3Api {
    return new FakeS3(this, { account: l.account, region: l.region })
  }
  codePipeline(): CodePipelineApi {
    // Deploy never runs pipelines; a call here is a bug in deploy.
    throw new Error('FakeAws: deploy must not call CodePipeline')
  }
  whoAmI(l: StackLocation) {
    if (this.missingProfiles.has(l.account))
      return Promise.reject(
        new CrosspipeError('credentials', `cannot use profile "p${l.account}": could not be found`),
      )
    return Promise.resolve({ account: l.account, arn: `arn:fake:iam::${l.account}:user/test` })
  }
  /** The mutating calls (everything but reads). */
  writes(): Call[] {
    return this.calls
  }
  stack(l: StackLocation, name: string) {
    return this.cloudFormation(l).stacks.get(name)
  }
}
