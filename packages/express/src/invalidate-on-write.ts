import type { Logger, TierCache } from '@tiercache/core'
import {
  consoleLogger,
  holdResponse,
  type InvalidateOnWriteOptions,
  invalidateAfterWrite,
  resolveInvalidateOnWriteOptions,
} from '@tiercache/core/http'
import type { NextFunction, Request, RequestHandler, Response } from 'express'

/** Options of {@link invalidateOnWrite}. */
export interface ExpressInvalidateOnWriteOptions extends InvalidateOnWriteOptions<Request, Response> {
  /**
   * Where a failed invalidation is reported (pino-compatible). The response is sent anyway: the
   * write happened, and failing it would invite a client to repeat it. Default: `console.error`.
   */
  logger?: Logger
}

/**
 * Express middleware for write routes (POST, PUT, PATCH, DELETE): once the handler has produced
 * a 2xx response, and before any of it is sent, invalidates what `invalidates(req, res)` names
 * across the fleet, so a client that reads its own write right after sees it. Never for other
 * statuses. `app.put('/products/:id', invalidateOnWrite(cache, { invalidates: (req) => ({ entities: { product: [req.params.id] } }) }), handler)`
 */
export function invalidateOnWrite(cache: TierCache, options: ExpressInvalidateOnWriteOptions): RequestHandler {
  const { logger = consoleLogger, ...rest } = (options ?? {}) as ExpressInvalidateOnWriteOptions
  const { invalidates } = resolveInvalidateOnWriteOptions<Request, Response>(rest, 'invalidateOnWrite options')
  const log = logger.child({ component: 'invalidate-on-write' })
  return function tiercacheInvalidateOnWrite(req: Request, res: Response, next: NextFunction): void {
    holdResponse(res, (status) =>
      invalidateAfterWrite(
        cache,
        status,
        () => invalidates(req, res),
        (error) => log.error({ err: error, method: req.method, url: req.originalUrl }, 'invalidation after a successful write failed'),
      ),
    )
    next()
  }
}
