import type { ReadFrom } from '@tiercache/redis-common'
import { type Cluster, Command, type Redis } from 'ioredis'

/**
 * Where the store's reads go (`readFrom`). Only `GET` and `MGET` are routed: writes, locks,
 * leases, scripts and the bus always use the primary connection.
 */
export interface ReadRouting {
  /** `GET` of an ordinary read. */
  get(key: string): Promise<string | null>
  /** `MGET` of keys on one slot. */
  mget(keys: string[]): Promise<(string | null)[]>
  /** `GET` of a hot key (`RemoteStore.getHot`). */
  getHot(key: string): Promise<string | null>
  /**
   * True when copies of a hot key help on a single-shard deployment: their reads go to replica
   * nodes, so `spreadKeys` hands out a copy even where there is only one master.
   */
  readonly hotCopiesOnOneShard: boolean
  /** Closes the connections the routing owns (a Sentinel replica connection); never the primary's. */
  close(): Promise<void>
}

/** Every read on the client the store has: the primary (or the client's own `scaleReads`). */
export function primaryReads(client: Redis | Cluster): ReadRouting {
  return {
    get: (key) => client.get(key),
    mget: (keys) => client.mget(keys),
    getHot: (key) => client.get(key),
    hotCopiesOnOneShard: false,
    close: async () => {},
  }
}

/**
 * Read routing of a cluster the store creates. `scaleReads` goes into the cluster's options; ioredis
 * calls it for read-only commands only, with the slot's master first and its replicas after.
 *
 * - `'replicas'`: every read picks a live replica of its slot (the master when it has none).
 * - `'replicas-for-hot-keys'`: only hot-key reads do; they are sent as `Command`s the router
 *   recognises, so ordinary reads and auto-pipelining stay as they are.
 *
 * A replica whose connection is down is skipped, so a dead replica still in the slot map costs
 * no failed reads while ioredis refreshes the map.
 */
export function clusterReadRouting(readFrom: ReadFrom): {
  scaleReads: ((nodes: Redis[], command: Command) => Redis | undefined) | undefined
  bind(cluster: Cluster): ReadRouting
} {
  if (readFrom === 'primary') return { scaleReads: undefined, bind: primaryReads }
  if (readFrom === 'replicas') return { scaleReads: (nodes) => liveReplica(nodes) ?? nodes[0], bind: primaryReads }
  const hot = new WeakSet<Command>()
  return {
    scaleReads: (nodes, command) => (hot.has(command) ? (liveReplica(nodes) ?? nodes[0]) : nodes[0]),
    bind: (cluster) => ({
      ...primaryReads(cluster),
      getHot(key) {
        const command = new Command('get', [key], { replyEncoding: 'utf8' })
        hot.add(command)
        cluster.sendCommand(command)
        return command.promise as Promise<string | null>
      },
    }),
  }
}

/**
 * Read routing on Redis Sentinel: `replica` is a connection the Sentinels pointed at one replica
 * (ioredis `role: 'slave'`; each instance of a fleet picks one at random, which spreads the
 * fleet's reads). While it is not connected, reads go to the primary instead of failing.
 */
export function sentinelReadRouting(primary: Redis, replica: Redis, readFrom: Exclude<ReadFrom, 'primary'>): ReadRouting {
  const onReplica = (): Redis => (replica.status === 'ready' ? replica : primary)
  const ordinary = readFrom === 'replicas' ? onReplica : () => primary
  return {
    get: (key) => ordinary().get(key),
    mget: (keys) => ordinary().mget(keys),
    getHot: (key) => onReplica().get(key),
    hotCopiesOnOneShard: readFrom === 'replicas-for-hot-keys',
    async close() {
      try {
        await replica.quit()
      } catch {
        replica.disconnect()
      }
    },
  }
}

const LIVE = new Set(['wait', 'connecting', 'connect', 'ready'])

/** A replica of the slot picked at random among those whose connection is not down; `undefined` if none. */
function liveReplica(nodes: Redis[]): Redis | undefined {
  const live = nodes.slice(1).filter((node) => LIVE.has(node.status))
  return live[Math.floor(Math.random() * live.length)]
}
