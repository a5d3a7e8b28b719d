/**
 * How soon a key turns hot (issue 17 item 3: with default thresholds, a key read at 5x the rate
 * threshold is reported within 250 ms, and a cold key never is). Needs no Redis: detection runs in
 * each instance, before any L2 call. Two parts, both through the public API (`createCache`, an
 * entity with default hot-key options, `cache.on('hot-key')`):
 *
 * 1. Stream time, on a manual clock: a Zipf(1.1) background of 7,000 reads/s over 100,000 keys
 *    (its top key at 0.94x the threshold, the second at 0.44x) and, from a start spread over a
 *    half window, one key at 5x the threshold (5,000 reads/s); 20 seeded runs of 6 s each. Prints
 *    the detection latency (report time minus start) and every background key reported, with its
 *    true rate. Deterministic: the same figures on any machine.
 * 2. Wall clock: 16 busy callers, one key taking half of their reads (the workload in issue 17),
 *    real clock; time from the first read to the `hot-key` event, 5 runs.
 *
 * Run: pnpm run build && node apps/bench/dist/hot-key-detection.js
 */
import { createCache, DEFAULTS, ManualClock } from '@tiercache/core'
// mulberry32: seeded draws, so each run replays exactly.
import { seeded } from '@tiercache/testkit/helpers'

const RUNS = 20
const RUN_MS = 6_000
const BACKGROUND_PER_S = 7_000
const KEYS = 100_000
const HOT_ID = 'flash-sale'

function zipfCdf(n: number, s: number): Float64Array {
  const cdf = new Float64Array(n)
  let sum = 0
  for (let rank = 1; rank <= n; rank++) sum += rank ** -s
  let acc = 0
  for (let rank = 1; rank <= n; rank++) {
    acc += rank ** -s / sum
    cdf[rank - 1] = acc
  }
  return cdf
}

function sampleRank(cdf: Float64Array, u: number): number {
  let lo = 0
  let hi = cdf.length - 1
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((cdf[mid] as number) < u) lo = mid + 1
    else hi = mid
  }
  return lo + 1
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number
}

async function streamRun(seed: number, startMs: number, cdf: Float64Array) {
  const clock = new ManualClock()
  const random = seeded(seed)
  const cache = createCache({ namespace: 'detect', clock, random, entities: { item: { ttl: '1m', l1: false } } })
  const item = cache.entity<number>('item')
  const reported: { id: string; at: number }[] = []
  cache.on('hot-key', (event) => reported.push({ id: event.id, at: clock.now() }))
  const hotPerS = 5 * DEFAULTS.hotRate
  const trueReads = new Map<string, number>()
  const start = clock.now()
  for (let t = 0; t < RUN_MS; ) {
    const perS = t >= startMs ? BACKGROUND_PER_S + hotPerS : BACKGROUND_PER_S
    const id = t >= startMs && random() < hotPerS / perS ? HOT_ID : `user:${sampleRank(cdf, random())}`
    trueReads.set(id, (trueReads.get(id) ?? 0) + 1)
    await item.get(id, () => 1)
    const step = 1000 / perS
    clock.advance(step)
    t += step
  }
  await cache.close()
  const hot = reported.find((r) => r.id === HOT_ID)
  const others = reported
    .filter((r) => r.id !== HOT_ID)
    .map((r) => ({ id: r.id, ratePerS: Math.round(((trueReads.get(r.id) ?? 0) * 1000) / RUN_MS) }))
  return { latencyMs: hot === undefined ? Number.POSITIVE_INFINITY : hot.at - start - startMs, others }
}

async function wallRun(): Promise<number> {
  const cache = createCache({ namespace: 'detect-wall', entities: { item: { ttl: '1m', l1: false } } })
  const item = cache.entity<number>('item')
  let detectedAt = 0
  const detected = new Promise<void>((resolve) =>
    cache.on('hot-key', () => {
      detectedAt = performance.now()
      resolve()
    }),
  )
  let done = false
  const started = performance.now()
  const caller = async (c: number): Promise<void> => {
    for (let i = 0; !done; i++) {
      await item.get(i % 2 === 0 ? HOT_ID : `other:${c}:${i % 5000}`, () => i)
      // Yield to timers and I/O now and then, as a service's callers would.
      if (i % 256 === 0) await new Promise((resolve) => setImmediate(resolve))
    }
  }
  const callers = Array.from({ length: 16 }, (_, c) => caller(c))
  await Promise.race([detected, new Promise((resolve) => setTimeout(resolve, 10_000))])
  done = true
  await Promise.all(callers)
  await cache.close()
  return detectedAt === 0 ? Number.POSITIVE_INFINITY : detectedAt - started
}

const cdf = zipfCdf(KEYS, 1.1)
const latencies: number[] = []
const falseReports: { seed: number; id: string; ratePerS: number }[] = []
for (let seed = 1; seed <= RUNS; seed++) {
  // Starts spread over one half window (1 s), so some fall just after a boundary.
  const result = await streamRun(seed, 2_000 + ((seed - 1) * 1_000) / RUNS, cdf)
  latencies.push(result.latencyMs)
  for (const other of result.others) falseReports.push({ seed, ...other })
}
const sorted = [...latencies].sort((a, b) => a - b)
console.log(
  `stream time, ${RUNS} runs: a key at 5x the rate threshold (${5 * DEFAULTS.hotRate} reads/s) over a Zipf(1.1) background of ${BACKGROUND_PER_S} reads/s`,
)
console.log(
  `  detection latency ms: median ${percentile(sorted, 0.5).toFixed(1)}, p95 ${percentile(sorted, 0.95).toFixed(1)}, max ${(sorted[sorted.length - 1] as number).toFixed(1)}`,
)
console.log(`  background keys reported hot: ${falseReports.length === 0 ? 'none' : ''}`)
for (const r of falseReports)
  console.log(`    seed ${r.seed}: ${r.id} at ${r.ratePerS} reads/s (${(r.ratePerS / DEFAULTS.hotRate).toFixed(2)}x the threshold)`)

const wall: number[] = []
for (let run = 0; run < 5; run++) wall.push(await wallRun())
wall.sort((a, b) => a - b)
console.log(`wall clock, 5 runs: 16 busy callers, one key taking half of their reads`)
console.log(
  `  time to the hot-key event ms: median ${percentile(wall, 0.5).toFixed(1)}, max ${(wall[wall.length - 1] as number).toFixed(1)}`,
)
