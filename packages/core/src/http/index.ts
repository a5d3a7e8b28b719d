/**
 * @tiercache/core/http: the framework-neutral HTTP caching layer that `@tiercache/express` and
 * `@tiercache/fastify` adapt. One options schema, one set of request and response rules, one
 * cache key, one single-flight lookup; no framework imports.
 */
export {
  type HttpCacheKeyParts,
  type HttpRequestInfo,
  headerForKey,
  httpCacheKey,
  type NormalisedTarget,
  normaliseTarget,
} from './cache-key.js'
export { type CapturedResponse, firstHeader, type HeaderValue, joinedHeader } from './captured-response.js'
export { CONDITIONAL_HEADERS, hideConditionalHeaders, REFRESH_DROPPED_HEADERS } from './conditional-headers.js'
export { type EntityTiming, entityTiming } from './entity-timing.js'
export { ifNoneMatchMatches, isStrongEtag, strongEtag } from './etag.js'
export { HttpCacheRoute, type LookupOutcome, type ResponseProducers } from './http-cache-route.js'
export {
  HTTP_DEFAULTS,
  type HttpCacheOptions,
  httpCacheOptionsSchema,
  type InvalidateOnWriteOptions,
  NEVER_STORED_HEADERS,
  type ResolvedHttpCacheOptions,
  resolveHttpCacheOptions,
  resolveInvalidateOnWriteOptions,
  validateHttpCacheDefaults,
} from './http-options.js'
export { applyInvalidation, type Invalidates, type Invalidation, isSuccessStatus } from './invalidation.js'
export {
  asksNoCache,
  type BypassReason,
  CREDENTIAL_HEADERS,
  decideRequest,
  POISONING_HEADERS,
  type RequestDecision,
} from './request-rules.js'
export { unstorableReason } from './response-rules.js'
export { type CacheStatus, planStoredResponse, type ResponsePlan } from './serve-plan.js'
export { httpResponseTags, isStoredResponse, type StoredResponse, storedBody, toStoredResponse } from './stored-response.js'
export { type UncacheableReason, UncacheableResponse } from './uncacheable.js'
