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

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig
const random = seeded(config.seed)
const send = (message: WorkerMessage): void => {
  process.send?.(message)
}

const cache = createCache({
  namespace: config.namespace,
  l2: redisClusterStore({ nodes: [...config.seeds] }),
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
const pending = new Map<number, (version: number) => void>()
function ask(type: 'load' | 'bump', key: number): Promise<number> {
  const requestId = nextRequest++
  return new Promise((resolve) => {
    pending.set(requestId, resolve)
    send({ type, requestId, key })
  })
}

const load = async (id: string): Promise<ChaosValue> => ({ key: Number(id), version: await ask('load', Number(id)) })
const loadMany = (ids: readonly string[]): Promise<ChaosValue[]> => Promise.all(ids.map(load))

// How late this process's event loop ran: a read cannot be faster than the loop that runs it.
const loopDelay = monitorEventLoopDelay({ resolution: 10 })
loopDelay.enable()

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
    const values = await items.getMany(keys.map(String), loadMany)
    const end = Date.now()
    for (const [i, key] of keys.entries()) record(key, values[i], start, end)
    return
  }
  // Key 0 (hot) takes a tenth of the single reads; the rest spread over all keys.
  const key = random() < 0.1 ? 0 : between(random, 0, config.keys - 1)
  const start = Date.now()
  const value = await items.get(String(key), load)
  record(key, value, start, Date.now())
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
    loopDelay.disable()
    send({ type: 'stopped', loopDelayMaxMs: Math.round(loopDelay.max / 1e6) })
    process.disconnect()
  }
})

await cache.ready()
send({ type: 'ready' })
