import { LRUCache } from 'lru-cache'

/**
 * Remembers, per id, when it was last invalidated, on a counter local to this process, so a
 * load that started before an invalidation does not put its (possibly old) result into L1
 * after it. Bounded: when a stamp is evicted, every load older than it is distrusted, which
 * errs on the side of not caching.
 */
export class InvalidationStamps {
  private epoch = 0
  /** Loads that started before this epoch are distrusted for every id (raised by evictions and bus outages). */
  private floor = 0
  private readonly stamps: LRUCache<string, number>

  constructor(maxIds: number) {
    this.stamps = new LRUCache<string, number>({
      max: maxIds,
      dispose: (stamp, _id, reason) => {
        if (reason === 'evict' && stamp > this.floor) this.floor = stamp
      },
    })
  }

  /** The current epoch; a load records it when it starts. */
  current(): number {
    return this.epoch
  }

  /** Records an invalidation of `id` now. */
  invalidate(id: string): void {
    this.epoch += 1
    this.stamps.set(id, this.epoch)
  }

  /** Distrusts every load started before now, for every id (e.g. after missed bus messages). */
  invalidateAll(): void {
    this.epoch += 1
    this.floor = this.epoch
  }

  /** True when `id` may have been invalidated after a load that started at `startEpoch`. */
  invalidatedSince(id: string, startEpoch: number): boolean {
    if (this.floor > startEpoch) return true
    const stamp = this.stamps.get(id)
    return stamp !== undefined && stamp > startEpoch
  }
}
