import { type HttpResponsePolicy, setResponsePolicy } from '@tiercache/core/http'
import type { FastifyReply } from 'fastify'

/**
 * Decides, in the handler of a cached route, how the response it is producing is cached:
 * `setCachePolicy(reply, { ttl: '5s' })` for a short-lived one (a 404), `{ grace, l1 }` likewise,
 * or `setCachePolicy(reply, false)` to keep it out of the cache. Call it before `reply.send`. The
 * policy never reaches the client. A bad value is logged as `INVALID_CONFIG` (the cache's logger)
 * and the response is sent, uncached; on routes without `config.cache` it does nothing.
 */
export function setCachePolicy(reply: FastifyReply, policy: HttpResponsePolicy): void {
  setResponsePolicy(reply.raw, policy)
}
