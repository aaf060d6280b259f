/** A section of BENCHMARKS.md, produced by one bench/*.bench.ts module. */
export interface BenchSection {
  readonly title: string
  /** Markdown body: tables with each figure beside its comparison, medians and ratios. */
  readonly markdown: string
}

/** Options every benchmark receives. */
export interface BenchContext {
  /** Fewer repetitions (CROSSPIPE_BENCH_QUICK=1), for trying a benchmark out. */
  readonly quick: boolean
}

/** What each bench/*.bench.ts exports. */
export type BenchRun = (ctx: BenchContext) => Promise<BenchSection>

/** Median of a list of numbers. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const n = s.length
  if (n === 0) return NaN
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2
}

/** A percentile (0..100) by nearest rank. */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b)
  if (s.length === 0) return NaN
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!
}
