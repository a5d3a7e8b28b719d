import { BentoCache, bentostore } from 'bentocache'
import { memoryDriver } from 'bentocache/drivers/memory'
import { redisBusDriver, redisDriver } from 'bentocache/drivers/redis'
// bentocache's peer range is ioredis ^5: the bench's `ioredis` is 5.x for it (bare ioredis uses 6, as tiercache).
import { Cluster } from 'ioredis'
import { countSubscribers, waitForSubscribers } from './pubsub-ready.js'
import type { AdapterContext, CacheAdapter, Loader } from './types.js'

// bentocache's bus channel for a store named `cache` (classic pub/sub).
const BUS_CHANNEL = 'bentocache.notifications:cache'

/**
 * bentocache as its multi-tier guide sets it up for several instances: a memory L1
 * (`memoryDriver`, capped at the context's entry count; values serialized, its default), a Redis
 * L2 (`redisDriver`) and the Redis bus (`redisBusDriver`) on one ioredis `Cluster` instance, which
 * its drivers accept in place of connection options (the bus duplicates it for pub/sub).
 * Profile `l2`: the Redis layer alone.
 */
export function bentocacheAdapter(context: AdapterContext): CacheAdapter {
  let connection: Cluster | undefined
  let bento: BentoCache<{ cache: ReturnType<typeof bentostore> }> | undefined
  const adapter = {
    reportedErrors: 0,
    async setup() {
      connection = new Cluster([...context.cluster])
      connection.on('error', () => adapter.reportedErrors++)
      const before = context.profile === 'l1' ? await countSubscribers(connection, BUS_CHANNEL) : 0
      const store =
        context.profile === 'l1'
          ? bentostore()
              .useL1Layer(memoryDriver({ maxItems: context.l1.maxEntries }))
              .useL2Layer(redisDriver({ connection }))
              .useBus(redisBusDriver({ connection }))
          : bentostore().useL2Layer(redisDriver({ connection }))
      bento = new BentoCache({ default: 'cache', prefix: context.namespace, stores: { cache: store } })
      // The bus subscribes in the background; a first round trip makes sure the L2 connection is up.
      await bento.has({ key: '__warm__' })
      if (context.profile === 'l1') await waitForSubscribers(connection, BUS_CHANNEL, before)
    },
    getOrSet<T>(key: string, loader: Loader<T>, ttlMs: number): Promise<T> {
      return (bento as BentoCache<{ cache: ReturnType<typeof bentostore> }>).getOrSet({ key, factory: loader, ttl: ttlMs })
    },
    async invalidate(key: string) {
      await (bento as BentoCache<{ cache: ReturnType<typeof bentostore> }>).delete({ key })
    },
    async teardown() {
      await bento?.disconnect().catch(() => {})
      if (connection !== undefined && connection.status !== 'end') await connection.quit().catch(() => connection?.disconnect())
    },
  }
  return adapter
}
