/**
 * The option values of `crosspipe check --cdk-out` turned into a check: kept here so the CLI
 * command only forwards its arguments.
 */
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { CrosspipeError } from '../../model/errors.js'
import type { CheckResult } from '../types.js'
import type { CheckInput } from '../index.js'
import { cdkCheckInput, checkCdkSetup, readCloudAssembly } from './index.js'
import type { CdkBootstrapOptions } from './index.js'

/** Parses `--bootstrap-trust ENV=ACCOUNTS` values into the trust map of {@link CdkBootstrapOptions}. */
export function parseBootstrapTrust(values: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const v of values) {
    const m = /^(\d{12})(?:\/([a-z0-9-]+))?=(.*)$/.exec(v)
    if (!m)
      throw new CrosspipeError(
        'usage',
        `--bootstrap-trust ${v}: expected ACCOUNT=ACCOUNTS or ACCOUNT/REGION=ACCOUNTS, e.g. 222222222222=111111111111 (or 222222222222= for an environment bootstrapped without --trust)`,
      )
    const accounts = m[3]!.split(',').filter(Boolean)
    for (const a of accounts)
      if (!/^\d{12}$/.test(a))
        throw new CrosspipeError(
          'usage',
          `--bootstrap-trust ${v}: "${a}" is not an AWS account id (12 digits)`,
        )
    out.set(m[2] ? `${m[1]}/${m[2]}` : m[1]!, accounts)
  }
  return out
}

/** Runs `check --cdk-out` from the command's option values. */
export async function checkCdkOut(
  cwd: string,
  values: Readonly<Record<string, string | boolean | string[] | undefined>>,
): Promise<CheckResult> {
  return (await cdkSetupOf(cwd, values)).result
}

/** The check input `--cdk-out` builds and its result (what `graph --cdk-out` draws). */
export async function cdkSetupOf(
  cwd: string,
  values: Readonly<Record<string, string | boolean | string[] | undefined>>,
): Promise<{ input: CheckInput; result: CheckResult }> {
  const dir = resolve(cwd, String(values['cdk-out']))
  const trustValues = values['bootstrap-trust']
  const bootstrap: { -readonly [K in keyof CdkBootstrapOptions]: CdkBootstrapOptions[K] } = {}
  if (Array.isArray(trustValues) && trustValues.length) bootstrap.trust = parseBootstrapTrust(trustValues)
  const t = values['bootstrap-template']
  if (typeof t === 'string') {
    const file = resolve(cwd, t)
    try {
      bootstrap.template = { file: t, text: await readFile(file, 'utf8') }
    } catch {
      throw new CrosspipeError('file-not-found', `--bootstrap-template: ${file} does not exist`, [
        { location: { file }, message: `no such file: ${file}` },
      ])
    }
  }
  const assembly = readCloudAssembly(dir)
  return {
    input: cdkCheckInput({ assembly, bootstrap }).input,
    result: checkCdkSetup({ assembly, bootstrap }),
  }
}
