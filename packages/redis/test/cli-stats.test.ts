import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { PROMETHEUS_CONTENT_TYPE, type TierCache } from '@tiercache/core'
import { findFreePort } from '@tiercache/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import type { StatsReport } from '../src/cli/stats-text.js'
import { tiercache } from './cli-run.js'
import { eventually, fleet, uniqueNamespace } from './engine/helpers.js'

const cleanups: (() => Promise<unknown>)[] = []
afterAll(async () => {
  await Promise.allSettled(cleanups.map((cleanup) => cleanup()))
})

/** A service on the test cluster serving cache.metrics() on /metrics and cache.hotKeys() on /hot-keys. */
async function service(routes: Record<string, (cache: TierCache) => [string, string]>): Promise<{ cache: TierCache; url: string }> {
  const namespace = uniqueNamespace()
  const { caches, close } = await fleet(1, {
    namespace,
    entities: { product: { ttl: '10m', hot: { threshold: { rate: 5 }, sampleEvery: 1, window: '200ms' } }, category: { ttl: '1m' } },
  })
  cleanups.push(close)
  const cache = caches[0] as TierCache
  const server: Server = createServer((request, response) => {
    const route = routes[request.url ?? '']
    if (route === undefined) {
      response.writeHead(404).end('not found')
      return
    }
    const [type, body] = route(cache)
    response.writeHead(200, { 'content-type': type }).end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(() => new Promise((resolve) => server.close(resolve)))
  return { cache, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

const ROUTES = {
  '/metrics': (cache: TierCache): [string, string] => [PROMETHEUS_CONTENT_TYPE, cache.metrics({ labels: { instance: 'api-1' } })],
  '/hot-keys': (cache: TierCache): [string, string] => ['application/json', JSON.stringify(cache.hotKeys())],
}

describe('tiercache stats (child process) against a running HTTP service', () => {
  it("prints the service's counters per entity, its breaker and its hot keys", async () => {
    const { cache, url } = await service(ROUTES)
    const product = cache.entity<{ id: string }>('product')
    await product.get('43', (id) => ({ id }))
    await product.invalidate('43')
    // Detection decides at half-window boundaries (every 100 ms here), on a read: read until 42 is hot.
    await eventually(async () => {
      await product.get('42', (id) => ({ id }))
      return cache.hotKeys().length > 0
    }, 10_000)
    expect(cache.hotKeys().map((hot) => hot.id)).toEqual(['42'])
    const stats = cache.stats().product
    if (stats === undefined) throw new Error('no product stats')
    expect(stats.misses).toBe(2)

    const run = await tiercache(['stats', '--service', url, '--hot-keys-url', '/hot-keys', '--json'])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const report = JSON.parse(run.stdout) as StatsReport
    expect(report.metricsUrl).toBe(`${url}/metrics`)
    const row = report.entities.find((entity) => entity.entity === 'product')
    expect(row).toMatchObject({
      namespace: cache.namespace,
      labels: { instance: 'api-1' },
      l1Hits: stats.l1Hits,
      l2Hits: 0,
      misses: 2,
      loads: 2,
      hitRatio: stats.l1Hits / (stats.l1Hits + 2),
      invalidationsSent: 1,
      hotKeys: 1,
    })
    expect(report.entities.map((entity) => entity.entity).sort()).toEqual(['category', 'product'])
    expect(report.breakers).toEqual([{ namespace: cache.namespace, labels: { instance: 'api-1' }, state: 'closed', opens: 0 }])
    expect(report.hotKeys).toEqual({ url: `${url}/hot-keys`, keys: [{ entity: 'product', id: '42', rate: expect.any(Number) }] })

    const text = await tiercache(['stats', '--service', url, '--hot-keys-url', '/hot-keys'])
    expect(text.code).toBe(0)
    expect(text.stdout).toContain(`tiercache stats: ${url}/metrics\n\nnamespace ${cache.namespace} (instance=api-1)\n`)
    expect(text.stdout).toMatch(
      /^ {2}entity +l1 hits +l2 hits +stale +misses +hit ratio +loads +load errors +l2 errors +corrupt +inval sent +inval received +hot keys$/m,
    )
    const ratio = ((100 * stats.l1Hits) / (stats.l1Hits + 2)).toFixed(1)
    expect(text.stdout).toMatch(
      new RegExp(`^ {2}product +${stats.l1Hits} +0 +0 +2 +${ratio.replace('.', '\\.')}% +2 +0 +0 +0 +1 +0 +1$`, 'm'),
    )
    expect(text.stdout).toContain('  L2 breaker: closed (opened 0 times)\n')
    expect(text.stdout).toMatch(new RegExp(`\nHot keys \\(${url}/hot-keys\\)\n {2}entity +id +reads/s\n {2}product +42 +\\d+\n$`))
  })

  it('exits 3 with the reason when the service has no tiercache metrics, fails, or cannot be reached', async () => {
    const { url } = await service({ '/metrics': () => ['text/plain', 'http_requests_total 12\n'] })
    const empty = await tiercache(['stats', '--service', url])
    expect(empty.code).toBe(3)
    expect(empty.stderr).toBe(
      `tiercache stats: error: no tiercache_ metrics at ${url}/metrics: serve cache.metrics() on that route (see docs/metrics.md)\n`,
    )

    const missing = await tiercache(['stats', '--service', url, '--metrics-url', '/nowhere'])
    expect(missing.code).toBe(3)
    expect(missing.stderr).toBe(`tiercache stats: error: ${url}/nowhere answered HTTP 404 Not Found\n`)

    const port = await findFreePort()
    const closed = await tiercache(['stats', '--service', `http://127.0.0.1:${port}`])
    expect(closed.code).toBe(3)
    expect(closed.stderr).toMatch(/^tiercache stats: error: cannot read http:\/\/127\.0\.0\.1:\d+\/metrics: .*ECONNREFUSED/)
  })
})
