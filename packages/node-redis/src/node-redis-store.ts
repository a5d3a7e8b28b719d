import { createClient, createSentinel, type RedisClientOptions, type RedisClientType, type RedisSentinelType } from '@redis/client'
import { sentinelSubscriberTopology, standaloneSubscriberTopology } from './bus/subscriber-topology.js'
import { standaloneHandle } from './connection/standalone-handle.js'
import { NodeRedisRemoteStore } from './node-redis-remote-store.js'
import { clientOptionsOf } from './options/connection-options.js'
import { isSentinelClient, type NodeRedisStoreOptions, resolveNodeRedisStoreOptions } from './options/standalone-store-options.js'
import { type ReadRouting, sentinelReads } from './read-routing.js'

/**
 * A `RemoteStore` on a standalone Redis, or on the primary of a Redis Sentinel deployment,
 * through node-redis v5.
 *
 * Pass a `url`, or `host`/`port`, or `sentinel: { name, sentinels }` (the store asks the
 * Sentinels for the primary and follows failovers; `readFrom` then sends reads, all or only hot
 * keys', to a replica), plus `username`, `password`, `tls`, `database` and any other
 * `createClient` option in `clientOptions`; the store creates, connects and owns the client. Or
 * pass `{ client }`, a node-redis client (`createClient` or `createSentinel`) the application
 * already has, which `close()` leaves open. `bus` picks classic (`'publish'`, the default) or
 * sharded (`'spublish'`, Redis >= 7) pub/sub.
 *
 * Connections: one for every command (plus one to a replica with `readFrom`), plus one
 * subscriber connection once something subscribes.
 *
 * @throws TierCacheError `INVALID_CONFIG` for invalid options, naming the bad field.
 */
export function nodeRedisStore(options: NodeRedisStoreOptions): NodeRedisRemoteStore {
  const resolved = resolveNodeRedisStoreOptions(options)
  if (resolved.kind === 'client') {
    const sentinel = isSentinelClient(resolved.client)
    const handle = standaloneHandle(resolved.client, sentinel)
    return new NodeRedisRemoteStore({
      name: sentinel ? 'node-redis-sentinel' : 'node-redis',
      handle,
      ownsClient: false,
      bus: resolved.bus,
      topology: sentinel
        ? sentinelSubscriberTopology(resolved.client as RedisSentinelType, undefined, () => handle.connect())
        : standaloneSubscriberTopology(resolved.client as RedisClientType),
      logger: resolved.logger,
      deploymentCheck: resolved.deploymentCheck,
      replicaAckTimeoutMs: resolved.replicaAckTimeoutMs,
    })
  }
  const clientOptions = clientOptionsOf(resolved.auth, resolved.clientOptions) as RedisClientOptions
  if (resolved.sentinel === undefined) {
    const client = createClient(clientOptions) as RedisClientType
    return new NodeRedisRemoteStore({
      name: 'node-redis',
      handle: standaloneHandle(client, false),
      ownsClient: true,
      bus: resolved.bus,
      topology: standaloneSubscriberTopology(client),
      logger: resolved.logger,
      deploymentCheck: resolved.deploymentCheck,
      replicaAckTimeoutMs: resolved.replicaAckTimeoutMs,
    })
  }
  const { sentinels, name, password } = resolved.sentinel
  const sentinel = createSentinel({
    name,
    sentinelRootNodes: sentinels,
    nodeClientOptions: clientOptions as never,
    ...(password === undefined ? {} : { sentinelClientOptions: { password } }),
    ...(resolved.readFrom === 'primary' ? {} : { replicaPoolSize: 1 }),
  }) as unknown as RedisSentinelType
  let reads: ReadRouting | undefined
  if (resolved.readFrom !== 'primary') reads = sentinelReads(sentinel, resolved.readFrom)
  const handle = standaloneHandle(sentinel, true)
  return new NodeRedisRemoteStore({
    name: 'node-redis-sentinel',
    handle,
    ownsClient: true,
    bus: resolved.bus,
    topology: sentinelSubscriberTopology(sentinel, clientOptions, () => handle.connect()),
    reads,
    logger: resolved.logger,
    deploymentCheck: resolved.deploymentCheck,
    replicaAckTimeoutMs: resolved.replicaAckTimeoutMs,
    seeds: sentinels.map((node) => `${node.host}:${node.port}`),
  })
}
