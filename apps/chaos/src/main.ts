// `pnpm chaos [--duration SECONDS] [--seed N]`: starts its own Redis Cluster (3 masters + 3
// replicas) with the testkit, runs the seeded schedule against three cache instances in their own
// processes, prints what the checker found and exits non-zero on any violation.
import { parseArgs } from 'node:util'
import { RedisCluster } from '@tiercache/testkit'
import { describeReport, runChaos } from './run-chaos.js'

const { values } = parseArgs({
  options: { duration: { type: 'string', default: '120' }, seed: { type: 'string' } },
})
const durationSeconds = Number(values.duration)
if (!Number.isFinite(durationSeconds) || durationSeconds <= 0) {
  console.error(`--duration takes a number of seconds > 0, got ${values.duration}`)
  process.exit(2)
}
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed)
console.log(`chaos: seed ${seed}, ${durationSeconds} s (replay with --seed ${seed} --duration ${durationSeconds})`)

// As the docs recommend for a cache: one dead master must not make the others refuse their slots.
const cluster = await RedisCluster.start({ requireFullCoverage: false })
let failed = true
try {
  const report = await runChaos({
    cluster,
    seed,
    durationMs: durationSeconds * 1_000,
    log: (line) => console.log(line),
    // CHAOS_TRACE_FILE=path keeps every traced slow read (its tier, L2 calls, loader wait, loop lag).
    traceFile: process.env.CHAOS_TRACE_FILE,
  })
  console.log(describeReport(report))
  failed = report.callerErrors + report.wrongValues + report.slowReads + report.staleReads.length > 0
} finally {
  await cluster.stop()
}
process.exit(failed ? 1 : 0)
