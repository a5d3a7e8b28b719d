import type { RemoteStore } from '@tiercache/core'
import {
  EMPTY_SLOT_MAP,
  keySlot,
  type SlotMap,
  slotMapChange,
  slotMapOf,
  spreadOverMasters,
  type TopologyListener,
  TopologyPace,
  tellTopologyListeners,
  UNKNOWN_SHARD,
} from '@tiercache/redis-common'
import type { Cluster } from 'ioredis'

/** What `RemoteStore.onTopologyChange` hands its listeners. */
export type TopologyChange = Parameters<Parameters<NonNullable<RemoteStore['onTopologyChange']>>[0]>[0]
export type { TopologyListener }
/** What `RemoteStore.deleteDurably` resolves with (the core's index does not export it yet). */
export type DeleteOutcome = Awaited<ReturnType<NonNullable<RemoteStore['deleteDurably']>>>

// The pace and the shard id of an unowned slot are shared with the node-redis store.
export { TOPOLOGY_FAST_REFRESH_MS, TOPOLOGY_REFRESH_MS, UNKNOWN_SHARD } from '@tiercache/redis-common'

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
  private seen: SlotMap = EMPTY_SLOT_MAP
  private timer: NodeJS.Timeout | undefined
  private readonly pace = new TopologyPace()
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
    if (this.pace.nodeFailing() && this.timer !== undefined) {
      this.stopTimer()
      this.schedule()
    }
  }

  private readonly compare = (): void => {
    if (this.listeners.size === 0) return
    const before = this.seen
    this.snapshot()
    const change = slotMapChange(before, this.seen)
    if (change !== undefined) tellTopologyListeners(this.listeners, change)
  }

  private snapshot(): void {
    const slots = this.cluster.slots
    this.seen = slotMapOf(slots.length, (slot) => slots[slot]?.[0])
  }

  private schedule(): void {
    if (this.closed) return
    const delay = this.pace.delay()
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
