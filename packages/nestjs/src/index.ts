/**
 * @tiercache/nestjs: tiercache as a NestJS module: the cache and entity handles as injectables,
 * cached GET/HEAD routes (`@Cached()`) and invalidate-on-write (`@Invalidates()`), on Nest's
 * Express and Fastify platforms. See README.md.
 */

export type { HttpCacheOptions, HttpResponsePolicy, Invalidation } from '@tiercache/core/http'
export { httpCacheKey, httpResponseTags, POISONING_HEADERS } from '@tiercache/core/http'
export { TierCacheInterceptor } from './cache-interceptor.js'
export { setCachePolicy } from './cache-policy.js'
export { Cached, InjectCache, InjectEntity, Invalidates } from './decorators.js'
export type { TierCacheModuleAsyncOptions, TierCacheModuleOptions } from './module-options.js'
export type { NestRequest } from './nest-http.js'
export type { CachedOptions, NestInvalidates } from './route-metadata.js'
export { TierCacheModule } from './tiercache-module.js'
export { getEntityToken, TIERCACHE } from './tokens.js'
