import { LRUCache } from 'lru-cache'
import type { L1Policy } from '../config/entity-policy.js'

/**
 * One entry of the in-process tier. Times are clock ms.
 */
export interface L1Entry {
  readonly value: unknown
  /** When the load that produced the value started (tag stamps are compared with it). */
  readonly createdAt: number
  /** The L1 deadline (the smaller of the L1 TTL and the value's freshness), checked on every hit. */
  readonly freshUntil: number
  /** Until when the value itself is fresh (used when L2 cannot be asked). */
  readonly valueFreshUntil: number
  /** Until when the value may be served stale (grace). */
  readonly staleUntil: number
  /** How long the value took to load (ms), for early refresh. */
  readonly loadMs: number
  /** From this time on, a hit considers an early refresh (XFetch); `Infinity` for never. */
  readonly earlyFrom: number
  readonly tags: readonly string[]
  /** Serialized size in bytes, for the `maxBytes` bound. */
  readonly size: number
}

/**
 * The in-process tier of one entity: an `lru-cache` keyed by id. Expiry is checked by the
 * read path against the injected clock rather than by lru-cache's own TTL clock, which keeps
 * the hit path to one map lookup and one comparison, and keeps stale entries around for grace.
 */
export function createL1Store(policy: L1Policy): LRUCache<string, L1Entry> {
  if (policy.maxBytes > 0) {
    return new LRUCache<string, L1Entry>({
      max: policy.maxEntries,
      maxSize: policy.maxBytes,
      sizeCalculation: (entry) => Math.max(1, entry.size),
    })
  }
  return new LRUCache<string, L1Entry>({ max: policy.maxEntries })
}
