import type { TopologyChange } from '@tiercache/core'

/** Shard id of a slot nobody owns (yet): before the first slot map, or while a slot is uncovered. */
export const UNKNOWN_SHARD = 'unknown'

/** The one shard of a standalone server or a Sentinel-managed primary. */
export const PRIMARY_SHARD = 'primary'

/**
 * How often a cluster store reads the slot map while someone listens to its topology (ms): neither
 * ioredis nor node-redis reads it on its own except after a `MOVED` or a lost connection, so a
 * failover of a shard nobody writes to would otherwise go unseen.
 */
export const TOPOLOGY_REFRESH_MS = 1_000
/** How often while a node is failing (ms), so a promotion is seen within this of happening. */
export const TOPOLOGY_FAST_REFRESH_MS = 200
/** How long the fast pace lasts after a node fails (ms): a failover takes node timeout plus an election. */
export const TOPOLOGY_FAST_WINDOW_MS = 30_000

/** A listener of `RemoteStore.onTopologyChange`. */
export type TopologyListener = (change: TopologyChange) => void

/**
 * Which master (`host:port`, as the client library names it) owns each hash slot, and the set
 * of those masters: what two reads of a cluster's slot map are compared by.
 */
export interface SlotMap {
  /** Index: slot (0..16383); `undefined` where no master owns the slot. */
  readonly owners: readonly (string | undefined)[]
  readonly masters: ReadonlySet<string>
}

/** The map before any was read. */
export const EMPTY_SLOT_MAP: SlotMap = { owners: [], masters: new Set() }

/** A {@link SlotMap} from a client's slot table: `ownerOf(slot)` for each of `slotCount` slots. */
export function slotMapOf(slotCount: number, ownerOf: (slot: number) => string | undefined): SlotMap {
  const owners = new Array<string | undefined>(slotCount)
  const masters = new Set<string>()
  for (let slot = 0; slot < slotCount; slot++) {
    const master = ownerOf(slot)
    owners[slot] = master
    if (master !== undefined) masters.add(master)
  }
  return { owners, masters }
}

/**
 * The topology change from `before` to `after`, or `undefined` when nothing changed. Every master
 * that lost or gained a slot is named, and every master that left or joined; the reason is
 * `failover` when one master left and another joined (a replica promoted in a dead master's place),
 * `nodes` when masters only left or only joined, else `slots`; `current` lists the masters of
 * `after`. A first map (`before` empty) is no change, and neither is an empty `after`, which is a
 * read that failed half-way rather than a cluster that lost every master.
 */
export function slotMapChange(before: SlotMap, after: SlotMap): TopologyChange | undefined {
  if (before.masters.size === 0 || after.masters.size === 0) return undefined
  const shards = new Set<string>()
  const length = Math.max(before.owners.length, after.owners.length)
  for (let slot = 0; slot < length; slot++) {
    const was = before.owners[slot]
    const now = after.owners[slot]
    if (was !== now) {
      if (was !== undefined) shards.add(was)
      if (now !== undefined) shards.add(now)
    }
  }
  let left = false
  let joined = false
  for (const master of before.masters) {
    if (after.masters.has(master)) continue
    left = true
    shards.add(master)
  }
  for (const master of after.masters) {
    if (before.masters.has(master)) continue
    joined = true
    shards.add(master)
  }
  if (shards.size === 0) return undefined
  const reason: TopologyChange['reason'] = left && joined ? 'failover' : left || joined ? 'nodes' : 'slots'
  return { shards: [...shards].sort(), reason, current: [...after.masters].sort() }
}

/** Whether two maps give every slot the same master. */
export function sameSlotOwners(a: SlotMap, b: SlotMap): boolean {
  const length = Math.max(a.owners.length, b.owners.length)
  for (let slot = 0; slot < length; slot++) if (a.owners[slot] !== b.owners[slot]) return false
  return true
}

/** Calls every listener with `change`; one that throws does not keep the others from hearing of it. */
export function tellTopologyListeners(listeners: Iterable<TopologyListener>, change: TopologyChange): void {
  for (const listener of [...listeners]) {
    try {
      listener(change)
    } catch {
      // A listener's failure is its own.
    }
  }
}

/** The pause before the next slot-map read: fast while within the window after a node failed. */
export function topologyRefreshDelay(now: number, fastUntil: number): number {
  return now < fastUntil ? TOPOLOGY_FAST_REFRESH_MS : TOPOLOGY_REFRESH_MS
}
