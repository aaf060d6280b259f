/**
 * "Did you mean …?" for typos in keys, regions and enum values: the nearest candidate by edit
 * distance, only when it is close enough to be a plausible typo (a suggestion that is wrong more
 * often than right teaches users to ignore suggestions).
 */

/** Levenshtein distance (insertions, deletions, substitutions), case-insensitive. */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase()
  const t = b.toLowerCase()
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j)
  for (let i = 1; i <= s.length; i++) {
    const cur = [i]
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost)
    }
    prev = cur
  }
  return prev[t.length] ?? 0
}

/**
 * The candidate nearest to `value`, or undefined when none is within a third of the longer word
 * (at least 2 edits), ties going to the earlier candidate; failing that, the one candidate that
 * `value` abbreviates or ends.
 */
export function nearest(value: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined
  let bestScore = Infinity
  for (const c of candidates) {
    if (c === value) return c
    const d = editDistance(value, c)
    const limit = Math.max(2, Math.floor(Math.max(c.length, value.length) / 3))
    if (d <= limit && d < bestScore) {
      best = c
      bestScore = d
    }
  }
  if (best !== undefined || value.length < 3) return best
  // An abbreviation ("repo", "env") or the distinctive end of a long value ("SMALL" for
  // BUILD_GENERAL1_SMALL) is far from its word by edits, but plainly meant: suggest the one
  // candidate it begins, or whose last words it is.
  const v = value.toLowerCase()
  const expansions = candidates.filter((c) => {
    const lc = c.toLowerCase()
    return lc.startsWith(v) || lc.endsWith(`_${v}`) || lc.endsWith(`-${v}`)
  })
  return expansions.length === 1 ? expansions[0] : undefined
}
