import type { RedisClientOptions, RedisClientType, RedisSentinelType } from '@redis/client'
import {
  DEFAULT_BUS_MODE,
  existingClientSchema,
  type ResolvedStoreOptions,
  readingStoreFields,
  resolveStoreOptions,
  type StoreBusOptions,
  type StoreReadOptions,
  standaloneAddressFields,
} from '@tiercache/redis-common'
import { z } from 'zod'
import { authSchema, type NodeRedisAuthOptions, nodeAddressSchema, parseNodeAddress } from './connection-options.js'

/** What every standalone store that connects by itself accepts. */
interface NodeRedisStoreConnectOptions extends StoreBusOptions, NodeRedisAuthOptions {
  /** Database number (`SELECT`). Default 0. */
  database?: number | undefined
  /** Anything else for node-redis' `createClient` (`socket.connectTimeout`, `RESP`, ...). */
  clientOptions?: Omit<RedisClientOptions, 'url'> | undefined
}

/** A standalone Redis at a `redis://` or `rediss://` URL (user, password and database may ride in it). */
export interface NodeRedisStoreUrlOptions extends NodeRedisStoreConnectOptions {
  url: string
}

/** A standalone Redis at `host`/`port`. */
export interface NodeRedisStoreHostOptions extends NodeRedisStoreConnectOptions {
  host: string
  /** Default 6379. */
  port?: number | undefined
}

/**
 * The primary of a Redis Sentinel deployment: the store asks the Sentinels for it and follows
 * failovers. `readFrom` other than `'primary'` reads from a replica the Sentinels name.
 */
export interface NodeRedisStoreSentinelOptions extends NodeRedisStoreConnectOptions, StoreReadOptions {
  sentinel: {
    /** The name the Sentinels monitor the primary under, e.g. `mymaster`. */
    name: string
    /** Every Sentinel, `host:port` or `{ host, port }`. */
    sentinels: readonly (string | { host: string; port: number })[]
    /** Password of the Sentinels, when they have one of their own. */
    password?: string | undefined
  }
}

/** A standalone or Sentinel node-redis client the application already has; `close()` leaves it open. */
export interface NodeRedisStoreClientOptions extends StoreBusOptions {
  client: RedisClientType | RedisSentinelType
}

/** Options of `nodeRedisStore`: a URL, host/port, Sentinels, or an existing client. */
export type NodeRedisStoreOptions =
  | NodeRedisStoreUrlOptions
  | NodeRedisStoreHostOptions
  | NodeRedisStoreSentinelOptions
  | NodeRedisStoreClientOptions

/** The standalone store's options after parsing and defaulting. */
export type ResolvedNodeRedisStoreOptions = ResolvedStoreOptions<
  RedisClientType | RedisSentinelType,
  {
    kind: 'connect'
    auth: NodeRedisAuthOptions
    clientOptions: Record<string, unknown>
    sentinel: { name: string; sentinels: { host: string; port: number }[]; password: string | undefined } | undefined
  }
>

const connectSchema = z
  .strictObject({
    ...standaloneAddressFields,
    sentinel: z
      .strictObject({
        name: z.string().min(1, { error: 'give the name the Sentinels monitor the primary under (e.g. "mymaster")' }),
        sentinels: z.array(nodeAddressSchema).min(1, { error: 'give at least one Sentinel' }),
        password: z.string().optional(),
      })
      .optional(),
    database: z.int().min(0).optional(),
    clientOptions: z.looseObject({ url: z.never({ error: 'give the URL as url' }).optional() }).optional(),
    ...authSchema,
    ...readingStoreFields,
  })
  .refine((options) => [options.url, options.host, options.sentinel].filter((given) => given !== undefined).length === 1, {
    error: 'give exactly one of url, host (with port) or sentinel',
    path: ['url'],
  })
  .refine((options) => options.readFrom === undefined || options.readFrom === 'primary' || options.sentinel !== undefined, {
    error: 'reading from replicas needs sentinel (the store finds replicas through it) or a cluster (nodeRedisClusterStore)',
    path: ['readFrom'],
  })

const clientSchema = existingClientSchema<RedisClientType | RedisSentinelType>(
  isClient,
  'expected a node-redis client (createClient or createSentinel; for a cluster use nodeRedisClusterStore)',
)

/** Parses and defaults `nodeRedisStore` options; throws `INVALID_CONFIG` naming the bad field. */
export function resolveNodeRedisStoreOptions(input: unknown): ResolvedNodeRedisStoreOptions {
  return resolveStoreOptions(input, {
    what: 'nodeRedisStore',
    defaultBus: DEFAULT_BUS_MODE,
    clientSchema,
    connectSchema,
    connection: ({ url, host, port, database, sentinel, username, password, tls, clientOptions: given }) => {
      const clientOptions: Record<string, unknown> = { ...(given ?? {}) }
      if (url !== undefined) clientOptions.url = url
      if (host !== undefined) clientOptions.socket = { ...(clientOptions.socket ?? {}), host, port: port ?? 6379 }
      if (database !== undefined) clientOptions.database = database
      return {
        kind: 'connect' as const,
        auth: { username, password, tls },
        clientOptions,
        sentinel:
          sentinel === undefined
            ? undefined
            : { name: sentinel.name, sentinels: sentinel.sentinels.map(parseNodeAddress), password: sentinel.password },
      }
    },
  })
}

/** A client made by `createSentinel` (it names its primary; a plain client does not). */
export function isSentinelClient(client: RedisClientType | RedisSentinelType): client is RedisSentinelType {
  return 'getMasterNode' in client
}

function isClient(value: unknown): value is RedisClientType | RedisSentinelType {
  return (
    typeof value === 'object' &&
    value !== null &&
    !('_slots' in value) &&
    typeof (value as { sendCommand?: unknown }).sendCommand === 'function' &&
    typeof (value as { connect?: unknown }).connect === 'function'
  )
}
