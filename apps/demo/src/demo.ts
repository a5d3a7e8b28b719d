import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { CHANNELS, createCache, type HotKeyEvent, type LoadMessage, type TierCache } from '@tiercache/core'
import type { RedisCluster } from '@tiercache/testkit'
import { createCatalog, DEMO_ENTITIES, DEMO_L1_TTL_MS } from './catalog.js'
import { type Database, openDatabase } from './database.js'
import { startExpressService } from './express-service.js'
import { startFastifyService } from './fastify-service.js'
import { closeConnections } from './http-client.js'
import { connectL2, countReadsByMaster, type L2, type MasterAddress } from './l2.js'
import { Monitor, percentile } from './monitor.js'
import { createRepository } from './repository.js'
import type { RunningService, ServiceContext } from './service.js'
import { COLD_CATEGORY_ID, FLASH_PRODUCT_ID, PHASES, TrafficGenerator } from './traffic.js'

/** The cache namespace of the demo. */
export const DEMO_NAMESPACE = 'demo'
/** The staleness bound the demo checks with an L2 and its bus (ms): the one docs/guarantees.md promises. */
export const BUS_BOUND_MS = 100

/** How to run the demo. Everything has a default; `main.ts` fills these from flags and the environment. */
export interface DemoOptions {
  /** How long the traffic runs (ms). */
  durationMs: number
  /** A PostgreSQL connection string; PGlite (embedded) without it. */
  databaseUrl?: string
  /** Seed nodes of an existing Redis Cluster (`host:port`); without them (and without `cluster`) a local cluster is started. */
  redisNodes?: readonly string[]
  /** A running testkit cluster to use (tests). */
  cluster?: RedisCluster
  /** Ports of the Express and the Fastify instance; 0 picks free ones. Default [0, 0]. */
  ports?: readonly [number, number]
  /** Requests in flight at once. Default 16. */
  concurrency?: number
  /** Where progress lines go. Default nowhere. */
  log?: (line: string) => void
  /** Stops the traffic early. */
  signal?: AbortSignal
  /**
   * The staleness bound the traffic checks reads against (ms). Default {@link BUS_BOUND_MS} with an
   * L2, the L1 TTL + 1 s without. The end-to-end test widens it for the loaded machine it runs on.
   */
  staleBoundMs?: number
  /**
   * The caches' per-call L2 timeout (as `createCache`'s `l2Timeout`). Default the cache's own (50 ms).
   * The end-to-end test widens it: on a loaded machine a lock call that times out lets a second
   * instance load the stampede's key, which the test would report as a failed single-flight.
   */
  l2Timeout?: number | string
}

/** What a finished run found: the figures of the summary. */
export interface DemoSummary {
  mode: L2['mode']
  database: string
  l2: string
  durationS: number
  requests: number
  errors: number
  /** The first few failures in words, for whoever reads a run with errors. */
  errorExamples: string[]
  requestsPerSecond: number
  dbQueries: number
  tiers: { l1: number; l2: number; stale: number; miss: number }
  latencyMs: { p50: number | null; p99: number | null }
  stampede: { requests: number; failed: number; loaderCalls: number; durationMs: number; category: string }
  flashSale: {
    productId: string
    reads: number
    /** Seconds from the start of the sale until each instance saw the product's stock as hot; `null` if it never did. */
    hotAfterS: Record<string, number | null>
    /** L2 reads of the product's stock per master, and their share. */
    l2ReadsByMaster: Record<MasterAddress, number>
  }
  consistency: { boundMs: number; updates: number; checked: number; withinBound: number; pastBound: number; examples: string[] }
}

/** A started demo: services listening, traffic not yet running. */
export interface Demo {
  readonly urls: { express: string; fastify: string }
  readonly l2: L2
  readonly database: Database
  readonly instances: readonly { name: string; url: string; cache: TierCache }[]
  readonly traffic: TrafficGenerator
  readonly monitor: Monitor
  /** Runs the traffic for the configured duration, then returns the summary (services keep running). */
  run(): Promise<DemoSummary>
  /** Stops the traffic, the services, the caches, the database and the cluster the demo started. Idempotent. */
  stop(): Promise<void>
}

/**
 * Starts the demo's services: the L2 (or none), the database with its seeded catalogue, two
 * instances of the catalogue service (Express and Fastify, each with its own cache and
 * connections, sharing L2 and the database), and the monitor behind `/dashboard`.
 */
export async function startDemo(options: DemoOptions): Promise<Demo> {
  const log = options.log ?? (() => {})
  const cleanups: (() => Promise<void>)[] = []
  const stopAll = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {})
  }
  try {
    const l2 = await connectL2({
      ...(options.cluster === undefined ? {} : { cluster: options.cluster }),
      ...(options.redisNodes === undefined ? {} : { redisNodes: options.redisNodes }),
      log,
    })
    cleanups.push(() => l2.stop())
    log(`L2: ${l2.description}`)
    log(options.databaseUrl ? 'Opening PostgreSQL and seeding 10,000 products...' : 'Starting PGlite and seeding 10,000 products...')
    const database = await openDatabase(options.databaseUrl)
    cleanups.push(() => database.close())
    await l2.refreshSlots()

    const flashValueKey = `{${DEMO_NAMESPACE}:stock:${FLASH_PRODUCT_ID}}`
    const flashReplicaPrefix = `{${DEMO_NAMESPACE}!hot:stock:`
    const isFlashStockKey = (key: string) =>
      key === flashValueKey || (key.startsWith(flashReplicaPrefix) && key.endsWith(`:${FLASH_PRODUCT_ID}}`))
    const flashReadsByMaster: Record<MasterAddress, number> = {}
    const hotSince: Record<string, number | null> = {}
    // Counted once the instance sees the key hot: before that, every read goes to the primary key by design.
    const countFlashRead = (instance: string) => (key: string) => {
      if (hotSince[instance] === null || hotSince[instance] === undefined) return
      const master = l2.masterOf(key) ?? 'unknown'
      flashReadsByMaster[master] = (flashReadsByMaster[master] ?? 0) + 1
    }

    const repository = createRepository(database)
    let traffic: TrafficGenerator | undefined
    let monitor: Monitor | undefined
    const instances = ['express', 'fastify'].map((name) => {
      const store = l2.makeStore()
      const cache = createCache({
        namespace: DEMO_NAMESPACE,
        ...(store === undefined ? {} : { l2: countReadsByMaster(store, isFlashStockKey, countFlashRead(name)) }),
        entities: DEMO_ENTITIES,
        ...(options.l2Timeout === undefined ? {} : { l2Timeout: options.l2Timeout }),
      })
      hotSince[name] = null
      cache.on('hot-key', (event: HotKeyEvent) => {
        if (event.entity === 'stock' && event.id === FLASH_PRODUCT_ID && hotSince[name] === null && traffic !== undefined) {
          const saleStartMs = options.durationMs * PHASES.flashSaleFrom
          hotSince[name] = Math.max(0, Math.round((traffic.elapsedMs() - saleStartMs) / 100) / 10)
        }
      })
      cleanups.push(() => cache.close())
      return { name, cache, catalog: createCatalog(cache, repository) }
    })
    await Promise.all(instances.map((instance) => withTimeout(instance.cache.ready(), 15_000, 'the L2 did not become ready')))

    const context = (instance: (typeof instances)[number]): ServiceContext => ({
      name: instance.name,
      cache: instance.cache,
      catalog: instance.catalog,
      dbQueries: () => database.queries,
      dashboardData: () => monitor?.data() ?? {},
    })
    const [expressPort, fastifyPort] = options.ports ?? [0, 0]
    const services: RunningService[] = []
    services.push(await startExpressService(context(instances[0] as (typeof instances)[number]), expressPort))
    cleanups.push(() => (services[0] as RunningService).close())
    services.push(await startFastifyService(context(instances[1] as (typeof instances)[number]), fastifyPort))
    cleanups.push(() => (services[1] as RunningService).close())
    cleanups.push(async () => closeConnections())

    const boundMs = options.staleBoundMs ?? (l2.mode === 'cluster' ? BUS_BOUND_MS : DEMO_L1_TTL_MS + 1_000)
    const abort = new AbortController()
    options.signal?.addEventListener('abort', () => abort.abort(), { once: true })
    traffic = new TrafficGenerator({
      urls: services.map((service) => service.url),
      durationMs: options.durationMs,
      concurrency: options.concurrency ?? 16,
      boundMs,
      signal: abort.signal,
    })
    const stampede = { loaderCalls: 0 }
    const onLoad = (message: unknown) => {
      const load = message as LoadMessage
      if (load.namespace === DEMO_NAMESPACE && load.entity === 'productList' && load.ids.includes(COLD_CATEGORY_ID)) stampede.loaderCalls++
    }
    subscribe(CHANNELS.load, onLoad)
    cleanups.push(async () => {
      unsubscribe(CHANNELS.load, onLoad)
    })

    const watched = instances.map((instance, i) => ({
      name: instance.name,
      url: (services[i] as RunningService).url,
      cache: instance.cache,
    }))
    const generator = traffic
    monitor = new Monitor({
      instances: watched,
      traffic: generator,
      dbQueries: () => database.queries,
      masterCommands: () => l2.masterCommands(),
      refreshSlots: () => l2.refreshSlots(),
      facts: {
        mode: l2.mode,
        database: database.description,
        l2: l2.description,
        durationS: options.durationMs / 1000,
        flashProductId: FLASH_PRODUCT_ID,
        boundMs,
      },
      live: () => ({
        stampede: { ...generator.stampede, loaderCalls: stampede.loaderCalls, category: COLD_CATEGORY_ID },
        flashSale: { reads: generator.flashReads, l2ReadsByMaster: flashReadsByMaster, hotAfterS: hotSince },
        consistency: generator.consistency,
      }),
    })
    const activeMonitor = monitor
    await activeMonitor.start()
    cleanups.push(() => activeMonitor.stop())
    cleanups.push(async () => abort.abort())

    const dbBefore = database.queries
    const tiersBefore = activeMonitor.tiers()
    return {
      urls: { express: (services[0] as RunningService).url, fastify: (services[1] as RunningService).url },
      l2,
      database,
      instances: watched,
      traffic: generator,
      monitor: activeMonitor,
      async run() {
        const started = performance.now()
        await generator.run()
        const seconds = (performance.now() - started) / 1000
        const tiers = activeMonitor.tiers()
        const latencies = [...generator.latenciesMs].sort((a, b) => a - b)
        return {
          mode: l2.mode,
          database: database.description,
          l2: l2.description,
          durationS: Math.round(seconds * 10) / 10,
          requests: generator.requests,
          errors: generator.errors,
          errorExamples: [...generator.errorExamples],
          requestsPerSecond: Math.round(generator.requests / seconds),
          dbQueries: database.queries - dbBefore,
          tiers: {
            l1: tiers.l1 - tiersBefore.l1,
            l2: tiers.l2 - tiersBefore.l2,
            stale: tiers.stale - tiersBefore.stale,
            miss: tiers.miss - tiersBefore.miss,
          },
          latencyMs: { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) },
          stampede: { ...generator.stampede, loaderCalls: stampede.loaderCalls, category: COLD_CATEGORY_ID },
          flashSale: {
            productId: FLASH_PRODUCT_ID,
            reads: generator.flashReads,
            hotAfterS: { ...hotSince },
            l2ReadsByMaster: { ...flashReadsByMaster },
          },
          consistency: { boundMs, ...generator.consistency },
        }
      },
      stop: stopAll,
    }
  } catch (error) {
    await stopAll()
    throw error
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} within ${ms / 1000} s`)), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}
