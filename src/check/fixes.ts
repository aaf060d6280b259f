/**
 * Fixes that are proven before they are printed (issue 10, class 5). A finding's fix comes with
 * one or more candidate patches: edits of the templates (or of the manifest's `existing`
 * section) that make the fix. `check` applies each candidate to a copy of the setup, checks it
 * again, and keeps the first that (1) removes the finding — a denied call becomes allowed, a
 * structural finding disappears — (2) denies no call that was allowed and (3) adds no error. A fix
 * that no candidate proves is not printed.
 */
import type { ParsedTemplate } from '../model/cfn-yaml.js'
import type { CheckFinding } from './types.js'

/** One edit of a template body (or of `existing`, for the stack `(existing)`). */
export interface Edit {
  /** The manifest stack whose template to edit, or `(existing)`. */
  readonly stack: string
  /** The path in the template body (or in the `existing` section, starting with `existing`). */
  readonly path: readonly (string | number)[]
  /** `set` a value, `append` an item to a list (a single item becomes a list first), `delete` a key. */
  readonly op: 'set' | 'append' | 'delete'
  readonly value?: unknown
}

/** A candidate fix: edits applied together, and the fix text to print when it is the one proven. */
export interface Patch {
  readonly edits: readonly Edit[]
  /** The fix as printed, when it differs from the finding's own (text once the finding is made). */
  readonly fix?: unknown
}

const PATCHES = new WeakMap<CheckFinding, readonly Patch[]>()

/** Records a finding's candidate patches (in order of preference). */
export function withPatches<F extends CheckFinding>(f: F, patches: readonly Patch[]): F {
  if (patches.length) PATCHES.set(f, patches)
  return f
}

/** A finding's candidate patches. */
export function patchesOf(f: CheckFinding): readonly Patch[] {
  return PATCHES.get(f) ?? []
}

/** Applies edits to a value in place. */
function applyEdit(root: Record<string, unknown>, path: readonly (string | number)[], e: Edit): void {
  let node: unknown = root
  for (const k of path.slice(0, -1)) {
    const next = (node as Record<string | number, unknown>)[k]
    if (next === undefined || next === null || typeof next !== 'object')
      (node as Record<string | number, unknown>)[k] = {}
    node = (node as Record<string | number, unknown>)[k]
  }
  const last = path[path.length - 1]!
  const holder = node as Record<string | number, unknown>
  if (e.op === 'set') holder[last] = structuredClone(e.value)
  else if (e.op === 'delete') delete holder[last]
  else {
    const cur = holder[last]
    holder[last] = cur === undefined ? [] : Array.isArray(cur) ? cur : [cur]
    ;(holder[last] as unknown[]).push(structuredClone(e.value))
  }
}

/**
 * The templates (and `existing`) with a patch applied: copies of what the patch touches, the
 * rest shared. Template keys are those of the manifest stacks named by the edits.
 */
export function applyPatch<E>(
  patch: Patch,
  templates: ReadonlyMap<string, ParsedTemplate>,
  templateOf: (stack: string) => readonly string[],
  existing: E | undefined,
): { templates: Map<string, ParsedTemplate>; existing: E | undefined } {
  const out = new Map(templates)
  let ex = existing
  const copied = new Set<string>()
  for (const e of patch.edits) {
    if (e.path[0] === 'existing') {
      if (ex === undefined) continue
      if (!copied.has('(existing)')) {
        ex = structuredClone(ex)
        copied.add('(existing)')
      }
      applyEdit(ex as Record<string, unknown>, e.path.slice(1), e)
      continue
    }
    for (const key of templateOf(e.stack)) {
      const t = out.get(key)
      if (!t) continue
      if (!copied.has(key)) {
        out.set(key, { ...t, body: structuredClone(t.body), warnings: [] })
        copied.add(key)
      }
      applyEdit(out.get(key)!.body, e.path, e)
    }
  }
  return { templates: out, existing: ex }
}
