import { performance } from 'node:perf_hooks'
import type { CacheAdapter } from '../adapters/index.js'
import { percentile } from '../harness.js'
import type { Product } from '../product.js'
import { TTL_MS } from './common.js'

/** What one burst of concurrent callers of one cold key saw. */
export interface CallerBurst {
  /** From the first call to the last caller served (ms). */
  serveAllMs: number
  /** Median caller time (ms). */
  p50Ms: number
  errors: number
  /** The versions the callers received (distinct). */
  versions: Set<number>
}

/**
 * Starts `callers` concurrent `getOrSet` calls of `key` in one turn and waits for every one: the
 * stampede of one process, the same in the in-process workload and in each forked worker.
 */
export async function callerBurst(
  adapter: CacheAdapter,
  key: string,
  loader: () => Promise<Product>,
  callers: number,
): Promise<CallerBurst> {
  const servedAt = new Float64Array(callers)
  const versions = new Set<number>()
  let errors = 0
  const started = performance.now()
  const calls: Promise<void>[] = []
  for (let c = 0; c < callers; c++) {
    calls.push(
      Promise.resolve()
        .then(() => adapter.getOrSet(key, loader, TTL_MS))
        .then(
          (value) => {
            servedAt[c] = performance.now() - started
            versions.add(value.version)
          },
          () => {
            servedAt[c] = performance.now() - started
            errors++
          },
        ),
    )
  }
  await Promise.all(calls)
  const sorted = servedAt.slice().sort()
  return { serveAllMs: sorted[sorted.length - 1] ?? 0, p50Ms: percentile(sorted, 0.5), errors, versions }
}
