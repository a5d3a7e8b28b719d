import type { LRUCache } from 'lru-cache'
import type { EntityPolicy } from '../config/entity-policy.js'
import type { HotKeyInfo } from '../hot-keys/hot-key-detector.js'
import { HotKeys } from '../hot-keys/hot-keys.js'
import { InvalidationStamps } from '../invalidation/invalidation-stamps.js'
import type { GuardedStore } from '../l2/guarded-store.js'
import { KeyBuilder } from '../l2/key-builder.js'
import { EntityMetrics } from '../metrics/entity-metrics.js'
import { type EntityStats, emptyStats } from '../metrics/entity-stats.js'
import { TierCacheError } from '../util/errors.js'
import type { Logger } from '../util/logger.js'
import type { EngineContext } from './engine-context.js'
import { createL1Store, type L1Entry } from './l1-store.js'
import { L2Failures } from './l2-failures.js'

/**
 * What every step of one entity's read and write paths shares: its policy, keys, tiers,
 * counters and logging. Built once per entity by {@link createEntityCore}; the steps
 * (`read-through.ts`, `fleet-load.ts`, `value-writer.ts`, ...) are functions of it, so the
 * state they share is visible in one type rather than spread over one class's `this`.
 */
export interface EntityCore {
  readonly name: string
  readonly policy: EntityPolicy
  readonly ctx: EngineContext
  readonly keys: KeyBuilder
  /** The in-process tier, or `null` when the entity keeps nothing in process. */
  readonly l1: LRUCache<string, L1Entry> | null
  /** L2 behind the cache's breaker, with this entity's per-call timeout; `null` for L1-only. */
  readonly l2: GuardedStore | null
  /** Hot-key detection and replica placement, or `null` when the entity has `hot: false`. */
  readonly hot: HotKeys | null
  /** Per-id invalidation epochs: a load older than an invalidation does not fill L1. */
  readonly stamps: InvalidationStamps
  /** This entity's counters (`cache.stats()`), written in place. */
  readonly counters: EntityStats
  readonly metrics: EntityMetrics
  readonly log: Logger
  readonly l2Failures: L2Failures
  /**
   * Whether L1 ever held a tagged entry: set by the L1 fill, so a tag invalidation scans the L1
   * of an entity whose `tags` function or loaders tag entries, and skips the others.
   */
  l1Tagged: boolean
}

/** Builds the shared state of one entity from the cache's context and the entity's resolved policy. */
export function createEntityCore(ctx: EngineContext, policy: EntityPolicy): EntityCore {
  const keys = new KeyBuilder(ctx.namespace, policy.name)
  const log = ctx.logger.child({ component: 'entity', entity: policy.name })
  const counters = emptyStats()
  const metrics = new EntityMetrics(ctx.namespace, policy.name)
  const l2 = ctx.l2 === null ? null : ctx.l2.withTimeout(policy.l2TimeoutMs)
  const hotPolicy = policy.hot
  const onHot = (id: string, isHot: boolean, info: HotKeyInfo): void => {
    log.info({ id, rate: Math.round(info.rate), share: info.share }, isHot ? 'key became hot' : 'key cooled down')
    ctx.emit(isHot ? 'hot-key' : 'cold-key', { entity: policy.name, ...info })
  }
  const hot = hotPolicy === null ? null : new HotKeys(hotPolicy, keys, l2, ctx.clock, ctx.random, onHot)
  // An entity without L1 still keeps its hot keys in a small L1 (promotion), unless l1Ttl is 0.
  let l1: LRUCache<string, L1Entry> | null = null
  if (policy.l1 !== null) l1 = createL1Store(policy.l1)
  else if (hotPolicy !== null && hotPolicy.l1TtlMs > 0) {
    l1 = createL1Store({ ttlMs: hotPolicy.l1TtlMs, maxEntries: hotPolicy.capacity, maxBytes: 0 })
  }
  return {
    name: policy.name,
    policy,
    ctx,
    keys,
    l1,
    l2,
    hot,
    stamps: new InvalidationStamps(Math.max(1_000, policy.l1?.maxEntries ?? 1_000)),
    counters,
    metrics,
    log,
    l2Failures: new L2Failures(counters, metrics, log, ctx.clock),
    l1Tagged: false,
  }
}

/** Throws `CACHE_CLOSED` once the cache was closed. */
export function assertOpen(core: EntityCore): void {
  if (core.ctx.closed) {
    throw new TierCacheError('CACHE_CLOSED', `entity "${core.name}": the cache was closed; create a new one`, { entity: core.name })
  }
}
