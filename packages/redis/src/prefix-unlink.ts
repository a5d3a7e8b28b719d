import { type ScanNode, scanPatterns, unlinkOnNode } from '@tiercache/redis-common'
import type { Cluster, Redis } from 'ioredis'
import { whenReady } from './client-readiness.js'

/** How long a clear waits for a client that has not connected yet, in ms. */
const READY_TIMEOUT_MS = 10_000

/**
 * Deletes every key that starts with one of `prefixes`, on every master (walked in parallel;
 * replicas follow their masters), with `SCAN` + `UNLINK` (see `unlinkOnNode`), and resolves with
 * the number of keys deleted. Rejects when a master cannot be reached: its keys were not cleared.
 */
export async function unlinkByPrefix(client: Redis | Cluster, cluster: boolean, prefixes: readonly string[]): Promise<number> {
  if (prefixes.length === 0) return 0
  await whenReady(client, READY_TIMEOUT_MS)
  const patterns = scanPatterns(prefixes)
  const masters = cluster ? (client as Cluster).nodes('master') : [client as Redis]
  const removed = await Promise.all(masters.map((master) => unlinkOnNode(scanNode(master), patterns, cluster)))
  return removed.reduce((sum, count) => sum + count, 0)
}

function scanNode(node: Redis): ScanNode {
  return {
    scan: (cursor, pattern, count) => node.scan(cursor, 'MATCH', pattern, 'COUNT', count),
    async unlink(groups) {
      const replies = (await node.pipeline(groups.map((group) => ['unlink', ...group])).exec()) ?? []
      let removed = 0
      for (const [error, count] of replies) {
        if (error) throw error
        removed += Number(count)
      }
      return removed
    },
  }
}
