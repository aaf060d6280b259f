/**
 * The command table `crosspipe` starts from: names and one-line summaries only, each command's
 * module loaded when that command runs. `crosspipe --version` or `synth` then loads neither the
 * AWS SDK nor the sandbox nor the other commands (issue 12: start-up). `index.ts` holds the same
 * commands loaded (for the CLI reference); test/cli checks the two agree.
 */
import type { Command } from '../command.js'

/** A command before its module is loaded. */
export interface CommandEntry {
  readonly name: string
  readonly summary: string
  load(): Promise<Command>
}

/** In the order `crosspipe --help` lists them. */
export const COMMAND_TABLE: readonly CommandEntry[] = [
  {
    name: 'init',
    summary: 'Write an example crosspipe.yml, application template and buildspec',
    load: async () => (await import('./init.js')).initCommand,
  },
  {
    name: 'synth',
    summary: 'Write one CloudFormation template per stack and manifest.json',
    load: async () => (await import('./synth.js')).synthCommand,
  },
  {
    name: 'check',
    summary: 'Prove offline that every cross-account call will be allowed, and flag excess privilege',
    load: async () => (await import('./check.js')).checkCommand,
  },
  {
    name: 'graph',
    summary: 'Draw the permission flow: accounts, roles, trust, grants and every call with its decision',
    load: async () => (await import('./graph.js')).graphCommand,
  },
  {
    name: 'deploy',
    summary: 'Deploy every stack into every account in the right order, by change sets',
    load: async () => (await import('./deploy.js')).deployCommand,
  },
  {
    name: 'destroy',
    summary: 'Delete the application stacks, then every stack in reverse order',
    load: async () => (await import('./deploy.js')).destroyCommand,
  },
  {
    name: 'sandbox',
    summary: 'Run a local multi-account AWS (STS, IAM, KMS, S3, …) that enforces IAM across accounts',
    load: async () => (await import('./sandbox.js')).sandboxCommand,
  },
  {
    name: 'run',
    summary: 'Start a pipeline execution and follow it until it ends or waits for approval',
    load: async () => (await import('./pipeline.js')).runCommand,
  },
  {
    name: 'status',
    summary: 'Show the latest (or a given) pipeline execution, action by action',
    load: async () => (await import('./pipeline.js')).statusCommand,
  },
  {
    name: 'approve',
    summary: 'Approve (or reject) the manual approval waiting in a stage',
    load: async () => (await import('./pipeline.js')).approveCommand,
  },
  {
    name: 'demo',
    summary: 'The whole system end to end in a local sandbox: deploy, build, dev, approve, prod',
    load: async () => (await import('./demo.js')).demoCommand,
  },
]
