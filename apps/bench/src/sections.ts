import { DEFAULTS } from '@tiercache/core'
import { CONTENDERS } from './adapters/index.js'
import { formatMs, formatPercent, formatRate, formatUs } from './report.js'
import type { BenchResults } from './results.js'
import type { Bar, Chart } from './svg.js'
import { L1 as L1_POLICY, TTL_MS } from './workloads/common.js'
import type { HitResult } from './workloads/hit.js'
import { HTTP_GOAL_RATIO } from './workloads/http.js'
import { DEFAULT_BUS } from './workloads/staleness.js'
import { STAMPEDE_ROUNDS } from './workloads/stampede.js'

/** A table: headers and rows of cells, already formatted. */
export interface Table {
  headers: string[]
  rows: string[][]
}

/** One part of the report: a workload's method, table(s), chart(s) and notes. */
export interface Section {
  id: string
  title: string
  intro: string[]
  tables: Table[]
  charts: Chart[]
  notes: string[]
}

/** A goal of the benchmark issues, checked against this run. */
export interface Goal {
  name: string
  target: string
  measured: string
  met: boolean
}

/** A workload metric on which a peer measured better than tiercache in this run. */
export interface PeerWin {
  workload: string
  peer: string
  metric: string
  tiercache: string
  peerFigure: string
  /** Within the noise of this machine (under 5% apart): reported, but not a real lead. */
  withinNoise: boolean
  closeTheGap: string
}

const PEERS = ['bentocache', 'cacheable', 'cache-manager']
const isPeer = (name: string): boolean => PEERS.includes(name)
// Goals of the earlier benchmark issues, as ratios to the bare baselines.
export const GOALS = {
  l1RatioMin: 0.5,
  l2RatioAt64Min: 0.85,
  // Issue 17: an L2 hit at concurrency 1 at least 0.9x a bare GET + JSON.parse on the fastest client.
  l2RatioAt1MinFastest: 0.9,
  stalenessP99MaxMs: 20,
  httpRatioMin: HTTP_GOAL_RATIO,
  // Issue 17: with a 100 ms loader, the slowest caller of every process served within 110 ms (median of the rounds).
  stampedeServeAllMaxMs: 110,
}

/** Builds every section present in `results`, in report order. */
export function buildSections(r: BenchResults): Section[] {
  const sections: Section[] = []
  if (r.l1 !== undefined) sections.push(hitSection(r.l1, 'l1-hit', '(a) L1 hit'))
  if (r.l2 !== undefined) sections.push(hitSection(r.l2, 'l2-hit', '(b) L2 hit, no memory tier'))
  if (r.stampedeLocal !== undefined || r.stampede !== undefined) sections.push(stampedeSection(r))
  if (r.staleness !== undefined) sections.push(stalenessSection(r))
  if (r.failover !== undefined) sections.push(failoverSection(r))
  if (r.hotKey !== undefined) sections.push(hotKeySection(r))
  if (r.memory !== undefined) sections.push(memorySection(r))
  if (r.busModes !== undefined) sections.push(busSection(r))
  if (r.http !== undefined) sections.push(httpSection(r))
  return sections
}

/**
 * One bar per contender, tiercache's highlighted; `text` is shown instead of the value when given,
 * `label` (default: the contender's name) names the bar.
 */
function contenderBars<T extends { contender: string }>(
  items: readonly T[],
  value: (item: T) => number,
  text?: (item: T) => string,
  label: (item: T) => string = (item) => item.contender,
): Bar[] {
  return items.map((item) => ({
    label: label(item),
    value: value(item),
    ...(text === undefined ? {} : { text: text(item) }),
    highlight: item.contender === 'tiercache',
  }))
}

function hitSection(h: HitResult, id: string, title: string): Section {
  const bare = h.profile === 'l1' ? 'lru-cache' : 'ioredis'
  const rows: string[][] = []
  for (const row of h.rows) {
    const bareOps = row.figures.find((f) => f.contender === bare)?.summary.opsPerSec ?? Number.NaN
    const tcOps = row.figures.find((f) => f.contender === 'tiercache')?.summary.opsPerSec ?? Number.NaN
    row.figures.forEach((f, i) => {
      rows.push([
        i === 0 ? String(row.concurrency) : '',
        f.contender,
        formatRate(f.summary.opsPerSec),
        formatUs(f.summary.p50Us),
        formatUs(f.summary.p99Us),
        formatUs(f.summary.cpuUsPerOp),
        formatPercent(f.summary.opsPerSec / bareOps),
        f.contender === 'tiercache' ? '' : `${(tcOps / f.summary.opsPerSec).toFixed(2)}x`,
        String(f.loaderCalls + f.summary.errors),
      ])
    })
  }
  const what =
    h.profile === 'l1'
      ? `${h.keys} warm keys held in every contender's memory tier (two-tier libraries in their multi-instance set-up on the cluster; bare lru-cache alone), read round-robin with getOrSet(key, loader, ttl).`
      : `${h.keys} warm keys in Redis, no memory tier (libraries with their memory tier off; bare ioredis GET + JSON.parse), read round-robin with getOrSet(key, loader, ttl).`
  const notes = [
    `Value: a product of ${h.valueBytes} B as JSON. "vs ${bare}": the contender's ops/s over bare ${bare}'s in the same run. "tiercache is": tiercache's ops/s over the contender's. "misses": loader calls plus errors during warm-up and measured runs (0: every read was a hit).`,
  ]
  const warmMisses = Object.entries(h.uncachedAfterWarm).filter(([, n]) => n > 0)
  if (warmMisses.length > 0) notes.push(`Keys still uncached after warming: ${warmMisses.map(([c, n]) => `${c} ${n}`).join(', ')}.`)
  const tc = h.rows.map((row) => row.figures.find((f) => f.contender === 'tiercache')?.tiercacheCounters)
  if (tc.every((c) => c !== undefined))
    notes.push(
      `tiercache counters over the measured runs: ${h.rows.map((row, i) => `concurrency ${row.concurrency}: ${tc[i]?.l1Hits} L1 hits, ${tc[i]?.l2Hits} L2 hits, ${tc[i]?.loads} loads, ${tc[i]?.l2Errors} L2 errors`).join('; ')}.`,
    )
  return {
    id,
    title,
    intro: [
      what,
      `Median of 3 runs of at most ${formatRate(h.run.maxOps)} operations or ${h.run.maxMs / 1000} s, contenders interleaved; latency is per call, from the call to the resumption after its await; CPU is this process' user + system time per operation.`,
    ],
    tables: [
      { headers: ['concurrency', 'contender', 'ops/s', 'p50 µs', 'p99 µs', 'CPU µs/op', `vs ${bare}`, 'tiercache is', 'misses'], rows },
    ],
    charts: [
      {
        kind: 'bars',
        file: `bench-${id}.svg`,
        title: `${title}: operations per second (median of 3)`,
        unit: 'ops/s',
        groups: h.rows.map((row) => ({
          label: `concurrency ${row.concurrency}`,
          bars: contenderBars(row.figures, (f) => f.summary.opsPerSec),
        })),
      },
    ],
    notes,
  }
}

function stampedeSection(r: BenchResults): Section {
  const tables: Table[] = []
  const charts: Chart[] = []
  const intro: string[] = []
  const headers = ['contender', 'set-up', 'loader calls', 'per round', 'serve all ms', 'p50 caller ms', 'errors']
  const profileText = (p: string): string => (p === 'l1' ? 'memory + Redis' : 'Redis only')
  // What the in-process and the multi-process stampede report alike.
  type StampedeFigures = readonly {
    contender: string
    profile: string
    median: { loaderCalls: number; serveAllMs: number; p50Ms: number; errors: number }
    rounds: readonly { loaderCalls: number }[]
  }[]
  const add = (figures: StampedeFigures, text: string, file: string, title: string): void => {
    intro.push(text)
    tables.push({
      headers,
      rows: figures.map((f) => [
        f.contender,
        profileText(f.profile),
        String(f.median.loaderCalls),
        f.rounds.map((x) => x.loaderCalls).join(' / '),
        formatMs(f.median.serveAllMs),
        formatMs(f.median.p50Ms),
        String(f.median.errors),
      ]),
    })
    charts.push({
      kind: 'bars',
      file,
      title,
      unit: 'loader calls',
      log: true,
      groups: [{ label: '', bars: contenderBars(figures, (f) => f.median.loaderCalls) }],
    })
  }
  if (r.stampedeLocal !== undefined) {
    const s = r.stampedeLocal
    add(
      s.figures,
      `(c) In one process: ${formatRate(s.callers)} concurrent getOrSet calls of one cold key, loader ${s.loaderMs} ms; 3 rounds per contender (a fresh key each), rounds interleaved across contenders, medians.`,
      'bench-stampede-local.svg',
      `(c) ${formatRate(s.callers)} callers of a cold key in one process: loader calls (median of 3)`,
    )
  }
  if (r.stampede !== undefined) {
    const s = r.stampede
    add(
      s.figures,
      `(d) Across ${s.processes} processes (one instance each, own connections, started and connected before a barrier): ${s.callersPerProcess} concurrent callers per process of one cold key, loader ${s.loaderMs} ms; ${STAMPEDE_ROUNDS} rounds per contender, medians. Loader calls are summed over the processes; "serve all" is the slowest process' time to its last caller.`,
      'bench-stampede-processes.svg',
      `(d) cold key across ${s.processes} processes: loader calls (median of ${STAMPEDE_ROUNDS})`,
    )
  }
  return {
    id: 'stampede',
    title: '(c, d) Cold-key stampede',
    intro,
    tables,
    charts,
    notes: ['Bare lru-cache and bare ioredis have no stampede protection: they are there to show what the libraries save.'],
  }
}

function stalenessSection(r: BenchResults): Section {
  const s = r.staleness as NonNullable<BenchResults['staleness']>
  const cap = (ms: number, timedOut: number): string => (timedOut > 0 ? `> ${formatMs(s.giveUpMs)}` : formatMs(ms))
  return {
    id: 'staleness',
    title: '(e) Cross-instance staleness window after an invalidation',
    intro: [
      `Two instances A and B of each contender (own connections), memory tier on in both. Each iteration: both read the key (B now holds it in memory), the source changes, A invalidates, and B is polled once per event-loop turn until it returns the new value. Window: ms from A's invalidate() resolving until B returns the new value. ${s.iterations} invalidations per run, 3 runs, medians. A window still open after ${formatMs(s.giveUpMs)} ms ends the run (B would stay stale until its memory TTL, ${L1_POLICY.ttlMs / 1000} s here).`,
    ],
    tables: [
      {
        headers: [
          'contender',
          'how B hears of it',
          'p50 ms',
          'p99 ms',
          'max ms',
          'stale first reads',
          'old value before',
          'windows measured',
          'timed out',
        ],
        rows: s.figures.map((f) => [
          f.label,
          f.coherence,
          cap(f.median.p50Ms, f.median.timedOut > 0 && f.median.iterations <= 1 ? 1 : 0),
          cap(f.median.p99Ms, f.median.timedOut),
          cap(f.median.maxMs, f.median.timedOut),
          String(f.median.staleReads),
          String(f.median.setupDisagreements),
          String(f.median.iterations),
          String(f.median.timedOut),
        ]),
      },
    ],
    charts: [
      {
        kind: 'bars',
        file: 'bench-staleness.svg',
        title: '(e) staleness window after an invalidation: p99 ms (median of 3 runs)',
        unit: 'ms',
        log: true,
        groups: [
          {
            label: '',
            bars: contenderBars(
              s.figures,
              (f) => (f.median.timedOut > 0 ? s.giveUpMs : f.median.p99Ms),
              (f) => (f.median.timedOut > 0 ? `> ${s.giveUpMs} ms (no bus)` : `${formatMs(f.median.p99Ms)} ms`),
              (f) => f.label,
            ),
          },
        ],
      },
    ],
    notes: [
      '"stale first reads": invalidations after which B\'s first read still returned the old value (the bus message had not arrived yet). "old value before": reads before an invalidation in which A or B still answered the version before the last one (a late write or message of the previous iteration), re-read until both agree.',
    ],
  }
}

function failoverSection(r: BenchResults): Section {
  const f = r.failover as NonNullable<BenchResults['failover']>
  return {
    id: 'failover',
    title: '(f) A master killed under load',
    intro: [
      `Each contender without its memory tier (every read needs Redis), ${formatRate(f.keys)} warm keys read at random from ${f.concurrency} loops. After ${f.beforeMs / 1000} s the master of the first slot range is killed (SIGKILL; cluster-node-timeout 1 s, so its replica takes over after about 1 to 3 s); reads go on for ${f.afterMs / 1000} s. Then the node is restarted and the cluster made whole before the next contender. One run per contender (a failover is not a throughput measurement).`,
      `A read is bad if it errors, takes over ${f.slowMs} ms, or calls the loader (every key was in Redis, so a loader call is a read the cache could not answer, i.e. load on the database). Recovery: from the kill to the end of the last bad read.`,
    ],
    tables: [
      {
        headers: [
          'contender',
          'reads/s before',
          'errors to callers',
          `stalls > ${f.slowMs} ms`,
          'slowest ms',
          'loader calls',
          'hung',
          'recovery ms',
          'errors on events',
        ],
        rows: f.figures.map((x) => [
          x.contender,
          formatRate(x.readsPerSecBefore),
          String(x.errors),
          String(x.stalls),
          formatMs(x.maxLatencyMs),
          String(x.loaderCalls),
          String(x.hung),
          x.recoveryMs === null ? `not within ${f.afterMs / 1000} s` : formatMs(x.recoveryMs),
          String(x.reportedErrors),
        ]),
      },
    ],
    charts: [
      {
        kind: 'bars',
        file: 'bench-failover-errors.svg',
        title: '(f) master killed: reads that failed or stalled, and loader calls',
        unit: 'reads',
        log: true,
        groups: [
          {
            label: 'errors to callers',
            bars: contenderBars(
              f.figures,
              (x) => x.errors,
              (x) => String(x.errors),
            ),
          },
          {
            label: `stalls > ${f.slowMs} ms`,
            bars: contenderBars(
              f.figures,
              (x) => x.stalls,
              (x) => String(x.stalls),
            ),
          },
          {
            label: 'loader calls (database load)',
            bars: contenderBars(
              f.figures,
              (x) => x.loaderCalls,
              (x) => String(x.loaderCalls),
            ),
          },
        ],
      },
      {
        kind: 'bars',
        file: 'bench-failover-recovery.svg',
        title: '(f) master killed: recovery time (ms from the kill to the last bad read)',
        unit: 'ms',
        groups: [
          {
            label: '',
            bars: contenderBars(
              f.figures,
              (x) => x.recoveryMs ?? f.afterMs,
              (x) => (x.recoveryMs === null ? `not within ${f.afterMs / 1000} s` : `${formatMs(x.recoveryMs)} ms`),
            ),
          },
        ],
      },
    ],
    notes: [
      '"errors on events": errors the library emitted on an error event instead of throwing (the Keyv-based libraries turn a failed Redis call into a miss). "hung": reads still unanswered 3 s after the window closed.',
    ],
  }
}

function hotKeySection(r: BenchResults): Section {
  const h = r.hotKey as NonNullable<BenchResults['hotKey']>
  return {
    id: 'hot-key',
    title: '(g) Hot key: per-master share of GETs',
    intro: [
      `${formatPercent(h.share)} of reads on one key, the rest Zipf(${h.zipf}) over ${formatRate(h.keys)} keys, from ${h.instances} instances x ${h.concurrency} loops per contender, no memory tier (tiercache's hot-key handling may still keep a detected hot key in memory for a second: that is part of it). Runs of ${h.runMs / 1000} s after 1 s of warm reads, 3 runs interleaved across contenders; median run by reads/s. Share: each of the ${h.masters} masters' part of the GET/MGET calls in the run (INFO commandstats), largest first; an even spread is ${formatPercent(1 / h.masters)} each.`,
    ],
    tables: [
      {
        headers: ['contender', 'reads/s', 'largest master share', 'shares (largest first)', 'GETs per read'],
        rows: h.figures.map((f) => [
          f.label,
          formatRate(f.median.readsPerSec),
          formatPercent(f.median.shares[0] ?? Number.NaN),
          f.median.shares.map(formatPercent).join(' / '),
          f.median.getsPerRead.toFixed(2),
        ]),
      },
    ],
    charts: [
      {
        kind: 'stacked',
        file: 'bench-hot-key.svg',
        title: '(g) hot key: share of GETs per master (largest first)',
        rows: h.figures.map((f) => ({ label: f.label, parts: f.median.shares, highlight: f.contender === 'tiercache' })),
        partLabel: (i) => `master ${i + 1}`,
      },
      {
        kind: 'bars',
        file: 'bench-hot-key-reads.svg',
        title: '(g) hot key: reads per second (median of 3)',
        unit: 'reads/s',
        groups: [
          {
            label: '',
            bars: contenderBars(
              h.figures,
              (f) => f.median.readsPerSec,
              undefined,
              (f) => f.label,
            ),
          },
        ],
      },
    ],
    notes: [],
  }
}

function memorySection(r: BenchResults): Section {
  const m = r.memory as NonNullable<BenchResults['memory']>
  const raw = m.entries * m.valueJsonBytes
  return {
    id: 'memory',
    title: `(h) Memory per ${formatRate(m.entries)} entries of 1 KB in the memory tier`,
    intro: [
      `Each run is a fresh process (node --expose-gc) with one contender in its default set-up (memory tier in front of the cluster; bare lru-cache alone): ${formatRate(m.entries)} values of ${m.valueJsonBytes} B of JSON each are read through getOrSet, then V8 heap and Buffer growth is measured after full GCs, and every value is read back to check it is still held. 3 runs per contender, interleaved, median. The values' JSON alone is ${(raw / 1e6).toFixed(1)} MB.`,
    ],
    tables: [
      {
        headers: ['contender', 'MB per 10,000', 'bytes per entry', 'x JSON size', 'evicted when read back'],
        rows: m.figures.map((f) => [
          f.contender,
          (f.bytes / 1e6).toFixed(2),
          formatRate(f.bytesPerEntry),
          (f.bytes / raw).toFixed(2),
          String(f.reloaded),
        ]),
      },
    ],
    charts: [
      {
        kind: 'bars',
        file: 'bench-memory.svg',
        title: `(h) memory for ${formatRate(m.entries)} entries of 1 KB (MB, median of 3)`,
        unit: 'MB',
        groups: [{ label: '', bars: contenderBars(m.figures, (f) => f.bytes / 1e6) }],
      },
    ],
    notes: [],
  }
}

function busSection(r: BenchResults): Section {
  const b = r.busModes as NonNullable<BenchResults['busModes']>
  return {
    id: 'bus-modes',
    title: "tiercache's invalidation bus: PUBLISH vs SPUBLISH",
    intro: [
      `Two tiercache stores on the cluster, one publishing and one subscribed: ${formatRate(b.sequential)} sequential messages timed from publish() to receipt, then a burst of ${formatRate(b.burst)}; cluster-bus messages per publish from CLUSTER INFO summed over the nodes. Modes interleaved, 3 runs, medians. The store's default is ${DEFAULT_BUS}.`,
    ],
    tables: [
      {
        headers: ['mode', 'p50 µs', 'p99 µs', 'burst msgs/s', 'cluster-bus msgs per publish'],
        rows: b.figures.map((f) => [
          `${f.mode}${f.mode === DEFAULT_BUS ? ' (default)' : ''}`,
          formatRate(f.p50Us),
          formatRate(f.p99Us),
          formatRate(f.burstMsgsPerSec),
          f.clusterBusMsgsPerPublish.toFixed(2),
        ]),
      },
    ],
    charts: [],
    notes: [],
  }
}

function httpSection(r: BenchResults): Section {
  const h = r.http as NonNullable<BenchResults['http']>
  const rows: string[][] = []
  for (const fw of h.frameworks) {
    const constant = fw.routes.find((x) => x.route === 'constant body')?.requestsPerSec ?? Number.NaN
    fw.routes.forEach((route, i) => {
      rows.push([
        i === 0 ? fw.framework : '',
        route.route,
        formatRate(route.requestsPerSec),
        formatMs(route.p50Ms),
        formatMs(route.p99Ms),
        formatPercent(route.requestsPerSec / constant),
        String(route.errors + route.non2xx),
      ])
    })
  }
  return {
    id: 'http',
    title: 'HTTP: a cached route against a constant body (Express and Fastify)',
    intro: [
      `A demo-like catalogue service in its own process (so autocannon, in the bench process, and the server each have a core of this 2-core machine): GET /constant returns a precomputed JSON body; GET /uncached/products/:id assembles a ${formatRate(h.pageBytes)} B JSON product page (product, related products, reviews) after one I/O turn of an in-memory "database" (a real database costs more, so the uncached figure is an upper bound); GET /cached/products/:id is the same handler behind @tiercache/express httpCache or the @tiercache/fastify plugin, entity { ttl: 1m, l1: { ttl: 5s } } on the Redis Cluster. autocannon: ${h.connections} keep-alive connections, no pipelining, ${h.products} product ids in rotation, ${h.runSeconds} s per run after a 1 s warm-up per route; routes interleaved, 3 runs, medians.`,
    ],
    tables: [{ headers: ['framework', 'route', 'requests/s', 'p50 ms', 'p99 ms', 'vs constant', 'errors + non-2xx'], rows }],
    charts: [
      {
        kind: 'bars',
        file: 'bench-http.svg',
        title: 'HTTP requests per second (median of 3)',
        unit: 'requests/s',
        groups: h.frameworks.map((fw) => ({
          label: fw.framework,
          bars: fw.routes.map((route) => ({ label: route.route, value: route.requestsPerSec, highlight: route.route === 'cached page' })),
        })),
      },
    ],
    notes: h.frameworks.map(
      (fw) =>
        `${fw.framework}: X-Cache after warm-up ${fw.xCacheAfterWarmup}; handler calls on the cached route during the measured runs: ${fw.cachedHandlerCallsMeasured}; cached/constant per run: ${fw.cachedToConstantRatios.map(formatPercent).join(', ')}.`,
    ),
  }
}

/** The goals of the benchmark issues, checked on this run (only for workloads that ran). */
export function checkGoals(r: BenchResults): Goal[] {
  const goals: Goal[] = []
  for (const row of r.l1?.rows ?? []) {
    const tc = row.figures.find((f) => f.contender === 'tiercache')?.summary.opsPerSec ?? 0
    const bare = row.figures.find((f) => f.contender === 'lru-cache')?.summary.opsPerSec ?? Number.NaN
    goals.push({
      name: `L1 hit, concurrency ${row.concurrency}: tiercache / bare lru-cache`,
      target: `>= ${formatPercent(GOALS.l1RatioMin)}`,
      measured: formatPercent(tc / bare),
      met: tc / bare >= GOALS.l1RatioMin,
    })
  }
  goals.push(...l2HitGoals(r))
  for (const [label, s] of [
    ['in one process', r.stampedeLocal?.figures.find((f) => f.contender === 'tiercache')],
    ['across processes', r.stampede?.figures.find((f) => f.contender === 'tiercache')],
  ] as const) {
    if (s === undefined) continue
    const worst = Math.max(...s.rounds.map((x) => x.loaderCalls))
    goals.push({
      name: `cold-key stampede ${label}: tiercache loader calls (worst round)`,
      target: '1',
      measured: String(worst),
      met: worst === 1,
    })
  }
  const across = r.stampede?.figures.find((f) => f.contender === 'tiercache')
  if (across !== undefined && r.stampede !== undefined)
    goals.push({
      name: `cold-key stampede across processes, loader ${r.stampede.loaderMs} ms: tiercache's slowest caller (median of ${across.rounds.length} rounds)`,
      target: `<= ${GOALS.stampedeServeAllMaxMs} ms`,
      measured: `${formatMs(across.median.serveAllMs)} ms`,
      met: across.median.serveAllMs <= GOALS.stampedeServeAllMaxMs,
    })
  const stale = r.staleness?.figures.find((f) => f.contender === 'tiercache' && f.label.includes('default'))
  if (stale !== undefined)
    goals.push({
      name: `staleness window p99, tiercache (${DEFAULT_BUS} bus, default)`,
      target: `<= ${GOALS.stalenessP99MaxMs} ms`,
      measured: `${formatMs(stale.median.p99Ms)} ms`,
      met: stale.median.timedOut === 0 && stale.median.p99Ms <= GOALS.stalenessP99MaxMs,
    })
  for (const fw of r.http?.frameworks ?? [])
    goals.push({
      name: `HTTP ${fw.framework}: cached page / constant body requests/s`,
      target: `>= ${formatPercent(GOALS.httpRatioMin)}`,
      measured: formatPercent(fw.cachedToConstant),
      met: fw.cachedToConstant >= GOALS.httpRatioMin,
    })
  const memory = r.memory?.figures
  const tcBytes = memory?.find((f) => f.contender === 'tiercache')?.bytesPerEntry
  const bentoBytes = memory?.find((f) => f.contender === 'bentocache')?.bytesPerEntry
  if (tcBytes !== undefined && bentoBytes !== undefined)
    goals.push({
      name: 'memory per L1 entry (1 KB values): tiercache / bentocache',
      target: '<= 100.0%',
      measured: `${formatPercent(tcBytes / bentoBytes)} (${formatRate(tcBytes)} vs ${formatRate(bentoBytes)} B)`,
      met: tcBytes <= bentoBytes,
    })
  const wins = peerWins(r).filter((w) => !w.withinNoise)
  goals.push({
    name: 'tiercache ahead of every peer (bentocache, cacheable, cache-manager) on every workload',
    target: 'no peer ahead',
    measured: wins.length === 0 ? 'no peer ahead' : `${wins.length} metric(s) where a peer is ahead (see below)`,
    met: wins.length === 0,
  })
  return goals
}

// The bare GET + JSON.parse baselines of the L2 hit; the fastest of them in a run is the bar.
const BARE_REDIS_CLIENTS = ['ioredis', 'node-redis', 'ioredis (no pipelining)'] as const

/**
 * The L2-hit goals: each tiercache store against the fastest bare client (ioredis with or
 * without auto-pipelining, node-redis) in the same run, at concurrency 64 and 1 (issue 17 item
 * 2), plus the earlier goal against bare ioredis at 64.
 */
function l2HitGoals(r: BenchResults): Goal[] {
  const goals: Goal[] = []
  for (const row of r.l2?.rows ?? []) {
    const ops = (name: string): number | undefined => row.figures.find((f) => f.contender === name)?.summary.opsPerSec
    const bareClients = BARE_REDIS_CLIENTS.filter((name) => ops(name) !== undefined)
    const fastest = bareClients.reduce<string | undefined>(
      (best, name) => (best === undefined || (ops(name) ?? 0) > (ops(best) ?? 0) ? name : best),
      undefined,
    )
    const min = row.concurrency === 1 ? GOALS.l2RatioAt1MinFastest : GOALS.l2RatioAt64Min
    if (row.concurrency === 64) {
      const tc = ops('tiercache') ?? 0
      const bare = ops('ioredis') ?? Number.NaN
      goals.push({
        name: 'L2 hit, concurrency 64: tiercache / bare ioredis (auto-pipelining)',
        target: `>= ${formatPercent(GOALS.l2RatioAt64Min)}`,
        measured: formatPercent(tc / bare),
        met: tc / bare >= GOALS.l2RatioAt64Min,
      })
    }
    if (fastest === undefined) continue
    const bare = ops(fastest) ?? Number.NaN
    for (const store of ['tiercache', 'tiercache (node-redis)']) {
      const tc = ops(store)
      if (tc === undefined) continue
      goals.push({
        name: `L2 hit, concurrency ${row.concurrency}: ${store === 'tiercache' ? 'tiercache (ioredis store)' : store} / fastest bare client (${fastest})`,
        target: `>= ${formatPercent(min)}`,
        measured: formatPercent(tc / bare),
        met: tc / bare >= min,
      })
    }
  }
  return goals
}

/** Every workload metric where a peer measured better than tiercache in this run. */
export function peerWins(r: BenchResults): PeerWin[] {
  const wins: PeerWin[] = []
  const add = (
    workload: string,
    metric: string,
    peer: string,
    tc: number,
    pf: number,
    higherIsBetter: boolean,
    fmt: (v: number) => string,
    gap: string,
  ): void => {
    const better = higherIsBetter ? pf > tc : pf < tc
    if (!better) return
    const spread = Math.abs(pf - tc) / Math.max(Math.abs(tc), Math.abs(pf), 1e-9)
    wins.push({ workload, peer, metric, tiercache: fmt(tc), peerFigure: fmt(pf), withinNoise: spread < 0.05, closeTheGap: gap })
  }
  for (const [h, name] of [
    [r.l1, '(a) L1 hit'],
    [r.l2, '(b) L2 hit'],
  ] as const) {
    for (const row of h?.rows ?? []) {
      const tc = row.figures.find((f) => f.contender === 'tiercache')
      if (tc === undefined) continue
      for (const f of row.figures.filter((x) => isPeer(x.contender)))
        add(
          name,
          `ops/s at concurrency ${row.concurrency}`,
          f.contender,
          tc.summary.opsPerSec,
          f.summary.opsPerSec,
          true,
          formatRate,
          gapText(name === '(a) L1 hit' ? 'l1' : 'l2', tc.summary.cpuUsPerOp, f.summary.cpuUsPerOp),
        )
    }
  }
  for (const [s, name] of [
    [r.stampedeLocal, '(c) stampede, one process'],
    [r.stampede, '(d) stampede, 4 processes'],
  ] as const) {
    const tc = s?.figures.find((f) => f.contender === 'tiercache')
    if (s === undefined || tc === undefined) continue
    for (const f of s.figures.filter((x) => isPeer(x.contender))) {
      add(name, 'loader calls', f.contender, tc.median.loaderCalls, f.median.loaderCalls, false, String, gapText('stampede'))
      if (f.median.loaderCalls === tc.median.loaderCalls)
        add(
          name,
          'time to serve every caller (ms)',
          f.contender,
          tc.median.serveAllMs,
          f.median.serveAllMs,
          false,
          formatMs,
          gapText('stampede-time'),
        )
    }
  }
  const stale = r.staleness?.figures.find((f) => f.contender === 'tiercache' && f.label.includes('default'))
  for (const f of r.staleness?.figures.filter((x) => isPeer(x.contender)) ?? []) {
    if (stale === undefined || f.median.timedOut > 0) continue
    add('(e) staleness', 'p99 window (ms)', f.contender, stale.median.p99Ms, f.median.p99Ms, false, formatMs, gapText('staleness'))
  }
  const fo = r.failover?.figures.find((f) => f.contender === 'tiercache')
  for (const f of r.failover?.figures.filter((x) => isPeer(x.contender)) ?? []) {
    if (fo === undefined) continue
    add('(f) failover', 'errors to callers', f.contender, fo.errors, f.errors, false, String, gapText('failover-errors'))
    add(
      '(f) failover',
      'loader calls during the outage',
      f.contender,
      fo.loaderCalls,
      f.loaderCalls,
      false,
      String,
      gapText('failover-loads'),
    )
    const recovery = (x: typeof f): number => x.recoveryMs ?? Number.POSITIVE_INFINITY
    add(
      '(f) failover',
      'recovery (ms)',
      f.contender,
      recovery(fo),
      recovery(f),
      false,
      (v) => (Number.isFinite(v) ? formatMs(v) : 'not recovered'),
      gapText('failover-recovery'),
    )
  }
  const hot = r.hotKey?.figures.find((f) => f.label === 'tiercache (defaults)')
  for (const f of r.hotKey?.figures.filter((x) => isPeer(x.contender)) ?? []) {
    if (hot === undefined) continue
    add(
      '(g) hot key',
      'largest master share of GETs',
      f.contender,
      hot.median.shares[0] ?? 1,
      f.median.shares[0] ?? 1,
      false,
      formatPercent,
      gapText('hot-share'),
    )
    add('(g) hot key', 'reads/s', f.contender, hot.median.readsPerSec, f.median.readsPerSec, true, formatRate, gapText('hot-rate'))
  }
  const mem = r.memory?.figures.find((f) => f.contender === 'tiercache')
  for (const f of r.memory?.figures.filter((x) => isPeer(x.contender)) ?? []) {
    if (mem === undefined) continue
    add('(h) memory', 'bytes per entry', f.contender, mem.bytesPerEntry, f.bytesPerEntry, false, formatRate, gapText('memory'))
  }
  return wins
}

// What would close a gap, per workload: the known differences in what each side does, with this run's figures.
function gapText(kind: string, tcCpu?: number, peerCpu?: number): string {
  const cpu =
    tcCpu !== undefined && peerCpu !== undefined ? ` (CPU per read: tiercache ${formatUs(tcCpu)} µs, the peer ${formatUs(peerCpu)} µs)` : ''
  switch (kind) {
    case 'l1':
      return `tiercache's L1 hit${cpu} builds and validates the key (namespace, hash tag, id checks), checks freshness against the entry's times and feeds one read in 16 to the hot-key detector; the CPU per read shows the cost to remove, e.g. by caching the built key per id or sampling hot keys less often.`
    case 'l2':
      return `tiercache's L2 read${cpu} runs through its guard (timeout deadline, circuit breaker) and decodes an envelope (value, times, tags) around the value; closing the gap means making that path cost less than the peer's, measured by the CPU per read.`
    case 'stampede':
      return 'tiercache takes a fleet-wide lock per cold key; a peer with fewer loader calls would have to be coalescing across processes, which none of the peers here do.'
    case 'stampede-time':
      return "With the same number of loads, the time to serve everyone is the loader plus how soon waiters learn the value is there; waiters that are woken by the loader's write (a notification) rather than by polling would close it."
    case 'staleness':
      return 'B learns of an invalidation only from the bus. tiercache deletes the L2 value and lease first and publishes after that delete has answered (propagateInvalidation); publishing in parallel with the delete would take a round trip off the window. The bus-mode table shows the publish-to-receipt latency of each mode.'
    case 'failover-errors':
      return 'tiercache turns L2 failures into misses; errors to callers would come from loader failures or hard timeouts, not Redis.'
    case 'failover-loads':
      return `While its circuit breaker is open (cool-down ${DEFAULTS.breakerCoolDownMs / 1000} s by default) tiercache skips L2 and calls the loader; a peer that waits for Redis instead makes fewer loader calls but stalls its callers. Waiting for the failover (bounded) before falling back would trade stalls for database load.`
    case 'failover-recovery':
      return (
        'Recovery includes the breaker cool-down (' +
        `${DEFAULTS.breakerCoolDownMs / 1000}` +
        ' s by default) before tiercache probes L2 again; a shorter cool-down, or probing as soon as the cluster topology changes, would shorten it.'
      )
    case 'hot-share':
      return 'tiercache spreads a hot key over replicas on every master once detected; a peer with a smaller largest share would be spreading better, which needs detection sooner (smaller window or threshold).'
    case 'hot-rate':
      return 'Reads of the hot key are served from memory for a second once detected; more reads/s for a peer would point at the per-read cost of the L2 path (see (b)).'
    case 'memory':
      return `tiercache keeps each L1 value as a live object (what a hit returns, without parsing) in an entry of 96 bytes (value, tags, load time, and five times as small-integer offsets from a base of their own); bentocache keeps one serialized string per entry and parses it on every hit. Closing the rest would take the entry object away (the times in typed arrays indexed by lru-cache's slot, which lru-cache does not expose) (memory TTL here ${L1_POLICY.ttlMs / 1000} s, capacity ${formatRate(L1_POLICY.maxEntries)}).`
    default:
      return ''
  }
}

/** The set-up of each contender, for the report. */
export function contenderTable(): Table {
  return {
    headers: ['contender', 'with memory tier', 'without memory tier', 'coherence across instances'],
    rows: CONTENDERS.map((c) => [c.name, c.config.l1, c.config.l2, c.coherence]),
  }
}

/** The sizes every contender shares. */
export function sharedSettings(): string {
  return `Every contender caches the same values (a product, about 210 B of JSON, or 1 KB in (h)) under the same keys with the same TTL (${TTL_MS / 60_000} min in Redis), and where it has a memory tier, the same capacity (${formatRate(L1_POLICY.maxEntries)} entries) and memory TTL (${L1_POLICY.ttlMs / 1000} s) where the library has one; concurrency and key counts are the same for every contender of a workload.`
}
