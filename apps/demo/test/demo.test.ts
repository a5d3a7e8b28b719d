import { existsSync, mkdirSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { EVENTUALLY, TEST_L2_TIMEOUT, testCluster } from '@tiercache/testkit'
import pg from 'pg'
import { chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { openDatabase } from '../src/database.js'
import { type Demo, type DemoSummary, startDemo } from '../src/demo.js'
import { createRepository } from '../src/repository.js'
import { COLD_CATEGORY_ID } from '../src/traffic.js'

const CHROMIUM = '/usr/bin/chromium'
const POSTGRES_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
// Written by the dashboard test; `.tiercache-test/` is gitignored.
const SCREENSHOT = fileURLToPath(new URL('../.tiercache-test/dashboard.png', import.meta.url))
const DURATION_MS = 9_000
// The bus bound the demo checks reads against. `pnpm demo` checks the documented 100 ms; this test
// runs the demo in one process with the cluster, a headless browser and, on CI, other jobs on two
// cores, where a message can wait for the CPU longer than that. 1 s still catches a lost message
// (which would leave the old price for the L1 TTL, 5 s) and does not fail on a busy machine.
const STALE_BOUND_MS = 1_000

/** The value of one Prometheus sample line, by its exact name and labels. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

async function getText(url: string): Promise<{ status: number; type: string | null; body: string }> {
  const response = await fetch(url)
  return { status: response.status, type: response.headers.get('content-type'), body: await response.text() }
}

async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 1_000 })
  try {
    await client.connect()
    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => {})
  }
}

describe('the demo on the test cluster', () => {
  let demo: Demo
  let running: Promise<DemoSummary>

  beforeAll(async () => {
    demo = await startDemo({
      durationMs: DURATION_MS,
      cluster: testCluster(),
      concurrency: 8,
      staleBoundMs: STALE_BOUND_MS,
      l2Timeout: TEST_L2_TIMEOUT,
    })
    running = demo.run()
    // Until every chart and counter has data: three dashboard points (one a second), and hits and
    // loads on each instance. Waited for, not slept for: a loaded machine serves less per second.
    await vi.waitFor(async () => {
      const data = (await (await fetch(`${demo.urls.fastify}/dashboard/data`)).json()) as { points: unknown[] }
      expect(data.points.length).toBeGreaterThanOrEqual(3)
      for (const [instance, url] of Object.entries(demo.urls)) {
        const { body } = await getText(`${url}/metrics`)
        const labels = `namespace="demo",instance="${instance}",entity="product"`
        expect(sample(body, `tiercache_hits_total{${labels},tier="l1"}`)).toBeGreaterThan(0)
        expect(sample(body, `tiercache_loads_total{${labels}}`)).toBeGreaterThan(0)
      }
    }, EVENTUALLY)
    // Starting the demo seeds 10,000 products into PGlite, CPU work that under `pnpm test:stress`
    // ran this hook past its former 60 s deadline: a deadline, not a bound this test checks.
  }, 180_000)

  afterAll(async () => {
    await running?.catch(() => {})
    await demo?.stop()
  }, 30_000)

  it('serves Prometheus text on /metrics of each instance, with hits, loads and latency histograms per tier', async () => {
    for (const [instance, url] of Object.entries(demo.urls)) {
      const { status, type, body } = await getText(`${url}/metrics`)
      expect(status).toBe(200)
      expect(type).toContain('text/plain')
      expect(type).toContain('version=0.0.4')
      const labels = `namespace="demo",instance="${instance}",entity="product"`
      expect(sample(body, `tiercache_hits_total{${labels},tier="l1"}`)).toBeGreaterThan(0)
      expect(sample(body, `tiercache_loads_total{${labels}}`)).toBeGreaterThan(0)
      expect(sample(body, `tiercache_read_duration_seconds_count{${labels},tier="miss"}`)).toBeGreaterThan(0)
      expect(sample(body, `tiercache_read_duration_seconds_bucket{${labels},tier="l2",le="+Inf"}`)).toBeGreaterThanOrEqual(0)
      expect(sample(body, `tiercache_load_duration_seconds_count{${labels}}`)).toBeGreaterThan(0)
      expect(sample(body, `tiercache_breaker_state{namespace="demo",instance="${instance}",state="closed"}`)).toBe(1)
      expect(sample(body, `demo_http_requests_total{instance="${instance}"}`)).toBeGreaterThan(0)
      expect(sample(body, 'demo_db_queries_total')).toBeGreaterThan(0)
    }
  })

  it('answers the dashboard JSON with one point a second, tiers, masters and instances', async () => {
    const response = await fetch(`${demo.urls.fastify}/dashboard/data`)
    expect(response.status).toBe(200)
    const data = (await response.json()) as {
      mode: string
      points: { t: number; requests: number; tiers: Record<string, number>; masters: Record<string, number>; p99: number | null }[]
      instances: { name: string; breaker: string }[]
      totals: { requests: number; dbQueries: number }
    }
    expect(data.mode).toBe('cluster')
    expect(data.points.length).toBeGreaterThanOrEqual(2)
    const last = data.points.at(-1)
    expect(last?.requests).toBeGreaterThan(0)
    expect(Object.values(last?.tiers ?? {}).reduce((a, b) => a + b, 0)).toBeGreaterThan(0)
    expect(new Set(data.points.flatMap((point) => Object.keys(point.masters))).size).toBe(3)
    expect(data.instances.map((i) => [i.name, i.breaker])).toEqual([
      ['express', 'closed'],
      ['fastify', 'closed'],
    ])
  })

  it.skipIf(!existsSync(CHROMIUM) && !process.env.CI)(
    'draws the dashboard in headless Chromium, charts filled from the running demo',
    async () => {
      const browser = await chromium.launch({ executablePath: CHROMIUM })
      try {
        const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } })
        const problems: string[] = []
        page.on('pageerror', (error) => problems.push(error.message))
        await page.goto(`${demo.urls.express}/dashboard`)
        // Two updates at least: the page polls once a second and redraws every chart each time.
        await page.waitForFunction('Number(document.body.dataset.updates) >= 2 && Number(document.body.dataset.points) >= 3', null, {
          timeout: 15_000,
        })
        for (const chart of ['chart-tiers', 'chart-load', 'chart-latency', 'chart-masters']) {
          expect(Number(await page.getAttribute(`#${chart}`, 'data-points')), chart).toBeGreaterThan(2)
        }
        expect(await page.textContent('#mode')).toBe('L1 + Redis Cluster L2')
        expect(await page.locator('#instances .badge').allTextContents()).toEqual(['closed', 'closed'])
        mkdirSync(fileURLToPath(new URL('../.tiercache-test/', import.meta.url)), { recursive: true })
        await page.screenshot({ path: SCREENSHOT, fullPage: true })
        expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000)
        expect(problems).toEqual([])
      } finally {
        await browser.close()
      }
    },
  )

  it('ends with one loader call for the stampede, no stale read past the bound, and far fewer queries than requests', async () => {
    const summary = await running
    expect(summary.errors, summary.errorExamples.join('\n')).toBe(0)
    // Throughput depends on the machine (and what else runs on it); only the direction is asserted.
    expect(summary.requests).toBeGreaterThan(100)
    expect(summary.dbQueries).toBeLessThan(summary.requests)
    expect(summary.tiers.l1).toBeGreaterThan(0)
    expect(summary.tiers.l2).toBeGreaterThan(0)
    expect(summary.stampede).toMatchObject({ requests: 200, failed: 0, loaderCalls: 1, category: COLD_CATEGORY_ID })
    // Price updates run one at a time, at most one per 100 ms: how many fit into the 9 s run depends on
    // the machine (9 in one `pnpm test:stress` run), so only that some were made and checked is asserted.
    // The bus bound itself is fleet-coherence.test.ts's to check.
    expect(summary.consistency.updates).toBeGreaterThan(0)
    expect(summary.consistency.checked).toBeGreaterThan(0)
    expect(summary.consistency.pastBound).toBe(0)
    expect(summary.flashSale.reads).toBeGreaterThan(0)
  })
})

describe('the repository on PGlite and on the PostgreSQL server', async () => {
  const hasPostgres = await postgresReachable()
  const databases = [
    { name: 'PGlite', url: undefined, available: true },
    { name: `PostgreSQL at ${POSTGRES_URL}`, url: POSTGRES_URL, available: hasPostgres },
  ]
  for (const database of databases) {
    it.skipIf(!database.available)(
      `seeds 10,000 products and reads, lists and writes them (${database.name})`,
      async () => {
        const db = await openDatabase(database.url)
        try {
          const repository = createRepository(db)
          const product = await repository.getProduct('42')
          expect(product).toMatchObject({ id: '42', categoryId: 43, name: 'Product 42', currency: 'EUR' })
          expect(await repository.getProduct('10001')).toBeNull()
          expect(await repository.getProduct('not-a-number')).toBeNull()
          const many = await repository.getProducts(['1', '2', '99999'])
          expect([...many.keys()].sort()).toEqual(['1', '2'])
          const list = await repository.listByCategory('3')
          expect(list).toHaveLength(24)
          expect(list.map((p) => p.priceCents)).toEqual([...list.map((p) => p.priceCents)].sort((a, b) => a - b))
          const updated = await repository.updatePrice('42', 12_345)
          expect(updated).toMatchObject({ id: '42', categoryId: 43, priceCents: 12_345 })
          expect((await repository.getProduct('42'))?.priceCents).toBe(12_345)
          const stock = await repository.getStock('42')
          const bought = await repository.buy('42')
          expect(bought?.available).toBe((stock?.available ?? 0) - 1)
          const count = await db.query<{ n: number | string }>('SELECT count(*)::int AS n FROM products')
          expect(Number(count[0]?.n)).toBe(10_000)
        } finally {
          await db.close()
        }
        // Seeding 10,000 products into PGlite: under `pnpm test:stress` it ran past the 30 s default.
      },
      120_000,
    )
  }
})
