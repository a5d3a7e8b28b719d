import type { RedisClusterType, RedisSentinelType } from '@redis/client'
import type { ClientHandle } from '../connection/client-handle.js'
import { NodeRedisClusterShards } from './cluster-shards.js'
import { SentinelShard } from './sentinel-shard.js'
import { STANDALONE_SHARDS, type StoreShards } from './store-shards.js'

/** The shards of the deployment `handle` runs on: a cluster's masters, a Sentinel's primary, or one standalone server. */
export function deploymentShards(handle: ClientHandle): StoreShards {
  if (handle.kind === 'cluster') return new NodeRedisClusterShards(handle.client as RedisClusterType)
  if (handle.kind === 'sentinel') return new SentinelShard(handle.client as RedisSentinelType)
  return STANDALONE_SHARDS
}
