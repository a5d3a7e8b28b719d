import { groupBySlot, type KeyWrite, UNLINK } from '@tiercache/redis-common'
import type { Cluster, Redis } from 'ioredis'
import { ClusterShards, type TopologyChange } from './cluster-shards.js'
import { PRIMARY_SHARD, PrimaryShard } from './primary-shard.js'
import { ShardDeletes, type UnconfirmedDelete } from './shard-deletes.js'

/**
 * The shards of one store, by deployment kind: a cluster's masters, or the one primary of a
 * standalone or Sentinel deployment. Names the shard of a key, reports topology changes, and
 * deletes keys shard by shard (durably when asked).
 */
export class StoreShards {
  /** A cluster's masters; `undefined` for one primary. */
  readonly cluster: ClusterShards | undefined
  private readonly primary: PrimaryShard | undefined
  private readonly deletes: ShardDeletes

  constructor(
    private readonly client: Redis | Cluster,
    cluster: boolean,
    replicaAckTimeoutMs: number,
  ) {
    if (cluster) this.cluster = new ClusterShards(client as Cluster)
    else this.primary = new PrimaryShard(client as Redis)
    this.deletes = new ShardDeletes(replicaAckTimeoutMs)
  }

  /** The master owning `key`'s slot (`host:port`); `'primary'` for one primary. */
  shardOf(key: string): string {
    return this.cluster === undefined ? PRIMARY_SHARD : this.cluster.shardOf(key)
  }

  onTopologyChange(listener: (change: TopologyChange) => void): () => void {
    return (this.cluster ?? (this.primary as PrimaryShard)).onTopologyChange(listener)
  }

  /**
   * `UNLINK` per slot (a value and its lease go together), or with `write` a tombstone per key,
   * with `WAIT` when `durable`; resolves with the keys no replica acknowledged in time. See
   * {@link ShardDeletes}.
   */
  async delete(keys: readonly string[], durable: boolean, write: KeyWrite = UNLINK): Promise<UnconfirmedDelete[]> {
    if (this.primary !== undefined) return this.deletes.primary(this.client as Redis, this.primary, keys as string[], durable, write)
    const shards = this.cluster as ClusterShards
    const groups = groupBySlot(keys)
    const outcomes = await Promise.all(
      Array.from(groups.values(), (positions) =>
        this.deletes.clusterSlot(this.client as Cluster, shards, pick(keys, positions), durable, write),
      ),
    )
    return outcomes.flat()
  }

  /** Stops watching the topology. */
  close(): void {
    this.cluster?.close()
    this.primary?.close()
  }
}

function pick(keys: readonly string[], positions: readonly number[]): string[] {
  return positions.map((position) => keys[position] as string)
}
