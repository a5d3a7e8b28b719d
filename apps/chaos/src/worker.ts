// One cache instance in its own process, under load: `loops` concurrent loops read keys (get and
// getMany) and now and then write one (ask the coordinator to bump its version, then
// invalidate). Loaders read the worker's own copy of the versions (protocol.ts). Every read and every resolved invalidation is reported to the coordinator, which
// checks them against each other once the run ends.
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { createCache, type Logger } from '@tiercache/core'
import { redisClusterStore } from '@tiercache/redis'
import { seeded } from '@tiercache/testkit/helpers'
import { between } from './draw.js'
import { type ChaosValue, type CoordinatorMessage, TIERS, type WorkerConfig, type WorkerMessage } from './protocol.js'
import { LockLedger, LoopLag, observeEngine, type ReadTrace, tracedStore, traceLoad, traceRead } from './read-trace.js'

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig
const random = seeded(config.seed)
const send = (message: WorkerMessage): void => {
  process.send?.(message)
}

observeEngine()
// What the cache logs at info and above goes to the coordinator, which keeps it for the stale-read
// histories: whether this worker's bus was up, which breaker was open, what the outbox retried.
const forward =
  (level: string) =>
  (obj: object, msg?: string): void =>
    send({
      type: 'log',
      at: Date.now(),
      level,
      message: `${msg ?? ''} ${JSON.stringify(obj, (_, v) => (v instanceof Error ? v.message : v))}`,
    })
const ignore = (): void => {}
const logger: Logger = { debug: ignore, info: forward('info'), warn: forward('warn'), error: forward('error'), child: () => logger }
const locks = new LockLedger(config.traceOverMs, (lock) => send({ type: 'long-lock', ...lock }))
const cache = createCache({
  namespace: config.namespace,
  logger,
  l2: tracedStore(redisClusterStore({ nodes: [...config.seeds] }), locks),
  entities: {
    item: {
      ttl: '5m',
      l1: { ttl: config.l1TtlMs },
      // Key 0 is declared hot, so its reads go through replicas on every master.
      hot: { keys: ['0'], l1Ttl: config.l1TtlMs },
    },
  },
})
const items = cache.entity<ChaosValue>('item')

// This worker's copy of the database (see protocol.ts): key -> version, 1 until written.
const versions = new Map<number, number>()
let loads = 0

// A loader reads the worker's copy after one turn of the event loop, as a query answered over a
// socket would yield: the read path is exercised with a loader that yields, not a synchronous one.
const load = async (id: string): Promise<ChaosValue> => {
  const began = performance.now()
  await new Promise((resolve) => setImmediate(resolve))
  loads++
  const key = Number(id)
  const value = { key, version: versions.get(key) ?? 1 }
  traceLoad(began)
  return value
}
const loadMany = (ids: readonly string[]): Promise<ChaosValue[]> => Promise.all(ids.map(load))

// A write asks the coordinator for the next version of the key; it answers once every worker holds it.
let nextRequest = 0
const pending = new Map<number, (version: number) => void>()
function bump(key: number): Promise<number> {
  const requestId = nextRequest++
  return new Promise((resolve) => {
    pending.set(requestId, resolve)
    send({ type: 'bump', requestId, key })
  })
}

// How late this process's event loop ran: a read cannot be faster than the loop that runs it.
const loopDelay = monitorEventLoopDelay({ resolution: 10 })
loopDelay.enable()
const loopLag = new LoopLag()
const tiers: Record<string, number> = {}

/** Counts the read's tier and, when it was slow, sends where its time went. */
function attribute(keys: readonly number[], trace: ReadTrace, start: number, end: number, batch: boolean): void {
  const tier = batch ? 'batch' : (trace.tier ?? 'unknown')
  tiers[tier] = (tiers[tier] ?? 0) + 1
  if (end - start <= config.traceOverMs) return
  const stall = loopLag.worstBetween(start, end)
  send({
    type: 'slow-read',
    detail: {
      worker: process.pid,
      keys,
      start,
      end,
      batch,
      tier,
      loaderMs: Math.round(trace.loaderMs),
      loopLagMaxMs: stall.lagMs,
      loopLagCpuMs: stall.cpuMs,
      steps: trace.steps,
    },
  })
}

let running = false
let reads: number[] = []
const flush = setInterval(() => {
  if (reads.length === 0) return
  send({ type: 'reads', records: reads })
  reads = []
}, 250)

function record(key: number, value: ChaosValue | null | undefined, start: number, end: number, tier: string): void {
  if (value?.key !== key) {
    send({ type: 'wrong-value', key, at: end, got: JSON.stringify(value) })
    return
  }
  const tierIndex = TIERS.indexOf(tier as (typeof TIERS)[number])
  reads.push(key, value.version, start, end, process.pid * 8 + (tierIndex < 0 ? TIERS.length - 1 : tierIndex))
}

async function step(): Promise<void> {
  const draw = random()
  if (draw < config.writeShare) {
    const key = between(random, 0, config.keys - 1)
    const version = await bump(key)
    await items.invalidate(String(key))
    send({ type: 'invalidated', key, version, resolvedAt: Date.now() })
    return
  }
  if (draw < config.writeShare + config.batchShare) {
    const keys = Array.from({ length: 4 }, () => between(random, 0, config.keys - 1))
    const start = Date.now()
    const { value: values, trace } = await traceRead(() => items.getMany(keys.map(String), loadMany))
    const end = Date.now()
    for (const [i, key] of keys.entries()) record(key, values[i], start, end, 'batch')
    attribute(keys, trace, start, end, true)
    return
  }
  // Key 0 (hot) takes a tenth of the single reads; the rest spread over all keys.
  const key = random() < 0.1 ? 0 : between(random, 0, config.keys - 1)
  const start = Date.now()
  const { value, trace } = await traceRead(() => items.get(String(key), load))
  const end = Date.now()
  record(key, value, start, end, trace.tier ?? 'unknown')
  attribute([key], trace, start, end, false)
}

// Each loop starts a step at most every `pauseMs`: the loops together make `stepsPerSecond`.
const pauseMs = (config.loops * 1_000) / config.stepsPerSecond

async function loop(): Promise<void> {
  while (running) {
    const began = performance.now()
    try {
      await step()
    } catch (error) {
      send({ type: 'caller-error', key: -1, at: Date.now(), message: String((error as Error)?.stack ?? error) })
    }
    const rest = pauseMs - (performance.now() - began)
    if (rest > 0 && running) await sleep(rest)
  }
}

let loops: Promise<void>[] = []
process.on('message', async (message: CoordinatorMessage) => {
  if (message.type === 'hold-version') {
    // Versions only grow: a late message never takes a key back.
    if ((versions.get(message.key) ?? 1) < message.version) versions.set(message.key, message.version)
    send({ type: 'version-held', requestId: message.requestId })
  } else if (message.type === 'version') {
    pending.get(message.requestId)?.(message.version)
    pending.delete(message.requestId)
  } else if (message.type === 'go') {
    running = true
    loops = Array.from({ length: config.loops }, loop)
  } else if (message.type === 'stop') {
    running = false
    await Promise.all(loops)
    clearInterval(flush)
    if (reads.length > 0) send({ type: 'reads', records: reads })
    await cache.close()
    locks.flushHeld()
    loopDelay.disable()
    loopLag.stop()
    send({ type: 'tiers', counts: tiers })
    send({ type: 'stopped', loopDelayMaxMs: Math.round(loopDelay.max / 1e6), loads })
    process.disconnect()
  }
})

await cache.ready()
send({ type: 'ready' })
