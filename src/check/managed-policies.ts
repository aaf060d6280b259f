/**
 * The AWS managed policies that pipelines commonly attach, built in so their grants can be
 * evaluated offline. Any other AWS managed policy is assumed to grant nothing, with a
 * `managed-policy-unknown` warning that says so.
 *
 * Documents as published in the AWS Managed Policy Reference Guide:
 * https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AdministratorAccess.html
 * https://docs.aws.amazon.com/aws-managed-policy/latest/reference/PowerUserAccess.html
 * https://docs.aws.amazon.com/aws-managed-policy/latest/reference/ReadOnlyAccess.html (not built in: too large to be exact)
 * https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSCloudFormationReadOnlyAccess.html
 *   (the CDK bootstrap deploy role attaches it; the actions every published version grants)
 */
import type { PolicyDocument } from '../iam/types.js'

/** Policy name (the part after `policy/`) → document. */
export const AWS_MANAGED_POLICIES: Readonly<Record<string, PolicyDocument>> = {
  AWSCloudFormationReadOnlyAccess: {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: [
          'cloudformation:Describe*',
          'cloudformation:BatchDescribe*',
          'cloudformation:EstimateTemplateCost',
          'cloudformation:Get*',
          'cloudformation:List*',
          'cloudformation:ValidateTemplate',
          'cloudformation:Detect*',
        ],
        Resource: '*',
      },
    ],
  },
  AdministratorAccess: {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
  },
  PowerUserAccess: {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', NotAction: ['iam:*', 'organizations:*', 'account:*'], Resource: '*' },
      {
        Effect: 'Allow',
        Action: [
          'account:GetAccountInformation',
          'account:GetPrimaryEmail',
          'account:ListRegions',
          'iam:CreateServiceLinkedRole',
          'iam:DeleteServiceLinkedRole',
          'iam:ListRoles',
          'organizations:DescribeOrganization',
        ],
        Resource: '*',
      },
    ],
  },
}
