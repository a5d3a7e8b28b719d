import type { RemoteStore, TopologyChange } from '@tiercache/core'
import { afterEach, expect } from 'vitest'
import type { SlotRange } from './cluster-topology.js'
import { busRecorder } from './helpers/bus-recorder.js'
import { eventually } from './helpers/eventually.js'
import { keySlot } from './key-slot.js'
import type { RedisCluster } from './redis-cluster.js'

/**
 * The first `{<prefix><n>}:v` whose hash slot lies in `range` (both ends included): a key a test
 * can place on a chosen slot, and so on the master that owns it.
 */
export function keyInSlots(range: SlotRange, prefix = 'k'): string {
  for (let n = 0; ; n++) {
    const key = `{${prefix}${n}}:v`
    const slot = keySlot(key)
    if (slot >= range[0] && slot <= range[1]) return key
  }
}

/** Every topology change `store` reports from now on, in order (the array fills as they come). */
export function topologyChanges(store: { onTopologyChange(listener: (change: TopologyChange) => void): unknown }): TopologyChange[] {
  const seen: TopologyChange[] = []
  store.onTopologyChange((change) => seen.push(change))
  return seen
}

/** The stores a test file opened and the cluster changes it must undo: see {@link openedStores}. */
export interface OpenedStores<S> {
  /** Opens a store with the file's factory and registers it to be closed after the test. */
  open(): S
  /** Registers `store` to be closed after the test; returns it. */
  track<T extends S>(store: T): T
  /** Undo steps (a slot moved back, …), run last-in first-out after the test, before the stores close. */
  readonly restore: (() => Promise<unknown>)[]
  /** Runs the undo steps, then closes every tracked store (registered with `afterEach`). */
  cleanUp(): Promise<void>
}

/**
 * A list of stores to close and cluster changes to undo after each test of the calling file (it
 * registers its own `afterEach`); `factory` opens the file's usual store.
 */
export function openedStores<S extends { close(): Promise<unknown> }>(factory: () => S): OpenedStores<S> {
  const stores: S[] = []
  const restore: (() => Promise<unknown>)[] = []
  afterEach(() => opened.cleanUp())
  const track = <T extends S>(store: T): T => {
    stores.push(store)
    return store
  }
  const opened: OpenedStores<S> = {
    open: () => track(factory()),
    track,
    restore,
    cleanUp: async () => {
      while (restore.length > 0) await restore.pop()?.()
      await Promise.all(stores.splice(0).map((s) => s.close()))
    },
  }
  return opened
}

/** Writes `key` through `store` and expects its shard to be the `host:port` of the master that owns its slot. */
export async function expectShardIsItsMaster(cluster: RedisCluster, store: RemoteStore, key: string): Promise<void> {
  await store.set(key, 'v', 60_000)
  const master = await cluster.masterForKey(key)
  expect(store.shardOf?.(key)).toBe(`${master.host}:${master.port}`)
}

/**
 * Moves `slot` from its master to another master of `cluster`, and pushes the move back onto
 * `restore` (see {@link OpenedStores.restore}). Resolves with the ports of both masters.
 */
export async function moveSlotElsewhere(
  cluster: RedisCluster,
  slot: number,
  restore: (() => Promise<unknown>)[],
): Promise<{ source: number; target: number }> {
  const source = (await cluster.masterForSlot(slot)).port
  const target = (await cluster.masters()).find((m) => m.port !== source)?.port as number
  restore.push(() => cluster.moveSlots([[slot, slot]], source))
  await cluster.moveSlots([[slot, slot]], target)
  return { source, target }
}

/**
 * Subscribes `store` (a cluster store with the sharded bus) to a channel on `slot`, moves that
 * slot to another master, and expects the subscription to hear one disconnect caused by the move,
 * to be back once, and to receive what is published after the move.
 */
export async function expectBusFollowsMovedSlot(
  cluster: RedisCluster,
  store: Pick<RemoteStore, 'subscribe' | 'publish'>,
  slot: number,
  restore: (() => Promise<unknown>)[],
): Promise<void> {
  const channel = keyInSlots([slot, slot], 'bus-moves')
  const { heard, handlers } = busRecorder()
  await store.subscribe(channel, handlers)
  await store.publish(channel, 'before')
  await eventually(() => heard.messages.length === 1)
  await moveSlotElsewhere(cluster, slot, restore)
  await eventually(() => heard.reconnects === 1)
  await store.publish(channel, 'after')
  await eventually(() => heard.messages.length === 2)
  expect(heard).toEqual({ messages: ['before', 'after'], disconnects: 1, causes: ['moved'], reconnects: 1 })
}
