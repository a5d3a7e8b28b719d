import { type HttpResponsePolicy, setResponsePolicy } from '@tiercache/core/http'
import type { Context } from 'hono'

/**
 * Decides, in the handler of an `httpCache` route, how the response it is producing is cached:
 * `setCachePolicy(c, { ttl: '5s' })` for a short-lived one (a 404), `{ grace, l1 }` likewise, or
 * `setCachePolicy(c, false)` to keep it out of the cache. The policy never reaches the client. A
 * bad value is logged as `INVALID_CONFIG` (the cache's logger) and the response is sent, uncached;
 * on routes without `httpCache` it does nothing.
 */
export function setCachePolicy(c: Context, policy: HttpResponsePolicy): void {
  setResponsePolicy(c, policy)
}
