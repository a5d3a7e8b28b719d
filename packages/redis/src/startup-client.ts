import type { TierCacheError } from '@tiercache/core'
import { closedBeforeReady, messageOf, refusal, type StartupClient, unavailable } from '@tiercache/redis-common'
import type { Cluster, Redis } from 'ioredis'

/** The startup check's view of an ioredis client (`runStartupCheck`). */
export function startupClient(client: Redis | Cluster): StartupClient {
  return {
    connected: (deadline) => connected(client, deadline),
    ended: () => client.status === 'end',
    describe: () => describeClient(client),
  }
}

/** Resolves once the client is ready; rejects on a refusal, when it ends, or at `deadline`. */
function connected(client: Redis | Cluster, deadline: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve()
  if (client.status === 'end') return Promise.reject(closedBeforeReady())
  if (client.status === 'wait') client.connect().catch(() => {})
  return new Promise((resolve, reject) => {
    let last = 'no answer yet'
    const onError = (error: unknown, address?: string) => {
      // A cluster reports "Failed to refresh slots cache" with the node's own error inside.
      const cause = (error as { lastNodeError?: unknown }).lastNodeError ?? error
      const refused = refusal(cause, address === undefined ? describeClient(client) : `Redis at ${address}`)
      if (refused !== undefined) settle(refused)
      else last = messageOf(cause)
    }
    const onNodeError = (error: unknown, address: string) => onError(error, address)
    const onReady = () => settle()
    const onEnd = () => settle(closedBeforeReady())
    const timer =
      deadline === Number.POSITIVE_INFINITY
        ? undefined
        : setTimeout(() => settle(unavailable(`not connected within the timeout; last error: ${last}`)), Math.max(0, deadline - Date.now()))
    // A check still waiting must not keep an otherwise idle process alive.
    timer?.unref()
    const settle = (error?: TierCacheError) => {
      clearTimeout(timer)
      client.off('error', onError)
      client.off('node error', onNodeError)
      client.off('ready', onReady)
      client.off('end', onEnd)
      if (error === undefined) resolve()
      else reject(error)
    }
    client.on('error', onError)
    client.on('node error', onNodeError)
    client.once('ready', onReady)
    client.once('end', onEnd)
  })
}

/** `Redis at host:port` for a standalone client, `the Redis cluster` when no single node is known. */
function describeClient(client: Redis | Cluster): string {
  const options = (client as { options?: { host?: unknown; port?: unknown } }).options
  return typeof options?.host === 'string' && typeof options.port === 'number'
    ? `Redis at ${options.host}:${options.port}`
    : 'the Redis cluster'
}
