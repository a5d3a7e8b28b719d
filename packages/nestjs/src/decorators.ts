import { applyDecorators, Inject, SetMetadata, UseInterceptors } from '@nestjs/common'
import { TierCacheError } from '@tiercache/core'
import { resolveInvalidateOnWriteOptions, validateHttpCacheDefaults } from '@tiercache/core/http'
import { TierCacheInterceptor } from './cache-interceptor.js'
import type { NestRequest } from './nest-http.js'
import { CACHED_METADATA, type CachedOptions, INVALIDATES_METADATA, type NestInvalidates } from './route-metadata.js'
import { getEntityToken, TIERCACHE } from './tokens.js'

/**
 * Caches the responses of a GET (and HEAD) route in an entity of the module's cache:
 * `@Cached({ entity: 'productPage', tags: (req) => ['product:' + req.params.id] })`. The options
 * are those of `@tiercache/express`'s `httpCache` (key, varyHeaders, query, statuses, ...), merged
 * over the module's `defaults`. On a controller, it caches every GET route of it; `@Cached(false)`
 * on a method opts that route out. Checked now for their shape (`INVALID_CONFIG`), and against the
 * cache when the module starts (`UNKNOWN_ENTITY` for an entity it does not have).
 */
export function Cached<Req = NestRequest>(options: CachedOptions<Req> | false = {}): ClassDecorator & MethodDecorator {
  if (options !== false) validateHttpCacheDefaults(options, '@Cached() options')
  return applyDecorators(SetMetadata(CACHED_METADATA, options), UseInterceptors(TierCacheInterceptor))
}

/**
 * On a write route: once the handler's response is a 2xx, and before it is sent, invalidates what
 * `invalidates(req, res, result)` names (`{ entities?: { name: ids }, tags?: tags }`) across the
 * fleet, so a client that reads its own write right after sees it. Never for other statuses. A
 * failed invalidation is logged (the module's `logger`) and the response sent anyway.
 */
export function Invalidates<Req = NestRequest, Res = unknown>(invalidates: NestInvalidates<Req, Res>): MethodDecorator {
  if (typeof invalidates !== 'function') {
    throw new TierCacheError('INVALID_CONFIG', '@Invalidates(): expected a function (req, res, result) => ({ entities?, tags? })')
  }
  resolveInvalidateOnWriteOptions({ invalidates }, '@Invalidates()')
  return applyDecorators(SetMetadata(INVALIDATES_METADATA, invalidates), UseInterceptors(TierCacheInterceptor))
}

/** Injects the module's cache (`TierCache`). */
export function InjectCache(): PropertyDecorator & ParameterDecorator {
  return Inject(TIERCACHE)
}

/** Injects the handle of entity `name` (`cache.entity(name)`); `TierCacheModule.forFeature([name])` provides it. */
export function InjectEntity(name: string): PropertyDecorator & ParameterDecorator {
  return Inject(getEntityToken(name))
}
