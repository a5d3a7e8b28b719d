import { createCluster, type RedisClusterType } from '@redis/client'
import type { AdapterContext, CacheAdapter, Loader } from './types.js'

/**
 * Bare node-redis cluster client (the version `@tiercache/node-redis` uses), written as an
 * application would: `GET` and `JSON.parse`; on a miss, the loader then `SET ... PX ttl`. No
 * memory tier, no coalescing, no lock. node-redis pipelines the commands of one tick by itself.
 */
export function nodeRedisAdapter(context: AdapterContext): CacheAdapter {
  let client: RedisClusterType | undefined
  const prefix = `${context.namespace}:`
  const adapter = {
    reportedErrors: 0,
    async setup() {
      client = createCluster({
        rootNodes: context.cluster.map((node) => ({ socket: { host: node.host, port: node.port } })),
      }) as RedisClusterType
      client.on('error', () => adapter.reportedErrors++)
      await client.connect()
    },
    async getOrSet<T>(key: string, loader: Loader<T>, ttlMs: number): Promise<T> {
      const redis = client as RedisClusterType
      const raw = await redis.get(prefix + key)
      if (raw !== null) return JSON.parse(raw) as T
      const value = await loader()
      await redis.set(prefix + key, JSON.stringify(value), { expiration: { type: 'PX', value: ttlMs } })
      return value
    },
    async invalidate(key: string) {
      await (client as RedisClusterType).del(prefix + key)
    },
    async teardown() {
      if (client?.isOpen) await client.close().catch(() => client?.destroy())
    },
  }
  return adapter
}
