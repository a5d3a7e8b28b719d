import { type CacheOptions, resolveCacheOptions } from './config/config-schema.js'
import { createEngine, type Engine } from './engine.js'
import type { EntityCache, EntityHandle } from './entity/entity-handle.js'
import type { HotKeyInfo } from './hot-keys/hot-key-detector.js'
import type { BreakerState } from './l2/circuit-breaker.js'
import { namespaceKeyPrefixes } from './l2/key-builder.js'
import type { EntityLatencies } from './metrics/entity-metrics.js'
import type { EntityStats } from './metrics/entity-stats.js'
import type { MetricsReading } from './metrics/metric-families.js'
import { type PrometheusOptions, renderPrometheus } from './metrics/prometheus.js'
import { TierCacheError } from './util/errors.js'

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
  /**
   * `breaker` when the state of L2 as a whole changes (see {@link breakerState}; also logged):
   * `open` once every shard's breaker is open, `closed` again once any shard's is.
   */
  on(event: 'breaker', listener: (event: BreakerEvent) => void): this
  /** `shard-breaker` when one shard's circuit breaker changes state (also logged; a store without shards is one shard, `store`). */
  on(event: 'shard-breaker', listener: (event: ShardBreakerEvent) => void): this
  off(event: 'hot-key' | 'cold-key' | 'breaker' | 'shard-breaker', listener: (event: never) => void): this
  /**
   * The state of L2 as a whole (`closed` without L2). Breakers are kept per shard (the store's
   * `shardOf`, one shard without it): L2 is `open` only when every shard's breaker is, `closed`
   * while any shard's is closed, else `half-open`. One dead master of three leaves it `closed`;
   * {@link breakerShards} shows that shard.
   */
  breakerState(): BreakerState
  /** Each shard seen so far (as the store names it) and the state of its breaker; `{}` without L2. */
  breakerShards(): Record<string, BreakerState>
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

/** One shard's circuit breaker changed state. */
export interface ShardBreakerEvent extends BreakerEvent {
  /** The shard, as the store's `shardOf` names it (`store` for a store without shards). */
  shard: string
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
  return new Cache(createEngine(resolveCacheOptions(options)))
}

/** The public face of one cache's {@link Engine}: lifecycle, introspection and events. */
class Cache implements TierCache {
  readonly namespace: string
  readonly instanceId: string
  private checked: Promise<void> | undefined
  private closing: Promise<void> | undefined

  constructor(private readonly engine: Engine) {
    this.namespace = engine.options.namespace
    this.instanceId = engine.instanceId
    // Watching the connection sends nothing, yet turns a refused password or TLS certificate into
    // an error in the log at startup even if nobody calls ready(); ready() adds the probe of rights.
    engine.options.l2?.ready?.().catch((error: unknown) => {
      if (!engine.ctx.closed) engine.logger.error({ err: error }, 'L2 refused this cache; reads miss L2 until this is fixed')
    })
  }

  entity<T>(name: string): EntityHandle<T> {
    const entity = this.engine.entities.get(name)
    if (entity === undefined) {
      const known = [...this.engine.entities.keys()].map((n) => `"${n}"`).join(', ') || 'none'
      throw new TierCacheError(
        'UNKNOWN_ENTITY',
        `no entity named ${JSON.stringify(name)} in namespace "${this.namespace}"; configured: ${known}`,
      )
    }
    return entity as EntityCache<T>
  }

  invalidateTag(tags: string | readonly string[]): Promise<void> {
    return this.engine.ctx.invalidateTags(tags)
  }

  ready(): Promise<void> {
    const { bus, options } = this.engine
    this.checked ??= options.l2?.ready?.({ probeKey: `{${this.namespace}:!ready}`, ...(bus === null ? {} : { channel: bus.channel }) })
    return Promise.all([this.checked, bus?.ready()]).then(() => undefined)
  }

  stats(): Record<string, Readonly<EntityStats>> {
    const all: Record<string, Readonly<EntityStats>> = {}
    for (const [name, entity] of this.engine.entities) all[name] = entity.stats()
    return all
  }

  latencies(): Record<string, EntityLatencies> {
    const all: Record<string, EntityLatencies> = {}
    for (const [name, entity] of this.engine.entities) all[name] = entity.metrics.snapshot()
    return all
  }

  metrics(options?: PrometheusOptions): string {
    return renderPrometheus(this.metricsReading(), options)
  }

  metricsReading(): MetricsReading {
    const hotKeys: Record<string, number> = {}
    for (const [name, entity] of this.engine.entities) hotKeys[name] = entity.hotKeys().length
    return {
      namespace: this.namespace,
      stats: this.stats(),
      latencies: this.latencies(),
      hotKeys,
      breaker: this.breakerState(),
      breakerOpens: this.engine.breakerOpens(),
    }
  }

  hotKeys(): HotKeyEvent[] {
    return [...this.engine.entities].flatMap(([name, entity]) => entity.hotKeys().map((info) => ({ entity: name, ...info })))
  }

  on(event: string, listener: (event: never) => void): this {
    this.engine.emitter.on(event, listener as (event: unknown) => void)
    return this
  }

  off(event: string, listener: (event: never) => void): this {
    this.engine.emitter.off(event, listener as (event: unknown) => void)
    return this
  }

  async clear(): Promise<number> {
    const { ctx, options, bus, logger } = this.engine
    if (ctx.closed) throw new TierCacheError('CACHE_CLOSED', 'clear: the cache was closed; create a new one')
    this.engine.dropLocal()
    const store = options.l2
    if (store === null) return 0
    if (store.deleteByPrefix === undefined) {
      throw new TierCacheError(
        'INVALID_CONFIG',
        `clear: the L2 store "${store.name}" cannot delete keys by prefix (RemoteStore.deleteByPrefix)`,
      )
    }
    const deleted = await store.deleteByPrefix(namespaceKeyPrefixes(this.namespace))
    // Reads that ran during the walk may have put entries it already passed into L1.
    this.engine.dropLocal()
    await bus?.publishClear()
    logger.info({ deleted }, 'namespace cleared')
    return deleted
  }

  breakerState(): BreakerState {
    return this.engine.ctx.l2?.breakerState ?? 'closed'
  }

  breakerShards(): Record<string, BreakerState> {
    return this.engine.ctx.l2?.shardStates() ?? {}
  }

  close(): Promise<void> {
    if (this.closing === undefined) {
      const { ctx, entities, outbox, bus } = this.engine
      ctx.closed = true
      outbox.stop()
      for (const entity of entities.values()) entity.clearLocal()
      this.closing = (async () => {
        await bus?.close()
        await ctx.l2?.close()
      })()
    }
    return this.closing
  }
}
