/**
 * Providers for resources of services the sandbox does not run as APIs yet: SNS topics, SQS
 * queues, EventBridge rules and wait condition handles — and SSM parameters, which the SSM service
 * (services/ssm) keeps: that provider calls its API. (CodeBuild projects and
 * CodePipeline pipelines are the services' own: codebuild/cfn-provider.ts,
 * codepipeline/cfn-provider.ts.) The others keep their resources in
 * CloudFormation's local store, and authorize each write with the deploying identity's
 * policies exactly as the service would (the IAM action and resource ARN of the service's
 * authorization reference), so a stack cannot do here what its role could not do on AWS.
 *
 * Ref and GetAtt values follow each resource's "Return values" section:
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-sns-topic.html
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-sqs-queue.html
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ssm-parameter.html
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudformation-waitconditionhandle.html
 */
import { formatArn, parseArn } from '../../../../iam/arn.js'
import { AwsError } from '../../../errors.js'
import { authorizeCatalogued } from './catalogue.js'
import type { ProviderContext, ProvisionResult, ResourceProvider } from '../../../cfn-providers.js'

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined
}

function arn(ctx: ProviderContext, service: string, resource: string): string {
  return formatArn({ partition: ctx.partition, service, region: ctx.region, account: ctx.account, resource })
}

// ---------------------------------------------------------------- SNS

interface TopicRecord {
  readonly name: string
  readonly arn: string
  readonly properties: Readonly<Record<string, unknown>>
}

/** AWS::SNS::Topic: Ref is the topic ARN; GetAtt TopicArn, TopicName. */
export const snsTopic: ResourceProvider = {
  type: 'AWS::SNS::Topic',
  nameProperty: 'TopicName',
  async create(ctx, props) {
    const fifo = props.FifoTopic === true || props.FifoTopic === 'true'
    let name = str(props.TopicName) ?? ctx.physicalName({ maxLength: fifo ? 251 : 256 })
    if (fifo && props.TopicName === undefined) name += '.fifo'
    // CreateTopic naming rules: https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html
    if (!/^[A-Za-z0-9_-]{1,256}(\.fifo)?$/.test(name) || (fifo && !name.endsWith('.fifo'))) {
      throw new AwsError('InvalidParameter', 'Invalid parameter: Topic Name', 400)
    }
    const topicArn = arn(ctx, 'sns', name)
    await authorizeCatalogued(ctx, this.type, 'create', props, name)
    ctx.local.put<TopicRecord>('sns-topic', name, { name, arn: topicArn, properties: props })
    return topicResult(name, topicArn)
  },
  async update(ctx, current, props) {
    const name = String(current.attributes.TopicName)
    const topicArn = current.physicalId
    await authorizeCatalogued(ctx, this.type, 'update', props, name)
    ctx.local.put<TopicRecord>('sns-topic', name, { name, arn: topicArn, properties: props })
    return topicResult(name, topicArn)
  },
  async delete(ctx, current) {
    await authorizeCatalogued(
      ctx,
      this.type,
      'delete',
      current.properties,
      String(current.attributes.TopicName),
    )
    ctx.local.delete('sns-topic', String(current.attributes.TopicName))
  },
}

function topicResult(name: string, topicArn: string): ProvisionResult {
  return { physicalId: topicArn, attributes: { TopicArn: topicArn, TopicName: name } }
}

// ---------------------------------------------------------------- SQS

/** AWS::SQS::Queue: Ref is the queue URL; GetAtt Arn, QueueName, QueueUrl. */
export const sqsQueue: ResourceProvider = {
  type: 'AWS::SQS::Queue',
  nameProperty: 'QueueName',
  async create(ctx, props) {
    const fifo = props.FifoQueue === true || props.FifoQueue === 'true'
    let name = str(props.QueueName) ?? ctx.physicalName({ maxLength: fifo ? 75 : 80 })
    if (fifo && props.QueueName === undefined) name += '.fifo'
    // Queue names: up to 80 characters, alphanumerics, hyphens, underscores (API_CreateQueue.html).
    if (
      !/^[A-Za-z0-9_-]{1,80}(\.fifo)?$/.test(name) ||
      name.length > 80 ||
      (fifo && !name.endsWith('.fifo'))
    ) {
      throw new AwsError(
        'InvalidParameterValue',
        `Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length`,
        400,
      )
    }
    const queueArn = arn(ctx, 'sqs', name)
    await authorizeCatalogued(ctx, this.type, 'create', props, name)
    const url = `https://sqs.${ctx.region}.${ctx.urlSuffix}/${ctx.account}/${name}`
    ctx.local.put('sqs-queue', name, { name, arn: queueArn, url, properties: props })
    return { physicalId: url, attributes: { Arn: queueArn, QueueName: name, QueueUrl: url } }
  },
  async update(ctx, current, props) {
    const name = String(current.attributes.QueueName)
    await authorizeCatalogued(ctx, this.type, 'update', props, name)
    ctx.local.put('sqs-queue', name, {
      name,
      arn: current.attributes.Arn,
      url: current.physicalId,
      properties: props,
    })
    return { physicalId: current.physicalId, attributes: current.attributes }
  },
  async delete(ctx, current) {
    await authorizeCatalogued(
      ctx,
      this.type,
      'delete',
      current.properties,
      String(current.attributes.QueueName),
    )
    ctx.local.delete('sqs-queue', String(current.attributes.QueueName))
  },
}

// ---------------------------------------------------------------- SSM

/**
 * The SSM PutParameter input of a resource's properties. CloudFormation's `Tags` is a map;
 * SSM's a list. CloudFormation cannot create SecureString parameters
 * (aws-resource-ssm-parameter.html, Type).
 */
function parameterInput(name: string, props: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const type = str(props.Type) ?? 'String'
  if (type === 'SecureString')
    throw new AwsError(
      'ValidationException',
      'SecureString parameters cannot be created with CloudFormation',
      400,
    )
  const input: Record<string, unknown> = { Name: name, Type: type, Value: str(props.Value) ?? '' }
  for (const k of ['Description', 'AllowedPattern', 'Tier', 'DataType', 'Policies'] as const)
    if (props[k] !== undefined) input[k] = str(props[k])
  return input
}

function parameterTags(props: Readonly<Record<string, unknown>>): { Key: string; Value: string }[] {
  const t = props.Tags
  return t !== null && typeof t === 'object' && !Array.isArray(t)
    ? Object.entries(t as Record<string, unknown>).map(([Key, v]) => ({ Key, Value: str(v) ?? '' }))
    : []
}

function parameterResult(
  ctx: ProviderContext,
  name: string,
  props: Readonly<Record<string, unknown>>,
): ProvisionResult {
  const type = str(props.Type) ?? 'String'
  const value = str(props.Value) ?? ''
  // Parameter ARNs drop the leading slash of hierarchical names (sysman-paramstore-access.html).
  return {
    physicalId: name,
    attributes: { Type: type, Value: value, Arn: arn(ctx, 'ssm', `parameter/${name.replace(/^\//, '')}`) },
  }
}

/**
 * AWS::SSM::Parameter: Ref is the parameter name; GetAtt Type, Value. The parameter lives in the
 * SSM service (services/ssm), written through its API as the deploying identity, so
 * `aws ssm get-parameter` reads what a stack wrote and SSM authorizes every write.
 */
export const ssmParameter: ResourceProvider = {
  type: 'AWS::SSM::Parameter',
  nameProperty: 'Name',
  async create(ctx, props) {
    // Without Name the handler names it CFN-<logical id>-<12 random letters and digits>
    // (aws-cloudformation-resource-providers-ssm, aws-ssm-parameter CreateHandler.generateParameterName),
    // which the catalogue's generated-name pattern (CFN-<logical id>-*) matches.
    const name = str(props.Name) ?? `CFN-${ctx.logicalId}-${ctx.physicalName({ maxLength: 12 }).slice(-12)}`
    await authorizeCatalogued(ctx, this.type, 'create', props, name)
    const tags = parameterTags(props)
    await ctx.aws.json('ssm', 'PutParameter', {
      ...parameterInput(name, props),
      ...(tags.length ? { Tags: tags } : {}),
    })
    return parameterResult(ctx, name, props)
  },
  async update(ctx, current, props) {
    await authorizeCatalogued(ctx, this.type, 'update', props, current.physicalId)
    const name = current.physicalId
    await ctx.aws.json('ssm', 'PutParameter', { ...parameterInput(name, props), Overwrite: true })
    // Tags cannot ride on an overwrite (API_PutParameter.html): they are changed separately.
    const before = parameterTags(current.properties)
    const after = parameterTags(props)
    const gone = before.filter((t) => !after.some((x) => x.Key === t.Key)).map((t) => t.Key)
    if (gone.length)
      await ctx.aws.json('ssm', 'RemoveTagsFromResource', {
        ResourceType: 'Parameter',
        ResourceId: name,
        TagKeys: gone,
      })
    if (after.length && JSON.stringify(after) !== JSON.stringify(before))
      await ctx.aws.json('ssm', 'AddTagsToResource', {
        ResourceType: 'Parameter',
        ResourceId: name,
        Tags: after,
      })
    return parameterResult(ctx, name, props)
  },
  async delete(ctx, current) {
    await authorizeCatalogued(ctx, this.type, 'delete', current.properties, current.physicalId)
    try {
      await ctx.aws.json('ssm', 'DeleteParameter', { Name: current.physicalId })
    } catch (e) {
      // Already gone is not an error (handler contract).
      if (!(e instanceof AwsError && e.code === 'ParameterNotFound')) throw e
    }
  },
}

// ---------------------------------------------------------------- WaitConditionHandle

/** AWS::CloudFormation::WaitConditionHandle: Ref is a presigned URL for signalling; nothing to authorize. */
export const waitConditionHandle: ResourceProvider = {
  type: 'AWS::CloudFormation::WaitConditionHandle',
  create(ctx) {
    const url = `https://cloudformation-waitcondition-${ctx.region}.s3.${ctx.urlSuffix}/${encodeURIComponent(ctx.stackId)}/${ctx.logicalId}`
    return Promise.resolve({ physicalId: url, attributes: { Id: url } })
  },
  update(_ctx, current) {
    return Promise.resolve({ physicalId: current.physicalId, attributes: { Id: current.physicalId } })
  },
  delete() {
    return Promise.resolve()
  },
}

// ---------------------------------------------------------------- EventBridge

type Obj = Record<string, unknown>
function objs(v: unknown): Obj[] {
  return Array.isArray(v) ? (v.filter((x) => x !== null && typeof x === 'object') as Obj[]) : []
}

/** A stored EventBridge rule (matching events to targets is the pipeline engine's business). */
export interface EventRuleRecord {
  readonly name: string
  readonly arn: string
  readonly properties: Readonly<Record<string, unknown>>
}

/**
 * PutRule and PutTargets checks: a pattern or a schedule, target ids unique, at most five
 * targets; each target role passed to events.amazonaws.com
 * (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html, API_PutTargets.html,
 * eb-use-identity-based.html: PutTargets with a RoleArn needs iam:PassRole).
 */
async function putRule(
  ctx: ProviderContext,
  name: string,
  props: Readonly<Record<string, unknown>>,
  action: 'create' | 'update',
): Promise<ProvisionResult> {
  if (props.EventPattern === undefined && props.ScheduleExpression === undefined) {
    throw new AwsError(
      'ValidationException',
      'Parameter(s) EventPattern or ScheduleExpression must be specified.',
      400,
    )
  }
  const ruleArn = arn(ctx, 'events', `rule/${name}`)
  const targets = objs(props.Targets)
  if (targets.length > 5)
    throw new AwsError(
      'LimitExceededException',
      'The requested resource exceeds the maximum number allowed.',
      400,
    )
  const ids = new Set<string>()
  for (const t of targets) {
    const id = String(t.Id)
    if (ids.has(id)) throw new AwsError('ValidationException', `Duplicate target id ${id}`, 400)
    ids.add(id)
  }
  // events:PutRule, PutTargets and the PassRole of each target's role, from the catalogue.
  await authorizeCatalogued(ctx, 'AWS::Events::Rule', action, props, name)
  if (action === 'create' && ctx.local.get('events-rule', name)) {
    throw new AwsError('ResourceAlreadyExistsException', `Rule ${name} already exists`, 400)
  }
  ctx.local.put<EventRuleRecord>('events-rule', name, { name, arn: ruleArn, properties: props })
  return { physicalId: name, attributes: { Arn: ruleArn } }
}

/** AWS::Events::Rule (default event bus): Ref is the rule name; GetAtt Arn. */
export const eventsRule: ResourceProvider = {
  type: 'AWS::Events::Rule',
  nameProperty: 'Name',
  async create(ctx, props) {
    if (props.EventBusName !== undefined && props.EventBusName !== 'default') {
      throw new AwsError(
        'NotSupported',
        'Rules on event buses other than default are not supported by the crosspipe sandbox',
        400,
      )
    }
    return putRule(ctx, str(props.Name) ?? ctx.physicalName({ maxLength: 64 }), props, 'create')
  },
  update(ctx, current, props) {
    return putRule(ctx, current.physicalId, props, 'update')
  },
  async delete(ctx, current) {
    await authorizeCatalogued(ctx, this.type, 'delete', current.properties, current.physicalId)
    ctx.local.delete('events-rule', current.physicalId)
  },
}

// ---------------------------------------------------------------- Lambda

/** A stored Lambda function: its configuration and the digest of its code (functions do not run here). */
export interface LambdaFunctionRecord {
  readonly name: string
  readonly arn: string
  readonly role: string
  readonly codeSha256: string
  readonly codeSize: number
  readonly properties: Readonly<Record<string, unknown>>
}

/**
 * The function's code: from S3, read with the deploying identity's permissions as Lambda does
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-function-zip.html: "you must have
 * s3:GetObject" on the object), so an artifact bucket's policy and key policy apply; or inline
 * (ZipFile). Functions are stored, not run: the sandbox has no Lambda runtime.
 */
async function lambdaCode(ctx: ProviderContext, props: Readonly<Record<string, unknown>>): Promise<Buffer> {
  const code = (props.Code ?? {}) as Record<string, unknown>
  if (typeof code.ZipFile === 'string') return Buffer.from(code.ZipFile)
  if (typeof code.S3Bucket !== 'string' || typeof code.S3Key !== 'string')
    throw new AwsError(
      'InvalidParameterValueException',
      'Code needs S3Bucket and S3Key, or ZipFile (ImageUri is not supported by the crosspipe sandbox)',
      400,
    )
  const version =
    typeof code.S3ObjectVersion === 'string' ? [['versionId', code.S3ObjectVersion] as const] : []
  const r = await ctx.aws.rest('s3', {
    method: 'GET',
    path: `/${code.S3Bucket}/${code.S3Key}`,
    ...(version.length ? { query: version } : {}),
  })
  if (r.status !== 200)
    throw new AwsError(
      'InvalidParameterValueException',
      `Error occurred while GetObject. S3 Error Code: ${r.status}. S3 Error Message: could not read s3://${code.S3Bucket}/${code.S3Key}`,
      400,
    )
  return r.body
}

async function putFunction(
  ctx: ProviderContext,
  name: string,
  props: Readonly<Record<string, unknown>>,
): Promise<ProvisionResult> {
  const role = str(props.Role)
  // CreateFunction: Role is required and is an ARN (API_CreateFunction.html).
  if (!role || !/^arn:aws[a-z-]*:iam::\d{12}:role\/.+/.test(role))
    throw new AwsError('ValidationException', `Role must be an IAM role ARN, not "${role ?? ''}"`, 400)
  const body = await lambdaCode(ctx, props)
  const { createHash } = await import('node:crypto')
  const functionArn = arn(ctx, 'lambda', `function:${name}`)
  const rec: LambdaFunctionRecord = {
    name,
    arn: functionArn,
    role,
    codeSha256: createHash('sha256').update(body).digest('base64'),
    codeSize: body.length,
    properties: props,
  }
  ctx.local.put('lambda-function', name, rec)
  return { physicalId: name, attributes: { Arn: functionArn } }
}

/** AWS::Lambda::Function (stored, never invoked): Ref is the function name; GetAtt Arn. */
export const lambdaFunction: ResourceProvider = {
  type: 'AWS::Lambda::Function',
  nameProperty: 'FunctionName',
  async create(ctx, props) {
    const name = str(props.FunctionName) ?? ctx.physicalName({ maxLength: 64 })
    await authorizeCatalogued(ctx, this.type, 'create', props, name)
    if (ctx.local.get('lambda-function', name))
      throw new AwsError('ResourceConflictException', `Function already exist: ${name}`, 409)
    return putFunction(ctx, name, props)
  },
  async update(ctx, current, props) {
    await authorizeCatalogued(ctx, this.type, 'update', props, current.physicalId)
    return putFunction(ctx, current.physicalId, props)
  },
  async delete(ctx, current) {
    await authorizeCatalogued(ctx, this.type, 'delete', current.properties, current.physicalId)
    ctx.local.delete('lambda-function', current.physicalId)
  },
}

// ---------------------------------------------------------------- CloudWatch Logs

/** Properties a provider honours; any other fails the resource with a sentence saying so. */
function onlyProps(
  type: string,
  props: Readonly<Record<string, unknown>>,
  supported: readonly string[],
): void {
  const extra = Object.keys(props).filter((k) => !supported.includes(k))
  if (extra.length)
    throw new AwsError(
      'NotSupported',
      `Properties [${extra.join(', ')}] of ${type} are not supported by the crosspipe sandbox`,
      400,
    )
}

/** A stored log group (nothing is logged to it: the sandbox runs no code). */
export interface LogGroupRecord {
  readonly name: string
  readonly arn: string
  readonly properties: Readonly<Record<string, unknown>>
}

const LOG_GROUP_PROPS = ['LogGroupName', 'RetentionInDays', 'Tags']

/**
 * AWS::Logs::LogGroup (stored): Ref is the name; GetAtt Arn is the log group ARN ending in `:*`
 * (aws-resource-logs-loggroup.html, "Return values"). Names: 1 to 512 of `[.\-_/#A-Za-z0-9]`
 * (logs API_CreateLogGroup.html).
 */
export const logsLogGroup: ResourceProvider = {
  type: 'AWS::Logs::LogGroup',
  nameProperty: 'LogGroupName',
  async create(ctx, props) {
    onlyProps(this.type, props, LOG_GROUP_PROPS)
    const name = str(props.LogGroupName) ?? ctx.physicalName({ maxLength: 512 })
    if (!/^[.\-_/#A-Za-z0-9]{1,512}$/.test(name))
      throw new AwsError('InvalidParameterException', `Invalid log group name: ${name}`, 400)
    await authorizeCatalogued(ctx, this.type, 'create', props, name)
    if (ctx.local.get('logs-log-group', name))
      throw new AwsError('ResourceAlreadyExistsException', 'The specified log group already exists', 400)
    return putLogGroup(ctx, name, props)
  },
  async update(ctx, current, props) {
    onlyProps(this.type, props, LOG_GROUP_PROPS)
    await authorizeCatalogued(ctx, this.type, 'update', props, current.physicalId)
    return putLogGroup(ctx, current.physicalId, props)
  },
  async delete(ctx, current) {
    await authorizeCatalogued(ctx, this.type, 'delete', current.properties, current.physicalId)
    ctx.local.delete('logs-log-group', current.physicalId)
  },
}

function putLogGroup(
  ctx: ProviderContext,
  name: string,
  props: Readonly<Record<string, unknown>>,
): ProvisionResult {
  const groupArn = `${arn(ctx, 'logs', `log-group:${name}`)}:*`
  ctx.local.put<LogGroupRecord>('logs-log-group', name, { name, arn: groupArn, properties: props })
  return { physicalId: name, attributes: { Arn: groupArn } }
}

// ---------------------------------------------------------------- DynamoDB

/** A stored DynamoDB table: its definition only (the sandbox serves no DynamoDB API). */
export interface TableRecord {
  readonly name: string
  readonly arn: string
  readonly properties: Readonly<Record<string, unknown>>
}

const TABLE_PROPS = [
  'TableName',
  'AttributeDefinitions',
  'KeySchema',
  'BillingMode',
  'ProvisionedThroughput',
  'GlobalSecondaryIndexes',
  'LocalSecondaryIndexes',
  'Tags',
  'TimeToLiveSpecification',
  'PointInTimeRecoverySpecification',
]

/**
 * The CreateTable checks a template meets first (dynamodb API_CreateTable.html): every key
 * attribute defined in AttributeDefinitions, and ProvisionedThroughput exactly when BillingMode
 * is PROVISIONED (the default).
 */
function checkTable(props: Readonly<Record<string, unknown>>): void {
  const defined = new Set(objs(props.AttributeDefinitions).map((a) => String(a.AttributeName)))
  const keys = [
    ...objs(props.KeySchema),
    ...objs(props.GlobalSecondaryIndexes).flatMap((i) => objs(i.KeySchema)),
    ...objs(props.LocalSecondaryIndexes).flatMap((i) => objs(i.KeySchema)),
  ].map((k) => String(k.AttributeName))
  const missing = keys.filter((k) => !defined.has(k))
  if (missing.length)
    throw new AwsError(
      'ValidationException',
      `One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [${missing.join(', ')}]`,
      400,
    )
  const provisioned = (str(props.BillingMode) ?? 'PROVISIONED') === 'PROVISIONED'
  if (provisioned && props.ProvisionedThroughput === undefined)
    throw new AwsError('ValidationException', 'No provisioned throughput specified for the table', 400)
  if (!provisioned && props.ProvisionedThroughput !== undefined)
    throw new AwsError(
      'ValidationException',
      'One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST',
      400,
    )
}

/**
 * AWS::DynamoDB::Table (stored, not served): Ref is the table name; GetAtt Arn
 * (aws-resource-dynamodb-table.html, "Return values"; StreamSpecification, hence StreamArn, is
 * not supported). Names: 3 to 255 of `[a-zA-Z0-9_.-]` (API_CreateTable.html).
 */
export const dynamodbTable: ResourceProvider = {
  type: 'AWS::DynamoDB::Table',
  nameProperty: 'TableName',
  async create(ctx, props) {
    onlyProps(this.type, props, TABLE_PROPS)
    const name = str(props.TableName) ?? ctx.physicalName({ maxLength: 255 })
    if (!/^[a-zA-Z0-9_.-]{3,255}$/.test(name))
      throw new AwsError('ValidationException', `Invalid table name: ${name}`, 400)
    checkTable(props)
    await authorizeCatalogued(ctx, this.type, 'create', props, name)
    if (ctx.local.get('dynamodb-table', name))
      throw new AwsError('ResourceInUseException', `Table already exists: ${name}`, 400)
    return putTable(ctx, name, props)
  },
  async update(ctx, current, props) {
    onlyProps(this.type, props, TABLE_PROPS)
    checkTable(props)
    await authorizeCatalogued(ctx, this.type, 'update', props, current.physicalId)
    return putTable(ctx, current.physicalId, props)
  },
  async delete(ctx, current) {
    await authorizeCatalogued(ctx, this.type, 'delete', current.properties, current.physicalId)
    ctx.local.delete('dynamodb-table', current.physicalId)
  },
}

function putTable(
  ctx: ProviderContext,
  name: string,
  props: Readonly<Record<string, unknown>>,
): ProvisionResult {
  const tableArn = arn(ctx, 'dynamodb', `table/${name}`)
  ctx.local.put<TableRecord>('dynamodb-table', name, { name, arn: tableArn, properties: props })
  return { physicalId: name, attributes: { Arn: tableArn } }
}

/** The account of a role ARN (for cross-account checks by callers). */
export function accountOf(roleArn: string): string | undefined {
  return parseArn(roleArn)?.account
}

/** Every local provider. */
export const LOCAL_PROVIDERS: readonly ResourceProvider[] = [
  dynamodbTable,
  eventsRule,
  logsLogGroup,
  lambdaFunction,
  snsTopic,
  sqsQueue,
  ssmParameter,
  waitConditionHandle,
]
