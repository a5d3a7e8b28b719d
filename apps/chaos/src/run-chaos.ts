import { type ChildProcess, fork } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { KeyBuilder } from '@tiercache/core'
import type { RedisCluster } from '@tiercache/testkit'
import { faultKindAt, type SlowReadSummary, summarizeSlowReads } from './attribution.js'
import { type CheckReport, checkReads, type FaultWindow, type InvalidationRecord, type StaleRead } from './checker.js'
import { injectFault } from './faults.js'
import {
  type CoordinatorMessage,
  describeHow,
  READ_FIELDS,
  type SlowReadDetail,
  type WorkerConfig,
  type WorkerMessage,
} from './protocol.js'
import { faultsOf } from './schedule.js'
import { TopologyRecorder } from './topology-recorder.js'

// From src/ (tests) and from dist/ alike: the worker always runs compiled.
const WORKER = fileURLToPath(new URL('../dist/worker.js', import.meta.url))

/** How to run a chaos schedule. */
export interface ChaosOptions {
  readonly cluster: RedisCluster
  /** Seeds the schedule and every worker's key and write choices; printed so a run replays. */
  readonly seed: number
  /** Milliseconds of faults, by the clock (the run also has a short calm before and after). */
  readonly durationMs: number
  /** Cache instances, each in its own process. Default 3. */
  readonly instances?: number
  /** Concurrent loops per instance. Default 16. */
  readonly loops?: number
  /** Steps (reads, writes) per second per instance, at most (see `WorkerConfig.stepsPerSecond`). Default 200. */
  readonly stepsPerSecond?: number
  /** Keys read and written. Default 200. */
  readonly keys?: number
  /** L1 TTL of the entity (and of the hot key's promotion), in ms. Default 500. */
  readonly l1TtlMs?: number
  /** The staleness bound checked, in ms (see `checkReads`). Default 1000. */
  readonly boundMs?: number
  /** A read slower than this many ms is counted as slow. Default 1000. */
  readonly slowMs?: number
  /** Progress lines; default none. */
  readonly log?: (line: string) => void
  /** Reads slower than this many ms are traced (tier, L2 calls, loader, loop lag). Default 500. */
  readonly traceOverMs?: number
  /** Where to write every traced read as JSON, for a closer look; default nowhere. */
  readonly traceFile?: string
}

/** What a chaos run saw. */
export interface ChaosReport extends CheckReport {
  readonly seed: number
  readonly faults: readonly FaultWindow[]
  readonly callerErrors: number
  readonly wrongValues: number
  /** The first few caller errors and wrong values, for the failure message. */
  readonly examples: readonly string[]
  readonly loads: number
  /** The longest any worker's event loop was late (ms): reads in that process waited at least as long. */
  readonly loopDelayMaxMs: number
  /** The longest the coordinator's event loop was late (ms): loads waited at least as long for their version. */
  readonly coordinatorLoopDelayMaxMs: number
  /** Reads per answering tier, over all workers. */
  readonly tiers: Record<string, number>
  /** Where the slow reads' (over `slowMs`) time went. */
  readonly slow: SlowReadSummary
  /** Locks held longer than `traceOverMs` from the attempt to their release, and the longest (ms). */
  readonly longLocks: number
  readonly longestLockMs: number
}

/**
 * Starts the instances, lets them read and write under load while the seeded schedule of faults
 * runs against the cluster, then stops them and checks every read against every invalidation.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => undefined)
  const boundMs = options.boundMs ?? 1_000
  const config: Omit<WorkerConfig, 'seed'> = {
    seeds: options.cluster.seeds(),
    namespace: `chaos-${randomUUID().slice(0, 8)}`,
    keys: options.keys ?? 200,
    loops: options.loops ?? 16,
    stepsPerSecond: options.stepsPerSecond ?? 200,
    writeShare: 0.05,
    batchShare: 0.1,
    l1TtlMs: options.l1TtlMs ?? 500,
    traceOverMs: options.traceOverMs ?? 500,
  }
  const versions = new Map<number, number>()
  const readBatches: number[][] = []
  const invalidations: InvalidationRecord[] = []
  const examples: string[] = []
  let callerErrors = 0
  let wrongValues = 0
  let loads = 0
  let loopDelayMaxMs = 0
  const details: SlowReadDetail[] = []
  const longLocks: { worker: number | undefined; key: string; at: number; heldMs: number; freed: boolean; events: readonly string[] }[] = []
  const tiers: Record<string, number> = {}
  const logs: { at: number; worker: number | undefined; event: string }[] = []
  const coordinatorDelay = monitorEventLoopDelay({ resolution: 10 })
  coordinatorDelay.enable()

  const workers = Array.from({ length: options.instances ?? 3 }, (_, i) =>
    fork(WORKER, [JSON.stringify({ ...config, seed: options.seed * 31 + i })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  )
  const exited = workers.map((worker) => new Promise<void>((resolve) => worker.once('exit', () => resolve())))
  // Writes waiting for every worker to hold their version: the writer, its request, who still has to confirm.
  let nextCommit = 0
  const commits = new Map<number, { writer: ChildProcess; requestId: number; version: number; waiting: Set<ChildProcess> }>()
  const answerIfHeld = (id: number) => {
    const pending = commits.get(id)
    if (pending === undefined || pending.waiting.size > 0) return
    commits.delete(id)
    reply(pending.writer, { type: 'version', requestId: pending.requestId, version: pending.version })
  }
  const commit = (writer: ChildProcess, requestId: number, key: number, version: number) => {
    const id = nextCommit++
    commits.set(id, { writer, requestId, version, waiting: new Set(workers.filter((w) => w.connected)) })
    for (const worker of workers) reply(worker, { type: 'hold-version', requestId: id, key, version })
    answerIfHeld(id)
  }
  const held = (worker: ChildProcess, id: number) => {
    commits.get(id)?.waiting.delete(worker)
    answerIfHeld(id)
  }
  // A worker that has stopped loads nothing any more: the writes still waiting need not wait for it.
  for (const worker of workers) {
    worker.once('disconnect', () => {
      for (const id of [...commits.keys()]) held(worker, id)
    })
  }
  const ready = workers.map((worker) => waitFor(worker, 'ready'))
  const stopped = workers.map((worker) => waitFor(worker, 'stopped'))
  for (const worker of workers) {
    worker.on('message', (message: WorkerMessage) => {
      switch (message.type) {
        case 'bump': {
          const version = (versions.get(message.key) ?? 1) + 1
          versions.set(message.key, version)
          commit(worker, message.requestId, message.key, version)
          break
        }
        case 'version-held':
          held(worker, message.requestId)
          break
        case 'reads':
          readBatches.push(message.records)
          break
        case 'invalidated':
          invalidations.push(message)
          break
        case 'slow-read':
          details.push(message.detail)
          break
        case 'long-lock':
          longLocks.push({
            worker: worker.pid,
            key: message.key,
            at: message.at,
            heldMs: message.heldMs,
            freed: message.freed,
            events: message.events,
          })
          break
        case 'log':
          logs.push({ at: message.at, worker: worker.pid, event: `${message.level}: ${message.message}` })
          break
        case 'tiers':
          for (const [tier, count] of Object.entries(message.counts)) tiers[tier] = (tiers[tier] ?? 0) + count
          break
        case 'stopped':
          loopDelayMaxMs = Math.max(loopDelayMaxMs, message.loopDelayMaxMs)
          loads += message.loads
          break
        case 'caller-error':
          callerErrors++
          if (examples.length < 10) examples.push(`caller error: ${message.message}`)
          break
        case 'wrong-value':
          wrongValues++
          if (examples.length < 10) examples.push(`key ${message.key} read ${message.got}`)
          break
      }
    })
  }

  const faults: FaultWindow[] = []
  // Only with a trace file: what each node said of itself, for the stale reads' histories.
  const topology = options.traceFile === undefined ? undefined : new TopologyRecorder(options.cluster)
  topology?.start()
  try {
    await Promise.race([Promise.all(ready), ...exited.map((done) => done.then(() => Promise.reject(new Error('a worker exited early'))))])
    for (const worker of workers) reply(worker, { type: 'go' })
    await sleep(1_500)
    // Faults until the time is up (at least one), however long each takes on this machine.
    const faultsUntil = Date.now() + options.durationMs
    for (const scheduled of faultsOf(options.seed)) {
      if (faults.length > 0 && Date.now() >= faultsUntil) break
      const window = await injectFault(options.cluster, scheduled)
      log(`${new Date(window.start).toISOString()} ${window.label}: whole again after ${window.end - window.start} ms`)
      faults.push(window)
      await sleep(scheduled.calmMs)
    }
    await sleep(1_000)
  } finally {
    for (const worker of workers) if (worker.connected) reply(worker, { type: 'stop' })
    await Promise.race([Promise.all(stopped), sleep(30_000)])
    for (const worker of workers) if (worker.exitCode === null) worker.kill('SIGKILL')
    await Promise.all(exited)
    await topology?.stop()
  }

  coordinatorDelay.disable()
  const slowMs = options.slowMs ?? 1_000
  const allReads = readBatches.flat()
  const check = checkReads(allReads, invalidations, faults, { boundMs, slowMs })
  if (options.traceFile !== undefined) {
    const staleHistories = check.staleReads
      .slice(0, 10)
      .map((stale) => historyOf(stale, allReads, invalidations, logs, topology, options.cluster, config.namespace))
    const topologyChanges = topology?.between(0, Number.POSITIVE_INFINITY) ?? []
    writeFileSync(options.traceFile, JSON.stringify({ faults, details, longLocks, staleHistories, topologyChanges }, null, 1))
  }
  return {
    ...check,
    seed: options.seed,
    faults,
    callerErrors,
    wrongValues,
    examples,
    loads,
    loopDelayMaxMs,
    coordinatorLoopDelayMaxMs: Math.round(coordinatorDelay.max / 1e6),
    tiers,
    slow: summarizeSlowReads(details, faults, slowMs),
    longLocks: longLocks.length,
    longestLockMs: longLocks.reduce((worst, lock) => Math.max(worst, lock.heldMs), 0),
  }
}

// How far around a stale read its key's history is kept in the trace file (ms).
const HISTORY_BEFORE_MS = 5_000
const HISTORY_AFTER_MS = 500

/**
 * Every read and invalidation of a stale read's key from a while before its invalidation until
 * just after it, in time order: which worker filled its L1 from where, and when, shows how the old
 * version got through.
 */
function historyOf(
  stale: StaleRead,
  reads: readonly number[],
  invalidations: readonly InvalidationRecord[],
  logs: readonly { at: number; worker: number | undefined; event: string }[],
  topology: TopologyRecorder | undefined,
  cluster: RedisCluster,
  namespace: string,
) {
  const from = stale.invalidatedAt - HISTORY_BEFORE_MS
  const until = stale.start + HISTORY_AFTER_MS
  const events: { at: string; event: string }[] = []
  for (let i = 0; i + READ_FIELDS <= reads.length; i += READ_FIELDS) {
    const start = reads[i + 2] as number
    if (reads[i] !== stale.key || start < from || start > until) continue
    const end = reads[i + 3] as number
    events.push({
      at: new Date(start).toISOString(),
      event: `read v${reads[i + 1]} in ${end - start} ms (${describeHow(reads[i + 4] as number)})`,
    })
  }
  for (const invalidation of invalidations) {
    if (invalidation.key !== stale.key || invalidation.resolvedAt < from || invalidation.resolvedAt > until) continue
    events.push({ at: new Date(invalidation.resolvedAt).toISOString(), event: `invalidate for v${invalidation.version} resolved` })
  }
  for (const log of logs) {
    if (log.at < from || log.at > until) continue
    events.push({ at: new Date(log.at).toISOString(), event: `worker ${log.worker} logged ${log.event}` })
  }
  for (const change of topology?.between(from, until) ?? []) {
    events.push({ at: new Date(change.at).toISOString(), event: `node ${change.port}: ${change.state}` })
  }
  events.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))
  // The slot of the key's value, to read the nodes' lines against.
  const slot = cluster.keySlot(new KeyBuilder(namespace, 'item').valueKey(String(stale.key)))
  return { stale, slot, events }
}

function reply(worker: ChildProcess, message: CoordinatorMessage): void {
  if (worker.connected) worker.send(message)
}

function waitFor(worker: ChildProcess, type: WorkerMessage['type']): Promise<void> {
  return new Promise((resolve) => {
    const listener = (message: WorkerMessage) => {
      if (message.type !== type) return
      worker.off('message', listener)
      resolve()
    }
    worker.on('message', listener)
  })
}

/** One line per figure, for a terminal or a test's log. */
export function describeReport(report: ChaosReport): string {
  const stale = report.staleReads
  return [
    `seed ${report.seed}: ${report.faults.length} faults, ${report.reads} reads, ${report.invalidations} invalidations, ${report.loads} loads`,
    `caller errors ${report.callerErrors}, wrong values ${report.wrongValues}`,
    `reads over 1 s ${report.slowReads}, slowest read ${report.slowestReadMs} ms, longest event-loop delay in a worker ${report.loopDelayMaxMs} ms, in the coordinator ${report.coordinatorLoopDelayMaxMs} ms`,
    `reads by tier ${JSON.stringify(report.tiers)}; locks held over the trace limit ${report.longLocks}, longest ${report.longestLockMs} ms`,
    ...(report.slow.count === 0
      ? []
      : [
          `slow reads by tier ${JSON.stringify(report.slow.byTier)}, by fault ${JSON.stringify(report.slow.byFault)}`,
          `slow reads by longest step ${JSON.stringify(report.slow.byLongestCall)}; loaders' share of their time ${Math.round(report.slow.loaderShare * 100)}%, ${report.slow.loopStalled} with the worker's loop stalled over half the read`,
        ]),
    `stale reads past the bound ${stale.length}${stale.length > 0 ? ` (worst ${Math.max(...stale.map((s) => s.lateByMs))} ms late)` : ''}`,
    ...stale
      .slice(0, 10)
      .map(
        (s) =>
          `  key ${s.key} got v${s.got}, expected v${s.expected}, ${s.lateByMs} ms past its deadline, read at ${new Date(s.start).toISOString()} (${describeHow(s.how)}; ${faultKindAt(report.faults, s.start)}); v${s.expected} invalidated at ${new Date(s.invalidatedAt).toISOString()} (${faultKindAt(report.faults, s.invalidatedAt)})`,
      ),
    ...report.examples,
  ].join('\n')
}
