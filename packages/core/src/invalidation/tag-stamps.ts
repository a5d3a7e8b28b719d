import { LRUCache } from 'lru-cache'
import { tagStampKey } from '../l2/key-builder.js'
import type { RemoteStore } from '../l2/remote-store.js'

/**
 * The invalidation stamps of tags (clock ms: an entry created at or before its tag's stamp is
 * invalid). This instance knows stamps from its own `invalidateTag` calls, from bus messages
 * and from L2 reads; a known stamp stays valid while the bus is up, because any later
 * invalidation arrives on it. Cleared when the bus reconnects, since messages may have been
 * missed; unknown tags are read from L2 (one MGET per slot group), so the Redis work of a tag
 * invalidation is O(1) and reads of tagged entries cost at most one extra round trip.
 */
export class TagStamps {
  private readonly known: LRUCache<string, number>

  constructor(
    private readonly namespace: string,
    private readonly l2: RemoteStore | null,
    maxTags = 10_000,
  ) {
    this.known = new LRUCache<string, number>({ max: maxTags })
  }

  /** Records a stamp; stamps never move backwards. */
  record(tag: string, stamp: number): void {
    const current = this.known.get(tag)
    if (current === undefined || stamp > current) this.known.set(tag, stamp)
  }

  /** True when an entry created at `createdAt` with these tags is invalid by what is known locally. */
  invalidatesLocally(tags: readonly string[], createdAt: number): boolean {
    for (const tag of tags) {
      const stamp = this.known.get(tag)
      if (stamp !== undefined && stamp >= createdAt) return true
    }
    return false
  }

  /**
   * True when an entry created at `createdAt` with these tags is invalid, reading the stamps
   * this instance does not know from L2. Rejects when L2 fails (the caller treats the entry as a miss).
   */
  async invalidates(tags: readonly string[], createdAt: number): Promise<boolean> {
    if (tags.length === 0) return false
    if (this.invalidatesLocally(tags, createdAt)) return true
    const unknown = tags.filter((tag) => this.known.get(tag) === undefined)
    if (unknown.length === 0 || this.l2 === null) return false
    const stamps = await this.l2.getTagStamps(unknown.map((tag) => tagStampKey(this.namespace, tag)))
    unknown.forEach((tag, i) => {
      this.record(tag, stamps[i] ?? 0)
    })
    return this.invalidatesLocally(tags, createdAt)
  }

  /** Forgets every stamp (they will be read from L2 again). */
  clear(): void {
    this.known.clear()
  }
}
