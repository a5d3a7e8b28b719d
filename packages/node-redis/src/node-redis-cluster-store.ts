import { createCluster, type RedisClusterType } from '@redis/client'
import { clusterSubscriberTopology } from './bus/subscriber-topology.js'
import { clusterHandle } from './connection/cluster-handle.js'
import { NodeRedisRemoteStore } from './node-redis-remote-store.js'
import { type NodeRedisClusterStoreOptions, resolveNodeRedisClusterOptions } from './options/cluster-store-options.js'
import { clientOptionsOf } from './options/connection-options.js'
import { clusterReads, type ReadRouting } from './read-routing.js'

/**
 * A `RemoteStore` on Redis Cluster through node-redis v5.
 *
 * Pass seed `nodes` (plus `username`, `password`, `tls`, and any other `createCluster` option in
 * `clusterOptions`) and the store creates, connects and owns the cluster client, retrying until
 * the cluster answers; or pass `{ client }`, a node-redis cluster the application already has,
 * which `close()` leaves open. `bus` picks sharded (`'spublish'`, the default) or classic
 * (`'publish'`) pub/sub; `readFrom` sends reads (all, or only hot keys') to replicas; `logger`
 * receives the warnings of the start-up check of the deployment.
 *
 * Connections: one per master (node-redis connects them all up front; plus one per replica with
 * `readFrom`), plus one subscriber connection per shard owning a subscribed channel (`'spublish'`),
 * or one on any node (`'publish'`).
 *
 * @throws TierCacheError `INVALID_CONFIG` for invalid options, naming the bad field.
 */
export function nodeRedisClusterStore(options: NodeRedisClusterStoreOptions): NodeRedisRemoteStore {
  const resolved = resolveNodeRedisClusterOptions(options)
  let cluster: RedisClusterType
  let reads: ReadRouting | undefined
  if (resolved.kind === 'client') {
    cluster = resolved.client
  } else {
    const { defaults, ...rest } = resolved.clusterOptions
    cluster = createCluster({
      ...rest,
      rootNodes: resolved.nodes.map((node) => ({ socket: node })),
      defaults: clientOptionsOf(resolved.auth, defaults as Record<string, unknown> | undefined),
      useReplicas: resolved.readFrom !== 'primary',
    } as never) as RedisClusterType
    reads = clusterReads(cluster, resolved.readFrom)
  }
  const handle = clusterHandle(cluster)
  return new NodeRedisRemoteStore({
    name: 'node-redis-cluster',
    handle,
    ownsClient: resolved.kind !== 'client',
    bus: resolved.bus,
    topology: clusterSubscriberTopology(cluster, () => handle.connect()),
    reads,
    logger: resolved.logger,
    deploymentCheck: resolved.deploymentCheck,
    replicaAckTimeoutMs: resolved.replicaAckTimeoutMs,
    seeds: resolved.kind === 'client' ? undefined : resolved.nodes.map((node) => `${node.host}:${node.port}`),
  })
}
