import { closedBeforeReady, type StartupClient, waitConnected } from '@tiercache/redis-common'
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
  return waitConnected(
    deadline,
    () => describeClient(client),
    (events) => {
      // A cluster reports "Failed to refresh slots cache" with the node's own error inside.
      const onNodeError = (error: unknown, address?: string) =>
        events.failed((error as { lastNodeError?: unknown }).lastNodeError ?? error, address)
      const onError = (error: unknown) => onNodeError(error)
      client.on('error', onError)
      client.on('node error', onNodeError)
      client.once('ready', events.ready)
      client.once('end', events.closed)
      return () => {
        client.off('error', onError)
        client.off('node error', onNodeError)
        client.off('ready', events.ready)
        client.off('end', events.closed)
      }
    },
  )
}

/** `Redis at host:port` for a standalone client, `the Redis cluster` when no single node is known. */
function describeClient(client: Redis | Cluster): string {
  const options = (client as { options?: { host?: unknown; port?: unknown } }).options
  return typeof options?.host === 'string' && typeof options.port === 'number'
    ? `Redis at ${options.host}:${options.port}`
    : 'the Redis cluster'
}
