/**
 * `crosspipe graph`: the permission flow of a setup, drawn. Pure functions from a check input to a
 * {@link GraphDocument} and from that to HTML, Mermaid or DOT text; the CLI writes the file.
 */
import { readFile } from 'node:fs/promises'
import { dirname, isAbsolute, relative, resolve as resolvePath } from 'node:path'
import type { CheckInput } from '../check/index.js'
import { parseTemplate } from '../model/cfn-yaml.js'
import type { ParsedTemplate } from '../model/cfn-yaml.js'
import { CrosspipeError } from '../model/errors.js'
import type { ResolvedPipeline } from '../model/schema.js'
import { synthesize } from '../synth/index.js'
import { Manifest } from '../synth/manifest.js'
import type { GraphDocument } from './model.js'
import { renderHtml } from './html.js'
import { renderDot, renderMermaid } from './text.js'

export { buildGraph } from './model.js'
export type { GraphDocument, GraphNode, GraphEdge, GraphCall, GraphAccount, NodeKind } from './model.js'
export { renderHtml } from './html.js'
export { renderMermaid, renderDot, DECISION_COLOURS } from './text.js'

/** The output formats of `crosspipe graph`. */
export type GraphFormat = 'html' | 'mermaid' | 'dot'
/** Every format, for usage errors. */
export const GRAPH_FORMATS: readonly GraphFormat[] = ['html', 'mermaid', 'dot']

/** Renders a graph in a format. */
export function renderGraph(g: GraphDocument, format: GraphFormat): string {
  return format === 'html' ? renderHtml(g) : format === 'mermaid' ? renderMermaid(g) : renderDot(g)
}

/** The check input of a definition, synthesized in memory (what `check -c` checks). */
export function pipelineInput(p: ResolvedPipeline): CheckInput {
  const out = synthesize(p)
  const templates = new Map<string, ParsedTemplate>()
  for (const t of out.templates)
    templates.set(t.file, { body: t.body, file: t.file, locate: () => undefined })
  return { manifest: out.manifest, templates, manifestFile: 'manifest.json' }
}

/**
 * The check input of a manifest file and the templates it lists (what `check -m` checks).
 *
 * @throws CrosspipeError `file-not-found`, `invalid-manifest`, `invalid-template`.
 */
export async function manifestInput(path: string): Promise<CheckInput> {
  const text = await read(path)
  const doc = parseTemplate(text, path)
  const parsed = Manifest.safeParse(doc.body)
  if (!parsed.success)
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
  const templates = new Map<string, ParsedTemplate>()
  for (const s of parsed.data.stacks) {
    if (templates.has(s.template)) continue
    const file = resolvePath(dirname(path), s.template)
    templates.set(s.template, parseTemplate(await read(file, path), displayPath(file)))
  }
  return { manifest: parsed.data, templates, manifestFile: path }
}

async function read(file: string, from?: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new CrosspipeError('file-not-found', `${from ? `${from}: ` : ''}${file} does not exist`, [
        { location: { file: from ?? file }, message: `no such file: ${file}` },
      ])
    throw e
  }
}

/** A path as `check` prints it: relative to the working directory when below it. */
function displayPath(file: string): string {
  const rel = relative(process.cwd(), file)
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file
}
