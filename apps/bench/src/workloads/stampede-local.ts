import type { NodeAddress } from '@tiercache/testkit'
import { type AdapterSpec, type CacheAdapter, CONTENDERS } from '../adapters/index.js'
import { median } from '../harness.js'
import { makeProduct, type Product } from '../product.js'
import { contextFor, openAdapter, sleep, uniqueNamespace } from './common.js'
import { callerBurst } from './stampede-callers.js'

/** Concurrent callers of one cold key, in one process. */
export const LOCAL_STAMPEDE_CALLERS = 1_000
/** Loader duration (ms). */
export const LOCAL_STAMPEDE_LOADER_MS = 100
/** Rounds per contender, each on a fresh cold key, interleaved across contenders. */
export const LOCAL_STAMPEDE_ROUNDS = 3

/** One round of one contender. */
export interface LocalStampedeRound {
  loaderCalls: number
  /** From the first call to the last caller served (ms). */
  serveAllMs: number
  /** Median caller time (ms). */
  p50Ms: number
  errors: number
  /** Distinct versions the callers received. */
  versions: number
}

/** One contender's rounds and their medians. */
export interface LocalStampedeFigure {
  contender: string
  profile: string
  rounds: LocalStampedeRound[]
  median: { loaderCalls: number; serveAllMs: number; p50Ms: number; errors: number }
}

/** (c) cold-key stampede in one process. */
export interface LocalStampedeResult {
  callers: number
  loaderMs: number
  figures: LocalStampedeFigure[]
}

/**
 * (c) `LOCAL_STAMPEDE_CALLERS` concurrent `getOrSet` calls of one cold key in one process, the
 * loader taking `LOCAL_STAMPEDE_LOADER_MS`. Each contender runs its default set-up (its memory
 * tier in front of Redis; bare lru-cache alone; bare ioredis alone).
 */
export async function runLocalStampede(
  seeds: readonly NodeAddress[],
  specs: readonly AdapterSpec[] = CONTENDERS,
): Promise<LocalStampedeResult> {
  const opened: { spec: AdapterSpec; adapter: CacheAdapter; rounds: LocalStampedeRound[] }[] = []
  try {
    for (const spec of specs) {
      const profile = spec.profiles[0] ?? 'l1'
      opened.push({
        spec,
        adapter: await openAdapter(spec, contextFor(profile, uniqueNamespace('stampede1', spec.name), seeds)),
        rounds: [],
      })
    }
    for (let round = 0; round < LOCAL_STAMPEDE_ROUNDS; round++) {
      for (const o of opened) o.rounds.push(await stampedeOnce(o.adapter, `cold-${round}`))
    }
    return {
      callers: LOCAL_STAMPEDE_CALLERS,
      loaderMs: LOCAL_STAMPEDE_LOADER_MS,
      figures: opened.map((o) => ({
        contender: o.spec.name,
        profile: o.spec.profiles[0] ?? 'l1',
        rounds: o.rounds,
        median: {
          loaderCalls: median(o.rounds.map((r) => r.loaderCalls)),
          serveAllMs: median(o.rounds.map((r) => r.serveAllMs)),
          p50Ms: median(o.rounds.map((r) => r.p50Ms)),
          errors: median(o.rounds.map((r) => r.errors)),
        },
      })),
    }
  } finally {
    for (const o of opened) await o.adapter.teardown()
  }
}

async function stampedeOnce(adapter: CacheAdapter, key: string): Promise<LocalStampedeRound> {
  let loaderCalls = 0
  const loader = async (): Promise<Product> => {
    loaderCalls++
    await sleep(LOCAL_STAMPEDE_LOADER_MS)
    return makeProduct(key, loaderCalls)
  }
  const burst = await callerBurst(adapter, key, loader, LOCAL_STAMPEDE_CALLERS)
  return { loaderCalls, serveAllMs: burst.serveAllMs, p50Ms: burst.p50Ms, errors: burst.errors, versions: burst.versions.size }
}
