/**
 * What deploy-like commands take as input: a definition (synthesized in memory) or a manifest of
 * templates on disk, and how to reach each account.
 */
import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { assumeRoleAccess, profileAccess, sandboxAccess } from '../aws/index.js'
import type { AccountAccess } from '../aws/index.js'
import { parseTemplate } from '../model/cfn-yaml.js'
import { CrosspipeError } from '../model/errors.js'
import { loadPipeline } from '../model/index.js'
import type { ResolvedPipeline } from '../model/index.js'
import { readSandboxState } from '../sandbox/index.js'
import { synthesize } from '../synth/index.js'
import { Manifest } from '../synth/manifest.js'
import type { ManifestDocument } from '../synth/manifest.js'
import type { ParsedArgs } from './args.js'

/** A manifest and the text of every template it names. */
export interface DeployInput {
  readonly manifest: ManifestDocument
  readonly templates: Readonly<Record<string, string>>
  readonly file: string
  /** The definition, when the input was one (for profiles and names). */
  readonly pipeline?: ResolvedPipeline
}

/** Reads `-c` (synthesized in memory) or `-m` (manifest and templates from disk). */
export async function readDeployInput(command: string, args: ParsedArgs, cwd: string): Promise<DeployInput> {
  if (args.values.config && args.values.manifest) {
    throw new CrosspipeError(
      'usage',
      `crosspipe ${command}: give either -c (a definition) or -m (a manifest), not both.`,
    )
  }
  if (args.values.manifest) return readManifestFile(resolve(cwd, args.values.manifest as string))
  const file = resolve(cwd, (args.values.config as string | undefined) ?? 'crosspipe.yml')
  const pipeline = await loadPipeline(file)
  const out = synthesize(pipeline)
  const templates: Record<string, string> = {}
  for (const t of out.templates) templates[t.file] = out.files[t.file] ?? ''
  return { manifest: out.manifest, templates, file, pipeline }
}

async function readText(
  file: string,
  from?: { manifest: string; path: string; line?: number; column?: number },
): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
    throw new CrosspipeError('file-not-found', `${file} does not exist`, [
      {
        location: from
          ? { file: from.manifest, line: from.line, column: from.column, path: from.path }
          : { file },
        message: `no such file: ${file}${from ? '' : ' (run crosspipe synth, or give the manifest with -m)'}`,
      },
    ])
  }
}

/** Reads and validates a manifest and the templates it lists (paths relative to the manifest). */
export async function readManifestFile(path: string): Promise<DeployInput> {
  const doc = parseTemplate(await readText(path), path)
  const parsed = Manifest.safeParse(doc.body)
  if (!parsed.success) {
    throw new CrosspipeError(
      'invalid-manifest',
      `${path}: not a valid crosspipe manifest`,
      parsed.error.issues.map((i) => ({
        location: {
          file: path,
          ...doc.locate(i.path as (string | number)[]),
          path: i.path.map(String).join('.'),
        },
        message: i.message,
      })),
    )
  }
  const templates: Record<string, string> = {}
  for (const [i, s] of parsed.data.stacks.entries()) {
    if (s.template in templates) continue
    templates[s.template] = await readText(resolve(dirname(path), s.template), {
      manifest: path,
      path: `stacks[${i}].template`,
      ...doc.locate(['stacks', i, 'template']),
    })
  }
  return { manifest: parsed.data, templates, file: path }
}

/** Parses `KEY=VALUE,…`. */
function parseMap(option: string, value: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const part of value.split(',').filter(Boolean)) {
    const eq = part.indexOf('=')
    if (eq <= 0 || eq === part.length - 1) {
      throw new CrosspipeError(
        'usage',
        `--${option}: "${part}" is not KEY=PROFILE (for example ci=tools,dev=dev-admin).`,
      )
    }
    out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim()
  }
  return out
}

/**
 * Resolves names in a profile map to account ids: an account id stays; `ci` is the CI account;
 * a stage name stands for that stage's target accounts.
 */
function profilesByAccount(
  map: Readonly<Record<string, string>>,
  input: AccountsInput,
): Record<string, string> {
  const out: Record<string, string> = {}
  const accounts = new Set(input.accounts)
  for (const [key, profile] of Object.entries(map)) {
    if (/^\d{12}$/.test(key)) out[key] = profile
    else if (key === 'ci' && input.pipeline) out[input.pipeline.ci.account] = profile
    else {
      const stage = input.pipeline?.stages.find((s) => s.name === key)
      if (!stage) {
        throw new CrosspipeError(
          'usage',
          `profile map key "${key}" is neither a 12-digit account id${input.pipeline ? ', "ci", nor a stage name' : ''}${input.pipeline ? ` (stages: ${input.pipeline.stages.map((s) => s.name).join(', ')})` : ' (with -m, use account ids)'}.`,
        )
      }
      for (const t of stage.targets) out[t.account] = profile
    }
  }
  // One profile map serves every command: deploy uses every account, run/status/approve only the
  // pipeline's. An account of the definition is fine; one that no stack uses is a typo.
  const known = new Set([...accounts, ...(input.pipeline ? definitionAccounts(input.pipeline) : [])])
  for (const id of Object.keys(out)) {
    if (!known.has(id))
      throw new CrosspipeError(
        'usage',
        `profile map names account ${id}, which ${input.pipeline ? 'the definition' : 'this command'} does not use (accounts: ${[...known].join(', ')}).`,
      )
  }
  return out
}

/** Every account a definition names: the CI account, the source account and every target's. */
function definitionAccounts(p: ResolvedPipeline): string[] {
  const source = (p.source as { account?: unknown }).account
  return [
    p.ci.account,
    ...(typeof source === 'string' ? [source] : []),
    ...p.stages.flatMap((s) => s.targets.map((t) => t.account)),
  ]
}

/** The accounts a command talks to, and the definition they came from (for names in profile maps). */
export interface AccountsInput {
  readonly accounts: readonly string[]
  readonly pipeline?: ResolvedPipeline
}

/** The accounts of a deploy input. */
export function accountsOf(input: DeployInput): AccountsInput {
  return {
    accounts: [...new Set(input.manifest.stacks.map((s) => s.account))],
    ...(input.pipeline ? { pipeline: input.pipeline } : {}),
  }
}

/** How to reach every account, from the options (and the definition's `profiles`). */
export function accountAccess(
  command: string,
  args: ParsedArgs,
  input: AccountsInput,
  cwd: string,
): AccountAccess {
  const endpointUrl = args.values['endpoint-url'] as string | undefined
  const chosen = ['sandbox', 'profile-map', 'assume-role'].filter((k) => args.values[k])
  if (chosen.length > 1) {
    throw new CrosspipeError(
      'usage',
      `crosspipe ${command}: use one of --sandbox, --profile-map, --assume-role, not ${chosen.map((c) => `--${c}`).join(' and ')}.`,
    )
  }
  if (args.values.sandbox) {
    const stateDir = resolve(cwd, args.values.state as string)
    const s = readSandboxState(stateDir)
    if (!s) {
      throw new CrosspipeError(
        'sandbox',
        `crosspipe ${command} --sandbox: no sandbox is running from ${stateDir}. Start one with \`crosspipe sandbox --detach\` (or name its state directory with --state).`,
      )
    }
    // Over HTTPS when the sandbox has it: the synthesized bucket policy denies requests without
    // TLS (aws:SecureTransport), exactly as on AWS.
    const secure = endpointUrl === undefined && s.httpsEndpoint !== undefined && s.caFile !== undefined
    return sandboxAccess({
      endpointUrl: endpointUrl ?? (secure ? s.httpsEndpoint : s.endpoint),
      ...(secure ? { caFile: s.caFile } : {}),
      credentialsFile: s.credentialsFile,
      configFile: s.configFile,
      profiles: Object.fromEntries(s.accounts.map((a) => [a.id, a.name])),
    })
  }
  if (args.values['assume-role']) {
    const profile = args.values.profile as string | undefined
    return assumeRoleAccess({
      roleName: args.values['assume-role'] as string,
      ...(profile ? { profile } : {}),
      ...(endpointUrl ? { endpointUrl } : {}),
    })
  }
  const map = args.values['profile-map']
    ? parseMap('profile-map', args.values['profile-map'] as string)
    : (input.pipeline?.profiles ?? undefined)
  if (!map) {
    throw new CrosspipeError(
      'usage',
      `crosspipe ${command}: say how to reach each account: --profile-map ci=<profile>,<stage>=<profile>, a profiles map in crosspipe.yml, --assume-role <role> [--profile <profile>], or --sandbox.`,
    )
  }
  return profileAccess({ profiles: profilesByAccount(map, input), ...(endpointUrl ? { endpointUrl } : {}) })
}
