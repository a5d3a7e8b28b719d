import { randomUUID } from 'node:crypto'
import type { LRUCache } from 'lru-cache'
import type { Clock } from './clock.js'
import type { EngineContext } from './engine-context.js'
import { type EntityPolicy, freshLifetimeMs, type ValueSchema } from './entity-policy.js'
import { decodeEnvelope, type Envelope, encodeEnvelope } from './envelope.js'
import { TierCacheError } from './errors.js'
import type { GuardedStore } from './guarded-store.js'
import type { HotKeyInfo } from './hot-key-detector.js'
import { HotKeys } from './hot-keys.js'
import { InvalidationStamps } from './invalidation-stamps.js'
import { assertStorableId, assertValidId, isValidTag, KeyBuilder } from './key-builder.js'
import { createL1Store, type L1Entry } from './l1-store.js'
import type { Logger } from './logger.js'
import { readChannel } from './metrics/channels.js'
import { EntityMetrics, L1_SAMPLE_MASK } from './metrics/entity-metrics.js'
import {
  getManyTracing,
  getTracing,
  invalidateTracing,
  loadTracing,
  setTracing,
  type TraceContext,
  type TracedOperation,
  traced,
} from './metrics/tracing.js'
import { serializeOrThrow } from './serializer.js'
import { SingleFlight } from './single-flight.js'
import { type EntityStats, emptyStats } from './stats.js'
import { raceTimeout, sleep } from './timeouts.js'
import { earlyRefreshFrom, shouldRefreshEarly } from './xfetch.js'

/** Loads the value of one id from the source of truth; `null`/`undefined` means absent. */
export type Loader<R> = (id: string) => R | Promise<R>

/**
 * Loads the values of many ids in one call. Returns either an array aligned with `ids`
 * (same length and order; `null`/`undefined` for an absent id) or a `Map` from id to value
 * (a missing id is absent).
 */
export type BatchLoader<R> = (ids: string[]) => Promise<readonly R[] | ReadonlyMap<string, R>> | readonly R[] | ReadonlyMap<string, R>

/** Options of {@link EntityHandle.wrap}. */
export interface WrapOptions<A extends unknown[]> {
  /** Builds the id from the call's arguments. Default: the first argument, when it is a string or a number. */
  key?: (...args: A) => string
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
    options?: WrapOptions<A>,
  ): (...args: A) => Promise<Awaited<R>>
  /** Wraps a write: runs it, then invalidates the ids (and tags) it names, then returns its result. */
  invalidating<A extends unknown[], R>(fn: (...args: A) => R, options: InvalidatingOptions<A, R>): (...args: A) => Promise<Awaited<R>>
  /** This entity's counters in this process. */
  stats(): Readonly<EntityStats>
}

/** A value found in a tier, with its times. */
interface Candidate {
  value: unknown
  createdAt: number
  freshUntil: number
  staleUntil: number
  loadMs: number
  tags: readonly string[]
  size: number
}

/** The lock (and lease) this load holds in L2. */
interface Lease {
  lockKey: string
  token: string
}

type RemoteRead = { status: 'hit'; candidate: Candidate; raw: string } | { status: 'miss' } | { status: 'error' }
const MISS: RemoteRead = Object.freeze({ status: 'miss' })

// Failures of L2 are logged at most this often per entity, so an outage does not flood logs.
const L2_ERROR_LOG_INTERVAL_MS = 10_000
// Waiting for another instance's load: first poll after 4 ms, then 1.5x longer, at most 20 ms apart.
const WAIT_FIRST_POLL_MS = 4
const WAIT_MAX_POLL_MS = 20
// Hot-key replicas live at most this long (ms), so a replica a topology change left behind is
// gone soon; a copy is written only from a read at most REPLICA_MAX_LAG_MS old, and an
// invalidation's tombstone outlives that lag.
const REPLICA_TTL_MS = 10_000
const REPLICA_MAX_LAG_MS = 500
const REPLICA_TOMBSTONE_MS = 2_000
// Invalidations that could not reach L2 are retried this often, and at most this many are kept.
const INVALIDATION_RETRY_MS = 1_000
const MAX_PENDING_INVALIDATIONS = 100_000
// After a failed background refresh, the next try waits 1 s, doubling up to 30 s.
const FAIL_SAFE_FIRST_BACKOFF_MS = 1_000
const FAIL_SAFE_MAX_BACKOFF_MS = 30_000

/**
 * The engine of one entity: the read path of DESIGN.md §3 (L1, single-flight, L2, fleet-wide
 * lock and lease, stale-while-revalidate, timeouts, early refresh) and the write path of §4.
 */
export class EntityCache<T> implements EntityHandle<T> {
  readonly name: string
  private readonly keys: KeyBuilder
  private readonly l1: LRUCache<string, L1Entry> | null
  private readonly flights = new SingleFlight<unknown>()
  private readonly refreshing = new Map<string, Promise<unknown>>()
  private readonly backoff = new Map<string, { until: number; delayMs: number }>()
  private readonly stamps: InvalidationStamps
  private readonly counters = emptyStats()
  /** Latency histograms and `diagnostics_channel` messages of this entity. */
  readonly metrics: EntityMetrics
  private readonly log: Logger
  /** The cache's clock, held directly: the L1 hit path reads it on every call. */
  readonly clock: Clock
  /** Hot-key detection and replica placement, or `null` when the entity has `hot: false`. */
  private readonly hot: HotKeys | null
  /** L2 behind the cache's breaker, with this entity's per-call timeout; `null` for L1-only. */
  private readonly l2: GuardedStore | null
  /** Ids whose invalidation could not reach L2 or the bus; retried until it does. */
  private readonly pendingInvalidations = new Set<string>()
  private retryTimer: NodeJS.Timeout | null = null
  private lastL2ErrorLogAt = Number.NEGATIVE_INFINITY

  constructor(
    private readonly ctx: EngineContext,
    readonly policy: EntityPolicy,
  ) {
    this.name = policy.name
    this.keys = new KeyBuilder(ctx.namespace, policy.name)
    this.log = ctx.logger.child({ component: 'entity', entity: policy.name })
    this.clock = ctx.clock
    this.metrics = new EntityMetrics(ctx.namespace, policy.name)
    this.l2 = ctx.l2 === null ? null : ctx.l2.withTimeout(policy.l2TimeoutMs)
    const hot = policy.hot
    this.hot =
      hot === null
        ? null
        : new HotKeys(hot, this.keys, this.l2, ctx.clock, ctx.random, (id, isHot, info) => this.hotTransition(id, isHot, info))
    // An entity without L1 still keeps its hot keys in a small L1 (promotion), unless l1Ttl is 0.
    if (policy.l1 !== null) this.l1 = createL1Store(policy.l1)
    else if (hot !== null && hot.l1TtlMs > 0) this.l1 = createL1Store({ ttlMs: hot.l1TtlMs, maxEntries: hot.capacity, maxBytes: 0 })
    else this.l1 = null
    this.stamps = new InvalidationStamps(Math.max(1_000, policy.l1?.maxEntries ?? 1_000))
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
          if (now >= entry.earlyFrom) this.considerEarlyRefresh(id, loader, entry, now)
          return entry.value as R
        }
      }
    }
    assertStorableId(id, this.name)
    // `return await`: handing a promise back from an async function costs two more microtask turns.
    if (trace === undefined) return (await this.flights.run(id, () => this.readThrough(id, loader))) as R
    // The read that answers (this call's, or the single flight it joins) reports its tier to the trace.
    metrics.awaitTier(id, trace)
    try {
      return (await this.flights.run(id, () => this.readThrough(id, loader))) as R
    } finally {
      metrics.forgetTier(id, trace)
    }
  }

  getMany<R extends T | null | undefined>(ids: readonly string[], batchLoader: BatchLoader<R>): Promise<R[]> {
    if (!getManyTracing.hasSubscribers) return this.readMany(ids, batchLoader)
    return traced(getManyTracing, this.traceContext('getMany', Array.isArray(ids) ? ids : []), () => this.readMany(ids, batchLoader))
  }

  /** A traced call's context: ids only with the `tracing.ids` option. */
  private traceContext(operation: TracedOperation, ids: string | readonly string[]): TraceContext {
    const context: TraceContext = {
      operation,
      namespace: this.ctx.namespace,
      entity: this.name,
      count: typeof ids === 'string' ? 1 : ids.length,
    }
    if (this.ctx.traceIds) {
      if (typeof ids === 'string') context.id = ids
      else context.ids = ids
    }
    return context
  }

  private async readMany<R extends T | null | undefined>(ids: readonly string[], batchLoader: BatchLoader<R>): Promise<R[]> {
    if (!Array.isArray(ids)) throw new TierCacheError('INVALID_KEY', `entity "${this.name}": getMany expects an array of ids`)
    for (const id of ids) assertStorableId(id, this.name)
    const results = new Array<R>(ids.length)
    const waiting = new Map<string, Promise<unknown>>()
    const fetching = new Set<string>()
    const now = this.ctx.clock.now()
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as string
      this.hot?.record(id, now)
      if (waiting.has(id) || fetching.has(id)) continue
      const entry = this.l1?.get(id)
      if (entry !== undefined && entry.freshUntil > now) {
        this.counters.l1Hits++
        results[i] = entry.value as R
        continue
      }
      const pending = this.flights.get(id)
      if (pending !== undefined) {
        waiting.set(id, pending)
      } else {
        fetching.add(id)
      }
    }
    const toFetch = [...fetching]
    if (toFetch.length > 0) {
      const batch = this.readThroughMany(toFetch, batchLoader as BatchLoader<unknown>)
      toFetch.forEach((id, index) => {
        const one = batch.then((values) => values[index])
        this.flights.set(id, one)
        waiting.set(id, one)
      })
      await batch
    }
    for (let i = 0; i < ids.length; i++) {
      const pending = waiting.get(ids[i] as string)
      if (pending !== undefined) results[i] = (await pending) as R
    }
    return results
  }

  set(id: string, value: T | null | undefined): Promise<void> {
    if (!setTracing.hasSubscribers) return this.write(id, value)
    return traced(setTracing, this.traceContext('set', id), () => this.write(id, value))
  }

  private async write(id: string, value: T | null | undefined): Promise<void> {
    assertStorableId(id, this.name)
    this.assertOpen()
    this.dropLocal([id])
    const l2 = this.l2
    if (l2 !== null) {
      // A load in flight elsewhere holds a lease; deleting the lock makes its write fail, so it cannot overwrite this value.
      const [unlocked, tombstoned] = await Promise.all([
        this.l2Call('delete', () => l2.delete([this.keys.lockKey(id)])),
        this.tombstoneReplicas([id]),
      ])
      if (!unlocked || !tombstoned) this.queueInvalidations([id])
    }
    const startedAt = this.ctx.clock.now()
    await this.store(id, value, 0, startedAt, this.stamps.current(), null, true)
    if (!(await this.publishKeys([id]))) this.queueInvalidations([id])
  }

  invalidate(ids: string | readonly string[]): Promise<void> {
    if (!invalidateTracing.hasSubscribers) return this.invalidateIds(ids)
    const context = this.traceContext('invalidate', typeof ids === 'string' ? [ids] : Array.isArray(ids) ? ids : [])
    return traced(invalidateTracing, context, () => this.invalidateIds(ids))
  }

  private async invalidateIds(ids: string | readonly string[]): Promise<void> {
    const list = typeof ids === 'string' ? [ids] : ids
    if (!Array.isArray(list)) throw new TierCacheError('INVALID_KEY', `entity "${this.name}": invalidate expects an id or an array of ids`)
    for (const id of list) assertStorableId(id, this.name)
    this.assertOpen()
    if (list.length === 0) return
    this.dropLocal(list)
    this.counters.invalidations += list.length
    this.metrics.invalidate(list, 'local')
    if (!(await this.propagateInvalidation(list))) this.queueInvalidations(list)
  }

  /** Retries the invalidations that could not reach L2 or the bus (called when L2 is back, and on a timer). */
  async retryPendingInvalidations(): Promise<void> {
    if (this.pendingInvalidations.size === 0) return
    const ids = [...this.pendingInvalidations]
    this.pendingInvalidations.clear()
    if (await this.propagateInvalidation(ids)) {
      this.log.info({ ids: ids.length }, 'invalidations made during an L2 outage reached L2')
      this.stopRetrying()
    } else {
      this.queueInvalidations(ids)
    }
  }

  /**
   * Deletes value + lease (+ replica tombstones) in L2 and publishes the ids; true when all of
   * it succeeded. Value and lease go together (same slot), so a load that raced this write
   * cannot put its old value back.
   */
  private async propagateInvalidation(ids: readonly string[]): Promise<boolean> {
    const l2 = this.l2
    if (l2 === null) return true
    const keys: string[] = []
    for (const id of ids) keys.push(this.keys.valueKey(id), this.keys.lockKey(id))
    const [deleted, tombstoned] = await Promise.all([this.l2Call('delete', () => l2.delete(keys)), this.tombstoneReplicas(ids)])
    const published = await this.publishKeys(ids)
    return deleted && tombstoned && published
  }

  private queueInvalidations(ids: readonly string[]): void {
    for (const id of ids) this.pendingInvalidations.add(id)
    // Bounded: past the cap the oldest are dropped (their L2 copies then live until their TTL), and it is logged.
    if (this.pendingInvalidations.size > MAX_PENDING_INVALIDATIONS) {
      let excess = this.pendingInvalidations.size - MAX_PENDING_INVALIDATIONS
      for (const id of this.pendingInvalidations) {
        if (excess-- <= 0) break
        this.pendingInvalidations.delete(id)
      }
      this.log.error({ cap: MAX_PENDING_INVALIDATIONS }, 'too many invalidations waiting for L2; the oldest were dropped')
    }
    if (this.retryTimer === null && !this.ctx.closed) {
      this.retryTimer = setInterval(() => void this.retryPendingInvalidations(), INVALIDATION_RETRY_MS)
      this.retryTimer.unref()
    }
  }

  private stopRetrying(): void {
    if (this.retryTimer !== null && this.pendingInvalidations.size === 0) {
      clearInterval(this.retryTimer)
      this.retryTimer = null
    }
  }

  /** The ids whose invalidation is waiting for L2. */
  pendingInvalidationCount(): number {
    return this.pendingInvalidations.size
  }

  wrap<A extends unknown[], R extends T | null | undefined>(
    fn: (...args: A) => R | Promise<R>,
    options: WrapOptions<A> = {},
  ): (...args: A) => Promise<Awaited<R>> {
    if (typeof fn !== 'function') throw new TierCacheError('INVALID_CONFIG', `entity "${this.name}": wrap expects a function`)
    const keyOf = options.key ?? defaultKey
    return async (...args: A): Promise<Awaited<R>> => (await this.get(keyOf(...args), () => fn(...args))) as Awaited<R>
  }

  invalidating<A extends unknown[], R>(fn: (...args: A) => R, options: InvalidatingOptions<A, R>): (...args: A) => Promise<Awaited<R>> {
    if (typeof fn !== 'function' || typeof options?.keys !== 'function') {
      throw new TierCacheError(
        'INVALID_CONFIG',
        `entity "${this.name}": invalidating expects a function and { keys: (args, result) => ids }`,
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
    return { ...this.counters }
  }

  /** The keys of this entity detected hot in this instance, hottest first. */
  hotKeys(): HotKeyInfo[] {
    return this.hot?.list() ?? []
  }

  /** Drops the local state of these ids: L1 entries, running single-flights, and stamps them so loads in flight do not refill L1. */
  dropLocal(ids: readonly string[]): void {
    for (const id of ids) {
      this.stamps.invalidate(id)
      this.flights.forget(id)
      this.l1?.delete(id)
    }
  }

  /** Applies ids invalidated by another instance. */
  receiveInvalidation(ids: readonly string[]): void {
    this.counters.invalidationsReceived += ids.length
    this.metrics.invalidate(ids, 'remote')
    this.dropLocal(ids)
  }

  /** Drops L1 entries carrying any of `tags` that were created at or before `stamp`. */
  dropTagged(tags: readonly string[], stamp: number): void {
    const l1 = this.l1
    if (l1 === null || this.policy.tags === null) return
    const wanted = new Set(tags)
    for (const [id, entry] of l1.entries()) {
      if (entry.createdAt <= stamp && entry.tags.some((tag) => wanted.has(tag))) l1.delete(id)
    }
  }

  /** Stops the retry timer (the cache is closing). */
  stop(): void {
    if (this.retryTimer !== null) clearInterval(this.retryTimer)
    this.retryTimer = null
  }

  /** Drops every L1 entry and distrusts every load in flight (bus messages may have been missed, or the cache closes). */
  clearLocal(): void {
    this.stamps.invalidateAll()
    this.l1?.clear()
  }

  // ---- read path -------------------------------------------------------------------------

  private async readThrough(id: string, loader: Loader<unknown>): Promise<unknown> {
    this.assertOpen()
    const readAt = performance.now()
    const startEpoch = this.stamps.current()
    const now = this.ctx.clock.now()
    const local = this.l1?.get(id)
    // Without L2, the L1 copy is the only copy: past its TTL it is stale, servable within grace.
    let stale: Candidate | undefined = local !== undefined && local.staleUntil > now ? local : undefined
    if (this.l2 !== null) {
      const replica = this.hot?.isHot(id) ? this.hot.pickReplica(id) : undefined
      if (replica !== undefined) {
        const fromReplica = await this.readReplica(id, replica, startEpoch)
        if (fromReplica !== undefined) {
          this.metrics.read('l2', id, readAt)
          return fromReplica
        }
      }
      const remote = await this.readRemote(id)
      if (replica !== undefined && remote.status === 'hit' && remote.candidate.freshUntil > now) {
        // The replica was missing (new, evicted, or tombstoned by an invalidation): repair it from the primary.
        void this.writeReplicas(id, remote.raw, remote.candidate, now, [replica], startEpoch)
      }
      if (remote.status === 'error') {
        // L2 cannot be asked; the L1 copy is past its L1 TTL but the value itself may still be fresh.
        if (local !== undefined && local.valueFreshUntil > now) {
          this.counters.l1Hits++
          this.metrics.read('l1', id, readAt)
          return local.value
        }
      } else {
        // L2 answered: it is the truth. An L2 miss means expired or invalidated, so the L1 copy must not be served.
        stale = undefined
      }
      if (remote.status === 'hit') {
        const candidate = remote.candidate
        if (candidate.freshUntil > now) {
          this.counters.l2Hits++
          this.metrics.read('l2', id, readAt)
          this.fillL1(id, candidate, startEpoch)
          if (now >= earlyRefreshFrom(candidate.freshUntil, candidate.loadMs, this.policy.beta)) {
            this.considerEarlyRefresh(id, loader, candidate, now)
          }
          return candidate.value
        }
        if (candidate.staleUntil > now && (stale === undefined || candidate.createdAt >= stale.createdAt)) stale = candidate
      }
    }
    if (stale !== undefined) return this.metrics.readWhenSettled('stale', id, readAt, this.serveStale(id, loader, stale))
    this.counters.misses++
    return this.metrics.readWhenSettled('miss', id, readAt, this.loadFresh(id, loader, startEpoch, undefined))
  }

  /** Returns a stale value within grace at once (or after `softTimeout` if the refresh is slower) and refreshes it. */
  private async serveStale(id: string, loader: Loader<unknown>, stale: Candidate): Promise<unknown> {
    const refresh = this.startRefresh(id, loader, stale)
    if (refresh !== undefined && this.policy.softTimeoutMs > 0) {
      const raced = await raceTimeout(
        refresh.catch(() => stale.value),
        this.policy.softTimeoutMs,
      )
      if (raced.done) {
        if (raced.value !== stale.value) return raced.value
      }
    }
    this.counters.staleServed++
    return stale.value
  }

  /**
   * Starts a background refresh of `id` unless one runs already or a failed one is backing
   * off. With `current` at hand, a refresh that finds another instance loading gives up at once.
   */
  private startRefresh(id: string, loader: Loader<unknown>, current: Candidate): Promise<unknown> | undefined {
    const running = this.refreshing.get(id)
    if (running !== undefined) return running
    const now = this.ctx.clock.now()
    const blocked = this.backoff.get(id)
    if (blocked !== undefined && blocked.until > now) return undefined
    const refresh = this.loadFresh(id, loader, this.stamps.current(), current).then(
      (value) => {
        this.backoff.delete(id)
        return value
      },
      (error: unknown) => {
        const delayMs = Math.min((blocked?.delayMs ?? FAIL_SAFE_FIRST_BACKOFF_MS / 2) * 2, FAIL_SAFE_MAX_BACKOFF_MS)
        this.backoff.set(id, { until: this.ctx.clock.now() + delayMs, delayMs })
        this.log.warn({ err: error, id, retryInMs: delayMs }, 'refresh failed; serving the stale value (fail-safe)')
        throw error
      },
    )
    this.refreshing.set(id, refresh)
    const done = (): void => {
      if (this.refreshing.get(id) === refresh) this.refreshing.delete(id)
    }
    refresh.then(done, done)
    return refresh
  }

  private considerEarlyRefresh(id: string, loader: Loader<unknown>, current: Candidate, now: number): void {
    if (this.refreshing.has(id)) return
    const freshUntil = 'valueFreshUntil' in current ? (current as L1Entry).valueFreshUntil : current.freshUntil
    if (!shouldRefreshEarly(now, freshUntil, current.loadMs, this.policy.beta, this.ctx.random)) return
    this.counters.earlyRefreshes++
    this.startRefresh(id, loader, current)?.catch(() => {})
  }

  /**
   * Loads `id` once across the fleet: takes the L2 lock and loads, or, when another instance
   * holds it, serves `stale` if there is one, else waits for that instance's value.
   */
  private async loadFresh(id: string, loader: Loader<unknown>, startEpoch: number, stale: Candidate | undefined): Promise<unknown> {
    const l2 = this.l2
    if (l2 === null) return this.runLoad(id, loader, startEpoch, null, false)
    const lease: Lease = { lockKey: this.keys.lockKey(id), token: randomUUID() }
    // The read that sent us here and this lock are two steps: another instance may have written
    // the value (and released its lock) in between. Reading the value in the same pipeline as the
    // lock costs no extra round trip and avoids that second load.
    const [lock, landed] = await Promise.all([this.tryLock(lease), this.readRemote(id)])
    if (lock === 'held' && landed.status === 'hit' && landed.candidate.freshUntil > this.ctx.clock.now()) {
      await this.release(lease)
      this.counters.l2Hits++
      this.fillL1(id, landed.candidate, startEpoch)
      return landed.candidate.value
    }
    if (lock === 'held') return this.runLoad(id, loader, startEpoch, lease, true)
    // Without L2 there is no lease to write under: load and keep the value in L1 only.
    if (lock === 'unavailable') return this.runLoad(id, loader, startEpoch, null, false)
    if (stale !== undefined) return stale.value
    this.counters.lockWaits++
    return this.waitForHolder(id, loader, startEpoch)
  }

  /**
   * Another instance is loading `id`: poll L2 with backoff for its value. When the lock frees
   * without a value (its holder failed or died), take it and load. After `lockWait` without
   * either, load without the lock, and do not write L2 (there is no lease to write under).
   */
  private async waitForHolder(id: string, loader: Loader<unknown>, startEpoch: number): Promise<unknown> {
    let delay = WAIT_FIRST_POLL_MS
    for (let waited = 0; waited < this.policy.lockWaitMs; waited += delay, delay = Math.min(delay * 1.5, WAIT_MAX_POLL_MS)) {
      await sleep(delay)
      const found = await this.freshFromRemote(id, startEpoch)
      if (found !== undefined) return found.value
      const lease: Lease = { lockKey: this.keys.lockKey(id), token: randomUUID() }
      const lock = await this.tryLock(lease)
      if (lock === 'held') {
        // The value may have landed between the read and the lock.
        const landed = await this.freshFromRemote(id, startEpoch)
        if (landed !== undefined) {
          await this.release(lease)
          return landed.value
        }
        return this.runLoad(id, loader, startEpoch, lease, true)
      }
      if (lock === 'unavailable') break
    }
    return this.runLoad(id, loader, startEpoch, null, false)
  }

  private async freshFromRemote(id: string, startEpoch: number): Promise<Candidate | undefined> {
    const remote = await this.readRemote(id)
    if (remote.status !== 'hit' || remote.candidate.freshUntil <= this.ctx.clock.now()) return undefined
    this.counters.l2Hits++
    this.fillL1(id, remote.candidate, startEpoch)
    return remote.candidate
  }

  /**
   * Runs the loader under the hard timeout and stores its result. The lock is released on
   * every way out: the lease write releases it on success; errors, timeouts and values that
   * cannot be cached release it explicitly.
   */
  private async runLoad(id: string, loader: Loader<unknown>, startEpoch: number, lease: Lease | null, writeL2: boolean): Promise<unknown> {
    const startedAt = this.ctx.clock.now()
    this.counters.loads++
    const loadAt = performance.now()
    let loading: Promise<unknown>
    try {
      loading = loadTracing.hasSubscribers
        ? traced(loadTracing, this.traceContext('load', id), async () => loader(id))
        : Promise.resolve(loader(id))
    } catch (error) {
      loading = Promise.reject(error)
    }
    let raced: Awaited<ReturnType<typeof raceTimeout<unknown>>>
    try {
      raced = await raceTimeout(loading, this.policy.hardTimeoutMs)
    } catch (error) {
      this.counters.loadErrors++
      this.metrics.load([id], loadAt, error)
      if (lease !== null) await this.release(lease)
      throw error
    }
    if (!raced.done) {
      this.counters.loadTimeouts++
      this.metrics.load(
        [id],
        loadAt,
        new TierCacheError('LOADER_TIMEOUT', `entity "${this.name}" id "${id}": the loader passed hardTimeout`),
      )
      if (lease !== null) await this.release(lease)
      // The load goes on; its value still helps this instance's L1 (it is checked against invalidations like any other).
      loading.then((value) => this.store(id, value, this.ctx.clock.now() - startedAt, startedAt, startEpoch, null, false)).catch(() => {})
      throw new TierCacheError(
        'LOADER_TIMEOUT',
        `entity "${this.name}" id "${id}": the loader took longer than hardTimeout ${this.policy.hardTimeoutMs} ms and there is no stale value to serve`,
      )
    }
    this.metrics.load([id], loadAt, undefined)
    const stored = await this.store(id, raced.value, this.ctx.clock.now() - startedAt, startedAt, startEpoch, lease, writeL2)
    return stored
  }

  private async readThroughMany(ids: string[], batchLoader: BatchLoader<unknown>): Promise<unknown[]> {
    this.assertOpen()
    const readAt = performance.now()
    const startEpoch = this.stamps.current()
    const values = new Array<unknown>(ids.length)
    let missing: number[] = ids.map((_, i) => i)
    const single: Loader<unknown> = async (id) => alignBatch(this.name, [id], await batchLoader([id]))[0]
    const l2 = this.l2
    if (l2 !== null) {
      let raws: (string | null)[] | undefined
      try {
        raws = await l2.getMany(ids.map((id) => this.keys.valueKey(id)))
      } catch (error) {
        this.l2Failed('getMany', error)
      }
      if (raws !== undefined) {
        const now = this.ctx.clock.now()
        const reads = await Promise.all(ids.map((id, i) => this.parseRemote(id, raws[i] ?? null)))
        missing = []
        const stale: Promise<void>[] = []
        reads.forEach((read, i) => {
          const id = ids[i] as string
          if (read.status === 'hit' && read.candidate.freshUntil > now) {
            this.counters.l2Hits++
            this.metrics.read('l2', id, readAt)
            this.fillL1(id, read.candidate, startEpoch)
            values[i] = read.candidate.value
          } else if (read.status === 'hit' && read.candidate.staleUntil > now) {
            stale.push(
              this.metrics.readWhenSettled('stale', id, readAt, this.serveStale(id, single, read.candidate)).then((v) => {
                values[i] = v
              }),
            )
          } else {
            missing.push(i)
          }
        })
        await Promise.all(stale)
      }
    }
    if (missing.length === 0) return values
    this.counters.misses += missing.length
    // Fleet-wide single-flight per id: ids whose lock this instance takes are loaded in one batch;
    // ids another instance is loading are waited for like a single get.
    const leases = new Map<number, Lease | null>()
    const waits: Promise<void>[] = []
    if (l2 !== null) {
      await Promise.all(
        missing.map(async (index) => {
          const id = ids[index] as string
          const lease: Lease = { lockKey: this.keys.lockKey(id), token: randomUUID() }
          const lock = await this.tryLock(lease)
          if (lock === 'busy') {
            this.counters.lockWaits++
            waits.push(
              this.waitForHolder(id, single, startEpoch).then((v) => {
                values[index] = v
              }),
            )
          } else {
            leases.set(index, lock === 'held' ? lease : null)
          }
        }),
      )
    } else {
      for (const index of missing) leases.set(index, null)
    }
    const toLoad = [...leases.keys()].sort((a, b) => a - b)
    if (toLoad.length > 0) {
      const loadIds = toLoad.map((i) => ids[i] as string)
      const releaseAll = async (): Promise<void> => {
        await Promise.all([...leases.values()].map((lease) => (lease === null ? undefined : this.release(lease))))
      }
      const startedAt = this.ctx.clock.now()
      this.counters.loads++
      const loadAt = performance.now()
      let loaded: unknown
      try {
        const raced = await raceTimeout(
          loadTracing.hasSubscribers
            ? traced(loadTracing, this.traceContext('load', loadIds), async () => batchLoader(loadIds))
            : Promise.resolve().then(() => batchLoader(loadIds)),
          this.policy.hardTimeoutMs,
        )
        if (!raced.done) {
          this.counters.loadTimeouts++
          throw new TierCacheError(
            'LOADER_TIMEOUT',
            `entity "${this.name}": the batch loader took longer than hardTimeout ${this.policy.hardTimeoutMs} ms`,
          )
        }
        loaded = raced.value
        this.metrics.load(loadIds, loadAt, undefined)
      } catch (error) {
        if (!(error instanceof TierCacheError)) this.counters.loadErrors++
        this.metrics.load(loadIds, loadAt, error)
        await releaseAll()
        throw error
      }
      let byIndex: unknown[]
      try {
        byIndex = alignBatch(this.name, loadIds, loaded)
      } catch (error) {
        await releaseAll()
        throw error
      }
      const loadMs = this.ctx.clock.now() - startedAt
      await Promise.all(
        toLoad.map(async (index, k) => {
          const lease = leases.get(index) ?? null
          values[index] = await this.store(ids[index] as string, byIndex[k], loadMs, startedAt, startEpoch, lease, lease !== null)
        }),
      )
    }
    await Promise.all(waits)
    for (const index of missing) this.metrics.read('miss', ids[index] as string, readAt)
    return values
  }

  // ---- write path ------------------------------------------------------------------------

  /**
   * Caches a loaded value and returns the cache's copy of it. A value that cannot be cached
   * (not serializable, too large, absent with negative caching off) is returned as loaded.
   * With a lease, L2 is written only while the lease stands; a lost lease means an
   * invalidation raced this load, so neither L2 nor L1 takes the value.
   */
  private async store(
    id: string,
    value: unknown,
    loadMs: number,
    startedAt: number,
    startEpoch: number,
    lease: Lease | null,
    writeL2: boolean,
  ): Promise<unknown> {
    const absent = value === null || value === undefined
    const freshMs = freshLifetimeMs(this.policy, absent, this.ctx.random)
    let payload = ''
    let copy: unknown = value
    if (freshMs > 0 && !absent) {
      try {
        payload = serializeOrThrow(this.ctx.serializer, value, `entity "${this.name}" id "${id}": the loaded value`)
        const size = Buffer.byteLength(payload, 'utf8')
        if (size > this.policy.maxValueBytes) {
          throw new TierCacheError(
            'VALUE_TOO_LARGE',
            `entity "${this.name}" id "${id}": the value is ${size} bytes serialized, over maxValueBytes ${this.policy.maxValueBytes}; it was returned but not cached`,
          )
        }
        copy = this.ctx.serializer.deserialize(payload)
      } catch (error) {
        this.counters.uncacheableValues++
        this.log.warn({ err: error, id }, 'value not cached')
        if (lease !== null) await this.release(lease)
        return value
      }
    }
    if (freshMs === 0) {
      if (lease !== null) await this.release(lease)
      return value
    }
    let tags: readonly string[] = []
    try {
      tags = this.policy.tags?.(id, copy) ?? []
      if (!Array.isArray(tags) || !tags.every(isValidTag)) {
        throw new TierCacheError(
          'INVALID_CONFIG',
          `entity "${this.name}": tags() must return an array of non-empty strings of at most 512 characters`,
        )
      }
    } catch (error) {
      this.counters.uncacheableValues++
      this.log.warn({ err: error, id }, 'value not cached: its tags could not be computed')
      if (lease !== null) await this.release(lease)
      return copy
    }
    const now = this.ctx.clock.now()
    const envelope: Envelope = {
      kind: value === null ? 'n' : value === undefined ? 'u' : 'v',
      payload,
      createdAt: Math.min(startedAt, now),
      freshUntil: now + freshMs,
      staleUntil: now + freshMs + this.policy.graceMs,
      loadMs,
      tags,
    }
    const l2 = this.l2
    if (l2 !== null && writeL2) {
      const raw = encodeEnvelope(envelope)
      const ttlMs = envelope.staleUntil - now
      if (lease !== null) {
        let written = false
        try {
          written = await l2.setIfLeaseHeld(this.keys.valueKey(id), lease.lockKey, lease.token, raw, ttlMs)
        } catch (error) {
          this.l2Failed('setIfLeaseHeld', error)
          await this.release(lease)
        }
        if (!written) {
          this.log.debug({ id }, 'lease lost to an invalidation; the loaded value is returned but not cached')
          return copy
        }
      } else {
        await this.l2Call('set', () => l2.set(this.keys.valueKey(id), raw, ttlMs))
      }
      if (this.hot?.replicates && this.hot.isHot(id)) {
        void this.writeReplicas(id, raw, { value: copy, ...envelope, size: payload.length }, now, this.hot.replicaKeys(id), startEpoch)
      }
    }
    this.fillL1(id, { value: copy, ...envelope, size: payload.length }, startEpoch)
    return copy
  }

  private fillL1(id: string, candidate: Candidate, startEpoch: number): void {
    const l1 = this.l1
    if (l1 === null || this.stamps.invalidatedSince(id, startEpoch)) return
    // Without an L1 of its own, the entity keeps only hot keys, for the hot L1 TTL.
    const ttlMs = this.policy.l1?.ttlMs ?? (this.hot?.isHot(id) ? this.hot.policy.l1TtlMs : 0)
    if (ttlMs <= 0) return
    if (candidate.tags.length > 0 && this.ctx.tagStamps.invalidatesLocally(candidate.tags, candidate.createdAt)) return
    const now = this.ctx.clock.now()
    l1.set(id, {
      value: candidate.value,
      createdAt: candidate.createdAt,
      freshUntil: Math.min(now + ttlMs, candidate.freshUntil),
      valueFreshUntil: candidate.freshUntil,
      staleUntil: candidate.staleUntil,
      loadMs: candidate.loadMs,
      earlyFrom: earlyRefreshFrom(candidate.freshUntil, candidate.loadMs, this.policy.beta),
      tags: candidate.tags,
      size: candidate.size + 64,
    })
  }

  // ---- L2 access -------------------------------------------------------------------------

  private async readRemote(id: string): Promise<RemoteRead> {
    let raw: string | null
    try {
      raw = await (this.l2 as GuardedStore).get(this.keys.valueKey(id))
    } catch (error) {
      this.l2Failed('get', error)
      return { status: 'error' }
    }
    return this.parseRemote(id, raw)
  }

  /**
   * `replicaKey` is set when `raw` was read from a hot key's replica rather than the value key.
   * Synchronous for untagged entries: the L2 hit path should not pay for an await it does not need.
   */
  private parseRemote(id: string, raw: string | null, replicaKey?: string): RemoteRead | Promise<RemoteRead> {
    if (raw === null) return { status: 'miss' }
    const envelope = typeof raw === 'string' ? decodeEnvelope(raw) : undefined
    if (envelope === undefined) {
      // A replica that is not an envelope is a tombstone left by an invalidation: a plain miss.
      return replicaKey === undefined ? this.dropCorrupt(id, 'not a tiercache envelope of this version') : MISS
    }
    let value: unknown
    if (envelope.kind === 'n') value = null
    else if (envelope.kind === 'u') value = undefined
    else {
      try {
        value = this.ctx.serializer.deserialize(envelope.payload)
      } catch {
        return replicaKey === undefined ? this.dropCorrupt(id, 'the payload does not deserialize') : MISS
      }
      // A value of an older shape (a deploy changed it) is reloaded rather than handed out.
      if (this.policy.schema !== null && !matchesSchema(this.policy.schema, value)) {
        return this.dropMismatch(id, replicaKey ?? this.keys.valueKey(id))
      }
    }
    const hit: RemoteRead = {
      status: 'hit',
      raw,
      candidate: {
        value,
        createdAt: envelope.createdAt,
        freshUntil: envelope.freshUntil,
        staleUntil: envelope.staleUntil,
        loadMs: envelope.loadMs,
        tags: envelope.tags,
        size: envelope.payload.length,
      },
    }
    return envelope.tags.length === 0 ? hit : this.checkTags(hit, envelope.tags, envelope.createdAt)
  }

  /** A tagged entry is a miss when one of its tags was invalidated after it was created. */
  private async checkTags(hit: RemoteRead, tags: readonly string[], createdAt: number): Promise<RemoteRead> {
    try {
      return (await this.ctx.tagStamps.invalidates(tags, createdAt)) ? { status: 'miss' } : hit
    } catch (error) {
      this.l2Failed('getTagStamps', error)
      return { status: 'error' }
    }
  }

  // ---- hot keys ----------------------------------------------------------------------------

  /** Reads a hot key from one of its replicas; `undefined` when the replica has no fresh value. */
  private async readReplica(id: string, replicaKey: string, startEpoch: number): Promise<unknown> {
    let raw: string | null
    try {
      raw = await (this.l2 as GuardedStore).getHot(replicaKey)
    } catch (error) {
      this.l2Failed('get', error)
      return undefined
    }
    const read = await this.parseRemote(id, raw, replicaKey)
    if (read.status !== 'hit' || read.candidate.freshUntil <= this.ctx.clock.now()) return undefined
    this.counters.l2Hits++
    this.fillL1(id, read.candidate, startEpoch)
    return read.candidate.value
  }

  /**
   * Copies a hot key's envelope to its replicas. A copy made from a read older than
   * REPLICA_MAX_LAG_MS is dropped: invalidation tombstones last REPLICA_TOMBSTONE_MS, longer
   * than that, so a replica write can never land after an invalidation it did not see.
   */
  private async writeReplicas(
    id: string,
    raw: string,
    candidate: Candidate,
    readAt: number,
    replicaKeys: readonly string[],
    startEpoch: number,
  ): Promise<void> {
    const l2 = this.l2
    if (l2 === null || replicaKeys.length === 0) return
    const now = this.ctx.clock.now()
    const ttlMs = Math.min(candidate.freshUntil - now, REPLICA_TTL_MS)
    if (now - readAt > REPLICA_MAX_LAG_MS || ttlMs <= 0 || this.stamps.invalidatedSince(id, startEpoch)) return
    await Promise.all(replicaKeys.map((key) => this.l2Call('setReplica', () => l2.setReplica(key, raw, ttlMs))))
  }

  private async tombstoneReplicas(ids: readonly string[]): Promise<boolean> {
    const l2 = this.l2
    const hot = this.hot
    if (l2 === null || hot === null || !hot.replicates) return true
    const keys = ids.flatMap((id) => hot.replicaKeys(id))
    return keys.length === 0 || this.l2Call('tombstone', () => l2.tombstone(keys, REPLICA_TOMBSTONE_MS))
  }

  private hotTransition(id: string, isHot: boolean, info: HotKeyInfo): void {
    this.log.info({ id, rate: Math.round(info.rate), share: info.share }, isHot ? 'key became hot' : 'key cooled down')
    this.ctx.emit(isHot ? 'hot-key' : 'cold-key', { entity: this.name, ...info })
  }

  private async tryLock(lease: Lease): Promise<'held' | 'busy' | 'unavailable'> {
    try {
      const held = await (this.l2 as GuardedStore).acquireLock(lease.lockKey, lease.token, this.policy.lockTtlMs)
      return held ? 'held' : 'busy'
    } catch (error) {
      this.l2Failed('acquireLock', error)
      return 'unavailable'
    }
  }

  /** Releases a lock this load holds; never rejects (a failed release leaves a lock that expires by its TTL). */
  private async release(lease: Lease): Promise<void> {
    try {
      await this.l2?.releaseLock(lease.lockKey, lease.token)
    } catch (error) {
      this.l2Failed('releaseLock', error)
    }
  }

  private async publishKeys(ids: readonly string[]): Promise<boolean> {
    const bus = this.ctx.bus
    return bus === null ? true : this.l2Call('publish', () => bus.publishKeys(this.name, ids))
  }

  /** Runs an L2 call whose failure is logged and counted, never thrown; true when it succeeded. */
  private async l2Call(operation: string, call: () => Promise<unknown>): Promise<boolean> {
    try {
      await call()
      return true
    } catch (error) {
      this.l2Failed(operation, error)
      return false
    }
  }

  /**
   * Removes a corrupt or foreign entry and reads as a miss once it is gone: the reload that
   * follows writes the key again, and a removal still in flight could delete the new value.
   */
  private async dropCorrupt(id: string, why: string): Promise<RemoteRead> {
    this.counters.corruptEntries++
    const key = this.keys.valueKey(id)
    this.log.warn({ id, key, why }, 'corrupt entry in L2 removed')
    await this.l2Call('delete', () => (this.l2 as GuardedStore).delete([key]))
    return MISS
  }

  /** Like {@link dropCorrupt}, for a value of another shape than the entity's schema. */
  private async dropMismatch(id: string, key: string): Promise<RemoteRead> {
    this.counters.schemaMismatches++
    this.log.warn({ id, key }, 'entry in L2 does not match the entity schema; removed and reloaded')
    await this.l2Call('delete', () => (this.l2 as GuardedStore).delete([key]))
    return MISS
  }

  private l2Failed(operation: string, error: unknown): void {
    this.counters.l2Errors++
    if (error instanceof TierCacheError && error.code === 'L2_TIMEOUT') this.counters.l2Timeouts++
    this.metrics.l2Error(operation, error)
    const now = this.ctx.clock.now()
    if (now - this.lastL2ErrorLogAt >= L2_ERROR_LOG_INTERVAL_MS) {
      this.lastL2ErrorLogAt = now
      this.log.warn({ err: error, operation }, 'L2 call failed; served without L2')
    }
  }

  private assertOpen(): void {
    if (this.ctx.closed) throw new TierCacheError('CACHE_CLOSED', `entity "${this.name}": the cache was closed; create a new one`)
  }
}

/** A schema that throws counts as a mismatch: a broken check must not hand out unchecked values. */
function matchesSchema(schema: ValueSchema, value: unknown): boolean {
  try {
    return schema.safeParse(value).success === true
  } catch {
    return false
  }
}

function defaultKey(...args: unknown[]): string {
  const first = args[0]
  if (typeof first === 'string') return first
  if (typeof first === 'number' && Number.isFinite(first)) return String(first)
  throw new TierCacheError('INVALID_KEY', 'wrap: the first argument is not a string or number; pass { key: (...args) => id }')
}

function alignBatch(entity: string, ids: readonly string[], loaded: unknown): unknown[] {
  if (loaded instanceof Map) return ids.map((id) => loaded.get(id))
  if (Array.isArray(loaded) && loaded.length === ids.length) return loaded
  throw new TierCacheError(
    'INVALID_LOADER_RESULT',
    `entity "${entity}": a batch loader must return an array aligned with its ids (length ${ids.length}) or a Map from id to value, got ${Array.isArray(loaded) ? `an array of length ${loaded.length}` : typeof loaded}`,
  )
}
