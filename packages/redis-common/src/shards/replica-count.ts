/** How long a primary's replica count is trusted before it is read again (ms); a replica joining or leaving is rare. */
export const REPLICA_COUNT_MAX_AGE_MS = 5_000

/**
 * How many replicas a standalone or Sentinel-managed primary has (`connected_slaves` of `INFO
 * replication`), which a durable delete needs to know whether to wait. Read through `readInfo`
 * (the store's client), at most once at a time, again when older than
 * {@link REPLICA_COUNT_MAX_AGE_MS}, while it is 0 ({@link ReplicaCount.fresh}), or after
 * {@link ReplicaCount.forget} (a reconnection, a failover). A failed read keeps the last count. Shared by the ioredis and the node-redis store.
 */
export class ReplicaCount {
  private replicas = 0
  private readAt = Number.NEGATIVE_INFINITY
  private reading: Promise<void> | undefined

  constructor(
    private readonly readInfo: () => Promise<string>,
    private readonly now: () => number = Date.now,
  ) {}

  /** The count as last read; starts a read in the background when it is stale. */
  current(): number {
    if (this.stale()) void this.read()
    return this.replicas
  }

  /**
   * The count, read first when it is stale or was 0: a replica that connected since (a restarted
   * one, or the old primary rejoining after a failover) must be waited for at once, or a delete
   * confirmed without a wait could be lost if it is promoted before it caught up. A primary
   * without replicas therefore pays one `INFO` round trip per durable delete.
   */
  async fresh(): Promise<number> {
    if (this.stale() || this.replicas === 0) await this.read()
    return this.replicas
  }

  /** The primary may have changed: the next {@link fresh} reads the count again. */
  forget(): void {
    this.readAt = Number.NEGATIVE_INFINITY
  }

  private stale(): boolean {
    return this.now() - this.readAt > REPLICA_COUNT_MAX_AGE_MS
  }

  private read(): Promise<void> {
    this.reading ??= this.readInfo()
      .then(
        (text) => {
          this.replicas = connectedReplicas(String(text))
          this.readAt = this.now()
        },
        () => {
          // Unknown for now: keep the last count, ask again on the next delete.
        },
      )
      .finally(() => {
        this.reading = undefined
      })
    return this.reading
  }
}

/** `connected_slaves` of an `INFO replication` reply: every replica connected, a full sync under way or not; 0 when absent. */
export function connectedReplicas(info: string): number {
  return Number(/(?:^|\n)connected_slaves:(\d+)/.exec(info)?.[1] ?? 0)
}

/**
 * The replicas a durable delete on a cluster master waits for: those the slot map lists (`listed`,
 * from `CLUSTER SLOTS`), or, when it lists none, those connected to the master now (`readInfo`:
 * its `INFO replication`, asked on the master's own connection). `CLUSTER SLOTS` leaves out a
 * replica whose replication offset the cluster knows as 0: one restarted a moment ago, whose full
 * sync is under way or was just loaded. Such a replica holds the master's data as of the sync's
 * snapshot, and, when the master dies before the stream behind it arrives, it is promoted without
 * the deletions made meanwhile: chaos run 11 (docs/failure-behaviour.md) read old values for 6 s
 * after exactly that. Asked only when the map lists none (a degraded shard, or a cluster without
 * replicas, which pays one `INFO` round trip per durable delete); an answer that fails counts 0.
 */
export async function replicasToWaitFor(listed: number, readInfo: (() => Promise<unknown>) | undefined): Promise<number> {
  if (listed > 0 || readInfo === undefined) return listed
  try {
    return connectedReplicas(String(await readInfo()))
  } catch {
    return 0
  }
}
