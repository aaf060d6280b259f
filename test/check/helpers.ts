// Loads the hand-written fixture setup as checkSetup input, so tests can change one thing in it.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseTemplate } from '../../src/model/cfn-yaml.js'
import type { ParsedTemplate } from '../../src/model/cfn-yaml.js'
import type { ManifestDocument } from '../../src/synth/manifest.js'
import { Manifest } from '../../src/synth/manifest.js'

export const fixtures = join(import.meta.dirname, 'fixtures')

/** The good setup: its manifest and parsed templates, deep copies that a test may change. */
export function goodSetup(): { manifest: ManifestDocument; templates: Map<string, ParsedTemplate> } {
  const dir = join(fixtures, 'good')
  const manifest = Manifest.parse(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')))
  const templates = new Map<string, ParsedTemplate>()
  for (const f of ['ci-base.yaml', 'target-roles.yaml', 'ci-pipeline.yaml']) {
    const t = parseTemplate(readFileSync(join(dir, f), 'utf8'), f)
    templates.set(f, { ...t, body: structuredClone(t.body) })
  }
  return { manifest, templates }
}

/** A resource's Properties in a template of a setup. */
export function props(setup: { templates: Map<string, ParsedTemplate> }, file: string, id: string): any {
  return (setup.templates.get(file)!.body.Resources as any)[id].Properties
}
