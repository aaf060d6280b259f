/**
 * Loading a pipeline definition: YAML with positions → schema → semantic rules → the resolved
 * model synth consumes. Every problem is collected before anything is thrown, so a user fixes a
 * file in one round instead of one error per run.
 */
import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { parseTemplate } from './cfn-yaml.js'
import { partitionOf } from '../iam/arn.js'
import { CrosspipeError } from './errors.js'
import type { InputProblem } from './errors.js'
import { issueProblems, locateProblem } from './messages.js'
import type { Locator } from './messages.js'
import { EXTENSION_KEY, PipelineDefinition } from './schema.js'
import type { Pipeline, PipelineDefinitionInput, ResolvedPipeline } from './schema.js'
import { semanticProblems } from './semantics.js'
import { readYaml } from './yaml-source.js'

/** The file name used in locations of definitions made in TypeScript, which have no file. */
export const DEFINE_PIPELINE_FILE = 'definePipeline()'

/**
 * Parses and validates the text of a `crosspipe.yml`.
 *
 * @param text the file content
 * @param file the file name shown in problem locations (as the user would open it)
 * @returns the definition with defaults applied, target regions and the naming prefix resolved
 * @throws CrosspipeError `invalid-definition` with one problem per mistake found, each located at
 *   `file:line:column` and the field path. YAML syntax errors, an empty file and a document that is
 *   not a mapping stop before validation (the data is unreliable); otherwise schema and semantic
 *   rules all run and report together.
 */
export function parsePipeline(text: string, file: string): ResolvedPipeline {
  const read = readYaml(text, file)
  if (!read.ok) throw invalid(file, read.problems)
  return validate(read.source.data, read.source, read.problems)
}

/**
 * Reads and validates a `crosspipe.yml` file.
 *
 * @throws CrosspipeError `file-not-found` when there is no file at `path` (or it cannot be read),
 *   `invalid-definition` as {@link parsePipeline} does.
 */
export async function loadPipeline(path: string): Promise<ResolvedPipeline> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT')
      throw new CrosspipeError(
        'file-not-found',
        `${path} does not exist; run \`crosspipe init\` to write an example crosspipe.yml, or pass the definition with -c <file>`,
        [{ location: { file: path }, message: 'no such file' }],
      )
    if (code === 'EISDIR')
      throw new CrosspipeError('file-not-found', `${path} is a directory; pass the crosspipe.yml inside it`, [
        { location: { file: path }, message: 'is a directory' },
      ])
    // Permissions and the like: the user's environment, not a crosspipe bug.
    throw new CrosspipeError(
      'file-not-found',
      `${path} cannot be read (${code ?? (err as Error).message}); check its permissions`,
      [{ location: { file: path }, message: (err as Error).message }],
    )
  }
  return withAppTemplates(parsePipeline(text, path), path)
}

/**
 * Reads the application template of every stage with `deployPermissions.fromTemplate`: the
 * stage's `template` (relative to the definition) for `true`, else the path given. A missing or
 * malformed template is bad input, located at the field.
 */
export async function withAppTemplates(
  p: ResolvedPipeline,
  definitionFile: string,
): Promise<ResolvedPipeline> {
  const stages = await Promise.all(
    p.stages.map(async (s, i) => {
      const from = s.deployPermissions?.fromTemplate
      if (from === undefined) return s
      const rel = from === true ? s.template : from
      const file = join(dirname(definitionFile), rel)
      const field = `stages[${i}].deployPermissions.fromTemplate`
      let text: string
      try {
        text = await readFile(file, 'utf8')
      } catch (err) {
        throw new CrosspipeError(
          'invalid-definition',
          `${definitionFile}: stage ${s.name} derives its deployment permissions from ${file}, which cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); put the template there, or give its path in deployPermissions.fromTemplate`,
          [{ location: { file: definitionFile, path: field }, message: `no template ${file}` }],
        )
      }
      const stackTags = await configurationTags(s.parametersFile, definitionFile, i)
      return {
        ...s,
        appTemplate: { file, body: parseTemplate(text, file).body, ...(stackTags ? { stackTags } : {}) },
      }
    }),
  )
  return { ...p, stages }
}

/**
 * The stack tags a stage's template configuration file gives (its `Tags`, a map of strings:
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/continuous-delivery-codepipeline-cfn-artifacts.html),
 * read at the file's path relative to the definition: `{}` without `parametersFile`; undefined
 * when the file is not there (the build makes it, so its tags are known only at deployment).
 */
async function configurationTags(
  parametersFile: string | undefined,
  definitionFile: string,
  index: number,
): Promise<Record<string, string> | undefined> {
  if (parametersFile === undefined) return {}
  const file = join(dirname(definitionFile), parametersFile)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch {
    return undefined
  }
  const field = `stages[${index}].parametersFile`
  const bad = (what: string): CrosspipeError =>
    new CrosspipeError(
      'invalid-definition',
      `${file}: ${what}; a template configuration file is JSON: { "Parameters": { "Name": "value" }, "Tags": { "Key": "value" } }`,
      [{ location: { file: definitionFile, path: field }, message: what }],
    )
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (e) {
    throw bad(`not valid JSON (${(e as Error).message})`)
  }
  const tags = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>).Tags : undefined
  if (tags === undefined) return {}
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags))
    throw bad('"Tags" is not a mapping of tag keys to values')
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(tags)) {
    if (typeof v !== 'string') throw bad(`the value of tag "${k}" is not a string`)
    out[k] = v
  }
  return out
}

/**
 * Validates a definition written in TypeScript (`import { definePipeline } from 'crosspipe'`),
 * with the same rules as a YAML file. Problem locations carry the field path only.
 *
 * @throws CrosspipeError `invalid-definition` with every problem found
 */
export function definePipeline(def: PipelineDefinitionInput): ResolvedPipeline {
  const locator: Locator = {
    file: DEFINE_PIPELINE_FILE,
    locate: () => undefined,
    scalar: () => undefined,
  }
  return validate(def, locator, [])
}

function withoutExtensions(data: unknown): unknown {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return data
  return Object.fromEntries(Object.entries(data).filter(([k]) => !EXTENSION_KEY.test(k)))
}

function validate(raw: unknown, locator: Locator, earlier: readonly InputProblem[]): ResolvedPipeline {
  const data = withoutExtensions(raw)
  const result = PipelineDefinition.safeParse(data)
  const problems = [
    ...earlier,
    ...(result.success ? [] : issueProblems(PipelineDefinition, result.error.issues, data, locator)),
    ...semanticProblems(data, locator).map((p) => locateProblem(locator, p)),
  ]
  if (problems.length > 0 || !result.success) throw invalid(locator.file, problems)
  return resolve(result.data)
}

/** Applies the defaults that depend on other fields: target regions and the naming prefix. */
export function resolve(p: Pipeline): ResolvedPipeline {
  return {
    ...p,
    stages: p.stages.map((s) => ({
      ...s,
      targets: s.targets.map((t) => ({ account: t.account, region: t.region ?? p.ci.region })),
    })),
    naming: { prefix: p.naming.prefix ?? p.name, referenceNames: p.naming.referenceNames },
    partition: partitionOf(p.ci.region),
  }
}

function invalid(file: string, problems: readonly InputProblem[]): CrosspipeError {
  const sorted = sortProblems(problems)
  const n = sorted.length
  return new CrosspipeError(
    'invalid-definition',
    `${file} is not a valid pipeline definition (${n} problem${n === 1 ? '' : 's'})`,
    sorted,
  )
}

/** In file order, so the list reads top to bottom; problems without a line keep their order. */
function sortProblems(problems: readonly InputProblem[]): InputProblem[] {
  const seen = new Set<string>()
  return problems
    .map((p, i) => ({ p, i }))
    .filter(({ p }) => {
      const key = `${p.location?.line}:${p.location?.column}:${p.location?.path}:${p.message}`
      if (seen.has(key)) return false
      seen.add(key)
      return true
    })
    .sort(
      (a, b) =>
        (a.p.location?.line ?? 0) - (b.p.location?.line ?? 0) ||
        (a.p.location?.column ?? 0) - (b.p.location?.column ?? 0) ||
        a.i - b.i,
    )
    .map(({ p }) => p)
}
