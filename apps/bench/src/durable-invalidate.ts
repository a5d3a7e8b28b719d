/**
 * What durable invalidation adds to `invalidate()` and `set()`: on a local Redis Cluster of 3
 * masters + 3 replicas started by the testkit, one instance invalidates one id at a time
 * (concurrency 1), then sets it, alternating blocks of 500 with `durableInvalidation: true`
 * (delete, then `WAIT 1` on the master; a set's write confirmed the same way) and `false` (plain
 * delete and set), 4,000 calls of each per mode. Prints p50, p99 and mean per mode and call.
 *
 * Run: pnpm run build && node apps/bench/dist/durable-invalidate.js
 */
import { createCache } from '@tiercache/core'
import { redisClusterStore } from '@tiercache/redis'
import { RedisCluster } from '@tiercache/testkit'

const BLOCK = 500
const BLOCKS = 8

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN

const cluster = await RedisCluster.start({ masters: 3, replicasPerMaster: 1 })
try {
  const caches = [true, false].map((durable) =>
    createCache({
      namespace: `durable-${durable}`,
      l2: redisClusterStore({ nodes: cluster.seeds() }),
      durableInvalidation: durable,
      entities: { product: { ttl: '10m', l1: false, hot: false } },
    }),
  )
  await Promise.all(caches.map((cache) => cache.ready()))
  const timings: [number[], number[]] = [[], []]
  const setTimings: [number[], number[]] = [[], []]
  for (let block = 0; block < BLOCKS; block++) {
    for (const mode of [0, 1] as const) {
      const products = caches[mode]?.entity<{ id: string }>('product')
      if (products === undefined) throw new Error('no cache')
      for (let i = 0; i < BLOCK; i++) {
        const id = `p${block * BLOCK + i}`
        await products.get(id, async () => ({ id }))
        const started = performance.now()
        await products.invalidate(id)
        timings[mode].push(performance.now() - started)
        const setStarted = performance.now()
        await products.set(id, { id })
        setTimings[mode].push(performance.now() - setStarted)
      }
    }
  }
  for (const [mode, label] of [
    [0, 'durableInvalidation: true '],
    [1, 'durableInvalidation: false'],
  ] as const) {
    for (const [call, calls] of [
      ['invalidate()', timings[mode]],
      ['set()', setTimings[mode]],
    ] as const) {
      const sorted = [...calls].sort((a, b) => a - b)
      const mean = sorted.reduce((sum, t) => sum + t, 0) / sorted.length
      console.log(
        `${label}: ${call} p50 ${quantile(sorted, 0.5).toFixed(3)} ms, p99 ${quantile(sorted, 0.99).toFixed(3)} ms, mean ${mean.toFixed(3)} ms over ${sorted.length} calls`,
      )
    }
  }
  await Promise.all(caches.map((cache) => cache.close()))
} finally {
  await cluster.stop()
}
