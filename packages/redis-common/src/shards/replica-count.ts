/** How long a primary's replica count is trusted before it is read again (ms); a replica joining or leaving is rare. */
export const REPLICA_COUNT_MAX_AGE_MS = 5_000

/**
 * How many replicas a standalone or Sentinel-managed primary has (`connected_slaves` of `INFO
 * replication`), which a durable delete needs to know whether to wait. Read through `readInfo`
 * (the store's client), at most once at a time, again when older than
 * {@link REPLICA_COUNT_MAX_AGE_MS} or after {@link ReplicaCount.forget} (a reconnection, a
 * failover). A failed read keeps the last count. Shared by the ioredis and the node-redis store.
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

  /** The count, read first when it is stale. */
  async fresh(): Promise<number> {
    if (this.stale()) await this.read()
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
          this.replicas = Number(/(?:^|\n)connected_slaves:(\d+)/.exec(String(text))?.[1] ?? 0)
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
