/**
 * Option tables shared by several commands. Kept apart from the commands' implementations so that
 * `crosspipe --help` and light commands do not load the AWS SDK or the sandbox.
 */
import type { OptionSpec } from './args.js'

/** The default sandbox state directory, relative to the working directory. */
export const DEFAULT_SANDBOX_STATE = '.crosspipe/sandbox'

/** Options of every command that reads a definition or manifest and talks to accounts. */
export const DEPLOY_INPUT_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  config: {
    type: 'string',
    short: 'c',
    value: 'FILE',
    description: 'The pipeline definition (default crosspipe.yml).',
  },
  manifest: {
    type: 'string',
    short: 'm',
    value: 'FILE',
    description: 'A manifest of templates instead of a definition.',
  },
  sandbox: { type: 'boolean', description: 'Use the sandbox running from --state.' },
  state: {
    type: 'string',
    value: 'DIR',
    description: 'Sandbox state directory.',
    default: DEFAULT_SANDBOX_STATE,
  },
  'profile-map': {
    type: 'string',
    value: 'KEY=PROFILE,…',
    description: 'AWS profile per account: keys are account ids, "ci", or stage names.',
  },
  'assume-role': {
    type: 'string',
    value: 'ROLE',
    description: 'Assume this role in every account (e.g. OrganizationAccountAccessRole).',
  },
  profile: { type: 'string', value: 'NAME', description: 'With --assume-role: the profile that assumes it.' },
  'endpoint-url': {
    type: 'string',
    value: 'URL',
    description: 'Send requests to this endpoint (also AWS_ENDPOINT_URL).',
  },
}
