import { performance } from 'node:perf_hooks'
import { createCache, type TierCache } from '@tiercache/core'
import { type BusMode, redisClusterStore } from '@tiercache/redis'
import type { NodeAddress } from '@tiercache/testkit'
import { median, percentile } from '../harness.js'
import { makeProduct, type Product } from '../product.js'

/** Invalidations measured per run. */
export const STALENESS_ITERATIONS = 200
/** Runs; medians of each statistic are reported. */
export const STALENESS_RUNS = 3
const STALENESS_ENTITY = 'productCoherence'
// A poll loop that has not seen the new value by then records the cap and counts as timed out.
const GIVE_UP_MS = 5_000

/** Statistics of one run's windows (ms from `invalidate()` resolving until B returns the new value). */
export interface StalenessStats {
  p50Ms: number
  p99Ms: number
  maxMs: number
  /** Windows in which B's first read after `invalidate()` resolved still returned the old value. */
  staleReads: number
  /** Windows that hit {@link GIVE_UP_MS}. */
  timedOut: number
  /** p50 of the time until B had applied the bus message (ms; 0 when it had before `invalidate()` resolved). */
  busP50Ms: number
  /** p99 of the same. */
  busP99Ms: number
}

/** The staleness workload's result for one bus mode. */
export interface StalenessResult {
  /** The store's pub/sub flavour for the invalidation bus. */
  bus: BusMode
  iterations: number
  /** Median over runs, statistic by statistic. */
  median: StalenessStats
  runs: (StalenessStats & { windowsMs: number[] })[]
}

/**
 * Cross-instance staleness window: instances A and B (each with its own store and connections)
 * in this process, L1 on in both. Each iteration both read the key so B holds it in L1, the
 * source changes, A invalidates, and B is polled (one read per event-loop turn, so the bus
 * socket is serviced between reads) until it returns the new version. `bus` picks the store's
 * pub/sub flavour: classic PUBLISH crosses the cluster bus to reach a subscriber on another
 * node; SPUBLISH stays on the channel's shard.
 */
export async function runStaleness(seeds: readonly NodeAddress[], namespace: string, bus: BusMode): Promise<StalenessResult> {
  const open = (): TierCache =>
    createCache({
      namespace,
      l2: redisClusterStore({ nodes: [...seeds], bus }),
      entities: { [STALENESS_ENTITY]: { ttl: '10m', l1: { ttl: '1m' } } },
    })
  const cacheA = open()
  const cacheB = open()
  try {
    await Promise.all([cacheA.ready(), cacheB.ready()])
    const a = cacheA.entity<Product>(STALENESS_ENTITY)
    const b = cacheB.entity<Product>(STALENESS_ENTITY)
    const runs: StalenessResult['runs'] = []
    for (let run = 0; run < STALENESS_RUNS; run++) {
      const key = `coherence-${bus}-${run}`
      const source = { version: 1 }
      const loader = (id: string): Product => makeProduct(id, source.version)
      const windowsMs: number[] = []
      const busWindowsMs: number[] = []
      let staleReads = 0
      let timedOut = 0
      for (let n = 0; n < STALENESS_ITERATIONS; n++) {
        const current = source.version
        const [fromA, fromB] = [await a.get(key, loader), await b.get(key, loader)]
        if (fromA.version !== current || fromB.version !== current) {
          throw new Error(`staleness: setup read version ${fromA.version}/${fromB.version}, expected ${current}`)
        }
        // B must answer from L1 now, or the window measures nothing.
        const hitsBefore = b.stats().l1Hits
        await b.get(key, loader)
        if (b.stats().l1Hits !== hitsBefore + 1) throw new Error('staleness: B does not hold the key in L1')

        source.version = current + 1
        const receivedBefore = b.stats().invalidationsReceived
        await a.invalidate(key)
        const t0 = performance.now()
        let reads = 0
        let busMs = Number.NaN
        for (;;) {
          if (Number.isNaN(busMs) && b.stats().invalidationsReceived > receivedBefore) busMs = performance.now() - t0
          const value = await b.get(key, loader)
          reads++
          const elapsed = performance.now() - t0
          if (value.version === source.version) {
            windowsMs.push(elapsed)
            break
          }
          if (elapsed >= GIVE_UP_MS) {
            windowsMs.push(elapsed)
            timedOut++
            break
          }
          await new Promise<void>((resolve) => setImmediate(resolve))
        }
        if (reads > 1) staleReads++
        // Read again after the loop when the message came in during the last read.
        if (Number.isNaN(busMs) && b.stats().invalidationsReceived > receivedBefore) busMs = performance.now() - t0
        busWindowsMs.push(busMs)
      }
      const sorted = [...windowsMs].sort((x, y) => x - y)
      const busSorted = busWindowsMs.filter((ms) => !Number.isNaN(ms)).sort((x, y) => x - y)
      runs.push({
        p50Ms: percentile(sorted, 0.5),
        p99Ms: percentile(sorted, 0.99),
        maxMs: sorted[sorted.length - 1] ?? Number.NaN,
        staleReads,
        timedOut,
        busP50Ms: percentile(busSorted, 0.5),
        busP99Ms: percentile(busSorted, 0.99),
        windowsMs,
      })
    }
    return {
      bus,
      iterations: STALENESS_ITERATIONS,
      median: {
        p50Ms: median(runs.map((r) => r.p50Ms)),
        p99Ms: median(runs.map((r) => r.p99Ms)),
        maxMs: median(runs.map((r) => r.maxMs)),
        staleReads: median(runs.map((r) => r.staleReads)),
        timedOut: median(runs.map((r) => r.timedOut)),
        busP50Ms: median(runs.map((r) => r.busP50Ms)),
        busP99Ms: median(runs.map((r) => r.busP99Ms)),
      },
      runs,
    }
  } finally {
    await Promise.all([cacheA.close(), cacheB.close()])
  }
}
