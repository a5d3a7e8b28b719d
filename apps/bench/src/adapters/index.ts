import type { AdapterSpec, ContenderName, Profile } from './types.js'

export type { AdapterContext, AdapterSpec, CacheAdapter, ContenderName, Loader, Profile } from './types.js'

/** Every contender, tiercache first. Libraries are imported only when a workload uses them. */
export const CONTENDERS: readonly AdapterSpec[] = [
  {
    name: 'tiercache',
    profiles: ['l1', 'l2'],
    packages: ['@tiercache/core', '@tiercache/redis'],
    coherence: 'invalidation bus on Redis pub/sub (sharded SPUBLISH by default)',
    config: {
      l1: 'createCache with redisClusterStore({ nodes }) (its defaults: auto-pipelining, sharded-pub/sub bus); one entity with L1 { ttl, maxEntries }',
      l2: 'the same store; entity with l1: false',
    },
    load: async () => (await import('./tiercache.js')).tiercacheAdapter,
  },
  {
    name: 'tiercache (node-redis)',
    profiles: ['l1', 'l2'],
    packages: ['@tiercache/core', '@tiercache/node-redis'],
    coherence: 'invalidation bus on Redis pub/sub (sharded SPUBLISH by default)',
    config: {
      l1: 'createCache with nodeRedisClusterStore({ nodes }) (its defaults: sharded-pub/sub bus); one entity with L1 { ttl, maxEntries }',
      l2: 'the same store; entity with l1: false',
    },
    load: async () => {
      const { tiercacheAdapter } = await import('./tiercache.js')
      return (context) => tiercacheAdapter(context, 'node-redis')
    },
  },
  {
    name: 'bentocache',
    profiles: ['l1', 'l2'],
    packages: ['bentocache', 'ioredis', '@boringnode/bus'],
    coherence: 'redisBusDriver (classic PUBLISH; messages carry the keys to drop)',
    config: {
      l1: 'bentostore().useL1Layer(memoryDriver({ maxItems })).useL2Layer(redisDriver({ connection: cluster })).useBus(redisBusDriver({ connection: cluster })), cluster = new ioredis Cluster(seeds)',
      l2: 'bentostore().useL2Layer(redisDriver({ connection: cluster }))',
    },
    load: async () => (await import('./bentocache.js')).bentocacheAdapter,
  },
  {
    name: 'cacheable',
    profiles: ['l1', 'l2'],
    packages: ['cacheable', '@keyv/redis', '@redis/client', 'keyv', '@qified/redis'],
    coherence: 'CacheableSync over @qified/redis (classic PUBLISH to one node of the cluster)',
    config: {
      l1: 'new Cacheable({ primary: createKeyv({ ttl, lruSize }), secondary: Keyv(KeyvRedis(createCluster({ rootNodes }))), sync: { qified: RedisMessageProvider({ uri }) } })',
      l2: 'new Cacheable({ primary: Keyv(KeyvRedis(createCluster({ rootNodes }))) })',
    },
    load: async () => (await import('./cacheable.js')).cacheableAdapter,
  },
  {
    name: 'cache-manager',
    profiles: ['l1', 'l2'],
    packages: ['cache-manager', '@keyv/redis', '@redis/client', 'keyv'],
    coherence: 'none: another instance keeps an invalidated value in memory until its memory TTL',
    config: {
      l1: 'createCache({ stores: [Keyv(CacheableMemory({ ttl, lruSize })), Keyv(KeyvRedis(createCluster({ rootNodes })))] }), reads through wrap()',
      l2: 'createCache({ stores: [Keyv(KeyvRedis(createCluster({ rootNodes })))] })',
    },
    load: async () => (await import('./cache-manager.js')).cacheManagerAdapter,
  },
  {
    name: 'lru-cache',
    profiles: ['l1'],
    packages: ['lru-cache'],
    coherence: 'none (one process)',
    config: { l1: 'new LRUCache({ max, ttl }); get, and on a miss await the loader and set', l2: 'n/a' },
    load: async () => (await import('./lru-cache.js')).lruCacheAdapter,
  },
  {
    name: 'ioredis',
    profiles: ['l2'],
    packages: ['ioredis-v6'],
    coherence: 'nothing to keep coherent (no memory tier)',
    config: { l1: 'n/a', l2: 'new Cluster(seeds, { enableAutoPipelining: true }); GET + JSON.parse, on a miss loader + SET PX' },
    load: async () => {
      const { ioredisAdapter } = await import('./ioredis.js')
      return (context) => ioredisAdapter(context, true)
    },
  },
  {
    name: 'node-redis',
    profiles: ['l2'],
    packages: ['@redis/client'],
    coherence: 'nothing to keep coherent (no memory tier)',
    config: { l1: 'n/a', l2: 'createCluster({ rootNodes }) (node-redis pipelines each tick); GET + JSON.parse, on a miss loader + SET PX' },
    load: async () => (await import('./node-redis.js')).nodeRedisAdapter,
  },
  {
    name: 'ioredis (no pipelining)',
    profiles: ['l2'],
    packages: ['ioredis-v6'],
    coherence: 'nothing to keep coherent (no memory tier)',
    config: { l1: 'n/a', l2: 'new Cluster(seeds) (ioredis defaults); GET + JSON.parse, on a miss loader + SET PX' },
    load: async () => {
      const { ioredisAdapter } = await import('./ioredis.js')
      return (context) => ioredisAdapter(context, false)
    },
  },
]

/** The spec of `name`; throws for an unknown one. */
export function contender(name: ContenderName): AdapterSpec {
  const spec = CONTENDERS.find((c) => c.name === name)
  if (spec === undefined) throw new Error(`unknown contender ${name}`)
  return spec
}

/**
 * The contenders that can run `profile`; `BENCH_CONTENDERS` (comma-separated names, e.g.
 * `BENCH_CONTENDERS='node-redis,ioredis,tiercache,tiercache (node-redis)'`) keeps only those, for
 * a focused run (a report is written only from a full run).
 */
export function contendersFor(profile: Profile): AdapterSpec[] {
  return selectedContenders().filter((c) => c.profiles.includes(profile))
}

/** Every contender, or only those `BENCH_CONTENDERS` names (see {@link contendersFor}). */
export function selectedContenders(): AdapterSpec[] {
  const only = process.env.BENCH_CONTENDERS?.split(',').map((name) => name.trim())
  return CONTENDERS.filter((c) => only === undefined || only.includes(c.name))
}
