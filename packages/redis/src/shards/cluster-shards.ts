import type { RemoteStore } from '@tiercache/core'
import { keySlot, spreadOverMasters } from '@tiercache/redis-common'
import type { Cluster } from 'ioredis'

/** What `RemoteStore.onTopologyChange` hands its listeners. */
export type TopologyChange = Parameters<Parameters<NonNullable<RemoteStore['onTopologyChange']>>[0]>[0]
export type TopologyListener = (change: TopologyChange) => void
/** What `RemoteStore.deleteDurably` resolves with (the core's index does not export it yet). */
export type DeleteOutcome = Awaited<ReturnType<NonNullable<RemoteStore['deleteDurably']>>>

/** How often the slot map is read while someone listens (ms); ioredis itself only reads it on MOVED or a lost connection. */
export const TOPOLOGY_REFRESH_MS = 1_000
/** How often while a node is failing (ms), so a promotion is seen within this of happening. */
export const TOPOLOGY_FAST_REFRESH_MS = 200
/** How long the fast pace lasts after a node fails (ms): a failover takes node timeout plus an election. */
const FAST_WINDOW_MS = 30_000

/** Shard id of a slot nobody owns (yet): before the first slot map, or while a slot is uncovered. */
export const UNKNOWN_SHARD = 'unknown'

/**
 * The shards of a Redis Cluster as the store reports them: a shard is a master, named by its
 * `host:port` as ioredis's slot map has it (`cluster.slots[slot][0]`), so the id of a key's shard
 * changes when its slot moves or its master is failed over.
 *
 * Watching: every slot-map refresh of the client (`refresh` event) is compared with the map last
 * seen, and each slot whose master changed reports its old and new master. While anyone listens
 * the map is read every second, and every 200 ms for 30 s after a node fails (`node error`,
 * `-node`): ioredis on its own reads it only after a MOVED or a lost connection, so a failover of
 * a shard nobody is writing to would otherwise go unseen.
 */
export class ClusterShards {
  private readonly listeners = new Set<TopologyListener>()
  private owners: (string | undefined)[] = []
  private masters = new Set<string>()
  private timer: NodeJS.Timeout | undefined
  private fastUntil = 0
  private closed = false

  constructor(private readonly cluster: Cluster) {
    cluster.on('refresh', this.compare)
    cluster.on('-node', this.nodeFailing)
    cluster.on('node error', this.nodeFailing)
  }

  /** The master that owns `key`'s slot now; {@link UNKNOWN_SHARD} before the slot map is known. */
  shardOf(key: string): string {
    return this.cluster.slots[keySlot(key)]?.[0] ?? UNKNOWN_SHARD
  }

  /** Replicas the slot map lists for `key`'s master (ioredis lists only replicas that are not failed). */
  replicasOf(key: string): number {
    const nodes = this.cluster.slots[keySlot(key)]
    return nodes === undefined ? 0 : nodes.length - 1
  }

  /** `RemoteStore.spreadKeys` on the current slot map: the first candidate key found on each master, in order. */
  spreadKeys(makeKey: (n: number) => string, count: number): string[] {
    const slots = this.cluster.slots
    return spreadOverMasters(makeKey, count, (slot) => slots[slot]?.[0])
  }

  onTopologyChange(listener: TopologyListener): () => void {
    if (this.listeners.size === 0) {
      this.snapshot()
      this.schedule()
    }
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
      if (this.listeners.size === 0) this.stopTimer()
    }
  }

  close(): void {
    this.closed = true
    this.stopTimer()
    this.listeners.clear()
    this.cluster.off('refresh', this.compare)
    this.cluster.off('-node', this.nodeFailing)
    this.cluster.off('node error', this.nodeFailing)
  }

  private readonly nodeFailing = (): void => {
    const wasFast = Date.now() < this.fastUntil
    this.fastUntil = Date.now() + FAST_WINDOW_MS
    if (!wasFast && this.timer !== undefined) {
      this.stopTimer()
      this.schedule()
    }
  }

  private readonly compare = (): void => {
    if (this.listeners.size === 0) return
    const before = this.owners
    const mastersBefore = this.masters
    this.snapshot()
    // The first map read is no change, and a map with holes is a read that failed half-way.
    if (mastersBefore.size === 0 || this.masters.size === 0) return
    const shards = new Set<string>()
    for (let slot = 0; slot < this.owners.length || slot < before.length; slot++) {
      const was = before[slot]
      const now = this.owners[slot]
      if (was !== now) {
        if (was !== undefined) shards.add(was)
        if (now !== undefined) shards.add(now)
      }
    }
    for (const master of mastersBefore) if (!this.masters.has(master)) shards.add(master)
    for (const master of this.masters) if (!mastersBefore.has(master)) shards.add(master)
    if (shards.size === 0) return
    const left = [...mastersBefore].some((master) => !this.masters.has(master))
    const joined = [...this.masters].some((master) => !mastersBefore.has(master))
    const reason: TopologyChange['reason'] = left && joined ? 'failover' : left || joined ? 'nodes' : 'slots'
    const change: TopologyChange = { shards: [...shards].sort(), reason, current: [...this.masters].sort() }
    for (const listener of [...this.listeners]) {
      try {
        listener(change)
      } catch {
        // A listener's failure is its own; the others still hear of the change.
      }
    }
  }

  private snapshot(): void {
    const slots = this.cluster.slots
    const owners = new Array<string | undefined>(slots.length)
    const masters = new Set<string>()
    for (let slot = 0; slot < slots.length; slot++) {
      const master = slots[slot]?.[0]
      owners[slot] = master
      if (master !== undefined) masters.add(master)
    }
    this.owners = owners
    this.masters = masters
  }

  private schedule(): void {
    if (this.closed) return
    const delay = Date.now() < this.fastUntil ? TOPOLOGY_FAST_REFRESH_MS : TOPOLOGY_REFRESH_MS
    this.timer = setTimeout(() => {
      this.timer = undefined
      if (this.cluster.status !== 'ready') return this.schedule()
      this.cluster.refreshSlotsCache(() => {
        if (this.listeners.size > 0 && this.timer === undefined) this.schedule()
      })
    }, delay)
    this.timer.unref()
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
  }
}
