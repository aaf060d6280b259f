// Writes crosspipe.schema.json (the editor JSON Schema of crosspipe.yml) at the package root, or
// at the path given. Generated from the zod schema, so it is not committed.
// Usage: node --import tsx scripts/gen-schema.ts [out-file]
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { JSON_SCHEMA_FILE, pipelineJsonSchema } from '../src/model/index.js'

const out = process.argv[2] ?? join(import.meta.dirname, '..', JSON_SCHEMA_FILE)
writeFileSync(out, JSON.stringify(pipelineJsonSchema(), null, 2) + '\n')
