import type { TierCache } from '@tiercache/core'
import { type InvalidateOnWriteMiddlewareOptions, writeInvalidator } from '@tiercache/core/http'
import type { Context, MiddlewareHandler } from 'hono'

/** Options of {@link invalidateOnWrite}: `invalidates(c, response)` says what a successful write changed, `logger` where a failure goes. */
export interface HonoInvalidateOnWriteOptions extends InvalidateOnWriteMiddlewareOptions<Context, Response> {}

/**
 * Hono middleware for write routes (POST, PUT, PATCH, DELETE): once the handler has produced a
 * 2xx response, and before it is sent, invalidates what `invalidates(c, response)` names across
 * the fleet, so a client that reads its own write right after sees it. Never for other statuses.
 * `app.put('/products/:id', invalidateOnWrite(cache, { invalidates: (c) => ({ entities: { product: [c.req.param('id')] } }) }), handler)`
 */
export function invalidateOnWrite(cache: TierCache, options: HonoInvalidateOnWriteOptions): MiddlewareHandler {
  const afterWrite = writeInvalidator<Context, Response>(cache, options, (c) => ({ method: c.req.method, url: c.req.url }))
  return async function tiercacheInvalidateOnWrite(c, next) {
    await next()
    await afterWrite(c, c.res, c.res.status)
  }
}
