/**
 * Dependencies between resources: explicit (`DependsOn`) and implicit (`Ref`, `Fn::GetAtt`,
 * `Fn::Sub` variables), after untaken `Fn::If` branches are removed. A cycle is the error AWS
 * gives, `Circular dependency between resources: [A, B]`.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-dependson.html
 */
import { templateError, validationError } from './errors.js'
import { collectReferences } from './template.js'
import type { Template } from './template.js'

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/** Replaces every `Fn::If` by the branch its condition takes. */
export function pruneIf(value: unknown, conditions: ReadonlyMap<string, boolean>): unknown {
  if (Array.isArray(value)) return value.map((v) => pruneIf(v, conditions))
  if (!isObject(value)) return value
  const keys = Object.keys(value)
  if (keys.length === 1 && keys[0] === 'Fn::If') {
    const arg = value['Fn::If']
    if (Array.isArray(arg) && arg.length === 3 && typeof arg[0] === 'string') {
      return pruneIf(conditions.get(arg[0]) ? arg[1] : arg[2], conditions)
    }
  }
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) out[k] = pruneIf(v, conditions)
  return out
}

/**
 * The dependencies of each active resource (logical ids of other active resources). Referring
 * to a resource whose condition is false is an unresolved dependency, as in AWS.
 */
export function dependencies(
  template: Template,
  active: ReadonlySet<string>,
  conditions: ReadonlyMap<string, boolean>,
): Map<string, Set<string>> {
  const deps = new Map<string, Set<string>>()
  const unresolved = new Set<string>()
  for (const id of active) {
    const decl = template.Resources[id]!
    const refs = collectReferences(
      pruneIf({ ...decl, Condition: undefined, DependsOn: undefined }, conditions),
    )
    const set = new Set<string>()
    const explicit =
      decl.DependsOn === undefined
        ? []
        : typeof decl.DependsOn === 'string'
          ? [decl.DependsOn]
          : decl.DependsOn
    for (const name of [...refs.refs, ...refs.getAtts, ...explicit]) {
      if (!(name in template.Resources)) continue
      if (!active.has(name)) unresolved.add(name)
      else set.add(name)
    }
    deps.set(id, set)
  }
  if (unresolved.size) {
    throw templateError(
      `Unresolved resource dependencies [${[...unresolved].join(', ')}] in the Resources block of the template`,
    )
  }
  const cycle = findCycle(deps)
  if (cycle) throw validationError(`Circular dependency between resources: [${cycle.join(', ')}]`)
  return deps
}

/** The resources in a cycle (a strongly connected component of more than one, or a self-loop), sorted. */
export function findCycle(deps: ReadonlyMap<string, ReadonlySet<string>>): string[] | undefined {
  // Tarjan's algorithm, iteratively deep enough for templates (≤ 500 resources, AWS's limit).
  let index = 0
  const idx = new Map<string, number>()
  const low = new Map<string, number>()
  const onStack = new Set<string>()
  const stack: string[] = []
  let found: string[] | undefined
  const visit = (v: string): void => {
    idx.set(v, index)
    low.set(v, index++)
    stack.push(v)
    onStack.add(v)
    for (const w of deps.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!))
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = []
      let w: string
      do {
        w = stack.pop()!
        onStack.delete(w)
        comp.push(w)
      } while (w !== v)
      if (!found && (comp.length > 1 || deps.get(v)?.has(v))) found = comp.sort()
    }
  }
  for (const v of [...deps.keys()].sort()) if (!idx.has(v)) visit(v)
  return found
}

/** Every `Fn::GetAtt` in a value as `[resource, attribute]` pairs (attribute when literal). */
export function getAttPairs(value: unknown, out: [string, string][] = []): [string, string][] {
  if (Array.isArray(value)) for (const v of value) getAttPairs(v, out)
  else if (isObject(value)) {
    const keys = Object.keys(value)
    if (keys.length === 1 && keys[0] === 'Fn::GetAtt') {
      const v = value['Fn::GetAtt']
      if (Array.isArray(v) && typeof v[0] === 'string' && typeof v[1] === 'string') out.push([v[0], v[1]])
      else if (typeof v === 'string' && v.includes('.'))
        out.push([v.slice(0, v.indexOf('.')), v.slice(v.indexOf('.') + 1)])
      return out
    }
    if (keys.length === 1 && keys[0] === 'Fn::Sub') {
      const v = value['Fn::Sub']
      const text: unknown = Array.isArray(v) ? v[0] : v
      const local = Array.isArray(v) && isObject(v[1]) ? Object.keys(v[1]) : []
      if (typeof text === 'string') {
        for (const m of text.matchAll(/\$\{([^!}][^}]*)\}/g)) {
          const name = m[1]!.trim()
          const dot = name.indexOf('.')
          if (dot > 0 && !name.startsWith('AWS::') && !local.includes(name))
            out.push([name.slice(0, dot), name.slice(dot + 1)])
        }
      }
      if (Array.isArray(v)) getAttPairs(v[1], out)
      return out
    }
    for (const v of Object.values(value)) getAttPairs(v, out)
  }
  return out
}
