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

/** Options every store accepts, whatever its connection source. */
export interface StoreBusOptions {
  /**
   * Pub/sub flavour of the invalidation bus; every instance of a fleet must use the same one,
   * since a `PUBLISH` never reaches an `SSUBSCRIBE` and vice versa. Default `'publish'`.
   */
  bus?: BusMode | undefined
}

/** Options of stores that create their own connections. */
export interface StoreConnectionOptions extends StoreBusOptions {
  /**
   * Per-command timeout in milliseconds, passed to ioredis as `commandTimeout`: a command with
   * no reply by then rejects (it may still have run on the server). Default: none; the core
   * bounds each L2 call with its own timeout. Ignored for a passed-in client, whose own
   * `commandTimeout` applies.
   */
  commandTimeoutMs?: number | undefined
}

/** Default of {@link StoreBusOptions.bus}. */
export const DEFAULT_BUS_MODE: BusMode = 'publish'

export const busModeSchema = z.enum(['publish', 'spublish'])

export const commandTimeoutSchema = z.int().positive()

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
