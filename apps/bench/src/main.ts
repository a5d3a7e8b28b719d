import type { ChildProcess } from 'node:child_process'
import { cpus, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import { createCache, type TierCache } from '@tiercache/core'
import { DEFAULT_CLUSTER_STORE_OPTIONS, redisClusterStore } from '@tiercache/redis'
import { RedisCluster } from '@tiercache/testkit'
import type { Summary } from './harness.js'
import { formatMs, formatPercent, formatRate, formatUs, printTable, writeJson } from './report.js'
import { L1_ENTITY, L1_RUN, type L1Result, runL1Hit } from './workloads/l1-hit.js'
import { L2_ENTITY, L2_RUN, type L2Result, runL2Hit } from './workloads/l2-hit.js'
import { runStaleness, type StalenessResult, type StalenessStats } from './workloads/staleness.js'
import { runStampede, type StampedeResult } from './workloads/stampede.js'

// Goals of the benchmark issues, checked against the medians.
const GOALS = {
  l1RatioMin: 0.5,
  l2RatioAt64Min: 0.85,
  stampedeLoaderCalls: 1,
  stalenessP99MaxMs: 20,
}
const WORKLOADS = ['l1', 'l2', 'stampede', 'staleness'] as const
// Both pub/sub flavours of the invalidation bus, the store's default first.
const DEFAULT_BUS = DEFAULT_CLUSTER_STORE_OPTIONS.bus
const STALENESS_BUS_MODES = [DEFAULT_BUS, DEFAULT_BUS === 'publish' ? 'spublish' : 'publish'] as const
type WorkloadName = (typeof WORKLOADS)[number]
const NAMESPACE = 'bench'
const RESULTS_FILE = fileURLToPath(new URL('../results/latest.json', import.meta.url))

const children = new Set<ChildProcess>()

// Ctrl-C: end the stampede workers and the cluster (the testkit's own hook kills its redis-server
// processes by pid on exit), then leave with the conventional status.
process.once('SIGINT', () => {
  console.error('\ninterrupted: stopping workers and the cluster')
  for (const child of children) child.kill('SIGKILL')
  process.exit(130)
})

async function main(): Promise<void> {
  // `node dist/main.js l2 staleness` runs only those workloads (all by default); goals and JSON cover what ran.
  const selected = parseSelection(process.argv.slice(2))
  console.log(`tiercache bench: node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'})`)
  console.log('each figure is the median of 3 runs; latencies are per operation, from the call to the resumption after its await')
  const startedAt = new Date().toISOString()
  console.log('starting a Redis Cluster (3 masters + 3 replicas) with the testkit ...')
  const cluster = await RedisCluster.start({ masters: 3, replicasPerMaster: 1 })
  const seeds = cluster.seeds()
  const redisVersion = await readRedisVersion(cluster, seeds[0]?.port ?? 0)
  console.log(`cluster up: redis ${redisVersion}, ports ${seeds.map((s) => s.port).join(', ')}`)

  let cache: TierCache | undefined
  try {
    cache = createCache({
      namespace: NAMESPACE,
      l2: redisClusterStore({ nodes: seeds }),
      entities: {
        [L1_ENTITY]: { ttl: '10m', l1: { ttl: '5m', maxEntries: 10_000 } },
        [L2_ENTITY]: { ttl: '10m', l1: false },
      },
    })
    await cache.ready()

    const l1 = selected.has('l1') ? await runL1Hit(cache) : undefined
    if (l1 !== undefined) printL1(l1)
    const l2 = selected.has('l2') ? await runL2Hit(cache, seeds) : undefined
    if (l2 !== undefined) printL2(l2)
    const stampede = selected.has('stampede') ? await runStampede(seeds, NAMESPACE, children) : undefined
    if (stampede !== undefined) printStampede(stampede)
    const staleness: StalenessResult[] = []
    if (selected.has('staleness')) {
      for (const bus of STALENESS_BUS_MODES) staleness.push(await runStaleness(seeds, NAMESPACE, bus))
      printStaleness(staleness)
    }

    const goals = checkGoals(l1, l2, stampede, staleness)
    printTable(
      'Goals',
      ['goal', 'target', 'measured', 'met'],
      goals.map((g) => [g.name, g.target, g.measured, g.met ? 'yes' : 'NO']),
    )
    writeJson(RESULTS_FILE, {
      startedAt,
      finishedAt: new Date().toISOString(),
      environment: {
        node: process.version,
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? 'unknown',
        memoryBytes: totalmem(),
        redis: redisVersion,
        cluster: { masters: 3, replicasPerMaster: 1 },
      },
      method: {
        runsPerMeasurement: 3,
        reported: 'median of each metric over the runs; runs of the contenders interleaved',
        l1Bound: L1_RUN,
        l2Bound: L2_RUN,
        latency: 'microseconds from the call to the resumption after its await, performance.now()',
        cpu: 'user + system CPU time of the bench process per operation (process.cpuUsage), microseconds',
      },
      l1,
      l2,
      stampede,
      staleness,
      goals,
    })
    console.log(`\nresults written to ${RESULTS_FILE}`)
  } finally {
    await cache?.close()
    for (const child of children) child.kill('SIGKILL')
    await cluster.stop()
  }
}

function printL1(result: L1Result): void {
  printTable(
    `1. L1 hit: entity.get vs await lru.get, ${result.keys} warm keys`,
    ['concurrency', 'contender', 'ops/s', 'p50 µs', 'p99 µs', 'CPU µs/op', 'tiercache/bare'],
    result.rows.flatMap((row) => [
      [String(row.concurrency), 'tiercache', ...figures(row.tiercache), formatPercent(row.ratio)],
      ['', 'lru-cache', ...figures(row.bare), ''],
    ]),
  )
  const s = result.statsDuringMeasure
  console.log(
    `   entity counters while measuring: ${s.l1Hits} L1 hits, ${s.l2Hits} L2 hits, ${s.misses} misses, ${s.loads} loads, ${s.earlyRefreshes} early refreshes`,
  )
}

function printL2(result: L2Result): void {
  printTable(
    `2. L2 hit: entity.get (l1: false) vs ioredis Cluster GET + JSON.parse, ${result.keys} warm keys, value ${result.bareValueBytes} B (tiercache envelope ${result.tiercacheValueBytes} B)`,
    ['concurrency', 'contender', 'ops/s', 'p50 µs', 'p99 µs', 'CPU µs/op', 'tiercache/bare'],
    result.rows.flatMap((row) => [
      [String(row.concurrency), 'tiercache', ...figures(row.tiercache), formatPercent(row.ratio)],
      ['', 'ioredis', ...figures(row.bare), ''],
    ]),
  )
  const w = result.warmCounters
  console.log(`   warm-up of the keys: ${w.loads} loads, ${w.l2Errors} L2 errors`)
  for (const row of result.rows) {
    const c = row.counters
    const clean = c.loads === 0 && c.l2Errors === 0 && c.misses === 0
    console.log(
      `   concurrency ${row.concurrency}, entity counters: ${c.l2Hits} L2 hits, ${c.misses} misses, ${c.loads} loads, ${c.l2Errors} L2 errors${clean ? '' : ' <- NOT all L2 hits: an L2 timeout or the open circuit breaker sent reads to the loader'}`,
    )
  }
}

function figures(summary: Summary): string[] {
  return [formatRate(summary.opsPerSec), formatUs(summary.p50Us), formatUs(summary.p99Us), formatUs(summary.cpuUsPerOp)]
}

function printStampede(result: StampedeResult): void {
  printTable(
    `3. Cross-process stampede: ${result.processes} processes x ${result.callersPerProcess} concurrent gets of one cold key, loader ${result.loaderMs} ms`,
    ['round', 'loader calls', 'serve all (ms, slowest process)', 'p50 caller (ms)', 'errors', 'versions seen'],
    [
      ...result.rounds.map((r) => [
        String(r.round),
        String(r.loaderCalls),
        formatMs(r.serveAllMs),
        formatMs(r.p50Ms),
        String(r.errors),
        r.versions.join(','),
      ]),
      ['median', String(result.median.loaderCalls), formatMs(result.median.serveAllMs), formatMs(result.median.p50Ms), '', ''],
    ],
  )
  const waits = result.rounds.map((r) => r.perProcess.map((p) => p.stats.lockWaits).join('/')).join('; ')
  console.log(`   lock waits per process, by round: ${waits}`)
}

function printStaleness(results: readonly StalenessResult[]): void {
  const stats = (s: StalenessStats): string[] => [
    formatMs(s.p50Ms),
    formatMs(s.p99Ms),
    formatMs(s.maxMs),
    String(s.staleReads),
    String(s.timedOut),
    formatMs(s.busP50Ms),
    formatMs(s.busP99Ms),
  ]
  printTable(
    `4. Cross-instance staleness window: ms from A.invalidate() resolving until B returns the new value, ${results[0]?.iterations ?? 0} invalidations per run`,
    ['bus', 'run', 'p50 ms', 'p99 ms', 'max ms', 'stale reads', 'timed out', 'bus p50 ms', 'bus p99 ms'],
    results.flatMap((result) => [
      ...result.runs.map((r, i) => [i === 0 ? result.bus : '', String(i + 1), ...stats(r)]),
      ['', 'median', ...stats(result.median)],
    ]),
  )
  console.log(
    '   stale reads: invalidations after which B still answered the old value at least once; bus: until B had applied the message',
  )
  console.log(
    `   ${DEFAULT_BUS} is the cluster store's default bus mode; spublish is sharded pub/sub (Redis >= 7), publish crosses the cluster bus`,
  )
}

interface Goal {
  name: string
  target: string
  measured: string
  met: boolean
}

function checkGoals(
  l1: L1Result | undefined,
  l2: L2Result | undefined,
  stampede: StampedeResult | undefined,
  staleness: readonly StalenessResult[],
): Goal[] {
  const goals: Goal[] = (l1?.rows ?? []).map((row) => ({
    name: `L1 hit, concurrency ${row.concurrency}: tiercache / lru-cache`,
    target: `>= ${formatPercent(GOALS.l1RatioMin)}`,
    measured: formatPercent(row.ratio),
    met: row.ratio >= GOALS.l1RatioMin,
  }))
  const l2At64 = l2?.rows.find((row) => row.concurrency === 64)
  if (l2At64 !== undefined) {
    goals.push({
      name: 'L2 hit, concurrency 64: tiercache / ioredis',
      target: `>= ${formatPercent(GOALS.l2RatioAt64Min)}`,
      measured: `${formatPercent(l2At64.ratio)}${l2At64.counters.l2Errors + l2At64.counters.loads > 0 ? ' (not all L2 hits)' : ''}`,
      met: l2At64.ratio >= GOALS.l2RatioAt64Min,
    })
  }
  if (stampede !== undefined) {
    const worstLoads = Math.max(...stampede.rounds.map((r) => r.loaderCalls))
    goals.push({
      name: 'stampede: loader calls per round (worst round)',
      target: `${GOALS.stampedeLoaderCalls}`,
      measured: String(worstLoads),
      met: worstLoads === GOALS.stampedeLoaderCalls,
    })
  }
  for (const result of staleness) {
    goals.push({
      name: `staleness window p99, bus: ${result.bus}${result.bus === DEFAULT_BUS ? ' (default)' : ''}`,
      target: `<= ${GOALS.stalenessP99MaxMs} ms`,
      measured: `${formatMs(result.median.p99Ms)} ms`,
      met: result.median.p99Ms <= GOALS.stalenessP99MaxMs,
    })
  }
  return goals
}

function parseSelection(args: readonly string[]): Set<WorkloadName> {
  if (args.length === 0) return new Set(WORKLOADS)
  const unknown = args.filter((arg) => !(WORKLOADS as readonly string[]).includes(arg))
  if (unknown.length > 0) throw new Error(`unknown workload(s) ${unknown.join(', ')}; choose from ${WORKLOADS.join(', ')}`)
  return new Set(args as WorkloadName[])
}

async function readRedisVersion(target: RedisCluster, port: number): Promise<string> {
  const info = await target.command(port, ['INFO', 'server'])
  const match = typeof info === 'string' ? /redis_version:(\S+)/.exec(info) : null
  return match?.[1] ?? 'unknown'
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error)
    process.exit(1)
  },
)
