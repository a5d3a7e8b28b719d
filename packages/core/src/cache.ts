import { type CacheOptions, resolveCacheOptions } from './config-schema.js'
import type { EngineContext } from './engine-context.js'
import { EntityCache, type EntityHandle } from './entity-cache.js'
import { TierCacheError } from './errors.js'
import type { EntityStats } from './stats.js'

/**
 * A two-tier cache: an in-process L1 per entity in front of an optional shared L2
 * (a `RemoteStore`). Created by {@link createCache}.
 */
export interface TierCache {
  /** The namespace every key of this cache lives under. */
  readonly namespace: string
  /** The typed handle of a configured entity; throws `UNKNOWN_ENTITY` for a name not in `entities`. */
  entity<T>(name: string): EntityHandle<T>
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
  const ctx: EngineContext = {
    namespace: resolved.namespace,
    l2: resolved.l2,
    clock: resolved.clock,
    random: resolved.random,
    serializer: resolved.serializer,
    logger: resolved.logger.child({ component: 'tiercache', namespace: resolved.namespace }),
    closed: false,
  }
  const entities = new Map<string, EntityCache<unknown>>()
  for (const [name, policy] of resolved.entities) entities.set(name, new EntityCache(ctx, policy))
  let closing: Promise<void> | undefined

  return {
    namespace: resolved.namespace,
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
    stats() {
      const all: Record<string, Readonly<EntityStats>> = {}
      for (const [name, entity] of entities) all[name] = entity.stats()
      return all
    },
    close() {
      if (closing === undefined) {
        ctx.closed = true
        for (const entity of entities.values()) entity.clearLocal()
        closing = ctx.l2 === null ? Promise.resolve() : ctx.l2.close()
      }
      return closing
    },
  }
}
