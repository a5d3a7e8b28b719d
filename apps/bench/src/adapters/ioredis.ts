import { Cluster } from 'ioredis-v6'
import type { AdapterContext, CacheAdapter, Loader } from './types.js'

/**
 * Bare ioredis Cluster (the version tiercache's store uses), written as an application would:
 * `GET` and `JSON.parse`; on a miss, the loader then `SET ... PX ttl`. No memory tier, no
 * coalescing, no lock. `autoPipelining` picks `enableAutoPipelining` (off is ioredis' default).
 */
export function ioredisAdapter(context: AdapterContext, autoPipelining: boolean): CacheAdapter {
  let client: Cluster | undefined
  const prefix = `${context.namespace}:`
  const adapter = {
    reportedErrors: 0,
    async setup() {
      client = new Cluster([...context.cluster], { enableAutoPipelining: autoPipelining })
      client.on('error', () => adapter.reportedErrors++)
      await client.get(`${prefix}__warm__`)
    },
    async getOrSet<T>(key: string, loader: Loader<T>, ttlMs: number): Promise<T> {
      const redis = client as Cluster
      const raw = await redis.get(prefix + key)
      if (raw !== null) return JSON.parse(raw) as T
      const value = await loader()
      await redis.set(prefix + key, JSON.stringify(value), 'PX', ttlMs)
      return value
    },
    async invalidate(key: string) {
      await (client as Cluster).del(prefix + key)
    },
    async teardown() {
      if (client !== undefined) await client.quit().catch(() => client?.disconnect())
    },
  }
  return adapter
}
