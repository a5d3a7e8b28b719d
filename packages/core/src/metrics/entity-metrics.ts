import { invalidateChannel, l2ErrorChannel, loadChannel, type ReadTier, readChannel } from './channels.js'
import { type HistogramSnapshot, LatencyHistogram } from './latency-histogram.js'
import type { TraceContext } from './tracing.js'

/**
 * One L1 hit in this many is timed into the `l1` histogram. Timing every hit would add a
 * `performance.now()` pair (~50 ns) to a path that costs ~110 ns; a counter and a mask cost ~1 ns.
 * Must be a power of two minus one (it is used as a mask).
 */
export const L1_SAMPLE_MASK = 63

/** The latency histograms of one entity: reads by the tier that answered them, and loader calls. */
export interface EntityLatencies {
  /** Read durations by tier. `l1` is sampled (one hit in 64): its `count` is not the number of L1 hits. */
  reads: Record<ReadTier, HistogramSnapshot>
  /** Loader call durations (a batch loader call is one observation), failures and timeouts included. */
  loads: HistogramSnapshot
}

/**
 * The latency histograms of one entity and its `diagnostics_channel` messages. Counters stay in
 * the entity's `EntityStats`; this holds what counters cannot: durations. Every method is meant for
 * paths that already await something (L2, a loader, the bus), except {@link l1Hit}, which the hot
 * path calls only for a sampled hit or while `tiercache:read` has subscribers.
 */
export class EntityMetrics {
  /** Reads seen by `get`; `(++reads & L1_SAMPLE_MASK) === 0` picks the hits to time. */
  reads = 0
  private readonly l1 = new LatencyHistogram()
  private readonly l2 = new LatencyHistogram()
  private readonly stale = new LatencyHistogram()
  private readonly miss = new LatencyHistogram()
  private readonly loads = new LatencyHistogram()
  /** Traced `get`s past L1, by id, waiting for the tier of the read that answers them (empty unless traced). */
  private readonly tracedReads = new Map<string, TraceContext[]>()

  constructor(
    readonly namespace: string,
    readonly entity: string,
  ) {}

  /** An L1 hit of a read that started at `startedAt` (`performance.now()`); `sampled` puts it in the histogram. */
  l1Hit(id: string, startedAt: number, sampled: boolean): void {
    const durationMs = performance.now() - startedAt
    if (sampled) this.l1.observe(durationMs)
    if (readChannel.hasSubscribers) readChannel.publish({ namespace: this.namespace, entity: this.entity, id, tier: 'l1', durationMs })
  }

  /** A read answered by `tier` that started at `startedAt` (`performance.now()`). */
  read(tier: ReadTier, id: string, startedAt: number): void {
    const durationMs = performance.now() - startedAt
    this.histogram(tier).observe(durationMs)
    if (this.tracedReads.size !== 0) this.settleTier(id, tier)
    if (readChannel.hasSubscribers) readChannel.publish({ namespace: this.namespace, entity: this.entity, id, tier, durationMs })
  }

  /** A traced `get` of `id` past L1: the next read of `id` reported here sets `trace.tier`. */
  awaitTier(id: string, trace: TraceContext): void {
    const waiting = this.tracedReads.get(id)
    if (waiting === undefined) this.tracedReads.set(id, [trace])
    else waiting.push(trace)
  }

  /** The traced `get` settled: stop waiting (its read may have ended without a tier, e.g. an invalid id). */
  forgetTier(id: string, trace: TraceContext): void {
    const waiting = this.tracedReads.get(id)
    if (waiting === undefined) return
    const rest = waiting.filter((other) => other !== trace)
    if (rest.length === 0) this.tracedReads.delete(id)
    else this.tracedReads.set(id, rest)
  }

  private settleTier(id: string, tier: ReadTier): void {
    const waiting = this.tracedReads.get(id)
    if (waiting === undefined) return
    this.tracedReads.delete(id)
    for (const trace of waiting) trace.tier = tier
  }

  /** Times `answer` as a read by `tier` when it settles, and returns it. */
  readWhenSettled<V>(tier: ReadTier, id: string, startedAt: number, answer: Promise<V>): Promise<V> {
    return answer.finally(() => this.read(tier, id, startedAt))
  }

  /** A loader call over `ids` that started at `startedAt` (`performance.now()`) settled, with `error` if it failed or timed out. */
  load(ids: readonly string[], startedAt: number, error: unknown): void {
    const durationMs = performance.now() - startedAt
    this.loads.observe(durationMs)
    if (loadChannel.hasSubscribers) loadChannel.publish({ namespace: this.namespace, entity: this.entity, ids, durationMs, error })
  }

  /** Ids of this entity invalidated here (`local`) or received from another instance (`remote`). */
  invalidate(ids: readonly string[], origin: 'local' | 'remote'): void {
    if (invalidateChannel.hasSubscribers) {
      invalidateChannel.publish({ namespace: this.namespace, entity: this.entity, ids, tags: [], origin })
    }
  }

  /** An L2 call of this entity failed. */
  l2Error(operation: string, error: unknown): void {
    if (l2ErrorChannel.hasSubscribers) l2ErrorChannel.publish({ namespace: this.namespace, entity: this.entity, operation, error })
  }

  snapshot(): EntityLatencies {
    return {
      reads: { l1: this.l1.snapshot(), l2: this.l2.snapshot(), stale: this.stale.snapshot(), miss: this.miss.snapshot() },
      loads: this.loads.snapshot(),
    }
  }

  private histogram(tier: ReadTier): LatencyHistogram {
    return tier === 'l2' ? this.l2 : tier === 'stale' ? this.stale : tier === 'miss' ? this.miss : this.l1
  }
}

/** Publishes a tag invalidation on `tiercache:invalidate` (when it has subscribers). */
export function publishTagInvalidation(namespace: string, tags: readonly string[], origin: 'local' | 'remote'): void {
  if (invalidateChannel.hasSubscribers) invalidateChannel.publish({ namespace, entity: undefined, ids: [], tags, origin })
}
