import { createCache, type TierCache, TierCacheError } from '@tiercache/core'
import { redisClusterStore } from '@tiercache/redis'
import { testCluster } from '@tiercache/testkit'
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { registerCacheMetrics } from '../src/index.js'

// The file's tests share one flushed cluster: each uses its own namespace.
const caches: TierCache[] = []
afterEach(async () => {
  await Promise.all(caches.splice(0).map((cache) => cache.close()))
})

function clusterCache(namespace: string): TierCache {
  const seeds = testCluster().seeds()
  const cache = createCache({
    namespace,
    l2: redisClusterStore({ nodes: seeds.map(({ host, port }) => `${host}:${port}`) }),
    entities: { product: { ttl: '10m' }, session: { ttl: '1m', l1: false } },
  })
  caches.push(cache)
  return cache
}

/** The sample lines of a text exposition (no comments), sorted. */
function samples(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .sort()
}

async function readSome(cache: TierCache): Promise<void> {
  const products = cache.entity<{ id: string }>('product')
  for (const id of ['1', '2', '3']) await products.get(id, async () => ({ id }))
  for (const id of ['1', '2']) await products.get(id, async () => ({ id }))
  await cache.entity<string>('session').get('s', async () => 'v')
}

describe('registerCacheMetrics', () => {
  it('exposes in a prom-client registry exactly the samples of cache.metrics()', async () => {
    const cache = clusterCache('prom-same')
    await cache.ready()
    await readSome(cache)
    const registry = new Registry()
    registerCacheMetrics(registry, cache)

    const exported = await registry.metrics()
    expect(samples(exported)).toEqual(samples(cache.metrics()))
    expect(exported).toContain('tiercache_hits_total{namespace="prom-same",entity="product",tier="l1"} 2')
    expect(exported).toContain('tiercache_loads_total{namespace="prom-same",entity="product"} 3')
    expect(exported).toContain('# TYPE tiercache_read_duration_seconds histogram')
    expect(exported).toContain('# TYPE tiercache_hot_keys gauge')
  })

  it('reads the cache at scrape time: a later scrape shows later reads', async () => {
    const cache = clusterCache('prom-scrape')
    const registry = new Registry()
    registerCacheMetrics(registry, cache)
    await readSome(cache)
    expect(await registry.metrics()).toContain('tiercache_misses_total{namespace="prom-scrape",entity="product"} 3')

    // A second instance reads the values from L2.
    const other = clusterCache('prom-scrape')
    await readSome(other)
    await cache.entity<{ id: string }>('product').get('4', async () => ({ id: '4' }))
    expect(await registry.metrics()).toContain('tiercache_misses_total{namespace="prom-scrape",entity="product"} 4')
  })

  it('puts several caches in one set of metrics, told apart by namespace, with the registry default labels', async () => {
    const shop = clusterCache('shop')
    const auth = clusterCache('auth')
    await readSome(shop)
    const registry = new Registry()
    registry.setDefaultLabels({ instance: 'api-1' })
    registerCacheMetrics(registry, shop, auth)

    const exported = await registry.metrics()
    expect(exported).toContain('tiercache_loads_total{namespace="shop",entity="product",instance="api-1"} 3')
    expect(exported).toContain('tiercache_loads_total{namespace="auth",entity="product",instance="api-1"} 0')
    const json = await registry.getMetricsAsJSON()
    expect(json.map(({ name }) => name)).toContain('tiercache_read_duration_seconds')
  })

  it('removes its metrics with the returned function', async () => {
    const cache = clusterCache('prom-remove')
    const registry = new Registry()
    const unregister = registerCacheMetrics(registry, cache)
    expect(registry.getSingleMetric('tiercache_hits_total')).toBeDefined()
    unregister()
    expect(await registry.metrics()).not.toContain('tiercache_')
  })

  it('rejects a call without a cache with INVALID_CONFIG', () => {
    const call = () => registerCacheMetrics(new Registry())
    expect(call).toThrow(TierCacheError)
    expect(call).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }))
  })
})
