/**
 * When this instance last saw each shard in a topology change (a failover, slots moving, a master
 * joining or leaving), in real time (`performance.now()`). Locks read on a shard soon after such a
 * change may be leftovers: replication is asynchronous, so a promoted replica can hold a lock whose
 * release (or the lease write that freed it) its old master acknowledged but never sent.
 */
export class ShardChanges {
  private readonly lastSeen = new Map<string, number>()

  /** Notes a topology change involving `shards` now. */
  changed(shards: readonly string[]): void {
    const now = performance.now()
    for (const shard of shards) this.lastSeen.set(shard, now)
  }

  /** Whether `shard` was in a topology change less than `ms` ago. */
  changedWithin(shard: string, ms: number): boolean {
    const seen = this.lastSeen.get(shard)
    return seen !== undefined && performance.now() - seen < ms
  }
}
