import type { Candidate } from './candidate.js'
import type { EntityCore } from './entity-core.js'
import { L1Entry, putL1 } from './l1-store.js'
import { earlyRefreshFrom } from './xfetch.js'

/**
 * Puts a value into L1, unless a load that started at `startEpoch` is older than an
 * invalidation of `id` (or of one of the value's tags) this instance heard of: such a value
 * may be the one the invalidation removed. `l1TtlMs` is the L1 TTL its loader chose (0: none),
 * or `null` for the entity's.
 */
export function fillL1(core: EntityCore, id: string, candidate: Candidate, startEpoch: number, l1TtlMs: number | null = null): void {
  const l1 = core.l1
  if (l1 === null || core.stamps.invalidatedSince(id, startEpoch)) return
  // Without an L1 of its own, the entity keeps only hot keys, for the hot L1 TTL (which a loader's choice may shorten).
  const own = core.policy.l1?.ttlMs
  const ttlMs =
    own !== undefined ? (l1TtlMs ?? own) : Math.min(core.hot?.isHot(id) ? core.hot.policy.l1TtlMs : 0, l1TtlMs ?? Number.POSITIVE_INFINITY)
  if (ttlMs <= 0) return
  if (candidate.tags.length > 0) {
    if (core.ctx.tagStamps.invalidatesLocally(candidate.tags, candidate.createdAt)) return
    // Tags a loader chose reach L1 of entities without a `tags` function: tag invalidations must look at them.
    core.l1Tagged = true
  }
  const now = core.ctx.clock.now()
  const times = {
    createdAt: candidate.createdAt,
    freshUntil: Math.min(now + ttlMs, candidate.freshUntil),
    valueFreshUntil: candidate.freshUntil,
    staleUntil: candidate.staleUntil,
    loadMs: candidate.loadMs,
    earlyFrom: earlyRefreshFrom(candidate.freshUntil, candidate.loadMs, core.policy.beta),
  }
  putL1(l1, id, new L1Entry(candidate.value, times, candidate.tags), candidate.size + 64)
}

/**
 * The bookkeeping of a read answered by a fresh L2 value (the value key or a hot-key replica):
 * counted, timed when `readAt` is given (`performance.now()` at the read's start), and put into
 * L1. Returns the value. Every path that takes a value from L2 goes through here.
 */
export function acceptL2Hit(core: EntityCore, id: string, candidate: Candidate, startEpoch: number, readAt?: number): unknown {
  core.counters.l2Hits++
  if (readAt !== undefined) core.metrics.read('l2', id, readAt)
  // The loader's L1 TTL travels in the envelope: every instance honours it, not only the loading one.
  fillL1(core, id, candidate, startEpoch, candidate.l1TtlMs ?? null)
  return candidate.value
}
