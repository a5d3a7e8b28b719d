import { setTimeout as sleep } from 'node:timers/promises'
import type { EntityHandle, EntityStats, TierCache } from '@tiercache/core'
import type { NodeAddress } from '@tiercache/testkit'
import { Cluster } from 'ioredis'
import { compare, type Summary } from '../harness.js'
import { forEachLimited, makeProduct, type Product, productIds } from '../product.js'

/** Warm keys read in a loop by both contenders. */
export const L2_KEYS = 5_000
/** Concurrency levels measured. */
export const L2_CONCURRENCY = [1, 64] as const
/** Bound of one measured run. */
export const L2_RUN = { maxOps: 100_000, maxMs: 3_000 }
const L2_WARMUP = { maxOps: 20_000, maxMs: 1_000 }

/** Name of the entity this workload reads: `l1: false`, so every measured read goes to Redis. */
export const L2_ENTITY = 'productL2'

/** Counters of the entity over one phase of the workload. */
export type L2Counters = Pick<EntityStats, 'l1Hits' | 'l2Hits' | 'misses' | 'loads' | 'earlyRefreshes' | 'l2Errors'>

/** One concurrency level of the L2 workload. */
export interface L2Row {
  concurrency: number
  tiercache: Summary
  bare: Summary
  /** tiercache ops/s over bare ioredis ops/s (medians). */
  ratio: number
  /**
   * The entity's counters over this level's runs (warm-up included). Loads or L2 errors here
   * mean some reads were not L2 hits (an L2 timeout, or the circuit breaker open), so the
   * tiercache figure mixes in loader calls.
   */
  counters: L2Counters
}

/** The L2 workload's result. */
export interface L2Result {
  keys: number
  /** Bytes of one value as the bare side stores it (JSON of the product). */
  bareValueBytes: number
  /** Bytes of one value as tiercache stores it (its envelope around the same JSON). */
  tiercacheValueBytes: number
  rows: L2Row[]
  /** Counters of the entity while warming the keys (loads are expected; L2 errors are not). */
  warmCounters: L2Counters
}

// Warming is retried for keys missing from L2 (a write skipped by an L2 timeout or an open
// breaker), after the breaker's default cool-down, so that the measured reads are all L2 hits.
const WARM_ATTEMPTS = 5
const WARM_RETRY_PAUSE_MS = 2_500

/**
 * L2 hit: `entity.get(id, loader)` on an entity without L1, against a bare ioredis `Cluster`
 * (auto-pipelining on) doing `GET` and `JSON.parse` of the same product JSON. Each side has its
 * own client on the same cluster; both read the same number of keys in the same order.
 */
export async function runL2Hit(cache: TierCache, seeds: readonly NodeAddress[]): Promise<L2Result> {
  const ids = productIds(L2_KEYS)
  const products = cache.entity<Product>(L2_ENTITY)
  const loader = (id: string): Product => makeProduct(id)
  const bare = new Cluster([...seeds], { enableAutoPipelining: true })
  try {
    const warmStart = products.stats()
    const valueKey = (id: string): string => `{${cache.namespace}:${L2_ENTITY}:${id}}`
    let missing = ids
    for (let attempt = 1; missing.length > 0; attempt++) {
      if (attempt > WARM_ATTEMPTS)
        throw new Error(`L2 workload: ${missing.length} keys still missing from L2 after ${WARM_ATTEMPTS} warm-ups`)
      if (attempt > 1) await sleep(WARM_RETRY_PAUSE_MS)
      await forEachLimited(missing, 64, (id) => products.get(id, loader))
      const present = new Set<string>()
      await forEachLimited(missing, 64, async (id) => {
        if ((await bare.exists(valueKey(id))) === 1) present.add(id)
      })
      missing = missing.filter((id) => !present.has(id))
    }
    const warmCounters = countersSince(products, warmStart)

    // Like tiercache, the bare side builds its key from the id on every read, as an application would.
    const bareKey = (id: string): string => `{bench:bare:${id}}`
    await forEachLimited(ids, 64, (id) => bare.set(bareKey(id), JSON.stringify(makeProduct(id))))
    const sampleKey = ids[0] as string
    const bareValueBytes = Buffer.byteLength((await bare.get(bareKey(sampleKey))) ?? '')
    const tiercacheValueBytes = Buffer.byteLength((await bare.get(valueKey(sampleKey))) ?? '')

    const rows: L2Row[] = []
    for (const concurrency of L2_CONCURRENCY) {
      const before = products.stats()
      const results = await compare(
        [
          { name: 'tiercache', op: (i) => products.get(ids[i % L2_KEYS] as string, loader) },
          {
            name: 'ioredis',
            op: async (i) => {
              const raw = await bare.get(bareKey(ids[i % L2_KEYS] as string))
              return raw === null ? null : (JSON.parse(raw) as Product)
            },
          },
        ],
        { concurrency, ...L2_RUN, warmup: L2_WARMUP },
      )
      const tiercache = results.get('tiercache') as Summary
      const ioredis = results.get('ioredis') as Summary
      rows.push({
        concurrency,
        tiercache,
        bare: ioredis,
        ratio: tiercache.opsPerSec / ioredis.opsPerSec,
        counters: countersSince(products, before),
      })
    }
    return { keys: L2_KEYS, bareValueBytes, tiercacheValueBytes, rows, warmCounters }
  } finally {
    await bare.quit().catch(() => bare.disconnect())
  }
}

function countersSince(entity: EntityHandle<Product>, before: EntityStats): L2Counters {
  const after = entity.stats()
  return {
    l1Hits: after.l1Hits - before.l1Hits,
    l2Hits: after.l2Hits - before.l2Hits,
    misses: after.misses - before.misses,
    loads: after.loads - before.loads,
    earlyRefreshes: after.earlyRefreshes - before.earlyRefreshes,
    l2Errors: after.l2Errors - before.l2Errors,
  }
}
