/** One line per rule id, for SARIF and help; RULES.md has the full text and an example each. */
import type { RuleId } from './types.js'

/** Short descriptions of the rules. */
export const RULE_DESCRIPTIONS: Readonly<Record<RuleId, string>> = {
  'call-denied': 'A call the pipeline makes when it runs is not allowed by IAM.',
  'artifact-key-not-arn':
    'The artifact store names its KMS key by id or alias, which other accounts resolve in themselves.',
  'artifact-key-default':
    'The artifact store uses the AWS managed aws/s3 key, which other accounts cannot use.',
  'codebuild-key-mismatch':
    "A CodeBuild project encrypts its output with another key than the artifact store's.",
  'passrole-cross-account':
    "A CloudFormation action's deployment role is in another account than the action role.",
  'principal-not-yet-created':
    'A resource or trust policy names a role that does not exist yet when the policy is created.',
  'output-not-yet-available': 'A stack takes an output of a stack that deploys in the same or a later phase.',
  'stage-action-limit': 'A stage has more than 50 actions.',
  'action-config-too-long': 'An action configuration value is longer than 1,000 characters.',
  'policy-too-large': 'A policy exceeds its IAM, KMS or S3 size limit.',
  'wildcard-cross-account':
    'A service wildcard is granted to another account or to a role another account can assume.',
  'sensitive-action-any-resource':
    'A sensitive action on Resource "*" for a role another account can assume.',
  'passrole-unrestricted': 'iam:PassRole of any role without iam:PassedToService.',
  'trust-unconditioned': 'A trust policy trusts a whole account without a condition.',
  'bucket-insecure-transport': 'A bucket accepts requests without TLS.',
  'bucket-unencrypted-uploads': 'A bucket accepts uploads not encrypted with KMS.',
  'key-rotation-off': 'A KMS key does not rotate.',
  'key-unused-principal': 'A key policy lets a role use the key that no pipeline action needs.',
  'managed-policy-unknown':
    'A role attaches a managed policy crosspipe does not know (assumed to grant nothing).',
  'action-not-catalogued': 'An action type whose calls crosspipe does not know; they were not checked.',
  'no-calls-derived':
    'No call was derived from the manifest: its pipeline was not found, so nothing was checked.',
  'duplicate-key': 'A template repeats a mapping key; CloudFormation keeps the last value.',
  'deploy-role-escalation':
    'The role CloudFormation deploys with may create roles, change their policies or pass any role: privilege escalation.',
  'admin-equivalent-role':
    'A role the pipeline or another account can assume is allowed every action on every resource.',
  'repository-read-any': 'A role another account can assume may read every source repository of its account.',
  'unknown-action': 'A policy names an action that the service does not have; it grants nothing.',
  'pipeline-stage-limit': 'A pipeline has fewer than 2 or more than 50 stages.',
  'template-too-large':
    'A template is over the 51,200-byte request limit (warning) or the 1 MB S3 limit (error).',
}
