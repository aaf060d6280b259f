/* eslint-disable @typescript-eslint/no-unsafe-return -- the page state is read through untyped Cytoscape objects */
// crosspipe graph: the graph model, the Mermaid and DOT texts, and the HTML page in a real
// headless Chromium (skipped with a message where Chromium or playwright-core is missing).
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { after, before, describe, it } from 'node:test'
import YAML from 'yaml'
import {
  buildGraph,
  DECISION_COLOURS,
  manifestInput,
  renderDot,
  renderMermaid,
  pipelineInput,
} from '../../src/graph/index.js'
import { loadPipeline } from '../../src/model/index.js'
import { cli, tempDir } from '../cli/helpers.js'
import { browserSkip, launch, openGraph } from './browser.js'

const FIXTURES = resolve(import.meta.dirname, '../check/fixtures')
const BROKEN = join(FIXTURES, 'call-denied-trust/manifest.json')
const rgb = (hex: string): string =>
  `rgb(${[1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)).join(',')})`

/** The init example, written by the CLI into a fresh directory. */
function initExample(): string {
  const dir = tempDir('crosspipe-graph-')
  const r = cli(['init'], { cwd: dir })
  assert.equal(r.code, 0, r.stderr)
  return dir
}

/** The init example with `n` targets spread over stages of 25 (CodePipeline allows 50 actions per stage). */
function manyTargets(n: number): string {
  const dir = initExample()
  const doc = YAML.parse(readFileSync(join(dir, 'crosspipe.yml'), 'utf8'))
  const base = doc.stages[0]
  doc.stages = []
  for (let s = 0; s * 25 < n; s++)
    doc.stages.push({
      ...base,
      name: `wave${s + 1}`,
      stack: `my-app-wave${s + 1}`,
      targets: Array.from({ length: Math.min(25, n - s * 25) }, (_, i) => ({
        account: String(400000000000 + s * 25 + i),
      })),
    })
  writeFileSync(join(dir, 'crosspipe.yml'), YAML.stringify(doc))
  return dir
}

describe('graph model and text formats', () => {
  it('the init example: accounts as groups, its roles, key, bucket, project and pipeline as nodes, every call as an edge', async () => {
    const dir = initExample()
    const g = buildGraph(pipelineInput(await loadPipeline(join(dir, 'crosspipe.yml'))))
    assert.deepEqual(
      g.accounts.map((a) => a.id),
      ['111111111111', '222222222222', '333333333333'],
    )
    const kinds = (k: string) => g.nodes.filter((n) => n.kind === k)
    assert.equal(kinds('pipeline').length, 1)
    assert.equal(kinds('key').length, 1)
    assert.ok(kinds('bucket').length >= 1 && kinds('project').length === 1)
    for (const acc of ['222222222222', '333333333333'])
      assert.ok(kinds('role').filter((n) => n.account === acc).length >= 2, `roles of ${acc}`)
    const calls = g.edges.filter((e) => e.kind === 'call').flatMap((e) => e.calls)
    const check = cli(['check', '--json'], { cwd: dir })
    assert.equal(
      calls.length,
      JSON.parse(check.stdout).calls.length,
      'every call check derives is on an edge',
    )
    assert.ok(g.edges.every((e) => e.kind !== 'call' || e.decision === 'Allowed'))
    assert.ok(g.edges.some((e) => e.kind === 'trust' && e.target.includes(':role/my-app-cross-account')))
    assert.deepEqual(g.stages.slice(0, 1), ['(pipeline)'])
    assert.ok(g.stages.includes('dev') && g.stages.includes('prod'))
  })

  it('a broken variant: the denied call carries the finding exactly as check prints it', async () => {
    const g = buildGraph(await manifestInput(BROKEN))
    const denied = g.edges.filter((e) => e.kind === 'call' && e.decision !== 'Allowed')
    assert.ok(denied.length > 0)
    const c = denied[0]!.calls.find((x) => x.decision !== 'Allowed')!
    const printed = cli(['check', '-m', BROKEN]).stdout
    assert.ok(c.finding, 'the denied call has its finding')
    for (const line of c.finding.split('\n').filter((l) => /fix:|Effect|Principal|Action/.test(l)))
      assert.ok(printed.includes(line), `check prints: ${line}`)
  })

  it('Mermaid and DOT: accounts as subgraphs/clusters, denied edges in the denied colour', async () => {
    const g = buildGraph(await manifestInput(BROKEN))
    const m = renderMermaid(g)
    assert.match(m, /^flowchart LR\n/)
    assert.match(m, /subgraph n\d+\["account 333333333333/)
    assert.ok(m.includes(`stroke:${DECISION_COLOURS.ImplicitlyDenied}`))
    const d = renderDot(g)
    assert.match(d, /subgraph cluster_\d+ \{\n\s+label="account 111111111111 \(pipeline\)"/)
    assert.ok(d.includes(`color="${DECISION_COLOURS.ImplicitlyDenied}"`))
    const viaCli = cli(['graph', '-m', BROKEN, '--format', 'dot'])
    assert.equal(viaCli.code, 0, viaCli.stderr)
    assert.equal(viaCli.stdout, d)
    const bad = cli(['graph', '-m', BROKEN, '--format', 'svg'])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /not one of html, mermaid, dot/)
  })
})

describe('graph DOT read by Graphviz', () => {
  const hasDot = spawnSync('dot', ['-V']).status === 0
  it(
    'the DOT text of a broken variant is valid Graphviz input',
    { skip: hasDot ? false : 'Graphviz `dot` is not installed (apt-get install graphviz)' },
    async () => {
      const text = renderDot(buildGraph(await manifestInput(BROKEN)))
      const r = spawnSync('dot', ['-Tsvg'], { input: text, encoding: 'utf8' })
      assert.equal(r.status, 0, r.stderr)
      assert.match(r.stdout, /<svg/)
      assert.ok(
        r.stdout.includes(`stroke="${DECISION_COLOURS.ImplicitlyDenied}"`),
        'the denied edge is drawn in the denied colour',
      )
    },
  )
})

const skip = await browserSkip()
if (skip) console.log(`# ${skip}`)

describe('graph HTML in headless Chromium', { skip }, () => {
  let browser: Awaited<ReturnType<typeof launch>>
  before(async () => {
    browser = await launch()
  })
  after(async () => {
    await browser?.close()
  })

  it('draws the nodes of the init example, loading nothing from the network', async () => {
    const dir = initExample()
    const r = cli(['graph', '-o', 'graph.html'], { cwd: dir })
    assert.equal(r.code, 0, r.stderr)
    const { page, external, errors } = await openGraph(browser, join(dir, 'graph.html'))
    const expected = buildGraph(pipelineInput(await loadPipeline(join(dir, 'crosspipe.yml')))).nodes.map(
      (n) => n.id,
    )
    const drawn = await page.evaluate((ids) => {
      const cy = (globalThis as any).crosspipeGraph.cy
      const ext = cy.extent()
      return ids.map((id: string): { id: string; drawn: boolean } => {
        const n = cy.getElementById(id)
        if (n.empty()) return { id, drawn: false }
        const p = n.position()
        const bb = n.renderedBoundingBox()
        return {
          id,
          drawn: n.visible() && bb.w > 0 && p.x >= ext.x1 && p.x <= ext.x2 && p.y >= ext.y1 && p.y <= ext.y2,
        }
      })
    }, expected)
    assert.deepEqual(
      drawn.filter((d: any) => !d.drawn),
      [],
    )
    const accounts = await page.evaluate(() =>
      (globalThis as any).crosspipeGraph.cy.nodes('[kind = "account"]').map((n: any) => n.children().length),
    )
    assert.ok(
      accounts.length === 3 && accounts.every((c: number) => c > 0),
      'three account groups, each with its nodes',
    )
    assert.deepEqual(external, [])
    assert.deepEqual(errors, [])
    // The canvas is really painted: a screenshot of it is not one flat colour.
    const png = await page.locator('#cy').screenshot()
    assert.ok(png.length > 20_000, `screenshot of ${png.length} bytes`)
    if (process.env.CROSSPIPE_GRAPH_SCREENSHOT) {
      // The README's picture: the prod action role selected, its calls listed beside the graph.
      const at = await page.evaluate(() => {
        const cy = (globalThis as any).crosspipeGraph.cy
        const n = cy
          .nodes('[kind = "role"]')
          .filter((x: any) => x.id().includes(':333333333333:role/my-app-cross-account'))
          .first()
        const box = cy.container().getBoundingClientRect()
        const p = n.renderedPosition()
        return { x: (box.left as number) + (p.x as number), y: (box.top as number) + (p.y as number) }
      })
      await page.mouse.click(at.x, at.y)
      const full = await page.screenshot()
      mkdirSync(resolve(process.env.CROSSPIPE_GRAPH_SCREENSHOT, '..'), { recursive: true })
      writeFileSync(process.env.CROSSPIPE_GRAPH_SCREENSHOT, full)
    }
    await page.close()
  })

  it('shows a denied call of a broken variant in the denied colour, and its reason and fix on selection', async () => {
    const dir = tempDir('crosspipe-graph-')
    const out = join(dir, 'broken.html')
    const r = cli(['graph', '-m', BROKEN, '-o', out])
    assert.equal(r.code, 0, r.stderr)
    const { page, external, errors } = await openGraph(browser, out)
    const edge = await page.evaluate(() => {
      const cy = (globalThis as any).crosspipeGraph.cy
      const e = cy.edges('[kind = "call"][decision != "Allowed"]').first()
      const box = cy.container().getBoundingClientRect()
      const m = e.renderedMidpoint()
      return { id: e.id(), colour: e.style('line-color'), x: box.left + m.x, y: box.top + m.y }
    })
    assert.equal(edge.colour, rgb(DECISION_COLOURS.ImplicitlyDenied!))
    await page.mouse.click(edge.x, edge.y)
    const panel = await page.locator('#panel').innerText()
    const printed = cli(['check', '-m', BROKEN]).stdout
    assert.match(panel, /✗ /)
    assert.match(panel, /sts:AssumeRole/)
    const finding = await page.locator('#panel pre.finding').first().innerText()
    assert.match(finding, /fix( \(verified[^)]*\))?:/)
    for (const line of finding
      .split('\n')
      .filter((l) => l.trim() && !l.startsWith('Stage') && l.trim() !== ''))
      assert.ok(printed.includes(line.replace(/\s+$/, '')), `check prints the same line: ${line}`)
    // Stepping through stages fades the calls of the other stages.
    await page.locator('#next').click()
    const stage = await page.locator('#stage').inputValue()
    assert.equal(stage, '(pipeline)')
    const faded = await page.evaluate(
      (): number => (globalThis as any).crosspipeGraph.cy.edges('.faded').length,
    )
    assert.ok(faded > 0)
    assert.deepEqual(external, [])
    assert.deepEqual(errors, [])
    await page.close()
  })

  it('stays readable at 100 targets: accounts grouped per stage and collapsed', async () => {
    const dir = manyTargets(100)
    const r = cli(['graph', '-o', 'graph.html'], { cwd: dir, env: {} })
    assert.equal(r.code, 0, r.stderr)
    const { page, external, errors } = await openGraph(browser, join(dir, 'graph.html'))
    const s = await page.evaluate(() => {
      const g = (globalThis as any).crosspipeGraph
      const cy = g.cy
      return {
        accounts: g.data.accounts.length,
        collapsed: (globalThis as any).document.getElementById('collapse').checked,
        stageGroups: cy
          .nodes('[kind = "stagegroup"]')
          .map((n: any) => [n.data('label'), n.children().length]),
        drawnNodes: cy.nodes().length,
        modelNodes: g.data.nodes.length,
        zoom: cy.zoom(),
      }
    })
    assert.equal(s.accounts, 101)
    assert.equal(s.collapsed, true)
    assert.deepEqual(
      s.stageGroups.map((x: [string, number]) => x[1]),
      [25, 25, 25, 25],
    )
    assert.ok(s.drawnNodes < s.modelNodes / 2, `${s.drawnNodes} nodes drawn of ${s.modelNodes}`)
    assert.deepEqual(external, [])
    assert.deepEqual(errors, [])
    await page.close()
  })
})
