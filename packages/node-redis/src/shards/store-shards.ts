import type { RedisClientType } from '@redis/client'
import {
  type DurableDeletes,
  type KeyWrite,
  PRIMARY_SHARD,
  ReplicaCount,
  type TopologyListener,
  UNLINK,
  type UnconfirmedDelete,
} from '@tiercache/redis-common'
import { writeThenWait } from './master-delete.js'

/**
 * How a node-redis store names the shard of a key, reports topology changes (`RemoteStore.shardOf`,
 * `onTopologyChange`) and deletes keys shard by shard, durably when asked.
 */
export interface StoreShards {
  shardOf(key: string): string
  onTopologyChange(listener: TopologyListener): () => void
  /**
   * `UNLINK` per slot (a value and its lease go together), or with `write` a tombstone per key,
   * with `WAIT 1 <timeout>` on the same connection when `durable` and the shard has replicas;
   * resolves with the keys no replica acknowledged in time. See `DurableDeletes` in
   * `@tiercache/redis-common`.
   */
  delete(keys: readonly string[], durable: boolean, write?: KeyWrite): Promise<UnconfirmedDelete[]>
  /** Stops watching; the store closes its client only after this settles. */
  close(): void | Promise<void>
}

/**
 * A standalone server: one shard, `primary`, and no topology change the store could see (node-redis
 * reconnects to the address it was given). Durable deletes wait for a replica when the server has
 * one: replicas of a standalone server are not failed over to by the client, but an operator may
 * promote one behind the same name.
 */
export function standaloneShards(client: RedisClientType, rules: DurableDeletes): StoreShards {
  const replicas = new ReplicaCount(() => client.info('replication'))
  const connection = { send: (args: string[]) => client.sendCommand(args) }
  return {
    shardOf: () => PRIMARY_SHARD,
    onTopologyChange: () => () => {},
    delete: (keys, durable, write = UNLINK) =>
      rules.onPrimary(
        keys as string[],
        durable,
        () => replicas.fresh(),
        (group, waitMs) => writeThenWait(connection, write, group, waitMs),
      ),
    close: () => {},
  }
}
