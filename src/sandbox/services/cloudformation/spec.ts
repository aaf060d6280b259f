/**
 * The CloudFormation resource specification, from `@aws-cdk/aws-service-spec` (the registry
 * schemas AWS publishes, as a database): which resource types exist, their properties, which are
 * required, and which cause replacement when they change.
 *
 * Loaded lazily on first use and cached for the process — the database takes most of a second
 * to load, which sandbox start-up must not pay. Resource types are converted to a compact form
 * on first use.
 *
 * Validation texts are those of CloudFormation's registry-schema validation, as stack events show
 * them: `Properties validation failed for resource X with message: #/Path: extraneous key [K] is
 * not permitted` and `… required key [K] not found` (see SPEC.md for the sources).
 */
import { loadAwsServiceSpec } from '@aws-cdk/aws-service-spec'

/** Whether changing a property replaces the resource: `yes` (create-only), `no`, or `maybe`. */
export type Replacement = 'yes' | 'no' | 'maybe'

/** A property type in compact form. */
export type TypeSpec =
  | { readonly kind: 'string' | 'number' | 'integer' | 'boolean' | 'json' | 'date-time' | 'null' | 'tag' }
  | {
      readonly kind: 'object'
      readonly name: string
      readonly properties: Readonly<Record<string, PropertySpec>>
    }
  | { readonly kind: 'array' | 'map'; readonly element: TypeSpec }
  | { readonly kind: 'union'; readonly types: readonly TypeSpec[] }

/** One property. */
export interface PropertySpec {
  readonly required: boolean
  readonly replacement: Replacement
  readonly type: TypeSpec
}

/** A resource type. */
export interface ResourceSpec {
  readonly type: string
  readonly properties: Readonly<Record<string, PropertySpec>>
  readonly attributes: readonly string[]
  /** Nested property paths that also cause replacement (`additionalReplacementProperties`). */
  readonly additionalReplacement: readonly (readonly string[])[]
  /** The property holding tags and its shape (`standard`: a Key/Value list; `map`: an object). */
  readonly tags?: { readonly property: string; readonly variant: 'standard' | 'asg' | 'map' }
}

type SpecDb = Awaited<ReturnType<typeof loadAwsServiceSpec>>

// The raw shapes of the database's entities (service-spec-types' Resource/Property/PropertyType),
// read structurally so a field the sandbox does not use never breaks it.
interface RawType {
  readonly type: string
  readonly element?: RawType
  readonly types?: readonly RawType[]
  readonly reference?: { readonly $ref: string }
}
interface RawProperty {
  readonly type: RawType
  readonly required?: boolean
  readonly causesReplacement?: Replacement
}

let dbPromise: Promise<SpecDb> | undefined
const cache = new Map<string, ResourceSpec | null>()

function db(): Promise<SpecDb> {
  dbPromise ??= loadAwsServiceSpec()
  return dbPromise
}

/** Starts loading the database in the background (e.g. at the first CreateStack). */
export function preloadSpec(): void {
  void db()
}

/** The specification of a resource type, or undefined for a type CloudFormation does not have. */
export async function resourceSpec(type: string): Promise<ResourceSpec | undefined> {
  const cached = cache.get(type)
  if (cached !== undefined) return cached ?? undefined
  const d = await db()
  const found = d.lookup('resource', 'cloudFormationType', 'equals', type)
  const raw = found[0]
  if (!raw) {
    cache.set(type, null)
    return undefined
  }
  const defs = new Map<string, TypeSpec>()
  const convertType = (t: RawType): TypeSpec => {
    switch (t.type) {
      case 'array':
      case 'map':
        return { kind: t.type, element: convertType(t.element!) }
      case 'union':
        return { kind: 'union', types: (t.types ?? []).map(convertType) }
      case 'ref': {
        const id = t.reference!.$ref
        const known = defs.get(id)
        if (known) return known
        const def = d.get('typeDefinition', id) as unknown as {
          name: string
          properties: Record<string, RawProperty>
        }
        // Recursive definitions: register the object before converting its properties.
        const props: Record<string, PropertySpec> = {}
        const spec: TypeSpec = { kind: 'object', name: def.name, properties: props }
        defs.set(id, spec)
        for (const [k, p] of Object.entries(def.properties)) props[k] = convertProp(p)
        return spec
      }
      default:
        return { kind: t.type as 'string' }
    }
  }
  const convertProp = (p: RawProperty): PropertySpec => ({
    required: p.required === true,
    replacement: p.causesReplacement ?? 'no',
    type: convertType(p.type),
  })
  const r = raw as unknown as {
    properties: Record<string, RawProperty>
    attributes: Record<string, unknown>
    additionalReplacementProperties?: string[][]
    tagInformation?: { tagPropertyName: string; variant: 'standard' | 'asg' | 'map' }
  }
  const properties: Record<string, PropertySpec> = {}
  for (const [k, p] of Object.entries(r.properties)) properties[k] = convertProp(p)
  const spec: ResourceSpec = {
    type,
    properties,
    attributes: Object.keys(r.attributes),
    additionalReplacement: r.additionalReplacementProperties ?? [],
    tags: r.tagInformation
      ? { property: r.tagInformation.tagPropertyName, variant: r.tagInformation.variant }
      : undefined,
  }
  cache.set(type, spec)
  return spec
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

function typeName(v: unknown): string {
  if (Array.isArray(v)) return 'JSONArray'
  if (isObject(v)) return 'JSONObject'
  if (typeof v === 'number') return Number.isInteger(v) ? 'Integer' : 'Number'
  if (typeof v === 'boolean') return 'Boolean'
  return 'String'
}

/**
 * Checks resolved properties against the specification: unknown keys, missing required keys,
 * objects where lists belong and the reverse — recursively into nested types. Returns the
 * messages in JSON-pointer form (`#/Path/0: …`), empty when valid.
 */
export function validateProperties(spec: ResourceSpec, props: Readonly<Record<string, unknown>>): string[] {
  const out: string[] = []
  checkObject(spec.properties, props, '#', out)
  return out
}

function checkObject(
  specProps: Readonly<Record<string, PropertySpec>>,
  value: Readonly<Record<string, unknown>>,
  path: string,
  out: string[],
): void {
  for (const k of Object.keys(value)) {
    if (!(k in specProps)) out.push(`${path}: extraneous key [${k}] is not permitted`)
  }
  for (const [k, p] of Object.entries(specProps)) {
    if (p.required && value[k] === undefined) out.push(`${path}: required key [${k}] not found`)
  }
  for (const [k, v] of Object.entries(value)) {
    const p = specProps[k]
    if (p) checkType(p.type, v, `${path}/${k}`, out)
  }
}

function checkType(t: TypeSpec, v: unknown, path: string, out: string[]): void {
  switch (t.kind) {
    case 'object':
      if (!isObject(v)) out.push(`${path}: expected type: JSONObject, found: ${typeName(v)}`)
      else checkObject(t.properties, v, path, out)
      return
    case 'array':
      if (!Array.isArray(v)) out.push(`${path}: expected type: JSONArray, found: ${typeName(v)}`)
      else v.forEach((x, i) => checkType(t.element, x, `${path}/${i}`, out))
      return
    case 'map':
      if (!isObject(v)) out.push(`${path}: expected type: JSONObject, found: ${typeName(v)}`)
      else for (const [k, x] of Object.entries(v)) checkType(t.element, x, `${path}/${k}`, out)
      return
    case 'tag':
      if (!isObject(v)) out.push(`${path}: expected type: JSONObject, found: ${typeName(v)}`)
      else {
        for (const k of Object.keys(v))
          if (k !== 'Key' && k !== 'Value') out.push(`${path}: extraneous key [${k}] is not permitted`)
        for (const k of ['Key', 'Value'])
          if (v[k] === undefined) out.push(`${path}: required key [${k}] not found`)
      }
      return
    case 'union': {
      // Valid when any member accepts it; report the first member's findings otherwise.
      const attempts = t.types.map((m) => {
        const o: string[] = []
        checkType(m, v, path, o)
        return o
      })
      if (!attempts.some((o) => o.length === 0)) out.push(...(attempts[0] ?? []))
      return
    }
    case 'string':
    case 'number':
    case 'integer':
    case 'boolean':
    case 'date-time':
      // CloudFormation converts scalars between these types (a number for a string property is
      // accepted); what it rejects is a structure where a scalar belongs.
      if (v !== null && typeof v === 'object')
        out.push(
          `${path}: expected type: ${t.kind === 'string' ? 'String' : t.kind === 'boolean' ? 'Boolean' : 'Number'}, found: ${typeName(v)}`,
        )
      return
    default:
      return
  }
}

/**
 * How a change from `before` to `after` affects the resource: the strongest replacement among
 * the top-level properties that differ (`yes` beats `maybe` beats `no`), and their names.
 */
export function replacementFor(
  spec: ResourceSpec | undefined,
  before: Readonly<Record<string, unknown>>,
  after: Readonly<Record<string, unknown>>,
  unknownProps: ReadonlySet<string> = new Set(),
): {
  readonly replacement: 'True' | 'False' | 'Conditional'
  readonly changed: { name: string; replacement: Replacement; unknown: boolean }[]
} {
  const names = new Set([...Object.keys(before), ...Object.keys(after)])
  const changed: { name: string; replacement: Replacement; unknown: boolean }[] = []
  for (const name of [...names].sort()) {
    const unknown = unknownProps.has(name)
    if (!unknown && JSON.stringify(before[name]) === JSON.stringify(after[name])) continue
    let r: Replacement = spec?.properties[name]?.replacement ?? 'no'
    if (r !== 'yes' && spec?.additionalReplacement.some((p) => p[0] === name)) r = 'yes'
    changed.push({ name, replacement: r, unknown })
  }
  let replacement: 'True' | 'False' | 'Conditional' = 'False'
  for (const c of changed) {
    // A create-only property whose new value is not known yet may or may not change.
    const r = c.replacement === 'yes' && c.unknown ? 'maybe' : c.replacement
    if (r === 'yes') replacement = 'True'
    else if (r === 'maybe' && replacement === 'False') replacement = 'Conditional'
  }
  return { replacement, changed }
}

/**
 * The properties a resource is provisioned with: the template's, plus the stack's tags on
 * resources that take tags — "CloudFormation also propagates these tags to the resources created
 * in the stack" (API_CreateStack.html, Tags). A tag the resource sets itself wins.
 */
export function withStackTags(
  spec: ResourceSpec | undefined,
  props: Readonly<Record<string, unknown>>,
  stackTags: readonly { readonly Key: string; readonly Value: string }[],
): Record<string, unknown> {
  const t = spec?.tags
  if (!t || !stackTags.length || t.variant === 'asg') return { ...props }
  const own = props[t.property]
  if (t.variant === 'map') {
    if (own !== undefined && !isObject(own)) return { ...props }
    return {
      ...props,
      [t.property]: { ...Object.fromEntries(stackTags.map((x) => [x.Key, x.Value])), ...own },
    }
  }
  if (own !== undefined && !Array.isArray(own)) return { ...props }
  const list = (own ?? []) as { Key?: unknown }[]
  const keys = new Set(list.map((x) => x.Key))
  return {
    ...props,
    [t.property]: [
      ...stackTags.filter((x) => !keys.has(x.Key)).map((x) => ({ Key: x.Key, Value: x.Value })),
      ...list,
    ],
  }
}
