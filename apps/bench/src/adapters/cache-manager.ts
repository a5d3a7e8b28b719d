import { type Cache, createCache } from 'cache-manager'
import { CacheableMemory } from 'cacheable'
import { Keyv } from 'keyv'
import { keyvRedisCluster } from './keyv-redis.js'
import type { AdapterContext, CacheAdapter, Loader } from './types.js'

/**
 * cache-manager v7 as its README sets up layer 1 + layer 2: `CacheableMemory({ ttl, lruSize })`
 * in a Keyv, then `@keyv/redis` on Redis Cluster, both in `stores`; reads through `wrap`.
 * cache-manager has no bus: another instance's memory tier keeps an invalidated value until
 * its TTL. Profile `l2`: the Redis store alone.
 */
export function cacheManagerAdapter(context: AdapterContext): CacheAdapter {
  let cache: Cache | undefined
  const adapter = {
    reportedErrors: 0,
    async setup() {
      const redis = keyvRedisCluster(context.cluster, context.namespace, () => {
        adapter.reportedErrors++
      })
      const stores =
        context.profile === 'l1'
          ? [new Keyv({ store: new CacheableMemory({ ttl: context.l1.ttlMs, lruSize: context.l1.maxEntries }) }), redis]
          : [redis]
      cache = createCache({ stores })
      await cache.get('__warm__')
    },
    getOrSet<T>(key: string, loader: Loader<T>, ttlMs: number): Promise<T> {
      return (cache as Cache).wrap(key, loader, ttlMs)
    },
    async invalidate(key: string) {
      await (cache as Cache).del(key)
    },
    async teardown() {
      await cache?.disconnect().catch(() => {})
    },
  }
  return adapter
}
