import KeyvRedis, { createCluster } from '@keyv/redis'
import type { NodeAddress } from '@tiercache/testkit'
import { Keyv } from 'keyv'

/**
 * The Redis tier of the Keyv-based libraries (cacheable, cache-manager) as @keyv/redis documents
 * it for Redis Cluster: a node-redis cluster from `createCluster({ rootNodes })` wrapped in
 * `KeyvRedis`, in a `Keyv`. Errors are counted through `onError` (Keyv emits them instead of
 * throwing, its default).
 */
export function keyvRedisCluster(seeds: readonly NodeAddress[], namespace: string, onError: () => void): Keyv {
  const cluster = createCluster({ rootNodes: seeds.map((seed) => ({ url: `redis://${seed.host}:${seed.port}` })) })
  const keyv = new Keyv({ store: new KeyvRedis(cluster), namespace, useKeyPrefix: false })
  keyv.on('error', onError)
  return keyv
}
