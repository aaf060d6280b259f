// ECR through the SDK v3 client: repositories, lifecycle and repository policies (which name no
// Resource), IAM with the repository policy across accounts, image operations refused plainly, and
// AWS::ECR::Repository through CloudFormation as the deploying identity.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import {
  ECRClient,
  CreateRepositoryCommand,
  DescribeRepositoriesCommand,
  DeleteRepositoryCommand,
  PutLifecyclePolicyCommand,
  GetLifecyclePolicyCommand,
  SetRepositoryPolicyCommand,
  GetRepositoryPolicyCommand,
  DeleteRepositoryPolicyCommand,
  DeleteLifecyclePolicyCommand,
  PutImageTagMutabilityCommand,
  PutImageScanningConfigurationCommand,
  TagResourceCommand,
  ListTagsForResourceCommand,
  UntagResourceCommand,
  GetAuthorizationTokenCommand,
  type CreateRepositoryCommandInput,
  type EncryptionConfiguration,
  type ImageTagMutability,
} from '@aws-sdk/client-ecr'
import {
  CloudFormationClient,
  CreateStackCommand,
  DeleteStackCommand,
  DescribeStacksCommand,
  DescribeStackEventsCommand,
  UpdateStackCommand,
} from '@aws-sdk/client-cloudformation'
import { CreateAccessKeyCommand, CreateUserCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam'
import {
  harness,
  failure,
  runPython,
  boto3Client,
  skipModelMessages,
  allowAll,
  type Harness,
  type Creds,
} from './helpers.js'

let h: Harness
const made: { destroy(): void }[] = []
before(async () => {
  h = await harness()
})
after(async () => {
  for (const c of made) c.destroy()
  await h.close()
})

const base = (c: Creds) => ({
  endpoint: h.sandbox.endpoint,
  region: 'us-east-1',
  credentials: c,
  maxAttempts: 1,
})
function ecrAs(c: Creds): ECRClient {
  const e = new ECRClient(base(c))
  made.push(e)
  return e
}

const LIFECYCLE = JSON.stringify({
  rules: [
    {
      rulePriority: 1,
      description: 'expire untagged images after a year',
      selection: {
        tagStatus: 'untagged',
        countType: 'sinceImagePushed',
        countUnit: 'days',
        countNumber: 365,
      },
      action: { type: 'expire' },
    },
  ],
})

test('repositories: create, describe, settings, policies, tags, delete, with ECR errors', async () => {
  const ecr = ecrAs(h.creds('ci'))
  const r = (
    await ecr.send(
      new CreateRepositoryCommand({ repositoryName: 'team/app', imageTagMutability: 'IMMUTABLE' }),
    )
  ).repository!
  assert.equal(r.repositoryArn, 'arn:aws:ecr:us-east-1:111111111111:repository/team/app')
  assert.equal(r.repositoryUri, '111111111111.dkr.ecr.us-east-1.amazonaws.com/team/app')
  assert.equal(r.imageTagMutability, 'IMMUTABLE')
  assert.equal(r.encryptionConfiguration!.encryptionType, 'AES256')
  const dup = await failure(ecr.send(new CreateRepositoryCommand({ repositoryName: 'team/app' })))
  assert.equal(dup.name, 'RepositoryAlreadyExistsException')
  assert.match(
    dup.message,
    /The repository with name 'team\/app' already exists in the registry with id '111111111111'/,
  )

  assert.equal(
    (await failure(ecr.send(new GetLifecyclePolicyCommand({ repositoryName: 'team/app' })))).name,
    'LifecyclePolicyNotFoundException',
  )
  await ecr.send(
    new PutLifecyclePolicyCommand({ repositoryName: 'team/app', lifecyclePolicyText: LIFECYCLE }),
  )
  assert.equal(
    (await ecr.send(new GetLifecyclePolicyCommand({ repositoryName: 'team/app' }))).lifecyclePolicyText,
    LIFECYCLE,
  )
  const badRules = await failure(
    ecr.send(
      new PutLifecyclePolicyCommand({
        repositoryName: 'team/app',
        lifecyclePolicyText: JSON.stringify({ rules: [], pad: 'x'.repeat(100) }),
      }),
    ),
  )
  assert.equal(badRules.name, 'InvalidParameterException')

  await ecr.send(
    new PutImageTagMutabilityCommand({ repositoryName: 'team/app', imageTagMutability: 'MUTABLE' }),
  )
  await ecr.send(
    new PutImageScanningConfigurationCommand({
      repositoryName: 'team/app',
      imageScanningConfiguration: { scanOnPush: true },
    }),
  )
  const d = (await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['team/app'] })))
    .repositories![0]!
  assert.deepEqual([d.imageTagMutability, d.imageScanningConfiguration!.scanOnPush], ['MUTABLE', true])
  assert.equal(
    (await failure(ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['nope'] })))).name,
    'RepositoryNotFoundException',
  )

  await ecr.send(
    new TagResourceCommand({ resourceArn: r.repositoryArn, tags: [{ Key: 'team', Value: 'a' }] }),
  )
  assert.deepEqual((await ecr.send(new ListTagsForResourceCommand({ resourceArn: r.repositoryArn }))).tags, [
    { Key: 'team', Value: 'a' },
  ])
  await ecr.send(new UntagResourceCommand({ resourceArn: r.repositoryArn, tagKeys: ['team'] }))
  assert.deepEqual(
    (await ecr.send(new ListTagsForResourceCommand({ resourceArn: r.repositoryArn }))).tags,
    [],
  )

  assert.equal(
    (await failure(ecr.send(new GetRepositoryPolicyCommand({ repositoryName: 'team/app' })))).name,
    'RepositoryPolicyNotFoundException',
  )
  const invalid = await failure(
    ecr.send(
      new SetRepositoryPolicyCommand({
        repositoryName: 'team/app',
        policyText: JSON.stringify({ Statement: [{ Effect: 'Maybe' }] }),
      }),
    ),
  )
  assert.equal(invalid.name, 'InvalidParameterException')
  assert.match(invalid.message, /Invalid repository policy provided/)

  // Set, read and delete both policies: a delete answers the text it removed, then none is set.
  const policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: '111111111111' }, Action: 'ecr:BatchGetImage' }],
  })
  await ecr.send(new SetRepositoryPolicyCommand({ repositoryName: 'team/app', policyText: policy }))
  assert.equal(
    (await ecr.send(new GetRepositoryPolicyCommand({ repositoryName: 'team/app' }))).policyText,
    policy,
  )
  const dropped = await ecr.send(new DeleteRepositoryPolicyCommand({ repositoryName: 'team/app' }))
  assert.deepEqual(
    [dropped.registryId, dropped.repositoryName, dropped.policyText],
    ['111111111111', 'team/app', policy],
  )
  assert.equal(
    (await failure(ecr.send(new DeleteRepositoryPolicyCommand({ repositoryName: 'team/app' })))).name,
    'RepositoryPolicyNotFoundException',
  )
  assert.equal(
    (await ecr.send(new DeleteLifecyclePolicyCommand({ repositoryName: 'team/app' }))).lifecyclePolicyText,
    LIFECYCLE,
  )
  assert.equal(
    (await failure(ecr.send(new GetLifecyclePolicyCommand({ repositoryName: 'team/app' })))).name,
    'LifecyclePolicyNotFoundException',
  )

  await ecr.send(new DeleteRepositoryCommand({ repositoryName: 'team/app' }))
  assert.equal(
    (await failure(ecr.send(new DeleteRepositoryCommand({ repositoryName: 'team/app' })))).name,
    'RepositoryNotFoundException',
  )
})

test(
  "bad input is answered from ECR's model as ECR answers it: InvalidParameterException, the first violation",
  { skip: skipModelMessages('ecr') },
  async () => {
    const ecr = ecrAs(h.creds('ci'))
    const bad = async (p: Promise<unknown>) => {
      const e = await failure(p)
      assert.deepEqual([e.name, e.status], ['InvalidParameterException', 400], e.message)
      return e.message
    }
    const pattern = '[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(\\/[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)*'
    assert.equal(
      await bad(ecr.send(new CreateRepositoryCommand({ repositoryName: 'Team/App' }))),
      `Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '${pattern}''`,
    )
    assert.equal(
      await bad(ecr.send(new CreateRepositoryCommand({ repositoryName: 'a' }))),
      "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must have length greater than or equal to 2'",
    )
    assert.equal(
      await bad(ecr.send(new CreateRepositoryCommand({} as CreateRepositoryCommandInput))),
      "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must not be null'",
    )
    assert.equal(
      await bad(ecr.send(new DescribeRepositoriesCommand({ registryId: '12345' }))),
      "Invalid parameter at 'registryId' failed to satisfy constraint: 'must satisfy regular expression [0-9]{12}'",
    )
    assert.equal(
      await bad(
        ecr.send(
          new CreateRepositoryCommand({
            repositoryName: 'ok-name',
            imageTagMutability: 'SOMETIMES' as ImageTagMutability,
          }),
        ),
      ),
      "Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'Member must satisfy enum value set: [MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION]'",
    )
    assert.equal(
      await bad(ecr.send(new DescribeRepositoriesCommand({ maxResults: 1001 }))),
      "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value less than or equal to 1000'",
    )
    assert.equal(
      await bad(ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['ok', 'Not OK'] }))),
      `Invalid parameter at 'repositoryNames' failed to satisfy constraint: 'Member must satisfy constraint: [Member must satisfy regular expression pattern: ${pattern}]'`,
    )
    assert.equal(
      await bad(
        ecr.send(new PutLifecyclePolicyCommand({ repositoryName: 'ok-name', lifecyclePolicyText: '{}' })),
      ),
      "Invalid parameter at 'lifecyclePolicyText' failed to satisfy constraint: 'Member must have length greater than or equal to 100'",
    )
    assert.equal(
      await bad(
        ecr.send(
          new CreateRepositoryCommand({
            repositoryName: 'ok-name',
            encryptionConfiguration: {} as EncryptionConfiguration,
          }),
        ),
      ),
      "Invalid parameter at 'encryptionConfiguration.encryptionType' failed to satisfy constraint: 'Member must not be null'",
    )
    // The model's newer name rules: double underscores and runs of hyphens are names ECR accepts.
    const named = await ecr.send(new CreateRepositoryCommand({ repositoryName: 'a__b/c--d' }))
    assert.equal(named.repository!.repositoryName, 'a__b/c--d')
    // None of the refused calls created anything.
    const all = await ecr.send(new DescribeRepositoriesCommand({}))
    assert.deepEqual(
      all.repositories!.map((r) => r.repositoryName).filter((n) => n === 'ok-name' || n === 'a'),
      [],
    )
  },
)

test('IAM on the repository ARN, and another account through the repository policy (no Resource element)', async () => {
  const owner = ecrAs(h.creds('dev'))
  await owner.send(new CreateRepositoryCommand({ repositoryName: 'shared' }))
  // A user in ci allowed ecr:DescribeRepositories anywhere: dev's repository is still closed to it…
  const { iam } = h.clients(h.creds('ci'))
  await iam.send(new CreateUserCommand({ UserName: 'puller' }))
  await iam.send(
    new PutUserPolicyCommand({
      UserName: 'puller',
      PolicyName: 'describe',
      PolicyDocument: allowAll('ecr:DescribeRepositories'),
    }),
  )
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'puller' }))).AccessKey!
  const puller = ecrAs({ accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! })
  const denied = await failure(
    puller.send(new DescribeRepositoriesCommand({ registryId: '222222222222', repositoryNames: ['shared'] })),
  )
  assert.equal(denied.name, 'AccessDeniedException')
  assert.match(
    denied.message,
    /ecr:DescribeRepositories on resource: arn:aws:ecr:us-east-1:222222222222:repository\/shared/,
  )
  // …until the repository policy, which names no Resource, allows the ci account.
  await owner.send(
    new SetRepositoryPolicyCommand({
      repositoryName: 'shared',
      policyText: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'ci',
            Effect: 'Allow',
            Principal: { AWS: 'arn:aws:iam::111111111111:root' },
            Action: 'ecr:DescribeRepositories',
          },
        ],
      }),
    }),
  )
  const seen = await puller.send(
    new DescribeRepositoriesCommand({ registryId: '222222222222', repositoryNames: ['shared'] }),
  )
  assert.equal(seen.repositories![0]!.repositoryName, 'shared')
  // An action its policy does not allow is denied in its own account.
  const noPolicy = await failure(puller.send(new CreateRepositoryCommand({ repositoryName: 'mine' })))
  assert.equal(noPolicy.name, 'AccessDeniedException')
  assert.match(
    noPolicy.message,
    /ecr:CreateRepository on resource: arn:aws:ecr:us-east-1:111111111111:repository\/mine/,
  )
})

test('image operations answer that the sandbox stores no images', async () => {
  const e = await failure(ecrAs(h.creds('ci')).send(new GetAuthorizationTokenCommand({})))
  assert.equal(e.name, 'UnknownOperationException')
  assert.match(e.message, /container images .* are not supported by the crosspipe sandbox/)
})

test('AWS::ECR::Repository: created, updated and deleted through ECR as the deploying identity', async () => {
  const c = h.creds('prod')
  const cfn = new CloudFormationClient(base(c))
  made.push(cfn)
  const ecr = ecrAs(c)
  const settled = async (StackName: string): Promise<string> => {
    for (let i = 0; i < 300; i++) {
      const st = (await cfn.send(new DescribeStacksCommand({ StackName }))).Stacks![0]!.StackStatus!
      if (!st.endsWith('_IN_PROGRESS')) return st
      await new Promise((r) => setTimeout(r, 20))
    }
    throw new Error('not settled')
  }
  const template = (mutability: string) =>
    JSON.stringify({
      Resources: {
        Repo: {
          Type: 'AWS::ECR::Repository',
          Properties: {
            ImageTagMutability: mutability,
            LifecyclePolicy: { LifecyclePolicyText: LIFECYCLE },
            RepositoryPolicyText: {
              Version: '2012-10-17',
              Statement: [
                {
                  Effect: 'Allow',
                  Principal: { Service: 'lambda.amazonaws.com' },
                  Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
                },
              ],
            },
          },
        },
      },
      Outputs: {
        Name: { Value: { Ref: 'Repo' } },
        Uri: { Value: { 'Fn::GetAtt': ['Repo', 'RepositoryUri'] } },
      },
    })
  await cfn.send(new CreateStackCommand({ StackName: 'repo', TemplateBody: template('IMMUTABLE') }))
  const status = await settled('repo')
  const events = ((await cfn.send(new DescribeStackEventsCommand({ StackName: 'repo' }))).StackEvents ?? [])
    .map((x) => `${x.LogicalResourceId} ${x.ResourceStatus} ${x.ResourceStatusReason ?? ''}`)
    .join('\n')
  assert.equal(status, 'CREATE_COMPLETE', events)
  const outputs = (await cfn.send(new DescribeStacksCommand({ StackName: 'repo' }))).Stacks![0]!.Outputs!
  const name = outputs.find((o) => o.OutputKey === 'Name')!.OutputValue!
  assert.match(name, /^repo-repo-[a-z0-9]+$/)
  assert.equal(
    outputs.find((o) => o.OutputKey === 'Uri')!.OutputValue,
    `333333333333.dkr.ecr.us-east-1.amazonaws.com/${name}`,
  )
  const repo = (await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [name] })))
    .repositories![0]!
  assert.equal(repo.imageTagMutability, 'IMMUTABLE')
  assert.equal(
    (await ecr.send(new GetLifecyclePolicyCommand({ repositoryName: name }))).lifecyclePolicyText,
    LIFECYCLE,
  )
  assert.match(
    (await ecr.send(new GetRepositoryPolicyCommand({ repositoryName: name }))).policyText!,
    /lambda\.amazonaws\.com/,
  )

  await cfn.send(new UpdateStackCommand({ StackName: 'repo', TemplateBody: template('MUTABLE') }))
  assert.equal(await settled('repo'), 'UPDATE_COMPLETE')
  assert.equal(
    (await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [name] }))).repositories![0]!
      .imageTagMutability,
    'MUTABLE',
  )

  await cfn.send(new DeleteStackCommand({ StackName: 'repo' }))
  for (let i = 0; i < 300; i++) {
    const st = await cfn.send(new DescribeStacksCommand({ StackName: 'repo' })).then(
      (r) => r.Stacks![0]!.StackStatus!,
      () => 'GONE',
    )
    if (!st.endsWith('_IN_PROGRESS')) break
    await new Promise((r) => setTimeout(r, 20))
  }
  assert.equal(
    (await failure(ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [name] })))).name,
    'RepositoryNotFoundException',
  )
})

test(
  "boto3 (a client nobody here wrote) parses the model's output shapes and gets ECR's errors",
  { skip: skipModelMessages('ecr', 'boto3') },
  async () => {
    const script = `${boto3Client('ecr')}
r = ecr.create_repository(repositoryName='boto/app', encryptionConfiguration={'encryptionType': 'KMS', 'kmsKey': 'alias/x'}, tags=[{'Key': 'k', 'Value': 'v'}])['repository']
ecr.put_lifecycle_policy(repositoryName='boto/app', lifecyclePolicyText=${JSON.stringify(LIFECYCLE)})
lp = ecr.get_lifecycle_policy(repositoryName='boto/app')
d = ecr.describe_repositories(maxResults=1)
print(json.dumps({
  'repo': [r['repositoryName'], r['registryId'], isinstance(r['createdAt'], datetime.datetime), r['encryptionConfiguration'], r['imageScanningConfiguration'], r['imageTagMutability']],
  'lifecycle': [lp['registryId'], lp['repositoryName'], json.loads(lp['lifecyclePolicyText'])['rules'][0]['rulePriority']],
  'page': [len(d['repositories']), 'nextToken' in d or len(d['repositories']) == 1],
  'tags': ecr.list_tags_for_resource(resourceArn=r['repositoryArn'])['tags'],
  'short': err(lambda: ecr.create_repository(repositoryName='x')),
  'dsse': ecr.create_repository(repositoryName='boto/dsse', encryptionConfiguration={'encryptionType': 'KMS_DSSE'})['repository']['encryptionConfiguration'],
  'enc': err(lambda: ecr.create_repository(repositoryName='boto/enc', encryptionConfiguration={'encryptionType': 'ROT13'})),
}))
`
    const out = await runPython(h, 'dev', script)
    assert.deepEqual(JSON.parse(out), {
      repo: [
        'boto/app',
        '222222222222',
        true,
        { encryptionType: 'KMS', kmsKey: 'alias/x' },
        { scanOnPush: false },
        'MUTABLE',
      ],
      lifecycle: ['222222222222', 'boto/app', 1],
      page: [1, true],
      tags: [{ Key: 'k', Value: 'v' }],
      short: [
        'InvalidParameterException',
        "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must have length greater than or equal to 2'",
      ],
      dsse: { encryptionType: 'KMS_DSSE' },
      enc: [
        'InvalidParameterException',
        "Invalid parameter at 'encryptionConfiguration.encryptionType' failed to satisfy constraint: 'Member must satisfy enum value set: [AES256, KMS, KMS_DSSE]'",
      ],
    })
  },
)
