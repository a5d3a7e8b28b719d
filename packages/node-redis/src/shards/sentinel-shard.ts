import type { RedisSentinelType } from '@redis/client'
import {
  type DurableDeletes,
  type KeyWrite,
  PRIMARY_SHARD,
  ReplicaCount,
  type TopologyListener,
  tellTopologyListeners,
  UNLINK,
  type UnconfirmedDelete,
} from '@tiercache/redis-common'
import { type MasterConnection, writeThenWait } from './master-delete.js'
import type { StoreShards } from './store-shards.js'

/** What node-redis's Sentinel client hands its `topology-change` listeners (the part read here). */
interface SentinelEvent {
  type?: string
  node?: { host?: unknown; port?: unknown }
}

/**
 * The one shard of a Sentinel deployment. A topology change is the Sentinel client moving to
 * another primary (its `topology-change` event of type `MASTER_CHANGE`, raised when the Sentinels
 * announce `+switch-master`, also when the old primary still runs): reported as
 * `{ shards: ['primary'], reason: 'failover' }`, as the ioredis Sentinel store does, so the
 * engine probes the shard's breaker at once and applies again the invalidations no replica
 * confirmed. The client's first primary is no change.
 *
 * Durable deletes (and tombstones) send `UNLINK` and `WAIT` through the Sentinel client in the same tick: with one
 * master connection (`masterPoolSize` 1, node-redis's default and what the store creates) both
 * travel on it, in order, so the `WAIT` covers the `UNLINK`. (`sentinel.use` would pin a
 * connection for any pool size, but it waits for a lease the store's other commands share and may
 * hold for as long as they keep coming.) The primary's replica count (`INFO replication`, on the
 * primary) is read again after each failover.
 */
export class SentinelShard implements StoreShards {
  private readonly listeners = new Set<TopologyListener>()
  private primary: string | undefined
  private readonly replicas: ReplicaCount
  private readonly connection: MasterConnection

  constructor(
    private readonly sentinel: RedisSentinelType,
    private readonly rules: DurableDeletes,
  ) {
    this.primary = addressOf(sentinel.getMasterNode())
    // Not readonly, so never sent to a replica (with `readFrom`, readonly commands may be).
    this.replicas = new ReplicaCount(() => sentinel.sendCommand<string>(false, ['INFO', 'replication']))
    this.connection = { send: (args) => sentinel.sendCommand(false, args) }
    sentinel.on('topology-change', this.changed)
  }

  shardOf(): string {
    return PRIMARY_SHARD
  }

  onTopologyChange(listener: TopologyListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  delete(keys: readonly string[], durable: boolean, write: KeyWrite = UNLINK): Promise<UnconfirmedDelete[]> {
    return this.rules.onPrimary(
      keys as string[],
      durable,
      () => this.replicas.fresh(),
      (group, waitMs) => writeThenWait(this.connection, write, group, waitMs),
    )
  }

  close(): void {
    this.listeners.clear()
    this.sentinel.off('topology-change', this.changed)
  }

  private readonly changed = (event: SentinelEvent): void => {
    if (event.type !== 'MASTER_CHANGE') return
    const previous = this.primary
    this.primary = addressOf(event.node)
    this.replicas.forget()
    if (previous === undefined || this.primary === undefined || previous === this.primary) return
    tellTopologyListeners(this.listeners, { shards: [PRIMARY_SHARD], reason: 'failover' })
  }
}

function addressOf(node: { host?: unknown; port?: unknown } | undefined): string | undefined {
  return node?.host === undefined ? undefined : `${String(node.host)}:${String(node.port)}`
}
