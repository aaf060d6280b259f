/**
 * THE CALL CATALOGUE: every AWS call a running CodePipeline makes, per action type — which
 * principal calls which IAM action on which resource. This is the one place that knows it; each
 * entry cites the AWS documentation it follows.
 *
 * A pipeline's calls, in order:
 * - CodePipeline assumes the pipeline's service role.
 * - For an action with a `RoleArn`, the pipeline role's session assumes that role (the
 *   cross-account pattern); the action's calls are then made by that role, else by the pipeline role.
 * - Reading an input artifact is `s3:GetObject` on the artifact store plus `kms:Decrypt` on the
 *   key it was encrypted with; writing an output artifact is `s3:PutObject` plus
 *   `kms:GenerateDataKey`.
 * - Then the provider's own calls (below).
 */
import { formatArn, parseArn } from '../iam/arn.js'
import { endpointHost, servicePrincipal } from '../iam/aws-facts.js'
import type { ContextValue } from '../iam/types.js'
import { keyArnOf } from './model.js'
import type { AccountsModel, ActionModel, Origin, PipelineModel, ProjectModel } from './model.js'
import type { RuleId } from './types.js'

/** Documentation pages the catalogue cites. */
export const DOCS = {
  serviceRole:
    'https://docs.aws.amazon.com/codepipeline/latest/userguide/security-iam.html#how-to-custom-role',
  crossAccount:
    'https://docs.aws.amazon.com/codepipeline/latest/userguide/pipelines-create-cross-account.html',
  artifactEncryption: 'https://docs.aws.amazon.com/codepipeline/latest/userguide/S3-artifact-encryption.html',
  s3Kms: 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html#require-sse-kms',
  codeCommit:
    'https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-CodeCommit.html#action-reference-CodeCommit-permissions',
  s3Source:
    'https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-S3.html#action-reference-S3-permissions',
  connection:
    'https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-CodestarConnectionSource.html#action-reference-CodestarConnectionSource-permissions',
  codeBuildAction:
    'https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-CodeBuild.html#edit-role-codebuild',
  codeBuildServiceRole: 'https://docs.aws.amazon.com/codebuild/latest/userguide/setting-up-service-role.html',
  codeBuildKms: 'https://docs.aws.amazon.com/codebuild/latest/userguide/setting-up-kms.html',
  codeBuildConfusedDeputy:
    'https://docs.aws.amazon.com/codebuild/latest/userguide/cross-service-confused-deputy-prevention.html',
  codePipelineConfusedDeputy:
    'https://docs.aws.amazon.com/codepipeline/latest/userguide/security-iam.html#security_iam_service-with-iam-confused-deputy',
  cloudFormationAction:
    'https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-CloudFormation.html#action-reference-CloudFormation-permissions',
  cloudFormationServiceRole:
    'https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html',
  cloudFormationArtifactAtt:
    'https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-CloudFormation.html',
  cloudFormationAuthz:
    'https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudformation.html',
  passRole: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html',
  approval:
    'https://docs.aws.amazon.com/codepipeline/latest/userguide/approvals-service-role-permissions.html',
  lambdaInvoke:
    'https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-Lambda.html#action-reference-Lambda-permissions',
  s3Deploy:
    'https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-S3Deploy.html#action-reference-S3Deploy-permissions',
  awsManagedKey: 'https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#aws-managed-key',
} as const

/** The principal of a call: a service, or a session of a role. */
export type CallPrincipal =
  { readonly kind: 'service'; readonly name: string } | { readonly kind: 'role'; readonly arn: string }

/** Which resource-based policy decides alongside identity policies. */
export type ResourceKind = 'role' | 'key' | 'bucket' | 'topic' | 'none'

/** One required call, before evaluation. */
export interface CallSpec {
  readonly stage: string
  readonly action: string
  readonly principal: CallPrincipal
  readonly operation: string
  readonly resource: string
  readonly resourceAccount: string
  readonly resourceKind: ResourceKind
  readonly context: Readonly<Record<string, ContextValue>>
  /** Why the call is made, for humans. */
  readonly purpose: string
  /** The documentation that says the call is made. */
  readonly doc: string
  /** A structural rule that explains this call's denial better than `call-denied`. */
  readonly coveredBy?: RuleId
  /** The action (or pipeline) in its template, for errors about the call itself. */
  readonly at?: Origin
}

/** The key an artifact is encrypted with, as the reader's KMS sees it. */
export interface ArtifactKey {
  /** As written: a key ARN, id or alias, or undefined for the AWS managed `aws/s3` key. */
  readonly ref?: string
  /** The account whose `aws/s3` key is used when `ref` is undefined. */
  readonly defaultAccount: string
  /** Set when the key is not the artifact store's key (a CodeBuild project's own key). */
  readonly coveredBy?: RuleId
  /** The key ARN itself, once known: the key the writer of an artifact encrypted it with. */
  readonly resolvedArn?: string
}

/** The ARN that stands for the AWS managed `aws/s3` key of an account (it is not in any template). */
export function awsS3KeyArn(partition: string, account: string, region: string): string {
  return formatArn({ partition, service: 'kms', region, account, resource: 'key/aws-managed-s3' })
}

const SVC = (name: string): CallPrincipal => ({ kind: 'service', name })
const ROLE = (arn: string): CallPrincipal => ({ kind: 'role', arn })

/** Everything the catalogue needs to derive one pipeline's calls. */
export interface CatalogueInput {
  readonly model: AccountsModel
  readonly pipeline: PipelineModel
}

/** Derives every call of a pipeline, in stage and run order. */
export function pipelineCalls({ model, pipeline: p }: CatalogueInput): CallSpec[] {
  const calls: CallSpec[] = []
  const part = p.partition
  const acctOf = (arn: string | undefined): string => parseArn(arn ?? '')?.account || p.account
  if (p.roleArn)
    calls.push({
      stage: '(pipeline)',
      at: p.origin,
      action: 'service role',
      principal: SVC(servicePrincipal('codepipeline')),
      operation: 'sts:AssumeRole',
      resource: p.roleArn,
      resourceAccount: acctOf(p.roleArn),
      resourceKind: 'role',
      // CodePipeline sets the confused-deputy keys to the pipeline (CodePipeline User Guide,
      // "Cross-service confused deputy prevention").
      context: {
        'aws:SourceAccount': p.account,
        'aws:SourceArn': formatArn({
          partition: part,
          service: 'codepipeline',
          region: p.region,
          account: p.account,
          resource: p.name,
        }),
      },
      purpose: 'CodePipeline assumes the pipeline role to run the pipeline',
      doc: DOCS.serviceRole,
    })
  const artifactKeys = new Map<string, { key: ArtifactKey; region: string }>()
  const replicated = new Set<string>()
  const storeFor = (region: string) => p.stores.find((s) => s.region === region) ?? p.stores[0]

  for (const stage of p.stages) {
    const actions = [...stage.actions].sort((a, b) => a.runOrder - b.runOrder)
    for (const a of actions) {
      const caller = a.roleArn ?? p.roleArn ?? ''
      const callerAccount = acctOf(caller)
      const storeHere = storeFor(a.region)
      const store = storeHere
      const at: Origin = { ...p.origin, path: a.path }
      const push = (c: Omit<CallSpec, 'stage' | 'action'>): void =>
        void calls.push({ stage: stage.name, action: a.name, at, ...c })
      if (a.roleArn && p.roleArn)
        push({
          principal: ROLE(p.roleArn),
          operation: 'sts:AssumeRole',
          resource: a.roleArn,
          resourceAccount: acctOf(a.roleArn),
          resourceKind: 'role',
          context: {},
          purpose: `the pipeline role assumes the action role to run ${a.name} in account ${acctOf(a.roleArn)}`,
          doc: DOCS.crossAccount,
        })
      const storeKey: ArtifactKey = {
        ref: store?.keyId,
        defaultAccount: model.buckets.get(store?.bucket ?? '')?.account ?? p.account,
      }
      const artifactCalls = (
        principalArn: string,
        artifact: string,
        mode: 'read' | 'write',
        key: ArtifactKey,
        why: string,
        store = storeHere,
      ): string | undefined => {
        if (!store || !principalArn) return undefined
        const bucket = model.buckets.get(store.bucket)
        const bucketAccount = bucket?.account ?? p.account
        const bucketRegion = bucket?.region ?? store.region
        const principalAccount = acctOf(principalArn)
        // S3 decrypts an object with the key recorded in it by its writer, so a reader needs that
        // key whatever its own account would make of the store's key reference (S3 User Guide,
        // "Using server-side encryption with AWS KMS keys": the object's metadata names the key).
        // A writer's key named by id or alias is looked up in the writer's account (CloudFormation
        // reference, AWS::CodePipeline::Pipeline EncryptionKey: "specifying the key ID will use
        // the key from the other account"), and an alias stands for its key: key policies and
        // grants apply to the key, never to an alias (KMS Developer Guide, "Aliases in AWS KMS").
        const keyArn = resolveAlias(
          model,
          key.resolvedArn ??
            (key.ref
              ? keyArnOf(key.ref, part, principalAccount, bucketRegion)
              : awsS3KeyArn(part, key.defaultAccount, bucketRegion)),
        )
        const keyCovered: RuleId | undefined =
          key.coveredBy ??
          (key.ref === undefined
            ? 'artifact-key-default'
            : key.resolvedArn !== undefined || parseArn(key.ref)
              ? undefined
              : principalAccount !== p.account
                ? 'artifact-key-not-arn'
                : undefined)
        const object = formatArn({
          partition: part,
          service: 's3',
          resource: `${store.bucket}/${p.name}/${artifact}/{object}`,
        })
        const s3ctx: Record<string, ContextValue> = { 'aws:SecureTransport': 'true' }
        if (mode === 'write') {
          s3ctx['s3:x-amz-server-side-encryption'] = 'aws:kms'
          s3ctx['s3:x-amz-server-side-encryption-aws-kms-key-id'] = keyArn
        }
        push({
          principal: ROLE(principalArn),
          operation: mode === 'read' ? 's3:GetObject' : 's3:PutObject',
          resource: object,
          resourceAccount: bucketAccount,
          resourceKind: 'bucket',
          context: s3ctx,
          purpose: `${why} ${mode === 'read' ? 'reads' : 'writes'} artifact ${artifact} in the artifact store`,
          doc: DOCS.artifactEncryption,
        })
        push({
          principal: ROLE(principalArn),
          operation: mode === 'read' ? 'kms:Decrypt' : 'kms:GenerateDataKey',
          resource: keyArn,
          resourceAccount: parseArn(keyArn)?.account ?? bucketAccount,
          resourceKind: 'key',
          context: {
            'kms:ViaService': endpointHost('s3', bucketRegion),
            'kms:CallerAccount': principalAccount,
          },
          purpose: `${why} ${mode === 'read' ? 'decrypts' : 'encrypts'} artifact ${artifact} (SSE-KMS through S3)`,
          doc: DOCS.s3Kms,
          coveredBy: keyCovered,
        })
        return keyArn
      }
      const readInputs = (principalArn: string, why: string, only?: readonly string[]): void => {
        for (const i of only ?? a.inputs) {
          // An artifact read in another region than it was written is the copy CodePipeline made
          // into that region's artifact store, encrypted with that store's key (CodePipeline User
          // Guide, "Add a cross-Region action").
          const produced = artifactKeys.get(i)
          if (produced && produced.region !== a.region && p.roleArn && !replicated.has(`${i}/${a.region}`)) {
            // The copy is made by CodePipeline with the pipeline role: read from the producer's
            // store, write into this region's.
            replicated.add(`${i}/${a.region}`)
            const from = storeFor(produced.region)
            artifactCalls(p.roleArn, i, 'read', produced.key, 'the cross-region copy', from)
            artifactCalls(p.roleArn, i, 'write', storeKey, 'the cross-region copy')
          }
          artifactCalls(
            principalArn,
            i,
            'read',
            produced && produced.region === a.region ? produced.key : storeKey,
            why,
          )
        }
      }
      const writeOutputs = (principalArn: string, why: string, key: ArtifactKey = storeKey): void => {
        for (const o of a.outputs) {
          const written = artifactCalls(principalArn, o, 'write', key, why)
          // Readers decrypt with the key this writer used, as its account resolved it.
          artifactKeys.set(o, {
            key: written ? { ...key, resolvedArn: written, coveredBy: key.coveredBy } : key,
            region: a.region,
          })
        }
      }
      const cfg = a.configuration
      const cstr = (k: string): string | undefined => (typeof cfg[k] === 'string' ? cfg[k] : undefined)
      const entry = CATALOGUE[`${a.category}/${a.owner}/${a.provider}`]
      if (!entry) {
        // An action type whose own calls crosspipe does not know (action-not-catalogued) still
        // reads its input artifacts from the artifact store and writes its outputs there, as the
        // action role or, without one, the pipeline role (CodePipeline User Guide, "Input and
        // output artifacts" and "Create a pipeline that uses resources from another AWS account":
        // the action role needs the artifact bucket and key). A custom action's job worker gets
        // its own artifact credentials from CodePipeline instead, so nothing is derived for it.
        if (a.owner !== 'Custom') {
          readInputs(caller, `the ${a.provider} action`)
          writeOutputs(caller, `the ${a.provider} action`)
        }
        continue
      }
      entry.calls({ a, p, model, caller, callerAccount, push, readInputs, writeOutputs, cstr, storeKey })
    }
  }
  return calls
}

/** What a catalogue entry gets to derive an action's calls. */
interface EntryInput {
  readonly a: ActionModel
  readonly p: PipelineModel
  readonly model: AccountsModel
  /** The role that makes the action's calls (the action role, else the pipeline role). */
  readonly caller: string
  readonly callerAccount: string
  readonly push: (c: Omit<CallSpec, 'stage' | 'action'>) => void
  readonly readInputs: (principalArn: string, why: string, only?: readonly string[]) => void
  readonly writeOutputs: (principalArn: string, why: string, key?: ArtifactKey) => void
  readonly cstr: (key: string) => string | undefined
  readonly storeKey: ArtifactKey
}

/** One action type of the catalogue. */
interface CatalogueEntry {
  /** The documentation page that lists the permissions the action needs. */
  readonly doc: string
  calls(i: EntryInput): void
}

const arnIn = (
  p: PipelineModel,
  service: string,
  region: string,
  account: string,
  resource: string,
): string => formatArn({ partition: p.partition, service, region, account, resource })

/** The CodeBuild calls shared by build and test actions. */
function codeBuild(i: EntryInput, what: string): void {
  const { a, p, model, caller, callerAccount, push } = i
  const name = i.cstr('ProjectName') ?? ''
  const project: ProjectModel | undefined = model.projects.get(`${callerAccount}/${a.region}/${name}`)
  const arn = project?.arn ?? arnIn(p, 'codebuild', a.region, callerAccount, `project/${name}`)
  for (const op of ['codebuild:StartBuild', 'codebuild:BatchGetBuilds'])
    push({
      principal: ROLE(caller),
      operation: op,
      resource: arn,
      resourceAccount: callerAccount,
      resourceKind: 'none',
      context: {},
      purpose: `the action ${op === 'codebuild:StartBuild' ? 'starts' : 'follows'} the ${what} on project ${name}`,
      doc: CATALOGUE_DOCS.codeBuild,
    })
  const role = project?.serviceRole
  if (!role) return
  push({
    principal: SVC(servicePrincipal('codebuild')),
    operation: 'sts:AssumeRole',
    resource: role,
    resourceAccount: parseArn(role)?.account ?? callerAccount,
    resourceKind: 'role',
    // CodeBuild sets the confused-deputy keys to the project (CodeBuild User Guide,
    // "Cross-service confused deputy prevention").
    context: { 'aws:SourceAccount': project.account, 'aws:SourceArn': project.arn },
    purpose: `CodeBuild assumes the service role of project ${name}`,
    doc: DOCS.codeBuildServiceRole,
  })
  if (project.cloudWatchLogs) {
    const group = `log-group:/aws/codebuild/${name}`
    push({
      principal: ROLE(role),
      operation: 'logs:CreateLogGroup',
      resource: arnIn(p, 'logs', project.region, project.account, group),
      resourceAccount: project.account,
      resourceKind: 'none',
      context: {},
      purpose: `the ${what} creates its CloudWatch Logs group`,
      doc: DOCS.codeBuildServiceRole,
    })
    for (const op of ['logs:CreateLogStream', 'logs:PutLogEvents'])
      push({
        principal: ROLE(role),
        operation: op,
        resource: arnIn(p, 'logs', project.region, project.account, `${group}:log-stream:{build-id}`),
        resourceAccount: project.account,
        resourceKind: 'none',
        context: {},
        purpose: `the ${what} writes its log`,
        doc: DOCS.codeBuildServiceRole,
      })
  }
  i.readInputs(role, `the ${what} (project ${name})`)
  // CodeBuild encrypts its output artifacts with the project's EncryptionKey, or with the account's
  // aws/s3 key when it has none; it does not use the pipeline's key (CodeBuild User Guide,
  // "Encrypt build outputs using a customer managed key").
  // The project's key is resolved in the project's account: an alias or id there is not the
  // pipeline's even when it is written the same way.
  const projectKey = project.encryptionKey
  const same = sameKey(i, projectKey, project)
  i.writeOutputs(role, `the ${what} (project ${name})`, {
    ref: projectKey,
    defaultAccount: project.account,
    resolvedArn: projectKey
      ? resolveAlias(i.model, keyArnOf(projectKey, i.p.partition, project.account, project.region))
      : awsS3KeyArn(i.p.partition, project.account, project.region),
    coveredBy: same ? undefined : 'codebuild-key-mismatch',
  })
}

function sameKey(i: EntryInput, projectKey: string | undefined, project: ProjectModel): boolean {
  const storeRef = i.storeKey.ref
  if (storeRef === undefined) return projectKey === undefined
  if (projectKey === undefined) return false
  const a = keyArnOf(projectKey, i.p.partition, project.account, project.region)
  const b = keyArnOf(storeRef, i.p.partition, i.p.account, i.p.region)
  const ka = resolveAlias(i.model, a)
  const kb = resolveAlias(i.model, b)
  return ka === kb
}

function resolveAlias(m: AccountsModel, arn: string): string {
  const a = parseArn(arn)
  if (a?.resource.startsWith('alias/')) return m.aliases.get(`${a.account}/${a.region}/${a.resource}`) ?? arn
  return arn
}

const CATALOGUE_DOCS = { codeBuild: DOCS.codeBuildAction }

/** The CloudFormation API calls per action mode (CodePipeline User Guide, CloudFormation action reference, "Service role permissions"). */
const CFN_MODE_CALLS: Readonly<Record<string, readonly string[]>> = {
  CHANGE_SET_REPLACE: [
    'cloudformation:DescribeStacks',
    'cloudformation:DescribeChangeSet',
    'cloudformation:DeleteChangeSet',
    'cloudformation:CreateChangeSet',
  ],
  CHANGE_SET_EXECUTE: [
    'cloudformation:DescribeStacks',
    'cloudformation:DescribeChangeSet',
    'cloudformation:ExecuteChangeSet',
  ],
  CREATE_UPDATE: [
    'cloudformation:DescribeStacks',
    'cloudformation:CreateStack',
    'cloudformation:UpdateStack',
  ],
  REPLACE_ON_FAILURE: [
    'cloudformation:DescribeStacks',
    'cloudformation:CreateStack',
    'cloudformation:UpdateStack',
    'cloudformation:DeleteStack',
  ],
  DELETE_ONLY: ['cloudformation:DescribeStacks', 'cloudformation:DeleteStack'],
}
/** The modes that hand CloudFormation a role (Configuration.RoleArn), which the caller must pass. */
const CFN_PASSES_ROLE = new Set(['CHANGE_SET_REPLACE', 'CREATE_UPDATE', 'REPLACE_ON_FAILURE', 'DELETE_ONLY'])

/** The action types, keyed `Category/Owner/Provider`. */
export const CATALOGUE: Readonly<Record<string, CatalogueEntry>> = {
  'Source/AWS/CodeCommit': {
    doc: DOCS.codeCommit,
    calls(i) {
      const repo = i.cstr('RepositoryName') ?? ''
      const arn = arnIn(i.p, 'codecommit', i.a.region, i.callerAccount, repo)
      for (const op of [
        'codecommit:GetBranch',
        'codecommit:GetCommit',
        'codecommit:UploadArchive',
        'codecommit:GetUploadArchiveStatus',
      ])
        i.push({
          principal: ROLE(i.caller),
          operation: op,
          resource: arn,
          resourceAccount: i.callerAccount,
          resourceKind: 'none',
          context: {},
          purpose: `the source action reads repository ${repo}`,
          doc: DOCS.codeCommit,
        })
      i.writeOutputs(i.caller, 'the source action')
    },
  },
  'Source/AWS/S3': {
    doc: DOCS.s3Source,
    calls(i) {
      const bucket = i.cstr('S3Bucket') ?? ''
      const key = i.cstr('S3ObjectKey') ?? ''
      const acct = i.model.buckets.get(bucket)?.account ?? i.callerAccount
      const obj = formatArn({ partition: i.p.partition, service: 's3', resource: `${bucket}/${key}` })
      for (const [op, res] of [
        ['s3:GetObject', obj],
        ['s3:GetObjectVersion', obj],
        ['s3:GetBucketVersioning', formatArn({ partition: i.p.partition, service: 's3', resource: bucket })],
      ] as const)
        i.push({
          principal: ROLE(i.caller),
          operation: op,
          resource: res,
          resourceAccount: acct,
          resourceKind: 'bucket',
          context: { 'aws:SecureTransport': 'true' },
          purpose: `the source action reads s3://${bucket}/${key}`,
          doc: DOCS.s3Source,
        })
      i.writeOutputs(i.caller, 'the source action')
    },
  },
  'Source/AWS/CodeStarSourceConnection': {
    doc: DOCS.connection,
    calls(i) {
      const arn = i.cstr('ConnectionArn') ?? ''
      i.push({
        principal: ROLE(i.caller),
        // The action's permission carries the connection ARN's own prefix: codestar-connections,
        // or codeconnections since the service was renamed (same page).
        operation: `${parseArn(arn)?.service ?? 'codestar-connections'}:UseConnection`,
        resource: arn,
        resourceAccount: parseArn(arn)?.account ?? i.callerAccount,
        resourceKind: 'none',
        context: {},
        purpose: 'the source action uses the connection',
        doc: DOCS.connection,
      })
      i.writeOutputs(i.caller, 'the source action')
    },
  },
  'Build/AWS/CodeBuild': { doc: DOCS.codeBuildAction, calls: (i) => codeBuild(i, 'build') },
  'Test/AWS/CodeBuild': { doc: DOCS.codeBuildAction, calls: (i) => codeBuild(i, 'test') },
  'Deploy/AWS/CloudFormation': {
    doc: DOCS.cloudFormationAction,
    calls(i) {
      const mode = i.cstr('ActionMode') ?? 'CREATE_UPDATE'
      const stackName = i.cstr('StackName') ?? ''
      const stack = arnIn(i.p, 'cloudformation', i.a.region, i.callerAccount, `stack/${stackName}/{stack-id}`)
      const changeSet = i.cstr('ChangeSetName')
      const deployRole = i.cstr('RoleArn')
      const ctx: Record<string, ContextValue> = {}
      if (changeSet) ctx['cloudformation:ChangeSetName'] = changeSet
      if (deployRole && CFN_PASSES_ROLE.has(mode)) ctx['cloudformation:RoleArn'] = deployRole
      const crossPass = deployRole !== undefined && parseArn(deployRole)?.account !== i.callerAccount
      for (const op of CFN_MODE_CALLS[mode] ?? [])
        i.push({
          principal: ROLE(i.caller),
          operation: op,
          resource: stack,
          resourceAccount: i.callerAccount,
          resourceKind: 'none',
          context: op.endsWith('Stacks') ? {} : ctx,
          purpose: `${mode} on stack ${stackName}`,
          doc: DOCS.cloudFormationAction,
        })
      if (CFN_MODE_CALLS[mode] && mode !== 'CHANGE_SET_EXECUTE' && mode !== 'DELETE_ONLY') {
        const templateArtifacts = [i.cstr('TemplatePath'), i.cstr('TemplateConfiguration')]
          .filter((x): x is string => x !== undefined)
          .map((x) => x.split('::')[0]!)
        i.readInputs(
          i.caller,
          `the CloudFormation action`,
          templateArtifacts.length ? [...new Set(templateArtifacts)] : undefined,
        )
      }
      if (deployRole && CFN_PASSES_ROLE.has(mode)) {
        i.push({
          principal: ROLE(i.caller),
          operation: 'iam:PassRole',
          resource: deployRole,
          resourceAccount: parseArn(deployRole)?.account ?? i.callerAccount,
          resourceKind: 'none',
          context: { 'iam:PassedToService': servicePrincipal('cloudformation') },
          purpose: 'the action passes the deployment role to CloudFormation',
          doc: DOCS.passRole,
          coveredBy: crossPass ? 'passrole-cross-account' : undefined,
        })
        i.push({
          principal: SVC(servicePrincipal('cloudformation')),
          operation: 'sts:AssumeRole',
          resource: deployRole,
          resourceAccount: parseArn(deployRole)?.account ?? i.callerAccount,
          resourceKind: 'role',
          context: {},
          purpose: 'CloudFormation assumes the deployment role to change the stack',
          doc: DOCS.cloudFormationServiceRole,
          coveredBy: crossPass ? 'passrole-cross-account' : undefined,
        })
        // Parameter overrides that read artifact locations (Fn::GetArtifactAtt, e.g. Lambda code)
        // make CloudFormation, with the deployment role, read that artifact from the store.
        const overrides = i.cstr('ParameterOverrides') ?? ''
        const read = new Set(
          [...overrides.matchAll(/"Fn::GetArtifactAtt"\s*:\s*\[\s*"([^"]+)"/g)].map((m) => m[1]!),
        )
        if (read.size)
          i.readInputs(deployRole, 'the deployment role (for Fn::GetArtifactAtt in ParameterOverrides)', [
            ...read,
          ])
      }
      if (i.cstr('OutputFileName')) i.writeOutputs(i.caller, 'the CloudFormation action')
    },
  },
  'Approval/AWS/Manual': {
    doc: DOCS.approval,
    calls(i) {
      const topic = i.cstr('NotificationArn')
      if (topic)
        i.push({
          principal: ROLE(i.caller),
          operation: 'sns:Publish',
          resource: topic,
          resourceAccount: parseArn(topic)?.account ?? i.callerAccount,
          resourceKind: 'topic',
          context: {},
          purpose: 'the approval action notifies the topic',
          doc: DOCS.approval,
        })
    },
  },
  'Invoke/AWS/Lambda': {
    doc: DOCS.lambdaInvoke,
    calls(i) {
      const fn = i.cstr('FunctionName') ?? ''
      const arn = parseArn(fn) ? fn : arnIn(i.p, 'lambda', i.a.region, i.callerAccount, `function:${fn}`)
      i.push({
        principal: ROLE(i.caller),
        operation: 'lambda:InvokeFunction',
        resource: arn,
        resourceAccount: parseArn(arn)?.account ?? i.callerAccount,
        resourceKind: 'none',
        context: {},
        purpose: `the action invokes ${fn}`,
        doc: DOCS.lambdaInvoke,
      })
    },
  },
  'Deploy/AWS/S3': {
    doc: DOCS.s3Deploy,
    calls(i) {
      const bucket = i.cstr('BucketName') ?? ''
      const acct = i.model.buckets.get(bucket)?.account ?? i.callerAccount
      i.readInputs(i.caller, 'the S3 deploy action')
      i.push({
        principal: ROLE(i.caller),
        operation: 's3:PutObject',
        resource: formatArn({
          partition: i.p.partition,
          service: 's3',
          resource: `${bucket}/${i.cstr('ObjectKey') ?? '{object}'}`,
        }),
        resourceAccount: acct,
        resourceKind: 'bucket',
        context: { 'aws:SecureTransport': 'true' },
        purpose: `the action deploys to s3://${bucket}`,
        doc: DOCS.s3Deploy,
      })
    },
  },
}
