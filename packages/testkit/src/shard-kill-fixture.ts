import { type BreakerEvent, createCache, KeyBuilder, type RemoteStore, type ShardBreakerEvent } from '@tiercache/core'
import type { RedisCluster } from './redis-cluster.js'

/**
 * The cache of the "one shard down is one shard down" tests, ready on `store`: entity `product`
 * (5 min TTL, no L1, no hot keys) in `namespace`, `l2Timeout` 250 ms (generous for a loaded 2-core
 * machine: a healthy shard must not time out for want of CPU). The victim is the master of id
 * `0`'s value key; `onVictim` holds the ids among `0..idCount-1` whose keys it owns. The store's
 * breaker states and the shard breaker events are recorded from the start.
 */
export async function shardKillFixture(cluster: RedisCluster, store: RemoteStore, namespace: string, idCount: number) {
  const cache = createCache({
    namespace,
    l2: store,
    l2Timeout: '250ms',
    entities: { product: { ttl: '5m', l1: false, hot: false } },
  })
  await cache.ready()
  const keys = new KeyBuilder(namespace, 'product')
  const victim = await cluster.masterForKey(keys.valueKey('0'))
  const victimShard = `${victim.host}:${victim.port}`
  const ids = Array.from({ length: idCount }, (_, i) => String(i))
  const onVictim = new Set(ids.filter((id) => store.shardOf?.(keys.valueKey(id)) === victimShard))
  const storeStates: string[] = []
  const shardStates: ShardBreakerEvent[] = []
  cache.on('breaker', (event: BreakerEvent) => storeStates.push(event.state))
  cache.on('shard-breaker', (event: ShardBreakerEvent) => shardStates.push(event))
  return { cache, products: cache.entity<string>('product'), keys, victim, victimShard, ids, onVictim, storeStates, shardStates }
}
