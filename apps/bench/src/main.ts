import type { ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { cpus, type as osType, release, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import { RedisCluster } from '@tiercache/testkit'
import { writeReport } from './markdown.js'
import { printSection } from './print.js'
import { printTable, writeJson } from './report.js'
import type { BenchResults } from './results.js'
import { buildSections, checkGoals, peerWins } from './sections.js'
import { installedVersions } from './versions.js'
import { runBusModes } from './workloads/bus-modes.js'
import { runFailover } from './workloads/failover.js'
import { L1_PLAN, L2_PLAN, runHit } from './workloads/hit.js'
import { runHotKey } from './workloads/hot-key.js'
import { runHttp } from './workloads/http.js'
import { runMemory } from './workloads/memory.js'
import { runStaleness } from './workloads/staleness.js'
import { runStampede } from './workloads/stampede.js'
import { runLocalStampede } from './workloads/stampede-local.js'

// Workloads by name, in the order they run: (a)-(h) of the peer benchmark, the bus modes, and HTTP.
const WORKLOADS = ['l1', 'l2', 'stampede-local', 'stampede', 'staleness', 'hot-key', 'memory', 'bus', 'http', 'failover'] as const
type WorkloadName = (typeof WORKLOADS)[number]
// Where each workload's figures sit in the results.
const RESULT_FIELDS: Record<WorkloadName, keyof BenchResults> = {
  l1: 'l1',
  l2: 'l2',
  'stampede-local': 'stampedeLocal',
  stampede: 'stampede',
  staleness: 'staleness',
  'hot-key': 'hotKey',
  memory: 'memory',
  bus: 'busModes',
  http: 'http',
  failover: 'failover',
}
const RESULTS_FILE = fileURLToPath(new URL('../results/latest.json', import.meta.url))
const DOCS_DIR = fileURLToPath(new URL('../../../docs/', import.meta.url))
const VERSIONED = [
  '@tiercache/core',
  '@tiercache/redis',
  '@tiercache/redis>ioredis',
  '@tiercache/node-redis>@redis/client',
  '@tiercache/core>lru-cache',
  'bentocache',
  'ioredis',
  'bentocache>@boringnode/bus',
  'cacheable',
  'cache-manager',
  'keyv',
  '@keyv/redis',
  '@keyv/redis>@redis/client',
  '@qified/redis',
  'lru-cache',
  'ioredis-v6',
  '@tiercache/express',
  '@tiercache/fastify',
  'express',
  'fastify',
  'autocannon',
]

const children = new Set<ChildProcess>()

// Ctrl-C: end the workers and the cluster (the testkit's own hook kills its redis-server
// processes by pid on exit), then leave with the conventional status.
process.once('SIGINT', () => {
  console.error('\ninterrupted: stopping workers and the cluster')
  for (const child of children) child.kill('SIGKILL')
  process.exit(130)
})

/**
 * `node dist/main.js --report`: writes docs/benchmarks.md and its charts again from the last
 * complete run saved in results/latest.json, without running anything (for a change to how the
 * report reads the figures, or to its goals). Refuses a saved run that lacks a workload.
 */
function reportFromSaved(): void {
  const results = JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as BenchResults
  const missing = WORKLOADS.filter((name) => results[RESULT_FIELDS[name]] === undefined)
  if (missing.length > 0) throw new Error(`${RESULTS_FILE} is not a complete run (missing: ${missing.join(', ')}); run pnpm bench`)
  const sections = buildSections(results)
  const written = writeReport(DOCS_DIR, results, sections, checkGoals(results), peerWins(results))
  console.log(`report written from ${RESULTS_FILE} (run of ${results.startedAt}): ${written.map((f) => `docs/${f}`).join(', ')}`)
}

async function main(): Promise<void> {
  if (process.argv.includes('--report')) return reportFromSaved()
  // `node dist/main.js l2 staleness` runs only those workloads (all by default); the report is
  // written only when every workload ran, so docs/benchmarks.md always shows one complete run.
  const selected = parseSelection(process.argv.slice(2))
  const startedAt = new Date().toISOString()
  const started = performance.now()
  console.log(`tiercache bench: node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'})`)
  console.log('starting a Redis Cluster (3 masters + 3 replicas) with the testkit ...')
  const cluster = await RedisCluster.start({ masters: 3, replicasPerMaster: 1 })
  const seeds = cluster.seeds()
  const info = String(await cluster.command(seeds[0]?.port ?? 0, ['INFO', 'server']))
  const redis = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown'
  console.log(`cluster up: redis ${redis}, ports ${seeds.map((s) => s.port).join(', ')}`)
  const results: BenchResults = {
    startedAt,
    finishedAt: '',
    environment: {
      node: process.version,
      os: `${osType()} ${release()}`,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryBytes: totalmem(),
      redis,
      cluster: { masters: 3, replicasPerMaster: 1 },
      versions: installedVersions(VERSIONED),
    },
  }
  const step = async <T>(name: WorkloadName, run: () => Promise<T>): Promise<T | undefined> => {
    if (!selected.has(name)) return undefined
    const t0 = performance.now()
    console.log(`\n== ${name} ...`)
    const value = await run()
    await cluster.flushAll()
    console.log(`   (${((performance.now() - t0) / 1000).toFixed(0)} s)`)
    return value
  }
  try {
    results.l1 = await step('l1', () => runHit(L1_PLAN, seeds))
    results.l2 = await step('l2', () => runHit(L2_PLAN, seeds))
    results.stampedeLocal = await step('stampede-local', () => runLocalStampede(seeds))
    results.stampede = await step('stampede', () => runStampede(seeds, children))
    results.staleness = await step('staleness', () => runStaleness(seeds))
    results.hotKey = await step('hot-key', () => runHotKey(cluster))
    results.memory = await step('memory', () => runMemory(seeds, children))
    results.busModes = await step('bus', () => runBusModes(cluster))
    results.http = await step('http', () => runHttp(seeds, children))
    // Last: it kills and restarts masters, which changes the cluster's topology.
    results.failover = await step('failover', () => runFailover(cluster))
    results.finishedAt = new Date().toISOString()

    const sections = buildSections(results)
    for (const section of sections) printSection(section)
    const goals = checkGoals(results)
    const wins = peerWins(results)
    printTable(
      'Goals',
      ['goal', 'target', 'measured', 'met'],
      goals.map((g) => [g.name, g.target, g.measured, g.met ? 'yes' : 'NO']),
    )
    printTable(
      'Where a peer is ahead',
      ['workload', 'metric', 'peer', 'peer figure', 'tiercache'],
      wins.map((w) => [w.workload, w.metric, w.peer, `${w.peerFigure}${w.withinNoise ? ' (noise)' : ''}`, w.tiercache]),
    )
    writeJson(RESULTS_FILE, { ...results, goals, peerWins: wins })
    console.log(`\nresults written to ${RESULTS_FILE}`)
    if (selected.size === WORKLOADS.length) {
      const written = writeReport(DOCS_DIR, results, sections, goals, wins)
      console.log(`report written: ${written.map((f) => `docs/${f}`).join(', ')}`)
    } else {
      console.log('report not written (only a selection of workloads ran)')
    }
    console.log(`total ${((performance.now() - started) / 1000).toFixed(0)} s`)
  } finally {
    for (const child of children) child.kill('SIGKILL')
    await cluster.stop()
  }
}

function parseSelection(args: readonly string[]): Set<WorkloadName> {
  if (args.length === 0) return new Set(WORKLOADS)
  const unknown = args.filter((arg) => !(WORKLOADS as readonly string[]).includes(arg))
  if (unknown.length > 0) throw new Error(`unknown workload(s) ${unknown.join(', ')}; choose from ${WORKLOADS.join(', ')}`)
  return new Set(args as WorkloadName[])
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error)
    process.exit(1)
  },
)
