import { performance } from 'node:perf_hooks'
import type { RedisCluster } from '@tiercache/testkit'
import { type AdapterContext, type AdapterSpec, type CacheAdapter, contender, contendersFor, type Loader } from '../adapters/index.js'
import { median } from '../harness.js'
import { makeProduct, type Product, productIds } from '../product.js'
import { contextFor, openAdapter, ProductLoaders, TTL_MS, uniqueNamespace } from './common.js'

/** Keys of the Zipf tail. */
export const HOT_KEYS = 10_000
/** Share of reads on the one hot key. */
export const HOT_SHARE = 0.5
/** Zipf exponent of the tail. */
export const HOT_ZIPF = 1.1
/** Instances per contender (own connections each) and read loops per instance. */
export const HOT_INSTANCES = 3
export const HOT_CONCURRENCY = 32
/** Reads before each measured run, so detection (tiercache) and JIT are warm (ms). */
export const HOT_WARM_MS = 1_000
/** One measured run (ms); runs are interleaved across contenders. */
export const HOT_RUN_MS = 2_000
export const HOT_RUNS = 3
const HOT_ID = 'viral'

/** One run of one contender. */
export interface HotKeyRun {
  readsPerSec: number
  /** Each master's share of the GET/MGET calls of the run, largest first. */
  shares: number[]
  /** GET/MGET calls per read (below 1 when some reads are answered from memory). */
  getsPerRead: number
}

/** One contender: median of the runs by reads/s (its shares are that run's). */
export interface HotKeyFigure {
  label: string
  contender: string
  median: HotKeyRun
  runs: HotKeyRun[]
}

/** (g) the hot-key workload's result. */
export interface HotKeyResult {
  keys: number
  share: number
  zipf: number
  instances: number
  concurrency: number
  runMs: number
  masters: number
  figures: HotKeyFigure[]
}

// Zipf ranks by inverse CDF on a precomputed table.
const cdf: number[] = []
{
  let total = 0
  for (let i = 1; i <= HOT_KEYS; i++) total += 1 / i ** HOT_ZIPF
  let acc = 0
  for (let i = 1; i <= HOT_KEYS; i++) {
    acc += 1 / i ** HOT_ZIPF / total
    cdf.push(acc)
  }
}

/** Index into the ids: 0 is the hot key, 1.. the Zipf tail. */
function pick(): number {
  if (Math.random() < HOT_SHARE) return 0
  const u = Math.random()
  let lo = 0
  let hi = HOT_KEYS - 1
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if ((cdf[mid] as number) < u) lo = mid + 1
    else hi = mid
  }
  return lo + 1
}

async function getCalls(cluster: RedisCluster): Promise<number[]> {
  const calls: number[] = []
  for (const master of await cluster.masters()) {
    const info = String(await cluster.command(master.port, ['INFO', 'commandstats']))
    const get = Number(/cmdstat_get:calls=(\d+)/.exec(info)?.[1] ?? 0)
    const mget = Number(/cmdstat_mget:calls=(\d+)/.exec(info)?.[1] ?? 0)
    calls.push(get + mget)
  }
  return calls
}

/**
 * (g) Hot key: half of all reads on one key, the rest Zipf over `HOT_KEYS`, from `HOT_INSTANCES`
 * instances of each contender, without a memory tier (so reads reach Redis; tiercache may still
 * keep a detected hot key in memory for a second, which is part of its hot-key handling).
 * tiercache runs with hot-key handling off, replication only, and its defaults. Reports reads/s
 * and each master's share of GET calls (INFO commandstats deltas).
 */
export async function runHotKey(cluster: RedisCluster): Promise<HotKeyResult> {
  const variants: { label: string; spec: AdapterSpec; extra: Pick<AdapterContext, 'hot'> }[] = [
    { label: 'tiercache (defaults)', spec: contender('tiercache'), extra: {} },
    { label: 'tiercache (replicas only, no L1 promotion)', spec: contender('tiercache'), extra: { hot: { l1Ttl: 0 } } },
    { label: 'tiercache (hot-key handling off)', spec: contender('tiercache'), extra: { hot: false } },
    ...contendersFor('l2')
      .filter((spec) => spec.name !== 'tiercache' && spec.name !== 'ioredis (no pipelining)')
      .map((spec) => ({ label: spec.name, spec, extra: {} })),
  ]
  const ids = [HOT_ID, ...productIds(HOT_KEYS)]
  const loaders = new ProductLoaders(ids)
  const opened: { label: string; spec: AdapterSpec; instances: CacheAdapter[]; runs: HotKeyRun[] }[] = []
  try {
    for (const variant of variants) {
      const context = contextFor('l2', uniqueNamespace('hot', variant.label), cluster.seeds(), variant.extra)
      const instances: CacheAdapter[] = []
      for (let i = 0; i < HOT_INSTANCES; i++) instances.push(await openAdapter(variant.spec, context))
      await loaders.warm(instances[0] as CacheAdapter)
      opened.push({ label: variant.label, spec: variant.spec, instances, runs: [] })
    }
    const masters = (await cluster.masters()).length
    for (let run = 0; run < HOT_RUNS; run++) {
      for (const o of opened) {
        await readFor(o.instances, loaders.loaders, HOT_WARM_MS)
        const before = await getCalls(cluster)
        const t0 = performance.now()
        const reads = await readFor(o.instances, loaders.loaders, HOT_RUN_MS)
        const elapsed = performance.now() - t0
        const after = await getCalls(cluster)
        const deltas = after.map((calls, i) => calls - (before[i] ?? 0))
        const total = deltas.reduce((a, b) => a + b, 0)
        o.runs.push({
          readsPerSec: (reads / elapsed) * 1000,
          shares: deltas.map((d) => (total === 0 ? 0 : d / total)).sort((a, b) => b - a),
          getsPerRead: total / reads,
        })
      }
    }
    return {
      keys: HOT_KEYS,
      share: HOT_SHARE,
      zipf: HOT_ZIPF,
      instances: HOT_INSTANCES,
      concurrency: HOT_CONCURRENCY,
      runMs: HOT_RUN_MS,
      masters,
      figures: opened.map((o) => {
        const byRate = [...o.runs].sort((a, b) => a.readsPerSec - b.readsPerSec)
        const mid = byRate[Math.floor(byRate.length / 2)] as HotKeyRun
        return {
          label: o.label,
          contender: o.spec.name,
          median: { ...mid, readsPerSec: median(o.runs.map((r) => r.readsPerSec)) },
          runs: o.runs,
        }
      }),
    }
  } finally {
    for (const o of opened) for (const instance of o.instances) await instance.teardown()
  }
}

async function readFor(instances: readonly CacheAdapter[], loaders: readonly Loader<Product>[], ms: number): Promise<number> {
  const ids = [HOT_ID, ...productIds(HOT_KEYS)]
  const until = performance.now() + ms
  let reads = 0
  await Promise.all(
    instances.flatMap((instance) =>
      Array.from({ length: HOT_CONCURRENCY }, async () => {
        while (performance.now() < until) {
          const k = pick()
          await instance.getOrSet(ids[k] as string, loaders[k] ?? (() => makeProduct(ids[k] as string)), TTL_MS)
          reads++
        }
      }),
    ),
  )
  return reads
}
