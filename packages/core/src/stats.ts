/**
 * Counters of one entity, readable in process with `cache.stats()`. Plain integer fields so
 * the L1 hit path pays one increment.
 */
export interface EntityStats {
  /** Reads answered by a fresh L1 entry. */
  l1Hits: number
  /** Reads answered by a fresh L2 entry. */
  l2Hits: number
  /** Reads that found nothing fresh in any tier. */
  misses: number
  /** Loader calls (a batch loader call counts once). */
  loads: number
  /** Loader calls that threw. */
  loadErrors: number
  /** L2 calls that failed (read as misses, writes skipped). */
  l2Errors: number
  /** Corrupt or foreign entries found in L2 and removed. */
  corruptEntries: number
  /** Values not cached because they could not be serialized or were too large. */
  uncacheableValues: number
  /** Ids invalidated through this instance. */
  invalidations: number
}

export function emptyStats(): EntityStats {
  return {
    l1Hits: 0,
    l2Hits: 0,
    misses: 0,
    loads: 0,
    loadErrors: 0,
    l2Errors: 0,
    corruptEntries: 0,
    uncacheableValues: 0,
    invalidations: 0,
  }
}
