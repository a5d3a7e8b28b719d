import type { Cluster, Redis } from 'ioredis'
import { whenReady } from './client-readiness.js'
import { groupBySlot } from './key-slot.js'

/** Keys asked of each `SCAN` call (a hint to Redis, not a limit); one `UNLINK` round per batch. */
export const SCAN_BATCH = 1_000
/** How long a clear waits for a client that has not connected yet, in ms. */
const READY_TIMEOUT_MS = 10_000

/**
 * Deletes every key that starts with one of `prefixes`, on every master, and resolves with the
 * number of keys deleted. Each master is walked with `SCAN ... MATCH` (never `KEYS`, which blocks
 * a server for as long as it takes to walk its whole key space) and the keys found are removed
 * with `UNLINK` (freed in the background) one batch at a time, the next `SCAN` overlapping the
 * previous batch's `UNLINK`. Masters are walked in parallel; replicas follow their masters.
 *
 * A key written while the walk runs may or may not be seen, as `SCAN` guarantees only the keys
 * present for the whole walk. Rejects when a master cannot be reached: its keys were not cleared.
 */
export async function unlinkByPrefix(client: Redis | Cluster, cluster: boolean, prefixes: readonly string[]): Promise<number> {
  if (prefixes.length === 0) return 0
  await whenReady(client, READY_TIMEOUT_MS)
  const patterns = scanPatterns(prefixes)
  const masters = cluster ? (client as Cluster).nodes('master') : [client as Redis]
  const removed = await Promise.all(masters.map((master) => unlinkOnNode(master, patterns, cluster)))
  return removed.reduce((sum, count) => sum + count, 0)
}

async function unlinkOnNode(node: Redis, patterns: readonly string[], cluster: boolean): Promise<number> {
  let removed = 0
  let inFlight: Promise<number> | undefined
  for (const pattern of patterns) {
    let cursor = '0'
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_BATCH)
      cursor = next
      if (inFlight !== undefined) removed += await inFlight
      inFlight = keys.length === 0 ? undefined : unlinkBatch(node, keys, cluster)
    } while (cursor !== '0')
  }
  if (inFlight !== undefined) removed += await inFlight
  return removed
}

/** One pipeline of `UNLINK`s; in a cluster one per hash slot, since a multi-key command must stay in one slot. */
async function unlinkBatch(node: Redis, keys: string[], cluster: boolean): Promise<number> {
  const groups = cluster ? [...groupBySlot(keys).values()].map((positions) => positions.map((p) => keys[p] as string)) : [keys]
  const replies = (await node.pipeline(groups.map((group) => ['unlink', ...group])).exec()) ?? []
  let removed = 0
  for (const [error, count] of replies) {
    if (error) throw error
    removed += Number(count)
  }
  return removed
}

/**
 * `SCAN MATCH` patterns for prefixes, glob characters escaped. Prefixes that differ only in their
 * last character share one pattern (`{shop:` and `{shop!` become `{shop[:!]*`), so the key space is
 * walked once per distinct stem rather than once per prefix: `MATCH` filters after the walk.
 */
export function scanPatterns(prefixes: readonly string[]): string[] {
  const byStem = new Map<string, Set<string>>()
  for (const prefix of new Set(prefixes)) {
    if (prefix.length === 0) throw new RangeError('an empty prefix would match every key')
    const stem = prefix.slice(0, -1)
    const last = prefix.slice(-1)
    byStem.set(stem, (byStem.get(stem) ?? new Set()).add(last))
  }
  return [...byStem].map(([stem, lasts]) => {
    const escapedStem = stem.replace(/[*?[\]\\]/g, '\\$&')
    if (lasts.size === 1) return `${escapedStem}${[...lasts][0]?.replace(/[*?[\]\\]/g, '\\$&')}*`
    return `${escapedStem}[${[...lasts].map((c) => c.replace(/[\]\\^-]/g, '\\$&')).join('')}]*`
  })
}
