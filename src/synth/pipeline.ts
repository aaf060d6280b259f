/**
 * The CI pipeline stack: the pipeline role, the build project and the pipeline itself.
 *
 * Every action in a target account runs with that target's cross-account role (action-level
 * `RoleArn`), and CloudFormation deploys with the target's deployment role
 * (`Configuration.RoleArn`) — both in the target account: the action role passes the deployment
 * role to CloudFormation, and iam:PassRole works only for roles of the caller's own account.
 * https://docs.aws.amazon.com/codepipeline/latest/userguide/pipelines-create-cross-account.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html
 */
import { parseArn } from '../iam/arn.js'
import { QUOTAS, servicePrincipal } from '../iam/aws-facts.js'
import { CrosspipeError } from '../model/errors.js'
import type { ResolvedStage } from '../model/schema.js'
import { ACCOUNT, arnIn, getAtt, pascal, REGION, roleArnSub, sub, tagsProp, TemplateBuilder } from './cfn.js'
import type { CfnValue } from './cfn.js'
import { CI_BASE_OUTPUTS, KEY_USE_ACTIONS } from './ci-base.js'
import { addCodeBuildProject, projectArnSub } from './codebuild.js'
import type { Names } from './names.js'
import { allow, attachPolicies, policyDocument, resolvedSize } from './policy.js'
import type { Statement } from './policy.js'
import type { Deployment, StackPlan, SynthContext, Tags } from './types.js'

/** CodePipeline quota: 50 actions per stage. https://docs.aws.amazon.com/codepipeline/latest/userguide/limits.html */
export const ACTIONS_PER_STAGE_MAX = QUOTAS.codePipeline.actionsPerStage
/** CodePipeline quota: 1,000 characters per action configuration value (same page). */
export const ACTION_CONFIG_VALUE_MAX = QUOTAS.codePipeline.actionConfigValueLength
/** CodePipeline quota: 50 stages per pipeline (same page). */
export const STAGES_PER_PIPELINE_MAX = QUOTAS.codePipeline.stagesPerPipeline

/** Artifact names passed between actions. */
export const SOURCE_ARTIFACT = 'SourceOutput'
/** The build's output artifact: the application template and whatever the build produced. */
export const BUILD_ARTIFACT = 'BuildOutput'

/** The parameter names of a region's artifact store in the pipeline stack. */
export function storeParameters(region: string): { bucket: string; key: string } {
  return { bucket: `ArtifactBucket${pascal(region)}`, key: `ArtifactKeyArn${pascal(region)}` }
}

/** One stage of the CodePipeline pipeline as synth plans it (before it is written). */
export interface PlannedStage {
  readonly name: string
  readonly stage: ResolvedStage
  readonly approval: boolean
  readonly deployments: readonly Deployment[]
}

/**
 * Splits each definition stage into consecutive pipeline stages of at most 50 actions (the
 * CodePipeline quota): targets keep their order, the approval stays in the first part so nothing
 * deploys before it, and the parts run one after another (within a part, targets still deploy in
 * parallel).
 */
export function planStages(ctx: SynthContext): PlannedStage[] {
  const out: PlannedStage[] = []
  ctx.pipeline.stages.forEach((stage, i) => {
    const deployments = ctx.deployments.filter((d) => d.stageIndex === i)
    const perTarget = stage.tests ? 3 : 2
    const approval = stage.approval !== false
    const parts: Deployment[][] = []
    let current: Deployment[] = []
    let room = ACTIONS_PER_STAGE_MAX - (approval ? 1 : 0)
    for (const d of deployments) {
      if (room < perTarget) {
        parts.push(current)
        current = []
        room = ACTIONS_PER_STAGE_MAX
      }
      current.push(d)
      room -= perTarget
    }
    parts.push(current)
    parts.forEach((ds, j) =>
      out.push({
        name: parts.length === 1 ? stage.name : `${stage.name}-part${j + 1}`,
        stage,
        approval: approval && j === 0,
        deployments: ds,
      }),
    )
  })
  return out
}

/** Whether a stage's approval reviews prepared change sets (`approval: { review: true }`). */
export function isReview(stage: ResolvedStage): boolean {
  return typeof stage.approval === 'object' && stage.approval.review === true
}

function checkConfigValue(stack: string, action: string, key: string, value: CfnValue, fix: string): void {
  // Strings are measured as written; `!Sub` values at their longest resolved length.
  const size = typeof value === 'string' ? value.length : resolvedSize(value) - 2
  if (size > ACTION_CONFIG_VALUE_MAX) {
    throw new CrosspipeError(
      'limit-exceeded',
      `CodePipeline action configuration value (1,000 characters): ${key} of action ${action} in stack ${stack} measures ${size} characters; ${fix}`,
    )
  }
}

/** The CI pipeline stack. */
export function pipelineStack(ctx: SynthContext, names: Names): StackPlan {
  const p = ctx.pipeline
  const stack = names.pipelineStack
  const t = new TemplateBuilder(
    `crosspipe ${p.name}: the pipeline, its role and its build in the CI account. Phase 3: the target roles must exist before its first execution.`,
  )
  const parameters: Record<string, { fromStack: string; output: string }> = {}
  for (const region of ctx.regions) {
    const base = names.ciBaseStack(region, p.ci.region)
    const ps = storeParameters(region)
    t.parameter(
      ps.bucket,
      {
        Type: 'String',
        Description: `Artifact bucket in ${region} (output ${CI_BASE_OUTPUTS.bucket} of ${base}).`,
      },
      `Artifact store in ${region}, from ${base}.`,
    )
    t.parameter(ps.key, {
      Type: 'String',
      Description: `Artifact key ARN in ${region} (output ${CI_BASE_OUTPUTS.key} of ${base}).`,
      AllowedPattern: '^arn:[a-z-]+:kms:[a-z0-9-]+:\\d{12}:key/[a-zA-Z0-9-]+$',
    })
    parameters[ps.bucket] = { fromStack: base, output: CI_BASE_OUTPUTS.bucket }
    parameters[ps.key] = { fromStack: base, output: CI_BASE_OUTPUTS.key }
  }
  const ci = storeParameters(p.ci.region)
  const tags = tagsProp(p.tags)

  // --- the pipeline role -------------------------------------------------------------------
  const crossRoles = new Map<string, string>()
  for (const g of ctx.targets)
    crossRoles.set(`${g.account}/${g.region}`, roleArnSub(g.account, names.crossAccountRole(g.region)))
  const statements: Statement[] = [
    // The artifact stores: CodePipeline reads and writes artifacts and copies them between
    // regions for cross-region actions. https://docs.aws.amazon.com/codepipeline/latest/userguide/security-iam.html#how-to-custom-role
    allow(
      'ReadWriteArtifacts',
      ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject'],
      ctx.regions.map((r) => arnIn('s3', `\${${storeParameters(r).bucket}}/*`)),
    ),
    allow(
      'InspectArtifactBuckets',
      ['s3:GetBucketLocation', 's3:GetBucketVersioning'],
      ctx.regions.map((r) => arnIn('s3', `\${${storeParameters(r).bucket}}`)),
    ),
    allow(
      'UseArtifactKeys',
      [...KEY_USE_ACTIONS],
      ctx.regions.map((r) => `\${${storeParameters(r).key}}`),
    ),
    allow(
      'RunOwnBuild',
      ['codebuild:BatchGetBuilds', 'codebuild:StartBuild'],
      [projectArnSub(names.buildProject)],
    ),
  ]
  const src = p.source
  if (src.type === 'codecommit' && ctx.sourceAccount) {
    statements.push(
      allow('AssumeSourceRole', ['sts:AssumeRole'], [roleArnSub(ctx.sourceAccount, names.sourceRole)]),
    )
  } else if (src.type === 'codecommit') {
    // https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-CodeCommit.html
    statements.push(
      allow(
        'ReadSourceRepository',
        [
          'codecommit:CancelUploadArchive',
          'codecommit:GetBranch',
          'codecommit:GetCommit',
          'codecommit:GetUploadArchiveStatus',
          'codecommit:UploadArchive',
        ],
        [arnIn('codecommit', src.repository, REGION, ACCOUNT)],
      ),
    )
  } else if (src.type === 's3') {
    // https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-S3.html
    statements.push(
      allow(
        'ReadSourceObject',
        ['s3:GetObject', 's3:GetObjectVersion'],
        [arnIn('s3', `${src.bucket}/${src.key}`)],
      ),
      allow('InspectSourceBucket', ['s3:GetBucketVersioning'], [arnIn('s3', src.bucket)]),
    )
  } else {
    // The connection's own service prefix: codestar-connections or codeconnections.
    // https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-CodestarConnectionSource.html
    const service = parseArn(src.connectionArn)?.service ?? 'codeconnections'
    statements.push(allow('UseSourceConnection', [`${service}:UseConnection`], [src.connectionArn]))
  }
  if (crossRoles.size) {
    statements.push(allow('AssumeTargetCrossAccountRoles', ['sts:AssumeRole'], [...crossRoles.values()]))
  }
  const topics = [
    ...new Set(
      p.stages.flatMap((s) =>
        typeof s.approval === 'object' && s.approval.notify ? [s.approval.notify] : [],
      ),
    ),
  ]
  if (topics.length) statements.push(allow('NotifyApprovers', ['sns:Publish'], topics))
  const pol = attachPolicies({
    template: t,
    roleId: 'PipelineRole',
    stack,
    policyName: 'pipeline',
    statements,
  })
  t.resource(
    'PipelineRole',
    {
      Type: 'AWS::IAM::Role',
      Properties: {
        RoleName: names.pipelineRole,
        Description: `Service role of pipeline ${names.pipeline}: artifacts, its build, its source, and the target accounts' cross-account roles.`,
        AssumeRolePolicyDocument: policyDocument([
          {
            Effect: 'Allow',
            Principal: { Service: servicePrincipal('codepipeline') },
            Action: 'sts:AssumeRole',
            // No aws:SourceAccount / aws:SourceArn: CodePipeline's service role trust policy is
            // documented without them (https://docs.aws.amazon.com/codepipeline/latest/userguide/pipelines-create-service-role-cli.html),
            // and a condition on a key the service never sets would deny every execution.
          },
        ]),
        Policies: pol.Policies,
        ...tags,
      },
    },
    'The pipeline role. Its name is fixed because the target accounts trust it by name (aws:PrincipalArn).',
  )

  // --- the build -----------------------------------------------------------------------------
  addCodeBuildProject({
    template: t,
    stack,
    projectId: 'BuildProject',
    roleId: 'BuildRole',
    projectName: names.buildProject,
    roleName: names.buildRole,
    description: `Build of pipeline ${names.pipeline}: produces the artifact the stages deploy.`,
    settings: p.build,
    outputFiles: p.build.outputFiles,
    bucketVar: ci.bucket,
    keyVar: ci.key,
    writesArtifacts: true,
    tags: p.tags,
  })

  // --- the pipeline --------------------------------------------------------------------------
  const stages: Record<string, unknown>[] = [sourceStageOf(ctx, names), buildStage()]
  const planned = planStages(ctx)
  const stageNames = new Set(['Source', 'Build'])
  for (const ps of planned) {
    if (stageNames.has(ps.name)) {
      throw new CrosspipeError(
        'invalid-definition',
        `stage name "${ps.name}" is used twice in pipeline ${names.pipeline} (Source and Build are crosspipe's own stages, and a stage split into parts is named <name>-part<N>); rename the stage.`,
      )
    }
    stageNames.add(ps.name)
    stages.push(deployStage(ctx, names, stack, ps))
  }
  if (stages.length > STAGES_PER_PIPELINE_MAX) {
    throw new CrosspipeError(
      'limit-exceeded',
      `CodePipeline stages per pipeline (50): pipeline ${names.pipeline} in stack ${stack} needs ${stages.length} stages; split the definition into several pipelines.`,
    )
  }
  const store = (region: string) => {
    const sp = storeParameters(region)
    // The key ARN, never the key id or alias: an id or alias resolves in the account of whoever
    // uses it, so a target account would look for a key of its own.
    // https://docs.aws.amazon.com/codepipeline/latest/userguide/pipelines-create-cross-account.html
    return {
      Type: 'S3',
      Location: sub(`\${${sp.bucket}}`),
      EncryptionKey: { Id: sub(`\${${sp.key}}`), Type: 'KMS' },
    }
  }
  const artifactStores =
    ctx.regions.length === 1
      ? { ArtifactStore: store(p.ci.region) }
      : { ArtifactStores: ctx.regions.map((r) => ({ Region: r, ArtifactStore: store(r) })) }
  t.resource(
    'Pipeline',
    {
      Type: 'AWS::CodePipeline::Pipeline',
      ...(pol.managed.length ? { DependsOn: pol.managed } : {}),
      Properties: {
        Name: names.pipeline,
        RoleArn: getAtt('PipelineRole', 'Arn'),
        PipelineType: 'V2',
        ...artifactStores,
        Stages: stages,
        ...tags,
      },
    },
    `The pipeline: Source, Build, then ${p.stages.map((s) => s.name).join(', ')}.`,
  )
  if (src.type === 'codecommit' && !ctx.sourceAccount)
    addSourceTrigger(t, names, src.repository, src.branch, p.tags)
  t.output('PipelineName', { Description: 'The pipeline, for crosspipe run.', Value: { Ref: 'Pipeline' } })
  return {
    name: stack,
    account: p.ci.account,
    region: p.ci.region,
    phase: 3,
    description: `Pipeline ${names.pipeline}, its role and build`,
    capabilities: ['CAPABILITY_NAMED_IAM'],
    parameters,
    body: t.build(),
    comments: t.comments,
  }
}

/**
 * Event-based change detection for a CodeCommit repository in the CI account, as AWS recommends
 * over polling (polling pipelines have a fixed quota of 300 per region):
 * https://docs.aws.amazon.com/codepipeline/latest/userguide/pipelines-trigger-source-repo-changes-cfn.html
 * A rule on the repository's branch events, and a role that may start only this pipeline.
 */
function addSourceTrigger(
  t: TemplateBuilder,
  names: Names,
  repository: string,
  branch: string,
  tags: Tags,
): void {
  const pipelineArn = arnIn('codepipeline', names.pipeline, REGION, ACCOUNT)
  t.resource(
    'SourceTriggerRole',
    {
      Type: 'AWS::IAM::Role',
      Properties: {
        Description: `Lets EventBridge start pipeline ${names.pipeline} when ${repository}/${branch} changes.`,
        AssumeRolePolicyDocument: policyDocument([
          {
            Effect: 'Allow',
            Principal: { Service: servicePrincipal('events') },
            Action: 'sts:AssumeRole',
            // No aws:SourceArn / aws:SourceAccount: the CodePipeline page for this rule documents the
            // trust without them, and a condition on a key the service never sets denies every start.
          },
        ]),
        Policies: [
          {
            PolicyName: 'start-pipeline',
            PolicyDocument: policyDocument([
              allow('StartThisPipeline', ['codepipeline:StartPipelineExecution'], [pipelineArn]),
            ]),
          },
        ],
        ...tagsProp(tags),
      },
    },
    'Lets the source trigger start this pipeline, and nothing else.',
  )
  t.resource(
    'SourceTrigger',
    {
      Type: 'AWS::Events::Rule',
      Properties: {
        Description: `Starts pipeline ${names.pipeline} on a push to ${repository}/${branch}.`,
        EventPattern: {
          source: ['aws.codecommit'],
          'detail-type': ['CodeCommit Repository State Change'],
          resources: [sub(arnIn('codecommit', repository, REGION, ACCOUNT))],
          detail: {
            event: ['referenceCreated', 'referenceUpdated'],
            referenceType: ['branch'],
            referenceName: [branch],
          },
        },
        Targets: [{ Id: 'pipeline', Arn: sub(pipelineArn), RoleArn: getAtt('SourceTriggerRole', 'Arn') }],
      },
    },
    'Event-based change detection: a push to the branch starts the pipeline.',
  )
}

const ACTION_TYPE = (category: string, provider: string) => ({
  Category: category,
  Owner: 'AWS',
  Provider: provider,
  Version: '1',
})

function sourceStageOf(ctx: SynthContext, names: Names): Record<string, unknown> {
  const src = ctx.pipeline.source
  let action: Record<string, unknown>
  if (src.type === 'codecommit') {
    action = {
      Name: 'Source',
      ActionTypeId: ACTION_TYPE('Source', 'CodeCommit'),
      ...(ctx.sourceAccount ? { RoleArn: sub(roleArnSub(ctx.sourceAccount, names.sourceRole)) } : {}),
      Configuration: {
        RepositoryName: src.repository,
        BranchName: src.branch,
        // In the CI account an EventBridge rule starts the pipeline (see addSourceTrigger); a
        // repository in another account is polled, as its events reach only that account's bus.
        PollForSourceChanges: ctx.sourceAccount ? 'true' : 'false',
      },
    }
  } else if (src.type === 's3') {
    action = {
      Name: 'Source',
      ActionTypeId: ACTION_TYPE('Source', 'S3'),
      Configuration: { S3Bucket: src.bucket, S3ObjectKey: src.key },
    }
  } else {
    action = {
      Name: 'Source',
      ActionTypeId: ACTION_TYPE('Source', 'CodeStarSourceConnection'),
      Configuration: {
        ConnectionArn: src.connectionArn,
        FullRepositoryId: src.repository,
        BranchName: src.branch,
      },
    }
  }
  return {
    Name: 'Source',
    Actions: [{ ...action, OutputArtifacts: [{ Name: SOURCE_ARTIFACT }], RunOrder: 1 }],
  }
}

function buildStage(): Record<string, unknown> {
  return {
    Name: 'Build',
    Actions: [
      {
        Name: 'Build',
        ActionTypeId: ACTION_TYPE('Build', 'CodeBuild'),
        Configuration: { ProjectName: { Ref: 'BuildProject' } },
        InputArtifacts: [{ Name: SOURCE_ARTIFACT }],
        OutputArtifacts: [{ Name: BUILD_ARTIFACT }],
        RunOrder: 1,
      },
    ],
  }
}

function deployStage(
  ctx: SynthContext,
  names: Names,
  stack: string,
  ps: PlannedStage,
): Record<string, unknown> {
  const p = ctx.pipeline
  const s = ps.stage
  const actions: Record<string, unknown>[] = []
  // With review, the change sets are created first (run order 1), the approval waits on them
  // (2) and they are executed after it (3): the approver sees what will change before approving.
  // An action runs only after every action of a lower run order in its stage succeeded, and a
  // rejected approval fails the stage, so nothing is executed. Change sets are not executed by
  // creating them: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-changesets.html
  // Run orders: https://docs.aws.amazon.com/codepipeline/latest/userguide/reference-pipeline-structure.html#action-requirements
  const review = ps.approval && isReview(s)
  if (ps.approval) {
    const cfg: Record<string, string> = {}
    if (typeof s.approval === 'object') {
      if (s.approval.notify) cfg.NotificationArn = s.approval.notify
      const custom = [
        s.approval.comment,
        review
          ? `Change sets ${names.changeSet(s.name)} are prepared for ${ps.deployments.length} target${ps.deployments.length === 1 ? '' : 's'}; review them with: crosspipe approve ${names.pipeline} ${ps.name}`
          : undefined,
      ]
        .filter(Boolean)
        .join(' ')
      if (custom) cfg.CustomData = custom.slice(0, 512)
    }
    actions.push({
      Name: 'approve',
      ActionTypeId: ACTION_TYPE('Approval', 'Manual'),
      ...(Object.keys(cfg).length ? { Configuration: cfg } : {}),
      RunOrder: review ? 2 : 1,
    })
  }
  const base = ps.approval ? 2 : 1
  const prepareOrder = review ? 1 : base
  for (const d of ps.deployments) {
    const where = `${d.account}-${d.region}`
    const roleArn = sub(roleArnSub(d.account, names.crossAccountRole(d.region)))
    const deployRole = sub(roleArnSub(d.account, names.deploymentRole(s.name, d.region)))
    // Region only on cross-region actions; CodePipeline then uses that region's artifact store.
    const region = d.region !== p.ci.region ? { Region: d.region } : {}
    const changeSet = names.changeSet(s.name)
    const prepare: Record<string, unknown> = {
      ActionMode: 'CHANGE_SET_REPLACE',
      StackName: s.stack,
      ChangeSetName: changeSet,
      TemplatePath: `${BUILD_ARTIFACT}::${s.template}`,
      // Configuration.RoleArn: the role CloudFormation deploys with, in the target account.
      RoleArn: deployRole,
    }
    if (s.capabilities.length) prepare.Capabilities = s.capabilities.join(',')
    if (s.parameters && Object.keys(s.parameters).length) {
      prepare.ParameterOverrides = JSON.stringify(s.parameters)
    }
    if (s.parametersFile) prepare.TemplateConfiguration = `${BUILD_ARTIFACT}::${s.parametersFile}`
    for (const [k, v] of Object.entries(prepare)) {
      checkConfigValue(
        stack,
        `prepare-${where}`,
        k,
        v as CfnValue,
        k === 'ParameterOverrides'
          ? `move stage ${s.name}'s parameters into a parametersFile (a template configuration file in the build output).`
          : 'shorten it.',
      )
    }
    actions.push({
      Name: `prepare-${where}`,
      ActionTypeId: ACTION_TYPE('Deploy', 'CloudFormation'),
      // Action-level RoleArn: the role the pipeline assumes to run this action, in the target account.
      RoleArn: roleArn,
      ...region,
      InputArtifacts: [{ Name: BUILD_ARTIFACT }],
      Configuration: prepare,
      RunOrder: prepareOrder,
    })
    actions.push({
      Name: `deploy-${where}`,
      ActionTypeId: ACTION_TYPE('Deploy', 'CloudFormation'),
      RoleArn: roleArn,
      ...region,
      Configuration: {
        ActionMode: 'CHANGE_SET_EXECUTE',
        StackName: s.stack,
        ChangeSetName: changeSet,
        RoleArn: deployRole,
      },
      RunOrder: review ? 3 : base + 1,
    })
    if (s.tests) {
      actions.push({
        Name: `test-${where}`,
        ActionTypeId: ACTION_TYPE('Test', 'CodeBuild'),
        // A cross-account CodeBuild action: the project is looked up in the action role's account.
        RoleArn: roleArn,
        ...region,
        InputArtifacts: [{ Name: BUILD_ARTIFACT }],
        Configuration: { ProjectName: names.testProject(s.name) },
        RunOrder: review ? 4 : base + 2,
      })
    }
  }
  return { Name: ps.name, Actions: actions }
}
