import type { Cluster, Redis } from 'ioredis'
import { resendRedirected } from '../redirections.js'
import type { ClusterShards } from './cluster-shards.js'
import { PRIMARY_SHARD, type PrimaryShard } from './primary-shard.js'

/** A key a durable delete removed on its master without a replica confirming it, and where. */
export interface UnconfirmedDelete {
  key: string
  shard: string
}

/** Default of `replicaAckTimeoutMs`: how long a durable delete waits for a replica (ms). */
export const DEFAULT_REPLICA_ACK_TIMEOUT_MS = 50

/**
 * After a `WAIT` that timed out on a shard, further durable deletes there skip the wait for this
 * long (ms) and report unconfirmed at once: `WAIT` blocks the connection every command to that
 * master shares, so a replica that stopped acknowledging must not cost every read the timeout.
 */
const SUSPECT_MS = 1_000

/** Error replies that mean the slot is moving or the slot map is stale: the keys are elsewhere, or in two places. */
const REDIRECTION = /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN)\b/

/**
 * Deletes keys and, when asked, confirms that a replica has the deletion. Built per deployment
 * kind; the store calls it once per slot group (a cluster) or once (one primary).
 */
export class ShardDeletes {
  private readonly suspectUntil = new Map<string, number>()

  constructor(
    private readonly ackTimeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether durable deletes wait at all (`replicaAckTimeoutMs` > 0). */
  get enabled(): boolean {
    return this.ackTimeoutMs > 0
  }

  /**
   * Deletes `keys` of ONE slot on a cluster. Normally one pipeline on the connection of the slot's
   * master: `UNLINK k1 k2 ...` (value and lease go together, atomically) followed, when `durable`
   * and the shard has replicas, by `WAIT 1 <timeout>`, which on that same connection covers the
   * UNLINK. While the slot migrates a multi-key command is refused (`TRYAGAIN` whenever one of the
   * keys is missing on a node, e.g. a lease that is not held) and ioredis would retry it every
   * 100 ms until the migration ends, far past any caller's timeout; so when the master answers
   * with a redirection, each key is deleted on its own through the cluster's routing (a single-key
   * command follows ASK and never gets TRYAGAIN), last key first: the engine lists a value before
   * its lease, and the lease must be gone before the value so that a load racing the deletion
   * cannot write its value back between the two. Such deletes are reported unconfirmed (the
   * slot's move ends in a topology change, after which the engine deletes them again).
   */
  async clusterSlot(cluster: Cluster, shards: ClusterShards, keys: string[], durable: boolean): Promise<UnconfirmedDelete[]> {
    const first = keys[0] as string
    const shard = shards.shardOf(first)
    const wait = durable && this.enabled && shards.replicasOf(first) > 0
    const node = masterConnection(cluster, shard)
    if (node !== undefined) {
      const outcome = await this.onMaster(node, shard, keys, wait)
      if (outcome !== 'redirected') return outcome
    }
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i] as string
      await cluster.unlink(key).catch((error: unknown) => resendRedirected(cluster, error, 'unlink', [key]))
    }
    return wait ? keys.map((key) => ({ key, shard })) : []
  }

  /** Deletes `keys` on a standalone or Sentinel-managed primary, waiting for a replica when `durable` and it has one. */
  async primary(client: Redis, primary: PrimaryShard, keys: string[], durable: boolean): Promise<UnconfirmedDelete[]> {
    const wait = durable && this.enabled && (await primary.freshReplicaCount()) > 0
    const outcome = await this.onMaster(client, PRIMARY_SHARD, keys, wait)
    if (outcome === 'redirected') throw new Error('a standalone Redis answered with a cluster redirection')
    return outcome
  }

  private async onMaster(node: Redis, shard: string, keys: string[], wait: boolean): Promise<UnconfirmedDelete[] | 'redirected'> {
    const suspect = wait && this.now() < (this.suspectUntil.get(shard) ?? 0)
    const pipeline = node.pipeline().unlink(...keys)
    if (wait && !suspect) pipeline.call('WAIT', 1, this.ackTimeoutMs)
    const replies = (await pipeline.exec()) ?? []
    const deleteError = replies[0]?.[0]
    if (deleteError) {
      if (REDIRECTION.test(deleteError.message)) return 'redirected'
      throw deleteError
    }
    if (!wait) return []
    const [waitError, acknowledged] = replies[1] ?? [null, 0]
    if (!suspect && waitError === null && Number(acknowledged) >= 1) {
      this.suspectUntil.delete(shard)
      return []
    }
    if (!suspect) this.suspectUntil.set(shard, this.now() + SUSPECT_MS)
    return keys.map((key) => ({ key, shard }))
  }
}

/** The client's connection to the master `shard` names (`host:port` as in the slot map), when it is usable now. */
function masterConnection(cluster: Cluster, shard: string): Redis | undefined {
  for (const node of cluster.nodes('master')) {
    if (`${node.options.host}:${node.options.port}` === shard) return node.status === 'ready' ? node : undefined
  }
  return undefined
}
