import type { RemoteStore, TopologyChange } from '@tiercache/core'
import { CLUSTER_SLOTS, keySlot } from './key-slot.js'
import type { RedisCluster } from './redis-cluster.js'

// How often the slot owners are read while someone listens (ms): a promotion is seen within this.
const POLL_MS = 200

/**
 * A cluster store with the shard contract added from outside, for engine tests and benchmarks
 * that need shards from a store that does not name them (`RemoteStore.shardOf` is optional): a
 * store that has `shardOf` is returned as it is. Otherwise `shardOf` is the `host:port` of the master owning the key's
 * slot in the cluster's live `CLUSTER NODES`, and `onTopologyChange` reports every slot whose
 * owner changed, polled every 200 ms. A slot whose master is failing keeps its last owner until
 * another master takes it, as a client's slot map does.
 */
export async function withShards(store: RemoteStore, cluster: RedisCluster): Promise<RemoteStore> {
  if (store.shardOf !== undefined) return store
  let owners = new Array<string>(CLUSTER_SLOTS).fill('unknown')
  const listeners = new Set<(change: TopologyChange) => void>()
  const read = async (): Promise<string[]> => {
    const next = [...owners]
    for (const master of await cluster.masters()) {
      for (const [first, last] of master.slots) for (let slot = first; slot <= last; slot++) next[slot] = `${master.host}:${master.port}`
    }
    return next
  }
  owners = await read()
  let polling = false
  const timer = setInterval(async () => {
    if (polling || listeners.size === 0) return
    polling = true
    try {
      const next = await read()
      const shards = new Set<string>()
      next.forEach((owner, slot) => {
        const was = owners[slot] as string
        if (owner !== was) shards.add(owner).add(was)
      })
      owners = next
      if (shards.size > 0) for (const listener of listeners) listener({ shards: [...shards], reason: 'failover' })
    } catch {
      // A node that does not answer now is asked again at the next poll.
    } finally {
      polling = false
    }
  }, POLL_MS)
  timer.unref()
  const delegate = Object.fromEntries(
    DELEGATED.flatMap((name) => {
      const method = store[name] as ((...args: unknown[]) => unknown) | undefined
      return method === undefined ? [] : [[name, method.bind(store)]]
    }),
  ) as unknown as RemoteStore
  return Object.assign(delegate, {
    name: store.name,
    shardOf: (key: string) => owners[keySlot(key)] as string,
    onTopologyChange: (listener: (change: TopologyChange) => void) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    close: () => {
      clearInterval(timer)
      return store.close()
    },
  })
}

const DELEGATED = [
  'get',
  'getHot',
  'getMany',
  'set',
  'delete',
  'deleteDurably',
  'acquireLock',
  'setIfLeaseHeld',
  'releaseLock',
  'getTagStamps',
  'stampTags',
  'spreadKeys',
  'setReplica',
  'tombstone',
  'publish',
  'subscribe',
  'deleteByPrefix',
  'ready',
] as const satisfies readonly (keyof RemoteStore)[]
