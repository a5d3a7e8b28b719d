import type { Logger } from '@tiercache/core'
import { z } from 'zod'
import {
  type BusMode,
  busModeSchema,
  commandTimeoutSchema,
  DEFAULT_READ_FROM,
  DEFAULT_REPLICA_ACK_TIMEOUT_MS,
  loggerSchema,
  noKeyPrefixSchema,
  noReadFromWithClientSchema,
  type ReadFrom,
  readFromSchema,
  replicaAckTimeoutSchema,
} from './common-options.js'
import { invalidConfig, parseOptions } from './parse-options.js'

/** What every store resolves to besides its connection. */
export interface ResolvedStoreCommon {
  bus: BusMode
  /** `undefined` when none was given (the store then stays silent). */
  logger: Logger | undefined
  deploymentCheck: boolean
  /** How long a durable delete waits for a replica to acknowledge it (ms); 0 waits for none. */
  replicaAckTimeoutMs: number
}

/** The store's own fields, which every way of making a store accepts and none passes on to the client library. */
export const storeFields = {
  bus: busModeSchema.optional(),
  logger: loggerSchema.optional(),
  deploymentCheck: z.boolean().optional(),
  replicaAckTimeoutMs: replicaAckTimeoutSchema.optional(),
}

/** The store's own fields plus `readFrom`: what a store that makes its client accepts whatever its client library. */
export const readingStoreFields = {
  ...storeFields,
  readFrom: readFromSchema.optional(),
}

/** The store's own fields of an ioredis store that makes its client (besides the client's own options). */
export const connectStoreFields = {
  ...readingStoreFields,
  commandTimeoutMs: commandTimeoutSchema.optional(),
  keyPrefix: noKeyPrefixSchema,
}

/** The schema of the "existing client" form: the client, the store's own fields, and no `readFrom`. */
export function existingClientSchema<Client>(isClient: (value: unknown) => value is Client, error: string) {
  return z.strictObject({ client: z.custom<Client>(isClient, { error }), ...storeFields, readFrom: noReadFromWithClientSchema })
}

type StoreField = 'bus' | 'logger' | 'deploymentCheck' | 'replicaAckTimeoutMs' | 'readFrom' | 'commandTimeoutMs' | 'keyPrefix'

/**
 * A store's options after parsing and defaulting: an existing `Client`, or what the store needs to
 * make its client (`Connection`, tagged by its own `kind`), beside the store's own fields.
 */
export type ResolvedStoreOptions<Client, Connection> =
  | (ResolvedStoreCommon & { kind: 'client'; client: Client })
  | (ResolvedStoreCommon & { readFrom: ReadFrom } & Connection)

/** How one kind of store (cluster, standalone) differs; {@link resolveStoreOptions} does the rest. */
export interface StoreOptionsSpec<Client, Parsed extends { [K in StoreField]?: unknown }, Connection> {
  /** The factory's name, for error messages (`redisClusterStore`). */
  readonly what: string
  readonly defaultBus: BusMode
  readonly clientSchema: z.ZodType<{
    client: Client
    bus?: BusMode | undefined
    logger?: Logger | undefined
    deploymentCheck?: boolean | undefined
    replicaAckTimeoutMs?: number | undefined
  }>
  /** Whether a passed-in client prefixes keys (refused: see `noKeyPrefixSchema`); leave out for a client library without key prefixes (node-redis). */
  readonly clientHasKeyPrefix?: (client: Client) => boolean
  /** The schema of the form where the store makes its client; it spreads {@link connectStoreFields}. */
  readonly connectSchema: z.ZodType<Parsed>
  /**
   * The client's options from the parsed options once the store's own fields are taken out (they
   * are all optional, so the type stays `Parsed`), with `commandTimeoutMs` already turned into
   * ioredis' `commandTimeout` (or `{}`; always `{}` for a schema without `commandTimeoutMs`).
   */
  readonly connection: (rest: Parsed, commandTimeout: { commandTimeout?: number }) => Connection
}

/**
 * The one skeleton of the option resolvers of both store packages (ioredis and node-redis): picks the form (an existing client or options
 * to make one), parses it at the edge (`INVALID_CONFIG` naming the bad field), refuses a client
 * with `keyPrefix`, and defaults the store's own fields; `spec.connection` builds the client's
 * options.
 */
export function resolveStoreOptions<Client, Parsed extends { [K in StoreField]?: unknown }, Connection>(
  input: unknown,
  spec: StoreOptionsSpec<Client, Parsed, Connection>,
): ResolvedStoreOptions<Client, Connection> {
  if (typeof input === 'object' && input !== null && 'client' in input) {
    const parsed = parseOptions(spec.clientSchema, input, spec.what)
    if (spec.clientHasKeyPrefix?.(parsed.client)) {
      invalidConfig(spec.what, 'client: a client with keyPrefix is not supported; use the cache namespace instead')
    }
    return { kind: 'client', ...resolveStoreCommon(parsed, spec.defaultBus), client: parsed.client }
  }
  const parsed = parseOptions(spec.connectSchema, input, spec.what)
  const { bus, logger, deploymentCheck, replicaAckTimeoutMs, readFrom, commandTimeoutMs, keyPrefix: _refused, ...rest } = parsed
  return {
    ...resolveStoreCommon(
      { bus, logger, deploymentCheck, replicaAckTimeoutMs } as Parameters<typeof resolveStoreCommon>[0],
      spec.defaultBus,
    ),
    readFrom: (readFrom as ReadFrom | undefined) ?? DEFAULT_READ_FROM,
    ...spec.connection(rest as Parsed, commandTimeoutMs === undefined ? {} : { commandTimeout: commandTimeoutMs as number }),
  }
}

/** The store's own fields, defaulted; `defaultBus` differs between a cluster and a single primary. */
export function resolveStoreCommon(
  parsed: {
    bus?: BusMode | undefined
    logger?: Logger | undefined
    deploymentCheck?: boolean | undefined
    replicaAckTimeoutMs?: number | undefined
  },
  defaultBus: BusMode,
): ResolvedStoreCommon {
  return {
    bus: parsed.bus ?? defaultBus,
    logger: parsed.logger,
    deploymentCheck: parsed.deploymentCheck ?? true,
    replicaAckTimeoutMs: parsed.replicaAckTimeoutMs ?? DEFAULT_REPLICA_ACK_TIMEOUT_MS,
  }
}

/** The store's own fields of resolved options, without the connection's: what a store is built with beside its client. */
export function storeCommonOf(resolved: ResolvedStoreCommon): ResolvedStoreCommon {
  const { bus, logger, deploymentCheck, replicaAckTimeoutMs } = resolved
  return { bus, logger, deploymentCheck, replicaAckTimeoutMs }
}
