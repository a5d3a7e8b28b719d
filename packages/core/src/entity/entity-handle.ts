import type { EntityPolicy } from '../config/entity-policy.js'
import type { HotKeyInfo } from '../hot-keys/hot-key-detector.js'
import { type IdPropagation, propagateIds } from '../invalidation/propagation.js'
import { assertStorableId, assertValidId } from '../l2/key-builder.js'
import { readChannel } from '../metrics/channels.js'
import { type EntityMetrics, L1_SAMPLE_MASK } from '../metrics/entity-metrics.js'
import type { EntityStats } from '../metrics/entity-stats.js'
import {
  getManyTracing,
  getTracing,
  invalidateTracing,
  setTracing,
  type TraceContext,
  type TracedOperation,
  traceContext,
  traced,
} from '../metrics/tracing.js'
import type { Clock } from '../util/clock.js'
import { TierCacheError } from '../util/errors.js'
import { SingleFlight } from '../util/single-flight.js'
import { writeDirectly } from './direct-write.js'
import type { EngineContext } from './engine-context.js'
import { assertOpen, createEntityCore, type EntityCore } from './entity-core.js'
import { tombstoneReplicas } from './hot-replicas.js'
import type { LoadContext } from './loader-context.js'
import type { BatchLoader, Loader, LoaderContext } from './loader-types.js'
import { readMany } from './read-many.js'
import { readThrough } from './read-through.js'
import { Refresher } from './refresher.js'

export type { BatchLoader, BatchLoaderContext, Loader, LoaderContext } from './loader-types.js'
export type { ValuePolicy } from './value-policy.js'

/** Options of {@link EntityHandle.wrap}. */
export interface WrapOptions<A extends unknown[], R = unknown> {
  /** Builds the id from the call's arguments. Default: the first argument, when it is a string or a number. */
  key?: (...args: A) => string
  /**
   * Decides the policy of a value the wrapped function loaded, from its arguments and its result,
   * through the loader context (`ctx.set({ ttl })`, `ctx.skip()`), so the repository function
   * itself need not know the cache. Not called for cache hits. A hook that throws is logged and
   * the value returned but not cached. Default: none (the entity's policy).
   */
  policy?: (args: A, result: Awaited<R>, ctx: LoaderContext) => void
}

/** Options of {@link EntityHandle.invalidating}. */
export interface InvalidatingOptions<A extends unknown[], R> {
  /** The ids the write changes, from its arguments and its result. */
  keys: (args: A, result: Awaited<R>) => string | readonly string[]
  /** Tags the write invalidates, from its arguments and its result. */
  tags?: (args: A, result: Awaited<R>) => string | readonly string[]
}

/**
 * A typed handle on one entity of a cache: read-through, batch reads, writes and invalidation.
 * Obtained from `cache.entity<T>(name)`; cheap to keep and share.
 */
export interface EntityHandle<T> {
  /** The entity's name. */
  readonly name: string
  /** The entity's resolved policy (every option defaulted, durations in ms); read-only. */
  readonly policy: EntityPolicy
  /** The clock of the cache the entity belongs to (what its TTLs are measured against). */
  readonly clock: Clock
  /**
   * Returns the cached value of `id`, or loads it with `loader` (once per key across the
   * fleet: in-process single-flight, then a lock in L2), caches it and returns it. The value
   * returned after a load is the cache's own copy (serialized and parsed back), so every caller
   * sees the same shape whether it hit or loaded. Loader errors reach the caller and are not
   * cached, unless a stale value within grace can be served instead.
   */
  get<R extends T | null | undefined>(id: string, loader: Loader<R>): Promise<R>
  /**
   * Reads many ids: L1 first, then one L2 batch, then one `batchLoader` call for all misses.
   * Results are aligned with `ids`.
   */
  getMany<R extends T | null | undefined>(ids: readonly string[], batchLoader: BatchLoader<R>): Promise<R[]>
  /** Writes a value into every tier as if it had just been loaded, and tells other instances to drop theirs. */
  set(id: string, value: T | null | undefined): Promise<void>
  /**
   * Removes ids from every tier and every instance: deletes the L2 value and its lease, drops
   * the local L1 entry and publishes the ids on the invalidation bus (one message per call).
   */
  invalidate(ids: string | readonly string[]): Promise<void>
  /** Wraps a repository function into a read-through function with the same parameters and result type. */
  wrap<A extends unknown[], R extends T | null | undefined>(
    fn: (...args: A) => R | Promise<R>,
    options?: WrapOptions<A, R>,
  ): (...args: A) => Promise<Awaited<R>>
  /** Wraps a write: runs it, then invalidates the ids (and tags) it names, then returns its result. */
  invalidating<A extends unknown[], R>(fn: (...args: A) => R, options: InvalidatingOptions<A, R>): (...args: A) => Promise<Awaited<R>>
  /** This entity's counters in this process. */
  stats(): Readonly<EntityStats>
}

/**
 * The handle of one entity (DESIGN.md §3 and §4): the L1 hit, inline because it is the hot
 * path; everything past it is a step in its own file (`read-through.ts`, `read-many.ts`,
 * `fleet-load.ts`, `value-writer.ts`, ...) working on the entity's shared {@link EntityCore}.
 */
export class EntityCache<T> implements EntityHandle<T> {
  readonly name: string
  readonly policy: EntityPolicy
  /** The cache's clock, held directly: the L1 hit path reads it on every call. */
  readonly clock: Clock
  /** Latency histograms and `diagnostics_channel` messages of this entity. */
  readonly metrics: EntityMetrics
  private readonly core: EntityCore
  // The L1 hit path's state, held directly: one property load less per hit than through `core`.
  private readonly l1: EntityCore['l1']
  private readonly hot: EntityCore['hot']
  private readonly counters: EntityStats
  private readonly flights = new SingleFlight<unknown>()
  private readonly refresher: Refresher
  private readonly propagation: IdPropagation

  constructor(
    private readonly ctx: EngineContext,
    policy: EntityPolicy,
  ) {
    const core = createEntityCore(ctx, policy)
    this.core = core
    this.name = policy.name
    this.policy = policy
    this.clock = ctx.clock
    this.metrics = core.metrics
    this.l1 = core.l1
    this.hot = core.hot
    this.counters = core.counters
    this.refresher = new Refresher(core)
    this.propagation = {
      entity: policy.name,
      l2: core.l2,
      keys: core.keys,
      bus: ctx.bus,
      durable: ctx.durableInvalidation && core.l2?.durableDeletes === true,
      attempt: (operation, call) => core.l2Failures.attempt(operation, call),
      tombstoneReplicas: (ids) => tombstoneReplicas(core, ids, ctx.durableInvalidation),
    }
  }

  get<R extends T | null | undefined>(id: string, loader: Loader<R>): Promise<R> {
    if (getTracing.hasSubscribers) {
      const trace = this.traceContext('get', id)
      return traced(getTracing, trace, () => this.read(id, loader, trace))
    }
    return this.read(id, loader, undefined)
  }

  /** The body of `get`; `trace` is the context of a traced call, which learns the tier that answered. */
  private async read<R extends T | null | undefined>(id: string, loader: Loader<R>, trace: TraceContext | undefined): Promise<R> {
    assertValidId(id, this.name)
    // One read in 64 is timed (every read while tiercache:read has subscribers): the rest pay a counter and a mask.
    const metrics = this.metrics
    const sampled = (++metrics.reads & L1_SAMPLE_MASK) === 0
    const startedAt = sampled || readChannel.hasSubscribers ? performance.now() : 0
    const now = this.clock.now()
    this.hot?.record(id, now)
    const l1 = this.l1
    if (l1 !== null) {
      const entry = l1.get(id)
      if (entry !== undefined) {
        if (entry.freshUntil > now) {
          this.counters.l1Hits++
          if (startedAt !== 0) metrics.l1Hit(id, startedAt, sampled)
          if (trace !== undefined) trace.tier = 'l1'
          if (now >= entry.earlyFrom) this.refresher.considerEarly(id, loader, entry, now)
          return entry.value as R
        }
      }
    }
    assertStorableId(id, this.name)
    // `return await`: handing a promise back from an async function costs two more microtask turns.
    if (trace === undefined) return (await this.flights.run(id, () => readThrough(this.core, this.refresher, id, loader))) as R
    // The read that answers (this call's, or the single flight it joins) reports its tier to the trace.
    metrics.awaitTier(id, trace)
    try {
      return (await this.flights.run(id, () => readThrough(this.core, this.refresher, id, loader))) as R
    } finally {
      metrics.forgetTier(id, trace)
    }
  }

  getMany<R extends T | null | undefined>(ids: readonly string[], batchLoader: BatchLoader<R>): Promise<R[]> {
    if (!getManyTracing.hasSubscribers) return this.readMany(ids, batchLoader)
    return traced(getManyTracing, this.traceContext('getMany', Array.isArray(ids) ? ids : []), () => this.readMany(ids, batchLoader))
  }

  private traceContext(operation: TracedOperation, ids: string | readonly string[]): TraceContext {
    return traceContext(operation, this.ctx.namespace, this.name, this.ctx.traceIds, ids)
  }

  private async readMany<R extends T | null | undefined>(ids: readonly string[], batchLoader: BatchLoader<R>): Promise<R[]> {
    if (!Array.isArray(ids)) {
      throw new TierCacheError('INVALID_KEY', `entity "${this.name}": getMany expects an array of ids`, { entity: this.name })
    }
    for (const id of ids) assertStorableId(id, this.name)
    return (await readMany(this.core, this.flights, this.refresher, ids, batchLoader as BatchLoader<unknown>)) as R[]
  }

  set(id: string, value: T | null | undefined): Promise<void> {
    if (!setTracing.hasSubscribers) return this.write(id, value)
    return traced(setTracing, this.traceContext('set', id), () => this.write(id, value))
  }

  private async write(id: string, value: T | null | undefined): Promise<void> {
    assertStorableId(id, this.name)
    assertOpen(this.core)
    this.dropLocal([id])
    await writeDirectly(this.core, this.ctx, this.propagation, id, value)
  }

  invalidate(ids: string | readonly string[]): Promise<void> {
    if (!invalidateTracing.hasSubscribers) return this.invalidateIds(ids)
    const context = this.traceContext('invalidate', typeof ids === 'string' ? [ids] : Array.isArray(ids) ? ids : [])
    return traced(invalidateTracing, context, () => this.invalidateIds(ids))
  }

  private async invalidateIds(ids: string | readonly string[]): Promise<void> {
    const list = typeof ids === 'string' ? [ids] : ids
    if (!Array.isArray(list)) {
      throw new TierCacheError('INVALID_KEY', `entity "${this.name}": invalidate expects an id or an array of ids`, { entity: this.name })
    }
    for (const id of list) assertStorableId(id, this.name)
    assertOpen(this.core)
    if (list.length === 0) return
    this.dropLocal(list)
    this.core.counters.invalidations += list.length
    this.metrics.invalidate(list, 'local')
    const left = await this.propagate(list)
    if (left.length > 0) this.ctx.outbox.addIds(this.name, left)
  }

  /**
   * Sends the invalidation of `ids` to L2 and the bus (the outbox retries through here); resolves
   * with the ids that need a retry (failed, or not yet confirmed on a replica).
   */
  async propagate(ids: readonly string[]): Promise<readonly string[]> {
    const left = await propagateIds(this.propagation, ids)
    // Until L2 had the deletion, a read here could take the old value from it into L1: between the
    // local drop and the delete's reply, or, when the delete failed, until this retry (another
    // instance hears the retry's bus message; this one does not hear its own). Dropped again now.
    this.dropLocal(ids)
    return left
  }

  wrap<A extends unknown[], R extends T | null | undefined>(
    fn: (...args: A) => R | Promise<R>,
    options: WrapOptions<A, R> = {},
  ): (...args: A) => Promise<Awaited<R>> {
    if (typeof fn !== 'function') {
      throw new TierCacheError('INVALID_CONFIG', `entity "${this.name}": wrap expects a function`, { entity: this.name })
    }
    if (options.policy !== undefined && typeof options.policy !== 'function') {
      throw new TierCacheError(
        'INVALID_CONFIG',
        `entity "${this.name}": wrap options.policy: expected a function (args, result, ctx) => void`,
        {
          entity: this.name,
        },
      )
    }
    const keyOf = options.key ?? defaultKey
    const policy = options.policy
    if (policy === undefined) {
      return async (...args: A): Promise<Awaited<R>> => (await this.get(keyOf(...args), () => fn(...args))) as Awaited<R>
    }
    return async (...args: A): Promise<Awaited<R>> =>
      (await this.get(keyOf(...args), async (_id, ctx) => {
        const result = await fn(...args)
        try {
          policy(args, result as Awaited<R>, ctx)
        } catch (error) {
          ;(ctx as LoadContext).fail(error)
        }
        return result
      })) as Awaited<R>
  }

  invalidating<A extends unknown[], R>(fn: (...args: A) => R, options: InvalidatingOptions<A, R>): (...args: A) => Promise<Awaited<R>> {
    if (typeof fn !== 'function' || typeof options?.keys !== 'function') {
      throw new TierCacheError(
        'INVALID_CONFIG',
        `entity "${this.name}": invalidating expects a function and { keys: (args, result) => ids }`,
        { entity: this.name },
      )
    }
    return async (...args: A): Promise<Awaited<R>> => {
      const result = (await fn(...args)) as Awaited<R>
      await this.invalidate(options.keys(args, result))
      if (options.tags !== undefined) await this.ctx.invalidateTags(options.tags(args, result))
      return result
    }
  }

  stats(): Readonly<EntityStats> {
    return { ...this.core.counters }
  }

  /** The keys of this entity detected hot in this instance, hottest first. */
  hotKeys(): HotKeyInfo[] {
    return this.core.hot?.list() ?? []
  }

  /** Drops the local state of these ids: L1 entries, running single-flights, and stamps them so loads in flight do not refill L1. */
  dropLocal(ids: readonly string[]): void {
    const { stamps, l1 } = this.core
    for (const id of ids) {
      stamps.invalidate(id)
      this.flights.forget(id)
      l1?.delete(id)
    }
  }

  /** Applies ids invalidated by another instance. */
  receiveInvalidation(ids: readonly string[]): void {
    this.core.counters.invalidationsReceived += ids.length
    this.metrics.invalidate(ids, 'remote')
    this.dropLocal(ids)
  }

  /** Drops L1 entries carrying any of `tags` that were created at or before `stamp`. */
  dropTagged(tags: readonly string[], stamp: number): void {
    const l1 = this.core.l1
    if (l1 === null || !this.core.l1Tagged) return
    const wanted = new Set(tags)
    for (const [id, entry] of l1.entries()) {
      if (entry.createdAt <= stamp && entry.tags.some((tag) => wanted.has(tag))) l1.delete(id)
    }
  }

  /** Drops every L1 entry and distrusts every load in flight (bus messages may have been missed, or the cache closes). */
  clearLocal(): void {
    this.core.stamps.invalidateAll()
    this.core.l1?.clear()
  }
}

function defaultKey(...args: unknown[]): string {
  const first = args[0]
  if (typeof first === 'string') return first
  if (typeof first === 'number' && Number.isFinite(first)) return String(first)
  throw new TierCacheError('INVALID_KEY', 'wrap: the first argument is not a string or number; pass { key: (...args) => id }')
}
