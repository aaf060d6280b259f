// S3's XML bodies, read and written from AWS's S3 model by the operation layer's restXml reader and
// writer (src/sandbox/operations/rest-xml.ts). Three levels: the reader and writer against the model
// (flattened and wrapped lists, attributes, namespaces, scalar forms); bodies that are malformed or
// do not validate, sent as raw signed requests and answered with S3's codes; and round trips of
// every setting the sandbox keeps, put then got through boto3 and the AWS CLI, whose serializers
// and parsers nobody here wrote (python3 with boto3 and the AWS CLI v1 `aws` on this machine; a
// test whose client is missing is skipped with a message).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { sandboxEnv } from '../../src/sandbox/index.js'
import {
  payloadOf,
  readXmlPayload,
  serviceModel,
  writeXmlOutput,
  XmlBodyError,
  type ServiceModel,
} from '../../src/sandbox/operations/index.js'
import { readStoredPayload } from '../../src/sandbox/services/s3/http.js'
import { harness, runTool, s3Raw, type Harness } from './helpers.js'

const NS = 'http://s3.amazonaws.com/doc/2006-03-01/'

// ---- the reader and writer against S3's model ------------------------------------------------

function read(op: string, body: string): unknown {
  const m = serviceModel('s3')
  return readXmlPayload(m, payloadOf(m, m.operations[op]!.input)!, body, {
    openEnums: ['BucketLocationConstraint'],
  })
}

function problems(op: string, body: string): readonly string[] {
  try {
    read(op, body)
  } catch (e) {
    if (e instanceof XmlBodyError) return e.problems
    throw e
  }
  throw new Error(`expected ${op}'s body to be refused: ${body}`)
}

test('restXml reader: flattened and wrapped lists, attributes, scalars, as the model names them', () => {
  assert.deepEqual(
    read(
      'CompleteMultipartUpload',
      `<CompleteMultipartUpload xmlns="${NS}"><Part><ETag>"a"</ETag><PartNumber>1</PartNumber></Part><Part><PartNumber>2</PartNumber><ETag>b</ETag></Part></CompleteMultipartUpload>`,
    ),
    {
      Parts: [
        { ETag: '"a"', PartNumber: 1 },
        { ETag: 'b', PartNumber: 2 },
      ],
    },
  )
  // One flattened item is still a list; Quiet is XML Schema's boolean (1 is true).
  assert.deepEqual(read('DeleteObjects', '<Delete><Object><Key>k</Key></Object><Quiet>1</Quiet></Delete>'), {
    Objects: [{ Key: 'k' }],
    Quiet: true,
  })
  // A wrapped list (TagSet of Tag) that is empty, and one that is not.
  assert.deepEqual(read('PutBucketTagging', '<Tagging><TagSet/></Tagging>'), { TagSet: [] })
  assert.deepEqual(
    read('PutObjectTagging', '<Tagging><TagSet><Tag><Key>a</Key><Value></Value></Tag></TagSet></Tagging>'),
    { TagSet: [{ Key: 'a', Value: '' }] },
  )
  // The grantee's type is the xsi:type attribute; AccessControlList is Grants.
  assert.deepEqual(
    read(
      'PutBucketAcl',
      `<AccessControlPolicy xmlns="${NS}"><Owner><ID>o</ID></Owner><AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>o</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>`,
    ),
    {
      Owner: { ID: 'o' },
      Grants: [{ Grantee: { ID: 'o', Type: 'CanonicalUser' }, Permission: 'FULL_CONTROL' }],
    },
  )
  // Timestamps, integers and nested structures of a lifecycle rule; MfaDelete is MFADelete.
  assert.deepEqual(
    read(
      'PutBucketLifecycleConfiguration',
      '<LifecycleConfiguration><Rule><ID>r</ID><Filter><And><Prefix>p/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And></Filter><Status>Enabled</Status><Expiration><Date>2030-01-01T00:00:00Z</Date></Expiration><Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition></Rule></LifecycleConfiguration>',
    ),
    {
      Rules: [
        {
          ID: 'r',
          Filter: { And: { Prefix: 'p/', Tags: [{ Key: 'k', Value: 'v' }] } },
          Status: 'Enabled',
          Expiration: { Date: new Date('2030-01-01T00:00:00Z') },
          Transitions: [{ Days: 30, StorageClass: 'GLACIER' }],
        },
      ],
    },
  )
  assert.deepEqual(
    read(
      'PutBucketVersioning',
      '<VersioningConfiguration><MfaDelete>Disabled</MfaDelete></VersioningConfiguration>',
    ),
    {
      MFADelete: 'Disabled',
    },
  )
  // An empty body is no payload (the caller decides whether the model requires one).
  assert.equal(read('PutBucketVersioning', '  '), undefined)
  // An open enum: any location constraint is read, for the service to judge.
  assert.deepEqual(
    read(
      'CreateBucket',
      '<CreateBucketConfiguration><LocationConstraint>mars-1</LocationConstraint></CreateBucketConfiguration>',
    ),
    {
      LocationConstraint: 'mars-1',
    },
  )
})

test('a lifecycle configuration an older sandbox kept as XML text reads as rules', () => {
  assert.deepEqual(
    readStoredPayload(
      'PutBucketLifecycleConfiguration',
      '<LifecycleConfiguration><Rule><Filter><Prefix>a/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>3</Days></Expiration></Rule></LifecycleConfiguration>',
    ),
    { Rules: [{ Filter: { Prefix: 'a/' }, Status: 'Enabled', Expiration: { Days: 3 } }] },
  )
  // Text that no longer reads is no configuration, rather than a failing GetBucketLifecycleConfiguration.
  assert.equal(
    readStoredPayload('PutBucketLifecycleConfiguration', '<LifecycleConfiguration><Rule>'),
    undefined,
  )
})

test('restXml reader: what the schema refuses, and where', () => {
  const V = 'PutBucketVersioning'
  assert.match(problems(V, '<VersioningConfiguration><Status>Enabled')[0]!, /^not well-formed/)
  assert.deepEqual(problems(V, '<Versioning><Status>Enabled</Status></Versioning>'), [
    'the root element must be <VersioningConfiguration>, found <Versioning>',
  ])
  assert.deepEqual(
    problems(V, '<VersioningConfiguration><Status>Sometimes</Status></VersioningConfiguration>'),
    ["/VersioningConfiguration/Status: 'Sometimes' is not one of [Enabled, Suspended]"],
  )
  assert.deepEqual(
    problems(V, '<VersioningConfiguration><Statut>Enabled</Statut></VersioningConfiguration>'),
    ['/VersioningConfiguration: unexpected element <Statut>'],
  )
  assert.deepEqual(
    problems(
      V,
      '<VersioningConfiguration><Status>Enabled</Status><Status>Enabled</Status></VersioningConfiguration>',
    ),
    ['/VersioningConfiguration/Status: the element is repeated'],
  )
  assert.deepEqual(
    problems(
      'PutPublicAccessBlock',
      '<PublicAccessBlockConfiguration><BlockPublicAcls>yes</BlockPublicAcls></PublicAccessBlockConfiguration>',
    ),
    ["/PublicAccessBlockConfiguration/BlockPublicAcls: 'yes' is not a boolean"],
  )
  assert.deepEqual(
    problems(
      'CompleteMultipartUpload',
      '<CompleteMultipartUpload><Part><PartNumber>one</PartNumber></Part></CompleteMultipartUpload>',
    ),
    ["/CompleteMultipartUpload/Part[1]/PartNumber: 'one' is not an integer"],
  )
  assert.deepEqual(
    problems('PutBucketTagging', '<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>'),
    ['/Tagging/TagSet/Tag[1]/Value: missing'],
  )
  assert.deepEqual(problems('PutBucketTagging', '<Tagging></Tagging>'), ['/Tagging/TagSet: missing'])
  assert.deepEqual(
    problems(
      'PutBucketAcl',
      '<AccessControlPolicy><AccessControlList><Grant><Grantee><ID>o</ID></Grantee><Permission>ALL</Permission></Grant></AccessControlList></AccessControlPolicy>',
    ),
    [
      '/AccessControlPolicy/AccessControlList/Grant[1]/Grantee/@type: missing',
      "/AccessControlPolicy/AccessControlList/Grant[1]/Permission: 'ALL' is not one of [FULL_CONTROL, WRITE, WRITE_ACP, READ, READ_ACP]",
    ],
  )
  assert.deepEqual(
    problems(
      'PutBucketLifecycleConfiguration',
      '<LifecycleConfiguration><Rule><Status>Enabled</Status><Expiration><Date>tomorrow</Date></Expiration></Rule></LifecycleConfiguration>',
    ),
    ["/LifecycleConfiguration/Rule[1]/Expiration/Date: 'tomorrow' is not an ISO 8601 date-time"],
  )
})

test('restXml writer: payload roots, flattened and wrapped lists, attributes with their namespace, timestamps', () => {
  const m = serviceModel('s3')
  const acl = writeXmlOutput(
    m,
    'GetBucketAclOutput',
    {
      Owner: { ID: 'o' },
      Grants: [{ Grantee: { ID: 'o', Type: 'CanonicalUser' }, Permission: 'FULL_CONTROL' }],
    },
    { root: 'AccessControlPolicy', xmlns: NS },
  )
  assert.equal(
    acl,
    `<?xml version="1.0" encoding="UTF-8"?>\n<AccessControlPolicy xmlns="${NS}"><Owner><ID>o</ID></Owner><AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>o</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>`,
  )
  // A structure payload is its own root, named by the model; headers are not in the body.
  assert.equal(
    writeXmlOutput(
      m,
      'CopyObjectOutput',
      { VersionId: 'v', CopyObjectResult: { ETag: '"e"', LastModified: new Date(Date.UTC(2030, 0, 2)) } },
      { xmlns: NS },
    ),
    `<?xml version="1.0" encoding="UTF-8"?>\n<CopyObjectResult xmlns="${NS}"><ETag>&quot;e&quot;</ETag><LastModified>2030-01-02T00:00:00.000Z</LastModified></CopyObjectResult>`,
  )
  // Flattened lists repeat their element; member order is the model's, not the object's.
  assert.equal(
    writeXmlOutput(
      m,
      'DeleteObjectsOutput',
      { Errors: [{ Key: 'b', Code: 'AccessDenied' }], Deleted: [{ Key: 'a', DeleteMarker: true }] },
      { root: 'DeleteResult' },
    ),
    `<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult><Deleted><Key>a</Key><DeleteMarker>true</DeleteMarker></Deleted><Error><Key>b</Key><Code>AccessDenied</Code></Error></DeleteResult>`,
  )
  // An output whose members are all headers has no body, unless the operation names a root (an
  // empty document: GetBucketLogging's <BucketLoggingStatus/>).
  assert.equal(writeXmlOutput(m, 'PutObjectOutput', { ETag: '"e"' }), undefined)
  assert.equal(
    writeXmlOutput(m, 'GetBucketLoggingOutput', {}, { root: 'BucketLoggingStatus', xmlns: NS }),
    `<?xml version="1.0" encoding="UTF-8"?>\n<BucketLoggingStatus xmlns="${NS}"></BucketLoggingStatus>`,
  )
})

test('restXml reader and writer: maps (no S3 body has one), wrapped and flattened, with any key', () => {
  const model = {
    source: 'test',
    metadata: { apiVersion: '2020-01-01', protocol: 'rest-xml', endpointPrefix: 'test' },
    operations: { Put: { input: 'PutInput', output: 'PutInput' } },
    shapes: {
      PutInput: {
        type: 'structure',
        payload: 'Doc',
        members: { Doc: { shape: 'Doc', locationName: 'Doc' } },
      },
      Doc: {
        type: 'structure',
        members: { Wrapped: { shape: 'Map' }, Flat: { shape: 'FlatMap', locationName: 'Item' } },
      },
      Map: { type: 'map', key: { shape: 'S' }, value: { shape: 'N' } },
      FlatMap: {
        type: 'map',
        flattened: true,
        key: { shape: 'S', locationName: 'Name' },
        value: { shape: 'S', locationName: 'Text' },
      },
      S: { type: 'string' },
      N: { type: 'integer' },
    },
  } as const
  const m = model as unknown as ServiceModel
  const p = payloadOf(m, 'PutInput')!
  const v = readXmlPayload(
    m,
    p,
    '<Doc><Wrapped><entry><key>__proto__</key><value>1</value></entry><entry><key>b</key><value>2</value></entry></Wrapped><Item><Name>x</Name><Text>y</Text></Item></Doc>',
  ) as { Wrapped: Record<string, number>; Flat: Record<string, string> }
  assert.deepEqual(Object.keys(v.Wrapped), ['__proto__', 'b'])
  assert.equal(v.Wrapped['b'], 2)
  assert.equal(Object.getPrototypeOf(v.Wrapped), Object.prototype)
  assert.deepEqual(v.Flat, { x: 'y' })
  assert.equal(
    writeXmlOutput(m, 'PutInput', { Doc: { Wrapped: { b: 2 } } }),
    '<?xml version="1.0" encoding="UTF-8"?>\n<Doc><Wrapped><entry><key>b</key><value>2</value></entry></Wrapped></Doc>',
  )
})

// ---- over the wire: S3's codes for bodies that do not validate --------------------------------

let h: Harness
before(async () => {
  h = await harness()
  const s3 = h.clients(h.creds('ci')).s3
  await s3.send(new CreateBucketCommand({ Bucket: 'xml-bad' }))
  await s3.send(new PutObjectCommand({ Bucket: 'xml-bad', Key: 'k', Body: 'x' }))
})
after(async () => {
  await h.close()
})

const send = (method: string, path: string, body = '') => s3Raw(h, h.creds('ci'), { method, path, body })

test('bodies that are malformed or do not validate: S3 answers MalformedXML (MalformedACLError for an ACL)', async () => {
  const cases: [string, string, string, string][] = [
    ['PUT', '/xml-bad?versioning', '<VersioningConfiguration><Status>Enabled', 'MalformedXML'],
    ['PUT', '/xml-bad?versioning', '<Versioning><Status>Enabled</Status></Versioning>', 'MalformedXML'],
    [
      'PUT',
      '/xml-bad?versioning',
      '<VersioningConfiguration><Status>On</Status></VersioningConfiguration>',
      'MalformedXML',
    ],
    [
      'PUT',
      '/xml-bad?tagging',
      '<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>',
      'MalformedXML',
    ],
    [
      'PUT',
      '/xml-bad?tagging',
      '<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value><Colour/></Tag></TagSet></Tagging>',
      'MalformedXML',
    ],
    ['PUT', '/xml-bad/k?tagging', '<Tagging/>', 'MalformedXML'],
    [
      'PUT',
      '/xml-bad?publicAccessBlock',
      '<PublicAccessBlockConfiguration><BlockPublicAcls>yes</BlockPublicAcls></PublicAccessBlockConfiguration>',
      'MalformedXML',
    ],
    [
      'PUT',
      '/xml-bad?ownershipControls',
      '<OwnershipControls><Rule><ObjectOwnership>Everyone</ObjectOwnership></Rule></OwnershipControls>',
      'MalformedXML',
    ],
    ['PUT', '/xml-bad?ownershipControls', '<OwnershipControls></OwnershipControls>', 'MalformedXML'],
    [
      'PUT',
      '/xml-bad?encryption',
      '<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>ROT13</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>',
      'MalformedXML',
    ],
    [
      'PUT',
      '/xml-bad?lifecycle',
      '<LifecycleConfiguration><Rule><Filter/><Status>Maybe</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>',
      'MalformedXML',
    ],
    [
      'PUT',
      '/xml-bad?lifecycle',
      '<LifecycleConfiguration><Rule><Filter/><Status>Enabled</Status><Expiration><Days>soon</Days></Expiration></Rule></LifecycleConfiguration>',
      'MalformedXML',
    ],
    [
      'PUT',
      '/xml-bad?acl',
      '<AccessControlPolicy><AccessControlList><Grant><Grantee><ID>x</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>',
      'MalformedACLError',
    ],
    ['PUT', '/xml-bad?acl', '<AccessControlPolicy><Owner>', 'MalformedACLError'],
  ]
  for (const [method, path, body, code] of cases) {
    const r = await send(method, path, body)
    assert.deepEqual([r.status, r.code], [400, code], `${method} ${path} ${body}: ${r.text}`)
    assert.match(
      r.text,
      /<Message>The XML you provided was not well-formed or did not validate against our published schema<\/Message>/,
    )
  }
  // An empty body where the model requires one; where it does not, the operation judges (a
  // completion that names no part is MalformedXML).
  for (const path of [
    '/xml-bad?versioning',
    '/xml-bad?tagging',
    '/xml-bad/k?tagging',
    '/xml-bad?encryption',
  ]) {
    const r = await send('PUT', path)
    assert.deepEqual([r.status, r.code], [400, 'MissingRequestBodyError'], `${path}: ${r.text}`)
    assert.match(r.text, /<Message>Request Body is empty<\/Message>/)
  }
  assert.equal((await send('PUT', '/xml-bad?lifecycle')).code, 'MalformedXML')
  // The settings refused left nothing behind.
  assert.equal((await send('GET', '/xml-bad?tagging', '')).code, 'NoSuchTagSet')
  assert.equal((await send('GET', '/xml-bad?lifecycle', '')).code, 'NoSuchLifecycleConfiguration')
  assert.doesNotMatch((await send('GET', '/xml-bad?versioning', '')).text, /<Status>/)
})

test('bodies that validate but S3 refuses: its own codes, from the operations', async () => {
  const lifecycle = (rule: string) =>
    send('PUT', '/xml-bad?lifecycle', `<LifecycleConfiguration><Rule>${rule}</Rule></LifecycleConfiguration>`)
  // "At least one action needs to be specified in a rule."
  assert.equal((await lifecycle('<Filter/><Status>Enabled</Status>')).code, 'InvalidRequest')
  // Filter is required without the legacy Prefix; a Filter has at most one condition.
  assert.equal(
    (await lifecycle('<Status>Enabled</Status><Expiration><Days>1</Days></Expiration>')).code,
    'MalformedXML',
  )
  assert.equal(
    (
      await lifecycle(
        '<Filter><Prefix>a</Prefix><ObjectSizeLessThan>5</ObjectSizeLessThan></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>',
      )
    ).code,
    'MalformedXML',
  )
  const zero = await lifecycle('<Filter/><Status>Enabled</Status><Expiration><Days>0</Days></Expiration>')
  assert.equal(zero.code, 'InvalidArgument')
  assert.match(zero.text, /&apos;Days&apos; for Expiration action must be a positive integer/)
  // Expiration dates are at midnight GMT.
  const noon = await lifecycle(
    '<Filter/><Status>Enabled</Status><Expiration><Date>2030-01-01T12:00:00Z</Date></Expiration>',
  )
  assert.equal(noon.code, 'InvalidArgument')
  assert.match(noon.text, /&apos;Date&apos; must be at midnight GMT/)
  const long = 'k'.repeat(129)
  const tag = await send(
    'PUT',
    '/xml-bad?tagging',
    `<Tagging><TagSet><Tag><Key>${long}</Key><Value>v</Value></Tag></TagSet></Tagging>`,
  )
  assert.deepEqual([tag.status, tag.code], [400, 'InvalidTag'])
  const twice = await send(
    'PUT',
    '/xml-bad/k?tagging',
    '<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>a</Key><Value>2</Value></Tag></TagSet></Tagging>',
  )
  assert.equal(twice.code, 'InvalidArgument')
  // A location constraint S3 does not serve here is its location error, not a schema error.
  const mars = await send(
    'PUT',
    '/xml-mars',
    '<CreateBucketConfiguration><LocationConstraint>mars-1</LocationConstraint></CreateBucketConfiguration>',
  )
  assert.equal(mars.code, 'IllegalLocationConstraintException')
})

// ---- round trips through clients nobody here wrote -------------------------------------------

const hasBoto = spawnSync('python3', ['-c', 'import boto3'], { stdio: 'ignore' }).status === 0
const hasAws =
  (spawnSync('aws', ['--version'], { encoding: 'utf8' }).stdout ?? '').startsWith('aws-cli/1.') ||
  (spawnSync('aws', ['--version'], { encoding: 'utf8' }).stderr ?? '').startsWith('aws-cli/1.')

// Each setting is put, read back, and compared with what was put (boto3's parsed answer, with the
// response metadata dropped); the differences are printed, so a failure names the setting.
const BOTO = String.raw`
import json, datetime, boto3, botocore
from botocore.config import Config
s3 = boto3.client('s3', config=Config(s3={'addressing_style': 'path'}, retries={'max_attempts': 1}))
B = 'xml-boto'
diffs = {}
def same(name, put, got):
  if isinstance(got, dict):
    got = {k: v for k, v in got.items() if k != 'ResponseMetadata'}
  if put != got:
    diffs[name] = {'put': put, 'got': got}
s3.create_bucket(Bucket=B)
me = s3.get_bucket_acl(Bucket=B)['Owner']['ID']

v = {'Status': 'Enabled'}
s3.put_bucket_versioning(Bucket=B, VersioningConfiguration=v)
same('versioning', v, s3.get_bucket_versioning(Bucket=B))

key = boto3.client('kms').create_key()['KeyMetadata']['Arn']
enc = {'Rules': [{'ApplyServerSideEncryptionByDefault': {'SSEAlgorithm': 'aws:kms', 'KMSMasterKeyID': key}, 'BucketKeyEnabled': True}]}
s3.put_bucket_encryption(Bucket=B, ServerSideEncryptionConfiguration=enc)
same('encryption', {'ServerSideEncryptionConfiguration': enc}, s3.get_bucket_encryption(Bucket=B))

pab = {'BlockPublicAcls': True, 'IgnorePublicAcls': False, 'BlockPublicPolicy': True, 'RestrictPublicBuckets': False}
s3.put_public_access_block(Bucket=B, PublicAccessBlockConfiguration=pab)
same('publicAccessBlock', {'PublicAccessBlockConfiguration': pab}, s3.get_public_access_block(Bucket=B))

own = {'Rules': [{'ObjectOwnership': 'BucketOwnerPreferred'}]}
s3.put_bucket_ownership_controls(Bucket=B, OwnershipControls=own)
same('ownershipControls', {'OwnershipControls': own}, s3.get_bucket_ownership_controls(Bucket=B))

rules = [
  {'ID': 'archive', 'Filter': {'And': {'Prefix': 'logs/', 'Tags': [{'Key': 'k', 'Value': 'v'}], 'ObjectSizeGreaterThan': 1024}}, 'Status': 'Enabled',
   'Transitions': [{'Days': 30, 'StorageClass': 'STANDARD_IA'}, {'Days': 90, 'StorageClass': 'GLACIER'}],
   'NoncurrentVersionExpiration': {'NoncurrentDays': 7, 'NewerNoncurrentVersions': 2},
   'AbortIncompleteMultipartUpload': {'DaysAfterInitiation': 3}},
  {'ID': 'dated', 'Filter': {'Prefix': ''}, 'Status': 'Disabled',
   'Expiration': {'Date': datetime.datetime(2031, 1, 1, tzinfo=datetime.timezone.utc)}},
  {'ID': 'markers', 'Filter': {'Tag': {'Key': 'a', 'Value': 'b'}}, 'Status': 'Enabled', 'Expiration': {'ExpiredObjectDeleteMarker': True}},
]
s3.put_bucket_lifecycle_configuration(Bucket=B, LifecycleConfiguration={'Rules': rules})
got = s3.get_bucket_lifecycle_configuration(Bucket=B)
got.pop('TransitionDefaultMinimumObjectSize', None)
same('lifecycle', {'Rules': rules}, got)

tags = [{'Key': 'team', 'Value': 'ci'}, {'Key': 'empty', 'Value': ''}, {'Key': 'amp&<', 'Value': '"quoted"'}]
s3.put_bucket_tagging(Bucket=B, Tagging={'TagSet': tags})
same('bucketTagging', {'TagSet': tags}, s3.get_bucket_tagging(Bucket=B))

s3.put_object(Bucket=B, Key='o', Body=b'x')
otags = [{'Key': 'a', 'Value': '1'}, {'Key': 'b', 'Value': '2'}]
vid = s3.put_object_tagging(Bucket=B, Key='o', Tagging={'TagSet': otags})['VersionId']
same('objectTagging', {'VersionId': vid, 'TagSet': otags}, s3.get_object_tagging(Bucket=B, Key='o'))

acl = {'Owner': {'ID': me}, 'Grants': [{'Grantee': {'ID': me, 'Type': 'CanonicalUser'}, 'Permission': 'FULL_CONTROL'}]}
s3.put_bucket_acl(Bucket=B, AccessControlPolicy=acl)
same('acl', acl, s3.get_bucket_acl(Bucket=B))

# Multipart: the completion body names the parts (a flattened list of Part).
up = s3.create_multipart_upload(Bucket=B, Key='mp')['UploadId']
p1 = s3.upload_part(Bucket=B, Key='mp', UploadId=up, PartNumber=1, Body=b'a' * (5 * 1024 * 1024))['ETag']
p2 = s3.upload_part(Bucket=B, Key='mp', UploadId=up, PartNumber=2, Body=b'b')['ETag']
done = s3.complete_multipart_upload(Bucket=B, Key='mp', UploadId=up, MultipartUpload={'Parts': [{'PartNumber': 1, 'ETag': p1}, {'PartNumber': 2, 'ETag': p2}]})
same('complete', {'Bucket': B, 'Key': 'mp', 'ETag': done['ETag']}, {k: done[k] for k in ['Bucket', 'Key', 'ETag']})
if not done['ETag'].endswith('-2"'): diffs['completeETag'] = done['ETag']

# DeleteObjects: a flattened list in, flattened Deleted (with the delete markers of a versioned bucket) out.
d = s3.delete_objects(Bucket=B, Delete={'Objects': [{'Key': 'o'}, {'Key': 'mp'}]})
same('deleteObjects', sorted(['o', 'mp']), sorted(x['Key'] for x in d['Deleted'] if x.get('DeleteMarker') and x.get('DeleteMarkerVersionId')))
q = s3.delete_objects(Bucket=B, Delete={'Objects': [{'Key': 'o'}], 'Quiet': True})
same('deleteQuiet', [], q.get('Deleted', []))

# CreateBucket's location constraint (the sandbox's region is us-east-1: a constraint of eu-west-1 is refused by S3's rule).
try:
  s3.create_bucket(Bucket='xml-boto-eu', CreateBucketConfiguration={'LocationConstraint': 'eu-west-1'})
  diffs['location'] = 'accepted'
except botocore.exceptions.ClientError as e:
  same('location', 'IllegalLocationConstraintException', e.response['Error']['Code'])
print(json.dumps(diffs, default=str))
`

test(
  'round trips through boto3: every setting the sandbox keeps reads back as it was put',
  { skip: hasBoto ? false : 'python3 with boto3 is not installed on this machine' },
  async () => {
    const env = { ...process.env, ...sandboxEnv(h.dir, 'ci'), AWS_MAX_ATTEMPTS: '1' }
    const r = await runTool('python3', ['-c', BOTO], env)
    assert.equal(r.code, 0, r.err)
    assert.deepEqual(JSON.parse(r.out), {})
  },
)

test(
  'round trips through the AWS CLI v1: lifecycle and tags as JSON in, the same JSON out',
  { skip: hasAws ? false : 'the AWS CLI v1 (`aws`) is not installed on this machine' },
  async () => {
    const env = { ...process.env, ...sandboxEnv(h.dir, 'ci'), AWS_MAX_ATTEMPTS: '1' }
    const aws = async (...args: string[]) => {
      const r = await runTool('aws', ['s3api', ...args, '--output', 'json'], env)
      assert.equal(r.code, 0, `aws s3api ${args.join(' ')}: ${r.err}`)
      return r.out.trim() ? (JSON.parse(r.out) as Record<string, unknown>) : {}
    }
    await aws('create-bucket', '--bucket', 'xml-cli')
    const lifecycle = {
      Rules: [
        {
          ID: 'tidy',
          Filter: { Prefix: 'tmp/' },
          Status: 'Enabled',
          Expiration: { Days: 1 },
          NoncurrentVersionTransitions: [{ NoncurrentDays: 10, StorageClass: 'GLACIER_IR' }],
        },
      ],
    }
    await aws(
      'put-bucket-lifecycle-configuration',
      '--bucket',
      'xml-cli',
      '--lifecycle-configuration',
      JSON.stringify(lifecycle),
    )
    const got = await aws('get-bucket-lifecycle-configuration', '--bucket', 'xml-cli')
    delete got['TransitionDefaultMinimumObjectSize']
    assert.deepEqual(got, lifecycle)
    const tagging = { TagSet: [{ Key: 'a', Value: 'b' }] }
    await aws('put-bucket-tagging', '--bucket', 'xml-cli', '--tagging', JSON.stringify(tagging))
    assert.deepEqual(await aws('get-bucket-tagging', '--bucket', 'xml-cli'), tagging)
    const versioning = { Status: 'Suspended' }
    await aws(
      'put-bucket-versioning',
      '--bucket',
      'xml-cli',
      '--versioning-configuration',
      JSON.stringify(versioning),
    )
    assert.deepEqual(await aws('get-bucket-versioning', '--bucket', 'xml-cli'), versioning)
  },
)
