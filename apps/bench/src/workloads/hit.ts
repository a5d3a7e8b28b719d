import type { NodeAddress } from '@tiercache/testkit'
import { type AdapterSpec, type CacheAdapter, contendersFor, type Loader, type Profile } from '../adapters/index.js'
import { compare, type Summary } from '../harness.js'
import { type Product, productIds } from '../product.js'
import { contextFor, openAdapter, ProductLoaders, TTL_MS, uniqueNamespace } from './common.js'

/** How one hit workload runs. */
export interface HitPlan {
  profile: Profile
  /** Warm keys read round-robin. */
  keys: number
  concurrency: readonly number[]
  /** Bound of one measured run. */
  run: { maxOps: number; maxMs: number }
  warmup: { maxOps: number; maxMs: number }
}

/** (a) L1 hit: warm keys in every contender's memory tier. */
export const L1_PLAN: HitPlan = {
  profile: 'l1',
  keys: 1_000,
  concurrency: [1, 64],
  run: { maxOps: 2_000_000, maxMs: 1_500 },
  warmup: { maxOps: 300_000, maxMs: 500 },
}

/** (b) L2 hit: warm keys in Redis, no memory tier. */
export const L2_PLAN: HitPlan = {
  profile: 'l2',
  keys: 5_000,
  concurrency: [1, 64],
  run: { maxOps: 100_000, maxMs: 1_500 },
  warmup: { maxOps: 10_000, maxMs: 500 },
}

/** One contender at one concurrency level. */
export interface HitFigure {
  contender: string
  summary: Summary
  /** Loader calls during the warm-up and measured runs (0 when every read was a hit). */
  loaderCalls: number
  /** tiercache's entity counters over the measured runs, when the contender is tiercache. */
  tiercacheCounters?: { l1Hits: number; l2Hits: number; misses: number; loads: number; l2Errors: number }
}

/** One concurrency level. */
export interface HitRow {
  concurrency: number
  figures: HitFigure[]
}

/** A hit workload's result. */
export interface HitResult {
  profile: Profile
  keys: number
  valueBytes: number
  run: HitPlan['run']
  rows: HitRow[]
  /** Loader calls left after warming (a contender that could not cache every key), by contender. */
  uncachedAfterWarm: Record<string, number>
}

/**
 * Every contender of `plan.profile` reads the same warm keys in the same order through
 * `getOrSet(key, loader, ttl)`, runs interleaved (a, b, c, a, b, c, ...), 3 measured runs each,
 * medians reported.
 */
export async function runHit(plan: HitPlan, seeds: readonly NodeAddress[]): Promise<HitResult> {
  const ids = productIds(plan.keys)
  const specs = contendersFor(plan.profile)
  const opened: { spec: AdapterSpec; adapter: CacheAdapter; loaders: ProductLoaders }[] = []
  try {
    const uncachedAfterWarm: Record<string, number> = {}
    for (const spec of specs) {
      const adapter = await openAdapter(spec, contextFor(plan.profile, uniqueNamespace(`hit${plan.profile}`, spec.name), seeds))
      const loaders = new ProductLoaders(ids)
      opened.push({ spec, adapter, loaders })
      uncachedAfterWarm[spec.name] = await loaders.warmUntilCached(adapter)
    }
    const rows: HitRow[] = []
    for (const concurrency of plan.concurrency) {
      const before = opened.map((o) => ({ calls: o.loaders.calls, stats: o.adapter.entityStats?.() }))
      const results = await compare(
        opened.map((o) => {
          const { adapter, loaders } = o
          const list = loaders.loaders
          const n = ids.length
          return {
            name: o.spec.name,
            op: (i: number) => {
              const k = i % n
              return adapter.getOrSet(ids[k] as string, list[k] as Loader<Product>, TTL_MS)
            },
          }
        }),
        { concurrency, ...plan.run, warmup: plan.warmup },
      )
      rows.push({
        concurrency,
        figures: opened.map((o, i) => {
          const b = before[i] as (typeof before)[number]
          const after = o.adapter.entityStats?.()
          return {
            contender: o.spec.name,
            summary: results.get(o.spec.name) as Summary,
            loaderCalls: o.loaders.calls - b.calls,
            ...(after !== undefined && b.stats !== undefined
              ? {
                  tiercacheCounters: {
                    l1Hits: after.l1Hits - b.stats.l1Hits,
                    l2Hits: after.l2Hits - b.stats.l2Hits,
                    misses: after.misses - b.stats.misses,
                    loads: after.loads - b.stats.loads,
                    l2Errors: after.l2Errors - b.stats.l2Errors,
                  },
                }
              : {}),
          }
        }),
      })
    }
    const valueBytes = Buffer.byteLength(JSON.stringify(await opened[0]?.adapter.getOrSet(ids[0] as string, () => null, TTL_MS)))
    return { profile: plan.profile, keys: plan.keys, valueBytes, run: plan.run, rows, uncachedAfterWarm }
  } finally {
    for (const o of opened) await o.adapter.teardown()
  }
}
