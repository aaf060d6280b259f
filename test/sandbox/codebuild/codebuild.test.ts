// CodeBuild through the SDK v3 client: projects, builds that run a buildspec with bash as the
// service role, artifacts encrypted with the project's key, failures, StopBuild, logs.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { unzipSync } from 'fflate'
import {
  CodeBuildClient,
  CreateProjectCommand,
  BatchGetProjectsCommand,
  ListProjectsCommand,
  UpdateProjectCommand,
  DeleteProjectCommand,
  StartBuildCommand,
  BatchGetBuildsCommand,
  StopBuildCommand,
  type Build,
  ListBuildsCommand,
} from '@aws-sdk/client-codebuild'
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  DescribeLogGroupsCommand,
  DescribeLogStreamsCommand,
  FilterLogEventsCommand,
  GetLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs'
import { CreateRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam'
import { CreateKeyCommand } from '@aws-sdk/client-kms'
import { CreateBucketCommand, GetObjectCommand } from '@aws-sdk/client-s3'
import { failure, signRaw, type Harness } from '../helpers.js'
import { readBuildLog } from '../../../src/sandbox/services/codebuild/api.js'
import { sandboxWithBuilds, trustService, until } from './setup.js'

// Needs the AWS CLI (`aws`, v1 or v2) for the lines that call AWS from a buildspec; skipped without it.
const HAS_AWS_CLI = (() => {
  try {
    execFileSync('aws', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    console.log('# the AWS CLI is not installed: the buildspec calls to AWS are not tested here')
    return false
  }
})()

let h: Harness
let cb: CodeBuildClient
let keyArn: string
const ROLE = 'arn:aws:iam::111111111111:role/build-role'

before(async () => {
  h = await sandboxWithBuilds()
  const c = h.clients(h.creds('ci'))
  cb = new CodeBuildClient({
    endpoint: h.sandbox.endpoint,
    region: 'us-east-1',
    credentials: h.creds('ci'),
    maxAttempts: 1,
  })
  await c.iam.send(
    new CreateRoleCommand({ RoleName: 'build-role', AssumeRolePolicyDocument: trustService('codebuild') }),
  )
  await c.iam.send(
    new CreateRoleCommand({
      RoleName: 'not-for-codebuild',
      AssumeRolePolicyDocument: trustService('codepipeline'),
    }),
  )
  keyArn = (await c.kms.send(new CreateKeyCommand({ Description: 'build key' }))).KeyMetadata!.Arn!
  await c.s3.send(new CreateBucketCommand({ Bucket: 'build-out' }))
  await c.iam.send(
    new PutRolePolicyCommand({
      RoleName: 'build-role',
      PolicyName: 'build',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['s3:PutObject', 's3:GetObject', 's3:GetObjectVersion'],
            Resource: 'arn:aws:s3:::build-out/*',
          },
          { Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: keyArn },
          { Effect: 'Allow', Action: 'sts:GetCallerIdentity', Resource: '*' },
          {
            Effect: 'Allow',
            Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: 'arn:aws:logs:us-east-1:111111111111:log-group:/aws/codebuild/*',
          },
        ],
      }),
    }),
  )
})
after(async () => {
  cb?.destroy()
  await h.close()
})

const project = (name: string, buildspec: string, extra: Record<string, unknown> = {}) =>
  new CreateProjectCommand({
    name,
    source: { type: 'NO_SOURCE', buildspec },
    artifacts: { type: 'NO_ARTIFACTS' },
    environment: {
      type: 'LINUX_CONTAINER',
      image: 'aws/codebuild/standard:7.0',
      computeType: 'BUILD_GENERAL1_SMALL',
    },
    serviceRole: ROLE,
    ...extra,
  })

async function finished(id: string): Promise<Build> {
  return until(`build ${id}`, async () => {
    const b = (await cb.send(new BatchGetBuildsCommand({ ids: [id] }))).builds![0]!
    return b.buildComplete ? b : undefined
  })
}

test('projects: create, read, list, update, delete, and the errors AWS gives', async () => {
  const p = await cb.send(project('crud', 'version: 0.2\nphases:\n  build:\n    commands:\n      - "true"\n'))
  assert.equal(p.project!.arn, 'arn:aws:codebuild:us-east-1:111111111111:project/crud')
  assert.equal(p.project!.encryptionKey, 'arn:aws:kms:us-east-1:111111111111:alias/aws/s3')
  const dup = await failure(cb.send(project('crud', 'version: 0.2')))
  assert.equal(dup.name, 'ResourceAlreadyExistsException')
  assert.match(dup.message, /Project already exists: arn:aws:codebuild:us-east-1:111111111111:project\/crud/)
  const untrusted = await failure(
    cb.send(
      project('bad-role', 'version: 0.2', {
        serviceRole: 'arn:aws:iam::111111111111:role/not-for-codebuild',
      }),
    ),
  )
  assert.equal(untrusted.name, 'InvalidInputException')
  assert.equal(
    untrusted.message,
    'CodeBuild is not authorized to perform: sts:AssumeRole on arn:aws:iam::111111111111:role/not-for-codebuild',
  )
  const got = await cb.send(new BatchGetProjectsCommand({ names: ['crud', 'nope'] }))
  assert.equal(got.projects!.length, 1)
  assert.deepEqual(got.projectsNotFound, ['nope'])
  const up = await cb.send(
    new UpdateProjectCommand({ name: 'crud', description: 'changed', timeoutInMinutes: 10 }),
  )
  assert.equal(up.project!.description, 'changed')
  assert.equal(up.project!.timeoutInMinutes, 10)
  assert.ok((await cb.send(new ListProjectsCommand({}))).projects!.includes('crud'))
  await cb.send(new DeleteProjectCommand({ name: 'crud' }))
  assert.equal((await cb.send(new BatchGetProjectsCommand({ names: ['crud'] }))).projects!.length, 0)
  const missing = await failure(cb.send(new StartBuildCommand({ projectName: 'crud' })))
  assert.equal(missing.name, 'ResourceNotFoundException')
})

test('a build runs the buildspec as the service role and uploads its artifact with the project key', async () => {
  const spec = [
    'version: 0.2',
    'env:',
    '  variables:',
    '    GREETING: from-buildspec',
    '    OVERRIDDEN: buildspec',
    '  exported-variables:',
    '    - RESULT',
    'phases:',
    '  install:',
    '    commands:',
    '      - mkdir -p out/sub && cd out',
    '  pre_build:',
    '    commands:',
    '      - echo "cwd is $(basename $PWD)"',
    '      - export CARRIED=yes',
    '  build:',
    '    commands:',
    '      - echo "$GREETING $OVERRIDDEN $CARRIED" > sub/hello.txt',
    '      - echo keep > sub/keep.txt',
    '      - echo drop > sub/drop.log',
    ...(HAS_AWS_CLI
      ? [
          '      - aws sts get-caller-identity --query Arn --output text > sub/whoami.txt',
          '      - aws s3 cp sub/hello.txt s3://build-out/from-cli.txt --sse aws:kms --sse-kms-key-id "$CODEBUILD_KMS_KEY_ID"',
        ]
      : []),
    '  post_build:',
    '    commands:',
    '      - export RESULT=done-$CODEBUILD_BUILD_SUCCEEDING',
    'artifacts:',
    '  base-directory: out',
    '  files:',
    '    - "**/*.txt"',
    '  discard-paths: yes',
  ].join('\n')
  await cb.send(
    project('hello', spec, {
      artifacts: { type: 'S3', location: 'build-out', name: 'hello.zip', packaging: 'ZIP' },
      encryptionKey: keyArn,
      environment: {
        type: 'LINUX_CONTAINER',
        image: 'aws/codebuild/standard:7.0',
        computeType: 'BUILD_GENERAL1_SMALL',
        environmentVariables: [{ name: 'OVERRIDDEN', value: 'project', type: 'PLAINTEXT' }],
      },
    }),
  )
  const started = await cb.send(new StartBuildCommand({ projectName: 'hello' }))
  assert.equal(started.build!.buildStatus, 'IN_PROGRESS')
  assert.match(started.build!.id!, /^hello:[0-9a-f-]{36}$/)
  const b = await finished(started.build!.id!)
  const log = readBuildLog(h.dir, b.id!)
  assert.equal(b.buildStatus, 'SUCCEEDED', log)
  assert.deepEqual(
    b.phases!.map((p) => p.phaseType),
    [
      'SUBMITTED',
      'QUEUED',
      'PROVISIONING',
      'DOWNLOAD_SOURCE',
      'INSTALL',
      'PRE_BUILD',
      'BUILD',
      'POST_BUILD',
      'UPLOAD_ARTIFACTS',
      'FINALIZING',
      'COMPLETED',
    ],
  )
  assert.equal(b.initiator, 'root')
  assert.deepEqual(b.exportedEnvironmentVariables, [{ name: 'RESULT', value: 'done-1' }])
  assert.match(log, /aws\/codebuild\/standard:7\.0 is recorded but not pulled/)
  assert.match(log, /cwd is out/)
  assert.equal(b.logs!.groupName, '/aws/codebuild/hello')

  const { s3 } = h.clients(h.creds('ci'))
  const obj = await s3.send(new GetObjectCommand({ Bucket: 'build-out', Key: 'hello.zip' }))
  assert.equal(obj.ServerSideEncryption, 'aws:kms')
  assert.equal(obj.SSEKMSKeyId, keyArn)
  const files = unzipSync(await obj.Body!.transformToByteArray())
  assert.deepEqual(Object.keys(files).sort(), ['hello.txt', 'keep.txt', 'whoami.txt'])
  const txt = (n: string) => new TextDecoder().decode(files[n]).trim()
  assert.equal(txt('hello.txt'), 'from-buildspec project yes')
  assert.match(
    txt('whoami.txt'),
    /^arn:aws:sts::111111111111:assumed-role\/build-role\/AWSCodeBuild-[0-9a-f-]{36}$/,
  )
})

test('a failing command fails the build in BUILD, still runs POST_BUILD, and the log says why', async () => {
  const spec = [
    'version: 0.2',
    'phases:',
    '  build:',
    '    commands:',
    '      - echo before',
    '      - "false"',
    '      - echo never',
    '  post_build:',
    '    commands:',
    '      - echo "post ran succeeding=$CODEBUILD_BUILD_SUCCEEDING"',
  ].join('\n')
  await cb.send(project('fails', spec))
  const b = await finished((await cb.send(new StartBuildCommand({ projectName: 'fails' }))).build!.id!)
  assert.equal(b.buildStatus, 'FAILED')
  const build = b.phases!.find((p) => p.phaseType === 'BUILD')!
  assert.equal(build.phaseStatus, 'FAILED')
  assert.deepEqual(build.contexts, [
    {
      statusCode: 'COMMAND_EXECUTION_ERROR',
      message: 'Error while executing command: false. Reason: exit status 1',
    },
  ])
  const log = readBuildLog(h.dir, b.id!)
  assert.match(log, /post ran succeeding=0/)
  assert.doesNotMatch(log, /^never$/m)
  assert.match(readBuildLog(h.dir, b.id!, 2), /COMPLETED State: FAILED/)

  // A failed INSTALL skips to FINALIZING; on-failure: CONTINUE goes on.
  await cb.send(
    project(
      'install-fails',
      'version: 0.2\nphases:\n  install:\n    commands:\n      - exit 3\n  build:\n    commands:\n      - echo built\n',
    ),
  )
  const i = await finished(
    (await cb.send(new StartBuildCommand({ projectName: 'install-fails' }))).build!.id!,
  )
  assert.equal(i.buildStatus, 'FAILED')
  assert.deepEqual(
    i.phases!.map((p) => p.phaseType),
    ['SUBMITTED', 'QUEUED', 'PROVISIONING', 'DOWNLOAD_SOURCE', 'INSTALL', 'FINALIZING', 'COMPLETED'],
  )
  await cb.send(
    project(
      'continues',
      'version: 0.2\nphases:\n  install:\n    on-failure: CONTINUE\n    commands:\n      - exit 3\n  build:\n    commands:\n      - echo built\n',
    ),
  )
  const c = await finished((await cb.send(new StartBuildCommand({ projectName: 'continues' }))).build!.id!)
  assert.equal(c.buildStatus, 'FAILED')
  assert.equal(c.phases!.find((p) => p.phaseType === 'BUILD')!.phaseStatus, 'SUCCEEDED')

  // A buildspec the sandbox cannot honour fails loudly in DOWNLOAD_SOURCE.
  await cb.send(project('ssm', 'version: 0.2\nenv:\n  parameter-store:\n    X: /x\n'))
  const s = await finished((await cb.send(new StartBuildCommand({ projectName: 'ssm' }))).build!.id!)
  const dl = s.phases!.find((p) => p.phaseType === 'DOWNLOAD_SOURCE')!
  assert.equal(dl.contexts![0]!.statusCode, 'YAML_FILE_ERROR')
  assert.match(dl.contexts![0]!.message!, /parameter-store is not supported by the crosspipe sandbox/)
})

test('artifacts the service role may not write fail UPLOAD_ARTIFACTS with S3 access denied', async () => {
  const { s3 } = h.clients(h.creds('ci'))
  await s3.send(new CreateBucketCommand({ Bucket: 'not-granted' }))
  await cb.send(
    project(
      'denied',
      'version: 0.2\nphases:\n  build:\n    commands:\n      - echo x > a.txt\nartifacts:\n  files:\n    - a.txt\n',
      {
        artifacts: { type: 'S3', location: 'not-granted', name: 'a.zip' },
        encryptionKey: keyArn,
      },
    ),
  )
  const b = await finished((await cb.send(new StartBuildCommand({ projectName: 'denied' }))).build!.id!)
  assert.equal(b.buildStatus, 'FAILED')
  const up = b.phases!.find((p) => p.phaseType === 'UPLOAD_ARTIFACTS')!
  assert.equal(up.contexts![0]!.statusCode, 'CLIENT_ERROR')
  assert.match(
    up.contexts![0]!.message!,
    /^Error uploading artifacts: AccessDenied: User: arn:aws:sts::111111111111:assumed-role\/build-role\/AWSCodeBuild-.* is not authorized to perform: s3:PutObject/,
  )
})

test('StopBuild kills the running commands and the build ends STOPPED', async () => {
  await cb.send(project('sleeper', 'version: 0.2\nphases:\n  build:\n    commands:\n      - sleep 30\n'))
  const id = (await cb.send(new StartBuildCommand({ projectName: 'sleeper' }))).build!.id!
  await until('the build phase', async () => {
    const b = (await cb.send(new BatchGetBuildsCommand({ ids: [id] }))).builds![0]!
    return b.currentPhase === 'BUILD' ? true : undefined
  })
  const t0 = Date.now()
  await cb.send(new StopBuildCommand({ id }))
  const b = await finished(id)
  assert.equal(b.buildStatus, 'STOPPED')
  assert.ok(Date.now() - t0 < 5000)
  const nf = await cb.send(
    new BatchGetBuildsCommand({ ids: ['sleeper:00000000-0000-0000-0000-000000000000'] }),
  )
  assert.equal(nf.builds!.length, 0)
  assert.equal(nf.buildsNotFound!.length, 1)
})

async function logsCall(op: string, input: unknown) {
  const body = JSON.stringify(input)
  const { url, headers } = await signRaw({
    endpoint: h.sandbox.endpoint,
    creds: h.creds('ci'),
    service: 'logs',
    method: 'POST',
    path: '/',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `Logs_20140328.${op}` },
    body,
  })
  const res = await fetch(url, { method: 'POST', headers, body })
  return { status: res.status, body: JSON.parse(await res.text()) }
}

test('build logs are readable through CloudWatch Logs; a service role that may not write them fails the build', async () => {
  await cb.send(
    project(
      'logged',
      'version: 0.2\nphases:\n  build:\n    commands:\n      - echo line-one\n      - echo line-two\n',
    ),
  )
  const b = await finished((await cb.send(new StartBuildCommand({ projectName: 'logged' }))).build!.id!)
  assert.equal(b.buildStatus, 'SUCCEEDED')
  const all = await logsCall('GetLogEvents', {
    logGroupName: b.logs!.groupName,
    logStreamName: b.logs!.streamName,
    startFromHead: true,
  })
  assert.equal(all.status, 200)
  const messages = all.body.events.map((e: { message: string }) => e.message)
  assert.ok(messages.includes('line-one\n') && messages.includes('line-two\n'))
  assert.ok(
    all.body.events.every(
      (e: { timestamp: number }) => e.timestamp >= Math.floor(b.startTime!.getTime()) - 1000,
    ),
  )
  const tail = await logsCall('GetLogEvents', {
    logGroupName: b.logs!.groupName,
    logStreamName: b.logs!.streamName,
    limit: 2,
  })
  assert.equal(tail.body.events.length, 2)
  assert.match(tail.body.events[1].message, /COMPLETED State: SUCCEEDED/)
  const streams = await logsCall('DescribeLogStreams', { logGroupName: '/aws/codebuild/logged' })
  assert.deepEqual(
    streams.body.logStreams.map((s: { logStreamName: string }) => s.logStreamName),
    [b.logs!.streamName],
  )
  const missing = await logsCall('GetLogEvents', {
    logGroupName: '/aws/codebuild/logged',
    logStreamName: 'nope',
  })
  assert.equal(missing.body.__type, 'ResourceNotFoundException')
  assert.equal(missing.body.message, 'The specified log stream does not exist.')
  // The build's log in the CloudWatch console, in the form CodeBuild gives (API_LogsLocation.html).
  assert.equal(
    b.logs!.deepLink,
    `https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#logEvent:group=/aws/codebuild/logged;stream=${b.logs!.streamName!}`,
  )

  // ListBuilds: every build of the account and region, newest first; ASCENDING reverses it.
  const listed = await cb.send(new ListBuildsCommand({}))
  assert.equal(listed.ids![0], b.id)
  const asc = await cb.send(new ListBuildsCommand({ sortOrder: 'ASCENDING' }))
  assert.deepEqual(asc.ids, [...listed.ids!].reverse())

  // The SDK's own client: log groups (the build's and a created one), FilterLogEvents with a
  // term pattern (what `aws logs tail` and `aws logs filter-log-events` call).
  const logs = new CloudWatchLogsClient({
    endpoint: h.sandbox.endpoint,
    region: 'us-east-1',
    credentials: h.creds('ci'),
    maxAttempts: 1,
  })
  await logs.send(new CreateLogGroupCommand({ logGroupName: '/my/app' }))
  const again = await failure(logs.send(new CreateLogGroupCommand({ logGroupName: '/my/app' })))
  assert.equal(again.name, 'ResourceAlreadyExistsException')
  const bad = await failure(logs.send(new CreateLogGroupCommand({ logGroupName: 'no spaces' })))
  assert.equal(bad.name, 'InvalidParameterException')
  // A created group exists without streams: none listed, and a stream in it is what is missing;
  // a group nobody created is missing for both.
  const empty = await logs.send(new DescribeLogStreamsCommand({ logGroupName: '/my/app' }))
  assert.deepEqual(empty.logStreams, [])
  const noStream = await failure(
    logs.send(new GetLogEventsCommand({ logGroupName: '/my/app', logStreamName: 'none' })),
  )
  assert.equal(noStream.name, 'ResourceNotFoundException')
  assert.equal(noStream.message, 'The specified log stream does not exist.')
  for (const call of [
    () => logs.send(new DescribeLogStreamsCommand({ logGroupName: '/my/none' })),
    () => logs.send(new GetLogEventsCommand({ logGroupName: '/my/none', logStreamName: 'none' })),
  ]) {
    const e = await failure(call())
    assert.equal(e.name, 'ResourceNotFoundException')
    assert.equal(e.message, 'The specified log group does not exist.')
  }
  const groups = await logs.send(new DescribeLogGroupsCommand({}))
  const names = groups.logGroups!.map((g) => g.logGroupName)
  assert.ok(names.includes('/my/app') && names.includes('/aws/codebuild/logged'), names.join(' '))
  const pre = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/aws/codebuild/log' }))
  assert.deepEqual(
    pre.logGroups!.map((g) => [g.logGroupName, g.arn]),
    [['/aws/codebuild/logged', 'arn:aws:logs:us-east-1:111111111111:log-group:/aws/codebuild/logged:*']],
  )
  const found = await logs.send(
    new FilterLogEventsCommand({
      logGroupName: '/aws/codebuild/logged',
      filterPattern: 'line -one -Running',
    }),
  )
  assert.deepEqual(
    found.events!.map((e) => [e.logStreamName, e.message]),
    [[b.logs!.streamName, 'line-two\n']],
  )
  const either = await logs.send(
    new FilterLogEventsCommand({
      logGroupName: '/aws/codebuild/logged',
      filterPattern: '?line-one ?line-two -command',
    }),
  )
  assert.equal(either.events!.length, 2)
  const json = await failure(
    logs.send(
      new FilterLogEventsCommand({ logGroupName: '/aws/codebuild/logged', filterPattern: '{ $.a = 1 }' }),
    ),
  )
  assert.equal(json.name, 'InvalidParameterException')
  assert.match(json.message, /term filter patterns only/)
  const none = await failure(logs.send(new FilterLogEventsCommand({ logGroupName: '/nope' })))
  assert.equal(none.name, 'ResourceNotFoundException')

  const { iam } = h.clients(h.creds('ci'))
  await iam.send(
    new CreateRoleCommand({ RoleName: 'no-logs', AssumeRolePolicyDocument: trustService('codebuild') }),
  )
  await cb.send(
    project('unlogged', 'version: 0.2\nphases:\n  build:\n    commands:\n      - "true"\n', {
      serviceRole: 'arn:aws:iam::111111111111:role/no-logs',
    }),
  )
  const f = await finished((await cb.send(new StartBuildCommand({ projectName: 'unlogged' }))).build!.id!)
  assert.equal(f.buildStatus, 'FAILED')
  const prov = f.phases!.find((p) => p.phaseType === 'PROVISIONING')!
  assert.equal(prov.contexts![0]!.statusCode, 'CLIENT_ERROR')
  assert.match(
    prov.contexts![0]!.message!,
    /^Service role arn:aws:iam::111111111111:role\/no-logs does not allow AWS CodeBuild to create Amazon CloudWatch Logs log streams for build arn:aws:codebuild:us-east-1:111111111111:build\/unlogged:[0-9a-f-]{36}\. Error message: User: arn:aws:sts::111111111111:assumed-role\/no-logs\/AWSCodeBuild-[0-9a-f-]{36} is not authorized to perform: logs:CreateLogStream on resource: arn:aws:logs:us-east-1:111111111111:log-group:\/aws\/codebuild\/unlogged:log-stream:[0-9a-f-]{36}/,
  )
  // With CloudWatch Logs disabled for the project, the role needs no logs permission.
  await cb.send(
    new UpdateProjectCommand({ name: 'unlogged', logsConfig: { cloudWatchLogs: { status: 'DISABLED' } } }),
  )
  const ok = await finished((await cb.send(new StartBuildCommand({ projectName: 'unlogged' }))).build!.id!)
  assert.equal(ok.buildStatus, 'SUCCEEDED')
  // Its log is not in CloudWatch Logs: no console link to it.
  assert.equal(ok.logs!.cloudWatchLogs!.status, 'DISABLED')
  assert.equal(ok.logs!.deepLink, undefined)
})

test('what the sandbox would not do is refused, not ignored: a custom log group or S3 logs, StartBuild overrides it does not honour', async () => {
  const refused = async (p: Promise<unknown>, text: RegExp): Promise<void> =>
    assert.rejects(p, (e: Error) => e.name === 'InvalidInputException' && text.test(e.message))
  const yml = 'version: 0.2\nphases:\n  build:\n    commands:\n      - "true"\n'
  await refused(
    cb.send(
      project('own-group', yml, {
        logsConfig: { cloudWatchLogs: { status: 'ENABLED', groupName: '/mine' } },
      }),
    ),
    /groupName and streamName are not supported by the crosspipe sandbox/,
  )
  await refused(
    cb.send(
      project('s3-logs', yml, {
        logsConfig: { s3Logs: { status: 'ENABLED', location: 'bucket/prefix' } },
      }),
    ),
    /s3Logs ENABLED is not supported/,
  )
  await cb.send(project('overrides', yml))
  await refused(
    cb.send(new StartBuildCommand({ projectName: 'overrides', imageOverride: 'aws/codebuild/standard:6.0' })),
    /StartBuild: imageOverride is not supported by the crosspipe sandbox \(a limit of the sandbox, not an error in the request\): it runs a build as its project says/,
  )
  await refused(
    cb.send(
      new StartBuildCommand({
        projectName: 'overrides',
        computeTypeOverride: 'BUILD_GENERAL1_LARGE',
        privilegedModeOverride: true,
      }),
    ),
    /computeTypeOverride, privilegedModeOverride are not supported/,
  )
  // What it honours still runs.
  const b = await cb.send(new StartBuildCommand({ projectName: 'overrides', timeoutInMinutesOverride: 5 }))
  assert.equal((await finished(b.build!.id!)).buildStatus, 'SUCCEEDED')
})
