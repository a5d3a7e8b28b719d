import type { Cluster, Redis } from 'ioredis'

/**
 * Longest wait for a client's first connection attempt to settle, in ms. ioredis normally
 * settles sooner (`connectTimeout`, 10 s by default, fails a hanging connect); this only bounds
 * the case where it does not.
 */
export const FIRST_CONNECT_WAIT_MS = 10_000

/**
 * Resolves when the client's first connection attempt has settled: it became ready, failed,
 * or ended. Never rejects: once settled, commands run and fail fast on their own if the client
 * is not ready (the store runs ioredis with the offline queue off).
 *
 * Why: with the offline queue off, a command sent in the instant between creating a client
 * and its first `ready` would fail although Redis is fine. Waiting for the first attempt only
 * (not for Redis to come back) keeps startup smooth without queueing during an outage.
 */
export function firstConnectSettled(client: Redis | Cluster): Promise<void> | undefined {
  if (client.status === 'ready' || client.status === 'end') return undefined
  if (client.status === 'wait') client.connect().catch(() => {})
  return new Promise((resolve) => {
    const events = ['ready', 'close', 'end'] as const
    const settle = () => {
      clearTimeout(timer)
      for (const event of events) client.off(event, settle)
      resolve()
    }
    const timer = setTimeout(settle, FIRST_CONNECT_WAIT_MS)
    // The wait must not keep a process alive that has nothing else to do.
    timer.unref()
    for (const event of events) client.once(event, settle)
  })
}

/**
 * Resolves once the client is ready, connecting it if it was created lazily; rejects when it
 * ends or is not ready within `timeoutMs`.
 */
export function whenReady(client: Redis | Cluster, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve()
  if (client.status === 'end') return Promise.reject(new Error('the Redis client is closed'))
  if (client.status === 'wait') client.connect().catch(() => {})
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      clearTimeout(timer)
      client.off('ready', onReady)
      client.off('end', onEnd)
      if (error) reject(error)
      else resolve()
    }
    const onReady = () => done()
    const onEnd = () => done(new Error('the Redis client is closed'))
    const timer = setTimeout(() => done(new Error(`Redis was not ready within ${timeoutMs} ms`)), timeoutMs)
    client.once('ready', onReady)
    client.once('end', onEnd)
  })
}
