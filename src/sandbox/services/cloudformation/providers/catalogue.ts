/**
 * The resource call catalogue (src/iam/resource-calls.ts), enforced: before a provider creates,
 * updates or deletes a resource it authorizes, in order, every call the catalogue says
 * CloudFormation makes as the deployment role for it, so the sandbox denies exactly where
 * `crosspipe check` reports a missing permission, naming the same action and resource.
 */
import { resourceCalls } from '../../../../iam/resource-calls.js'
import type { ResourceOperation } from '../../../../iam/resource-calls.js'
import type { ProviderContext } from '../../../cfn-providers.js'

/** Authorizes the catalogue's calls of one handler as the stack's identity; throws AccessDenied. */
export async function authorizeCatalogued(
  ctx: ProviderContext,
  type: string,
  op: ResourceOperation,
  props: Readonly<Record<string, unknown>>,
  name: string,
): Promise<void> {
  const env = {
    partition: ctx.partition,
    account: ctx.account,
    region: ctx.region,
    stackName: ctx.stackName,
    logicalId: ctx.logicalId,
  }
  for (const c of resourceCalls(type, op, props, env, name) ?? []) {
    // Reading an object (Lambda code) is authorized by the read itself, which the provider makes
    // through S3 as this identity: S3 knows the bucket's owner, its policy and its key.
    if (c.action === 's3:GetObject') continue
    // KMS calls are authorized by KMS itself, with the key policy that IAM policies need
    // (kms/latest/developerguide/control-access.html), when the provider makes them; a key's
    // ARN is not known before CreateKey.
    if (c.action.startsWith('kms:')) continue
    // Other S3 calls act on buckets the stack creates in its own account; S3 ARNs carry no account.
    await ctx.aws.authorize(
      c.action,
      c.resource,
      c.context,
      c.resource.startsWith(`arn:${ctx.partition}:s3:`) ? ctx.account : undefined,
    )
  }
}
