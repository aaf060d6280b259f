/**
 * `manifest.json`: the deployable description of a set of stacks across accounts. synth writes
 * it; check and deploy read it, including hand-written ones (a user's existing setup).
 *
 * Values cross accounts only as parameters (CloudFormation cannot reference another account's
 * stack), so a parameter is either a literal or a reference to another stack's output.
 */
import { z } from 'zod'

/** A stack parameter: a literal, or another stack's output (how values cross accounts). */
export const ParameterValue = z.union([
  z.string(),
  z.strictObject({
    fromStack: z.string().min(1).describe('The name of another stack in this manifest.'),
    output: z.string().min(1).describe('The output of that stack whose value is passed.'),
  }),
])

/** One stack: where it deploys, when (phase), and with which capabilities and parameters. */
export const ManifestStack = z.strictObject({
  name: z.string().min(1).describe('The CloudFormation stack name.'),
  template: z.string().min(1).describe('The template file, relative to the manifest.'),
  account: z.string().regex(/^\d{12}$/, 'an AWS account id is exactly 12 digits, as a quoted string'),
  region: z.string().min(1),
  phase: z
    .number()
    .int()
    .min(1)
    .describe('Deploy phase: every stack of phase N deploys after all of phase N-1.'),
  capabilities: z
    .array(z.enum(['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM', 'CAPABILITY_AUTO_EXPAND']))
    .default([]),
  parameters: z.record(z.string(), ParameterValue).default({}),
  tags: z.record(z.string(), z.string()).optional(),
  description: z.string().optional().describe('What this stack is for (informational).'),
  upload: z
    .boolean()
    .optional()
    .describe(
      'The template is over the 51,200-byte TemplateBody limit: deploy must upload it to S3 and pass TemplateURL (up to 1 MB).',
    ),
})

/** `manifest.json`. */
export const Manifest = z.strictObject({
  $schema: z.string().optional(),
  version: z.literal(1),
  pipeline: z.string().min(1).describe('The pipeline name (informational for hand-written setups).'),
  stacks: z.array(ManifestStack).min(1),
})

/** A parameter value of a manifest stack. */
export type ManifestParameterValue = z.output<typeof ParameterValue>
/** A stack entry of the manifest. */
export type ManifestStackEntry = z.output<typeof ManifestStack>
/** The whole manifest, defaults applied. */
export type ManifestDocument = z.output<typeof Manifest>
