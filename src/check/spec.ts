/**
 * The attributes of every CloudFormation resource type (`Fn::GetAtt` names and their shapes), from
 * the resource specification that `@aws-cdk/aws-service-spec` packages (the registry schemas AWS
 * publishes). `check` uses it for resource types it has no case for, so that a `Fn::GetAtt`
 * CloudFormation accepts is never refused and a list attribute resolves to a list.
 *
 * The database takes seconds to load, which most checks never need: it is read only when a
 * template asks for an attribute `check` does not know, and the attribute table derived from it is
 * kept in the system's temporary directory, per version of the specification package, so the next
 * run reads a small JSON file instead.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** The shape of an attribute's value. */
export type AttributeShape = 'string' | 'list' | 'other'

/** Resource type → attribute name → shape. */
type AttributeTable = Record<string, Record<string, AttributeShape>>

let table: AttributeTable | undefined

interface RawAttrType {
  readonly type: string
}

function load(): AttributeTable {
  if (table) return table
  const require = createRequire(import.meta.url)
  const pkg = require('@aws-cdk/aws-service-spec/package.json') as { version: string }
  const dir = join(tmpdir(), 'crosspipe-cache')
  const file = join(dir, `cfn-attributes-${pkg.version}.json`)
  try {
    table = JSON.parse(readFileSync(file, 'utf8')) as AttributeTable
    return table
  } catch {
    // not cached yet (or unreadable): build it from the database below
  }
  const spec = require('@aws-cdk/aws-service-spec') as {
    loadAwsServiceSpecSync(): {
      all(kind: 'resource'): Iterable<{
        cloudFormationType: string
        attributes: Record<string, { type: RawAttrType }>
      }>
    }
  }
  const db = spec.loadAwsServiceSpecSync()
  const t: AttributeTable = {}
  for (const r of db.all('resource')) {
    const attrs: Record<string, AttributeShape> = {}
    for (const [name, a] of Object.entries(r.attributes))
      attrs[name] = a.type.type === 'string' ? 'string' : a.type.type === 'array' ? 'list' : 'other'
    t[r.cloudFormationType] = attrs
  }
  table = t
  try {
    mkdirSync(dir, { recursive: true })
    const tmp = `${file}.${process.pid}.tmp`
    writeFileSync(tmp, JSON.stringify(t))
    renameSync(tmp, file)
  } catch {
    // a cache that cannot be written only costs the next run the load again
  }
  return t
}

/**
 * The attributes of a resource type, or undefined when the specification has no such type (a
 * custom resource, `Custom::…` or `AWS::CloudFormation::CustomResource`, whose attributes are
 * whatever its provider returns, or a third-party registry type).
 */
export function resourceAttributes(type: string): Readonly<Record<string, AttributeShape>> | undefined {
  return load()[samGenerated(type)]
}

/** The type of the resource a SAM resource type becomes (see SAM_GENERATED); any other type itself. */
export function samGenerated(type: string): string {
  return SAM_GENERATED[type] ?? type
}

/**
 * The resource an AWS SAM resource becomes under `Transform: AWS::Serverless-2016-10-31`, with the
 * same logical id, whose attributes `Fn::GetAtt` of the SAM resource returns (AWS SAM Developer
 * Guide, "Generated AWS CloudFormation resources": "the referenceable properties … of the
 * generated resource", e.g. `!GetAtt MyFunction.Arn`,
 * https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-specification-generated-resources.html).
 */
const SAM_GENERATED: Readonly<Record<string, string>> = {
  'AWS::Serverless::Function': 'AWS::Lambda::Function',
  'AWS::Serverless::Api': 'AWS::ApiGateway::RestApi',
  'AWS::Serverless::HttpApi': 'AWS::ApiGatewayV2::Api',
  'AWS::Serverless::SimpleTable': 'AWS::DynamoDB::Table',
  'AWS::Serverless::StateMachine': 'AWS::StepFunctions::StateMachine',
  'AWS::Serverless::LayerVersion': 'AWS::Lambda::LayerVersion',
  'AWS::Serverless::Application': 'AWS::CloudFormation::Stack',
  'AWS::Serverless::GraphQLApi': 'AWS::AppSync::GraphQLApi',
}
