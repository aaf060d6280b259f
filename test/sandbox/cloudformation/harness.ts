// An engine over the in-memory store, with the local providers (SNS, SQS, SSM, EventBridge,
// WaitConditionHandle) and a fake identity whose denials are listed per test.
import { AwsError } from '../../../src/sandbox/gateway/errors.js'
import { CloudFormationEngine, type OpContext } from '../../../src/sandbox/services/cloudformation/engine.js'
import { LOCAL_PROVIDERS } from '../../../src/sandbox/services/cloudformation/providers/local.js'
import {
  ProviderRegistry,
  type AwsCalls,
} from '../../../src/sandbox/services/cloudformation/providers/types.js'
import { MemoryCfnStore } from '../../../src/sandbox/services/cloudformation/store.js'

export const ACCOUNT = '123456789012'
export const REGION = 'eu-west-1'
export const PRINCIPAL = `arn:aws:iam::${ACCOUNT}:user/deployer`

export interface Harness {
  engine: CloudFormationEngine
  store: MemoryCfnStore
  op: OpContext
  /** Actions the deploying identity is denied (changeable between steps). */
  deny: Set<string>
  /** The registry the engine uses: tests may register fake providers. */
  providers: ProviderRegistry
}

export function harness(): Harness {
  const store = new MemoryCfnStore()
  const deny = new Set<string>()
  const providers = new ProviderRegistry()
  for (const p of LOCAL_PROVIDERS) providers.register(p)
  const calls = (principal: string): AwsCalls => ({
    principal,
    query: () => Promise.reject(new Error('no IAM in the engine corpus')),
    json: () => Promise.reject(new Error('no KMS in the engine corpus')),
    rest: () => Promise.reject(new Error('no S3 in the engine corpus')),
    authorize: (action, resource) =>
      deny.has(action)
        ? Promise.reject(
            new AwsError(
              'AccessDenied',
              `User: ${principal} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`,
              403,
            ),
          )
        : Promise.resolve(),
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
