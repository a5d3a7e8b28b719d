import { LRUCache } from 'lru-cache'
import type { AdapterContext, CacheAdapter, Loader } from './types.js'

/**
 * Bare lru-cache, written as an application would around it: a hit answers synchronously, a miss
 * awaits the loader and stores the value. No coalescing of concurrent misses, no sharing between
 * processes. Same capacity and memory TTL as every other contender's L1.
 */
export function lruCacheAdapter(context: AdapterContext): CacheAdapter {
  const lru = new LRUCache<string, object>({ max: context.l1.maxEntries, ttl: context.l1.ttlMs })
  const load = async <T>(key: string, loader: Loader<T>): Promise<T> => {
    const value = await loader()
    lru.set(key, value as object)
    return value
  }
  return {
    reportedErrors: 0,
    async setup() {},
    getOrSet<T>(key: string, loader: Loader<T>): T | Promise<T> {
      const hit = lru.get(key)
      return hit !== undefined ? (hit as T) : load(key, loader)
    },
    async invalidate(key) {
      lru.delete(key)
    },
    async teardown() {
      lru.clear()
    },
  }
}
