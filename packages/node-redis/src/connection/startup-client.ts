import type { TierCacheError } from '@tiercache/core'
import { closedBeforeReady, messageOf, refusal, type StartupClient, unavailable } from '@tiercache/redis-common'
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
  return new Promise((resolve, reject) => {
    let last = 'no answer yet'
    const onFailure = (error: unknown, address?: string) => {
      const refused = refusal(error, address === undefined ? handle.describe() : `Redis at ${address}`)
      if (refused !== undefined) settle(refused)
      else last = messageOf(error)
    }
    const onReady = () => settle()
    const onClosed = () => settle(closedBeforeReady())
    const timer =
      deadline === Number.POSITIVE_INFINITY
        ? undefined
        : setTimeout(() => settle(unavailable(`not connected within the timeout; last error: ${last}`)), Math.max(0, deadline - Date.now()))
    // A check still waiting must not keep an otherwise idle process alive.
    timer?.unref()
    const settle = (error?: TierCacheError) => {
      clearTimeout(timer)
      handle.events.off('failure', onFailure)
      handle.events.off('ready', onReady)
      handle.events.off('closed', onClosed)
      if (error === undefined) resolve()
      else reject(error)
    }
    handle.events.on('failure', onFailure)
    handle.events.once('ready', onReady)
    handle.events.once('closed', onClosed)
    void handle.connect()
  })
}
