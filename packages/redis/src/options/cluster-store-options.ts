import {
  type BusMode,
  connectStoreFields,
  DEFAULT_CLUSTER_BUS_MODE,
  existingClientSchema,
  functionSchema,
  noKeyPrefixSchema,
  type ResolvedStoreOptions,
  resolveStoreOptions,
  type StoreBusOptions,
  type StoreConnectionOptions,
} from '@tiercache/redis-common'
import { Cluster, type ClusterNode, type ClusterOptions } from 'ioredis'
import { z } from 'zod'

/** A seed node of the cluster: `'host:port'` or `{ host, port }`. */
export type ClusterNodeAddress = string | { host: string; port: number }

/** ioredis `redisOptions` (per-node connection options: `tls`, `username`, `password`, ...). */
export type ClusterNodeRedisOptions = Omit<NonNullable<ClusterOptions['redisOptions']>, 'keyPrefix'>

/**
 * A cluster store that connects by itself. Every ioredis `ClusterOptions` field passes through
 * (`redisOptions` with `tls`, `username`, `password`, `natMap`, `dnsLookup`, ...), with the
 * defaults of {@link DEFAULT_CLUSTER_STORE_OPTIONS} where a field is left out. Not accepted:
 * `keyPrefix` (see the cache `namespace`) and `shardedSubscribers` (the store runs its own bus
 * subscriber; choose `bus: 'spublish'` instead).
 */
export interface RedisClusterStoreNodesOptions
  extends Omit<ClusterOptions, 'keyPrefix' | 'redisOptions' | 'shardedSubscribers'>,
    StoreConnectionOptions {
  /**
   * Seed nodes; one reachable node is enough to discover the rest of the topology, but give
   * several: a single seed that is down when the service starts leaves the store without a
   * cluster (the start-up check warns about it).
   */
  nodes: readonly ClusterNodeAddress[]
  /** Options of each node connection, merged over `DEFAULT_CLUSTER_STORE_OPTIONS.redisOptions`. */
  redisOptions?: ClusterNodeRedisOptions | undefined
}

/**
 * A cluster store on an ioredis `Cluster` the application already has. The store shares its
 * connections and leaves it open on `close()`. Its options are the client's own; the store
 * only adds its Lua scripts (as `tiercache*` commands) to it.
 */
export interface RedisClusterStoreClientOptions extends StoreBusOptions {
  /** The existing ioredis Cluster; it must not use `keyPrefix`. */
  client: Cluster
}

/** Options of `redisClusterStore`: seed nodes (plus ioredis options), or an existing client. */
export type RedisClusterStoreOptions = RedisClusterStoreNodesOptions | RedisClusterStoreClientOptions

/**
 * Defaults chosen for a cache, applied where the user leaves a field out.
 *
 * - `enableAutoPipelining: true`: commands issued in the same tick for one node travel in one
 *   write, so a batch across slots costs about one round trip per node.
 * - `scaleReads: 'master'`: a replica may lag, and a lagging read of a value the core just
 *   invalidated would break the invalidation promise.
 * - `enableOfflineQueue: false`: while the cluster is down, a command fails at once instead of
 *   waiting in ioredis' queue for as long as the outage lasts. With the queue on, a command the
 *   caller has long given up on (the core's timeout) still runs when Redis comes back: measured
 *   on a killed and restarted cluster, 4 of 5 abandoned `INCR`s were applied after recovery.
 *   The store itself waits for the client's first connection attempt, so commands sent right
 *   after creation do not fail while the client is still connecting.
 * - `redisOptions.maxRetriesPerRequest: 1`: a command caught by a dropped connection is retried
 *   once, then rejected; a cache prefers a fast miss to a long wait.
 * - `redisOptions.connectionName: 'tiercache'`: operators can tell the store's connections apart
 *   in `CLIENT LIST`.
 */
export const DEFAULT_CLUSTER_STORE_OPTIONS = {
  bus: DEFAULT_CLUSTER_BUS_MODE,
  enableAutoPipelining: true,
  scaleReads: 'master',
  enableOfflineQueue: false,
  redisOptions: {
    maxRetriesPerRequest: 1,
    connectionName: 'tiercache',
  },
} as const satisfies ClusterOptions & { bus: BusMode }

/** The cluster store's options after parsing and defaulting. */
export type ResolvedClusterStoreOptions = ResolvedStoreOptions<
  Cluster,
  { kind: 'nodes'; nodes: ClusterNode[]; clusterOptions: ClusterOptions }
>

const nodeSchema = z.union([z.string().min(1), z.strictObject({ host: z.string().min(1), port: z.int().min(1).max(65535) })], {
  error: 'expected "host:port" or { host, port } with a port in 1..65535',
})

const redisOptionsSchema = z.looseObject({
  keyPrefix: noKeyPrefixSchema,
  username: z.string().optional(),
  password: z.string().optional(),
  tls: z.looseObject({}).optional(),
  maxRetriesPerRequest: z.int().min(0).nullable().optional(),
  commandTimeout: z.int().positive().optional(),
  connectTimeout: z.int().positive().optional(),
  connectionName: z.string().optional(),
})

const nodesOptionsSchema = z
  .looseObject({
    ...connectStoreFields,
    nodes: z.array(nodeSchema).min(1, { error: 'give at least one seed node' }),
    shardedSubscribers: z.never({ error: "shardedSubscribers is managed by the store's bus; set bus: 'spublish' instead" }).optional(),
    redisOptions: redisOptionsSchema.optional(),
    enableAutoPipelining: z.boolean().optional(),
    enableOfflineQueue: z.boolean().optional(),
    scaleReads: z.union([z.enum(['master', 'slave', 'all']), functionSchema]).optional(),
    maxRedirections: z.int().min(0).optional(),
    slotsRefreshTimeout: z.int().positive().optional(),
    slotsRefreshInterval: z.int().positive().optional(),
    lazyConnect: z.boolean().optional(),
  })
  .refine((options) => options.readFrom === undefined || options.scaleReads === undefined, {
    error: 'give readFrom or scaleReads, not both (readFrom sets scaleReads)',
    path: ['readFrom'],
  })

const clientOptionsSchema = existingClientSchema(isCluster, 'expected an ioredis Cluster (for a standalone Redis use redisStore)')

/**
 * Parses and defaults `redisClusterStore` options. Throws `TierCacheError` `INVALID_CONFIG`
 * naming the bad field.
 */
export function resolveClusterStoreOptions(input: unknown): ResolvedClusterStoreOptions {
  const { bus: _defaultBus, ...defaults } = DEFAULT_CLUSTER_STORE_OPTIONS
  return resolveStoreOptions(input, {
    what: 'redisClusterStore',
    defaultBus: DEFAULT_CLUSTER_STORE_OPTIONS.bus,
    clientSchema: clientOptionsSchema,
    clientHasKeyPrefix: (client) => Boolean(client.options.keyPrefix || client.options.redisOptions?.keyPrefix),
    connectSchema: nodesOptionsSchema,
    connection: ({ nodes, redisOptions, ...rest }, commandTimeout) => ({
      kind: 'nodes' as const,
      nodes: nodes.map((node): ClusterNode => (typeof node === 'string' ? node : { host: node.host, port: node.port })),
      clusterOptions: {
        ...defaults,
        ...(rest as ClusterOptions),
        redisOptions: {
          ...DEFAULT_CLUSTER_STORE_OPTIONS.redisOptions,
          ...(redisOptions as ClusterNodeRedisOptions | undefined),
          ...commandTimeout,
        },
      },
    }),
  })
}

function isCluster(value: unknown): value is Cluster {
  if (value instanceof Cluster) return true
  // A second copy of ioredis in node_modules defeats instanceof; its Cluster still says so.
  return typeof value === 'object' && value !== null && (value as { isCluster?: unknown }).isCluster === true
}
