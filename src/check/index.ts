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
import { CheckManifest, EXISTING } from './existing.js'
import type { ExistingResourcesDocument } from './existing.js'
import type { ManifestDocument } from '../synth/manifest.js'
import { appTemplateCalls } from './app-template.js'
import type { AppTemplateInput } from './app-template.js'
import { pipelineCalls } from './catalogue.js'
import type { CallSpec } from './catalogue.js'
import { Evaluator } from './evaluate.js'
import type { EvaluatedCall } from './evaluate.js'
import { buildModel } from './model.js'
import type { AccountsModel, Origin } from './model.js'
import { ManifestResolver, stackKeys } from './resolve.js'
import { structuralFindings, lintFindings } from './rules.js'
import type { CheckCall, CheckFinding, CheckResult } from './types.js'
import { applyPatch, patchesOf, withPatches } from './fixes.js'
import type { Patch } from './fixes.js'
import { synthesize } from '../synth/index.js'
import type { SynthOutput } from '../synth/index.js'

export type { CheckResult, CheckCall, CheckFinding, RuleId, Severity, FindingLocation } from './types.js'
export { toSarif } from './sarif.js'
export { renderCheck } from './render.js'
export { CATALOGUE, DOCS } from './catalogue.js'
export { patchesOf, applyPatch } from './fixes.js'
export type { Patch, Edit } from './fixes.js'
export type { AppTemplateInput } from './app-template.js'

/** The input of {@link checkSetup}: a manifest and its templates, keyed by the manifest's `template` value. */
export interface CheckInput {
  readonly manifest: ManifestDocument
  readonly templates: ReadonlyMap<string, ParsedTemplate>
  /** The manifest's file name, for errors. */
  readonly manifestFile?: string
  /** Resources the setup uses that no stack creates (the manifest's `existing` section). */
  readonly existing?: ExistingResourcesDocument
  /** Line and column of a path in the manifest, for findings about `existing` resources. */
  readonly manifestLocate?: (
    path: readonly (string | number)[],
  ) => { line: number; column: number } | undefined
  /** Application templates: their resources' calls as the deployment role are checked too. */
  readonly appTemplates?: readonly AppTemplateInput[]
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
  const first = run(input)
  return verifyFixes(input, first)
}

/** What one run of the check gives, before its fixes are verified. */
interface Run {
  readonly result: CheckResult
  /** The call each call-denied finding is about (its key, see {@link callKey}). */
  readonly deniedCall: Map<CheckFinding, string>
}

const callKey = (c: CheckCall): string => `${c.stage}|${c.action}|${c.principal}|${c.operation}|${c.resource}`
const findingKey = (f: CheckFinding): string => `${f.rule}|${f.stack}|${f.logicalId}`

/**
 * Applies each finding's candidate fixes to a copy of the setup and checks it again (see
 * fixes.ts); keeps the first fix that is proven, drops a fix that none proves.
 */
function verifyFixes(input: CheckInput, first: Run): CheckResult {
  const base = first.result
  if (!base.findings.some((f) => f.fix !== null)) return base
  const allowed = new Set(base.calls.filter((c) => c.decision === 'Allowed').map(callKey))
  const errorCount = countBy(base.findings.filter((f) => f.severity === 'error').map(findingKey))
  const sameCount = countBy(base.findings.map(findingKey))
  const keys = stackKeys(input.manifest.stacks)
  const templateOf = (stack: string): string[] =>
    input.manifest.stacks.filter((_, i) => keys[i] === stack).map((s) => s.template)
  const findings = base.findings.map((f): CheckFinding => {
    if (f.fix === null) return f
    // Of the candidates that are proven, the one that leaves the fewest denied calls and errors
    // (the action's role may be the wrong one, not the deployment role it passes).
    let best: { patch: Patch; score: number } | undefined
    for (const patch of patchesOf(f)) {
      const patched = applyPatch(patch, input.templates, templateOf, input.existing)
      let again: Run
      try {
        again = run({ ...input, templates: patched.templates, existing: patched.existing })
      } catch {
        continue
      }
      const r = again.result
      const target = first.deniedCall.get(f)
      const gone = target
        ? r.calls.some((c) => callKey(c) === target && c.decision === 'Allowed')
        : (countBy(r.findings.map(findingKey)).get(findingKey(f)) ?? 0) < (sameCount.get(findingKey(f)) ?? 0)
      if (!gone) continue
      if (r.calls.some((c) => c.decision !== 'Allowed' && allowed.has(callKey(c)))) continue
      const errorsAfter = countBy(r.findings.filter((x) => x.severity === 'error').map(findingKey))
      if ([...errorsAfter].some(([k, n]) => n > (errorCount.get(k) ?? 0))) continue
      const score =
        r.calls.filter((c) => c.decision !== 'Allowed').length +
        r.findings.filter((x) => x.severity === 'error').length
      if (!best || score < best.score) best = { patch, score }
    }
    if (best)
      return withPatches(
        { ...f, fix: typeof best.patch.fix === 'string' ? best.patch.fix : f.fix, fixVerified: true },
        [best.patch],
      )
    return {
      ...f,
      fix: null,
      message: `${f.message} (No fix is printed: none that crosspipe tried passed its check.)`,
    }
  })
  return { ...base, findings }
}

function countBy(keys: readonly string[]): Map<string, number> {
  const m = new Map<string, number>()
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1)
  return m
}

function run(input: CheckInput): Run {
  const deniedCall = new Map<CheckFinding, string>()
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
  const model = buildModel(stacks, input.existing, input.manifestFile)
  const symbolize = symbolizer(resolver.symbols)
  const byName = new Map(stacks.map((s) => [s.name, s]))
  const manifestDoc: ParsedTemplate | undefined = input.manifestLocate
    ? { body: {}, file: input.manifestFile ?? 'manifest', locate: input.manifestLocate }
    : undefined
  const locate = (o: Origin) => {
    const t = o.stack === EXISTING ? manifestDoc : byName.get(o.stack)?.template
    return t?.locate(o.path) ?? nearest(t, o.path)
  }
  const evaluator = new Evaluator(model, locate, symbolize)

  const evaluated: EvaluatedCall[] = []
  const uncatalogued: CheckFinding[] = []
  for (const p of model.pipelines) {
    for (const spec of pipelineCalls({ model, pipeline: p })) evaluated.push(evaluator.evaluate(spec))
    const app = appTemplateCalls(p, input.appTemplates ?? [])
    for (const spec of app.calls) evaluated.push(evaluator.evaluate(spec))
    for (const u of app.uncatalogued)
      uncatalogued.push({
        rule: 'action-not-catalogued',
        severity: 'warning',
        stack: u.origin.stack,
        logicalId: u.origin.logicalId,
        message: `${u.stage} / ${u.action}: resource ${u.logicalId} of ${u.file} is of type ${u.type}, whose CloudFormation calls crosspipe does not know: they were not checked.`,
        fix: null,
      })
  }
  for (const spec of input.extraCalls?.(model) ?? []) evaluated.push(evaluator.evaluate(spec))

  const findings: CheckFinding[] = [
    ...structuralFindings({ model, resolver, locate, symbolize, evaluator }),
    ...lintFindings({ model, resolver, locate, symbolize, evaluator, calls: evaluated }),
    ...uncatalogued,
  ]
  if (evaluated.length === 0) {
    // A manifest always names a pipeline: deriving no call from it means the pipeline was not
    // found (a Condition that removed it, a template missing from the manifest), never a pass.
    const pipelines = model.pipelines.map((p) => `${p.origin.stack}/${p.origin.logicalId}`)
    findings.push({
      rule: 'no-calls-derived',
      severity: 'error',
      stack: stacks[0]!.name,
      logicalId: '(manifest)',
      message: pipelines.length
        ? `no call was derived from pipeline ${pipelines.join(', ')}: it has no action whose calls crosspipe knows, so nothing was checked.`
        : `no stack of this manifest creates an AWS::CodePipeline::Pipeline (manifest pipeline "${input.manifest.pipeline}"), so no call was derived and nothing was checked. Add the pipeline's stack to the manifest, or check the Condition that removes it.`,
      fix: null,
      location: { file: input.manifestFile ?? 'manifest' },
    })
  }
  // Duplicate mapping keys: CloudFormation reads the last one; say where both are.
  for (const [name, t] of input.templates) {
    const stack = stacks.find((x) => x.template === t) ?? stacks.find((x) => x.template.file === t.file)
    for (const w of t.warnings ?? [])
      findings.push({
        rule: 'duplicate-key',
        severity: 'warning',
        stack: stack?.name ?? name,
        logicalId:
          w.path[0] === 'Resources' && typeof w.path[1] === 'string' ? w.path[1] : String(w.path[0] ?? w.key),
        message: w.message,
        fix: null,
        location: { file: w.file, line: w.line, column: w.column },
      })
  }
  const rulesFound = new Set(findings.map((f) => f.rule))
  for (const e of evaluated) {
    if (e.result.decision === 'Allowed') continue
    // A denial that a structural finding already explains (the key named by id, a role passed
    // across accounts…) is reported once, by that finding, with its own fix.
    if (e.spec.coveredBy && rulesFound.has(e.spec.coveredBy)) continue
    const p =
      model.pipelines.find((x) => x.stages.some((s) => s.name === e.spec.stage)) ?? model.pipelines[0]!
    const f = evaluator.deniedFinding(e, p.origin)
    deniedCall.set(f, callKey(e.call))
    findings.push(f)
  }
  findings.sort((a, b) => severityRank(a.severity) - severityRank(b.severity))
  const calls = evaluated.map((e) => e.call)
  return {
    result: {
      ok: findings.every((f) => f.severity !== 'error') && calls.every((c) => c.decision === 'Allowed'),
      calls,
      findings,
    },
    deniedCall,
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
  // Thousands of calls repeat a few hundred ARNs, and the alternation of every placeholder is
  // costly to run: each distinct string is rewritten once.
  const done = new Map<string, string>()
  return (s) => {
    let r = done.get(s)
    if (r === undefined) {
      r = s.replace(re, (m) => symbols.get(m) ?? m)
      if (done.size > 20_000) done.clear()
      done.set(s, r)
    }
    return r
  }
}

/**
 * Reads a manifest file and the templates it lists (paths relative to the manifest), and checks
 * them with {@link checkSetup}.
 *
 * @throws CrosspipeError `file-not-found`, `invalid-manifest`, `invalid-template`, `unresolvable`.
 */
export async function checkManifestFile(
  path: string,
  appTemplates: readonly AppTemplateInput[] = [],
): Promise<CheckResult> {
  return checkSetup(await manifestCheckInput(path, appTemplates))
}

/**
 * The input {@link checkManifestFile} checks: a manifest file and the templates it lists, with its
 * `existing` resources. Also what `crosspipe graph -m` draws, so the two cannot disagree.
 *
 * @throws CrosspipeError `file-not-found`, `invalid-manifest`, `invalid-template`.
 */
export async function manifestCheckInput(
  path: string,
  appTemplates: readonly AppTemplateInput[] = [],
): Promise<CheckInput> {
  const text = await readText(path)
  const doc = parseTemplate(text, path)
  const parsed = CheckManifest.safeParse(doc.body)
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
    templates.set(s.template, parseTemplate(t, displayPath(file), { duplicateKeys: 'warn' }))
  }
  return {
    manifest: parsed.data,
    templates,
    manifestFile: path,
    existing: parsed.data.existing,
    manifestLocate: (p) => doc.locate(p),
    appTemplates,
  }
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
export function checkPipeline(
  p: ResolvedPipeline,
  appTemplates: readonly AppTemplateInput[] = [],
  out: SynthOutput = synthesize(p),
): CheckResult {
  return checkSetup(pipelineCheckInput(p, appTemplates, out))
}

/**
 * The input {@link checkPipeline} checks: the definition synthesized in memory, with the
 * application templates of its fromTemplate stages. Also what `crosspipe graph -c` draws.
 */
export function pipelineCheckInput(
  p: ResolvedPipeline,
  appTemplates: readonly AppTemplateInput[] = [],
  out: SynthOutput = synthesize(p),
): CheckInput {
  const templates = new Map<string, ParsedTemplate>()
  for (const t of out.templates)
    templates.set(t.file, { body: t.body, file: t.file, locate: () => undefined })
  // The templates loadPipeline read for fromTemplate stages are checked too.
  const fromDefinition = p.stages.flatMap((s) =>
    s.appTemplate
      ? [
          {
            file: s.appTemplate.file,
            body: s.appTemplate.body,
            templatePath: s.template,
            stackName: s.stack,
            ...(s.appTemplate.stackTags ? { stackTags: s.appTemplate.stackTags } : {}),
          },
        ]
      : [],
  )
  return {
    manifest: out.manifest,
    templates,
    manifestFile: 'manifest.json',
    appTemplates: [...appTemplates, ...fromDefinition],
  }
}
