/**
 * The model of every account after deployment, built from the resolved templates: roles with
 * their trust and identity policies, keys, buckets, topics, CodeBuild projects and pipelines.
 * Only what `check` reasons about is modelled; other resources are ignored.
 */
import { parseArn, formatArn, partitionOf } from '../iam/arn.js'
import { DEFAULT_PARTITION, dnsSuffix } from '../iam/aws-facts.js'
import { awsManagedPolicy } from '../iam/managed-policies.js'
import { EXISTING } from './existing.js'
import type { ExistingResourcesDocument } from './existing.js'
import type { PolicyDocument } from '../iam/types.js'
import { isObject } from './resolve.js'
import type { ResolvedStack, TemplatePath } from './resolve.js'

/** Where something was declared: stack, resource and path in its template. */
export interface Origin {
  readonly stack: string
  readonly logicalId: string
  readonly file: string
  readonly path: TemplatePath
}

/** An identity policy attached to a role. */
export interface AttachedPolicy {
  /** A human name for reasons: `inline policy "X" of role Y`, `managed policy Z`. */
  readonly name: string
  readonly document: PolicyDocument
  /** Where it is written (undefined for AWS managed policies). */
  readonly origin?: Origin
}

/** An IAM role. */
export interface RoleModel {
  readonly arn: string
  readonly name: string
  readonly account: string
  readonly trust: PolicyDocument
  readonly policies: AttachedPolicy[]
  readonly boundary?: PolicyDocument
  /** AWS managed policy ARNs that crosspipe does not know (assumed to grant nothing). */
  readonly unknownManaged: string[]
  readonly origin: Origin
  readonly phase: number
}

/** A KMS key. */
export interface KeyModel {
  readonly arn: string
  readonly id: string
  readonly account: string
  readonly region: string
  readonly policy: PolicyDocument
  readonly rotation: boolean
  readonly symmetric: boolean
  readonly aliases: string[]
  readonly origin: Origin
  readonly phase: number
  /** True for the AWS managed `aws/s3` key that S3 uses when no key is given (not in any template). */
  readonly awsManaged?: boolean
}

/** An S3 bucket. */
export interface BucketModel {
  readonly name: string
  readonly arn: string
  readonly account: string
  readonly region: string
  readonly sseAlgorithm?: string
  readonly sseKey?: string
  policy?: PolicyDocument
  policyOrigin?: Origin
  readonly origin: Origin
  readonly phase: number
}

/** An SNS topic (approval notifications). */
export interface TopicModel {
  readonly arn: string
  readonly account: string
  policy?: PolicyDocument
  readonly origin: Origin
}

/** A CodeBuild project. */
export interface ProjectModel {
  readonly name: string
  readonly arn: string
  readonly account: string
  readonly region: string
  readonly serviceRole?: string
  readonly encryptionKey?: string
  readonly cloudWatchLogs: boolean
  readonly origin: Origin
}

/** One action of a pipeline stage. */
export interface ActionModel {
  readonly stage: string
  readonly name: string
  readonly category: string
  readonly owner: string
  readonly provider: string
  readonly configuration: Readonly<Record<string, unknown>>
  readonly inputs: readonly string[]
  readonly outputs: readonly string[]
  readonly roleArn?: string
  readonly region: string
  readonly runOrder: number
  readonly path: TemplatePath
}

/** An artifact store: one per region of the pipeline. */
export interface ArtifactStoreModel {
  readonly region: string
  readonly bucket: string
  /** The EncryptionKey.Id as written (a key ARN, id, alias or alias ARN), absent for the default key. */
  readonly keyId?: string
  readonly path: TemplatePath
}

/** A pipeline. */
export interface PipelineModel {
  readonly name: string
  readonly account: string
  readonly region: string
  readonly partition: string
  readonly roleArn?: string
  readonly stores: readonly ArtifactStoreModel[]
  readonly stages: readonly {
    readonly name: string
    readonly actions: readonly ActionModel[]
    readonly path: TemplatePath
  }[]
  readonly origin: Origin
}

/** A customer managed policy declared in a template. */
interface ManagedPolicyDecl {
  readonly arn: string
  readonly document: PolicyDocument
  readonly origin: Origin
}

/** A policy document declared somewhere, for the policy lints. */
export interface DeclaredPolicy {
  readonly kind: 'identity' | 'trust' | 'key' | 'bucket' | 'topic' | 'managed'
  readonly document: PolicyDocument
  readonly origin: Origin
  readonly account: string
  /** For identity policies: the roles it is attached to. */
  readonly roles: RoleModel[]
  /** Character budget that applies to it (IAM quotas), when one does. */
  readonly name: string
}

/** Everything `check` knows about the accounts after deployment. */
export interface AccountsModel {
  readonly stacks: readonly ResolvedStack[]
  readonly roles: Map<string, RoleModel>
  readonly keys: Map<string, KeyModel>
  readonly buckets: Map<string, BucketModel>
  readonly topics: Map<string, TopicModel>
  readonly projects: Map<string, ProjectModel>
  readonly pipelines: PipelineModel[]
  readonly policies: DeclaredPolicy[]
  /** Alias name → key ARN, per account and region (`account/region/alias/x`). */
  readonly aliases: Map<string, string>
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)
const asArray = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v])

/** Builds the model from resolved stacks, and the resources the manifest declares as existing. */
export function buildModel(
  stacks: readonly ResolvedStack[],
  existing?: ExistingResourcesDocument,
  manifestFile = 'manifest',
): AccountsModel {
  const m: AccountsModel = {
    stacks,
    roles: new Map(),
    keys: new Map(),
    buckets: new Map(),
    topics: new Map(),
    projects: new Map(),
    pipelines: [],
    policies: [],
    aliases: new Map(),
  }
  const managed = new Map<string, ManagedPolicyDecl>()
  const roleByStackId = new Map<string, RoleModel>()
  const attachments: {
    doc: PolicyDocument
    name: string
    origin: Origin
    roles: string[]
    users: boolean
    stack: ResolvedStack
    kind: 'identity' | 'managed'
  }[] = []

  for (const s of stacks) {
    const origin = (id: string, path?: TemplatePath): Origin => ({
      stack: s.name,
      logicalId: id,
      file: s.template.file,
      path: path ?? ['Resources', id],
    })
    for (const r of s.resources.values()) {
      const p = r.properties
      const o = origin(r.logicalId)
      switch (r.type) {
        case 'AWS::IAM::Role': {
          const arn = s.attribute(r.logicalId, 'Arn')
          const role: RoleModel = {
            arn,
            name: s.physicalId(r.logicalId),
            account: s.account,
            trust: isObject(p.AssumeRolePolicyDocument) ? p.AssumeRolePolicyDocument : {},
            policies: [],
            unknownManaged: [],
            origin: o,
            phase: s.phase,
          }
          m.policies.push({
            kind: 'trust',
            document: role.trust,
            origin: origin(r.logicalId, [...r.path, 'Properties', 'AssumeRolePolicyDocument']),
            account: s.account,
            roles: [role],
            name: `trust policy of role ${role.name}`,
          })
          asArray(p.Policies).forEach((pol, i) => {
            if (!isObject(pol) || !isObject(pol.PolicyDocument)) return
            const name = `inline policy "${str(pol.PolicyName) ?? i}" of role ${role.name}`
            const po = origin(r.logicalId, [...r.path, 'Properties', 'Policies', i, 'PolicyDocument'])
            role.policies.push({ name, document: pol.PolicyDocument, origin: po })
            m.policies.push({
              kind: 'identity',
              document: pol.PolicyDocument,
              origin: po,
              account: s.account,
              roles: [role],
              name,
            })
          })
          m.roles.set(arn, role)
          roleByStackId.set(`${s.name}/${r.logicalId}`, role)
          break
        }
        case 'AWS::IAM::Policy':
        case 'AWS::IAM::ManagedPolicy': {
          if (!isObject(p.PolicyDocument)) break
          const name =
            r.type === 'AWS::IAM::Policy'
              ? `policy "${str(p.PolicyName) ?? r.logicalId}" (${s.name}/${r.logicalId})`
              : `managed policy ${r.logicalId} (${s.name})`
          const po = origin(r.logicalId, [...r.path, 'Properties', 'PolicyDocument'])
          attachments.push({
            doc: p.PolicyDocument,
            name,
            origin: po,
            roles: asArray(p.Roles).filter((x): x is string => typeof x === 'string'),
            users: asArray(p.Users).length > 0 || asArray(p.Groups).length > 0,
            stack: s,
            kind: r.type === 'AWS::IAM::Policy' ? 'identity' : 'managed',
          })
          if (r.type === 'AWS::IAM::ManagedPolicy')
            managed.set(s.physicalId(r.logicalId), {
              arn: s.physicalId(r.logicalId),
              document: p.PolicyDocument,
              origin: po,
            })
          break
        }
        case 'AWS::KMS::Key': {
          const id = s.physicalId(r.logicalId)
          const arn = s.attribute(r.logicalId, 'Arn')
          const spec = str(p.KeySpec) ?? 'SYMMETRIC_DEFAULT'
          const key: KeyModel = {
            arn,
            id,
            account: s.account,
            region: s.region,
            policy: isObject(p.KeyPolicy) ? p.KeyPolicy : {},
            rotation: p.EnableKeyRotation === true || p.EnableKeyRotation === 'true',
            symmetric: spec === 'SYMMETRIC_DEFAULT',
            aliases: [],
            origin: o,
            phase: s.phase,
          }
          m.keys.set(arn, key)
          m.policies.push({
            kind: 'key',
            document: key.policy,
            origin: origin(r.logicalId, [...r.path, 'Properties', 'KeyPolicy']),
            account: s.account,
            roles: [],
            name: `key policy of ${r.logicalId}`,
          })
          break
        }
        case 'AWS::S3::Bucket': {
          const name = s.physicalId(r.logicalId)
          const enc = isObject(p.BucketEncryption)
            ? asArray(p.BucketEncryption.ServerSideEncryptionConfiguration)[0]
            : undefined
          const byDefault =
            isObject(enc) && isObject(enc.ServerSideEncryptionByDefault)
              ? enc.ServerSideEncryptionByDefault
              : undefined
          m.buckets.set(name, {
            name,
            arn: s.attribute(r.logicalId, 'Arn'),
            account: s.account,
            region: s.region,
            sseAlgorithm: str(byDefault?.SSEAlgorithm),
            sseKey: str(byDefault?.KMSMasterKeyID),
            origin: o,
            phase: s.phase,
          })
          break
        }
        case 'AWS::SNS::Topic':
          m.topics.set(s.physicalId(r.logicalId), {
            arn: s.physicalId(r.logicalId),
            account: s.account,
            origin: o,
          })
          break
        case 'AWS::CodeBuild::Project': {
          const name = s.physicalId(r.logicalId)
          const logs =
            isObject(p.LogsConfig) && isObject(p.LogsConfig.CloudWatchLogs)
              ? p.LogsConfig.CloudWatchLogs
              : undefined
          m.projects.set(`${s.account}/${s.region}/${name}`, {
            name,
            arn: s.attribute(r.logicalId, 'Arn'),
            account: s.account,
            region: s.region,
            // The reference documents ServiceRole as an ARN, but published templates pass the role's
            // name (`!Ref BuildRole`), which CodeBuild takes as a role of the project's account:
            // read both rather than refuse a template that deploys.
            serviceRole: roleArnOf(str(p.ServiceRole), s.partition, s.account),
            encryptionKey: str(p.EncryptionKey),
            cloudWatchLogs: logs?.Status !== 'DISABLED',
            origin: o,
          })
          break
        }
        case 'AWS::CodePipeline::Pipeline':
          m.pipelines.push(pipelineOf(s, r.logicalId, p, o))
          break
      }
    }
  }
  // Second pass: things that point at resources of any stack (policies → roles, aliases → keys,
  // bucket and topic policies).
  for (const s of stacks) {
    for (const r of s.resources.values()) {
      const p = r.properties
      const po = {
        stack: s.name,
        logicalId: r.logicalId,
        file: s.template.file,
        path: [...r.path, 'Properties', 'PolicyDocument'],
      }
      if (r.type === 'AWS::KMS::Alias') {
        const target = str(p.TargetKeyId)
        const alias = str(p.AliasName)
        const key = target && findKey(m, target, s.account, s.region)
        if (key && alias) {
          key.aliases.push(alias)
          m.aliases.set(`${s.account}/${s.region}/${alias}`, key.arn)
        }
      } else if (r.type === 'AWS::S3::BucketPolicy' && isObject(p.PolicyDocument)) {
        const b = m.buckets.get(str(p.Bucket) ?? '')
        if (b) {
          b.policy = p.PolicyDocument
          b.policyOrigin = po
        }
        m.policies.push({
          kind: 'bucket',
          document: p.PolicyDocument,
          origin: po,
          account: b?.account ?? s.account,
          roles: [],
          name: `bucket policy of ${str(p.Bucket)}`,
        })
      } else if (r.type === 'AWS::SNS::TopicPolicy' && isObject(p.PolicyDocument)) {
        for (const t of asArray(p.Topics)) {
          const topic = m.topics.get(str(t) ?? '')
          if (topic) topic.policy = p.PolicyDocument
        }
        m.policies.push({
          kind: 'topic',
          document: p.PolicyDocument,
          origin: po,
          account: s.account,
          roles: [],
          name: `topic policy ${r.logicalId}`,
        })
      }
    }
  }
  for (const a of attachments) {
    const roles: RoleModel[] = []
    for (const roleName of a.roles) {
      const role = [...m.roles.values()].find((x) => x.account === a.stack.account && x.name === roleName)
      if (role) {
        roles.push(role)
        role.policies.push({ name: a.name, document: a.doc, origin: a.origin })
      }
    }
    m.policies.push({
      kind: a.kind,
      document: a.doc,
      origin: a.origin,
      account: a.stack.account,
      roles,
      name: a.name,
    })
  }
  for (const s of stacks) {
    for (const r of s.resources.values()) {
      if (r.type !== 'AWS::IAM::Role') continue
      const role = roleByStackId.get(`${s.name}/${r.logicalId}`)!
      for (const arn of asArray(r.properties.ManagedPolicyArns)) {
        if (typeof arn !== 'string') continue
        const doc = managedPolicy(managed, arn)
        // A policy declared in a template keeps its origin, so a problem in it is reported in the
        // template that declares it, not in the role's.
        if (doc)
          role.policies.push({
            name: `managed policy ${arn}`,
            document: doc,
            origin: managed.get(arn)?.origin,
          })
        else role.unknownManaged.push(arn)
      }
      const pb = str(r.properties.PermissionsBoundary)
      if (pb) {
        const doc = managedPolicy(managed, pb)
        if (doc) (role as { boundary?: PolicyDocument }).boundary = doc
        else role.unknownManaged.push(pb)
      }
    }
  }
  if (existing) addExisting(m, existing, manifestFile, managed)
  return m
}

/**
 * The manifest's `existing` resources: they exist before any stack deploys (phase 0), with the
 * policies the manifest gives them.
 */
function addExisting(
  m: AccountsModel,
  e: ExistingResourcesDocument,
  file: string,
  managed: Map<string, ManagedPolicyDecl>,
): void {
  const origin = (kind: string, i: number, name: string, ...more: (string | number)[]): Origin => ({
    stack: EXISTING,
    logicalId: name,
    file,
    path: ['existing', kind, i, ...more],
  })
  e.roles.forEach((r, i) => {
    const a = parseArn(r.arn)!
    const name = a.resource.split('/').pop()!
    const role: RoleModel = {
      arn: r.arn,
      name,
      account: a.account,
      trust: r.trustPolicy,
      policies: r.policies.map((doc, j) => ({
        name: `policy ${j} of existing role ${name}`,
        document: doc,
        origin: origin('roles', i, name, 'policies', j),
      })),
      boundary: r.permissionsBoundary,
      unknownManaged: [],
      origin: origin('roles', i, name),
      phase: 0,
    }
    for (const arn of r.managedPolicyArns) {
      const doc = managedPolicy(managed, arn)
      if (doc)
        role.policies.push({ name: `managed policy ${arn}`, document: doc, origin: managed.get(arn)?.origin })
      else role.unknownManaged.push(arn)
    }
    m.roles.set(r.arn, role)
    m.policies.push({
      kind: 'trust',
      document: role.trust,
      origin: origin('roles', i, name, 'trustPolicy'),
      account: a.account,
      roles: [role],
      name: `trust policy of existing role ${name}`,
    })
    role.policies.forEach((p) =>
      m.policies.push({
        kind: 'identity',
        document: p.document,
        origin: p.origin!,
        account: a.account,
        roles: [role],
        name: p.name,
      }),
    )
  })
  e.keys.forEach((k, i) => {
    const a = parseArn(k.arn)!
    const id = a.resource.slice('key/'.length)
    const key: KeyModel = {
      arn: k.arn,
      id,
      account: a.account,
      region: a.region,
      policy: k.policy,
      rotation: k.rotation,
      symmetric: true,
      aliases: [...k.aliases],
      origin: origin('keys', i, id),
      phase: 0,
    }
    m.keys.set(k.arn, key)
    for (const alias of k.aliases) m.aliases.set(`${a.account}/${a.region}/${alias}`, k.arn)
    m.policies.push({
      kind: 'key',
      document: k.policy,
      origin: origin('keys', i, id, 'policy'),
      account: a.account,
      roles: [],
      name: `key policy of existing key ${id}`,
    })
  })
  e.buckets.forEach((b, i) => {
    const partition = partitionOfRegion(b.region)
    const bucket: BucketModel = {
      name: b.name,
      arn: formatArn({ partition, service: 's3', region: '', account: '', resource: b.name }),
      account: b.account,
      region: b.region,
      sseAlgorithm: b.encryption?.algorithm,
      sseKey: b.encryption?.key,
      origin: origin('buckets', i, b.name),
      phase: 0,
    }
    if (b.policy) {
      bucket.policy = b.policy
      bucket.policyOrigin = origin('buckets', i, b.name, 'policy')
      m.policies.push({
        kind: 'bucket',
        document: b.policy,
        origin: bucket.policyOrigin,
        account: b.account,
        roles: [],
        name: `bucket policy of existing bucket ${b.name}`,
      })
    }
    m.buckets.set(b.name, bucket)
  })
}

function partitionOfRegion(region: string): string {
  return partitionOf(region) ?? DEFAULT_PARTITION
}

/** A role given by name or ARN, as an ARN in `account`. */
function roleArnOf(ref: string | undefined, partition: string, account: string): string | undefined {
  if (ref === undefined || ref === '' || ref.startsWith('arn:')) return ref
  return formatArn({ partition, service: 'iam', region: '', account, resource: `role/${ref}` })
}

function managedPolicy(managed: Map<string, ManagedPolicyDecl>, arn: string): PolicyDocument | undefined {
  const own = managed.get(arn)
  if (own) return own.document
  return awsManagedPolicy(arn)?.document
}

/**
 * The key a key reference means, as KMS resolves it in `account`/`region`: a key ARN, an alias
 * ARN, or — resolved in the caller's own account — a key id or `alias/…` name.
 * https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#key-id
 */
export function findKey(
  m: AccountsModel,
  ref: string,
  account: string,
  region: string,
): KeyModel | undefined {
  const a = parseArn(ref)
  if (a) {
    if (a.resource.startsWith('key/')) return m.keys.get(ref)
    if (a.resource.startsWith('alias/')) {
      const k = m.aliases.get(`${a.account}/${a.region}/${a.resource}`)
      return k ? m.keys.get(k) : undefined
    }
    return undefined
  }
  if (ref.startsWith('alias/')) {
    const k = m.aliases.get(`${account}/${region}/${ref}`)
    return k ? m.keys.get(k) : undefined
  }
  return [...m.keys.values()].find((k) => k.id === ref && k.account === account && k.region === region)
}

/** The ARN of the key a reference names in `account`/`region`, even when no template declares it. */
export function keyArnOf(ref: string, partition: string, account: string, region: string): string {
  if (parseArn(ref)) return ref
  return formatArn({
    partition,
    service: 'kms',
    region,
    account,
    resource: ref.startsWith('alias/') ? ref : `key/${ref}`,
  })
}

function pipelineOf(
  s: ResolvedStack,
  id: string,
  p: Readonly<Record<string, unknown>>,
  origin: Origin,
): PipelineModel {
  const base: TemplatePath = ['Resources', id, 'Properties']
  const stores: ArtifactStoreModel[] = []
  const storeOf = (st: unknown, region: string, path: TemplatePath): void => {
    if (!isObject(st)) return
    const key = isObject(st.EncryptionKey) ? str(st.EncryptionKey.Id) : undefined
    stores.push({ region, bucket: str(st.Location) ?? '', keyId: key, path })
  }
  storeOf(p.ArtifactStore, s.region, [...base, 'ArtifactStore'])
  asArray(p.ArtifactStores).forEach((x, i) => {
    if (isObject(x))
      storeOf(x.ArtifactStore, str(x.Region) ?? s.region, [...base, 'ArtifactStores', i, 'ArtifactStore'])
  })
  const stages = asArray(p.Stages).map((st, si) => {
    const sn = isObject(st) ? (str(st.Name) ?? `stage${si + 1}`) : `stage${si + 1}`
    const actions = (isObject(st) ? asArray(st.Actions) : []).map((a, ai): ActionModel => {
      const o = isObject(a) ? a : {}
      const t = isObject(o.ActionTypeId) ? o.ActionTypeId : {}
      const names = (v: unknown): string[] =>
        asArray(v)
          .map((x) => (isObject(x) ? (str(x.Name) ?? '') : ''))
          .filter(Boolean)
      return {
        stage: sn,
        name: str(o.Name) ?? `action${ai + 1}`,
        category: str(t.Category) ?? '',
        owner: str(t.Owner) ?? '',
        provider: str(t.Provider) ?? '',
        configuration: isObject(o.Configuration) ? o.Configuration : {},
        inputs: names(o.InputArtifacts),
        outputs: names(o.OutputArtifacts),
        roleArn: str(o.RoleArn),
        region: str(o.Region) ?? s.region,
        runOrder: Number(o.RunOrder ?? 1),
        path: [...base, 'Stages', si, 'Actions', ai],
      }
    })
    return { name: sn, actions, path: [...base, 'Stages', si] as TemplatePath }
  })
  return {
    name: s.physicalId(id),
    account: s.account,
    region: s.region,
    partition: s.partition,
    roleArn: str(p.RoleArn),
    stores,
    stages,
    origin,
  }
}

// The partition assumed where an ARN gives none, and a partition's DNS suffix: AWS facts.
export { DEFAULT_PARTITION, dnsSuffix }
