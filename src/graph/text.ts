/**
 * The graph as text for docs and reviews: Mermaid flowcharts
 * (https://mermaid.js.org/syntax/flowchart.html: subgraphs, edge labels, linkStyle) and Graphviz
 * DOT (https://graphviz.org/doc/info/lang.html: cluster subgraphs, edge attributes).
 */
import type { GraphDocument, GraphEdge } from './model.js'

/** The colour of each decision, shared by every renderer. */
export const DECISION_COLOURS: Readonly<Record<string, string>> = {
  Allowed: '#1a7f37',
  ImplicitlyDenied: '#cf222e',
  ExplicitlyDenied: '#8b0000',
}
/** The colour of trust and grant edges. */
export const POLICY_COLOUR = '#8c959f'

const colourOf = (e: GraphEdge): string =>
  e.kind === 'call' ? (DECISION_COLOURS[e.decision ?? ''] ?? '#cf222e') : POLICY_COLOUR
const mark = (e: GraphEdge): string =>
  e.kind !== 'call' ? e.label : `${e.decision === 'Allowed' ? '✓' : '✗'} ${e.label}`

/** A Mermaid flowchart: accounts as subgraphs, calls coloured by decision, trust and grants dashed. */
export function renderMermaid(g: GraphDocument): string {
  const ids = new Map<string, string>()
  const id = (s: string): string => {
    let v = ids.get(s)
    if (!v) ids.set(s, (v = `n${ids.size + 1}`))
    return v
  }
  const q = (s: string): string => `"${s.replace(/"/g, '#quot;')}"`
  const lines = ['flowchart LR']
  for (const a of g.accounts) {
    lines.push(`  subgraph ${id(`account:${a.id}`)}[${q(`account ${a.label}`)}]`)
    for (const n of g.nodes.filter((x) => x.account === a.id))
      lines.push(`    ${id(n.id)}[${q(`${n.kind}: ${n.label}`)}]`)
    lines.push('  end')
  }
  for (const n of g.nodes.filter((x) => !x.account)) lines.push(`  ${id(n.id)}([${q(n.label)}])`)
  const styles: string[] = []
  g.edges.forEach((e, i) => {
    const arrow = e.kind === 'call' ? '-->' : '-.->'
    lines.push(`  ${id(e.source)} ${arrow}|${q(mark(e))}| ${id(e.target)}`)
    styles.push(
      `  linkStyle ${i} stroke:${colourOf(e)}${e.kind === 'call' && e.decision !== 'Allowed' ? ',stroke-width:3px' : ''}`,
    )
  })
  return [...lines, ...styles].join('\n') + '\n'
}

/** Graphviz DOT: accounts as clusters, calls coloured by decision, trust and grants dashed. */
export function renderDot(g: GraphDocument): string {
  const q = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
  const lines = [
    `digraph ${q(g.title)} {`,
    '  rankdir=LR;',
    '  node [shape=box, style=rounded, fontname="Helvetica"];',
    '  edge [fontname="Helvetica", fontsize=10];',
  ]
  g.accounts.forEach((a, i) => {
    lines.push(`  subgraph cluster_${i} {`, `    label=${q(`account ${a.label}`)};`)
    for (const n of g.nodes.filter((x) => x.account === a.id))
      lines.push(`    ${q(n.id)} [label=${q(`${n.kind}: ${n.label}`)}];`)
    lines.push('  }')
  })
  for (const n of g.nodes.filter((x) => !x.account))
    lines.push(`  ${q(n.id)} [label=${q(n.label)}, shape=ellipse];`)
  for (const e of g.edges) {
    const src = e.source.startsWith('account:') ? `${e.source}` : e.source
    lines.push(
      `  ${q(src)} -> ${q(e.target)} [label=${q(mark(e))}, color=${q(colourOf(e))}${e.kind === 'call' ? (e.decision !== 'Allowed' ? ', penwidth=2.5' : '') : ', style=dashed'}];`,
    )
  }
  lines.push('}')
  return lines.join('\n') + '\n'
}
