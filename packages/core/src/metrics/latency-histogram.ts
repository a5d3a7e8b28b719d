/**
 * Upper bounds (ms) of the latency buckets, shared by every histogram so series from different
 * entities and instances can be summed: from 50 µs (an L1 hit, or an L2 hit on loopback) to 10 s
 * (a loader at its worst). The last bucket, `+Inf`, is implied.
 */
export const LATENCY_BUCKETS_MS: readonly number[] = Object.freeze([
  0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000,
])

/** A copy of a histogram's state: per-bucket counts (not cumulative; the last is `+Inf`), count and sum (ms). */
export interface HistogramSnapshot {
  /** Upper bounds (ms) of the buckets, without `+Inf`: {@link LATENCY_BUCKETS_MS}. */
  readonly bucketsMs: readonly number[]
  /** Observations per bucket; one more entry than `bucketsMs` (the `+Inf` bucket). */
  readonly counts: readonly number[]
  /** Number of observations. */
  readonly count: number
  /** Sum of the observations, in milliseconds. */
  readonly sumMs: number
}

/**
 * A fixed-bucket latency histogram: `observe` is a short scan over 17 bounds and two additions,
 * no allocation. Used only off the L1 hit path (L1 hits are sampled), so its cost is negligible
 * next to the L2 round trip or the load it measures.
 */
export class LatencyHistogram {
  private readonly counts = new Float64Array(LATENCY_BUCKETS_MS.length + 1)
  private total = 0
  private sum = 0

  /** Records one duration in milliseconds; negative or non-finite values count as 0 and `+Inf`. */
  observe(ms: number): void {
    const bounds = LATENCY_BUCKETS_MS
    let i = 0
    // Written so that NaN falls through every bound into +Inf.
    while (i < bounds.length && !(ms <= (bounds[i] as number))) i++
    this.counts[i] = (this.counts[i] as number) + 1
    this.total++
    if (ms > 0 && ms < Number.POSITIVE_INFINITY) this.sum += ms
  }

  snapshot(): HistogramSnapshot {
    return { bucketsMs: LATENCY_BUCKETS_MS, counts: Array.from(this.counts), count: this.total, sumMs: this.sum }
  }
}

/**
 * Estimates the `q` quantile (0..1) of a histogram in milliseconds, interpolating linearly inside
 * the bucket that holds it, as Prometheus's `histogram_quantile` does. `NaN` for an empty histogram;
 * a quantile in the `+Inf` bucket returns the largest finite bound.
 */
export function histogramQuantile(snapshot: HistogramSnapshot, q: number): number {
  if (snapshot.count === 0) return Number.NaN
  const rank = Math.min(Math.max(q, 0), 1) * snapshot.count
  let seen = 0
  for (let i = 0; i < snapshot.counts.length; i++) {
    const inBucket = snapshot.counts[i] as number
    if (inBucket > 0 && seen + inBucket >= rank) {
      if (i >= snapshot.bucketsMs.length) return snapshot.bucketsMs[snapshot.bucketsMs.length - 1] as number
      const lower = i === 0 ? 0 : (snapshot.bucketsMs[i - 1] as number)
      const upper = snapshot.bucketsMs[i] as number
      return lower + (upper - lower) * ((rank - seen) / inBucket)
    }
    seen += inBucket
  }
  return snapshot.bucketsMs[snapshot.bucketsMs.length - 1] as number
}

/** The difference `later - earlier` of two snapshots of the same histogram (what happened in between). */
export function histogramDelta(later: HistogramSnapshot, earlier: HistogramSnapshot): HistogramSnapshot {
  return {
    bucketsMs: later.bucketsMs,
    counts: later.counts.map((n, i) => n - (earlier.counts[i] ?? 0)),
    count: later.count - earlier.count,
    sumMs: later.sumMs - earlier.sumMs,
  }
}
