import type { Logger, TierCache } from '@tiercache/core'
import { consoleLogger, type InvalidateOnWriteOptions, invalidateAfterWrite, resolveInvalidateOnWriteOptions } from '@tiercache/core/http'
import type { Context, MiddlewareHandler } from 'hono'

/** Options of {@link invalidateOnWrite}: `invalidates(c, response)` says what a successful write changed. */
export interface HonoInvalidateOnWriteOptions extends InvalidateOnWriteOptions<Context, Response> {
  /**
   * Where a failed invalidation is reported (pino-compatible). The response is sent anyway: the
   * write happened, and failing it would invite a client to repeat it. Default: `console.error`.
   */
  logger?: Logger
}

/**
 * Hono middleware for write routes (POST, PUT, PATCH, DELETE): once the handler has produced a
 * 2xx response, and before it is sent, invalidates what `invalidates(c, response)` names across
 * the fleet, so a client that reads its own write right after sees it. Never for other statuses.
 * `app.put('/products/:id', invalidateOnWrite(cache, { invalidates: (c) => ({ entities: { product: [c.req.param('id')] } }) }), handler)`
 */
export function invalidateOnWrite(cache: TierCache, options: HonoInvalidateOnWriteOptions): MiddlewareHandler {
  const { logger = consoleLogger, ...rest } = (options ?? {}) as HonoInvalidateOnWriteOptions
  const { invalidates } = resolveInvalidateOnWriteOptions<Context, Response>(rest, 'invalidateOnWrite options')
  const log = logger.child({ component: 'invalidate-on-write' })
  return async function tiercacheInvalidateOnWrite(c, next) {
    await next()
    await invalidateAfterWrite(
      cache,
      c.res.status,
      () => invalidates(c, c.res),
      (error) => log.error({ err: error, method: c.req.method, url: c.req.url }, 'invalidation after a successful write failed'),
    )
  }
}
