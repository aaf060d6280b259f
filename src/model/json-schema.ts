/**
 * The JSON Schema of `crosspipe.yml` for editors: VS Code's YAML extension (yaml-language-server)
 * reads it from the `# yaml-language-server: $schema=./crosspipe.schema.json` line that
 * `crosspipe init` writes, and completes keys, shows descriptions and flags mistakes as you type.
 *
 * It is generated from the same zod schema the loader validates with, so the two cannot drift.
 * Rules the loader checks in code (duplicates, partitions, name lengths) are not in it; the
 * region table is, as an enum, because completion of region names is useful.
 */
import { z } from 'zod'
import { ALL_REGIONS } from '../iam/arn.js'
import { EXTENSION_KEY, PipelineDefinition, RegionName } from './schema.js'

/** The file name `npm run build` writes the schema to, at the package root. */
export const JSON_SCHEMA_FILE = 'crosspipe.schema.json'

/**
 * The JSON Schema (draft-07, which yaml-language-server supports fully) of the definition as a
 * user writes it: fields with defaults are optional.
 */
export function pipelineJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(PipelineDefinition, {
    target: 'draft-7',
    io: 'input',
    override: (ctx) => {
      // `.describe()` clones a schema but keeps its definition, so the definition identifies
      // every use of RegionName, whatever its description.
      if (ctx.zodSchema._zod.def === RegionName._zod.def) ctx.jsonSchema.enum = [...ALL_REGIONS]
    },
  })
  const cleaned = withoutUnicodePatterns(schema) as Record<string, unknown>
  return {
    ...cleaned,
    title: 'crosspipe pipeline definition (crosspipe.yml)',
    // The loader ignores top-level `x-` keys (a place for shared YAML anchors).
    patternProperties: {
      [EXTENSION_KEY.source]: { description: 'Your own value, ignored by crosspipe (for YAML anchors).' },
    },
  }
}

/**
 * Drops patterns that use Unicode property escapes (`\p{L}`, in tag keys and values): JSON Schema
 * does not say which regular-expression flags apply, and without `u` an editor would read `\p{L}`
 * as the letters "p{L}" and flag every valid tag. The loader still checks them.
 */
function withoutUnicodePatterns(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutUnicodePatterns)
  if (typeof value !== 'object' || value === null) return value
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) {
    if (k === 'pattern' && typeof v === 'string' && v.includes('\\p{')) continue
    out[k] = withoutUnicodePatterns(v)
  }
  return out
}
