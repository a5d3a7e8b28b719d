import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { createCache } from '@tiercache/core'
import { redisClusterStore } from '@tiercache/redis'
import { percentile } from '../harness.js'
import { makeProduct, type Product } from '../product.js'
import type { DoneMessage, GoMessage, StampedeWorkerConfig, WorkerMessage } from './stampede-protocol.js'

// A child process forked by stampede.ts: one cache instance with its own connections, which
// serves `callers` concurrent reads of a cold key each time the parent says go.

// Once the parent has closed the channel (it is done with this worker) there is no one to tell;
// the callback keeps a late send from raising EPIPE as an unhandled 'error'.
const send = (message: WorkerMessage): void => {
  if (process.connected) process.send?.(message, undefined, {}, () => {})
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '') as StampedeWorkerConfig
  const cache = createCache({
    namespace: config.namespace,
    l2: redisClusterStore({ nodes: config.seeds }),
    entities: { [config.entity]: { ttl: '10m', l1: { ttl: '1m' } } },
  })
  const products = cache.entity<Product>(config.entity)
  await cache.ready()
  // Open the connection to every master before the barrier, so no round pays for connecting.
  for (let i = 0; i < 16; i++) await products.get(`warm-${process.pid}-${i}`, (id) => makeProduct(id))

  let loaderCalls = 0
  const loader = async (id: string): Promise<Product> => {
    loaderCalls++
    await sleep(config.loaderMs)
    return makeProduct(id, 1)
  }

  const round = async (go: GoMessage): Promise<DoneMessage> => {
    loaderCalls = 0
    const before = products.stats()
    const started = performance.now()
    const servedAt = new Float64Array(config.callers)
    const versions = new Set<number>()
    let errors = 0
    const calls: Promise<void>[] = []
    for (let c = 0; c < config.callers; c++) {
      calls.push(
        products.get(go.key, loader).then(
          (value) => {
            servedAt[c] = performance.now() - started
            versions.add(value.version)
          },
          () => {
            servedAt[c] = performance.now() - started
            errors++
          },
        ),
      )
    }
    await Promise.all(calls)
    const after = products.stats()
    const sorted = servedAt.slice().sort()
    return {
      type: 'done',
      round: go.round,
      loaderCalls,
      serveAllMs: sorted[sorted.length - 1] ?? 0,
      p50Ms: percentile(sorted, 0.5),
      errors,
      versions: [...versions],
      stats: {
        l2Hits: after.l2Hits - before.l2Hits,
        misses: after.misses - before.misses,
        loads: after.loads - before.loads,
        lockWaits: after.lockWaits - before.lockWaits,
        l2Errors: after.l2Errors - before.l2Errors,
      },
    }
  }

  process.on('message', (message: GoMessage) => {
    if (message.type !== 'go') return
    round(message).then(
      (done) => {
        send(done)
        send({ type: 'ready' })
      },
      (error: unknown) => send({ type: 'failed', message: String(error) }),
    )
  })
  // The parent closing the channel (it finished, or died) ends this worker.
  process.on('disconnect', () => {
    cache.close().finally(() => process.exit(0))
  })
  send({ type: 'ready' })
}

main().catch((error: unknown) => {
  send({ type: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) })
  process.exit(1)
})
