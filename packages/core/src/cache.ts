import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import type { BreakerState } from './circuit-breaker.js'
import { type CacheOptions, resolveCacheOptions } from './config-schema.js'
import type { EngineContext } from './engine-context.js'
import { EntityCache, type EntityHandle } from './entity-cache.js'
import { TierCacheError } from './errors.js'
import { GuardedStore } from './guarded-store.js'
import type { HotKeyInfo } from './hot-key-detector.js'
import { InvalidationBus } from './invalidation-bus.js'
import { isValidTag, namespaceKeyPrefixes, tagStampKey } from './key-builder.js'
import { type EntityLatencies, publishTagInvalidation } from './metrics/entity-metrics.js'
import type { MetricsReading } from './metrics/metric-families.js'
import { type PrometheusOptions, renderPrometheus } from './metrics/prometheus.js'
import { invalidateTracing, type TraceContext, traced } from './metrics/tracing.js'
import type { EntityStats } from './stats.js'
import { TagStamps } from './tag-stamps.js'

/**
 * A two-tier cache: an in-process L1 per entity in front of an optional shared L2
 * (a `RemoteStore`). Created by {@link createCache}.
 */
export interface TierCache {
  /** The namespace every key of this cache lives under. */
  readonly namespace: string
  /** This instance's id on the invalidation bus (random per cache). */
  readonly instanceId: string
  /** The typed handle of a configured entity; throws `UNKNOWN_ENTITY` for a name not in `entities`. */
  entity<T>(name: string): EntityHandle<T>
  /**
   * Makes every entry carrying any of these tags a miss, on every instance: one stamp per tag
   * in L2 (O(1) Redis work per tag, no key scans), local L1 entries dropped, and the tags
   * published on the bus for the other instances.
   */
  invalidateTag(tags: string | readonly string[]): Promise<void>
  /**
   * Resolves once L2 has passed its startup check (connected, credentials accepted, and every
   * command the cache sends allowed on its keys and bus channel, see `RemoteStore.ready`) and the
   * invalidation bus is subscribed; at once without L2. While L2 is unreachable it waits. Rejects
   * with `L2_AUTH` when L2 refuses this cache (wrong password, missing ACL rights, an untrusted
   * TLS certificate): that does not heal by waiting. Call it once at startup.
   */
  ready(): Promise<void>
  /** Counters of every entity in this process. */
  stats(): Record<string, Readonly<EntityStats>>
  /** Latency histograms of every entity in this process: reads by the tier that answered, and loader calls. */
  latencies(): Record<string, EntityLatencies>
  /**
   * Every counter, gauge and latency histogram of this cache in the Prometheus text format
   * (serve it on `/metrics` with `PROMETHEUS_CONTENT_TYPE`). Names and labels: docs/metrics.md.
   */
  metrics(options?: PrometheusOptions): string
  /**
   * Every reading the exporters use (counters, latency histograms, hot keys, breaker), taken now;
   * `metricFamilies(reading)` turns it into metrics. For exporters other than the built-in one,
   * e.g. `@tiercache/prom-client`, which call it at scrape time.
   */
  metricsReading(): MetricsReading
  /** The keys detected hot in this instance, per entity, hottest first, with their read rates (reads/s). */
  hotKeys(): HotKeyEvent[]
  /**
   * Removes every entry of this namespace, in every tier and on every instance: drops this
   * instance's L1 entries, deletes every L2 key of the namespace (values, locks and leases,
   * hot-key replicas, tag stamps; on Redis with `SCAN` + `UNLINK` in batches on every master,
   * never `KEYS`), then tells the other instances on the bus to drop their L1 entries. Loads in
   * flight when it starts cannot put their values back (their leases are gone). Resolves with
   * the number of L2 keys deleted (0 without L2). 100,000 keys took 0.5 to 1.2 s on a local
   * 3-master cluster (the masters are walked in parallel); not bounded by the L2 timeout. Rejects when L2 cannot be cleared (a master
   * down, a store without `deleteByPrefix`; L1 is dropped anyway, L2 may be partly cleared) or
   * the bus message cannot be sent (other instances then keep their L1 entries until L1 TTL).
   */
  clear(): Promise<number>
  /**
   * Listens to cache events: `hot-key` and `cold-key` when a key turns hot or cools down in
   * this instance (also logged at info).
   */
  on(event: 'hot-key' | 'cold-key', listener: (event: HotKeyEvent) => void): this
  /** `breaker` when the L2 circuit breaker changes state (`closed`, `open`, `half-open`; also logged). */
  on(event: 'breaker', listener: (event: BreakerEvent) => void): this
  off(event: 'hot-key' | 'cold-key' | 'breaker', listener: (event: never) => void): this
  /** The state of the L2 circuit breaker (`closed` without L2). */
  breakerState(): BreakerState
  /**
   * Releases every connection and timer the cache owns, including its L2 store's (a store
   * made from a client you passed in leaves that client open). Idempotent.
   */
  close(): Promise<void>
}

/** The L2 circuit breaker changed state. */
export interface BreakerEvent {
  state: BreakerState
  previous: BreakerState
}

/** A key that turned hot or cooled down: its entity, id, and the read rate and share that decided it. */
export interface HotKeyEvent extends HotKeyInfo {
  entity: string
}

/**
 * Creates a cache. Options are validated here, once: a bad option throws `INVALID_CONFIG`
 * naming its path. Without `l2` the cache runs as L1 only, in one process, with the same API.
 *
 * @example
 * const cache = createCache({ namespace: 'shop', entities: { product: { ttl: '10m' } } })
 * const product = await cache.entity<Product>('product').get(id, () => db.products.find(id))
 */
export function createCache(options: CacheOptions): TierCache {
  const resolved = resolveCacheOptions(options)
  const instanceId = randomUUID()
  const logger = resolved.logger.child({ component: 'tiercache', namespace: resolved.namespace })
  const entities = new Map<string, EntityCache<unknown>>()
  const emitter = new EventEmitter()
  const l2 =
    resolved.l2 === null
      ? null
      : GuardedStore.create(resolved.l2, {
          failureThreshold: resolved.breaker.failures,
          coolDownMs: resolved.breaker.coolDownMs,
          probeSuccesses: resolved.breaker.probes,
          timeoutMs: resolved.l2TimeoutMs,
          clock: resolved.clock,
          onStateChange: (state, previous) => breakerChanged(state, previous),
        })
  const tagStamps = new TagStamps(resolved.namespace, l2)
  // Tag invalidations that could not reach L2 or the bus, retried when L2 is back.
  const pendingTags = new Map<string, number>()
  let breakerOpens = 0
  // A tag stamp must outlive every entry that may carry the tag.
  let tagStampTtlMs = 0
  for (const policy of resolved.entities.values()) tagStampTtlMs = Math.max(tagStampTtlMs, 2 * (policy.ttlMs + policy.graceMs))

  const bus =
    l2 !== null && resolved.bus
      ? new InvalidationBus(l2, `{${resolved.namespace}}!bus`, instanceId, logger.child({ component: 'bus' }), {
          onKeys: (entity, ids) => entities.get(entity)?.receiveInvalidation(ids),
          onTags: (tags, stamp) => {
            publishTagInvalidation(resolved.namespace, tags, 'remote')
            applyTags(tags, stamp)
          },
          onClear: () => {
            tagStamps.clear()
            for (const entity of entities.values()) entity.clearLocal()
          },
          onMissedMessages: () => {
            tagStamps.clear()
            for (const entity of entities.values()) entity.clearLocal()
          },
        })
      : null

  function breakerChanged(state: BreakerState, previous: BreakerState): void {
    if (state === 'open') breakerOpens++
    const log = state === 'open' ? logger.warn.bind(logger) : logger.info.bind(logger)
    log({ state, previous }, state === 'open' ? 'L2 circuit breaker opened: serving from L1 and loaders' : `L2 circuit breaker ${state}`)
    emitter.emit('breaker', { state, previous })
    if (state === 'closed') {
      for (const entity of entities.values()) void entity.retryPendingInvalidations()
      void retryTags()
    }
  }

  async function propagateTags(tags: readonly string[], stamp: number): Promise<boolean> {
    if (l2 === null) return true
    let ok = true
    try {
      await l2.stampTags(
        tags.map((tag) => tagStampKey(resolved.namespace, tag)),
        stamp,
        tagStampTtlMs,
      )
    } catch (error) {
      ok = false
      logger.warn({ err: error, tags }, 'tag invalidation could not reach L2; it will be retried')
    }
    try {
      await bus?.publishTags(tags, stamp)
    } catch (error) {
      ok = false
      logger.warn({ err: error, tags }, 'tag invalidation could not be published on the bus; it will be retried')
    }
    return ok
  }

  async function retryTags(): Promise<void> {
    if (pendingTags.size === 0) return
    const entries = [...pendingTags]
    pendingTags.clear()
    for (const [tag, stamp] of entries) {
      if (!(await propagateTags([tag], stamp))) pendingTags.set(tag, Math.max(stamp, pendingTags.get(tag) ?? 0))
    }
  }

  function applyTags(tags: readonly string[], stamp: number): void {
    for (const tag of tags) tagStamps.record(tag, stamp)
    for (const entity of entities.values()) entity.dropTagged(tags, stamp)
  }

  function invalidateTagsTraced(input: string | readonly string[]): Promise<void> {
    if (!invalidateTracing.hasSubscribers) return invalidateTags(input)
    const tags = typeof input === 'string' ? [input] : Array.isArray(input) ? input : []
    const context: TraceContext = { operation: 'invalidate', namespace: resolved.namespace, entity: undefined, tags, count: tags.length }
    return traced(invalidateTracing, context, () => invalidateTags(input))
  }

  async function invalidateTags(input: string | readonly string[]): Promise<void> {
    const tags = typeof input === 'string' ? [input] : input
    if (!Array.isArray(tags) || !tags.every(isValidTag)) {
      throw new TierCacheError('INVALID_KEY', 'invalidateTag: a tag must be a non-empty string of at most 512 characters')
    }
    if (ctx.closed) throw new TierCacheError('CACHE_CLOSED', 'invalidateTag: the cache was closed; create a new one')
    if (tags.length === 0) return
    const stamp = resolved.clock.now()
    applyTags(tags, stamp)
    publishTagInvalidation(resolved.namespace, tags, 'local')
    if (!(await propagateTags(tags, stamp))) for (const tag of tags) pendingTags.set(tag, stamp)
  }

  const ctx: EngineContext = {
    namespace: resolved.namespace,
    l2,
    bus,
    tagStamps,
    clock: resolved.clock,
    random: resolved.random,
    serializer: resolved.serializer,
    logger,
    traceIds: resolved.traceIds,
    invalidateTags: invalidateTagsTraced,
    emit: (event, payload) => emitter.emit(event, payload),
    closed: false,
  }
  for (const [name, policy] of resolved.entities) entities.set(name, new EntityCache(ctx, policy))
  bus?.start()
  // Watching the connection sends nothing, yet turns a refused password or TLS certificate into
  // an error in the log at startup even if nobody calls ready(); ready() adds the probe of rights.
  const store = resolved.l2
  store?.ready?.().catch((error: unknown) => {
    if (!ctx.closed) logger.error({ err: error }, 'L2 refused this cache; reads miss L2 until this is fixed')
  })
  let checked: Promise<void> | undefined
  let closing: Promise<void> | undefined

  const cache: TierCache = {
    namespace: resolved.namespace,
    instanceId,
    entity<T>(name: string): EntityHandle<T> {
      const entity = entities.get(name)
      if (entity === undefined) {
        const known = [...entities.keys()].map((n) => `"${n}"`).join(', ') || 'none'
        throw new TierCacheError(
          'UNKNOWN_ENTITY',
          `no entity named ${JSON.stringify(name)} in namespace "${ctx.namespace}"; configured: ${known}`,
        )
      }
      return entity as EntityCache<T>
    },
    invalidateTag: invalidateTagsTraced,
    ready() {
      checked ??= store?.ready?.({ probeKey: `{${resolved.namespace}:!ready}`, ...(bus === null ? {} : { channel: bus.channel }) })
      return Promise.all([checked, bus?.ready()]).then(() => undefined)
    },
    stats() {
      const all: Record<string, Readonly<EntityStats>> = {}
      for (const [name, entity] of entities) all[name] = entity.stats()
      return all
    },
    latencies() {
      const all: Record<string, EntityLatencies> = {}
      for (const [name, entity] of entities) all[name] = entity.metrics.snapshot()
      return all
    },
    metrics(options?: PrometheusOptions) {
      return renderPrometheus(cache.metricsReading(), options)
    },
    metricsReading() {
      const hotKeys: Record<string, number> = {}
      for (const [name, entity] of entities) hotKeys[name] = entity.hotKeys().length
      return {
        namespace: resolved.namespace,
        stats: cache.stats(),
        latencies: cache.latencies(),
        hotKeys,
        breaker: cache.breakerState(),
        breakerOpens,
      }
    },
    hotKeys() {
      return [...entities].flatMap(([name, entity]) => entity.hotKeys().map((info) => ({ entity: name, ...info })))
    },
    on(event: string, listener: (event: never) => void) {
      emitter.on(event, listener as (event: unknown) => void)
      return cache
    },
    off(event: string, listener: (event: never) => void) {
      emitter.off(event, listener as (event: unknown) => void)
      return cache
    },
    async clear() {
      if (ctx.closed) throw new TierCacheError('CACHE_CLOSED', 'clear: the cache was closed; create a new one')
      const dropLocal = () => {
        tagStamps.clear()
        for (const entity of entities.values()) entity.clearLocal()
      }
      dropLocal()
      const store = resolved.l2
      if (store === null) return 0
      if (store.deleteByPrefix === undefined) {
        throw new TierCacheError(
          'INVALID_CONFIG',
          `clear: the L2 store "${store.name}" cannot delete keys by prefix (RemoteStore.deleteByPrefix)`,
        )
      }
      const deleted = await store.deleteByPrefix(namespaceKeyPrefixes(resolved.namespace))
      // Reads that ran during the walk may have put entries it already passed into L1.
      dropLocal()
      await bus?.publishClear()
      logger.info({ deleted }, 'namespace cleared')
      return deleted
    },
    breakerState() {
      return l2?.breakerState ?? 'closed'
    },
    close() {
      if (closing === undefined) {
        ctx.closed = true
        for (const entity of entities.values()) {
          entity.stop()
          entity.clearLocal()
        }
        closing = (async () => {
          await bus?.close()
          await ctx.l2?.close()
        })()
      }
      return closing
    },
  }
  return cache
}
