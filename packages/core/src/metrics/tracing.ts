import { tracingChannel } from 'node:diagnostics_channel'
import type { ReadTier } from './channels.js'

/**
 * tiercache's operations as Node tracing channels (`diagnostics_channel.tracingChannel`), the
 * convention ioredis, node-redis and undici follow: each operation publishes `start`, `end`,
 * `asyncStart`, `asyncEnd` (and `error` when it fails) on
 * `tracing:tiercache:<operation>:<event>`, with one {@link TraceContext} object per call that
 * every event carries. A subscriber that keeps state per call (a span) keys it by that object.
 * The context's `tier` and `outcome` are set before `asyncEnd`; Node sets `result` or `error`.
 * Without subscribers an operation checks one getter and builds nothing.
 *
 * @example
 * import { tracingChannel } from 'node:diagnostics_channel'
 * tracingChannel('tiercache:get').subscribe({
 *   start(context) {}, end() {}, asyncStart() {}, error() {},
 *   asyncEnd(context) { console.log(context.entity, context.outcome) },
 * })
 */
export const TRACING_CHANNELS = Object.freeze({
  /** `entity.get` and `wrap`: one call per id. */
  get: 'tiercache:get',
  /** `entity.getMany`: one call per batch. */
  getMany: 'tiercache:getMany',
  /** A loader call (a batch loader call is one), from `get`, `getMany`, refreshes. */
  load: 'tiercache:load',
  /** `entity.set`. */
  set: 'tiercache:set',
  /** `entity.invalidate` and `cache.invalidateTag`. */
  invalidate: 'tiercache:invalidate',
} as const)

/** The name of a traced operation, a key of {@link TRACING_CHANNELS}. */
export type TracedOperation = keyof typeof TRACING_CHANNELS

/**
 * How a traced `get` ended: `hit` (a fresh entry of L1 or L2, see `tier`), `stale` (a stale
 * value served within grace), `miss` (loaded, or waited for another instance's load), `error`
 * (it rejected). `getMany`, `load`, `set` and `invalidate` end with `ok` or `error`.
 */
export type TraceOutcome = 'hit' | 'stale' | 'miss' | 'ok' | 'error'

/**
 * The context object of one traced call. `id`/`ids` are set only with the cache option
 * `tracing: { ids: true }` (ids can carry user data and make high-cardinality attributes);
 * `count` always says how many ids the call covers.
 */
export interface TraceContext {
  operation: TracedOperation
  namespace: string
  /** The entity; `undefined` for a tag invalidation. */
  entity: string | undefined
  /** The id of a `get`, `load` of one id or `set`, when ids are traced. */
  id?: string
  /** The ids of a `getMany`, batch load or invalidation, when ids are traced. */
  ids?: readonly string[]
  /** The tags of a tag invalidation (always: tags are few and chosen by the application). */
  tags?: readonly string[]
  /** Ids the call covers (1 for `get`, `set` and a single load). */
  count: number
  /** `get` only: which tier answered (`l1`, `l2`, `stale`, `miss`). */
  tier?: ReadTier
  /** How the call ended; set before `asyncEnd` (and before `error`). */
  outcome?: TraceOutcome
  /** Set by Node when the call rejects. */
  error?: unknown
  /** Set by Node when the call resolves: the value returned to the caller. */
  result?: unknown
}

export const getTracing = tracingChannel<unknown, TraceContext>(TRACING_CHANNELS.get)
export const getManyTracing = tracingChannel<unknown, TraceContext>(TRACING_CHANNELS.getMany)
export const loadTracing = tracingChannel<unknown, TraceContext>(TRACING_CHANNELS.load)
export const setTracing = tracingChannel<unknown, TraceContext>(TRACING_CHANNELS.set)
export const invalidateTracing = tracingChannel<unknown, TraceContext>(TRACING_CHANNELS.invalidate)

/** A traced call's context for `entity` of `namespace`; ids only when `traceIds` (the `tracing.ids` option). */
export function traceContext(
  operation: TracedOperation,
  namespace: string,
  entity: string,
  traceIds: boolean,
  ids: string | readonly string[],
): TraceContext {
  const context: TraceContext = { operation, namespace, entity, count: typeof ids === 'string' ? 1 : ids.length }
  if (traceIds) {
    if (typeof ids === 'string') context.id = ids
    else context.ids = ids
  }
  return context
}

/** The outcome of a `get` answered by `tier`. */
export function outcomeOf(tier: ReadTier): TraceOutcome {
  return tier === 'l1' || tier === 'l2' ? 'hit' : tier
}

/**
 * Runs `run` traced on `channel` with `context`: `outcome` becomes `error` when it rejects, the
 * outcome of the tier for a `get`, `ok` otherwise, before Node publishes the end of the call.
 */
export function traced<R>(channel: typeof getTracing, context: TraceContext, run: () => Promise<R>): Promise<R> {
  return channel.tracePromise(async () => {
    try {
      const result = await run()
      // A get past L1 whose answering read reported no tier (it joined a flight as it ended) was still not a hit.
      if (context.operation === 'get') context.outcome = context.tier === undefined ? 'miss' : outcomeOf(context.tier)
      else context.outcome = 'ok'
      return result
    } catch (error) {
      context.outcome = 'error'
      throw error
    }
  }, context)
}

/**
 * The tracing channel of the L2 calls a cache makes (`tracing:tiercache:l2:*`): one call per
 * guarded store call, or per shard of a call on keys of several shards. It carries an
 * {@link L2TraceContext}. Published by the guard in front of the store, so it sees what the
 * engine asked for (a lease write, a lock) rather than Redis commands, and also the calls the
 * breaker skipped and those the timeout cut.
 */
export const L2_TRACING_CHANNEL = 'tiercache:l2'

/** How a traced L2 call ended: answered, skipped by its shard's open breaker, or failed (timeout, error). */
export type L2TraceOutcome = 'ok' | 'skipped' | 'error'

/** The context object of one traced L2 call. Keys are never in it (they hold ids). */
export interface L2TraceContext {
  operation: 'l2'
  /** The store call: `get`, `getMany`, `set`, `delete`, `acquireLock`, `setIfLeaseHeld`, `releaseLock`, `getTagStamps`, `stampTags`, `setReplica`, `tombstone`, `publish`. */
  command: string
  namespace: string
  /** The store's name (`RemoteStore.name`). */
  store: string
  /** The shard the call went to, as the store names it (`host:port` of the master for a cluster), `store` for a store without shards. */
  shard: string
  /** Keys the call covers. */
  count: number
  /** How the call ended; set before `asyncEnd` (and before `error`). */
  outcome?: L2TraceOutcome
  /** Set by Node when the call rejects. */
  error?: unknown
  /** Set by Node when the call resolves. */
  result?: unknown
}

export const l2Tracing = tracingChannel<unknown, L2TraceContext>(L2_TRACING_CHANNEL)
