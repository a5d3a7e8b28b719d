import {
  DurableDeletes,
  type KeyWrite,
  type MasterDeleteReplies,
  replicasToWaitFor,
  TOMBSTONE,
  type UnconfirmedDelete,
} from '@tiercache/redis-common'
import type { Cluster, Redis } from 'ioredis'
import { resendRedirected } from '../redirections.js'
import type { ClusterShards } from './cluster-shards.js'
import type { PrimaryShard } from './primary-shard.js'

export type { UnconfirmedDelete } from '@tiercache/redis-common'

/**
 * Deletes keys (or replaces them with tombstones, see `KeyWrite`) and, when asked, confirms that a
 * replica has the deletion, on ioredis. The rules
 * (when to wait, what counts as confirmed, the 1 s of reporting unconfirmed at once after a
 * timed-out wait, the key-by-key fallback of a migrating slot) are `DurableDeletes` in
 * `@tiercache/redis-common`, shared with the node-redis store; this file only says how ioredis
 * reaches a master. Built per deployment kind; the store calls it once per slot group (a cluster)
 * or once (one primary).
 */
export class ShardDeletes {
  private readonly rules: DurableDeletes

  constructor(ackTimeoutMs: number, now: () => number = Date.now) {
    this.rules = new DurableDeletes(ackTimeoutMs, now)
  }

  /**
   * Deletes `keys` of ONE slot on a cluster: one pipeline on the connection of the slot's master,
   * `UNLINK k1 k2 ...` (value and lease go together, atomically) followed, when `durable` and the
   * shard has replicas, by `WAIT 1 <timeout>`, which on that same connection covers the UNLINK.
   * While the slot migrates a multi-key command is refused (`TRYAGAIN` whenever one of the keys is
   * missing on a node, e.g. a lease that is not held) and ioredis would retry it every 100 ms until
   * the migration ends, far past any caller's timeout; so on a redirection each key is deleted on
   * its own through the cluster's routing (a single-key command follows ASK and never gets
   * TRYAGAIN). See `DurableDeletes.clusterSlot`.
   */
  async clusterSlot(
    cluster: Cluster,
    shards: ClusterShards,
    keys: string[],
    durable: boolean,
    write: KeyWrite,
  ): Promise<UnconfirmedDelete[]> {
    const first = keys[0] as string
    const shard = shards.shardOf(first)
    const node = masterConnection(cluster, shard)
    return this.rules.clusterSlot(
      shard,
      keys,
      await this.rules.mustConfirm(durable, () =>
        replicasToWaitFor(shards.replicasOf(first), node === undefined ? undefined : () => node.info('replication')),
      ),
      node === undefined ? undefined : (group, waitMs) => sendOnMaster(node, write, group, waitMs),
      (key) => writeOne(cluster, write, key),
    )
  }

  /** Deletes `keys` on a standalone or Sentinel-managed primary, waiting for a replica when `durable` and it has one. */
  primary(client: Redis, primary: PrimaryShard, keys: string[], durable: boolean, write: KeyWrite): Promise<UnconfirmedDelete[]> {
    return this.rules.onPrimary(
      keys,
      durable,
      () => primary.freshReplicaCount(),
      (group, waitMs) => sendOnMaster(client, write, group, waitMs),
    )
  }
}

/**
 * `write` (`UNLINK keys`, or a tombstone `SET` per key) and, with `waitMs`, `WAIT 1 <waitMs>` in
 * one pipeline: one connection, one round trip. The first failed write is the write's error.
 */
async function sendOnMaster(node: Redis, write: KeyWrite, keys: string[], waitMs: number | undefined): Promise<MasterDeleteReplies> {
  const pipeline = node.pipeline()
  if (write.kind === 'unlink') pipeline.unlink(...keys)
  else for (const key of keys) pipeline.set(key, TOMBSTONE, 'PX', write.ttlMs)
  const writes = write.kind === 'unlink' ? 1 : keys.length
  if (waitMs !== undefined) pipeline.call('WAIT', 1, waitMs)
  const replies = (await pipeline.exec()) ?? []
  const [waitError, acknowledged] = replies[writes] ?? [null, undefined]
  return {
    deleteError: replies.slice(0, writes).find(([error]) => error !== null)?.[0] ?? null,
    acknowledged: waitError ?? (acknowledged === undefined ? undefined : Number(acknowledged)),
  }
}

/** `write` on one key through the cluster's routing (which follows MOVED and ASK). */
function writeOne(cluster: Cluster, write: KeyWrite, key: string): Promise<unknown> {
  if (write.kind === 'unlink') return cluster.unlink(key).catch((error: unknown) => resendRedirected(cluster, error, 'unlink', [key]))
  const args = [key, TOMBSTONE, 'PX', write.ttlMs]
  return cluster.set(key, TOMBSTONE, 'PX', write.ttlMs).catch((error: unknown) => resendRedirected(cluster, error, 'set', args))
}

/** The client's connection to the master `shard` names (`host:port` as in the slot map), when it is usable now. */
function masterConnection(cluster: Cluster, shard: string): Redis | undefined {
  for (const node of cluster.nodes('master')) {
    if (`${node.options.host}:${node.options.port}` === shard) return node.status === 'ready' ? node : undefined
  }
  return undefined
}
