import { performance } from 'node:perf_hooks'
import { DEFAULT_CLUSTER_STORE_OPTIONS } from '@tiercache/redis'
import type { NodeAddress } from '@tiercache/testkit'
import { type AdapterContext, type AdapterSpec, type CacheAdapter, contender, contendersFor } from '../adapters/index.js'
import { median, percentile } from '../harness.js'
import { makeProduct, type Product } from '../product.js'
import { contextFor, openAdapter, TTL_MS, uniqueNamespace } from './common.js'

/** Invalidations measured per run. */
export const STALENESS_ITERATIONS = 200
/** Runs per contender; medians of each statistic are reported. */
export const STALENESS_RUNS = 3
/**
 * A window still open after this long (ms) is recorded at the cap and ends the run: the
 * contender has no bus, or lost the message, and B would stay stale until its memory TTL.
 */
export const STALENESS_GIVE_UP_MS = 2_000

/** The tiercache store's default bus mode, and the other one. */
export const DEFAULT_BUS = DEFAULT_CLUSTER_STORE_OPTIONS.bus
const OTHER_BUS = DEFAULT_BUS === 'publish' ? 'spublish' : 'publish'

/** Statistics of one run's windows (ms from `invalidate()` resolving on A until B returns the new value). */
export interface StalenessStats {
  p50Ms: number
  p99Ms: number
  maxMs: number
  /** Windows in which B's first read after A's `invalidate()` resolved still returned the old value. */
  staleReads: number
  /** Windows that hit {@link STALENESS_GIVE_UP_MS} (the run stops at the first). */
  timedOut: number
  /** Invalidations measured (fewer than {@link STALENESS_ITERATIONS} when a window timed out). */
  iterations: number
  /** Reads before an invalidation in which A or B still answered the version before the last one. */
  setupDisagreements: number
}

/** One contender's staleness figures. */
export interface StalenessFigure {
  /** Row label: the contender, and tiercache's bus mode. */
  label: string
  contender: string
  coherence: string
  median: StalenessStats
  runs: (StalenessStats & { windowsMs: number[] })[]
}

/** (e) the staleness workload's result. */
export interface StalenessResult {
  iterations: number
  giveUpMs: number
  figures: StalenessFigure[]
}

/**
 * (e) Cross-instance staleness window. Two instances A and B of a contender (own connections
 * each) in this process, memory tier on in both. Each iteration both read the key so B holds it
 * in memory, the source changes, A invalidates, and B is polled (one read per event-loop turn, so
 * its bus socket is serviced between reads) until it returns the new version. tiercache runs with
 * both of its bus modes; the peers with their own multi-instance set-up.
 */
export async function runStaleness(seeds: readonly NodeAddress[]): Promise<StalenessResult> {
  const variants: { label: string; spec: AdapterSpec; extra: Pick<AdapterContext, 'bus'> }[] = [
    { label: `tiercache (${DEFAULT_BUS}, default)`, spec: contender('tiercache'), extra: { bus: DEFAULT_BUS } },
    { label: `tiercache (${OTHER_BUS})`, spec: contender('tiercache'), extra: { bus: OTHER_BUS } },
    ...contendersFor('l1')
      .filter((spec) => spec.name !== 'tiercache' && spec.name !== 'lru-cache')
      .map((spec) => ({ label: spec.name, spec, extra: {} })),
  ]
  const figures: StalenessFigure[] = []
  for (const variant of variants) {
    const context = contextFor('l1', uniqueNamespace('stale', variant.label), seeds, variant.extra)
    const a = await openAdapter(variant.spec, context)
    const b = await openAdapter(variant.spec, context)
    try {
      const runs: StalenessFigure['runs'] = []
      for (let run = 0; run < STALENESS_RUNS; run++) runs.push(await measureRun(a, b, `coherence-${run}`))
      figures.push({
        label: variant.label,
        contender: variant.spec.name,
        coherence: variant.spec.coherence,
        median: {
          p50Ms: median(runs.map((r) => r.p50Ms)),
          p99Ms: median(runs.map((r) => r.p99Ms)),
          maxMs: median(runs.map((r) => r.maxMs)),
          staleReads: median(runs.map((r) => r.staleReads)),
          timedOut: median(runs.map((r) => r.timedOut)),
          iterations: median(runs.map((r) => r.iterations)),
          setupDisagreements: median(runs.map((r) => r.setupDisagreements)),
        },
        runs,
      })
    } finally {
      await Promise.all([a.teardown(), b.teardown()])
    }
  }
  return { iterations: STALENESS_ITERATIONS, giveUpMs: STALENESS_GIVE_UP_MS, figures }
}

async function measureRun(a: CacheAdapter, b: CacheAdapter, key: string): Promise<StalenessStats & { windowsMs: number[] }> {
  const source = { version: 1 }
  const loader = (): Product => makeProduct(key, source.version)
  const windowsMs: number[] = []
  let staleReads = 0
  let timedOut = 0
  let setupDisagreements = 0
  for (let n = 0; n < STALENESS_ITERATIONS && timedOut === 0; n++) {
    const current = source.version
    // Both must hold the current version before the invalidation; a contender whose A still
    // answers an older one (a late write or message from the last iteration) is polled until it
    // agrees, and that is counted.
    const setupStarted = performance.now()
    let agreed = false
    while (!agreed && performance.now() - setupStarted < STALENESS_GIVE_UP_MS) {
      const fromA = await a.getOrSet(key, loader, TTL_MS)
      const fromB = await b.getOrSet(key, loader, TTL_MS)
      agreed = fromA.version === current && fromB.version === current
      if (!agreed) {
        setupDisagreements++
        await new Promise<void>((resolve) => setImmediate(resolve))
      }
    }
    if (!agreed) {
      timedOut++
      break
    }
    // tiercache exposes its counters: B must answer from L1 now, or the window measures nothing.
    const hitsBefore = b.entityStats?.().l1Hits
    await b.getOrSet(key, loader, TTL_MS)
    if (hitsBefore !== undefined && b.entityStats?.().l1Hits !== hitsBefore + 1)
      throw new Error(`staleness: B of ${key} does not hold the key in L1`)

    source.version = current + 1
    await a.invalidate(key)
    const t0 = performance.now()
    let reads = 0
    for (;;) {
      const value = await b.getOrSet(key, loader, TTL_MS)
      reads++
      const elapsed = performance.now() - t0
      if (value.version === source.version) {
        windowsMs.push(elapsed)
        break
      }
      if (elapsed >= STALENESS_GIVE_UP_MS) {
        windowsMs.push(elapsed)
        timedOut++
        break
      }
      await new Promise<void>((resolve) => setImmediate(resolve))
    }
    if (reads > 1) staleReads++
  }
  const sorted = [...windowsMs].sort((x, y) => x - y)
  return {
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    maxMs: sorted[sorted.length - 1] ?? Number.NaN,
    staleReads,
    timedOut,
    iterations: windowsMs.length,
    setupDisagreements,
    windowsMs,
  }
}
