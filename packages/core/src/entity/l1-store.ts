import { LRUCache } from 'lru-cache'
import type { L1Policy } from '../config/entity-policy.js'

// Why the entry looks the way it does (docs/benchmarks.md, row (h)): V8 keeps a number field that
// is not a small integer (a "Smi", 31 bits) in a separate 16-byte heap number, so six clock-ms
// timestamps (about 1.8e12) cost 96 bytes per entry beside the object's own slots, and a fresh
// empty tags array 32 more. The entry therefore keeps its times as small integer offsets from a
// base of its own (`epoch` whole spans of SPAN_MS), shares one empty tags array, and leaves the
// size to lru-cache (which keeps it in a typed array of its own when `maxBytes` is set).
// A time that does not fit (a TTL plus grace of more than about six days, a clock that is not in
// whole ms) is still kept exactly: V8 then stores that field as a heap number again.

/** Width of an entry's time base (ms, about 6.2 days): offsets from it stay within a Smi for TTLs + grace under 6 days. */
const SPAN_MS = 2 ** 29
/** `early` of an entry never refreshed early (Infinity is no Smi). */
const NEVER = 2 ** 30 - 1

/** The tags of every untagged entry: one array for all of them. */
export const NO_TAGS: readonly string[] = Object.freeze([])

/**
 * One entry of the in-process tier: the value and its times (clock ms), read through getters
 * that add the entry's base back, so readers see plain absolute times.
 */
export class L1Entry {
  readonly value: unknown
  readonly tags: readonly string[]
  /** How long the value took to load (ms), for early refresh. */
  readonly loadMs: number
  // Whole SPAN_MS spans before `createdAt`; the offsets below are ms after `epoch * SPAN_MS`.
  private readonly epoch: number
  private readonly created: number
  private readonly fresh: number
  private readonly valueFresh: number
  private readonly stale: number
  private readonly early: number

  constructor(
    value: unknown,
    times: { createdAt: number; freshUntil: number; valueFreshUntil: number; staleUntil: number; loadMs: number; earlyFrom: number },
    tags: readonly string[],
  ) {
    this.value = value
    this.tags = tags.length === 0 ? NO_TAGS : tags
    this.loadMs = small(times.loadMs)
    const epoch = Math.floor(times.createdAt / SPAN_MS)
    // A non-finite createdAt (never from the engine) keeps a base of 0, so the offsets stay exact.
    const base = Number.isFinite(epoch) ? epoch * SPAN_MS : 0
    this.epoch = Number.isFinite(epoch) ? epoch : 0
    this.created = small(times.createdAt - base)
    this.fresh = small(times.freshUntil - base)
    this.valueFresh = small(times.valueFreshUntil - base)
    this.stale = small(times.staleUntil - base)
    const early = small(times.earlyFrom - base)
    // An offset that happens to equal the sentinel is considered 1 ms earlier: the hit path only
    // asks XFetch from then on, whose draw is exact, and is still ~e^-20 unlikely to refresh.
    this.early = times.earlyFrom === Number.POSITIVE_INFINITY ? NEVER : early === NEVER ? NEVER - 1 : early
  }

  /** When the load that produced the value started (tag stamps are compared with it). */
  get createdAt(): number {
    return this.epoch * SPAN_MS + this.created
  }

  /** The L1 deadline (the smaller of the L1 TTL and the value's freshness), checked on every hit. */
  get freshUntil(): number {
    return this.epoch * SPAN_MS + this.fresh
  }

  /** Until when the value itself is fresh (used when L2 cannot be asked). */
  get valueFreshUntil(): number {
    return this.epoch * SPAN_MS + this.valueFresh
  }

  /** Until when the value may be served stale (grace). */
  get staleUntil(): number {
    return this.epoch * SPAN_MS + this.stale
  }

  /** From this time on, a hit considers an early refresh (XFetch); `Infinity` for never. */
  get earlyFrom(): number {
    return this.early === NEVER ? Number.POSITIVE_INFINITY : this.epoch * SPAN_MS + this.early
  }
}

/**
 * `n` as a small integer when it is one. Arithmetic on heap numbers (clock ms are) gives a heap
 * number even when the result is a small integer, and V8 stores that box as is: `n | 0` is the
 * same number as a Smi whenever it is exact, which is the only case it is used.
 */
function small(n: number): number {
  const int = n | 0
  return int === n ? int : n
}

/**
 * The in-process tier of one entity: an `lru-cache` keyed by id. Expiry is checked by the
 * read path against the injected clock rather than by lru-cache's own TTL clock, which keeps
 * the hit path to one map lookup and one comparison, keeps stale entries around for grace, and
 * costs no per-entry timer. With `maxBytes`, each `set` passes the entry's size ({@link putL1}).
 */
export function createL1Store(policy: L1Policy): LRUCache<string, L1Entry> {
  if (policy.maxBytes > 0) return new LRUCache<string, L1Entry>({ max: policy.maxEntries, maxSize: policy.maxBytes })
  return new LRUCache<string, L1Entry>({ max: policy.maxEntries })
}

/** Stores `entry` under `id`; `size` (bytes, a positive integer) counts towards `maxBytes` when the store has one. */
export function putL1(l1: LRUCache<string, L1Entry>, id: string, entry: L1Entry, size: number): void {
  if (l1.maxSize > 0) l1.set(id, entry, { size: Math.max(1, size) })
  else l1.set(id, entry)
}
