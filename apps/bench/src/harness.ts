import { performance } from 'node:perf_hooks'

/** One asynchronous operation under test; `i` is its sequence number in the measurement. */
export type Operation = (i: number) => Promise<unknown> | unknown

/** How one measurement runs. */
export interface MeasureOptions {
  /** Async loops running side by side on the event loop, each awaiting one operation at a time. */
  concurrency: number
  /** Stop after this many operations in total. */
  maxOps: number
  /** Stop after this many milliseconds, whichever comes first. */
  maxMs: number
}

/** What one measurement saw. Latencies are microseconds per operation, taken with `performance.now()`. */
export interface Sample {
  ops: number
  elapsedMs: number
  opsPerSec: number
  p50Us: number
  p99Us: number
  /**
   * CPU time of this process (user + system) per operation, in microseconds. Less noisy than
   * throughput on a small machine where Redis competes for the same cores, and the direct cost
   * of the code under test plus its client library.
   */
  cpuUsPerOp: number
  /** Operations that threw or rejected (counted, and timed like the others). */
  errors: number
}

/** The median of several samples of one contender, metric by metric, with the samples themselves. */
export interface Summary {
  opsPerSec: number
  p50Us: number
  p99Us: number
  cpuUsPerOp: number
  /** Errors summed over the runs. */
  errors: number
  runs: Sample[]
}

/**
 * Runs `op` at `options.concurrency` until `maxOps` operations or `maxMs` have passed, recording
 * each operation's latency (from the call to the resumption after its `await`) into a
 * preallocated array, so the measurement itself allocates nothing per operation.
 */
export async function measure(op: Operation, options: MeasureOptions): Promise<Sample> {
  const latencies = new Float64Array(options.maxOps)
  let next = 0
  // Indices are claimed in time order, so the first claim past the deadline ends the run and
  // every smaller index was claimed, and completes, before it.
  let end = options.maxOps
  let errors = 0
  const cpuBefore = process.cpuUsage()
  const started = performance.now()
  const deadline = started + options.maxMs
  const loop = async (): Promise<void> => {
    for (;;) {
      const i = next++
      if (i >= end) return
      const t0 = performance.now()
      if (t0 >= deadline) {
        end = Math.min(end, i)
        return
      }
      try {
        await op(i)
      } catch {
        errors++
      }
      latencies[i] = performance.now() - t0
    }
  }
  const loops: Promise<void>[] = []
  for (let c = 0; c < options.concurrency; c++) loops.push(loop())
  await Promise.all(loops)
  const elapsedMs = performance.now() - started
  const cpu = process.cpuUsage(cpuBefore)
  const ops = end
  const done = latencies.subarray(0, ops).sort()
  return {
    ops,
    elapsedMs,
    opsPerSec: (ops / elapsedMs) * 1000,
    p50Us: percentile(done, 0.5) * 1000,
    p99Us: percentile(done, 0.99) * 1000,
    cpuUsPerOp: (cpu.user + cpu.system) / ops,
    errors,
  }
}

/** A contender in a comparison: a name and the operation it runs. */
export interface Contender {
  name: string
  op: Operation
}

/** Options of {@link compare}: the measurement, how many measured runs, and a shorter warm-up run. */
export interface CompareOptions extends MeasureOptions {
  /** Measured runs per contender; the median of each metric is reported. Default 3. */
  runs?: number
  /** Warm-up (JIT, connections) before the measured runs, not reported. */
  warmup: { maxOps: number; maxMs: number }
}

/**
 * Measures contenders under the same options. Runs are interleaved (a, b, a, b, ...) so that
 * noise from the machine drifting over time falls on every contender alike.
 */
export async function compare(contenders: readonly Contender[], options: CompareOptions): Promise<Map<string, Summary>> {
  const runs = options.runs ?? 3
  for (const contender of contenders) {
    await measure(contender.op, { ...options, ...options.warmup })
  }
  const samples = new Map<string, Sample[]>(contenders.map((c) => [c.name, []]))
  for (let r = 0; r < runs; r++) {
    for (const contender of contenders) {
      collectGarbage()
      samples.get(contender.name)?.push(await measure(contender.op, options))
    }
  }
  const out = new Map<string, Summary>()
  for (const [name, list] of samples) out.set(name, summarize(list))
  return out
}

/** The median of each metric over `samples`. */
export function summarize(samples: Sample[]): Summary {
  return {
    opsPerSec: median(samples.map((s) => s.opsPerSec)),
    p50Us: median(samples.map((s) => s.p50Us)),
    p99Us: median(samples.map((s) => s.p99Us)),
    cpuUsPerOp: median(samples.map((s) => s.cpuUsPerOp)),
    errors: samples.reduce((sum, s) => sum + s.errors, 0),
    runs: samples,
  }
}

/** The median of a list of numbers (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/** The `q` quantile (0..1) of ascending `sorted` values, nearest-rank. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[rank] as number
}

/** Runs a full GC between runs when node was started with `--expose-gc`, so one run's garbage does not land on the next. */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc
  if (typeof gc === 'function') gc()
}
