import { storeCommonOf } from '@tiercache/redis-common'
import { Cluster } from 'ioredis'
import { clusterSubscriberTopology } from './bus/subscriber-topology.js'
import {
  type RedisClusterStoreOptions,
  type ResolvedClusterStoreOptions,
  resolveClusterStoreOptions,
} from './options/cluster-store-options.js'
import { clusterReadRouting, type ReadRouting } from './read-routing.js'
import { RedisRemoteStore } from './redis-remote-store.js'

/**
 * A `RemoteStore` on Redis Cluster.
 *
 * Pass seed `nodes` (plus any ioredis `ClusterOptions`: `redisOptions.tls`, `username`,
 * `password`, `natMap`, ...) and the store creates and owns a `Cluster`, with the defaults of
 * `DEFAULT_CLUSTER_STORE_OPTIONS` (auto-pipelining on, reads from masters); or pass
 * `{ client }`, an ioredis `Cluster` the application already has, which `close()` leaves open.
 * `bus` picks classic (`'publish'`, the default) or sharded (`'spublish'`) pub/sub; `readFrom`
 * sends reads (all, or only hot keys') to replicas; `logger` receives the warnings of the
 * start-up check of the deployment (see `RedisRemoteStore.deploymentCheck`).
 *
 * Connections: one per master in use (ioredis opens them on first use), plus one subscriber
 * connection on any node once something subscribes (`'publish'`), or one per shard that owns a
 * subscribed channel (`'spublish'`).
 *
 * @throws TierCacheError `INVALID_CONFIG` for invalid options, naming the bad field.
 */
export function redisClusterStore(options: RedisClusterStoreOptions): RedisRemoteStore {
  const resolved = resolveClusterStoreOptions(options)
  const { client, reads } = resolved.kind === 'client' ? { client: resolved.client, reads: undefined } : connectCluster(resolved)
  return new RedisRemoteStore({
    ...storeCommonOf(resolved),
    name: 'redis-cluster',
    client,
    ownsClient: resolved.kind !== 'client',
    cluster: true,
    topology: clusterSubscriberTopology(client),
    reads,
    seeds:
      resolved.kind === 'client'
        ? undefined
        : resolved.nodes.map((node) => (typeof node === 'object' ? `${node.host}:${node.port}` : String(node))),
  })
}

/** A `Cluster` on the seed nodes, with `readFrom` turned into its `scaleReads` and the store's read routing. */
function connectCluster(resolved: Extract<ResolvedClusterStoreOptions, { kind: 'nodes' }>): { client: Cluster; reads: ReadRouting } {
  const routing = clusterReadRouting(resolved.readFrom)
  const client = new Cluster(
    resolved.nodes,
    routing.scaleReads === undefined ? resolved.clusterOptions : { ...resolved.clusterOptions, scaleReads: routing.scaleReads },
  )
  return { client, reads: routing.bind(client) }
}
