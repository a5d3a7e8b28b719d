import type { EntityHandle } from '../entity/entity-handle.js'
import type { Clock } from '../util/clock.js'

/** What the HTTP layer needs to know about an entity: its clock, its TTL, whether it tags entries. */
export interface EntityTiming {
  readonly clock: Clock
  /** The entity's TTL (ms). */
  readonly ttlMs: number
  /** Whether the entity has a `tags` function. */
  readonly tagsEntries: boolean
}

/**
 * The clock and TTL of an entity. `get` does not say whether it served a stale value, so the
 * HTTP layer labels a response STALE when the cache's clock is past `storedAt + ttl` (with
 * `jitter`, an entry can turn stale before that and is then still labelled HIT).
 */
export function entityTiming(handle: EntityHandle<unknown>): EntityTiming {
  return { clock: handle.clock, ttlMs: handle.policy.ttlMs, tagsEntries: handle.policy.tags !== null }
}
