import { createCache, type EntityHandle, type RemoteStore, type TierCache } from '@tiercache/core'
import { nodeRedisClusterStore } from '@tiercache/node-redis'
import { redisClusterStore } from '@tiercache/redis'
import type { AdapterContext, CacheAdapter, Loader } from './types.js'

const ENTITY = 'item'

/**
 * tiercache with its defaults: one entity whose TTL is the workload's (tiercache sets TTLs per
 * entity, so `getOrSet`'s `ttlMs` is the one the entity was declared with), L1 per the context
 * or none, L2 on a Redis Cluster store (its defaults: sharded pub/sub bus): `@tiercache/redis`
 * (ioredis, auto-pipelining) or, with `client: 'node-redis'`, `@tiercache/node-redis`.
 */
export function tiercacheAdapter(context: AdapterContext, client: 'ioredis' | 'node-redis' = 'ioredis'): CacheAdapter {
  let cache: TierCache | undefined
  let entity: EntityHandle<unknown> | undefined
  return {
    reportedErrors: 0,
    async setup() {
      cache = createCache({
        namespace: context.namespace,
        l2: clusterStore(context, client),
        entities: {
          [ENTITY]: {
            ttl: context.ttlMs,
            l1: context.profile === 'l1' ? { ttl: context.l1.ttlMs, maxEntries: context.l1.maxEntries } : false,
            ...(context.hot === undefined ? {} : { hot: context.hot }),
          },
        },
      })
      await cache.ready()
      entity = cache.entity(ENTITY)
    },
    getOrSet<T>(key: string, loader: Loader<T>): Promise<T> {
      return (entity as EntityHandle<T>).get(key, loader)
    },
    invalidate(key) {
      return (entity as EntityHandle<unknown>).invalidate(key)
    },
    async teardown() {
      await cache?.close()
    },
    entityStats: () => {
      const s = (entity as EntityHandle<unknown>).stats()
      return { l1Hits: s.l1Hits, l2Hits: s.l2Hits, misses: s.misses, loads: s.loads, l2Errors: s.l2Errors }
    },
  }
}

function clusterStore(context: AdapterContext, client: 'ioredis' | 'node-redis'): RemoteStore {
  const bus = context.bus === undefined ? {} : { bus: context.bus }
  if (client === 'node-redis')
    return nodeRedisClusterStore({ nodes: context.cluster.map((node) => ({ host: node.host, port: node.port })), ...bus })
  return redisClusterStore({ nodes: [...context.cluster], ...bus })
}
