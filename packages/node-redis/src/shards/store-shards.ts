import { PRIMARY_SHARD, type TopologyListener } from '@tiercache/redis-common'

/** How a node-redis store names the shard of a key and reports topology changes (`RemoteStore.shardOf`, `onTopologyChange`). */
export interface StoreShards {
  shardOf(key: string): string
  onTopologyChange(listener: TopologyListener): () => void
  /** Stops watching; the store closes its client only after this settles. */
  close(): void | Promise<void>
}

/**
 * A standalone server: one shard, `primary`, and no topology change the store could see (node-redis
 * reconnects to the address it was given).
 */
export const STANDALONE_SHARDS: StoreShards = {
  shardOf: () => PRIMARY_SHARD,
  onTopologyChange: () => () => {},
  close: () => {},
}
