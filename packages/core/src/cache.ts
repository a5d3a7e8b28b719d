import { randomUUID } from 'node:crypto'
import { type CacheOptions, resolveCacheOptions } from './config-schema.js'
import type { EngineContext } from './engine-context.js'
import { EntityCache, type EntityHandle } from './entity-cache.js'
import { TierCacheError } from './errors.js'
import { InvalidationBus } from './invalidation-bus.js'
import { isValidTag, tagStampKey } from './key-builder.js'
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
  /** Resolves once the invalidation bus is subscribed (at once without L2 or bus). */
  ready(): Promise<void>
  /** Counters of every entity in this process. */
  stats(): Record<string, Readonly<EntityStats>>
  /**
   * Releases every connection and timer the cache owns, including its L2 store's (a store
   * made from a client you passed in leaves that client open). Idempotent.
   */
  close(): Promise<void>
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
  const tagStamps = new TagStamps(resolved.namespace, resolved.l2)
  // A tag stamp must outlive every entry that may carry the tag.
  let tagStampTtlMs = 0
  for (const policy of resolved.entities.values()) tagStampTtlMs = Math.max(tagStampTtlMs, 2 * (policy.ttlMs + policy.graceMs))

  const bus =
    resolved.l2 !== null && resolved.bus
      ? new InvalidationBus(resolved.l2, `{${resolved.namespace}}!bus`, instanceId, logger.child({ component: 'bus' }), {
          onKeys: (entity, ids) => entities.get(entity)?.receiveInvalidation(ids),
          onTags: (tags, stamp) => applyTags(tags, stamp),
          onMissedMessages: () => {
            tagStamps.clear()
            for (const entity of entities.values()) entity.clearLocal()
          },
        })
      : null

  function applyTags(tags: readonly string[], stamp: number): void {
    for (const tag of tags) tagStamps.record(tag, stamp)
    for (const entity of entities.values()) entity.dropTagged(tags, stamp)
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
    const l2 = resolved.l2
    if (l2 === null) return
    try {
      await l2.stampTags(
        tags.map((tag) => tagStampKey(resolved.namespace, tag)),
        stamp,
        tagStampTtlMs,
      )
    } catch (error) {
      logger.warn({ err: error, tags }, 'tag invalidation could not reach L2')
    }
    try {
      await bus?.publishTags(tags, stamp)
    } catch (error) {
      logger.warn({ err: error, tags }, 'tag invalidation could not be published on the bus')
    }
  }

  const ctx: EngineContext = {
    namespace: resolved.namespace,
    l2: resolved.l2,
    bus,
    tagStamps,
    clock: resolved.clock,
    random: resolved.random,
    serializer: resolved.serializer,
    logger,
    invalidateTags,
    closed: false,
  }
  for (const [name, policy] of resolved.entities) entities.set(name, new EntityCache(ctx, policy))
  bus?.start()
  let closing: Promise<void> | undefined

  return {
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
    invalidateTag: invalidateTags,
    ready() {
      return bus === null ? Promise.resolve() : bus.ready()
    },
    stats() {
      const all: Record<string, Readonly<EntityStats>> = {}
      for (const [name, entity] of entities) all[name] = entity.stats()
      return all
    },
    close() {
      if (closing === undefined) {
        ctx.closed = true
        for (const entity of entities.values()) entity.clearLocal()
        closing = (async () => {
          await bus?.close()
          await ctx.l2?.close()
        })()
      }
      return closing
    },
  }
}
