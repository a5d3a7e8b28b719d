/**
 * @tiercache/core/http: the framework-neutral HTTP caching layer that `@tiercache/express`,
 * `@tiercache/fastify`, `@tiercache/nestjs` and `@tiercache/hono` adapt. One options schema, one
 * set of request and response rules, one cache key, one single-flight lookup; no framework
 * imports. The `node-*` helpers serve the adapters that see Node's `(req, res)` pair.
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
export {
  applyInvalidation,
  consoleLogger,
  type Invalidates,
  type Invalidation,
  invalidateAfterWrite,
  isSuccessStatus,
} from './invalidation.js'
export { type NodeInternalRequest, nodeInternalRequest } from './node-internal-request.js'
export { answerOutcome, holdResponse, writePlan } from './node-response.js'
export {
  CONDITIONAL_HEADERS,
  DROPPED_INTERNAL_HEADERS,
  hideConditionalHeaders,
  internalRequestHeaders,
  restoreHeaders,
} from './request-headers.js'
export {
  asksNoCache,
  type BypassReason,
  CREDENTIAL_HEADERS,
  decideRequest,
  POISONING_HEADERS,
  type RequestDecision,
} from './request-rules.js'
export { type CaptureMode, ResponseCapture } from './response-capture.js'
export { type HttpResponsePolicy, responsePolicyOf, setResponsePolicy } from './response-policy.js'
export { unstorableReason } from './response-rules.js'
export { type CacheStatus, planStoredResponse, type ResponsePlan } from './serve-plan.js'
export { httpResponseTags, isStoredResponse, type StoredResponse, storedBody, toStoredResponse } from './stored-response.js'
export { type UncacheableReason, UncacheableResponse } from './uncacheable.js'
export { type InvalidateOnWriteMiddlewareOptions, type WriteInvalidator, writeInvalidator } from './write-invalidator.js'
