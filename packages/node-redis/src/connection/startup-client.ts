import { closedBeforeReady, type StartupClient, waitConnected } from '@tiercache/redis-common'
import type { ClientHandle } from './client-handle.js'

/**
 * Longest wait for a client's first connection attempt to settle, in ms; node-redis normally
 * settles sooner (its `connectTimeout` is 5 s by default).
 */
const FIRST_CONNECT_WAIT_MS = 10_000

/**
 * Resolves when the client's first connection attempt has settled: it became ready or failed.
 * Never rejects; `undefined` when the client is ready already. Why: a command sent in the instant
 * between creating a client and its first `ready` would fail although Redis is fine (the store
 * runs node-redis without its offline queue, so nothing waits during an outage).
 */
export function firstConnectSettled(handle: ClientHandle): Promise<void> | undefined {
  if (handle.isReady()) return undefined
  return new Promise((resolve) => {
    const events = ['ready', 'failure', 'closed'] as const
    const settle = () => {
      clearTimeout(timer)
      for (const event of events) handle.events.off(event, settle)
      resolve()
    }
    const timer = setTimeout(settle, FIRST_CONNECT_WAIT_MS)
    // The wait must not keep a process alive that has nothing else to do.
    timer.unref()
    for (const event of events) handle.events.once(event, settle)
  })
}

/** The startup check's view of a node-redis client (`runStartupCheck`). */
export function startupClient(handle: ClientHandle, closed: () => boolean): StartupClient {
  return {
    connected: (deadline) => connected(handle, closed, deadline),
    ended: closed,
    describe: () => handle.describe(),
  }
}

/** Resolves once the client is ready; rejects on a refusal, when the store closes, or at `deadline`. */
function connected(handle: ClientHandle, closed: () => boolean, deadline: number): Promise<void> {
  if (closed()) return Promise.reject(closedBeforeReady())
  if (handle.isReady()) return Promise.resolve()
  return waitConnected(
    deadline,
    () => handle.describe(),
    (events) => {
      handle.events.on('failure', events.failed)
      handle.events.once('ready', events.ready)
      handle.events.once('closed', events.closed)
      void handle.connect()
      return () => {
        handle.events.off('failure', events.failed)
        handle.events.off('ready', events.ready)
        handle.events.off('closed', events.closed)
      }
    },
  )
}
