import type { RedisSentinelType } from '@redis/client'
import { PRIMARY_SHARD, type TopologyListener, tellTopologyListeners } from '@tiercache/redis-common'
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
 */
export class SentinelShard implements StoreShards {
  private readonly listeners = new Set<TopologyListener>()
  private primary: string | undefined

  constructor(private readonly sentinel: RedisSentinelType) {
    this.primary = addressOf(sentinel.getMasterNode())
    sentinel.on('topology-change', this.changed)
  }

  shardOf(): string {
    return PRIMARY_SHARD
  }

  onTopologyChange(listener: TopologyListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  close(): void {
    this.listeners.clear()
    this.sentinel.off('topology-change', this.changed)
  }

  private readonly changed = (event: SentinelEvent): void => {
    if (event.type !== 'MASTER_CHANGE') return
    const previous = this.primary
    this.primary = addressOf(event.node)
    if (previous === undefined || this.primary === undefined || previous === this.primary) return
    tellTopologyListeners(this.listeners, { shards: [PRIMARY_SHARD], reason: 'failover' })
  }
}

function addressOf(node: { host?: unknown; port?: unknown } | undefined): string | undefined {
  return node?.host === undefined ? undefined : `${String(node.host)}:${String(node.port)}`
}
