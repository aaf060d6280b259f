/**
 * Stacks in accounts other than CI: one target stack per target account × region, and the source
 * stack when the CodeCommit repository lives in another account.
 *
 * Every role here trusts the CI pipeline role the same way: the CI account principal with an
 * `aws:PrincipalArn` condition naming the pipeline role. A role ARN as principal would make IAM
 * reject the trust policy until the pipeline role exists (it is created later, in phase 3) and
 * would silently stop matching if that role were re-created; the account principal with the
 * condition holds by name. https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-roles
 */
import { ACCOUNT, accountRootSub, arnIn, REGION, roleArnSub, sub, tagsProp, TemplateBuilder } from './cfn.js'
import { CI_BASE_OUTPUTS, KEY_READ_ACTIONS, KEY_WRITE_ACTIONS } from './ci-base.js'
import { addCodeBuildProject, projectArnSub } from './codebuild.js'
import type { Names } from './names.js'
import { allow, attachPolicies, policyDocument } from './policy.js'
import type { Statement } from './policy.js'
import type { StackPlan, SynthContext, TargetGroup } from './types.js'
import { appResources, deriveStatements } from '../iam/app-template.js'
import { DEFAULT_PARTITION, servicePrincipal } from '../iam/aws-facts.js'
import type { DerivedPermissions } from '../iam/app-template.js'
import { CrosspipeError } from '../model/errors.js'
import type { ResolvedPipeline, ResolvedStage } from '../model/schema.js'

/**
 * The CloudFormation calls of the CodePipeline CloudFormation action in the change-set modes that
 * crosspipe uses (CHANGE_SET_REPLACE, CHANGE_SET_EXECUTE), from the action's documented service
 * role permissions: https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-CloudFormation.html#action-reference-CloudFormation-permissions-action
 * CreateStack, UpdateStack, DeleteStack and SetStackPolicy serve the other modes and are left out.
 * DescribeStackEvents is there because, by the same page, CodePipeline calls it with the action
 * role when a stack operation fails and puts the first failed resource's reason in the action's
 * error; without it the pipeline shows a generic error.
 */
export const CHANGE_SET_ACTIONS = [
  'cloudformation:CreateChangeSet',
  'cloudformation:DeleteChangeSet',
  'cloudformation:DescribeChangeSet',
  'cloudformation:DescribeStackEvents',
  'cloudformation:DescribeStacks',
  'cloudformation:ExecuteChangeSet',
] as const

/**
 * The deployment role statements of a stage in one target, derived from its application template
 * (`deployPermissions: { fromTemplate }`), and the notes synth shows with them.
 *
 * @throws CrosspipeError `invalid-definition` without the template (it is read by loadPipeline),
 *   or for resource types whose permissions crosspipe does not know.
 */
export function deriveForTarget(
  p: ResolvedPipeline,
  stage: ResolvedStage,
  account: string,
  region: string,
): DerivedPermissions {
  if (!stage.appTemplate)
    throw new CrosspipeError(
      'invalid-definition',
      `stage ${stage.name}: deployPermissions.fromTemplate needs the application template, which loadPipeline reads next to the definition; definitions made in code must give the stage its appTemplate.`,
    )
  const resources = appResources(
    stage.appTemplate.body,
    { partition: p.partition ?? DEFAULT_PARTITION, account, region, stackName: stage.stack },
    // Only literal values name resources; an artifact location is known when the pipeline runs.
    Object.fromEntries(
      Object.entries(stage.parameters ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string'),
    ),
  )
  // Stack tags come from the template configuration file only (the CloudFormation action has no
  // other way to set them): known when the file was read next to the definition, else possible.
  const tags = stage.appTemplate.stackTags
  const r = deriveStatements(resources, {
    stackTagged: stage.parametersFile !== undefined && (tags === undefined || Object.keys(tags).length > 0),
  })
  if (r.unknownTypes.length)
    throw new CrosspipeError(
      'invalid-definition',
      `stage ${stage.name}: ${stage.appTemplate.file} has resource types whose permissions crosspipe does not know (${r.unknownTypes.join(', ')}); list their statements in deployPermissions.statements and drop fromTemplate, or use managedPolicies.`,
    )
  return { statements: r.statements, notes: r.notes }
}

/** The CloudFormation service principal; also the value of `iam:PassedToService` for it. */
export const CLOUDFORMATION_PRINCIPAL = servicePrincipal('cloudformation')

/** The trust policy of a role the CI pipeline role assumes. */
export function trustPipelineRole(ciAccount: string, pipelineRole: string): Record<string, unknown> {
  return policyDocument([
    {
      Effect: 'Allow',
      Principal: { AWS: sub(accountRootSub(ciAccount)) },
      Action: 'sts:AssumeRole',
      Condition: { ArnEquals: { 'aws:PrincipalArn': sub(roleArnSub(ciAccount, pipelineRole)) } },
    },
  ])
}

/** The two parameters every stack outside the CI base receives from the CI base of its region. */
function artifactParameters(t: TemplateBuilder, fromStack: string, suffix = ''): StackPlan['parameters'] {
  t.parameter(
    `ArtifactBucket${suffix}`,
    { Type: 'String', Description: `Artifact bucket (output ${CI_BASE_OUTPUTS.bucket} of ${fromStack}).` },
    `From ${fromStack} in the CI account: values cross accounts only as parameters.`,
  )
  t.parameter(
    `ArtifactKeyArn${suffix}`,
    {
      Type: 'String',
      Description: `Artifact key ARN (output ${CI_BASE_OUTPUTS.key} of ${fromStack}).`,
      AllowedPattern: '^arn:[a-z-]+:kms:[a-z0-9-]+:\\d{12}:key/[a-zA-Z0-9-]+$',
    },
    `From ${fromStack}: the key ARN, never an id or alias, which would resolve in this account.`,
  )
  return {
    [`ArtifactBucket${suffix}`]: { fromStack, output: CI_BASE_OUTPUTS.bucket },
    [`ArtifactKeyArn${suffix}`]: { fromStack, output: CI_BASE_OUTPUTS.key },
  }
}

/** The target stack of one account × region. */
export function targetStack(ctx: SynthContext, names: Names, g: TargetGroup): StackPlan {
  const p = ctx.pipeline
  const stack = names.targetStack(g.account, g.region)
  const ciBase = names.ciBaseStack(g.region, p.ci.region)
  const stageList = g.deployments.map((d) => d.stage.name).join(', ')
  const t = new TemplateBuilder(
    `crosspipe ${p.name}: roles that let the CI pipeline deploy stage(s) ${stageList} into this account in ${g.region}. Phase 2: needs the artifact key and bucket of phase 1.`,
  )
  const parameters = artifactParameters(t, ciBase)
  const tags = tagsProp(p.tags)
  const objects = arnIn('s3', '${ArtifactBucket}/*')

  const stackArns: string[] = []
  const deployRoleArns: string[] = []
  const testProjectArns: string[] = []
  for (const d of g.deployments) {
    stackArns.push(arnIn('cloudformation', `stack/${d.stage.stack}/*`, REGION, ACCOUNT))
    stackArns.push(arnIn('cloudformation', `changeSet/${names.changeSet(d.stage.name)}/*`, REGION, ACCOUNT))
    deployRoleArns.push(roleArnSub(ACCOUNT, names.deploymentRole(d.stage.name, g.region)))
    if (d.stage.tests) testProjectArns.push(projectArnSub(names.testProject(d.stage.name)))
  }

  const crossStatements: Statement[] = [
    allow('DeployOwnStacksByChangeSet', [...CHANGE_SET_ACTIONS], stackArns),
    // ValidateTemplate has no resource type in the Service Authorization Reference, so it can
    // only be granted on "*"; it reads nothing and changes nothing.
    // https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudformation.html
    allow('ValidateTemplates', ['cloudformation:ValidateTemplate'], ['*']),
    // PassRole of exactly this account's deployment roles, and only to CloudFormation: a role
    // cannot be passed across accounts, so the deployment role is in the same account as this one.
    allow('PassDeploymentRolesToCloudFormation', ['iam:PassRole'], deployRoleArns, {
      StringEquals: { 'iam:PassedToService': CLOUDFORMATION_PRINCIPAL },
    }),
    // Reads only: the actions run here have input artifacts and no output artifact.
    allow('ReadArtifacts', ['s3:GetObject', 's3:GetObjectVersion'], [objects]),
    allow('DecryptArtifacts', [...KEY_READ_ACTIONS], ['${ArtifactKeyArn}']),
  ]
  if (testProjectArns.length) {
    // The CodeBuild action's documented permissions: https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-CodeBuild.html
    crossStatements.push(
      allow('RunTestProjects', ['codebuild:BatchGetBuilds', 'codebuild:StartBuild'], testProjectArns),
    )
  }
  const cross = attachPolicies({
    template: t,
    roleId: 'CrossAccountRole',
    stack,
    policyName: 'pipeline-actions',
    statements: crossStatements,
  })
  t.resource(
    'CrossAccountRole',
    {
      Type: 'AWS::IAM::Role',
      Properties: {
        RoleName: names.crossAccountRole(g.region),
        Description: `Assumed by pipeline ${names.pipeline} (account ${p.ci.account}) for its actions in this account and region.`,
        AssumeRolePolicyDocument: trustPipelineRole(p.ci.account, names.pipelineRole),
        Policies: cross.Policies,
        ...tags,
      },
    },
    'The action role of every pipeline action here: trusted only by the CI pipeline role; change sets of its own stacks, PassRole of the deployment roles, artifact reads.',
  )

  for (const d of g.deployments) {
    const sid = ctx.stageIds.get(d.stage.name)!
    const perms = d.stage.deployPermissions
    // Without deployPermissions: the AWS managed PowerUserAccess policy (documented in the schema).
    const managed = perms ? perms.managedPolicies : [arnIn('iam', 'policy/PowerUserAccess', '', 'aws')]
    const derived =
      perms?.fromTemplate !== undefined ? deriveForTarget(p, d.stage, g.account, g.region).statements : []
    const statements: Statement[] = [
      // Only with readArtifacts: templates may reference artifact objects (Lambda code passed
      // with Fn::GetArtifactAtt), which the service fetches with this role's credentials
      // (aws-cdk issue 3765 shows the AccessDenied without it). Other deployments never read
      // the artifact, so by default the role gets neither the bucket nor the key.
      ...(d.stage.readArtifacts
        ? [
            allow('ReadArtifacts', ['s3:GetObject', 's3:GetObjectVersion'], [objects]),
            allow('DecryptArtifacts', [...KEY_READ_ACTIONS], ['${ArtifactKeyArn}']),
          ]
        : []),
      ...derived,
      ...(perms?.statements ?? []),
    ]
    const roleId = `DeploymentRole${sid}`
    const pol = attachPolicies({ template: t, roleId, stack, policyName: 'deploy', statements })
    t.resource(
      roleId,
      {
        Type: 'AWS::IAM::Role',
        Properties: {
          RoleName: names.deploymentRole(d.stage.name, g.region),
          Description: `CloudFormation deploys stack ${d.stage.stack} (stage ${d.stage.name}) with this role.`,
          AssumeRolePolicyDocument: policyDocument([
            {
              Effect: 'Allow',
              Principal: { Service: CLOUDFORMATION_PRINCIPAL },
              Action: 'sts:AssumeRole',
              // No aws:SourceAccount / aws:SourceArn here: CloudFormation's service role page does
              // not document that CloudFormation sets them when it assumes a service role, and a
              // condition on a key the service never sets denies every assumption.
              // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html
            },
          ]),
          ...(managed.length ? { ManagedPolicyArns: managed.map(sub) } : {}),
          ...(pol.Policies.length ? { Policies: pol.Policies } : {}),
          ...tags,
        },
      },
      `Stage ${d.stage.name}: the role CloudFormation deploys ${d.stage.stack} with (${perms?.fromTemplate !== undefined ? `derived from ${d.stage.appTemplate?.file ?? 'the application template'}` : perms ? 'the stage\u2019s deployPermissions' : 'default: PowerUserAccess'}).`,
    )
    if (d.stage.tests) {
      addCodeBuildProject({
        template: t,
        stack,
        projectId: `TestProject${sid}`,
        roleId: `TestRole${sid}`,
        projectName: names.testProject(d.stage.name),
        roleName: names.testRole(d.stage.name, g.region),
        description: `Tests of stage ${d.stage.name}, run by pipeline ${names.pipeline} after ${d.stage.stack} is deployed here.`,
        settings: d.stage.tests,
        bucketVar: 'ArtifactBucket',
        keyVar: 'ArtifactKeyArn',
        writesArtifacts: false,
        // Tests usually need the deployed stack's outputs (endpoints, names).
        extraStatements: [
          allow(
            'ReadStageStack',
            ['cloudformation:DescribeStacks'],
            [arnIn('cloudformation', `stack/${d.stage.stack}/*`, REGION, ACCOUNT)],
          ),
        ],
        tags: p.tags,
      })
    }
  }
  t.output('CrossAccountRoleArn', {
    Description: 'The action role the pipeline assumes here.',
    Value: sub(roleArnSub(ACCOUNT, names.crossAccountRole(g.region))),
  })
  return {
    name: stack,
    account: g.account,
    region: g.region,
    phase: 2,
    description: `Cross-account role, deployment role${g.deployments.length > 1 ? 's' : ''}${g.deployments.some((d) => d.stage.tests) ? ' and tests' : ''} for stage${g.deployments.length > 1 ? 's' : ''} ${stageList}`,
    capabilities: ['CAPABILITY_NAMED_IAM'],
    parameters,
    body: t.build(),
    comments: t.comments,
  }
}

/**
 * The source stack: the role the pipeline assumes in the account that holds the CodeCommit
 * repository, to read it and upload the source artifact into the CI bucket. Source actions cannot
 * be cross-region (https://docs.aws.amazon.com/codepipeline/latest/userguide/actions-create-cross-region.html),
 * so it lives in the CI region.
 */
export function sourceStack(ctx: SynthContext, names: Names, account: string, repository: string): StackPlan {
  const p = ctx.pipeline
  const stack = names.sourceStack
  const ciBase = names.ciBaseStack(p.ci.region, p.ci.region)
  const t = new TemplateBuilder(
    `crosspipe ${p.name}: the role that lets the CI pipeline read CodeCommit repository ${repository} in this account. Phase 2.`,
  )
  const parameters = artifactParameters(t, ciBase)
  const statements: Statement[] = [
    // The CodeCommit source action's documented permissions:
    // https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-CodeCommit.html
    allow(
      'ReadRepository',
      [
        'codecommit:CancelUploadArchive',
        'codecommit:GetBranch',
        'codecommit:GetCommit',
        'codecommit:GetUploadArchiveStatus',
        'codecommit:UploadArchive',
      ],
      [arnIn('codecommit', repository, REGION, ACCOUNT)],
    ),
    allow('WriteSourceArtifact', ['s3:PutObject'], [arnIn('s3', '${ArtifactBucket}/*')]),
    // A writer from another account may send the bucket-owner-full-control canned ACL, which
    // needs s3:PutObjectAcl; that one ACL is still accepted with ACLs disabled (BucketOwnerEnforced).
    // https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html
    allow('GrantBucketOwnerSourceArtifact', ['s3:PutObjectAcl'], [arnIn('s3', '${ArtifactBucket}/*')], {
      StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' },
    }),
    allow('EncryptSourceArtifact', [...KEY_WRITE_ACTIONS], ['${ArtifactKeyArn}']),
  ]
  const pol = attachPolicies({ template: t, roleId: 'SourceRole', stack, policyName: 'source', statements })
  t.resource(
    'SourceRole',
    {
      Type: 'AWS::IAM::Role',
      Properties: {
        RoleName: names.sourceRole,
        Description: `Assumed by pipeline ${names.pipeline} (account ${p.ci.account}) to read ${repository}.`,
        AssumeRolePolicyDocument: trustPipelineRole(p.ci.account, names.pipelineRole),
        Policies: pol.Policies,
        ...tagsProp(p.tags),
      },
    },
    'The source action role: trusted only by the CI pipeline role; reads the repository, writes the source artifact.',
  )
  return {
    name: stack,
    account,
    region: p.ci.region,
    phase: 2,
    description: `CodeCommit source role for ${repository}`,
    capabilities: ['CAPABILITY_NAMED_IAM'],
    parameters,
    body: t.build(),
    comments: t.comments,
  }
}
