import {
  type BusMode,
  connectStoreFields,
  DEFAULT_BUS_MODE,
  existingClientSchema,
  type ResolvedStoreOptions,
  resolveStoreOptions,
  type StoreBusOptions,
  type StoreConnectionOptions,
  standaloneAddressFields,
} from '@tiercache/redis-common'
import { Redis, type RedisOptions } from 'ioredis'
import { z } from 'zod'

/**
 * A standalone store that connects by itself, to `host`/`port` (or `path`), or to the primary
 * that `sentinels` name for `name` (Redis Sentinel; the store follows failovers): every ioredis
 * `RedisOptions` field passes through (`sentinelPassword`, `sentinelTLS`, `natMap`, ...), with
 * the defaults of {@link DEFAULT_STANDALONE_STORE_OPTIONS} where a field is left out.
 * `keyPrefix` is refused (see the cache `namespace`), and so is `role: 'slave'` (writes go to
 * the primary; use `readFrom` to read from replicas). `readFrom` other than `'primary'` needs
 * `sentinels`: they are how the store finds a replica.
 */
export interface RedisStoreHostOptions extends Omit<RedisOptions, 'keyPrefix' | 'role'>, StoreConnectionOptions {
  url?: undefined
}

/**
 * A standalone store that connects to a `redis://` or `rediss://` URL (user, password and
 * database may ride in it); other ioredis `RedisOptions` fields pass through as with
 * {@link RedisStoreHostOptions}, minus `host` and `port`, which the URL gives.
 */
export interface RedisStoreUrlOptions extends Omit<RedisOptions, 'keyPrefix' | 'host' | 'port' | 'role'>, StoreConnectionOptions {
  /** e.g. `redis://user:secret@cache.internal:6379/0`; `rediss://` turns TLS on. */
  url: string
}

/**
 * A standalone store on an ioredis `Redis` client the application already has. The store
 * shares the connection and leaves it open on `close()`; it only adds its Lua scripts (as
 * `tiercache*` commands) to it.
 */
export interface RedisStoreClientOptions extends StoreBusOptions {
  /** The existing ioredis client; it must not use `keyPrefix`. */
  client: Redis
}

/** Options of `redisStore`: host/port (plus ioredis options), a URL, or an existing client. */
export type RedisStoreOptions = RedisStoreHostOptions | RedisStoreUrlOptions | RedisStoreClientOptions

/**
 * Defaults chosen for a cache, applied where the user leaves a field out.
 *
 * - `enableAutoPipelining: true`: commands issued in the same tick travel in one write.
 * - `enableOfflineQueue: false`: while the connection is down, a command fails at once instead
 *   of waiting in ioredis' queue, and a command the caller has given up on is never replayed
 *   when Redis returns. The store itself waits for the client's first connection attempt, so
 *   commands sent right after creation do not fail while the client is still connecting.
 * - `maxRetriesPerRequest: 1`: a command in flight when the connection drops is retried after
 *   one reconnection attempt, then rejected; ioredis' default (20) holds it for seconds.
 * - `connectionName: 'tiercache'`: operators can tell the store's connections apart in
 *   `CLIENT LIST`.
 */
export const DEFAULT_STANDALONE_STORE_OPTIONS = {
  bus: DEFAULT_BUS_MODE,
  enableAutoPipelining: true,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  connectionName: 'tiercache',
} as const satisfies RedisOptions & { bus: BusMode }

/** The standalone store's options after parsing and defaulting. */
export type ResolvedStandaloneStoreOptions = ResolvedStoreOptions<
  Redis,
  { kind: 'connect'; url: string | undefined; redisOptions: RedisOptions }
>

const sentinelSchema = z.looseObject({
  host: z.string().min(1).optional(),
  port: z.int().min(1).max(65535).optional(),
})

const connectOptionsSchema = z
  .looseObject({
    ...connectStoreFields,
    ...standaloneAddressFields,
    sentinels: z.array(sentinelSchema).min(1, { error: 'give at least one Sentinel' }).optional(),
    name: z.string().min(1).optional(),
    role: z.literal('master', { error: 'the store writes to the primary; to read from replicas set readFrom instead of role' }).optional(),
    username: z.string().optional(),
    password: z.string().optional(),
    tls: z.looseObject({}).optional(),
    db: z.int().min(0).optional(),
    maxRetriesPerRequest: z.int().min(0).nullable().optional(),
    enableAutoPipelining: z.boolean().optional(),
    enableOfflineQueue: z.boolean().optional(),
    commandTimeout: z.int().positive().optional(),
    connectTimeout: z.int().positive().optional(),
    lazyConnect: z.boolean().optional(),
  })
  .refine((options) => options.url === undefined || (options.host === undefined && options.port === undefined), {
    error: 'give either url or host/port, not both',
    path: ['url'],
  })
  .refine((options) => options.sentinels === undefined || options.name !== undefined, {
    error: 'give the name the Sentinels monitor the primary under (e.g. name: "mymaster")',
    path: ['name'],
  })
  .refine((options) => options.readFrom === undefined || options.readFrom === 'primary' || options.sentinels !== undefined, {
    error: 'reading from replicas needs sentinels (the store finds replicas through them) or a cluster (redisClusterStore)',
    path: ['readFrom'],
  })

const clientOptionsSchema = existingClientSchema(
  isStandaloneRedis,
  'expected an ioredis Redis client (for a cluster use redisClusterStore)',
)

/**
 * Parses and defaults `redisStore` options. Throws `TierCacheError` `INVALID_CONFIG` naming the
 * bad field.
 */
export function resolveStandaloneStoreOptions(input: unknown): ResolvedStandaloneStoreOptions {
  const { bus: _defaultBus, ...defaults } = DEFAULT_STANDALONE_STORE_OPTIONS
  return resolveStoreOptions(input, {
    what: 'redisStore',
    defaultBus: DEFAULT_STANDALONE_STORE_OPTIONS.bus,
    clientSchema: clientOptionsSchema,
    clientHasKeyPrefix: (client) => Boolean(client.options.keyPrefix),
    connectSchema: connectOptionsSchema,
    connection: ({ url, ...rest }, commandTimeout) => ({
      kind: 'connect' as const,
      url,
      redisOptions: { ...defaults, ...(rest as RedisOptions), ...commandTimeout },
    }),
  })
}

function isStandaloneRedis(value: unknown): value is Redis {
  if (value instanceof Redis) return true
  // A second copy of ioredis defeats instanceof; fall back to its shape, minus the cluster flag.
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { isCluster?: unknown }).isCluster !== true &&
    typeof (value as { duplicate?: unknown }).duplicate === 'function' &&
    typeof (value as { sendCommand?: unknown }).sendCommand === 'function'
  )
}
