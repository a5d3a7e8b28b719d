import type { Logger } from '@tiercache/core'
import type { Finding } from '@tiercache/redis-common'
import type { Cluster, Redis } from 'ioredis'
import { FIRST_CONNECT_WAIT_MS, firstConnectSettled, whenReady } from '../client-readiness.js'
import { checkDeployment } from './deployment-check.js'

/**
 * The store's deployment check, once its client can answer. A cluster client that cannot get
 * ready (ioredis waits for `cluster_state:ok`) is checked through its seed nodes once its first
 * connection attempt settles; a standalone or Sentinel client that is not ready within 10 s rejects.
 */
export function checkWhenReady(
  client: Redis | Cluster,
  cluster: boolean,
  seeds: readonly string[] | undefined,
  logger: Logger,
): Promise<Finding[]> {
  const ready = cluster ? (firstConnectSettled(client) ?? Promise.resolve()) : whenReady(client, FIRST_CONNECT_WAIT_MS)
  return ready.then(() => {
    const kind = cluster ? 'cluster' : (client as Redis).options.sentinels ? 'sentinel' : 'standalone'
    return checkDeployment({ client, kind, seeds }, logger)
  })
}

/** Runs `check` now and, each time it fails while the store is open (Redis cannot be reached yet), again at the client's next `ready`. */
export function checkUntilReached(client: Redis | Cluster, check: () => Promise<unknown>, closed: () => boolean): void {
  const attempt = (): void => {
    check().catch(() => {
      if (!closed()) client.once('ready', attempt)
    })
  }
  attempt()
}
