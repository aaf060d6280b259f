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
import { PipelineDefinition, RegionName } from './schema.js'

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
      if (ctx.zodSchema === RegionName) ctx.jsonSchema.enum = [...ALL_REGIONS]
    },
  }) as Record<string, unknown>
  return { ...schema, title: 'crosspipe pipeline definition (crosspipe.yml)' }
}
