import type { IncomingHttpHeaders } from 'node:http'
import type { TierCache } from '@tiercache/core'
import {
  answerOutcome,
  type HttpCacheOptions,
  HttpCacheRoute,
  type HttpRequestInfo,
  hideConditionalHeaders,
  ResponseCapture,
  restoreHeaders,
} from '@tiercache/core/http'
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { dispatchInternal, internalRequests } from './internal-request.js'

/** Options of {@link httpCache}: the shared HTTP cache options, with Express's `Request`. */
export type ExpressHttpCacheOptions = HttpCacheOptions<Request>

// Requests an outer httpCache (e.g. a global app.use) has taken, so a route-level one passes them on.
const taken = new WeakSet<Request>()

/**
 * Express middleware that caches the responses of GET and HEAD routes in an entity of `cache`.
 * Use it on a route (`app.get('/products/:id', httpCache(cache, { entity: 'productPage' }), handler)`),
 * or as a default for many (`app.use(httpCache(cache, { entity: 'page', skip: (req) => ... }))`;
 * a request the default skips may be taken by a route-level `httpCache`).
 *
 * A hit is answered without running the handler. On a miss the handler runs once across the
 * fleet (the entity's single-flight): its response is held back, stored when the rules allow
 * it, and then sent to every request that waited for it, its own included. Responses carry
 * `X-Cache` (`HIT`, `MISS`, `STALE`, `BYPASS`), `Age` and a strong `ETag`; `If-None-Match`
 * gets a 304. Options are validated here, once: a bad one throws `INVALID_CONFIG`, an unknown
 * entity `UNKNOWN_ENTITY`.
 */
export function httpCache(cache: TierCache, options: ExpressHttpCacheOptions): RequestHandler {
  const route = new HttpCacheRoute<Request>(cache, options, 'httpCache options')
  return function tiercacheHttpCache(req: Request, res: Response, next: NextFunction): void {
    const internal = internalRequests.get(req)
    if (internal !== undefined) {
      setQuery(req, internal.query)
      next()
      return
    }
    if (taken.has(req)) {
      next()
      return
    }
    const info: HttpRequestInfo = { method: req.method, url: req.originalUrl, headers: req.headers }
    const decision = route.decide(info, req)
    if (decision.kind === 'skip') {
      next()
      return
    }
    taken.add(req)
    if (decision.kind === 'bypass') {
      res.setHeader('x-cache', 'BYPASS')
      next()
      return
    }
    setQuery(req, decision.query)
    let capture: ResponseCapture | undefined
    let hidden: IncomingHttpHeaders | undefined
    const lookup = route.lookup(decision.key, info, req, {
      runOwn: () => {
        hidden = hideConditionalHeaders(req.headers)
        capture = new ResponseCapture(res, 'own')
        next()
        return capture.result
      },
      runInternal: () => dispatchInternal(req, decision.query),
    })
    lookup.then(
      (outcome) => {
        if (hidden !== undefined) restoreHeaders(req.headers, hidden)
        try {
          if (answerOutcome(route, outcome, info, res, capture) === 'pass') next()
        } catch (error) {
          res.destroy(error instanceof Error ? error : undefined)
        }
      },
      (error: unknown) => {
        // lookup never rejects; this is a bug in the adapter, surfaced rather than left hanging.
        capture?.release()
        if (capture === undefined && !res.headersSent) next(error)
        else res.destroy(error instanceof Error ? error : undefined)
      },
    )
  }
}

/** The handler of a cached route sees only the query parameters that are part of the key. */
function setQuery(req: Request, query: Record<string, string>): void {
  // Express 5 computes req.query with a getter on its prototype; an own property shadows it.
  Object.defineProperty(req, 'query', { value: query, configurable: true, enumerable: true, writable: true })
}
