/** The injection token of the cache (`@InjectCache()` injects it; `app.get(TIERCACHE)` reads it). */
export const TIERCACHE = Symbol.for('@tiercache/nestjs:cache')

/** The injection token of the module's options, as `forRoot` got them or `forRootAsync`'s factory made them. */
export const TIERCACHE_MODULE_OPTIONS = Symbol.for('@tiercache/nestjs:options')

/**
 * The injection token of an entity's handle (`cache.entity(name)`), provided by
 * `TierCacheModule.forFeature([name])` and injected with `@InjectEntity(name)`.
 */
export function getEntityToken(name: string): string {
  return `@tiercache/nestjs:entity:${name}`
}
