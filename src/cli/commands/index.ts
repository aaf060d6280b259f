/** The command table, in the order `crosspipe --help` lists them. */
import type { Command } from '../command.js'
import { checkCommand } from './check.js'
import { initCommand } from './init.js'
import { synthCommand } from './synth.js'
import { sandboxCommand } from './sandbox.js'
import { deployCommand, destroyCommand } from './deploy.js'
import { approveCommand, runCommand, statusCommand } from './pipeline.js'
import { demoCommand } from './demo.js'
import { graphCommand } from './graph.js'

export const COMMANDS: readonly Command[] = [
  initCommand,
  synthCommand,
  checkCommand,
  graphCommand,
  deployCommand,
  destroyCommand,
  sandboxCommand,
  runCommand,
  statusCommand,
  approveCommand,
  demoCommand,
]
