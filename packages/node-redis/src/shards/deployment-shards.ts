import type { RedisClientType, RedisClusterType, RedisSentinelType } from '@redis/client'
import { DurableDeletes } from '@tiercache/redis-common'
import type { ClientHandle } from '../connection/client-handle.js'
import { NodeRedisClusterShards } from './cluster-shards.js'
import { SentinelShard } from './sentinel-shard.js'
import { type StoreShards, standaloneShards } from './store-shards.js'

/**
 * The shards of the deployment `handle` runs on: a cluster's masters, a Sentinel's primary, or one
 * standalone server. `replicaAckTimeoutMs`: how long a durable delete waits for a replica (0: not at all).
 */
export function deploymentShards(handle: ClientHandle, replicaAckTimeoutMs: number): StoreShards {
  const rules = new DurableDeletes(replicaAckTimeoutMs)
  if (handle.kind === 'cluster') return new NodeRedisClusterShards(handle.client as RedisClusterType, rules)
  if (handle.kind === 'sentinel') return new SentinelShard(handle.client as RedisSentinelType, rules)
  return standaloneShards(handle.client as RedisClientType, rules)
}
