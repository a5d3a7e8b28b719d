import type { LRUCache } from 'lru-cache'
import type { EngineContext } from './engine-context.js'
import { type EntityPolicy, freshLifetimeMs } from './entity-policy.js'
import { decodeEnvelope, type Envelope, encodeEnvelope } from './envelope.js'
import { TierCacheError } from './errors.js'
import { InvalidationStamps } from './invalidation-stamps.js'
import { assertValidId, KeyBuilder } from './key-builder.js'
import { createL1Store, type L1Entry } from './l1-store.js'
import type { Logger } from './logger.js'
import { serializeOrThrow } from './serializer.js'
import { SingleFlight } from './single-flight.js'
import { type EntityStats, emptyStats } from './stats.js'

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
}

/**
 * A typed handle on one entity of a cache: read-through, batch reads, writes and invalidation.
 * Obtained from `cache.entity<T>(name)`; cheap to keep and share.
 */
export interface EntityHandle<T> {
  /** The entity's name. */
  readonly name: string
  /**
   * Returns the cached value of `id`, or loads it with `loader` (once per key across
   * concurrent callers in this process), caches it and returns it. The value returned after a
   * load is the cache's own copy (serialized and parsed back), so every caller sees the same
   * shape whether it hit or loaded. Loader errors reach the caller and are not cached.
   */
  get<R extends T | null | undefined>(id: string, loader: Loader<R>): Promise<R>
  /**
   * Reads many ids: L1 first, then one L2 batch, then one `batchLoader` call for all misses.
   * Results are aligned with `ids`.
   */
  getMany<R extends T | null | undefined>(ids: readonly string[], batchLoader: BatchLoader<R>): Promise<R[]>
  /** Writes a value into every tier as if it had just been loaded. */
  set(id: string, value: T | null | undefined): Promise<void>
  /** Removes ids from every tier, so the next read loads them again. */
  invalidate(ids: string | readonly string[]): Promise<void>
  /** Wraps a repository function into a read-through function with the same parameters and result type. */
  wrap<A extends unknown[], R extends T | null | undefined>(
    fn: (...args: A) => R | Promise<R>,
    options?: WrapOptions<A>,
  ): (...args: A) => Promise<Awaited<R>>
  /** Wraps a write: runs it, then invalidates the ids it names, then returns its result. */
  invalidating<A extends unknown[], R>(fn: (...args: A) => R, options: InvalidatingOptions<A, R>): (...args: A) => Promise<Awaited<R>>
  /** This entity's counters in this process. */
  stats(): Readonly<EntityStats>
}

interface StoredValue {
  value: unknown
  cached: boolean
}

// Failures of L2 are logged at most this often per entity, so an outage does not flood logs.
const L2_ERROR_LOG_INTERVAL_MS = 10_000

/**
 * The engine of one entity: the read path of DESIGN.md §3 (L1, single-flight, L2, load) and
 * the local half of the write path.
 */
export class EntityCache<T> implements EntityHandle<T> {
  readonly name: string
  private readonly keys: KeyBuilder
  private readonly l1: LRUCache<string, L1Entry> | null
  private readonly flights = new SingleFlight<unknown>()
  private readonly stamps: InvalidationStamps
  private readonly counters = emptyStats()
  private readonly log: Logger
  private lastL2ErrorLogAt = Number.NEGATIVE_INFINITY

  constructor(
    private readonly ctx: EngineContext,
    private readonly policy: EntityPolicy,
  ) {
    this.name = policy.name
    this.keys = new KeyBuilder(ctx.namespace, policy.name)
    this.l1 = policy.l1 === null ? null : createL1Store(policy.l1)
    this.stamps = new InvalidationStamps(Math.max(1_000, policy.l1?.maxEntries ?? 1_000))
    this.log = ctx.logger.child({ component: 'entity', entity: policy.name })
  }

  async get<R extends T | null | undefined>(id: string, loader: Loader<R>): Promise<R> {
    assertValidId(id, this.name)
    const l1 = this.l1
    if (l1 !== null) {
      const entry = l1.get(id)
      if (entry !== undefined && entry.freshUntil > this.ctx.clock.now()) {
        this.counters.l1Hits++
        return entry.value as R
      }
    }
    return this.flights.run(id, () => this.readThrough(id, loader)) as Promise<R>
  }

  async getMany<R extends T | null | undefined>(ids: readonly string[], batchLoader: BatchLoader<R>): Promise<R[]> {
    if (!Array.isArray(ids)) throw new TierCacheError('INVALID_KEY', `entity "${this.name}": getMany expects an array of ids`)
    for (const id of ids) assertValidId(id, this.name)
    const results = new Array<R>(ids.length)
    const waiting = new Map<string, Promise<unknown>>()
    const toFetch: string[] = []
    const now = this.ctx.clock.now()
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as string
      if (waiting.has(id)) continue
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
        toFetch.push(id)
        waiting.set(id, Promise.resolve()) // placeholder, replaced below
      }
    }
    if (toFetch.length > 0) {
      const batch = this.readThroughMany(toFetch, batchLoader)
      toFetch.forEach((id, index) => {
        const one = batch.then((values) => values[index])
        this.flights.set(id, one)
        waiting.set(id, one)
      })
      await batch
    }
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as string
      const pending = waiting.get(id)
      if (pending !== undefined) results[i] = (await pending) as R
    }
    return results
  }

  async set(id: string, value: T | null | undefined): Promise<void> {
    assertValidId(id, this.name)
    this.assertOpen()
    this.stamps.invalidate(id)
    this.flights.forget(id)
    await this.store(id, value, 0, this.stamps.current())
  }

  async invalidate(ids: string | readonly string[]): Promise<void> {
    const list = typeof ids === 'string' ? [ids] : ids
    if (!Array.isArray(list)) throw new TierCacheError('INVALID_KEY', `entity "${this.name}": invalidate expects an id or an array of ids`)
    for (const id of list) assertValidId(id, this.name)
    this.assertOpen()
    for (const id of list) {
      this.stamps.invalidate(id)
      this.flights.forget(id)
      this.l1?.delete(id)
    }
    this.counters.invalidations += list.length
    const l2 = this.ctx.l2
    if (l2 !== null && list.length > 0) {
      const keys: string[] = []
      for (const id of list) keys.push(this.keys.valueKey(id), this.keys.lockKey(id))
      try {
        await l2.delete(keys)
      } catch (error) {
        this.l2Failed('delete', error)
      }
    }
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
      return result
    }
  }

  stats(): Readonly<EntityStats> {
    return { ...this.counters }
  }

  /** Drops every L1 entry (used when the cache closes). */
  clearLocal(): void {
    this.l1?.clear()
  }

  private async readThrough(id: string, loader: Loader<unknown>): Promise<unknown> {
    this.assertOpen()
    const startEpoch = this.stamps.current()
    const l2 = this.ctx.l2
    if (l2 !== null) {
      const envelope = await this.readRemote(id)
      if (envelope !== undefined && envelope.freshUntil > this.ctx.clock.now()) {
        const value = this.decodeValue(id, envelope)
        if (value !== CORRUPT) {
          this.counters.l2Hits++
          this.fillL1(id, value, envelope, startEpoch)
          return value
        }
      }
    }
    this.counters.misses++
    const startedAt = this.ctx.clock.now()
    let loaded: unknown
    try {
      this.counters.loads++
      loaded = await loader(id)
    } catch (error) {
      this.counters.loadErrors++
      throw error
    }
    const stored = await this.store(id, loaded, this.ctx.clock.now() - startedAt, startEpoch)
    return stored.value
  }

  private async readThroughMany(ids: string[], batchLoader: BatchLoader<unknown>): Promise<unknown[]> {
    this.assertOpen()
    const startEpoch = this.stamps.current()
    const values = new Array<unknown>(ids.length)
    let missing: number[] = ids.map((_, i) => i)
    const l2 = this.ctx.l2
    if (l2 !== null) {
      let raws: (string | null)[] | undefined
      try {
        raws = await l2.getMany(ids.map((id) => this.keys.valueKey(id)))
      } catch (error) {
        this.l2Failed('getMany', error)
      }
      if (raws !== undefined) {
        const now = this.ctx.clock.now()
        missing = []
        for (let i = 0; i < ids.length; i++) {
          const id = ids[i] as string
          const envelope = this.parseRemote(id, raws[i] ?? null)
          const value = envelope !== undefined && envelope.freshUntil > now ? this.decodeValue(id, envelope) : CORRUPT
          if (envelope !== undefined && value !== CORRUPT) {
            this.counters.l2Hits++
            this.fillL1(id, value, envelope, startEpoch)
            values[i] = value
          } else {
            missing.push(i)
          }
        }
      }
    }
    if (missing.length === 0) return values
    this.counters.misses += missing.length
    const missingIds = missing.map((i) => ids[i] as string)
    const startedAt = this.ctx.clock.now()
    let loaded: readonly unknown[] | ReadonlyMap<string, unknown>
    try {
      this.counters.loads++
      loaded = await batchLoader(missingIds)
    } catch (error) {
      this.counters.loadErrors++
      throw error
    }
    const loadMs = this.ctx.clock.now() - startedAt
    const byIndex = alignBatch(this.name, missingIds, loaded)
    await Promise.all(
      missing.map(async (index, k) => {
        const stored = await this.store(ids[index] as string, byIndex[k], loadMs, startEpoch)
        values[index] = stored.value
      }),
    )
    return values
  }

  /**
   * Caches a loaded value in every tier and returns the cache's copy of it. A value that
   * cannot be cached (not serializable, too large, absent with negative caching off) is
   * returned as loaded.
   */
  private async store(id: string, value: unknown, loadMs: number, startEpoch: number): Promise<StoredValue> {
    const absent = value === null || value === undefined
    const freshMs = freshLifetimeMs(this.policy, absent, this.ctx.random)
    if (freshMs === 0) return { value, cached: false }
    let payload = ''
    let copy: unknown = value
    if (!absent) {
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
        return { value, cached: false }
      }
    }
    const now = this.ctx.clock.now()
    const envelope: Envelope = {
      kind: value === null ? 'n' : value === undefined ? 'u' : 'v',
      payload,
      createdAt: now,
      freshUntil: now + freshMs,
      staleUntil: now + freshMs + this.policy.graceMs,
      loadMs,
      tags: this.policy.tags?.(id, copy) ?? [],
    }
    const l2 = this.ctx.l2
    if (l2 !== null) {
      try {
        await l2.set(this.keys.valueKey(id), encodeEnvelope(envelope), envelope.staleUntil - now)
      } catch (error) {
        this.l2Failed('set', error)
      }
    }
    this.fillL1(id, copy, envelope, startEpoch)
    return { value: copy, cached: true }
  }

  private fillL1(id: string, value: unknown, envelope: Envelope, startEpoch: number): void {
    const l1 = this.l1
    const l1Policy = this.policy.l1
    if (l1 === null || l1Policy === null || this.stamps.invalidatedSince(id, startEpoch)) return
    const now = this.ctx.clock.now()
    l1.set(id, {
      value,
      createdAt: envelope.createdAt,
      freshUntil: Math.min(now + l1Policy.ttlMs, envelope.freshUntil),
      staleUntil: envelope.staleUntil,
      size: envelope.payload.length + 64,
    })
  }

  private async readRemote(id: string): Promise<Envelope | undefined> {
    try {
      const raw = await (this.ctx.l2 as NonNullable<EngineContext['l2']>).get(this.keys.valueKey(id))
      return this.parseRemote(id, raw)
    } catch (error) {
      this.l2Failed('get', error)
      return undefined
    }
  }

  private parseRemote(id: string, raw: string | null): Envelope | undefined {
    if (raw === null) return undefined
    const envelope = typeof raw === 'string' ? decodeEnvelope(raw) : undefined
    if (envelope === undefined) this.dropCorrupt(id, 'not a tiercache envelope of this version')
    return envelope
  }

  private decodeValue(id: string, envelope: Envelope): unknown {
    if (envelope.kind === 'n') return null
    if (envelope.kind === 'u') return undefined
    try {
      return this.ctx.serializer.deserialize(envelope.payload)
    } catch {
      this.dropCorrupt(id, 'the payload does not deserialize')
      return CORRUPT
    }
  }

  private dropCorrupt(id: string, why: string): void {
    this.counters.corruptEntries++
    const key = this.keys.valueKey(id)
    this.log.warn({ id, key, why }, 'corrupt entry in L2 removed')
    this.ctx.l2?.delete([key]).catch((error: unknown) => this.l2Failed('delete', error))
  }

  private l2Failed(operation: string, error: unknown): void {
    this.counters.l2Errors++
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

const CORRUPT = Symbol('corrupt')

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
