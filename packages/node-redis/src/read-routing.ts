import type { RedisClusterType, RedisSentinelType } from '@redis/client'
import { keySlot, type ReadFrom } from '@tiercache/redis-common'
import type { DataCommands } from './connection/client-handle.js'

/**
 * Where the store's reads go (`readFrom`). Only `GET` and `MGET` are routed: writes, locks,
 * leases, scripts and the bus always use the primary.
 */
export interface ReadRouting {
  get(key: string): Promise<string | null>
  /** `MGET` of keys on one slot. */
  mget(keys: string[]): Promise<(string | null)[]>
  /** `GET` of a hot key (`RemoteStore.getHot`). */
  getHot(key: string): Promise<string | null>
  /** Copies of a hot key help on one shard: their reads go to replica nodes. */
  readonly hotCopiesOnOneShard: boolean
}

/** Every read on the primary (the default, and a passed-in client's own routing). */
export function primaryReads(commands: DataCommands): ReadRouting {
  return {
    get: (key) => commands.get(key),
    mget: (keys) => commands.mGet(keys),
    getHot: (key) => commands.get(key),
    hotCopiesOnOneShard: false,
  }
}

/**
 * Read routing of a cluster the store creates with `useReplicas: true` (node-redis then connects
 * to the replicas too, in `READONLY` mode). A replica read picks a connected replica of the key's
 * slot at random, and the master when none is connected; a primary read names the master
 * explicitly, since with `useReplicas` node-redis would spread read-only commands itself.
 */
export function clusterReads(cluster: RedisClusterType, readFrom: ReadFrom): ReadRouting {
  if (readFrom === 'primary') return primaryReads(cluster as unknown as DataCommands)
  const onPrimary = (key: string, args: string[]) => cluster.sendCommand<string | null>(key, false, args)
  const onReplica = <T>(key: string, args: string[]): Promise<T> => {
    const replicas = cluster.slots[keySlot(key)]?.replicas?.filter((replica) => replica.client?.isReady === true) ?? []
    const replica = replicas[Math.floor(Math.random() * replicas.length)]
    if (replica?.client === undefined) return cluster.sendCommand<T>(key, false, args)
    return replica.client.sendCommand<T>(args)
  }
  if (readFrom === 'replicas') {
    return {
      get: (key) => onReplica(key, ['GET', key]),
      mget: (keys) => onReplica(keys[0] as string, ['MGET', ...keys]),
      getHot: (key) => onReplica(key, ['GET', key]),
      hotCopiesOnOneShard: false,
    }
  }
  return {
    get: (key) => onPrimary(key, ['GET', key]),
    mget: (keys) => cluster.sendCommand<(string | null)[]>(keys[0], false, ['MGET', ...keys]),
    getHot: (key) => onReplica(key, ['GET', key]),
    hotCopiesOnOneShard: false,
  }
}

/**
 * Read routing through Sentinel with a replica pool (`replicaPoolSize: 1`): node-redis sends
 * read-only commands to a replica the Sentinels name (the primary when there is none).
 */
export function sentinelReads(sentinel: RedisSentinelType, readFrom: Exclude<ReadFrom, 'primary'>): ReadRouting {
  const replicaGet = (key: string) => sentinel.get(key) as Promise<string | null>
  if (readFrom === 'replicas') {
    return {
      get: replicaGet,
      mget: (keys) => sentinel.mGet(keys) as Promise<(string | null)[]>,
      getHot: replicaGet,
      hotCopiesOnOneShard: false,
    }
  }
  return {
    get: (key) => sentinel.sendCommand<string | null>(false, ['GET', key]),
    mget: (keys) => sentinel.sendCommand<(string | null)[]>(false, ['MGET', ...keys]),
    getHot: replicaGet,
    hotCopiesOnOneShard: true,
  }
}
