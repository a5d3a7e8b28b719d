/**
 * Counters of one entity, readable in process with `cache.stats()`. Plain integer fields so
 * the L1 hit path pays one increment.
 */
export interface EntityStats {
  /** Reads answered by a fresh L1 entry. */
  l1Hits: number
  /** Reads answered by a fresh L2 entry. */
  l2Hits: number
  /** Reads answered by a stale value within grace (stale-while-revalidate or fail-safe). */
  staleServed: number
  /** Reads that found nothing fresh or servable in any tier and had to load or wait. */
  misses: number
  /** Loader calls (a batch loader call counts once). */
  loads: number
  /** Loader calls that threw, or batch loader calls whose result did not align with their ids (timeouts count in `loadTimeouts` only). */
  loadErrors: number
  /** Loads that passed the hard timeout. */
  loadTimeouts: number
  /** Reads that waited for another instance's load (fleet-wide single-flight). */
  lockWaits: number
  /** Background refreshes started by XFetch before expiry. */
  earlyRefreshes: number
  /** L2 calls that failed (read as misses, writes skipped). */
  l2Errors: number
  /** L2 calls that passed the L2 timeout (also counted in `l2Errors`). */
  l2Timeouts: number
  /** Corrupt or foreign entries found in L2 and removed. */
  corruptEntries: number
  /** Entries found in L2 whose value failed the entity's `schema` (e.g. an older shape), removed and reloaded. */
  schemaMismatches: number
  /** Values not cached because they could not be serialized or were too large. */
  uncacheableValues: number
  /** Ids invalidated through this instance. */
  invalidations: number
  /** Ids invalidated by other instances, received on the bus. */
  invalidationsReceived: number
}

export function emptyStats(): EntityStats {
  return {
    l1Hits: 0,
    l2Hits: 0,
    staleServed: 0,
    misses: 0,
    loads: 0,
    loadErrors: 0,
    loadTimeouts: 0,
    lockWaits: 0,
    earlyRefreshes: 0,
    l2Errors: 0,
    l2Timeouts: 0,
    corruptEntries: 0,
    schemaMismatches: 0,
    uncacheableValues: 0,
    invalidations: 0,
    invalidationsReceived: 0,
  }
}
