import { performance } from 'node:perf_hooks'
import { contender } from '../adapters/index.js'
import { percentile } from '../harness.js'
import { makeProduct, type Product } from '../product.js'
import { contextFor, openAdapter, sleep, TTL_MS } from './common.js'
import type { DoneMessage, GoMessage, StampedeWorkerConfig, WorkerMessage } from './stampede-protocol.js'

// A child process forked by stampede.ts: one instance of one contender with its own connections,
// which serves `callers` concurrent reads of a cold key each time the parent says go.

// Once the parent has closed the channel (it is done with this worker) there is no one to tell;
// the callback keeps a late send from raising EPIPE as an unhandled 'error'.
const send = (message: WorkerMessage): void => {
  if (process.connected) process.send?.(message, undefined, {}, () => {})
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '') as StampedeWorkerConfig
  const adapter = await openAdapter(contender(config.contender), contextFor(config.profile, config.namespace, config.seeds))
  // Open the connection to every master before the barrier, so no round pays for connecting.
  for (let i = 0; i < 16; i++) await adapter.getOrSet(`warm-${process.pid}-${i}`, () => makeProduct(`w${i}`), TTL_MS)

  let loaderCalls = 0
  const loader = async (): Promise<Product> => {
    loaderCalls++
    await sleep(config.loaderMs)
    return makeProduct('cold', process.pid)
  }

  const round = async (go: GoMessage): Promise<DoneMessage> => {
    loaderCalls = 0
    const reportedBefore = adapter.reportedErrors
    const started = performance.now()
    const servedAt = new Float64Array(config.callers)
    const versions = new Set<number>()
    let errors = 0
    const calls: Promise<void>[] = []
    for (let c = 0; c < config.callers; c++) {
      calls.push(
        Promise.resolve()
          .then(() => adapter.getOrSet(go.key, loader, TTL_MS))
          .then(
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
    const sorted = servedAt.slice().sort()
    return {
      type: 'done',
      round: go.round,
      loaderCalls,
      serveAllMs: sorted[sorted.length - 1] ?? 0,
      p50Ms: percentile(sorted, 0.5),
      errors,
      versions: [...versions],
      reportedErrors: adapter.reportedErrors - reportedBefore,
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
    adapter.teardown().finally(() => process.exit(0))
  })
  send({ type: 'ready' })
}

main().catch((error: unknown) => {
  send({ type: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) })
  process.exit(1)
})
