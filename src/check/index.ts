/**
 * `crosspipe check`: proves offline, before anything is deployed, that every call a
 * cross-account pipeline makes is allowed — and that nothing much more is — from its templates
 * and manifest, with the reason and the fix for each failure. Pure library functions: the CLI
 * prints what they return.
 *
 * Flow: manifest + templates → resolved stacks (`resolve.ts`) → account model (`model.ts`) →
 * required calls (`catalogue.ts`) → IAM engine decisions (`evaluate.ts`) → structural rules and
 * privilege lints (`rules.ts`).
 */
import { readFile } from 'node:fs/promises'
import { dirname, isAbsolute, relative, resolve as resolvePath } from 'node:path'
import { parseTemplate } from '../model/cfn-yaml.js'
import type { ParsedTemplate } from '../model/cfn-yaml.js'
import { CrosspipeError } from '../model/errors.js'
import type { ResolvedPipeline } from '../model/schema.js'
import { Manifest } from '../synth/manifest.js'
import type { ManifestDocument } from '../synth/manifest.js'
import { pipelineCalls } from './catalogue.js'
import type { CallSpec } from './catalogue.js'
import { Evaluator } from './evaluate.js'
import type { EvaluatedCall } from './evaluate.js'
import { buildModel } from './model.js'
import type { AccountsModel, Origin } from './model.js'
import { ManifestResolver } from './resolve.js'
import { structuralFindings, lintFindings } from './rules.js'
import type { CheckFinding, CheckResult } from './types.js'
import { synthesize } from '../synth/index.js'

export type { CheckResult, CheckCall, CheckFinding, RuleId, Severity, FindingLocation } from './types.js'
export { toSarif } from './sarif.js'
export { renderCheck } from './render.js'
export { CATALOGUE, DOCS } from './catalogue.js'

/** The input of {@link checkSetup}: a manifest and its templates, keyed by the manifest's `template` value. */
export interface CheckInput {
  readonly manifest: ManifestDocument
  readonly templates: ReadonlyMap<string, ParsedTemplate>
  /** The manifest's file name, for errors. */
  readonly manifestFile?: string
  /** Calls that the pipelines' actions make beyond the catalogue's (a CDK pipeline's asset publishing), evaluated like them. */
  readonly extraCalls?: (model: AccountsModel) => readonly CallSpec[]
}

/**
 * Checks a set of stacks: derives every call their pipelines make and evaluates it with the IAM
 * engine, then applies the structural rules and privilege lints. Pure.
 *
 * @throws CrosspipeError for bad input: a missing template, an intrinsic that cannot be
 *   resolved, a malformed policy (each with file and location).
 */
export function checkSetup(input: CheckInput): CheckResult {
  const resolver = new ManifestResolver(
    input.manifest.stacks.map((entry, index) => {
      const template = input.templates.get(entry.template)
      if (!template)
        throw new CrosspipeError(
          'file-not-found',
          `${input.manifestFile ?? 'manifest'}: template ${entry.template} of stack ${entry.name} was not given`,
          [
            {
              location: { file: input.manifestFile ?? 'manifest', path: `stacks[${index}].template` },
              message: `no template ${entry.template}`,
            },
          ],
        )
      return { entry, template, index, manifestFile: input.manifestFile }
    }),
  )
  const stacks = resolver.all()
  const model = buildModel(stacks)
  const symbolize = symbolizer(resolver.symbols)
  const byName = new Map(stacks.map((s) => [s.name, s]))
  const locate = (o: Origin) =>
    byName.get(o.stack)?.template.locate(o.path) ?? nearest(byName.get(o.stack)?.template, o.path)
  const evaluator = new Evaluator(model, locate, symbolize)

  const evaluated: EvaluatedCall[] = []
  for (const p of model.pipelines)
    for (const spec of pipelineCalls({ model, pipeline: p })) evaluated.push(evaluator.evaluate(spec))
  for (const spec of input.extraCalls?.(model) ?? []) evaluated.push(evaluator.evaluate(spec))

  const findings: CheckFinding[] = [
    ...structuralFindings({ model, resolver, locate, symbolize, evaluator }),
    ...lintFindings({ model, resolver, locate, symbolize, evaluator, calls: evaluated }),
  ]
  const rulesFound = new Set(findings.map((f) => f.rule))
  for (const e of evaluated) {
    if (e.result.decision === 'Allowed') continue
    // A denial that a structural finding already explains (the key named by id, a role passed
    // across accounts…) is reported once, by that finding, with its own fix.
    if (e.spec.coveredBy && rulesFound.has(e.spec.coveredBy)) continue
    const p =
      model.pipelines.find((x) => x.stages.some((s) => s.name === e.spec.stage)) ?? model.pipelines[0]!
    findings.push(evaluator.deniedFinding(e, p.origin))
  }
  findings.sort((a, b) => severityRank(a.severity) - severityRank(b.severity))
  const calls = evaluated.map((e) => e.call)
  return {
    ok: findings.every((f) => f.severity !== 'error') && calls.every((c) => c.decision === 'Allowed'),
    calls,
    findings,
  }
}

function severityRank(s: string): number {
  return s === 'error' ? 0 : 1
}

function nearest(
  t: ParsedTemplate | undefined,
  path: readonly (string | number)[],
): { line: number; column: number } | undefined {
  if (!t) return undefined
  for (let n = path.length - 1; n > 0; n--) {
    const l = t.locate(path.slice(0, n))
    if (l) return l
  }
  return undefined
}

/** Replaces placeholders of values unknown before deployment by `{stack.LogicalId.Attribute}`. */
function symbolizer(symbols: ReadonlyMap<string, string>): (s: string) => string {
  if (symbols.size === 0) return (s) => s
  const keys = [...symbols.keys()].sort((a, b) => b.length - a.length)
  const re = new RegExp(keys.map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g')
  return (s) => s.replace(re, (m) => symbols.get(m) ?? m)
}

/**
 * Reads a manifest file and the templates it lists (paths relative to the manifest), and checks
 * them with {@link checkSetup}.
 *
 * @throws CrosspipeError `file-not-found`, `invalid-manifest`, `invalid-template`, `unresolvable`.
 */
export async function checkManifestFile(path: string): Promise<CheckResult> {
  const text = await readText(path)
  const doc = parseTemplate(text, path)
  const parsed = Manifest.safeParse(doc.body)
  if (!parsed.success) {
    throw new CrosspipeError(
      'invalid-manifest',
      `${path}: not a valid crosspipe manifest`,
      parsed.error.issues.map((i) => {
        const loc = doc.locate(i.path as (string | number)[])
        return { location: { file: path, ...loc, path: i.path.map(String).join('.') }, message: i.message }
      }),
    )
  }
  const dir = dirname(path)
  const templates = new Map<string, ParsedTemplate>()
  for (const [i, s] of parsed.data.stacks.entries()) {
    if (templates.has(s.template)) continue
    const file = resolvePath(dir, s.template)
    const t = await readText(file, {
      manifest: path,
      at: `stacks[${i}].template`,
      loc: doc.locate(['stacks', i, 'template']),
    })
    templates.set(s.template, parseTemplate(t, displayPath(file)))
  }
  return checkSetup({ manifest: parsed.data, templates, manifestFile: path })
}

/** A path as terminals and editors link it: relative to the working directory when below it. */
function displayPath(file: string): string {
  const rel = relative(process.cwd(), file)
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file
}

async function readText(
  file: string,
  from?: { manifest: string; at: string; loc?: { line: number; column: number } },
): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new CrosspipeError(
        'file-not-found',
        `${from ? `${from.manifest}: ` : ''}${file} does not exist`,
        [
          {
            location: from ? { file: from.manifest, ...from.loc, path: from.at } : { file },
            message: `no such file: ${file}`,
          },
        ],
      )
    throw e
  }
}

/**
 * Synthesizes a pipeline definition in memory and checks the result. Findings name the template
 * file `crosspipe synth` would write, without a line: the templates exist only in memory here, and
 * parsing their YAML text again only for positions would cost more than the check itself.
 */
export function checkPipeline(p: ResolvedPipeline): CheckResult {
  const out = synthesize(p)
  const templates = new Map<string, ParsedTemplate>()
  for (const t of out.templates)
    templates.set(t.file, { body: t.body, file: t.file, locate: () => undefined })
  return checkSetup({ manifest: out.manifest, templates, manifestFile: 'manifest.json' })
}
