import { contender } from '../adapters/index.js'
import { makeProduct, type Product } from '../product.js'
import { contextFor, openAdapter, sleep, TTL_MS } from './common.js'
import { callerBurst } from './stampede-callers.js'
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
  let loadedAt: number | null = null
  const wallNow = (): number => performance.timeOrigin + performance.now()
  const loader = async (): Promise<Product> => {
    loaderCalls++
    await sleep(config.loaderMs)
    loadedAt = wallNow()
    return makeProduct('cold', process.pid)
  }

  const round = async (go: GoMessage): Promise<DoneMessage> => {
    loaderCalls = 0
    loadedAt = null
    const reportedBefore = adapter.reportedErrors
    const startedAt = wallNow()
    const burst = await callerBurst(adapter, go.key, loader, config.callers)
    return {
      type: 'done',
      round: go.round,
      loaderCalls,
      serveAllMs: burst.serveAllMs,
      p50Ms: burst.p50Ms,
      errors: burst.errors,
      versions: [...burst.versions],
      reportedErrors: adapter.reportedErrors - reportedBefore,
      loadedAt,
      lastServedAt: startedAt + burst.serveAllMs,
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
