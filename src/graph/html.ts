/**
 * The graph as one self-contained HTML page: the data, the styles and the drawing code are inlined,
 * with Cytoscape.js (MIT) and its fCoSE layout (cytoscape-fcose with cose-base and layout-base,
 * MIT) read from the installed packages, so the page opens from a file with no network access.
 * Compound nodes draw accounts (and, at scale, the stage groups holding them); fCoSE lays compound
 * graphs out (https://github.com/iVis-at-Bilkent/cytoscape.js-fcose).
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { GraphDocument } from './model.js'
import { DECISION_COLOURS, POLICY_COLOUR } from './text.js'

/** The browser libraries inlined into the page, in load order (each defines a global the next uses). */
function libraries(): string[] {
  const require = createRequire(import.meta.url)
  const fcose = require.resolve('cytoscape-fcose')
  const fromFcose = createRequire(fcose)
  const coseBase = fromFcose.resolve('cose-base')
  const layoutBase = createRequire(coseBase).resolve('layout-base')
  return [require.resolve('cytoscape/dist/cytoscape.min.js'), layoutBase, coseBase, fcose].map((f) =>
    readFileSync(f, 'utf8'),
  )
}

/** Accounts above which non-pipeline accounts start collapsed and are grouped per stage. */
export const COLLAPSE_ABOVE = 12

/** Renders the page. */
export function renderHtml(g: GraphDocument): string {
  // JSON inside <script> must not close the element: escape '<' (and the line separators JS
  // string literals once rejected).
  const data = JSON.stringify(g)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029')
  const libs = libraries()
    .map((src) => `<script>${src.replace(/<\/script/gi, '<\\/script')}</script>`)
    .join('\n')
  const title = escapeHtml(`crosspipe graph: ${g.title}`)
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${title}</title>
<style>${CSS}</style>
</head>
<body>
<header>
  <h1>${title}</h1>
  <span id="summary"></span>
  <label>Stage <select id="stage"><option value="">all stages</option></select></label>
  <button id="prev" title="previous stage">◀</button><button id="next" title="next stage">▶</button>
  <label><input type="checkbox" id="collapse"> collapse target accounts</label>
  <span class="legend"><i style="background:${DECISION_COLOURS.Allowed}"></i>allowed <i style="background:${DECISION_COLOURS.ImplicitlyDenied}"></i>denied <i style="background:${POLICY_COLOUR}"></i>trust / grant</span>
</header>
<main><div id="cy"></div><aside id="panel"><p class="hint">Select a node or an edge to see its calls, the statements that decided them and the fix.</p></aside></main>
<script type="application/json" id="graph-data">${data}</script>
${libs}
<script>
const COLOURS = ${JSON.stringify(DECISION_COLOURS)};
const POLICY_COLOUR = ${JSON.stringify(POLICY_COLOUR)};
const COLLAPSE_ABOVE = ${COLLAPSE_ABOVE};
${SCRIPT}
</script>
</body>
</html>
`
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

const CSS = `
body{margin:0;font:13px/1.4 system-ui,sans-serif;color:#1f2328;display:flex;flex-direction:column;height:100vh}
header{display:flex;gap:12px;align-items:center;padding:6px 12px;border-bottom:1px solid #d0d7de;flex-wrap:wrap}
h1{font-size:15px;margin:0}
main{flex:1;display:flex;min-height:0}
#cy{flex:1;min-width:0}
aside{width:38%;max-width:640px;overflow:auto;border-left:1px solid #d0d7de;padding:8px 12px}
pre{white-space:pre-wrap;background:#f6f8fa;padding:6px;border-radius:4px;font-size:12px}
.legend i{display:inline-block;width:14px;height:4px;margin:0 4px 2px 8px;vertical-align:middle}
.call{border-left:4px solid;padding-left:6px;margin:6px 0}
.hint{color:#57606a}
`

/** The page's drawing code (plain browser JavaScript; every text goes through textContent). */
const SCRIPT = String.raw`
const G = JSON.parse(document.getElementById('graph-data').textContent);
cytoscape.use(cytoscapeFcose);
const pipelineAccounts = new Set(G.accounts.filter((a) => a.stage === undefined).map((a) => a.id));
const nodeById = new Map(G.nodes.map((n) => [n.id, n]));
const el = (tag, text, attrs) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; Object.assign(e, attrs || {}); return e; };
document.getElementById('summary').textContent = G.summary;
const stageSel = document.getElementById('stage');
for (const s of G.stages) stageSel.appendChild(el('option', s, { value: s }));
const collapseBox = document.getElementById('collapse');
collapseBox.checked = G.accounts.length > COLLAPSE_ABOVE;
const worst = (ds) => ds.find((d) => d !== 'Allowed') || 'Allowed';

function elements(collapsed) {
  const grouped = G.accounts.length > COLLAPSE_ABOVE;
  const out = [];
  const stageGroups = new Set();
  const isCollapsed = (acc) => collapsed && acc && !pipelineAccounts.has(acc);
  for (const a of G.accounts) {
    const parent = grouped && a.stage ? 'stagegroup:' + a.stage : undefined;
    if (parent) stageGroups.add(a.stage);
    out.push({ group: 'nodes', data: { id: 'account:' + a.id, label: 'account ' + a.label, kind: 'account', parent, collapsed: isCollapsed(a.id) ? 1 : 0 } });
  }
  for (const s of stageGroups) out.push({ group: 'nodes', data: { id: 'stagegroup:' + s, label: 'stage ' + s, kind: 'stagegroup' } });
  const mapId = (id) => {
    if (id.startsWith('account:')) return id;
    const n = nodeById.get(id);
    return n && isCollapsed(n.account) ? 'account:' + n.account : id;
  };
  for (const n of G.nodes) {
    if (isCollapsed(n.account)) continue;
    out.push({ group: 'nodes', data: { id: n.id, label: n.label, kind: n.kind, parent: n.account ? 'account:' + n.account : undefined } });
  }
  const merged = new Map();
  for (const e of G.edges) {
    const s = mapId(e.source), t = mapId(e.target);
    if (s === t && collapsed && e.source !== e.target) continue;
    const key = e.kind + '|' + s + '|' + t;
    const m = merged.get(key);
    if (!m) merged.set(key, { ...e, id: collapsed ? 'm' + merged.size : e.id, source: s, target: t, members: [e] });
    else { m.members.push(e); m.calls = m.calls.concat(e.calls); m.stages = [...new Set(m.stages.concat(e.stages))]; m.decision = worst([m.decision, e.decision].filter(Boolean)); }
  }
  for (const e of merged.values()) {
    const colour = e.kind === 'call' ? (COLOURS[e.decision] || COLOURS.ImplicitlyDenied) : POLICY_COLOUR;
    out.push({ group: 'edges', data: { id: e.id, source: e.source, target: e.target, kind: e.kind, decision: e.decision || '', colour, label: e.kind === 'call' ? (e.decision === 'Allowed' ? '' : '✗ ') + (e.members.length > 1 ? e.calls.length + ' calls' : e.label) : '', stages: e.stages.join('\n') }, scratch: { _edge: e } });
  }
  return out;
}

const SHAPES = { pipeline: 'round-hexagon', role: 'round-rectangle', key: 'diamond', bucket: 'barrel', project: 'round-tag', topic: 'round-triangle', service: 'ellipse', resource: 'rectangle', account: 'round-rectangle' };
const cy = cytoscape({
  container: document.getElementById('cy'),
  wheelSensitivity: 0.3,
  style: [
    { selector: 'node', style: { label: 'data(label)', 'font-size': 10, 'text-valign': 'bottom', 'text-margin-y': 3, width: 26, height: 20, shape: (n) => SHAPES[n.data('kind')] || 'ellipse', 'background-color': '#ddf4ff', 'border-width': 1, 'border-color': '#54aeff' } },
    { selector: 'node[kind = "pipeline"]', style: { 'background-color': '#fff8c5', 'border-color': '#d4a72c', width: 34, height: 28 } },
    { selector: 'node[kind = "key"]', style: { 'background-color': '#fbefff', 'border-color': '#c297ff' } },
    { selector: 'node[kind = "bucket"]', style: { 'background-color': '#dafbe1', 'border-color': '#4ac26b' } },
    { selector: 'node[kind = "service"]', style: { 'background-color': '#f6f8fa', 'border-color': '#8c959f' } },
    { selector: ':parent', style: { 'text-valign': 'top', 'text-halign': 'center', 'font-size': 12, 'font-weight': 'bold', 'background-color': '#f6f8fa', 'background-opacity': 0.6, 'border-color': '#d0d7de', shape: 'round-rectangle', padding: 12 } },
    { selector: 'node[kind = "stagegroup"]', style: { 'background-color': '#fff', 'border-style': 'dashed' } },
    { selector: 'node[kind = "account"][collapsed = 1]', style: { width: 60, height: 30, 'background-color': '#eaeef2', 'border-color': '#8c959f', 'text-valign': 'center' } },
    { selector: 'edge', style: { width: 1.5, 'curve-style': 'bezier', 'target-arrow-shape': 'triangle', 'line-color': 'data(colour)', 'target-arrow-color': 'data(colour)', label: 'data(label)', 'font-size': 8, 'text-rotation': 'autorotate', 'text-background-color': '#fff', 'text-background-opacity': 0.8 } },
    { selector: 'edge[kind != "call"]', style: { 'line-style': 'dashed', width: 1, 'target-arrow-shape': 'vee', opacity: 0.6 } },
    { selector: 'edge[kind = "call"][decision != "Allowed"]', style: { width: 3.5, 'z-index': 10 } },
    { selector: '.faded', style: { opacity: 0.08 } },
    { selector: ':selected', style: { 'overlay-color': '#0969da', 'overlay-opacity': 0.2, 'overlay-padding': 4 } },
  ],
});

function layout() {
  const l = cy.layout({ name: 'fcose', animate: false, randomize: true, seed: 1, quality: cy.nodes().length > 400 ? 'draft' : 'default', nodeDimensionsIncludeLabels: true, idealEdgeLength: 90, nodeRepulsion: 6000, nestingFactor: 0.6, packComponents: true });
  l.run();
}
function draw() {
  cy.elements().remove();
  cy.add(elements(collapseBox.checked));
  layout();
  cy.fit(undefined, 20);
  applyStage();
  window.crosspipeGraph.ready = true;
}

function applyStage() {
  const s = stageSel.value;
  cy.elements().removeClass('faded');
  if (!s) return;
  const active = cy.edges().filter((e) => e.data('kind') === 'call' && e.data('stages').split('\n').includes(s));
  cy.elements().not(active).not(active.connectedNodes()).not(active.connectedNodes().ancestors()).addClass('faded');
}
stageSel.addEventListener('change', applyStage);
const step = (d) => { const i = stageSel.selectedIndex + d; if (i >= 0 && i < stageSel.options.length) { stageSel.selectedIndex = i; applyStage(); } };
document.getElementById('prev').addEventListener('click', () => step(-1));
document.getElementById('next').addEventListener('click', () => step(1));
collapseBox.addEventListener('change', draw);

const panel = document.getElementById('panel');
function showCalls(title, calls) {
  panel.replaceChildren(el('h2', title));
  const denied = calls.filter((c) => c.decision !== 'Allowed');
  panel.appendChild(el('p', calls.length + ' calls, ' + denied.length + ' denied'));
  for (const c of denied.concat(calls.filter((c) => c.decision === 'Allowed'))) {
    const d = el('div', undefined, { className: 'call' });
    d.style.borderColor = COLOURS[c.decision] || COLOURS.ImplicitlyDenied;
    d.appendChild(el('div', (c.decision === 'Allowed' ? '✓ ' : '✗ ') + c.stage + ' / ' + c.action + ': ' + c.operation));
    d.appendChild(el('div', c.principal + ' → ' + c.resource, { className: 'hint' }));
    if (c.finding) d.appendChild(el('pre', c.finding, { className: 'finding' }));
    else d.appendChild(el('pre', c.reasons.join('\n'), { className: 'reasons' }));
    panel.appendChild(d);
  }
}
cy.on('tap', 'edge', (ev) => {
  const e = ev.target.scratch('_edge');
  if (e.kind !== 'call') {
    panel.replaceChildren(el('h2', (e.kind === 'trust' ? 'Trust: ' : 'Grant: ') + e.source + ' → ' + e.target));
    for (const m of e.members) panel.appendChild(el('pre', m.statement || ''));
    return;
  }
  showCalls(e.source + ' → ' + e.target, e.calls);
});
cy.on('tap', 'node', (ev) => {
  const id = ev.target.id();
  const n = nodeById.get(id);
  const inner = id.startsWith('account:') ? new Set(G.nodes.filter((x) => 'account:' + x.account === id).map((x) => x.id).concat([id])) : new Set([id]);
  const calls = G.edges.filter((e) => e.kind === 'call' && (inner.has(e.source) || inner.has(e.target))).flatMap((e) => e.calls);
  showCalls(n ? n.detail : ev.target.data('label'), calls);
  const fs = [...inner].flatMap((x) => G.findings[x] || []);
  if (fs.length) { panel.appendChild(el('h3', 'Findings')); for (const f of fs) panel.appendChild(el('pre', f, { className: 'finding' })); }
});
window.crosspipeGraph = { cy, data: G, ready: false, redraw: draw };
draw();
`
