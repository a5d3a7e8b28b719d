import type { Logger } from '@tiercache/core'
import { z } from 'zod'

/**
 * How the invalidation bus rides Redis pub/sub.
 *
 * - `'publish'`: classic `PUBLISH`/`SUBSCRIBE`. In a cluster every message is broadcast to every
 *   node over the cluster bus, so the single subscriber connection may sit on any node.
 * - `'spublish'`: sharded `SPUBLISH`/`SSUBSCRIBE` (Redis >= 7). A message only travels to the
 *   shard that owns the channel's slot; the subscriber connects to that shard's master.
 */
export type BusMode = 'publish' | 'spublish'

/**
 * Where the store reads from (`readFrom`). Writes, locks, leases, scripts and the bus always go
 * to the primary (master); only `GET`/`MGET` move.
 *
 * - `'primary'`: every read goes to the primary. The default: a primary never lags.
 * - `'replicas'`: every read goes to a replica (cluster: ioredis `scaleReads: 'slave'`; Sentinel:
 *   one replica connection found through the Sentinels). Spreads read load over the replicas, at
 *   the price of replication lag on every read; see docs/operations.md.
 * - `'replicas-for-hot-keys'`: ordinary reads go to the primary; reads of hot keys (the core's
 *   hot-key replicas, `RemoteStore.getHot`) go to a replica of their shard, so one hot key's
 *   traffic spreads over the replicas as well as over the masters.
 *
 * Replication is asynchronous: a read from a replica just after an invalidation can return the
 * old value for as long as the replica lags (`master_repl_offset` behind, usually under a
 * millisecond on a LAN; seconds while a replica resyncs).
 */
export type ReadFrom = 'primary' | 'replicas' | 'replicas-for-hot-keys'

/** Default of {@link StoreReadOptions.readFrom}. */
export const DEFAULT_READ_FROM: ReadFrom = 'primary'

/** Options every store accepts, whatever its connection source. */
export interface StoreBusOptions {
  /**
   * Pub/sub flavour of the invalidation bus; every instance of a fleet must use the same one,
   * since a `PUBLISH` never reaches an `SSUBSCRIBE` and vice versa. Default: `'spublish'` for
   * a cluster, `'publish'` for a standalone or Sentinel store.
   */
  bus?: BusMode | undefined
  /**
   * Where the start-up check of the deployment (maxmemory, eviction policy, seed nodes, cluster
   * state, slot coverage) logs its warnings: a pino logger or anything with the core's `Logger`
   * methods. Default: silent (the check still runs; see `RedisRemoteStore.deploymentCheck()`).
   */
  logger?: Logger | undefined
  /**
   * Run the start-up check of the deployment once the client is first ready: a few `CONFIG GET`,
   * `CLUSTER INFO` and `INFO` commands per master, once per store. Default `true`.
   */
  deploymentCheck?: boolean | undefined
  /**
   * How long a durable delete (`deleteDurably(keys)`, what the engine's invalidations
   * send) waits for a replica of the key's master to acknowledge it (`WAIT 1 <ms>` on that master),
   * in milliseconds. A deletion not acknowledged in time is reported unconfirmed and deleted again
   * after the shard's next topology change. `0` turns the wait off: deletes then make no durability
   * claim. A shard without replicas is never waited for. Default 50. While a shard's replica does not
   * acknowledge, its durable deletes stop waiting for 1 s after each timeout (the wait would hold the
   * connection every command to that master shares).
   */
  replicaAckTimeoutMs?: number | undefined
}

/** The read routing option of stores that create their own connections. */
export interface StoreReadOptions {
  /** Where reads go; see {@link ReadFrom}. Default `'primary'`. */
  readFrom?: ReadFrom | undefined
}

/** Options of stores that create their own connections (and so choose where reads go). */
export interface StoreConnectionOptions extends StoreBusOptions, StoreReadOptions {
  /**
   * Per-command timeout in milliseconds, passed to ioredis as `commandTimeout`: a command with
   * no reply by then rejects (it may still have run on the server). Default: none; the core
   * bounds each L2 call with its own timeout. Ignored for a passed-in client, whose own
   * `commandTimeout` applies.
   */
  commandTimeoutMs?: number | undefined
}

/** Default of {@link StoreBusOptions.bus} for a standalone or Sentinel store (one node: nothing to shard). */
export const DEFAULT_BUS_MODE: BusMode = 'publish'

/**
 * Default of {@link StoreBusOptions.bus} for a Redis Cluster store: sharded pub/sub. A classic
 * PUBLISH is copied to every node of the cluster; measured on a 3 + 3 cluster, SPUBLISH cut the
 * cluster-bus messages per publish from 5 to 1, and the delivery p99 from 431 µs to 175 µs
 * (docs/decisions/0001-bus-publish-vs-spublish.md).
 */
export const DEFAULT_CLUSTER_BUS_MODE: BusMode = 'spublish'

export const busModeSchema = z.enum(['publish', 'spublish'])

export const readFromSchema = z.enum(['primary', 'replicas', 'replicas-for-hot-keys'])

/** A logger with the core's `Logger` methods (pino fits). */
export const loggerSchema = z.custom<Logger>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    ['debug', 'info', 'warn', 'error', 'child'].every((method) => typeof (value as Record<string, unknown>)[method] === 'function'),
  { error: 'expected a logger with debug, info, warn, error and child methods (pino fits)' },
)

/** `readFrom` is refused next to a passed-in client: its routing (`scaleReads`, `role`) is its own. */
export const noReadFromWithClientSchema = z
  .never({ error: "readFrom applies to clients the store creates; configure a passed-in client's own routing (scaleReads, role)" })
  .optional()

export const commandTimeoutSchema = z.int().positive()

/** Default of `replicaAckTimeoutMs`: how long a durable delete waits for a replica (ms). */
export const DEFAULT_REPLICA_ACK_TIMEOUT_MS = 50

/** `replicaAckTimeoutMs`: whole milliseconds, 0 (off) up to 10 s. */
export const replicaAckTimeoutSchema = z.int().min(0).max(10_000)

/**
 * `keyPrefix` is refused rather than ignored: ioredis would prepend it after we grouped keys by
 * slot, and a prefix carrying `{` would move keys to other slots (CROSSSLOT errors). The core's
 * `namespace` does the job of a prefix.
 */
export const noKeyPrefixSchema = z
  .never({ error: 'keyPrefix is not supported: keys arrive fully built from the core; use the cache namespace instead' })
  .optional()

/** Accepts a function (ioredis options such as `retryStrategy` or `natMap` may be functions). */
export const functionSchema = z.custom<(...args: never[]) => unknown>((value) => typeof value === 'function', {
  error: 'expected a function',
})

/** Where a standalone store connects: a `redis://`/`rediss://` URL, or `host` and `port` (checked for "exactly one" by each store). */
export const standaloneAddressFields = {
  url: z
    .string()
    .regex(/^rediss?:\/\//, { error: 'expected a redis:// or rediss:// URL' })
    .optional(),
  host: z.string().min(1).optional(),
  port: z.int().min(1).max(65535).optional(),
}
