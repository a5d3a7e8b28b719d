import { type Clock, systemClock } from '../clock.js'
import type { EntityHandle } from '../entity-cache.js'

/** What the HTTP layer needs to know about an entity: its clock, its TTL, whether it tags entries. */
export interface EntityTiming {
  readonly clock: Clock
  /** The entity's TTL (ms), or `Infinity` when it cannot be read (then nothing is labelled STALE). */
  readonly ttlMs: number
  /** Whether the entity has a `tags` function; `undefined` when it cannot be read. */
  readonly tagsEntries: boolean | undefined
}

/**
 * Reads the clock and TTL of an entity of this package's engine. `EntityHandle` does not expose
 * them, and `get` does not say whether it served a stale value, so the HTTP layer labels a
 * response STALE when the cache's clock is past `storedAt + ttl`. This reads the engine's
 * internals, which is why it lives in core next to them; a handle from anywhere else falls back
 * to the system clock and never labels STALE.
 */
export function entityTiming(handle: EntityHandle<unknown>): EntityTiming {
  const internals = handle as unknown as { ctx?: { clock?: Clock }; policy?: { ttlMs?: number; tags?: unknown } }
  const clock = internals.ctx?.clock
  const policy = internals.policy
  if (clock !== undefined && typeof clock.now === 'function' && typeof policy?.ttlMs === 'number') {
    return { clock, ttlMs: policy.ttlMs, tagsEntries: typeof policy.tags === 'function' }
  }
  return { clock: systemClock, ttlMs: Number.POSITIVE_INFINITY, tagsEntries: undefined }
}
