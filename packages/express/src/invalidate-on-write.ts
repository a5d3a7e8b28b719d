import type { TierCache } from '@tiercache/core'
import { holdResponse, type InvalidateOnWriteMiddlewareOptions, writeInvalidator } from '@tiercache/core/http'
import type { NextFunction, Request, RequestHandler, Response } from 'express'

/** Options of {@link invalidateOnWrite}: `invalidates(req, res)` says what a successful write changed, `logger` where a failure goes. */
export interface ExpressInvalidateOnWriteOptions extends InvalidateOnWriteMiddlewareOptions<Request, Response> {}

/**
 * Express middleware for write routes (POST, PUT, PATCH, DELETE): once the handler has produced
 * a 2xx response, and before any of it is sent, invalidates what `invalidates(req, res)` names
 * across the fleet, so a client that reads its own write right after sees it. Never for other
 * statuses. `app.put('/products/:id', invalidateOnWrite(cache, { invalidates: (req) => ({ entities: { product: [req.params.id] } }) }), handler)`
 */
export function invalidateOnWrite(cache: TierCache, options: ExpressInvalidateOnWriteOptions): RequestHandler {
  const afterWrite = writeInvalidator<Request, Response>(cache, options, (req) => ({ method: req.method, url: req.originalUrl }))
  return function tiercacheInvalidateOnWrite(req: Request, res: Response, next: NextFunction): void {
    holdResponse(res, (status) => afterWrite(req, res, status))
    next()
  }
}
