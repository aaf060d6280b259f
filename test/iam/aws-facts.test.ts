// The AWS facts module against what nobody here wrote: the AWS SDK for JavaScript v3's partition
// table and its endpoint rules. And the copies it replaced: every module reads the same quotas.
import { test } from 'node:test'
import assert from 'node:assert/strict'
// The SDK's partition table (partitions.json of its endpoint rules); @aws-sdk/core comes with every client.
import { partition as sdkPartition } from '@aws-sdk/core/client'
import { S3Client } from '@aws-sdk/client-s3'
import { KMSClient } from '@aws-sdk/client-kms'
import { CloudFormationClient } from '@aws-sdk/client-cloudformation'
import { CodePipelineClient } from '@aws-sdk/client-codepipeline'
import {
  ALL_REGIONS,
  DEFAULT_PARTITION,
  PARTITIONS,
  QUOTAS,
  consoleHost,
  dnsSuffix,
  dnsSuffixOfRegion,
  endpointHost,
  partitionOf,
  serviceOfPrincipal,
  servicePrincipal,
  type PrincipalService,
} from '../../src/iam/aws-facts.js'
import * as arn from '../../src/iam/arn.js'
import { awsManagedPolicyArn } from '../../src/iam/arn.js'
import { awsManagedPolicy } from '../../src/iam/managed-policies.js'
import { TEMPLATE_BODY_MAX, TEMPLATE_URL_MAX } from '../../src/synth/index.js'
import { ACTIONS_PER_STAGE_MAX, STAGES_PER_PIPELINE_MAX } from '../../src/synth/pipeline.js'
import { MANAGED_POLICY_MAX, ROLE_INLINE_POLICY_MAX } from '../../src/synth/policy.js'
import { BUCKET_POLICY_MAX, KEY_POLICY_MAX } from '../../src/synth/ci-base.js'
import { ROLE_NAME_MAX } from '../../src/synth/names.js'
import { MAX_ROLE_NAME_LENGTH } from '../../src/model/semantics.js'
import { LIMITS } from '../../src/check/rules.js'
import { CDK_LIMITS } from '../../src/check/cdk/limits.js'
import { TEMPLATE_BODY_LIMIT } from '../../src/deploy/deploy.js'
import { DEFAULT_PARTITION as SANDBOX_DEFAULT_PARTITION } from '../../src/sandbox/config.js'
import {
  DEFAULT_PARTITION as CHECK_DEFAULT_PARTITION,
  dnsSuffix as checkDnsSuffix,
} from '../../src/check/model.js'

test('the partition of each region, table-driven', () => {
  const cases: [string, string | undefined][] = [
    ['us-east-1', 'aws'],
    ['eu-central-2', 'aws'],
    ['mx-central-1', 'aws'],
    ['cn-north-1', 'aws-cn'],
    ['cn-northwest-1', 'aws-cn'],
    ['us-gov-west-1', 'aws-us-gov'],
    ['us-gov-east-1', 'aws-us-gov'],
    ['us-iso-east-1', undefined],
    ['eu-west-9', undefined],
    ['', undefined],
  ]
  for (const [region, want] of cases) assert.equal(partitionOf(region), want, region)
  // arn.ts re-exports the one table, it keeps no copy.
  assert.equal(arn.PARTITIONS, PARTITIONS)
  assert.equal(arn.partitionOf, partitionOf)
  assert.equal(arn.ALL_REGIONS, ALL_REGIONS)
})

test("every region's partition, DNS suffix and region pattern agree with the AWS SDK's partition table", () => {
  for (const region of ALL_REGIONS) {
    const sdk = sdkPartition(region)
    const mine = partitionOf(region)!
    assert.equal(sdk.name, mine, `${region}: the SDK puts it in ${sdk.name}`)
    assert.equal(sdk.dnsSuffix, dnsSuffix(mine), region)
    assert.equal(sdk.dnsSuffix, dnsSuffixOfRegion(region), region)
    assert.match(region, PARTITIONS[mine]!.regionPattern, region)
    for (const [other, p] of Object.entries(PARTITIONS))
      if (other !== mine) assert.doesNotMatch(region, p.regionPattern, `${region} also matches ${other}`)
  }
  for (const [name, p] of Object.entries(PARTITIONS)) {
    assert.ok(p.regions.length > 0, name)
    assert.equal(new Set(p.regions).size, p.regions.length, `${name} lists a region twice`)
  }
})

test('DNS suffixes: China under amazonaws.com.cn; an unknown partition or region taken as commercial', () => {
  assert.equal(dnsSuffix('aws-cn'), 'amazonaws.com.cn')
  assert.equal(dnsSuffix('aws-us-gov'), 'amazonaws.com')
  assert.equal(dnsSuffix('aws'), 'amazonaws.com')
  assert.equal(dnsSuffix('aws-iso'), dnsSuffix(DEFAULT_PARTITION))
  assert.equal(dnsSuffixOfRegion('cn-northwest-1'), 'amazonaws.com.cn')
  assert.equal(dnsSuffixOfRegion('nowhere-1'), 'amazonaws.com')
  // The copies check and the sandbox had are now this one.
  assert.equal(checkDnsSuffix, dnsSuffix)
  assert.equal(CHECK_DEFAULT_PARTITION, DEFAULT_PARTITION)
  assert.equal(SANDBOX_DEFAULT_PARTITION, DEFAULT_PARTITION)
})

test('console hosts: one per partition, the commercial one for an unknown partition', () => {
  assert.deepEqual(
    Object.keys(PARTITIONS).map((p) => [p, consoleHost(p)]),
    [
      ['aws', 'console.aws.amazon.com'],
      ['aws-cn', 'console.amazonaws.cn'],
      ['aws-us-gov', 'console.amazonaws-us-gov.com'],
    ],
  )
  assert.equal(consoleHost('aws-nope'), consoleHost(DEFAULT_PARTITION))
})

test("endpoint hosts are the AWS SDK's own endpoints, in every region crosspipe knows", () => {
  const clients = [
    ['s3', S3Client],
    ['kms', KMSClient],
    ['cloudformation', CloudFormationClient],
    ['codepipeline', CodePipelineClient],
  ] as const
  for (const [service, Client] of clients)
    for (const region of ALL_REGIONS) {
      const c = new Client({ region, credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' } })
      try {
        const params = {
          Region: region,
          UseFIPS: false,
          UseDualStack: false,
          ...(service === 's3' ? { ForcePathStyle: false, Accelerate: false, UseArnRegion: false } : {}),
        }
        const url = c.config.endpointProvider(params as never).url
        assert.equal(endpointHost(service, region), url.hostname, `${service} in ${region}`)
      } finally {
        c.destroy()
      }
    }
})

test('service principals: <service>.amazonaws.com in every partition, and back', () => {
  const services: PrincipalService[] = ['cloudformation', 'codebuild', 'codepipeline', 'events', 'lambda']
  for (const s of services) {
    assert.equal(servicePrincipal(s), `${s}.amazonaws.com`)
    assert.equal(serviceOfPrincipal(servicePrincipal(s)), s)
  }
  // Not the China endpoint domain: a trust policy for codebuild.amazonaws.com.cn would be refused.
  assert.notEqual(servicePrincipal('codebuild'), `codebuild.${dnsSuffix('aws-cn')}`)
  assert.equal(serviceOfPrincipal('codebuild.amazonaws.com.cn'), undefined)
  assert.equal(serviceOfPrincipal('accounts.google.com'), undefined)
  assert.equal(serviceOfPrincipal('.amazonaws.com'), undefined)
  assert.equal(serviceOfPrincipal('arn:aws:iam::111111111111:root'), undefined)
})

test('every module reads the same quotas (the copies that disagreed are gone)', () => {
  const cfn = QUOTAS.cloudFormation
  for (const v of [TEMPLATE_BODY_MAX, TEMPLATE_BODY_LIMIT, CDK_LIMITS.templateBodyBytes])
    assert.equal(v, cfn.templateBodyBytes)
  // The sandbox said 1,048,576 where synth and check said 1,000,000: CloudFormation's own
  // refusal is "Template may not exceed 1000000 bytes in size."
  for (const v of [TEMPLATE_URL_MAX, CDK_LIMITS.templateS3Bytes]) assert.equal(v, 1_000_000)
  assert.equal(cfn.templateUrlBytes, 1_000_000)
  assert.equal(ACTIONS_PER_STAGE_MAX, LIMITS.actionsPerStage)
  assert.equal(STAGES_PER_PIPELINE_MAX, CDK_LIMITS.stagesPerPipeline)
  assert.equal(MANAGED_POLICY_MAX, LIMITS.managedPolicy)
  assert.equal(ROLE_INLINE_POLICY_MAX, LIMITS.roleInlinePolicies)
  assert.equal(KEY_POLICY_MAX, LIMITS.keyPolicy)
  assert.equal(BUCKET_POLICY_MAX, LIMITS.bucketPolicy)
  assert.equal(ROLE_NAME_MAX, MAX_ROLE_NAME_LENGTH)
  assert.equal(ROLE_NAME_MAX, QUOTAS.iam.roleNameLength)
})

test('AWS managed policy ARNs, built by one helper, name the policies check and the sandbox read', () => {
  assert.equal(awsManagedPolicyArn('aws', 'PowerUserAccess'), 'arn:aws:iam::aws:policy/PowerUserAccess')
  for (const partition of Object.keys(PARTITIONS)) {
    const p = awsManagedPolicy(awsManagedPolicyArn(partition, 'PowerUserAccess'))
    assert.equal(p?.name, 'PowerUserAccess', partition)
  }
  const cp = awsManagedPolicy(awsManagedPolicyArn('aws-cn', 'AWSLambdaBasicExecutionRole', '/service-role/'))
  assert.equal(cp?.path, '/service-role/')
  assert.equal(awsManagedPolicy(awsManagedPolicyArn('aws', 'AWSLambdaBasicExecutionRole')), undefined)
})
