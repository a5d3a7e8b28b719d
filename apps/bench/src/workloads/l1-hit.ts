import type { EntityStats, TierCache } from '@tiercache/core'
import { LRUCache } from 'lru-cache'
import { compare, type Summary } from '../harness.js'
import { forEachLimited, makeProduct, type Product, productIds } from '../product.js'

/** Warm keys read in a loop by both contenders. */
export const L1_KEYS = 1_000
/** Concurrency levels measured. */
export const L1_CONCURRENCY = [1, 64] as const
/**
 * Bound of one measured run. An L1 hit takes well under a microsecond, so 200k operations would
 * last some 50 ms, too short to be stable (JIT tiers, one GC); 2M last about half a second.
 */
export const L1_RUN = { maxOps: 2_000_000, maxMs: 3_000 }
const L1_WARMUP = { maxOps: 500_000, maxMs: 1_000 }

/** Name of the entity this workload reads: L1 on, so every measured read is an L1 hit. */
export const L1_ENTITY = 'productL1'

/** One concurrency level of the L1 workload. */
export interface L1Row {
  concurrency: number
  tiercache: Summary
  bare: Summary
  /** tiercache ops/s over bare lru-cache ops/s (medians). */
  ratio: number
}

/** The L1 workload's result. */
export interface L1Result {
  keys: number
  rows: L1Row[]
  /** Counters of the entity over the measured phase: every read should be an L1 hit, no load. */
  statsDuringMeasure: Pick<EntityStats, 'l1Hits' | 'l2Hits' | 'misses' | 'loads' | 'earlyRefreshes'>
}

/**
 * L1 hit: `entity.get(id, loader)` on warm keys against a bare `lru-cache` holding the same
 * objects under the same ids and read with `await lru.get(id)` in the same loop. Both sides go
 * through the same harness, keys in the same order, at the same concurrency.
 */
export async function runL1Hit(cache: TierCache): Promise<L1Result> {
  const ids = productIds(L1_KEYS)
  const products = cache.entity<Product>(L1_ENTITY)
  // The loader takes the id, as a repository function would; one function for every call.
  const loader = (id: string): Product => makeProduct(id)
  await forEachLimited(ids, 64, (id) => products.get(id, loader))

  const lru = new LRUCache<string, Product>({ max: 10_000 })
  for (const id of ids) lru.set(id, makeProduct(id))

  const before = products.stats()
  const rows: L1Row[] = []
  for (const concurrency of L1_CONCURRENCY) {
    const results = await compare(
      [
        { name: 'tiercache', op: (i) => products.get(ids[i % L1_KEYS] as string, loader) },
        { name: 'lru-cache', op: (i) => lru.get(ids[i % L1_KEYS] as string) },
      ],
      { concurrency, ...L1_RUN, warmup: L1_WARMUP },
    )
    const tiercache = results.get('tiercache') as Summary
    const bare = results.get('lru-cache') as Summary
    rows.push({ concurrency, tiercache, bare, ratio: tiercache.opsPerSec / bare.opsPerSec })
  }
  const after = products.stats()
  return {
    keys: L1_KEYS,
    rows,
    statsDuringMeasure: {
      l1Hits: after.l1Hits - before.l1Hits,
      l2Hits: after.l2Hits - before.l2Hits,
      misses: after.misses - before.misses,
      loads: after.loads - before.loads,
      earlyRefreshes: after.earlyRefreshes - before.earlyRefreshes,
    },
  }
}
