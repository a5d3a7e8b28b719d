import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import type { ResolvedCacheOptions } from './config/config-schema.js'
import type { EngineContext } from './entity/engine-context.js'
import { EntityCache } from './entity/entity-handle.js'
import { InvalidationBus } from './invalidation/invalidation-bus.js'
import { InvalidationOutbox } from './invalidation/invalidation-outbox.js'
import { propagateTags, type TagPropagation } from './invalidation/propagation.js'
import { TagStamps } from './invalidation/tag-stamps.js'
import type { BreakerState } from './l2/circuit-breaker.js'
import { GuardedStore } from './l2/guarded-store.js'
import { isValidTag } from './l2/key-builder.js'
import { publishTagInvalidation } from './metrics/entity-metrics.js'
import { invalidateTracing, type TraceContext, traced } from './metrics/tracing.js'
import { TierCacheError } from './util/errors.js'
import type { Logger } from './util/logger.js'

/**
 * The parts of one cache, wired together: the guarded L2, the bus, tag stamps, the invalidation
 * outbox and the entities. `createCache` builds one and hands it to the public `TierCache`.
 */
export interface Engine {
  readonly options: ResolvedCacheOptions
  readonly instanceId: string
  readonly logger: Logger
  readonly ctx: EngineContext
  readonly entities: ReadonlyMap<string, EntityCache<unknown>>
  readonly emitter: EventEmitter
  readonly bus: InvalidationBus | null
  readonly tagStamps: TagStamps
  readonly outbox: InvalidationOutbox
  /** How often the L2 breaker opened since the cache was created. */
  breakerOpens(): number
  /** Drops every L1 entry and tag stamp this instance holds and distrusts loads in flight. */
  dropLocal(): void
}

/** Wires the parts of a cache from its resolved options. Starts the bus. */
export function createEngine(options: ResolvedCacheOptions): Engine {
  const instanceId = randomUUID()
  const logger = options.logger.child({ component: 'tiercache', namespace: options.namespace })
  const entities = new Map<string, EntityCache<unknown>>()
  const emitter = new EventEmitter()
  let breakerOpens = 0
  const l2 =
    options.l2 === null
      ? null
      : GuardedStore.create(options.l2, {
          failureThreshold: options.breaker.failures,
          coolDownMs: options.breaker.coolDownMs,
          probeSuccesses: options.breaker.probes,
          timeoutMs: options.l2TimeoutMs,
          clock: options.clock,
          namespace: options.namespace,
          onStoreChange: (state, previous) => breakerChanged(state, previous),
          onShardChange: (shard, state, previous) => shardBreakerChanged(shard, state, previous),
        })
  const tagStamps = new TagStamps(options.namespace, l2)
  const dropLocal = (): void => {
    tagStamps.clear()
    for (const entity of entities.values()) entity.clearLocal()
  }
  const applyTags = (tags: readonly string[], stamp: number): void => {
    for (const tag of tags) tagStamps.record(tag, stamp)
    for (const entity of entities.values()) entity.dropTagged(tags, stamp)
  }
  const bus =
    l2 !== null && options.bus
      ? new InvalidationBus(l2, `{${options.namespace}}!bus`, instanceId, logger.child({ component: 'bus' }), {
          onKeys: (entity, ids) => entities.get(entity)?.receiveInvalidation(ids),
          onTags: (tags, stamp) => {
            publishTagInvalidation(options.namespace, tags, 'remote')
            applyTags(tags, stamp)
          },
          onClear: dropLocal,
          onMissedMessages: dropLocal,
        })
      : null
  const tagPropagation: TagPropagation = { namespace: options.namespace, l2, bus, stampTtlMs: tagStampTtlMs(options), log: logger }
  const outbox = new InvalidationOutbox(
    {
      ids: (entity, ids) => entities.get(entity)?.propagate(ids) ?? Promise.resolve([]),
      tags: (tags, stamp) => propagateTags(tagPropagation, tags, stamp),
    },
    logger.child({ component: 'invalidation-outbox' }),
  )

  function breakerChanged(state: BreakerState, previous: BreakerState): void {
    if (state === 'open') breakerOpens++
    const log = state === 'open' ? logger.warn.bind(logger) : logger.info.bind(logger)
    log(
      { state, previous },
      state === 'open' ? 'L2 circuit breaker opened on every shard: serving from L1 and loaders' : `L2 circuit breaker ${state}`,
    )
    emitter.emit('breaker', { state, previous })
  }

  function shardBreakerChanged(shard: string, state: BreakerState, previous: BreakerState): void {
    const log = state === 'open' ? logger.warn.bind(logger) : logger.info.bind(logger)
    log(
      { shard, state, previous },
      state === 'open'
        ? 'L2 circuit breaker of a shard opened: its keys are served from L1 and loaders'
        : `L2 circuit breaker of a shard ${state}`,
    )
    emitter.emit('shard-breaker', { shard, state, previous })
    // What waited for this shard (invalidations, lock releases) goes as soon as it may be reachable:
    // at half-open its calls are sent before the read that triggered the probe (same connection,
    // so in order), and that read cannot see a value whose deletion was waiting.
    if (state === 'half-open' || state === 'closed') void outbox.retry()
  }

  function invalidateTagsTraced(input: string | readonly string[]): Promise<void> {
    if (!invalidateTracing.hasSubscribers) return invalidateTags(input)
    const tags = typeof input === 'string' ? [input] : Array.isArray(input) ? input : []
    const context: TraceContext = { operation: 'invalidate', namespace: options.namespace, entity: undefined, tags, count: tags.length }
    return traced(invalidateTracing, context, () => invalidateTags(input))
  }

  async function invalidateTags(input: string | readonly string[]): Promise<void> {
    const tags = typeof input === 'string' ? [input] : input
    if (!Array.isArray(tags) || !tags.every(isValidTag)) {
      throw new TierCacheError('INVALID_KEY', 'invalidateTag: a tag must be a non-empty string of at most 512 characters')
    }
    if (ctx.closed) throw new TierCacheError('CACHE_CLOSED', 'invalidateTag: the cache was closed; create a new one')
    if (tags.length === 0) return
    const stamp = options.clock.now()
    applyTags(tags, stamp)
    publishTagInvalidation(options.namespace, tags, 'local')
    if (!(await propagateTags(tagPropagation, tags, stamp))) outbox.addTags(tags, stamp)
  }

  const ctx: EngineContext = {
    namespace: options.namespace,
    l2,
    bus,
    tagStamps,
    outbox,
    durableInvalidation: options.durableInvalidation,
    clock: options.clock,
    random: options.random,
    serializer: options.serializer,
    logger,
    traceIds: options.traceIds,
    invalidateTags: invalidateTagsTraced,
    emit: (event, payload) => emitter.emit(event, payload),
    closed: false,
  }
  for (const [name, policy] of options.entities) entities.set(name, new EntityCache(ctx, policy))
  // A topology change may have promoted a replica that missed a deletion: apply what waits again now.
  l2?.onTopologyChange(() => void outbox.retry())
  bus?.start()
  return {
    options,
    instanceId,
    logger,
    ctx,
    entities,
    emitter,
    bus,
    tagStamps,
    outbox,
    breakerOpens: () => breakerOpens,
    dropLocal,
  }
}

/** A tag stamp must outlive every entry that may carry the tag: twice the longest TTL + grace of any entity. */
function tagStampTtlMs(options: ResolvedCacheOptions): number {
  let ttlMs = 0
  for (const policy of options.entities.values()) ttlMs = Math.max(ttlMs, 2 * (policy.ttlMs + policy.graceMs))
  return ttlMs
}
