import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type CacheOptions,
  CHANNELS,
  createCache,
  histogramDelta,
  histogramQuantile,
  type InvalidateMessage,
  L1_SAMPLE_MASK,
  LATENCY_BUCKETS_MS,
  type LoadMessage,
  ManualClock,
  type ReadMessage,
  renderPrometheus,
} from '../src/index.js'
import { LatencyHistogram } from '../src/metrics/latency-histogram.js'
import { agedProduct } from './l1-cache.js'

function l1Cache(entities: CacheOptions['entities']) {
  const clock = new ManualClock()
  const cache = createCache({ namespace: 'shop', entities, clock })
  return { cache, clock }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The value of one sample line, by its exact name and label set. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

/** Subscribes to a channel for the test, collecting its messages; unsubscribed after each test. */
const subscriptions: [string, (message: unknown) => void][] = []
function collect<M>(name: string): M[] {
  const messages: M[] = []
  const listener = (message: unknown) => messages.push(message as M)
  subscribe(name, listener)
  subscriptions.push([name, listener])
  return messages
}
afterEach(() => {
  for (const [name, listener] of subscriptions.splice(0)) unsubscribe(name, listener)
})

describe('latency histogram', () => {
  it('puts each duration in the first bucket whose bound holds it, and NaN or Infinity in +Inf', () => {
    const histogram = new LatencyHistogram()
    for (const ms of [0, 0.05, 0.07, 3, 10_000, 20_000, Number.NaN, Number.POSITIVE_INFINITY]) histogram.observe(ms)
    const snapshot = histogram.snapshot()
    expect(snapshot.counts).toHaveLength(LATENCY_BUCKETS_MS.length + 1)
    expect(snapshot.counts[0]).toBe(2) // 0 and 0.05 (bounds are inclusive)
    expect(snapshot.counts[1]).toBe(1) // 0.07 <= 0.1
    expect(snapshot.counts[LATENCY_BUCKETS_MS.indexOf(5)]).toBe(1) // 3 <= 5
    expect(snapshot.counts[LATENCY_BUCKETS_MS.indexOf(10_000)]).toBe(1)
    expect(snapshot.counts[LATENCY_BUCKETS_MS.length]).toBe(3)
    expect(snapshot.count).toBe(8)
    expect(snapshot.sumMs).toBeCloseTo(0.05 + 0.07 + 3 + 10_000 + 20_000)
  })

  it('estimates quantiles by linear interpolation inside the bucket, as histogram_quantile does', () => {
    const histogram = new LatencyHistogram()
    for (let i = 0; i < 100; i++) histogram.observe(i < 50 ? 0.8 : 4) // 50 in (0.5, 1], 50 in (2.5, 5]
    const snapshot = histogram.snapshot()
    expect(histogramQuantile(snapshot, 0.5)).toBeCloseTo(1)
    expect(histogramQuantile(snapshot, 0.25)).toBeCloseTo(0.75)
    expect(histogramQuantile(snapshot, 0.99)).toBeCloseTo(2.5 + 2.5 * (49 / 50))
    expect(histogramQuantile(new LatencyHistogram().snapshot(), 0.5)).toBeNaN()
  })

  it('subtracts snapshots to give what happened between them', () => {
    const histogram = new LatencyHistogram()
    histogram.observe(1)
    const before = histogram.snapshot()
    histogram.observe(100)
    histogram.observe(100)
    const delta = histogramDelta(histogram.snapshot(), before)
    expect(delta.count).toBe(2)
    expect(delta.sumMs).toBe(200)
    expect(histogramQuantile(delta, 0.5)).toBeGreaterThan(50)
  })
})

describe('read and load latencies per entity and tier', () => {
  it('times one L1 hit in 64 and every miss, and its loader call', async () => {
    const { cache } = l1Cache({ product: { ttl: '1m' } })
    const products = cache.entity<string>('product')
    await products.get('1', async () => {
      await sleep(20)
      return 'v1'
    })
    const reads = L1_SAMPLE_MASK + 1
    for (let i = 1; i < 10 * reads; i++) await products.get('1', async () => 'never')
    const latencies = cache.latencies().product
    expect(latencies?.reads.l1.count).toBe(10)
    // No upper bound on the hits' time: a loaded machine can pause any of them. The lower bounds
    // below hold on any machine (a timer never fires early).
    expect(latencies?.reads.l1.sumMs).toBeGreaterThanOrEqual(0)
    expect(latencies?.reads.miss.count).toBe(1)
    expect(latencies?.reads.miss.sumMs).toBeGreaterThanOrEqual(15)
    expect(latencies?.loads.count).toBe(1)
    expect(latencies?.loads.sumMs).toBeGreaterThanOrEqual(15)
    expect(latencies?.reads.l2.count).toBe(0)
  })

  it('times a stale read under the stale tier', async () => {
    const { cache, products } = await agedProduct({ ttl: '1s', grace: '1m', beta: 0 }, 2_000)
    expect(await products.get('1', async () => 'v2')).toBe('v1')
    expect(cache.latencies().product?.reads.stale.count).toBe(1)
  })

  it('times each id of a getMany batch and its one batch loader call', async () => {
    const { cache } = l1Cache({ product: { ttl: '1m' } })
    const products = cache.entity<string>('product')
    await products.getMany(['1', '2', '3'], async (ids) => ids.map((id) => `v${id}`))
    const latencies = cache.latencies().product
    expect(latencies?.reads.miss.count).toBe(3)
    expect(latencies?.loads.count).toBe(1)
  })

  it('counts failed loader calls in the load histogram', async () => {
    const { cache } = l1Cache({ product: { ttl: '1m' } })
    await expect(
      cache.entity<string>('product').get('1', async () => {
        throw new Error('db down')
      }),
    ).rejects.toThrow('db down')
    expect(cache.latencies().product?.loads.count).toBe(1)
    expect(cache.stats().product?.loadErrors).toBe(1)
  })
})

describe('Prometheus text export', () => {
  it('exports counters per entity and tier, and histograms with cumulative _bucket, _sum and _count', async () => {
    const { cache } = l1Cache({ product: { ttl: '1m' }, category: { ttl: '1m' } })
    const products = cache.entity<string>('product')
    await products.get('1', async () => 'v1')
    await products.get('1', async () => 'v1')
    await products.invalidate('1')
    const text = cache.metrics()

    expect(sample(text, 'tiercache_hits_total{namespace="shop",entity="product",tier="l1"}')).toBe(1)
    expect(sample(text, 'tiercache_hits_total{namespace="shop",entity="product",tier="l2"}')).toBe(0)
    expect(sample(text, 'tiercache_misses_total{namespace="shop",entity="product"}')).toBe(1)
    expect(sample(text, 'tiercache_loads_total{namespace="shop",entity="product"}')).toBe(1)
    expect(sample(text, 'tiercache_misses_total{namespace="shop",entity="category"}')).toBe(0)
    expect(sample(text, 'tiercache_invalidations_total{namespace="shop",entity="product",direction="sent"}')).toBe(1)
    expect(sample(text, 'tiercache_breaker_state{namespace="shop",state="closed"}')).toBe(1)
    expect(sample(text, 'tiercache_breaker_state{namespace="shop",state="open"}')).toBe(0)
    expect(sample(text, 'tiercache_hot_keys{namespace="shop",entity="product"}')).toBe(0)

    const series = 'tiercache_read_duration_seconds'
    const labels = 'namespace="shop",entity="product",tier="miss"'
    const buckets = text
      .split('\n')
      .filter((l) => l.startsWith(`${series}_bucket{${labels},`))
      .map((l) => Number(l.split(' ')[1]))
    expect(buckets).toHaveLength(LATENCY_BUCKETS_MS.length + 1)
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b))
    expect(sample(text, `${series}_bucket{${labels},le="+Inf"}`)).toBe(1)
    expect(sample(text, `${series}_count{${labels}}`)).toBe(1)
    expect(sample(text, `${series}_sum{${labels}}`)).toBeGreaterThanOrEqual(0)
    expect(text).toContain(`${series}_bucket{${labels},le="0.00005"}`)
    expect(text).toContain(`${series}_bucket{${labels},le="10"}`)
    expect(sample(text, 'tiercache_load_duration_seconds_count{namespace="shop",entity="product"}')).toBe(1)
  })

  it('declares each metric once with HELP and TYPE, and every sample line parses', () => {
    const { cache } = l1Cache({ product: { ttl: '1m' }, category: { ttl: '1m' } })
    const text = cache.metrics()
    const types = text.split('\n').filter((l) => l.startsWith('# TYPE '))
    const names = types.map((l) => l.split(' ')[2])
    expect(new Set(names).size).toBe(names.length)
    expect(text.split('\n').filter((l) => l.startsWith('# HELP '))).toHaveLength(types.length)
    for (const line of text.trimEnd().split('\n')) {
      if (line.startsWith('#')) continue
      expect(line).toMatch(/^tiercache_[a-z0-9_]+(\{([a-z_]+="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|NaN|\+Inf)$/)
      const name = line.split(/[{ ]/)[0] as string
      expect(names.some((declared) => name === declared || name.startsWith(`${declared}_`))).toBe(true)
    }
    expect(text.endsWith('\n')).toBe(true)
  })

  it('adds constant labels, escapes label values and refuses label names it cannot export', () => {
    const text = renderPrometheus(
      {
        namespace: 'shop',
        stats: {},
        latencies: {},
        hotKeys: {},
        breaker: 'open',
        breakerOpens: 2,
      },
      { labels: { instance: 'a"b\\c\nd' } },
    )
    expect(sample(text, 'tiercache_breaker_opens_total{namespace="shop",instance="a\\"b\\\\c\\nd"}')).toBe(2)
    expect(() =>
      renderPrometheus(
        { namespace: 's', stats: {}, latencies: {}, hotKeys: {}, breaker: 'closed', breakerOpens: 0 },
        { labels: { entity: 'x' } },
      ),
    ).toThrow(TypeError)
    expect(() =>
      renderPrometheus(
        { namespace: 's', stats: {}, latencies: {}, hotKeys: {}, breaker: 'closed', breakerOpens: 0 },
        { labels: { '1x': 'x' } },
      ),
    ).toThrow(TypeError)
  })
})

describe('diagnostics_channel', () => {
  it('publishes reads with the tier that answered, loads, and invalidations by id and by tag', async () => {
    const reads = collect<ReadMessage>(CHANNELS.read)
    const loads = collect<LoadMessage>(CHANNELS.load)
    const invalidations = collect<InvalidateMessage>(CHANNELS.invalidate)
    const { cache } = l1Cache({ product: { ttl: '1m', tags: (id) => [`p:${id}`] } })
    const products = cache.entity<string>('product')
    await products.get('1', async () => 'v1')
    await products.get('1', async () => 'v1')
    await products.invalidate('1')
    await cache.invalidateTag('p:1')

    expect(reads.map((m) => [m.entity, m.id, m.tier])).toEqual([
      ['product', '1', 'miss'],
      ['product', '1', 'l1'],
    ])
    for (const message of reads) {
      expect(message.namespace).toBe('shop')
      expect(message.durationMs).toBeGreaterThanOrEqual(0)
    }
    expect(loads).toHaveLength(1)
    expect(loads[0]).toMatchObject({ namespace: 'shop', entity: 'product', ids: ['1'], error: undefined })
    expect(invalidations).toEqual([
      { namespace: 'shop', entity: 'product', ids: ['1'], tags: [], origin: 'local' },
      { namespace: 'shop', entity: undefined, ids: [], tags: ['p:1'], origin: 'local' },
    ])
  })

  it("publishes a failed load with the loader's error", async () => {
    const loads = collect<LoadMessage>(CHANNELS.load)
    const { cache } = l1Cache({ product: { ttl: '1m' } })
    const failure = new Error('db down')
    await expect(
      cache.entity<string>('product').get('1', async () => {
        throw failure
      }),
    ).rejects.toBe(failure)
    expect(loads).toHaveLength(1)
    expect(loads[0]?.error).toBe(failure)
  })

  it('publishes nothing once the subscriber is gone', async () => {
    const reads: unknown[] = []
    const listener = (message: unknown) => reads.push(message)
    subscribe(CHANNELS.read, listener)
    const { cache } = l1Cache({ product: { ttl: '1m' } })
    await cache.entity<string>('product').get('1', async () => 'v1')
    unsubscribe(CHANNELS.read, listener)
    await cache.entity<string>('product').get('1', async () => 'v1')
    expect(reads).toHaveLength(1)
  })
})
