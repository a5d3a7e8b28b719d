import { Cluster } from 'ioredis'
import { clusterSubscriberTopology } from './bus/subscriber-topology.js'
import { type RedisClusterStoreOptions, resolveClusterStoreOptions } from './options/cluster-store-options.js'
import { RedisRemoteStore } from './redis-remote-store.js'

/**
 * A `RemoteStore` on Redis Cluster.
 *
 * Pass seed `nodes` (plus any ioredis `ClusterOptions`: `redisOptions.tls`, `username`,
 * `password`, `natMap`, ...) and the store creates and owns a `Cluster`, with the defaults of
 * `DEFAULT_CLUSTER_STORE_OPTIONS` (auto-pipelining on, reads from masters); or pass
 * `{ client }`, an ioredis `Cluster` the application already has, which `close()` leaves open.
 * `bus` picks classic (`'publish'`, the default) or sharded (`'spublish'`) pub/sub.
 *
 * Connections: one per master in use (ioredis opens them on first use), plus one subscriber
 * connection on any node once something subscribes (`'publish'`), or one per shard that owns a
 * subscribed channel (`'spublish'`).
 *
 * @throws TierCacheError `INVALID_CONFIG` for invalid options, naming the bad field.
 */
export function redisClusterStore(options: RedisClusterStoreOptions): RedisRemoteStore {
  const resolved = resolveClusterStoreOptions(options)
  const client = resolved.kind === 'client' ? resolved.client : new Cluster(resolved.nodes, resolved.clusterOptions)
  return new RedisRemoteStore({
    name: 'redis-cluster',
    client,
    ownsClient: resolved.kind !== 'client',
    cluster: true,
    bus: resolved.bus,
    topology: clusterSubscriberTopology(client),
  })
}
