/**
 * `crosspipe graph`: the permission flow of a setup, drawn. Pure functions from a check input to a
 * {@link GraphDocument} and from that to HTML, Mermaid or DOT text; the CLI writes the file.
 */
import type { CheckInput } from '../check/index.js'
import { manifestCheckInput, pipelineCheckInput } from '../check/index.js'
import type { ResolvedPipeline } from '../model/schema.js'
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
  return pipelineCheckInput(p)
}

/**
 * The check input of a manifest file and the templates it lists (what `check -m` checks, read by
 * the same function).
 *
 * @throws CrosspipeError `file-not-found`, `invalid-manifest`, `invalid-template`.
 */
export async function manifestInput(path: string): Promise<CheckInput> {
  return manifestCheckInput(path)
}
