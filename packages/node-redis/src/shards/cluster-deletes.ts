import type { RedisClientType, RedisClusterType } from '@redis/client'
import {
  type DurableDeletes,
  groupBySlot,
  type KeyWrite,
  keySlot,
  replicasToWaitFor,
  TOMBSTONE,
  UNKNOWN_SHARD,
  type UnconfirmedDelete,
} from '@tiercache/redis-common'
import { writeThenWait } from './master-delete.js'

/**
 * Deletes keys (or replaces them with tombstones: `write`) on a cluster, slot by slot, durably when asked (see `DurableDeletes` in
 * `@tiercache/redis-common`, the rules the ioredis store follows too). Each slot's keys go to its
 * master on node-redis's own connection to it (`UNLINK` and, when the shard has replicas,
 * `WAIT 1 <timeout>` behind it); the connection is used only when it is ready, so a delete never
 * waits for a reconnection there. On a redirection (the slot is migrating or the table is stale),
 * or with no ready connection, each key goes through the cluster client, which follows `MOVED`
 * and `ASK`. `replicasOf`: the replicas of a master (`host:port`).
 */
export async function deleteOnCluster(
  cluster: RedisClusterType,
  rules: DurableDeletes,
  replicasOf: (address: string) => Promise<number>,
  keys: readonly string[],
  durable: boolean,
  write: KeyWrite,
): Promise<UnconfirmedDelete[]> {
  const groups = Array.from(groupBySlot(keys).values(), (positions) => positions.map((position) => keys[position] as string))
  const outcomes = await Promise.all(
    groups.map(async (group) => {
      const master = cluster.slots[keySlot(group[0] as string)]?.master
      const shard = master?.address ?? UNKNOWN_SHARD
      const client = master?.client?.isReady === true ? (master.client as RedisClientType) : undefined
      const wait = await rules.mustConfirm(durable, async () =>
        master === undefined
          ? 0
          : replicasToWaitFor(
              await replicasOf(shard),
              client === undefined ? undefined : () => client.sendCommand(['INFO', 'replication']),
            ),
      )
      return rules.clusterSlot(
        shard,
        group,
        wait,
        client === undefined
          ? undefined
          : (slotKeys, waitMs) => writeThenWait({ send: (args) => client.sendCommand(args) }, write, slotKeys, waitMs),
        (key) =>
          write.kind === 'unlink' ? cluster.unlink(key) : cluster.set(key, TOMBSTONE, { expiration: { type: 'PX', value: write.ttlMs } }),
      )
    }),
  )
  return outcomes.flat()
}
