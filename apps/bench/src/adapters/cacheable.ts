import { RedisMessageProvider } from '@qified/redis'
import { Cacheable, createKeyv } from 'cacheable'
import { Cluster } from 'ioredis-v6'
import { keyvRedisCluster } from './keyv-redis.js'
import { countSubscribers, waitForSubscribers } from './pubsub-ready.js'
import type { AdapterContext, CacheAdapter, Loader } from './types.js'

/**
 * cacheable as its README sets up layer 1 + layer 2 for several instances: the in-memory primary
 * (`createKeyv({ ttl, lruSize })`), `@keyv/redis` on Redis Cluster as secondary (blocking, the
 * default: non-blocking mode answers a primary miss as a miss without waiting for Redis), and
 * `CacheableSync` over `@qified/redis` so a delete or set on one instance reaches the others'
 * primary. `@qified/redis` takes one `uri` (no cluster client): it is pointed at the first seed
 * node, where classic PUBLISH reaches subscribers on every node of the cluster.
 * Profile `l2`: @keyv/redis as the only store (the primary), no memory tier.
 */
export function cacheableAdapter(context: AdapterContext): CacheAdapter {
  let cache: Cacheable | undefined
  const adapter = {
    reportedErrors: 0,
    async setup() {
      const onError = (): void => {
        adapter.reportedErrors++
      }
      const redis = keyvRedisCluster(context.cluster, context.namespace, onError)
      if (context.profile === 'l2') {
        cache = new Cacheable({ primary: redis, namespace: context.namespace })
      } else {
        const seed = context.cluster[0]
        if (seed === undefined) throw new Error('cacheable: no seed node')
        const channel = `${context.namespace}::cache:delete`
        const probe = new Cluster([...context.cluster])
        try {
          const before = await countSubscribers(probe, channel)
          cache = new Cacheable({
            primary: createKeyv({ ttl: context.l1.ttlMs, lruSize: context.l1.maxEntries }),
            secondary: redis,
            namespace: context.namespace,
            sync: { qified: new RedisMessageProvider({ uri: `redis://${seed.host}:${seed.port}` }) },
          })
          await waitForSubscribers(probe, channel, before)
        } finally {
          probe.disconnect()
        }
      }
      cache.on('error', onError)
      // Connect before the first measured call.
      await cache.get('__warm__')
    },
    async getOrSet<T>(key: string, loader: Loader<T>, ttlMs: number): Promise<T> {
      return (await (cache as Cacheable).getOrSet(key, async () => loader(), { ttl: ttlMs })) as T
    },
    async invalidate(key: string) {
      await (cache as Cacheable).delete(key)
    },
    async teardown() {
      await cache?.disconnect().catch(() => {})
    },
  }
  return adapter
}
