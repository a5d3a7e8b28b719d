import { REPLICA_COUNT_MAX_AGE_MS, TOPOLOGY_FAST_REFRESH_MS } from '@tiercache/redis-common'

/** What `CLUSTER SLOTS` answers, as node-redis parses it (`client.clusterSlots()`). */
export type SlotRanges = readonly { from: number; to: number; master: { host: unknown; port: unknown }; replicas?: readonly unknown[] }[]

/**
 * How many replicas each master of a cluster has, as `CLUSTER SLOTS` lists them (it leaves out
 * replicas the cluster marks failed): the same count the ioredis store takes from its slot map.
 * node-redis's own table has replicas only with `useReplicas`, so the count is read here: from the
 * answers the topology watcher already gets ({@link learn}), or, when none is younger than 5 s or
 * the master is not in it (a promoted replica), by asking a connected master (`read`), one read at
 * a time.
 */
export class ClusterReplicas {
  private counts = new Map<string, number>()
  private readAt = Number.NEGATIVE_INFINITY
  private reading: Promise<void> | undefined

  constructor(
    private readonly read: () => Promise<SlotRanges | undefined>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Replicas of the master at `address` (`host:port`); 0 when the cluster does not list it. */
  async of(address: string): Promise<number> {
    const age = this.now() - this.readAt
    // A master missing from the last answer is read for again, but not more often than the fast topology pace.
    if (age > REPLICA_COUNT_MAX_AGE_MS || (!this.counts.has(address) && age > TOPOLOGY_FAST_REFRESH_MS)) await this.readNow()
    return this.counts.get(address) ?? 0
  }

  /** Takes the counts of a `CLUSTER SLOTS` answer read elsewhere. */
  learn(ranges: SlotRanges): void {
    // An empty answer is a node that knows no slots yet (or no longer): nothing to learn from it.
    if (ranges.length === 0) return
    const counts = new Map<string, number>()
    for (const range of ranges) counts.set(`${String(range.master.host)}:${String(range.master.port)}`, range.replicas?.length ?? 0)
    this.counts = counts
    this.readAt = this.now()
  }

  private readNow(): Promise<void> {
    this.reading ??= this.read()
      .then(
        (ranges) => {
          if (ranges !== undefined) this.learn(ranges)
        },
        () => {
          // No master answered: keep the last counts, ask again on the next delete.
        },
      )
      .finally(() => {
        this.reading = undefined
      })
    return this.reading
  }
}
