import { type HttpResponsePolicy, setResponsePolicy } from '@tiercache/core/http'
import { rawPair } from './nest-http.js'

/**
 * Decides, in the handler of a `@Cached()` route, how the response it is producing is cached:
 * take the response with `@Res({ passthrough: true }) res` and call
 * `setCachePolicy(res, { ttl: '5s' })` (a short-lived 404), `{ grace, l1 }` likewise, or
 * `setCachePolicy(res, false)` to keep it out of the cache. Works on Nest's Express and Fastify
 * platforms. The policy never reaches the client; a bad value is logged as `INVALID_CONFIG` (the
 * cache's logger) and the response is sent, uncached.
 */
export function setCachePolicy(res: object, policy: HttpResponsePolicy): void {
  setResponsePolicy(rawPair(res, res).res, policy)
}
