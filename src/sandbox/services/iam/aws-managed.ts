/**
 * AWS managed policies the sandbox knows, with their documents exactly as the AWS Managed Policy
 * Reference shows them. They exist in every account as `arn:<partition>:iam::aws:policy/<name>`,
 * can be attached and read, and cannot be changed.
 */

/** An AWS managed policy. */
export interface AwsManagedPolicy {
  readonly name: string
  readonly description: string
  readonly versionId: string
  readonly created: string
  readonly updated: string
  readonly document: string
}

const policies: readonly AwsManagedPolicy[] = [
  {
    // https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AdministratorAccess.html
    name: 'AdministratorAccess',
    description: 'Provides full access to AWS services and resources.',
    versionId: 'v1',
    created: '2015-02-06T18:39:46Z',
    updated: '2015-02-06T18:39:46Z',
    document: JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
    }),
  },
  {
    // https://docs.aws.amazon.com/aws-managed-policy/latest/reference/PowerUserAccess.html (v12)
    name: 'PowerUserAccess',
    description:
      'Provides full access to AWS services and resources, but does not allow management of Users and groups.',
    versionId: 'v12',
    created: '2015-02-06T18:39:47Z',
    updated: '2026-02-12T17:59:00Z',
    document: JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', NotAction: ['iam:*', 'organizations:*', 'account:*'], Resource: '*' },
        {
          Effect: 'Allow',
          Action: [
            'account:GetAccountInformation',
            'account:GetGovCloudAccountInformation',
            'account:GetPrimaryEmail',
            'account:ListRegions',
            'iam:CreateServiceLinkedRole',
            'iam:DeleteServiceLinkedRole',
            'iam:ListRoles',
            'organizations:DescribeEffectivePolicy',
            'organizations:DescribeOrganization',
          ],
          Resource: '*',
        },
      ],
    }),
  },
]

/** Every AWS managed policy the sandbox knows, by name. */
export const AWS_MANAGED_POLICIES: ReadonlyMap<string, AwsManagedPolicy> = new Map(
  policies.map((p) => [p.name, p]),
)

/** The AWS managed policy an ARN names (`arn:<partition>:iam::aws:policy/<name>`), or undefined. */
export function awsManagedPolicy(arn: string): AwsManagedPolicy | undefined {
  const m = /^arn:[^:]+:iam::aws:policy\/(?:[^/]+\/)*([^/]+)$/.exec(arn)
  return m ? AWS_MANAGED_POLICIES.get(m[1]!) : undefined
}
