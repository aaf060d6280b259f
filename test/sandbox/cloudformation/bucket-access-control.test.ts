// AccessControl of AWS::S3::Bucket: the canned ACL goes to S3 with CreateBucket (x-amz-acl), with
// the bucket's object ownership, and S3 decides: `Private` (the CDK bootstrap bucket's) is created;
// `PublicRead` under the default BucketOwnerEnforced fails the resource with S3's
// InvalidBucketAclWithObjectOwnership, as on AWS. That refusal is S3's: where the S3 API of this
// tree does not check canned ACLs yet, the second test says so and is skipped.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation'
import { CreateBucketCommand, DeleteBucketCommand, HeadBucketCommand } from '@aws-sdk/client-s3'
import { harness, type Harness } from '../helpers.js'

let h: Harness
let cfn: CloudFormationClient
before(async () => {
  h = await harness()
  cfn = new CloudFormationClient({
    endpoint: h.sandbox.endpoint,
    region: 'us-east-1',
    credentials: h.creds('ci'),
    maxAttempts: 1,
  })
})
after(async () => {
  cfn.destroy()
  await h.close()
})

async function create(
  StackName: string,
  props: Record<string, unknown>,
): Promise<{ status: string; events: string }> {
  await cfn.send(
    new CreateStackCommand({
      StackName,
      TemplateBody: JSON.stringify({ Resources: { B: { Type: 'AWS::S3::Bucket', Properties: props } } }),
    }),
  )
  let status = ''
  for (let i = 0; i < 300; i++) {
    status = (await cfn.send(new DescribeStacksCommand({ StackName }))).Stacks![0]!.StackStatus!
    if (!status.endsWith('_IN_PROGRESS')) break
    await new Promise((r) => setTimeout(r, 20))
  }
  const events = ((await cfn.send(new DescribeStackEventsCommand({ StackName }))).StackEvents ?? [])
    .map((x) => `${x.LogicalResourceId} ${x.ResourceStatus} ${x.ResourceStatusReason ?? ''}`)
    .join('\n')
  return { status, events }
}

test('AccessControl: Private creates the bucket', async () => {
  const r = await create('private', { BucketName: 'acl-private', AccessControl: 'Private' })
  assert.equal(r.status, 'CREATE_COMPLETE', r.events)
  await h.clients(h.creds('ci')).s3.send(new HeadBucketCommand({ Bucket: 'acl-private' }))
})

test('AccessControl: an unknown value fails the resource with the allowed values', async () => {
  const r = await create('unknown', { BucketName: 'acl-unknown', AccessControl: 'Everyone' })
  assert.equal(r.status, 'ROLLBACK_COMPLETE')
  assert.match(r.events, /B CREATE_FAILED .*(Everyone|AccessControl)/)
})

/** Whether this tree's S3 refuses a public canned ACL on a bucket created with ACLs disabled. */
async function s3ChecksCannedAcls(): Promise<boolean> {
  const s3 = h.clients(h.creds('dev')).s3
  try {
    await s3.send(new CreateBucketCommand({ Bucket: 'acl-probe', ACL: 'public-read' }))
  } catch (e) {
    return (e as { name?: string }).name === 'InvalidBucketAclWithObjectOwnership'
  }
  await s3.send(new DeleteBucketCommand({ Bucket: 'acl-probe' }))
  return false
}

test('AccessControl: PublicRead under BucketOwnerEnforced fails as on AWS', async (t) => {
  if (!(await s3ChecksCannedAcls()))
    return t.skip(
      'the S3 API of this tree accepts any x-amz-acl on CreateBucket (canned ACLs come with the s3 work): the refusal cannot be shown here',
    )
  const r = await create('public', { BucketName: 'acl-public', AccessControl: 'PublicRead' })
  assert.equal(r.status, 'ROLLBACK_COMPLETE')
  assert.match(
    r.events,
    /B CREATE_FAILED .*InvalidBucketAclWithObjectOwnership|Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting/,
  )
})
