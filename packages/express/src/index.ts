/**
 * @tiercache/express: cached GET/HEAD routes and invalidate-on-write for Express 5, on a
 * tiercache cache. See README.md.
 */

export type { HttpResponsePolicy, Invalidates, Invalidation } from '@tiercache/core/http'
export { httpCacheKey, httpResponseTags, POISONING_HEADERS } from '@tiercache/core/http'
export { setCachePolicy } from './cache-policy.js'
export { type ExpressHttpCacheOptions, httpCache } from './http-cache.js'
export { type ExpressInvalidateOnWriteOptions, invalidateOnWrite } from './invalidate-on-write.js'
