// Loads the table-driven corpus: test/iam/cases/*.json. Each file has a title, the AWS pages its
// cases come from, optional request defaults (merged shallowly into every case), and cases that are
// either a request with its expected decision, or a policy with its expected validation problems.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Decision, PolicyKind, SimulateRequest } from '../../src/iam/index.js'

/** One case of the corpus. */
export interface Case {
  readonly file: string
  readonly name: string
  readonly request?: SimulateRequest
  readonly expect?: Decision
  readonly denialReason?: string
  /** Substrings that must appear in the joined reasons. */
  readonly reasonIncludes?: readonly string[]
  /** Set false where iam-simulate cannot take the input (keys it does not know, services it lacks). */
  readonly differential?: boolean
  /** Why the case is excluded from the differential test, or what it shows. */
  readonly why?: string
  readonly validate?: { readonly kind: PolicyKind; readonly policy: unknown }
  /** Expected problems: statement index and element of each (empty: valid). */
  readonly problems?: readonly { readonly statementIndex?: number; readonly element: string }[]
}

interface CaseFile {
  readonly title: string
  readonly docs: readonly string[]
  readonly defaults?: Partial<SimulateRequest>
  readonly cases: readonly (Omit<Case, 'file' | 'request'> & { request?: Partial<SimulateRequest> })[]
}

const dir = join(import.meta.dirname, 'cases')

/** Every case of every file, defaults applied. */
export function loadCases(): Case[] {
  const out: Case[] = []
  for (const f of readdirSync(dir)
    .filter((x) => x.endsWith('.json'))
    .sort()) {
    const file = JSON.parse(readFileSync(join(dir, f), 'utf8')) as CaseFile
    if (!file.docs?.length) throw new Error(`${f}: cite the AWS pages its cases come from in "docs"`)
    for (const c of file.cases) {
      const { request: partial, ...rest } = c
      const merged = partial ? { ...file.defaults, ...partial } : undefined
      // JSON has no Date: a request time is written as an ISO string.
      if (merged && typeof merged.now === 'string') merged.now = new Date(merged.now)
      const request = merged as SimulateRequest | undefined
      out.push({ ...rest, file: f, ...(request ? { request } : {}) })
    }
  }
  return out
}
