import { performance } from 'node:perf_hooks'
import type { RedisCluster } from '@tiercache/testkit'
import { contendersFor, type Loader } from '../adapters/index.js'
import { makeProduct, type Product, productIds } from '../product.js'
import { contextFor, openAdapter, ProductLoaders, sleep, TTL_MS, uniqueNamespace } from './common.js'

/** Warm keys read at random, spread over every master. */
export const FAILOVER_KEYS = 2_000
/** Concurrent read loops. */
export const FAILOVER_CONCURRENCY = 32
/** Load before the kill (ms). */
export const FAILOVER_BEFORE_MS = 1_000
/** Load after the kill (ms): the window in which recovery must happen to be seen. */
export const FAILOVER_AFTER_MS = 7_000
/** A read slower than this (ms) counts as a stall. */
export const FAILOVER_SLOW_MS = 100
/** After the window, reads still in flight get this long (ms) to settle; those that do not are "hung". */
const SETTLE_MS = 3_000
/** Width of the timeline buckets (ms). */
export const FAILOVER_BUCKET_MS = 250

/** One contender's run. */
export interface FailoverFigure {
  contender: string
  /** Reads completed before the kill, per second. */
  readsPerSecBefore: number
  /** Reads that threw or rejected after the kill. */
  errors: number
  /** Reads slower than {@link FAILOVER_SLOW_MS} after the kill. */
  stalls: number
  /** Slowest read after the kill (ms). */
  maxLatencyMs: number
  /** Loader calls after the kill: every key was in Redis, so each is a read the cache could not answer. */
  loaderCalls: number
  /** Reads still in flight {@link SETTLE_MS} after the window. */
  hung: number
  /**
   * From the kill until the end of the last bad read (error, stall or loader call), ms; reads
   * after it were all answered from Redis under {@link FAILOVER_SLOW_MS}. `null`: bad reads went
   * on until the end of the window (not recovered within it).
   */
  recoveryMs: number | null
  /** Errors the library reported on events instead of to callers. */
  reportedErrors: number
  /** Reads completed per bucket, from the start of the load. */
  timeline: { ok: number; bad: number }[]
}

/** (f) the failover workload's result. */
export interface FailoverResult {
  keys: number
  concurrency: number
  beforeMs: number
  afterMs: number
  slowMs: number
  bucketMs: number
  figures: FailoverFigure[]
}

/**
 * (f) A master killed under load. Contender by contender, without a memory tier (so every read
 * needs Redis): warm `FAILOVER_KEYS`, read them at random from `FAILOVER_CONCURRENCY` loops,
 * SIGKILL the master of the first slot range after `FAILOVER_BEFORE_MS`, keep reading for
 * `FAILOVER_AFTER_MS`, then restart the node and wait for the cluster to be whole again.
 */
export async function runFailover(cluster: RedisCluster): Promise<FailoverResult> {
  const ids = productIds(FAILOVER_KEYS)
  const figures: FailoverFigure[] = []
  for (const spec of contendersFor('l2')) {
    await cluster.ensureHealthy()
    const adapter = await openAdapter(spec, contextFor('l2', uniqueNamespace('failover', spec.name), cluster.seeds()))
    const loaders = new ProductLoaders(ids)
    let killedPort = 0
    try {
      await loaders.warmUntilCached(adapter)
      const loaderTimes: number[] = []
      // A loader stands for a database query: it yields to the event loop as a real one does. A
      // loader that resolves without I/O would turn a cache's fallback (breaker open, L2 skipped)
      // into an unbroken chain of microtasks that starves the timers and sockets every library
      // needs to notice that Redis is back.
      const timed: Loader<Product>[] = ids.map((id) => async () => {
        loaderTimes.push(performance.now())
        await new Promise<void>((resolve) => setImmediate(resolve))
        return makeProduct(id)
      })
      const reads: { start: number; end: number; error: boolean }[] = []
      let inFlight = 0
      const started = performance.now()
      const deadline = started + FAILOVER_BEFORE_MS + FAILOVER_AFTER_MS
      const loop = async (): Promise<void> => {
        while (performance.now() < deadline) {
          const k = Math.floor(Math.random() * ids.length)
          const start = performance.now()
          let error = false
          inFlight++
          try {
            await adapter.getOrSet(ids[k] as string, timed[k] as Loader<Product>, TTL_MS)
          } catch {
            error = true
          }
          inFlight--
          reads.push({ start, end: performance.now(), error })
        }
      }
      const reportedBefore = adapter.reportedErrors
      const loops = Array.from({ length: FAILOVER_CONCURRENCY }, loop)
      await new Promise((resolve) => setTimeout(resolve, FAILOVER_BEFORE_MS))
      const victim = (await cluster.masters())[0]
      if (victim === undefined) throw new Error('failover: no master to kill')
      killedPort = victim.port
      const killedAt = performance.now()
      await cluster.kill(victim.port)
      await Promise.race([Promise.all(loops), new Promise((resolve) => setTimeout(resolve, deadline - performance.now() + SETTLE_MS))])

      const after = reads.filter((r) => r.end >= killedAt)
      const bad = (r: (typeof reads)[number]): boolean => r.error || r.end - r.start > FAILOVER_SLOW_MS
      const loaderAfter = loaderTimes.filter((t) => t >= killedAt)
      // Loops, not Math.max(...list): a run has too many reads to spread into arguments.
      let lastBad = killedAt
      for (const r of after) if (bad(r) && r.end > lastBad) lastBad = r.end
      for (const t of loaderAfter) if (t > lastBad) lastBad = t
      let maxLatencyMs = 0
      for (const r of after) maxLatencyMs = Math.max(maxLatencyMs, r.end - r.start)
      const windowEnd = deadline
      const timeline = Array.from({ length: Math.ceil((FAILOVER_BEFORE_MS + FAILOVER_AFTER_MS) / FAILOVER_BUCKET_MS) }, () => ({
        ok: 0,
        bad: 0,
      }))
      for (const r of reads) {
        const bucket = timeline[Math.floor((r.end - started) / FAILOVER_BUCKET_MS)]
        if (bucket !== undefined) bad(r) ? bucket.bad++ : bucket.ok++
      }
      figures.push({
        contender: spec.name,
        readsPerSecBefore: (reads.filter((r) => r.end < killedAt).length / (killedAt - started)) * 1000,
        errors: after.filter((r) => r.error).length,
        stalls: after.filter((r) => !r.error && r.end - r.start > FAILOVER_SLOW_MS).length,
        maxLatencyMs,
        loaderCalls: loaderAfter.length,
        hung: inFlight,
        // Bad reads in the last bucket of the window mean it had not settled when the window closed.
        recoveryMs: lastBad >= windowEnd - FAILOVER_BUCKET_MS ? null : lastBad - killedAt,
        reportedErrors: adapter.reportedErrors - reportedBefore,
        timeline,
      })
    } finally {
      // A client stuck on the dead node must not hold up the bench.
      await Promise.race([adapter.teardown().catch(() => {}), sleep(SETTLE_MS)])
      if (killedPort !== 0) await cluster.restart(killedPort)
    }
  }
  await cluster.ensureHealthy()
  return {
    keys: FAILOVER_KEYS,
    concurrency: FAILOVER_CONCURRENCY,
    beforeMs: FAILOVER_BEFORE_MS,
    afterMs: FAILOVER_AFTER_MS,
    slowMs: FAILOVER_SLOW_MS,
    bucketMs: FAILOVER_BUCKET_MS,
    figures,
  }
}
