// An engine over the in-memory store, with the local providers (SNS, SQS, SSM, EventBridge,
// WaitConditionHandle) and a fake identity whose denials are listed per test. SSM parameters,
// which the SSM provider and SSM template parameters reach through the SSM API, are kept by a
// minimal Parameter Store in the store's local resources (`ssm-parameter`, by name), which the
// cases read and seed; the real service is tested in test/sandbox/ssm.test.ts.
import { AwsError } from '../../../src/sandbox/errors.js'
import { CloudFormationEngine, type OpContext } from '../../../src/sandbox/services/cloudformation/engine.js'
import { LOCAL_PROVIDERS } from '../../../src/sandbox/services/cloudformation/providers/local.js'
import { ProviderRegistry, type AwsCalls } from '../../../src/sandbox/cfn-providers.js'
import { MemoryCfnStore, type CfnStore } from '../../../src/sandbox/services/cloudformation/store.js'

export const ACCOUNT = '123456789012'
export const REGION = 'eu-west-1'
export const PRINCIPAL = `arn:aws:iam::${ACCOUNT}:user/deployer`

export interface Harness {
  engine: CloudFormationEngine
  store: CfnStore
  op: OpContext
  /** Actions the deploying identity is denied (changeable between steps). */
  deny: Set<string>
  /** The registry the engine uses: tests may register fake providers. */
  providers: ProviderRegistry
}

/** `store`: the in-memory store unless given (the SQL store, to test what it keeps). */
export function harness(opts: { readonly store?: CfnStore } = {}): Harness {
  const store = opts.store ?? new MemoryCfnStore()
  const deny = new Set<string>()
  const providers = new ProviderRegistry()
  for (const p of LOCAL_PROVIDERS) providers.register(p)
  const denied = (principal: string, action: string, resource: string): AwsError =>
    new AwsError(
      'AccessDenied',
      `User: ${principal} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`,
      403,
    )
  const local = store.local({ account: ACCOUNT, region: REGION })
  type Param = { name: string; type: string; value: string; version: number }
  const ssm = (principal: string, action: string, input: Readonly<Record<string, unknown>>): unknown => {
    const names = (input.Names as string[] | undefined) ?? [String(input.Name ?? input.ResourceId)]
    for (const n of names) {
      const arn = `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/${n.replace(/^\//, '')}`
      if (deny.has(`ssm:${action}`)) throw denied(principal, `ssm:${action}`, arn)
    }
    const name = names[0]!
    const prev = local.get<Param>('ssm-parameter', name)
    switch (action) {
      case 'PutParameter':
        if (prev && input.Overwrite !== true)
          throw new AwsError('ParameterAlreadyExists', 'The parameter already exists.', 400)
        local.put<Param>('ssm-parameter', name, {
          name,
          type: String(input.Type),
          value: String(input.Value),
          version: (prev?.version ?? 0) + 1,
        })
        return { Version: (prev?.version ?? 0) + 1 }
      case 'GetParameters':
        return { Parameters: prev ? [{ Name: name, Value: prev.value }] : [] }
      case 'DeleteParameter':
        if (!local.delete('ssm-parameter', name))
          throw new AwsError('ParameterNotFound', `Parameter ${name} not found.`, 400)
        return {}
      case 'AddTagsToResource':
      case 'RemoveTagsFromResource':
        return {}
      default:
        throw new Error(`no SSM ${action} in the engine corpus`)
    }
  }
  const calls = (principal: string): AwsCalls => ({
    principal,
    query: () => Promise.reject(new Error('no IAM in the engine corpus')),
    json: (service, action, input) =>
      service === 'ssm'
        ? Promise.resolve().then(() => ssm(principal, action, input))
        : Promise.reject(new Error(`no ${service} in the engine corpus`)),
    rest: () => Promise.reject(new Error('no S3 in the engine corpus')),
    authorize: (action, resource) =>
      deny.has(action) ? Promise.reject(denied(principal, action, resource)) : Promise.resolve(),
  })
  const engine = new CloudFormationEngine({
    store,
    providers,
    host: {
      deployer: ({ caller, roleArn }) => {
        if (roleArn?.endsWith(':role/not-passable')) {
          return Promise.reject(
            new AwsError(
              'AccessDenied',
              `User: ${caller.principal} is not authorized to perform: iam:PassRole on resource: ${roleArn}`,
              403,
            ),
          )
        }
        return Promise.resolve(
          calls(
            roleArn
              ? roleArn.replace(':iam::', ':sts::').replace(':role/', ':assumed-role/') + '/AWSCloudFormation'
              : caller.principal,
          ),
        )
      },
      readTemplateUrl: () =>
        Promise.reject(new AwsError('ValidationError', 'TemplateURL must be a supported URL.', 400)),
    },
  })
  const op: OpContext = {
    scope: { account: ACCOUNT, region: REGION },
    partition: 'aws',
    caller: { principal: PRINCIPAL, account: ACCOUNT, partition: 'aws' },
  }
  return { engine, store, op, deny, providers }
}
