/**
 * A value with its times (clock ms), as a read can serve it: what an L1 entry offers when it is
 * served stale, and the base of {@link Candidate}.
 */
export interface TimedValue {
  readonly value: unknown
  /** When the load that produced the value started (tag stamps are compared with it). */
  readonly createdAt: number
  /** Until when the value is fresh. */
  readonly freshUntil: number
  /** Until when the value may be served stale (grace). */
  readonly staleUntil: number
  /** How long the value took to load (ms), for early refresh. */
  readonly loadMs: number
  readonly tags: readonly string[]
}

/** A value found in a tier (L1, L2 or a hot-key replica), with its times (clock ms) and serialized size. */
export interface Candidate extends TimedValue {
  /** The L1 TTL the value's loader chose (ms), carried in its envelope; absent for the entity's own. */
  readonly l1TtlMs?: number | undefined
  /** The serialized payload's length, for L1's byte bound. */
  readonly size: number
}
