// One cache instance in its own process, under load: `loops` concurrent loops read keys (get and
// getMany) and now and then write one (ask the coordinator to bump its version, then
// invalidate). Every read and every resolved invalidation is reported to the coordinator, which
// checks them against each other once the run ends.
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { createCache } from '@tiercache/core'
import { redisClusterStore } from '@tiercache/redis'
import { seeded } from '@tiercache/testkit/helpers'
import { between } from './draw.js'
import type { ChaosValue, CoordinatorMessage, WorkerConfig, WorkerMessage } from './protocol.js'
import { currentTrace, LoopLag, observeEngine, type ReadTrace, traceRead, tracedStore } from './read-trace.js'

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig
const random = seeded(config.seed)
const send = (message: WorkerMessage): void => {
  process.send?.(message)
}

observeEngine()
const cache = createCache({
  namespace: config.namespace,
  l2: tracedStore(redisClusterStore({ nodes: [...config.seeds] })),
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

let nextRequest = 0
const pending = new Map<number, (answer: { version: number; handledAt: number }) => void>()
async function ask(type: 'load' | 'bump', key: number): Promise<number> {
  const requestId = nextRequest++
  const trace = currentTrace()
  const sentAt = Date.now()
  const began = performance.now()
  const answer = await new Promise<{ version: number; handledAt: number }>((resolve) => {
    pending.set(requestId, resolve)
    send({ type, requestId, key })
  })
  if (trace !== undefined) {
    trace.ipcMs += performance.now() - began
    trace.toCoordinatorMs += Math.max(0, answer.handledAt - sentAt)
    trace.steps.push(`load@${Math.round(began - trace.startedAt)}+${Math.round(performance.now() - began)}`)
  }
  return answer.version
}

const load = async (id: string): Promise<ChaosValue> => ({ key: Number(id), version: await ask('load', Number(id)) })
const loadMany = (ids: readonly string[]): Promise<ChaosValue[]> => Promise.all(ids.map(load))

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
  send({
    type: 'slow-read',
    detail: {
      worker: process.pid,
      keys,
      start,
      end,
      batch,
      tier,
      ipcMs: Math.round(trace.ipcMs),
      toCoordinatorMs: trace.toCoordinatorMs,
      pendingAtStart: trace.pendingAtStart,
      loopLagMaxMs: loopLag.maxBetween(start, end),
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

function record(key: number, value: ChaosValue | null | undefined, start: number, end: number): void {
  if (value?.key !== key) {
    send({ type: 'wrong-value', key, at: end, got: JSON.stringify(value) })
    return
  }
  reads.push(key, value.version, start, end)
}

async function step(): Promise<void> {
  const draw = random()
  if (draw < config.writeShare) {
    const key = between(random, 0, config.keys - 1)
    const version = await ask('bump', key)
    await items.invalidate(String(key))
    send({ type: 'invalidated', key, version, resolvedAt: Date.now() })
    return
  }
  if (draw < config.writeShare + config.batchShare) {
    const keys = Array.from({ length: 4 }, () => between(random, 0, config.keys - 1))
    const start = Date.now()
    const { value: values, trace } = await traceRead(pending.size, () => items.getMany(keys.map(String), loadMany))
    const end = Date.now()
    for (const [i, key] of keys.entries()) record(key, values[i], start, end)
    attribute(keys, trace, start, end, true)
    return
  }
  // Key 0 (hot) takes a tenth of the single reads; the rest spread over all keys.
  const key = random() < 0.1 ? 0 : between(random, 0, config.keys - 1)
  const start = Date.now()
  const { value, trace } = await traceRead(pending.size, () => items.get(String(key), load))
  const end = Date.now()
  record(key, value, start, end)
  attribute([key], trace, start, end, false)
}

async function loop(): Promise<void> {
  while (running) {
    try {
      await step()
    } catch (error) {
      send({ type: 'caller-error', key: -1, at: Date.now(), message: String((error as Error)?.stack ?? error) })
    }
  }
}

let loops: Promise<void>[] = []
process.on('message', async (message: CoordinatorMessage) => {
  if (message.type === 'version') {
    pending.get(message.requestId)?.(message)
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
    loopDelay.disable()
    loopLag.stop()
    send({ type: 'tiers', counts: tiers })
    send({ type: 'stopped', loopDelayMaxMs: Math.round(loopDelay.max / 1e6) })
    process.disconnect()
  }
})

await cache.ready()
send({ type: 'ready' })
