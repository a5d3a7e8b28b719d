import type { NodeAddress } from '@tiercache/testkit'
import type { AdapterContext, AdapterSpec, CacheAdapter, Loader, Profile } from '../adapters/index.js'
import { forEachLimited, makeProduct, type Product } from '../product.js'

/** TTL of every cached value (ms): in Redis, and in memory where a library has no memory TTL of its own. */
export const TTL_MS = 600_000
/** Every contender's memory tier: entries live at most this long (ms) and at most this many are kept. */
export const L1 = { ttlMs: 60_000, maxEntries: 10_000 } as const

let sequence = 0

/** A key prefix unique to this run, workload and contender. */
export function uniqueNamespace(workload: string, contender: string): string {
  return `${workload}-${contender.replace(/[^a-z0-9]+/gi, '')}-${process.pid.toString(36)}${(sequence++).toString(36)}`
}

/** The context every contender gets for `profile`: the same TTLs, capacity and cluster. */
export function contextFor(
  profile: Profile,
  namespace: string,
  cluster: readonly NodeAddress[],
  extra: Pick<AdapterContext, 'bus' | 'hot'> = {},
): AdapterContext {
  return { profile, namespace, cluster, ttlMs: TTL_MS, l1: { ...L1 }, ...extra }
}

/** Builds and sets up one adapter. */
export async function openAdapter(spec: AdapterSpec, context: AdapterContext): Promise<CacheAdapter> {
  const make = await spec.load()
  const adapter = make(context)
  await adapter.setup()
  return adapter
}

/** One loader per product id, made once (so no closure is allocated per read), counting its calls. */
export class ProductLoaders {
  calls = 0
  readonly loaders: Loader<Product>[]

  constructor(readonly ids: readonly string[]) {
    this.loaders = ids.map((id) => () => {
      this.calls++
      return makeProduct(id)
    })
  }

  /** Reads every id once through `adapter`, `width` at a time. */
  async warm(adapter: CacheAdapter, width = 64): Promise<void> {
    await forEachLimited(
      this.ids.map((_, i) => i),
      width,
      async (i) => adapter.getOrSet(this.ids[i] as string, this.loaders[i] as Loader<Product>, TTL_MS),
    )
  }

  /**
   * Warms until a full pass calls no loader (a write an L2 timeout skipped is retried), at most
   * `attempts` passes. Returns the loader calls of the last pass (0 when every key is cached).
   */
  async warmUntilCached(adapter: CacheAdapter, attempts = 4): Promise<number> {
    await this.warm(adapter)
    let missing = 0
    for (let pass = 0; pass < attempts; pass++) {
      const before = this.calls
      await this.warm(adapter)
      missing = this.calls - before
      if (missing === 0) break
    }
    return missing
  }
}

/** Milliseconds to wait. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
