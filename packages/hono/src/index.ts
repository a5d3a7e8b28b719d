/**
 * @tiercache/hono: cached GET/HEAD routes and invalidate-on-write for Hono 4, on a tiercache
 * cache. See README.md.
 */

export type { HttpResponsePolicy, Invalidates, Invalidation } from '@tiercache/core/http'
export { httpCacheKey, httpResponseTags, POISONING_HEADERS } from '@tiercache/core/http'
export { setCachePolicy } from './cache-policy.js'
export { type HonoHttpCacheOptions, httpCache } from './http-cache.js'
export type { FetchingApp } from './internal-request.js'
export { type HonoInvalidateOnWriteOptions, invalidateOnWrite } from './invalidate-on-write.js'
