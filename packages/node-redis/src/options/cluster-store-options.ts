import type { RedisClusterOptions, RedisClusterType } from '@redis/client'
import {
  DEFAULT_CLUSTER_BUS_MODE,
  existingClientSchema,
  type ResolvedStoreOptions,
  readingStoreFields,
  resolveStoreOptions,
  type StoreBusOptions,
  type StoreReadOptions,
} from '@tiercache/redis-common'
import { z } from 'zod'
import { authSchema, type NodeRedisAuthOptions, nodeAddressSchema, parseNodeAddress } from './connection-options.js'

/** A cluster seed node: `host:port` or `{ host, port }`. */
export type NodeRedisClusterNode = string | { host: string; port: number }

/**
 * A cluster store that connects by itself to the seed `nodes` (list several: one per shard), with
 * the defaults of `DEFAULT_NODE_REDIS_CLIENT_OPTIONS` on every node connection. `clusterOptions`
 * passes anything else to node-redis' `createCluster` (`nodeAddressMap`, `maxCommandRedirections`,
 * `defaults.socket.connectTimeout`, ...); `rootNodes` and `useReplicas` come from `nodes` and `readFrom`.
 */
export interface NodeRedisClusterStoreNodesOptions extends StoreBusOptions, StoreReadOptions, NodeRedisAuthOptions {
  nodes: readonly NodeRedisClusterNode[]
  clusterOptions?: Omit<RedisClusterOptions, 'rootNodes' | 'useReplicas'> | undefined
}

/**
 * A cluster store on a node-redis cluster client the application already has (connected or
 * not; the store connects it if it is not open). `close()` leaves it open.
 */
export interface NodeRedisClusterStoreClientOptions extends StoreBusOptions {
  client: RedisClusterType
}

/** Options of `nodeRedisClusterStore`. */
export type NodeRedisClusterStoreOptions = NodeRedisClusterStoreNodesOptions | NodeRedisClusterStoreClientOptions

/** The cluster store's options after parsing and defaulting. */
export type ResolvedNodeRedisClusterOptions = ResolvedStoreOptions<
  RedisClusterType,
  {
    kind: 'connect'
    nodes: { host: string; port: number }[]
    auth: NodeRedisAuthOptions
    clusterOptions: Omit<RedisClusterOptions, 'rootNodes' | 'useReplicas'>
  }
>

const nodesSchema = z.strictObject({
  nodes: z.array(nodeAddressSchema).min(1, { error: 'give at least one seed node, e.g. ["10.0.0.1:6379"]' }),
  ...authSchema,
  ...readingStoreFields,
  clusterOptions: z
    .looseObject({
      rootNodes: z.never({ error: 'give the seed nodes as nodes' }).optional(),
      useReplicas: z.never({ error: 'set readFrom instead' }).optional(),
    })
    .optional(),
})

const clientSchema = existingClientSchema<RedisClusterType>(isCluster, 'expected a node-redis cluster client (createCluster)')

/** Parses and defaults `nodeRedisClusterStore` options; throws `INVALID_CONFIG` naming the bad field. */
export function resolveNodeRedisClusterOptions(input: unknown): ResolvedNodeRedisClusterOptions {
  return resolveStoreOptions(input, {
    what: 'nodeRedisClusterStore',
    defaultBus: DEFAULT_CLUSTER_BUS_MODE,
    clientSchema,
    connectSchema: nodesSchema,
    connection: ({ nodes, username, password, tls, clusterOptions }) => ({
      kind: 'connect' as const,
      nodes: nodes.map(parseNodeAddress),
      auth: { username, password, tls },
      clusterOptions: (clusterOptions ?? {}) as Omit<RedisClusterOptions, 'rootNodes' | 'useReplicas'>,
    }),
  })
}

function isCluster(value: unknown): value is RedisClusterType {
  return (
    typeof value === 'object' &&
    value !== null &&
    '_slots' in value &&
    typeof (value as { sendCommand?: unknown }).sendCommand === 'function'
  )
}
