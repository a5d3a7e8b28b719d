import { groupBySlot } from './key-slot.js'

/** Keys asked of each `SCAN` call (a hint to Redis, not a limit); one `UNLINK` round per batch. */
export const SCAN_BATCH = 1_000

/** One node (a master) as the prefix walk sees it, whatever the client library. */
export interface ScanNode {
  /** `SCAN cursor MATCH pattern COUNT count`: the next cursor (`'0'` at the end) and the keys found. */
  scan(cursor: string, pattern: string, count: number): Promise<[cursor: string, keys: string[]]>
  /** One `UNLINK` per group, sent together (one round trip); resolves with the number removed. */
  unlink(groups: string[][]): Promise<number>
}

/**
 * Deletes every key matching one of `patterns` (see {@link scanPatterns}) on one node, and
 * resolves with the number deleted. The node is walked with `SCAN ... MATCH` (never `KEYS`, which
 * blocks a server for as long as it takes to walk its whole key space) and the keys found are
 * removed with `UNLINK` (freed in the background) one batch at a time, the next `SCAN` overlapping
 * the previous batch's `UNLINK`. In a cluster a batch is split by hash slot.
 *
 * A key written while the walk runs may or may not be seen, as `SCAN` guarantees only the keys
 * present for the whole walk. Rejects when the node cannot be reached: its keys were not cleared.
 */
export async function unlinkOnNode(node: ScanNode, patterns: readonly string[], cluster: boolean): Promise<number> {
  let removed = 0
  let inFlight: Promise<number> | undefined
  for (const pattern of patterns) {
    let cursor = '0'
    do {
      const [next, keys] = await node.scan(cursor, pattern, SCAN_BATCH)
      cursor = next
      if (inFlight !== undefined) removed += await inFlight
      inFlight = keys.length === 0 ? undefined : node.unlink(cluster ? slotGroups(keys) : [keys])
    } while (cursor !== '0')
  }
  if (inFlight !== undefined) removed += await inFlight
  return removed
}

/** The keys grouped by hash slot: a multi-key command must stay in one slot. */
function slotGroups(keys: string[]): string[][] {
  return [...groupBySlot(keys).values()].map((positions) => positions.map((p) => keys[p] as string))
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
