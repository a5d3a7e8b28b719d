/**
 * @tiercache/fastify: cached GET/HEAD routes and invalidate-on-write for Fastify 5, as a plugin
 * on a tiercache cache. See README.md.
 */
import { tiercache } from './plugin.js'

export type { HttpCacheOptions, HttpResponsePolicy, Invalidates, Invalidation } from '@tiercache/core/http'
export { httpCacheKey, httpResponseTags, POISONING_HEADERS } from '@tiercache/core/http'
export { setCachePolicy } from './cache-policy.js'
export type { TiercachePluginOptions } from './plugin-options.js'
export { INTERNAL_HEADER } from './route-caching.js'
export { tiercache }
export default tiercache
