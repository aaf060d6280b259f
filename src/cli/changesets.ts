/**
 * Rendering of prepared change sets (`approval: { review: true }`) for `crosspipe approve` and
 * `crosspipe status`: every target, resource by resource, with replacements and changes to
 * permissions or security groups called out.
 */
import type { AccountAccess } from '../aws/index.js'
import type { StageReview } from '../deploy/index.js'
import type { ResolvedPipeline } from '../model/index.js'
import type { CommandContext } from './command.js'
import type { Terminal } from './output.js'
import { style } from './output.js'

const SIGN: Readonly<Record<string, string>> = {
  Add: '+',
  Modify: '~',
  Remove: '-',
  Import: '<',
  Dynamic: '?',
}

/** Prints every prepared change set of a stage. */
export function printReview(t: Terminal, r: StageReview): void {
  t.out(`change sets ${r.changeSet} of stage ${r.stage}:\n`)
  for (const target of r.targets) {
    const head = `  ${target.account} ${target.region} stack ${target.stack}`
    const isNew = target.stackStatus === 'REVIEW_IN_PROGRESS' ? ' (new stack)' : ''
    if (target.status === 'empty') {
      t.out(`${head}${isNew}: ${style(t, 'dim', 'no changes')}\n`)
      continue
    }
    if (target.status !== 'ready') {
      const why =
        target.status === 'missing'
          ? 'no change set prepared (the prepare action has not run, or it failed)'
          : target.status === 'pending'
            ? 'change set still being created'
            : `change set failed: ${target.statusReason ?? 'no reason given'}`
      t.out(`${head}${isNew}: ${style(t, target.status === 'failed' ? 'red' : 'yellow', why)}\n`)
      continue
    }
    const c = target.counts
    const counts = [
      `${c.add} to add`,
      `${c.modify} to modify${c.replace ? ` (${c.replace} replaced)` : ''}`,
      `${c.remove} to remove`,
    ].join(', ')
    t.out(`${head}${isNew}: ${counts}\n`)
    for (const ch of target.changes) {
      const colour = ch.action === 'Add' ? 'green' : ch.action === 'Remove' ? 'red' : 'yellow'
      const replacement =
        ch.action === 'Modify' && ch.replacement === 'True'
          ? style(t, 'red', ' REPLACEMENT')
          : ch.action === 'Modify' && ch.replacement === 'Conditional'
            ? style(t, 'yellow', ' may be replaced')
            : ''
      const attention =
        ch.attention === 'iam'
          ? style(t, 'bold', ' [IAM]')
          : ch.attention === 'network'
            ? style(t, 'bold', ' [security group]')
            : ''
      const physical = ch.physicalId ? style(t, 'dim', ` ${ch.physicalId}`) : ''
      t.out(
        `    ${style(t, colour, `${SIGN[ch.action] ?? '?'} ${ch.action.padEnd(6)}`)} ${ch.logicalId} ${style(t, 'dim', ch.resourceType)}${physical}${replacement}${attention}\n`,
      )
      for (const p of ch.properties) {
        const rec =
          p.requiresRecreation === 'Always'
            ? ' (requires replacement)'
            : p.requiresRecreation === 'Conditionally'
              ? ' (may require replacement)'
              : ''
        const dyn = p.evaluation === 'Dynamic' ? ' (value known when deployed)' : ''
        const cause = p.causingEntity ? ` ← ${p.causingEntity}` : ''
        t.out(`        ${p.name}${rec}${dyn}${cause}\n`)
      }
    }
  }
  if (r.nothingToReview) t.out(`  nothing to review: no target has changes\n`)
}

/**
 * The review of a stage when the definition says it reviews change sets (and prints it unless
 * `--json`); undefined otherwise. Without the definition crosspipe cannot know the targets.
 */
export async function reviewIfAny(
  ctx: CommandContext,
  access: AccountAccess,
  definition: ResolvedPipeline | undefined,
  stage: string,
  required: boolean,
  print = true,
): Promise<StageReview | undefined> {
  const s = definition?.stages.find((x) => x.name === stage)
  if (!definition || !s || typeof s.approval !== 'object' || s.approval.review !== true) return undefined
  const { reviewStage } = await import('../deploy/index.js')
  const r = await reviewStage({ access, pipeline: definition, stage })
  if (print && !ctx.args.values.json) printReview(ctx.term, r)
  if (required && r.targets.some((t) => t.status === 'pending'))
    ctx.term.err('warning: a change set is still being created; the approval cannot be waiting yet\n')
  return r
}

/**
 * Asks on an interactive terminal whether to go on; scripts (no TTY on stdin) and `--yes` go on
 * without asking, since they named the decision on the command line.
 */
export async function confirmApproval(ctx: CommandContext, reject: boolean): Promise<boolean> {
  if (ctx.args.values.yes || !process.stdin.isTTY) return true
  const { createInterface } = await import('node:readline/promises')
  const rl = createInterface({ input: process.stdin, output: process.stderr })
  try {
    const a = await rl.question(`${reject ? 'Reject' : 'Approve'} these changes? [y/N] `)
    return /^y(es)?$/i.test(a.trim())
  } finally {
    rl.close()
  }
}
