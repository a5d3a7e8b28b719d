import { PRIMARY_SHARD, ReplicaCount } from '@tiercache/redis-common'
import type { Redis } from 'ioredis'
import type { TopologyChange, TopologyListener } from './cluster-shards.js'

// The id is shared with the node-redis store.
export { PRIMARY_SHARD } from '@tiercache/redis-common'

/**
 * The single shard of a standalone Redis or a Sentinel deployment. A topology change is the
 * client reaching a primary at another address than before: after a Sentinel failover (the store
 * turns on ioredis's `failoverDetector`, which drops the connection on the Sentinels'
 * `+switch-master`, so the client reconnects at once even when the old primary still runs), or a
 * standalone server behind a name that now resolves elsewhere. Also tracks how many replicas the
 * primary has (`INFO replication`), which a durable delete needs to know whether to wait.
 */
export class PrimaryShard {
  private readonly listeners = new Set<TopologyListener>()
  private address: string | undefined
  private readonly replicas: ReplicaCount

  constructor(private readonly client: Redis) {
    this.replicas = new ReplicaCount(() => client.info('replication'))
    client.on('ready', this.connected)
    if (client.status === 'ready') this.connected()
  }

  onTopologyChange(listener: TopologyListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Replicas connected to the primary as last read; re-read in the background when older than 5 s. */
  replicaCount(): number {
    return this.replicas.current()
  }

  /** Resolves once the replica count has been read since the last (re)connection. */
  freshReplicaCount(): Promise<number> {
    return this.replicas.fresh()
  }

  close(): void {
    this.listeners.clear()
    this.client.off('ready', this.connected)
  }

  private readonly connected = (): void => {
    const stream = (this.client as { stream?: { remoteAddress?: string; remotePort?: number } }).stream
    const address = stream?.remoteAddress === undefined ? undefined : `${stream.remoteAddress}:${stream.remotePort}`
    const previous = this.address
    this.address = address
    this.replicas.forget()
    this.replicas.current() // starts reading the new primary's count in the background
    if (previous === undefined || address === undefined || previous === address) return
    const change: TopologyChange = { shards: [PRIMARY_SHARD], reason: 'failover' }
    for (const listener of [...this.listeners]) {
      try {
        listener(change)
      } catch {
        // A listener's failure is its own.
      }
    }
  }
}
