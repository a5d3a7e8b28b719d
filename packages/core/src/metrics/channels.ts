import { channel } from 'node:diagnostics_channel'

/**
 * tiercache's operations on Node's `diagnostics_channel`, for tracing and metrics tools
 * (OpenTelemetry instrumentations, APMs) that subscribe without tiercache depending on them.
 * A message is built only when the channel has subscribers, so an unobserved channel costs one
 * property read. Subscribers run synchronously inside the cache call: keep them short, and never
 * throw (Node reports a subscriber's exception as an uncaught exception on the next tick).
 *
 * @example
 * import { subscribe } from 'node:diagnostics_channel'
 * subscribe('tiercache:load', (message) => console.log(message))
 */
export const CHANNELS = Object.freeze({
  /** Every read of `get`/`getMany`/`wrap`, once it is answered: {@link ReadMessage}. */
  read: 'tiercache:read',
  /** Every loader call (a batch loader call is one message): {@link LoadMessage}. */
  load: 'tiercache:load',
  /** Every invalidation, by ids or by tags, made here or received from another instance: {@link InvalidateMessage}. */
  invalidate: 'tiercache:invalidate',
  /** Every failed L2 call (read as a miss, write skipped or retried): {@link L2ErrorMessage}. */
  l2Error: 'tiercache:l2-error',
} as const)

/**
 * Which tier answered a read. `l1`: a fresh L1 entry; `l2`: a fresh L2 entry (or a hot key's
 * replica); `stale`: a value past its TTL served within grace; `miss`: nothing fresh or
 * servable, so the read loaded the value or waited for another instance's load.
 */
export type ReadTier = 'l1' | 'l2' | 'stale' | 'miss'

/** Published on `tiercache:read`. */
export interface ReadMessage {
  namespace: string
  entity: string
  id: string
  tier: ReadTier
  /**
   * How long the read took, ms (`performance.now()` resolution). For one in-process single-flight,
   * the flight's duration (callers that joined it are not published separately); for `getMany`, the
   * batch's. For L1 hits, measured only while the channel has subscribers.
   */
  durationMs: number
}

/** Published on `tiercache:load`. */
export interface LoadMessage {
  namespace: string
  entity: string
  /** The ids loaded: one for `get`, every missing id for a `getMany` batch. */
  ids: readonly string[]
  /** Time from calling the loader until it settled (or until the hard timeout), ms. */
  durationMs: number
  /** The loader's error, a `TierCacheError` `LOADER_TIMEOUT`, or `undefined` when it succeeded. */
  error: unknown
}

/** Published on `tiercache:invalidate`. */
export interface InvalidateMessage {
  namespace: string
  /** The entity whose ids were invalidated; `undefined` for a tag invalidation. */
  entity: string | undefined
  ids: readonly string[]
  tags: readonly string[]
  /** `local` when this instance invalidated; `remote` when the invalidation came over the bus. */
  origin: 'local' | 'remote'
}

/** Published on `tiercache:l2-error`. */
export interface L2ErrorMessage {
  namespace: string
  entity: string
  /** The engine's operation: `get`, `getMany`, `set`, `delete`, `acquireLock`, `setIfLeaseHeld`, `publish`, ... */
  operation: string
  error: unknown
}

export const readChannel = channel(CHANNELS.read)
export const loadChannel = channel(CHANNELS.load)
export const invalidateChannel = channel(CHANNELS.invalidate)
export const l2ErrorChannel = channel(CHANNELS.l2Error)
