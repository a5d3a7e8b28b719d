import { SpanKind, SpanStatusCode } from '@opentelemetry/api'
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { createCache, type TierCache } from '@tiercache/core'
import { redisClusterStore } from '@tiercache/redis'
import { findFreePort, testCluster } from '@tiercache/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { instrumentTiercache, type TiercacheInstrumentation } from '../src/index.js'

let spans: InMemorySpanExporter
let metricExporter: InMemoryMetricExporter
let reader: PeriodicExportingMetricReader
let instrumentation: TiercacheInstrumentation
const caches: TierCache[] = []

beforeEach(() => {
  spans = new InMemorySpanExporter()
  metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  // Exported only when the test flushes.
  reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 })
  instrumentation = instrumentTiercache({
    tracerProvider: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }),
    meterProvider: new MeterProvider({ readers: [reader] }),
  })
})

afterEach(async () => {
  instrumentation.disable()
  await Promise.all(caches.splice(0).map((cache) => cache.close()))
  await reader.shutdown()
})

// The file's tests share one flushed cluster: each uses its own namespace.
function clusterCache(namespace: string, extra: { tracing?: { ids: boolean } } = {}): TierCache {
  const nodes = testCluster()
    .seeds()
    .map(({ host, port }) => `${host}:${port}`)
  const cache = createCache({ namespace, l2: redisClusterStore({ nodes }), entities: { product: { ttl: '10m' } }, ...extra })
  caches.push(cache)
  return cache
}

/** The span id of a finished span's parent (SDK 2 names it `parentSpanContext`). */
function parentOf(span: ReadableSpan): string | undefined {
  return (span as { parentSpanContext?: { spanId: string } }).parentSpanContext?.spanId
}

async function exportedMetrics() {
  await reader.forceFlush()
  const all = metricExporter.getMetrics().flatMap((resource) => resource.scopeMetrics.flatMap((scope) => scope.metrics))
  return new Map(all.map((metric) => [metric.descriptor.name, metric]))
}

describe('instrumentTiercache', () => {
  it('makes a span per get with the tier that answered: miss, then l1, then l2 on another instance', async () => {
    const first = clusterCache('otel-tiers')
    const second = clusterCache('otel-tiers')
    await first.entity<string>('product').get('1', async () => 'v')
    await first.entity<string>('product').get('1', async () => 'unused')
    await second.entity<string>('product').get('1', async () => 'unused')

    const gets = spans.getFinishedSpans().filter((span) => span.name === 'tiercache.get')
    expect(
      gets.map((span) => [span.attributes['tiercache.tier'], span.attributes['tiercache.outcome'], span.attributes['cache.hit']]),
    ).toEqual([
      ['miss', 'miss', false],
      ['l1', 'hit', true],
      ['l2', 'hit', true],
    ])
    expect(gets[0]?.attributes).toMatchObject({
      'cache.operation': 'get',
      'tiercache.namespace': 'otel-tiers',
      'tiercache.entity': 'product',
      'tiercache.count': 1,
    })
    // Ids stay out unless the cache asks for them.
    for (const span of spans.getFinishedSpans()) expect(span.attributes).not.toHaveProperty('cache.key')
    expect(spans.getFinishedSpans().map((span) => span.name)).toContain('tiercache.load')
  })

  it('records a failed load as an error span and the duration histogram by outcome', async () => {
    const cache = clusterCache('otel-errors')
    const failure = new Error('database down')
    await expect(cache.entity<string>('product').get('1', async () => Promise.reject(failure))).rejects.toBe(failure)

    const failed = spans.getFinishedSpans().filter((span) => span.status.code === SpanStatusCode.ERROR)
    expect(failed.map((span) => span.name).sort()).toEqual(['tiercache.get', 'tiercache.load'])
    for (const span of failed) {
      expect(span.attributes).toMatchObject({ 'tiercache.outcome': 'error', 'error.type': 'Error' })
      expect(span.events.map((event) => event.name)).toContain('exception')
    }
    const duration = (await exportedMetrics()).get('tiercache.operation.duration')
    expect(duration?.descriptor.unit).toBe('s')
    const points = duration?.dataPoints.map((point) => point.attributes) ?? []
    expect(points).toContainEqual(
      expect.objectContaining({ 'cache.operation': 'get', 'tiercache.outcome': 'error', 'tiercache.tier': 'miss' }),
    )
    expect(points).toContainEqual(expect.objectContaining({ 'cache.operation': 'load', 'tiercache.outcome': 'error' }))
  })

  it('puts the id in cache.key only for a cache created with tracing: { ids: true }, never in metrics', async () => {
    const cache = clusterCache('otel-ids', { tracing: { ids: true } })
    await cache.entity<string>('product').get('42', async () => 'v')
    await cache.entity<string>('product').set('43', 'w')
    await cache.entity<string>('product').invalidate('42')

    const byName = new Map(spans.getFinishedSpans().map((span) => [span.name, span]))
    expect(byName.get('tiercache.get')?.attributes['cache.key']).toBe('42')
    expect(byName.get('tiercache.set')?.attributes['cache.key']).toBe('43')
    expect(byName.get('tiercache.invalidate')?.attributes).toMatchObject({ 'cache.operation': 'invalidate', 'tiercache.count': 1 })
    const duration = (await exportedMetrics()).get('tiercache.operation.duration')
    for (const point of duration?.dataPoints ?? []) expect(point.attributes).not.toHaveProperty('cache.key')
  })

  it('counts failed L2 calls with db.system.name redis', async () => {
    // An L2 nobody listens on: every L2 read fails, and the read falls back to the loader.
    const port = await findFreePort()
    const cache = createCache({
      namespace: 'otel-l2',
      l2: redisClusterStore({ nodes: [`127.0.0.1:${port}`] }),
      entities: { product: { ttl: '10m' } },
    })
    caches.push(cache)
    await expect(cache.entity<string>('product').get('1', async () => 'from the loader')).resolves.toBe('from the loader')

    const errors = (await exportedMetrics()).get('tiercache.l2.errors')
    expect(errors?.dataPoints.length).toBeGreaterThan(0)
    for (const point of errors?.dataPoints ?? []) {
      expect(point.attributes).toMatchObject({ 'db.system.name': 'redis', 'tiercache.namespace': 'otel-l2', 'tiercache.entity': 'product' })
      expect(typeof point.attributes['db.operation.name']).toBe('string')
    }
  })

  it('makes a CLIENT span per L2 call, child of the get that made it, with db.system.name redis and the shard it went to', async () => {
    const first = clusterCache('otel-l2-spans')
    const second = clusterCache('otel-l2-spans')
    await first.entity<string>('product').get('1', async () => 'v')
    spans.reset()
    // An L2 hit on the second instance: one get span, one L2 get under it.
    expect(await second.entity<string>('product').get('1', async () => 'unused')).toBe('v')

    const finished = spans.getFinishedSpans()
    const get = finished.find((span) => span.name === 'tiercache.get')
    const l2Gets = finished.filter((span) => span.name === 'tiercache.l2 get')
    expect(l2Gets).toHaveLength(1)
    const l2Get = l2Gets[0] as ReadableSpan
    expect(l2Get.kind).toBe(SpanKind.CLIENT)
    expect(parentOf(l2Get)).toBe(get?.spanContext().spanId)
    expect(l2Get.spanContext().traceId).toBe(get?.spanContext().traceId)
    const masters = (await testCluster().masters()).map((master) => master.port)
    expect(l2Get.attributes).toMatchObject({
      'db.system.name': 'redis',
      'db.operation.name': 'get',
      'tiercache.namespace': 'otel-l2-spans',
      'tiercache.outcome': 'ok',
      'server.address': '127.0.0.1',
    })
    expect(masters).toContain(l2Get.attributes['server.port'])
    expect(l2Get.attributes['tiercache.l2.shard']).toBe(`127.0.0.1:${l2Get.attributes['server.port']}`)
    // Keys hold ids: never on L2 spans.
    expect(Object.keys(l2Get.attributes).filter((name) => name.includes('key'))).toEqual([])

    const l2Duration = (await exportedMetrics()).get('db.client.operation.duration')
    expect(l2Duration?.descriptor.unit).toBe('s')
    expect(l2Duration?.dataPoints.map((point) => point.attributes)).toContainEqual(
      expect.objectContaining({ 'db.system.name': 'redis', 'db.operation.name': 'get', 'tiercache.outcome': 'ok' }),
    )
  })

  it("puts a miss's load and its lock, lease write and release under the get span", async () => {
    const cache = clusterCache('otel-miss-tree')
    await cache.entity<string>('product').get('7', async () => 'v')

    const finished = spans.getFinishedSpans()
    const get = finished.find((span) => span.name === 'tiercache.get')
    const children = finished.filter((span) => parentOf(span) === get?.spanContext().spanId).map((span) => span.name)
    expect(children).toContain('tiercache.load')
    expect(children).toContain('tiercache.l2 get')
    expect(children).toContain('tiercache.l2 acquireLock')
    expect(children).toContain('tiercache.l2 setIfLeaseHeld')
  })

  it('marks L2 calls skipped by an open breaker, with error.type L2_UNAVAILABLE', async () => {
    const port = await findFreePort()
    const cache = createCache({
      namespace: 'otel-l2-skipped',
      l2: redisClusterStore({ nodes: [`127.0.0.1:${port}`] }),
      breaker: { failures: 1, coolDown: '1m', probes: 1 },
      entities: { product: { ttl: '10m' } },
    })
    caches.push(cache)
    await cache.entity<string>('product').get('1', async () => 'from the loader')
    spans.reset()
    // The breaker opened on the first failure: this read's L2 calls are skipped without I/O.
    await expect(cache.entity<string>('product').get('2', async () => 'from the loader')).resolves.toBe('from the loader')

    const l2Spans = spans.getFinishedSpans().filter((span) => span.name.startsWith('tiercache.l2 '))
    expect(l2Spans.length).toBeGreaterThan(0)
    for (const span of l2Spans) {
      // The shard is what the store names it; with no slot map yet, the cluster store says `unknown`.
      expect(span.attributes).toMatchObject({
        'tiercache.outcome': 'skipped',
        'error.type': 'L2_UNAVAILABLE',
        'tiercache.l2.shard': 'unknown',
      })
      expect(span.status.code).toBe(SpanStatusCode.ERROR)
    }
  })

  it('leaves L2 calls out of spans when `spans` does not list l2, and still measures them', async () => {
    instrumentation.disable()
    // A reader binds to one provider, and its shutdown shuts its exporter: both anew.
    await reader.shutdown()
    metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
    reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 })
    instrumentation = instrumentTiercache({
      tracerProvider: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }),
      meterProvider: new MeterProvider({ readers: [reader] }),
      spans: ['get'],
    })
    const cache = clusterCache('otel-no-l2-spans')
    await cache.entity<string>('product').get('1', async () => 'v')
    expect(spans.getFinishedSpans().map((span) => span.name)).toEqual(['tiercache.get'])
    expect((await exportedMetrics()).get('db.client.operation.duration')?.dataPoints.length).toBeGreaterThan(0)
  })

  it('stops with disable()', async () => {
    instrumentation.disable()
    const cache = clusterCache('otel-disabled')
    await cache.entity<string>('product').get('1', async () => 'v')
    expect(spans.getFinishedSpans()).toEqual([])
  })
})
