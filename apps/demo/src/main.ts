/**
 * The first thing a new user runs (`pnpm demo`): two service instances with an L1 each in
 * front of one shared Redis Cluster L2, reading a product catalogue under a skewed (Zipf)
 * load while prices change, then a summary of hits per tier and database loads.
 *
 * Redis: `REDIS_NODES=host:port,...` uses an existing cluster; otherwise a local cluster is
 * started from `redis-server` (3 masters + 3 replicas) and stopped at the end; without
 * `redis-server` it runs L1-only and says so.
 */
import { createCache, type RemoteStore, type TierCache } from '@tiercache/core'
import { redisClusterStore } from '@tiercache/redis'
import { RedisCluster, requireRedisServer } from '@tiercache/testkit'

interface Product {
  id: string
  name: string
  priceCents: number
}

const PRODUCTS = 10_000
const READS = Number(process.env.DEMO_READS ?? 50_000)
const DB_LATENCY_MS = 2

// The "database": a map with a delay, counting the queries that reach it.
const db = new Map<string, Product>()
for (let i = 0; i < PRODUCTS; i++) db.set(String(i), { id: String(i), name: `Product ${i}`, priceCents: 1000 + i })
let dbQueries = 0
async function findProduct(id: string): Promise<Product | null> {
  dbQueries++
  await new Promise((resolve) => setTimeout(resolve, DB_LATENCY_MS))
  return db.get(id) ?? null
}

// Zipf(1.1) over the catalogue: a few products take most reads, like real traffic.
const weights = Array.from({ length: PRODUCTS }, (_, i) => 1 / (i + 1) ** 1.1)
const total = weights.reduce((a, b) => a + b, 0)
const cdf: number[] = []
weights.reduce((acc, w, i) => {
  cdf[i] = (acc + w) / total
  return acc + w
}, 0)
function zipfId(): string {
  const u = Math.random()
  let lo = 0
  let hi = PRODUCTS - 1
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if ((cdf[mid] as number) < u) lo = mid + 1
    else hi = mid
  }
  return String(lo)
}

async function connectL2(): Promise<{ makeStore: (() => RemoteStore) | null; stop: () => Promise<void>; where: string }> {
  if (process.env.REDIS_NODES) {
    const nodes = process.env.REDIS_NODES.split(',')
    return { makeStore: () => redisClusterStore({ nodes }), stop: async () => {}, where: `Redis Cluster at ${nodes.join(', ')}` }
  }
  try {
    requireRedisServer()
  } catch (error) {
    console.log(`No redis-server found (${(error as Error).message.split('\n')[0]}): running L1-only.`)
    return { makeStore: null, stop: async () => {}, where: 'L1 only (no Redis)' }
  }
  process.stdout.write('Starting a local Redis Cluster (3 masters + 3 replicas)... ')
  const cluster = await RedisCluster.start()
  console.log('ok')
  return {
    makeStore: () => redisClusterStore({ nodes: cluster.seeds() }),
    stop: () => cluster.stop(),
    where: 'local Redis Cluster (3 masters + 3 replicas)',
  }
}

async function main(): Promise<void> {
  let instances: TierCache[] = []
  const l2 = await connectL2()
  const stopAll = async () => {
    await Promise.all(instances.map((cache) => cache.close()))
    await l2.stop()
  }
  process.once('SIGINT', () => {
    void stopAll().then(() => process.exit(130))
  })
  instances = [0, 1].map(() =>
    createCache({
      namespace: 'demo',
      ...(l2.makeStore ? { l2: l2.makeStore() } : {}),
      entities: { product: { ttl: '30s', l1: { ttl: '5s', maxEntries: 2_000 }, grace: '1m', jitter: 0.1 } },
    }),
  )
  await Promise.all(instances.map((cache) => cache.ready()))
  const handles = instances.map((cache) => cache.entity<Product>('product'))
  const getProduct = handles.map((products) => products.wrap(findProduct))

  console.log(`tiercache demo: 2 instances, ${l2.where}, ${READS} reads over ${PRODUCTS} products, DB latency ${DB_LATENCY_MS} ms`)
  const started = performance.now()
  let updates = 0
  const workers = Array.from({ length: 32 }, async (_, w) => {
    for (let i = w; i < READS; i += 32) {
      const instance = i % 2
      await getProduct[instance]?.(zipfId())
      if (i % 500 === 0) {
        // a price change on one instance, invalidated everywhere
        const id = zipfId()
        const product = db.get(id)
        if (product !== undefined) db.set(id, { ...product, priceCents: product.priceCents + 1 })
        await handles[instance]?.invalidate(id)
        updates++
      }
    }
  })
  await Promise.all(workers)
  const seconds = (performance.now() - started) / 1000

  console.log(`\n${READS} reads and ${updates} price updates in ${seconds.toFixed(1)} s`)
  console.log('instance  l1 hits  l2 hits  misses  loads  invalidations received')
  instances.forEach((cache, i) => {
    const s = cache.stats().product
    if (s === undefined) return
    console.log(
      `${String(i).padEnd(8)}  ${String(s.l1Hits).padStart(7)}  ${String(s.l2Hits).padStart(7)}  ${String(s.misses).padStart(6)}  ${String(s.loads).padStart(5)}  ${String(s.invalidationsReceived).padStart(23)}`,
    )
  })
  console.log(`database queries: ${dbQueries} for ${READS} reads (${((1 - dbQueries / READS) * 100).toFixed(1)}% served by the cache)`)
  await stopAll()
}

await main()
