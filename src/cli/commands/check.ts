import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { CheckResult } from '../../check/index.js'
import { CrosspipeError } from '../../model/errors.js'
import type { LimitReached } from '../../synth/index.js'
import type { Command } from '../command.js'
import { EXIT } from '../command.js'
import type { Terminal } from '../output.js'
import { style } from '../output.js'

/** The failures of a check: denied calls and error findings (warnings do not fail it). */
function failuresOf(result: CheckResult): CheckResult {
  return {
    ...result,
    calls: result.calls.filter((c) => c.decision !== 'Allowed'),
    findings: result.findings.filter((f) => f.severity === 'error'),
  }
}

/** One line per failure, for the list repeated at the end of a long report. */
function failureLines(t: Terminal, failed: CheckResult): string[] {
  const lines: string[] = []
  for (const c of failed.calls)
    lines.push(
      `  ${style(t, 'red', '✗')} ${c.stage} › ${c.action}: ${c.principal} ${c.operation} ${c.resource}`,
    )
  for (const f of failed.findings.filter((x) => x.rule !== 'call-denied'))
    lines.push(
      `  ${style(t, 'red', 'error')} ${f.rule} ${f.stack}/${f.logicalId}: ${f.message.split('\n')[0]}`,
    )
  return lines
}

/** The limits section: what AWS limit the definition reaches, and what crosspipe does about it. */
export function limitLines(t: Terminal, limits: readonly LimitReached[]): string[] {
  if (!limits.length) return []
  return [
    style(t, 'bold', 'AWS limits reached'),
    ...limits.flatMap((l) => [
      `  ${style(t, 'yellow', l.limit)} ${l.message}`,
      `    ${style(t, 'dim', `→ ${l.handling}`)}`,
    ]),
  ]
}

/** `crosspipe check`: prove every cross-account call is allowed, and nothing more. */
export const checkCommand: Command = {
  name: 'check',
  summary: 'Prove offline that every cross-account call will be allowed, and flag excess privilege',
  usage:
    'crosspipe check [-c crosspipe.yml | -m manifest.json | --cdk-out cdk.out [--bootstrap-trust ENV=ACCOUNTS]… [--bootstrap-template FILE]] [--app-template FILE]… [--failures] [--json | --sarif]',
  details: `With -c (the default), synthesizes the definition in memory and checks it. With -m, checks
hand-written templates listed in a manifest (see the README's manifest format). With --cdk-out,
checks the pipeline of a CDK Pipelines app from its cloud assembly, with the bootstrap roles of
every environment modelled from the bootstrap template (README, "Checking CDK Pipelines").
The report lists every call, then the findings, the AWS limits the definition reaches (and what
crosspipe does about each), and, when something failed, the failures again, one line each, before
the summary. --failures prints only the failures (denied calls and error findings) and the summary.
Exit code 0 when every call is allowed and there is no error finding, 1 otherwise, 2 for bad input.`,
  options: {
    config: { type: 'string', short: 'c', value: 'FILE', description: 'The pipeline definition.' },
    manifest: {
      type: 'string',
      short: 'm',
      value: 'FILE',
      description: 'A manifest of hand-written templates.',
    },
    failures: {
      type: 'boolean',
      description: 'Only the failures: denied calls and error findings, with their fixes.',
    },
    sarif: { type: 'boolean', description: 'Print SARIF 2.1.0 for code-scanning tools.' },
    'app-template': {
      type: 'string',
      value: 'FILE',
      multiple: true,
      description:
        'An application template: check the calls CloudFormation makes as the deployment role for each of its resources (fromTemplate stages are found by the definition).',
    },
    'cdk-out': {
      type: 'string',
      value: 'DIR',
      description: 'A CDK cloud assembly (the output of `cdk synth`).',
    },
    'bootstrap-trust': {
      type: 'string',
      multiple: true,
      value: 'ENV=ACCOUNTS',
      description:
        'With --cdk-out: the accounts ENV (ACCOUNT or ACCOUNT/REGION) was bootstrapped to trust (--trust), comma-separated, empty for none. Default: the pipeline account.',
    },
    'bootstrap-template': {
      type: 'string',
      value: 'FILE',
      description:
        'With --cdk-out: the customised bootstrap template the environments were bootstrapped with.',
    },
  },
  maxPositionals: 0,
  async run({ args, term, cwd }) {
    if (args.values.config && args.values.manifest) {
      throw new CrosspipeError(
        'usage',
        'crosspipe check: give either -c (a definition) or -m (a manifest), not both.',
      )
    }
    if (args.values.json && args.values.sarif) {
      throw new CrosspipeError(
        'usage',
        'crosspipe check: --json and --sarif are two formats of the same result; give one of them.',
      )
    }
    const { checkManifestFile, checkPipeline, renderCheck, toSarif } = await import('../../check/index.js')
    const { parseTemplate } = await import('../../model/cfn-yaml.js')
    const appTemplates = await Promise.all(
      ((args.values['app-template'] as string[] | undefined) ?? []).map(async (f) => {
        const file = resolve(cwd, f)
        const text = await readFile(file, 'utf8').catch(() => {
          throw new CrosspipeError('file-not-found', `--app-template ${f}: ${file} does not exist`)
        })
        return { file: f, body: parseTemplate(text, f).body }
      }),
    )
    if (args.values['cdk-out'] && (args.values.config || args.values.manifest))
      throw new CrosspipeError('usage', 'crosspipe check: give one of -c, -m or --cdk-out.')
    let limits: LimitReached[] = []
    let result: CheckResult
    if (args.values['cdk-out']) {
      result = await (await import('../../check/cdk/cli.js')).checkCdkOut(cwd, args.values)
    } else if (args.values.manifest) {
      result = await checkManifestFile(resolve(cwd, args.values.manifest as string), appTemplates)
    } else {
      const { loadPipeline } = await import('../../model/index.js')
      const { synthesize, limitsReached } = await import('../../synth/index.js')
      const pipeline = await loadPipeline(
        resolve(cwd, (args.values.config as string | undefined) ?? 'crosspipe.yml'),
      )
      // One synthesis for both the check and the limits report.
      const out = synthesize(pipeline)
      result = checkPipeline(pipeline, appTemplates, out)
      limits = limitsReached(pipeline, out)
    }
    const failed = failuresOf(result)
    if (args.values.sarif) term.out(JSON.stringify(toSarif(result), null, 2) + '\n')
    else if (args.values.json)
      term.out(
        JSON.stringify(args.values.failures ? { ...failed, limits } : { ...result, limits }, null, 2) + '\n',
      )
    else {
      const full = renderCheck(result, { color: term.color }).replace(/\n$/, '').split('\n')
      const summary = full.pop()!
      const body = args.values.failures
        ? failed.calls.length || failed.findings.length
          ? renderCheck(failed, { color: term.color }).replace(/\n$/, '').split('\n').slice(0, -2)
          : []
        : full.slice(0, full.at(-1) === '' ? -1 : undefined)
      const lines = [...body]
      const limitSection = limitLines(term, limits)
      if (limitSection.length && !args.values.failures) lines.push('', ...limitSection)
      const count = failed.calls.length + failed.findings.filter((f) => f.rule !== 'call-denied').length
      if (count && !args.values.failures)
        lines.push('', style(term, 'bold', `Failures (${count}), as above:`), ...failureLines(term, failed))
      lines.push('', summary)
      term.out(lines.join('\n').replace(/^\n+/, '') + '\n')
    }
    return result.ok ? EXIT.ok : EXIT.failed
  },
}
