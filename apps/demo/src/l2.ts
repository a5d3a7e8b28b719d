import type { RemoteStore } from '@tiercache/core'
import { redisClusterStore } from '@tiercache/redis'
import { keySlot, RedisCluster, redisCommand, requireRedisServer } from '@tiercache/testkit'

/** A master of the L2 cluster, as `host:port`. */
export type MasterAddress = string

/** Where the demo's L2 is, and how to watch it. */
export interface L2 {
  /** `cluster`: a shared Redis Cluster L2; `l1-only`: no Redis, each instance alone. */
  readonly mode: 'cluster' | 'l1-only'
  /** One line for the banner. */
  readonly description: string
  /** A new store for one service instance (each instance has its own connections); `undefined` in L1-only mode. */
  makeStore(): RemoteStore | undefined
  /** The masters and the slots they own, read from the cluster now. */
  refreshSlots(): Promise<void>
  /** The master that owns `key`'s slot, from the last {@link refreshSlots}. */
  masterOf(key: string): MasterAddress | undefined
  /** Commands processed by each master since it started (`INFO stats`). */
  masterCommands(): Promise<Map<MasterAddress, number>>
  /** Stops the cluster the demo started (nothing for one it was given). */
  stop(): Promise<void>
}

/** How to find the L2: a running cluster given by the caller (tests), seed nodes (`REDIS_NODES`), or start one. */
export interface L2Options {
  cluster?: RedisCluster
  redisNodes?: readonly string[]
  /** Prints progress while a cluster starts. */
  log?: (line: string) => void
}

/**
 * Connects the demo to its L2: the given cluster, the cluster at `redisNodes`, or a local Redis
 * Cluster (3 masters + 3 replicas) started with the testkit from `redis-server`. Without
 * `redis-server`, L1-only mode: each instance caches in its own memory, and the demo says so.
 */
export async function connectL2(options: L2Options): Promise<L2> {
  const log = options.log ?? (() => {})
  if (options.cluster !== undefined) {
    const cluster = options.cluster
    return clusterL2(
      cluster.seeds().map((seed) => `${seed.host}:${seed.port}`),
      'Redis Cluster (given)',
      async () => {},
    )
  }
  if (options.redisNodes !== undefined && options.redisNodes.length > 0) {
    return clusterL2([...options.redisNodes], `Redis Cluster at ${options.redisNodes.join(', ')}`, async () => {})
  }
  try {
    requireRedisServer()
  } catch {
    return l1Only()
  }
  log('Starting a local Redis Cluster (3 masters + 3 replicas) from redis-server...')
  const cluster = await RedisCluster.start()
  return clusterL2(
    cluster.seeds().map((seed) => `${seed.host}:${seed.port}`),
    'local Redis Cluster (3 masters + 3 replicas, started by the testkit)',
    () => cluster.stop(),
  )
}

function l1Only(): L2 {
  return {
    mode: 'l1-only',
    description: 'no redis-server found: L1-only, each instance caches alone (install redis-server for the shared L2)',
    makeStore: () => undefined,
    refreshSlots: async () => {},
    masterOf: () => undefined,
    masterCommands: async () => new Map(),
    stop: async () => {},
  }
}

function clusterL2(seeds: string[], description: string, stop: () => Promise<void>): L2 {
  const slotOwners: (MasterAddress | undefined)[] = new Array(16_384)
  let masters: MasterAddress[] = []
  const ask = (address: string, args: string[]) => {
    const [host, port] = splitAddress(address)
    return redisCommand(port, args, { host, timeoutMs: 1_000 })
  }
  return {
    mode: 'cluster',
    description,
    makeStore: () => redisClusterStore({ nodes: seeds }),
    async refreshSlots() {
      for (const seed of [...masters, ...seeds]) {
        try {
          const reply = await ask(seed, ['CLUSTER', 'SLOTS'])
          if (!Array.isArray(reply)) continue
          const found = new Set<MasterAddress>()
          for (const range of reply) {
            if (!Array.isArray(range)) continue
            const [start, end, owner] = range as [number, number, [string, number]]
            const address = `${owner[0]}:${owner[1]}`
            found.add(address)
            for (let slot = start; slot <= end; slot++) slotOwners[slot] = address
          }
          masters = [...found].sort()
          return
        } catch {
          // a dead seed: ask the next one
        }
      }
    },
    masterOf: (key) => slotOwners[keySlot(key)],
    async masterCommands() {
      const counts = new Map<MasterAddress, number>()
      await Promise.all(
        masters.map(async (address) => {
          try {
            const info = String(await ask(address, ['INFO', 'stats']))
            const match = /total_commands_processed:(\d+)/.exec(info)
            if (match) counts.set(address, Number(match[1]))
          } catch {
            // a master that does not answer has no figure this second
          }
        }),
      )
      return counts
    },
    stop,
  }
}

function splitAddress(address: string): [string, number] {
  const at = address.lastIndexOf(':')
  return [address.slice(0, at), Number(address.slice(at + 1))]
}

/**
 * Wraps a store to count the reads of keys that `matches` accepts, by the master that owns each
 * key: how the summary shows that a hot key's reads were spread over the masters. Everything else
 * passes through untouched.
 */
export function countReadsByMaster(store: RemoteStore, matches: (key: string) => boolean, onRead: (key: string) => void): RemoteStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver)
      if (typeof value !== 'function') return value
      if (property === 'get' || property === 'getHot') {
        return (key: string) => {
          if (matches(key)) onRead(key)
          return value.call(target, key)
        }
      }
      if (property === 'getMany') {
        return (keys: readonly string[]) => {
          for (const key of keys) if (matches(key)) onRead(key)
          return value.call(target, keys)
        }
      }
      return value.bind(target)
    },
  })
}
